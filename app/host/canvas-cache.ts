// The project's canvas file (<project>/cache/canvas.lcc): a cache of rendered pages, rebuilt at every session
// open. A file that is there but rejected (corrupt, truncated, another format) is reported, then replaced.
// Owned by app/host; called by the session.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  CanvasFileError,
  type CanvasGeometry,
  type CanvasLayout,
  createCanvasFile,
  readCanvasLayout,
} from "../audio/canvas-file";

export const CANVAS_CACHE_FILE = join("cache", "canvas.lcc");

export interface CanvasCache {
  readonly path: string;
  readonly layout: CanvasLayout;
  /** Why an existing file was not kept (undefined when there was none or it was sound). */
  readonly rejected: string | undefined;
}

/**
 * Creates a fresh canvas file for the session. Its pages are re-rendered anyway (the renderer has no record of
 * which pages an old file holds), so a sound old file is replaced too; a rejected one is named in `rejected`.
 */
export function prepareCanvasCache(projectDir: string, geometry: CanvasGeometry): CanvasCache {
  const path = join(projectDir, CANVAS_CACHE_FILE);
  mkdirSync(join(projectDir, "cache"), { recursive: true });
  let rejected: string | undefined;
  try {
    readCanvasLayout(path);
  } catch (error) {
    if (!(error instanceof CanvasFileError)) throw error;
    if (!error.message.includes("does not exist")) rejected = error.message;
  }
  const layout = createCanvasFile(path, geometry);
  return { path, layout, rejected };
}
