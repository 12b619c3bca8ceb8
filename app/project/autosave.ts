// Background autosave: watches a DocumentEditor and writes the autosave file (atomically) at most once per
// delay after changes. Owned by app/project; the engine host starts one per open project and stops it on close.
import type { DocumentEditor, ProjectDocument } from "../core/document";
import { autosaveProject } from "./project";

export interface AutosaveOptions {
  /** Milliseconds from the first unsaved change to the write. */
  readonly delayMs?: number;
  /** Called when a write fails; the next change tries again. */
  readonly onError?: (error: unknown) => void;
}

export interface Autosaver {
  /** Writes the latest document now if it changed since the last write. */
  flush(): Promise<void>;
  /** Stops watching, after flushing any pending change. */
  stop(): Promise<void>;
  readonly writes: number;
  readonly failures: number;
}

export function startAutosave(dir: string, editor: DocumentEditor, options: AutosaveOptions = {}): Autosaver {
  const delayMs = options.delayMs ?? 30_000;
  let written: ProjectDocument = editor.document;
  let timer: ReturnType<typeof setTimeout> | null = null;
  let chain: Promise<void> = Promise.resolve();
  let writes = 0;
  let failures = 0;

  const write = (): Promise<void> => {
    if (timer) clearTimeout(timer);
    timer = null;
    chain = chain.then(async () => {
      const latest = editor.document;
      if (latest === written) return;
      try {
        await autosaveProject(dir, latest);
        written = latest;
        writes++;
      } catch (error) {
        failures++;
        options.onError?.(error);
      }
    });
    return chain;
  };

  const unsubscribe = editor.subscribe(() => {
    if (!timer) timer = setTimeout(() => void write(), delayMs);
  });

  return {
    flush: write,
    async stop() {
      unsubscribe();
      await write();
    },
    get writes() {
      return writes;
    },
    get failures() {
      return failures;
    },
  };
}
