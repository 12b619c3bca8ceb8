// Public entry of the store layer: factories for the content store, the artifact graph and the library (both,
// in one root folder). Callers: app/spaces (importers, projections), app/cli, the engine host.
import { mkdir } from "node:fs/promises";
import { homedir } from "node:os";
import { join } from "node:path";
import { LocalContentStore, type VerifyOptions, type VerifyReport } from "./content-store";
import { collectGarbage, type GcEvent, type GcReport } from "./gc";
import { type GraphOptions, SqliteArtifactGraph } from "./graph";

export {
  type DamagedObject,
  LocalContentStore,
  type VerifyOptions,
  type VerifyReport,
} from "./content-store";
export { StoreError, type StoreErrorCode } from "./errors";
export {
  collectGarbage,
  DEFAULT_GRACE_MS,
  type GcEvent,
  type GcOptions,
  type GcReport,
  readRootFiles,
  removeRootFile,
  scanProjectDir,
  writeRootFile,
} from "./gc";
export { GRAPH_FILE, type GraphOptions, removeStaleGraphLock, SqliteArtifactGraph } from "./graph";
export { GRAPH_SCHEMA_SDL, type GraphQueryResult, runGraphQuery } from "./graphql";
export { hashBytes, isContentHash, StreamingHash } from "./hash";
export type * from "./types";

/** `LCANVAS_STORE` if set, else `$XDG_DATA_HOME/latent-canvas/library` (default `~/.local/share/...`). */
export function defaultLibraryRoot(): string {
  const fromEnv = process.env.LCANVAS_STORE;
  if (fromEnv !== undefined && fromEnv !== "") return fromEnv;
  const dataHome = process.env.XDG_DATA_HOME;
  const base = dataHome !== undefined && dataHome !== "" ? dataHome : join(homedir(), ".local", "share");
  return join(base, "latent-canvas", "library");
}

export async function openContentStore(root: string): Promise<LocalContentStore> {
  const store = new LocalContentStore(root);
  await store.init();
  return store;
}

/** Opens `<root>/graph.sqlite` (created when absent). Throws StoreError "corrupt-graph" for a damaged file. */
export async function openArtifactGraph(
  root: string,
  options: GraphOptions = {},
): Promise<SqliteArtifactGraph> {
  await mkdir(root, { recursive: true });
  return SqliteArtifactGraph.open(root, options);
}

export interface Library {
  readonly root: string;
  readonly store: LocalContentStore;
  /** Refuses artifacts whose bytes are not in `store`. */
  readonly graph: SqliteArtifactGraph;
  close(): Promise<void>;
}

/** The content store and the artifact graph of one library root. Close it when done (the graph holds a file). */
export async function openLibrary(root: string): Promise<Library> {
  const store = await openContentStore(root);
  const graph = SqliteArtifactGraph.open(root, { objectExists: (hash) => store.has(hash) });
  return { root, store, graph, close: () => graph.close() };
}

export interface LibraryGcOptions {
  readonly projectDirs?: readonly string[];
  readonly graceMs?: number;
  readonly dryRun?: boolean;
  readonly onEvent?: (event: GcEvent) => void;
}

/** gc of a library: reads the graph's hashes (then closes it), root files and project folders, then sweeps. */
export async function gcLibrary(root: string, options: LibraryGcOptions = {}): Promise<GcReport> {
  const store = await openContentStore(root);
  const graph = SqliteArtifactGraph.open(root);
  let graphHashes: Set<string>;
  try {
    graphHashes = await graph.referencedHashes();
  } finally {
    await graph.close();
  }
  return collectGarbage(store, { ...options, graphHashes });
}

export interface LibraryVerifyReport extends VerifyReport {
  /** Problems SQLite's integrity check and the edge check found in graph.sqlite ([] when sound). */
  readonly graphProblems: readonly string[];
  /** Hashes the graph names whose objects are absent. */
  readonly missing: readonly string[];
}

/** Re-hashes every object and checks the graph file; reports damage with what to do. */
export async function verifyLibrary(root: string, options: VerifyOptions = {}): Promise<LibraryVerifyReport> {
  const store = await openContentStore(root);
  const report = await store.verify(options);
  const graph = SqliteArtifactGraph.open(root);
  try {
    const graphProblems = await graph.checkIntegrity();
    const missing: string[] = [];
    for (const hash of [...(await graph.referencedHashes())].sort()) {
      if (!(await store.has(hash))) missing.push(hash);
    }
    return { ...report, graphProblems, missing };
  } finally {
    await graph.close();
  }
}
