// Messages between the lookahead renderer (main thread) and its render workers. Owned by app/render.
import type { SynthName } from "../spaces/synth/backend";
import type { LaneProgram } from "./program";
import type { PageGeometry } from "./stream";

export type ToWorker =
  | {
      readonly type: "init";
      readonly soundfontPath: string;
      /** The synthesizer the stream keys name (chosen on the main thread): the worker uses it or fails. */
      readonly synth: SynthName;
      readonly geometry: PageGeometry;
      /** The canvas file the worker writes its pages into (its own CanvasWriter). */
      readonly canvasPath: string;
      readonly generation: number;
    }
  | { readonly type: "program"; readonly program: LaneProgram }
  /** Pages [firstPage, firstPage + pageCount) of one stream, rendered in order (a run: one message, one reply). */
  | { readonly type: "render"; readonly key: bigint; readonly firstPage: number; readonly pageCount: number }
  | { readonly type: "drop"; readonly key: bigint };

export type FromWorker =
  | {
      readonly type: "written";
      readonly key: bigint;
      readonly firstPage: number;
      readonly pageCount: number;
      /** Time the worker spent on the run (rendering and writing), for balancing streams over workers. */
      readonly renderMs: number;
    }
  | {
      readonly type: "error";
      readonly key: bigint;
      /** The run's first page: names the request. */
      readonly firstPage: number;
      /** Pages of the run written before the failing one (which is firstPage + writtenPages); the rest were not tried. */
      readonly writtenPages: number;
      readonly message: string;
    };

/** `workerData` of a render worker. */
export interface RenderWorkerData {
  /** The native addon this (main) thread resolved; the worker loads the same file. */
  readonly addonPath: string;
}
