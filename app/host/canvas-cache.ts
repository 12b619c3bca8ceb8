// The project's canvas file (<project>/cache/canvas.lcc): a cache of rendered pages, kept between sessions when
// sound. A file that is there but rejected (corrupt, truncated, another format) is reported, then replaced.
// Owned by app/host; called by the session.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import {
  CanvasFileError,
  type CanvasGeometry,
  type CanvasLayout,
  CanvasReader,
  createCanvasFile,
  readCanvasLayout,
} from "../audio/canvas-file";

export const CANVAS_CACHE_FILE = join("cache", "canvas.lcc");

export interface CanvasCache {
  readonly path: string;
  readonly layout: CanvasLayout;
  /** True when an existing file of the same geometry was kept (the renderer reuses its valid pages). */
  readonly kept: boolean;
  /** Why an existing file was not kept (undefined when there was none, or it was kept). */
  readonly rejected: string | undefined;
}

/** Above this share of used page slots an old file is replaced by an empty one (probing stays short). */
const MAX_KEPT_LOAD = 0.5;

/**
 * Opens the project's canvas file for a session: a sound file of the same geometry is kept (its pages are content
 * addressed, so the renderer reuses the valid ones); a missing one is created; a rejected one (corrupt,
 * truncated, another format), one of another geometry, or one more than half full is replaced by a new file.
 */
export function prepareCanvasCache(projectDir: string, geometry: CanvasGeometry): CanvasCache {
  const path = join(projectDir, CANVAS_CACHE_FILE);
  mkdirSync(join(projectDir, "cache"), { recursive: true });
  let rejected: string | undefined;
  try {
    const layout = readCanvasLayout(path);
    const same =
      layout.sampleRate === geometry.sampleRate &&
      layout.channels === geometry.channels &&
      layout.framesPerPage === geometry.framesPerPage &&
      layout.pageCapacity === geometry.pageCapacity;
    if (same) {
      const used = new CanvasReader(path).pages().length;
      if (used <= MAX_KEPT_LOAD * layout.pageCapacity)
        return { path, layout, kept: true, rejected: undefined };
    }
  } catch (error) {
    if (!(error instanceof CanvasFileError)) throw error;
    if (!error.message.includes("does not exist")) rejected = error.message;
  }
  const layout = createCanvasFile(path, geometry);
  return { path, layout, kept: false, rejected };
}
