// Messages between the bounce (bounce.ts) and its worker threads (bounce-worker.ts). Owned by app/spaces/synth.
import type { MidiSequence } from "../midi/sequence";
import type { SynthName } from "./backend";

export interface BounceJob {
  readonly sequence: MidiSequence;
  readonly soundfontPath: string;
  readonly sampleRate: number;
  readonly effects: boolean;
  /** The synthesizer the bounce chose: a worker renders with it or fails, never with another. */
  readonly synth: SynthName;
  readonly channels: readonly number[];
  readonly totalFrames: number;
  readonly pageFrames: number;
}

/** From the bounce to a worker: page buffers already mixed, for the worker to render into again. */
export interface RecycleMessage {
  readonly type: "recycle";
  readonly buffers: readonly ArrayBuffer[];
}

export type WorkerMessage =
  | {
      readonly type: "page";
      readonly pageIndex: number;
      readonly stems: ReadonlyArray<{ channel: number; left: Float32Array; right: Float32Array }>;
    }
  | { readonly type: "done"; readonly renderMs: number; readonly loadMs: number }
  | { readonly type: "error"; readonly message: string };
