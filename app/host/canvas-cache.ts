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

/** The smallest canvas: enough for live play of any project (pages behind the heads are freed). */
export const MIN_PAGE_CAPACITY = 32_768;
/** The largest: a 32 MiB page table, 32 GiB of (sparse) page space; 16 lanes x 1 head hold 93 minutes. */
export const MAX_PAGE_CAPACITY = 1_048_576;

/**
 * Page slots for a project's canvas. A bounce keeps every page of the song until it is mixed, so the canvas must
 * hold the whole project once per stream: lanes x heads streams (deterministic lanes share theirs between heads, so
 * this bounds it from above) of `endFrame` frames plus the synthesizer's tail. Twice that, rounded up to a power of
 * two, keeps a bounced canvas under MAX_KEPT_LOAD, so the next session reuses it. The capacity only changes when
 * the project grows past a power of two (a new capacity replaces the cache file).
 */
export function pageCapacityFor(input: {
  readonly lanes: number;
  readonly heads: number;
  readonly endFrame: number;
  readonly tailFrames: number;
  readonly framesPerPage: number;
}): number {
  const pagesPerStream = Math.ceil((input.endFrame + input.tailFrames) / input.framesPerPage) + 1;
  const needed = Math.max(1, input.lanes) * Math.max(1, input.heads) * pagesPerStream;
  let capacity = MIN_PAGE_CAPACITY;
  while (capacity < 2 * needed && capacity < MAX_PAGE_CAPACITY) capacity *= 2;
  return capacity;
}

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
