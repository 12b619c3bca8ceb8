// A project on disk: a folder holding project.lcanvas.json (and later store/ and canvas/). Creates, opens,
// saves (atomically) and autosaves documents. Owned by app/project; the engine host and the CLI call it.
// Opening never writes. Format and save protocol: docs/project-format.md.
import { mkdir, readFile, stat, unlink } from "node:fs/promises";
import { join } from "node:path";
import {
  type CanvasGrid,
  DEFAULT_GRID,
  emptyDocument,
  type IdSource,
  newHead,
  type ProjectDocument,
  ProjectFormatError,
  parseProject,
  randomIds,
  serializeProject,
} from "../core/document";
import { constantTempoMap, type TempoMap } from "../core/time/tempo-map";
import { removeStaleTemps, writeFileAtomic } from "./atomic-write";

export const PROJECT_FILE = "project.lcanvas.json";
export const AUTOSAVE_FILE = "project.autosave.json";

export type ProjectErrorCode = "not-found" | "exists" | "unreadable" | "unwritable" | "format";

/** A project could not be created, opened or saved; the message says what was wrong and what to do. */
export class ProjectError extends Error {
  readonly code: ProjectErrorCode;
  readonly file: string;
  constructor(code: ProjectErrorCode, file: string, message: string) {
    super(message);
    this.name = "ProjectError";
    this.code = code;
    this.file = file;
  }
}

export function projectFile(dir: string): string {
  return join(dir, PROJECT_FILE);
}

export function autosaveFile(dir: string): string {
  return join(dir, AUTOSAVE_FILE);
}

function errnoCode(error: unknown): string | undefined {
  return (error as NodeJS.ErrnoException | undefined)?.code;
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return false;
    throw error;
  }
}

export interface NewProjectOptions {
  readonly tempoMap?: TempoMap;
  readonly grid?: CanvasGrid;
  readonly ids?: IdSource;
}

/** Creates `dir` (if needed) with a new project: the given tempo map, no lanes or regions, one head. */
export async function createProject(dir: string, options: NewProjectOptions = {}): Promise<ProjectDocument> {
  const file = projectFile(dir);
  if (await exists(file)) {
    throw new ProjectError(
      "exists",
      file,
      `a project already exists at ${file}: open it, or choose an empty folder`,
    );
  }
  try {
    await mkdir(dir, { recursive: true });
  } catch (error) {
    throw new ProjectError(
      "unreadable",
      dir,
      `cannot create the folder ${dir} (${errnoCode(error) ?? String(error)}): choose a folder you can write to`,
    );
  }
  const ids = options.ids ?? randomIds();
  const document: ProjectDocument = {
    ...emptyDocument(options.tempoMap ?? constantTempoMap(), options.grid ?? DEFAULT_GRID),
    heads: Object.freeze([newHead(ids, { name: "Main" })]),
  };
  await saveProject(dir, Object.freeze(document));
  return document;
}

async function readDocument(file: string, dir: string): Promise<ProjectDocument> {
  let text: string;
  try {
    text = await readFile(file, "utf8");
  } catch (error) {
    const code = errnoCode(error);
    if (code === "ENOENT") {
      const hint = (await exists(dir))
        ? `there is no ${PROJECT_FILE} in ${dir}: create a project with "lcanvas project new ${dir}"`
        : `the folder ${dir} does not exist: check the path, or create a project with "lcanvas project new ${dir}"`;
      throw new ProjectError("not-found", file, hint);
    }
    if (code === "ENOTDIR") {
      throw new ProjectError(
        "not-found",
        file,
        `${dir} is a file, not a project folder: pass the folder that contains ${PROJECT_FILE}`,
      );
    }
    throw new ProjectError(
      "unreadable",
      file,
      `cannot read ${file} (${code ?? String(error)}): check its permissions`,
    );
  }
  try {
    return parseProject(text);
  } catch (error) {
    if (error instanceof ProjectFormatError)
      throw new ProjectError("format", file, `${file}: ${error.message}`);
    throw error;
  }
}

/** Reads and validates the project in `dir`. Never writes anything. */
export async function openProject(dir: string): Promise<ProjectDocument> {
  return readDocument(projectFile(dir), dir);
}

const saving = new Map<string, Promise<void>>();

/** Serializes saves of one file within this process (last call wins, in call order). */
function queued(file: string, write: () => Promise<void>): Promise<void> {
  const previous = saving.get(file) ?? Promise.resolve();
  const next = previous.catch(() => undefined).then(write);
  saving.set(file, next);
  return next.finally(() => {
    if (saving.get(file) === next) saving.delete(file);
  });
}

/** Saves atomically; stray temp files from an interrupted save are removed first. The autosave is then stale and removed. */
export async function saveProject(dir: string, document: ProjectDocument): Promise<void> {
  const file = projectFile(dir);
  const text = serializeProject(document);
  await queued(file, async () => {
    try {
      await removeStaleTemps(file);
      await writeFileAtomic(file, text);
    } catch (error) {
      throw saveError(file, dir, error);
    }
    await unlink(autosaveFile(dir)).catch((error: unknown) => {
      if (errnoCode(error) !== "ENOENT") throw error;
    });
  });
}

function saveError(file: string, dir: string, error: unknown): unknown {
  const code = errnoCode(error);
  if (code === undefined) return error;
  const hint =
    code === "ENOENT"
      ? `the folder ${dir} does not exist: create the project first ("lcanvas project new ${dir}")`
      : code === "ENOSPC"
        ? "the disk is full: free some space and save again"
        : "check that you can write to the folder, or save elsewhere";
  return new ProjectError(
    "unwritable",
    file,
    `cannot save ${file} (${code}); the previous file is unchanged: ${hint}`,
  );
}

/** Writes the autosave beside the document with the same atomic protocol. */
export async function autosaveProject(dir: string, document: ProjectDocument): Promise<void> {
  const file = autosaveFile(dir);
  const text = serializeProject(document);
  await queued(file, async () => {
    try {
      await removeStaleTemps(file);
      await writeFileAtomic(file, text);
    } catch (error) {
      throw saveError(file, dir, error);
    }
  });
}

export interface Recovery {
  readonly document: ProjectDocument;
  readonly autosavedAtMs: number;
}

/** The autosave when it is newer than the saved document and differs from it; null otherwise. Never writes. */
export async function findRecovery(dir: string): Promise<Recovery | null> {
  const file = autosaveFile(dir);
  let autosaved: { mtimeMs: number };
  try {
    autosaved = await stat(file);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return null;
    throw error;
  }
  let savedAtMs = Number.NEGATIVE_INFINITY;
  let savedText: string | null = null;
  try {
    savedAtMs = (await stat(projectFile(dir))).mtimeMs;
    savedText = await readFile(projectFile(dir), "utf8");
  } catch (error) {
    if (errnoCode(error) !== "ENOENT") throw error;
  }
  if (autosaved.mtimeMs <= savedAtMs) return null;
  const text = await readFile(file, "utf8");
  if (text === savedText) return null;
  try {
    return { document: parseProject(text), autosavedAtMs: autosaved.mtimeMs };
  } catch (error) {
    if (error instanceof ProjectFormatError) return null;
    throw error;
  }
}
