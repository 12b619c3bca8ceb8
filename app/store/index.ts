// Public entry of the store layer: factories for the content store, the artifact graph and the library (both,
// in one root folder). Callers: app/spaces (importers, projections), app/cli, the engine host.
import { homedir } from "node:os";
import { join } from "node:path";
import { LocalContentStore } from "./content-store";
import type { ArtifactGraph, ContentStore } from "./types";

export { type DamagedObject, LocalContentStore, type VerifyReport } from "./content-store";
export { StoreError, type StoreErrorCode } from "./errors";
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

export async function openArtifactGraph(_root: string): Promise<ArtifactGraph> {
  throw new Error("openArtifactGraph: not implemented yet");
}

export async function openLibrary(
  root: string,
): Promise<{ store: ContentStore; graph: ArtifactGraph; close(): Promise<void> }> {
  const store = await openContentStore(root);
  const graph = await openArtifactGraph(root);
  return { store, graph, close: () => graph.close() };
}
