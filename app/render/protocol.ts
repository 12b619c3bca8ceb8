// Messages between the lookahead renderer (main thread) and its render workers. Owned by app/render.
import type { LaneProgram } from "./program";
import type { PageGeometry } from "./stream";

export type ToWorker =
  | { readonly type: "init"; readonly soundfontPath: string; readonly geometry: PageGeometry }
  | { readonly type: "program"; readonly program: LaneProgram }
  | { readonly type: "render"; readonly key: bigint; readonly pageIndex: number }
  | { readonly type: "drop"; readonly key: bigint };

export type FromWorker =
  | {
      readonly type: "page";
      readonly key: bigint;
      readonly pageIndex: number;
      readonly samples: Float32Array;
    }
  | { readonly type: "error"; readonly key: bigint; readonly pageIndex: number; readonly message: string };
