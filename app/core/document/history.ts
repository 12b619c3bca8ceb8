// The editable document: current state, undo/redo stacks of inverse commands, and gestures (a drag previews
// many states and commits ONE undo step, or cancels back to where it began). Owned by app/core/document; the
// engine host owns one DocumentEditor per open project and routes every edit through it.
import { applyCommands, type Command } from "./commands";
import { DocumentError } from "./schema";
import type { ProjectDocument } from "./types";

export interface HistoryStep {
  readonly label: string;
  readonly forward: readonly Command[];
  readonly inverse: readonly Command[];
}

export interface Gesture {
  /** Replaces the gesture's preview: `commands` apply to the document as it was when the gesture began. */
  preview(commands: Command | readonly Command[]): void;
  /** Records the last preview as one undo step (nothing when there was no preview). */
  commit(): void;
  /** Restores the document to where the gesture began; records nothing. */
  cancel(): void;
  readonly active: boolean;
}

export type DocumentListener = (document: ProjectDocument) => void;

function asList(commands: Command | readonly Command[]): readonly Command[] {
  return Array.isArray(commands) ? commands : [commands as Command];
}

export class DocumentEditor {
  #document: ProjectDocument;
  readonly #undo: HistoryStep[] = [];
  readonly #redo: HistoryStep[] = [];
  readonly #listeners = new Set<DocumentListener>();
  readonly #maxUndoSteps: number;
  #gestureOpen = false;

  constructor(document: ProjectDocument, options: { readonly maxUndoSteps?: number } = {}) {
    this.#document = document;
    this.#maxUndoSteps = options.maxUndoSteps ?? 1000;
  }

  get document(): ProjectDocument {
    return this.#document;
  }

  get canUndo(): boolean {
    return this.#undo.length > 0;
  }

  get canRedo(): boolean {
    return this.#redo.length > 0;
  }

  get undoLabel(): string | null {
    return this.#undo.at(-1)?.label ?? null;
  }

  get redoLabel(): string | null {
    return this.#redo.at(-1)?.label ?? null;
  }

  get undoDepth(): number {
    return this.#undo.length;
  }

  subscribe(listener: DocumentListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Applies the commands as one undo step; throws DocumentError and changes nothing when any is invalid. */
  apply(commands: Command | readonly Command[], label?: string): void {
    this.#requireNoGesture("apply an edit");
    const forward = asList(commands);
    if (forward.length === 0) return;
    const result = applyCommands(this.#document, forward);
    this.#record({
      label: label ?? forward.map((c) => c.kind).join(", "),
      forward,
      inverse: result.inverses,
    });
    this.#set(result.document);
  }

  undo(): boolean {
    this.#requireNoGesture("undo");
    const step = this.#undo.pop();
    if (!step) return false;
    const result = applyCommands(this.#document, step.inverse);
    this.#redo.push(step);
    this.#set(result.document);
    return true;
  }

  redo(): boolean {
    this.#requireNoGesture("redo");
    const step = this.#redo.pop();
    if (!step) return false;
    const result = applyCommands(this.#document, step.forward);
    this.#undo.push({ label: step.label, forward: step.forward, inverse: result.inverses });
    this.#set(result.document);
    return true;
  }

  beginGesture(label: string): Gesture {
    this.#requireNoGesture("begin a gesture");
    this.#gestureOpen = true;
    const base = this.#document;
    let last: { forward: readonly Command[]; inverse: readonly Command[] } | null = null;
    let active = true;
    const requireActive = (action: string) => {
      if (!active) throw new DocumentError("gesture", `cannot ${action}: the gesture "${label}" has ended`);
    };
    const end = () => {
      active = false;
      this.#gestureOpen = false;
    };
    return {
      preview: (commands) => {
        requireActive("preview");
        const forward = asList(commands);
        const result = applyCommands(base, forward);
        last = { forward, inverse: result.inverses };
        this.#set(result.document);
      },
      commit: () => {
        requireActive("commit");
        end();
        if (last && last.forward.length > 0) this.#record({ label, ...last });
      },
      cancel: () => {
        requireActive("cancel");
        end();
        this.#set(base);
      },
      get active() {
        return active;
      },
    };
  }

  #record(step: HistoryStep): void {
    this.#undo.push(step);
    if (this.#undo.length > this.#maxUndoSteps) this.#undo.shift();
    this.#redo.length = 0;
  }

  #set(document: ProjectDocument): void {
    if (document === this.#document) return;
    this.#document = document;
    for (const listener of this.#listeners) listener(document);
  }

  #requireNoGesture(action: string): void {
    if (this.#gestureOpen) {
      throw new DocumentError(
        "gesture",
        `cannot ${action} while a gesture is in progress: commit or cancel it first`,
      );
    }
  }
}
