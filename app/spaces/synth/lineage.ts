// Lineage records for the `midi -> audio` projection: the ToolRecord an artifact made by the synth carries, with
// every parameter that determines its bits. Owned by app/spaces/synth; called by whoever stores a render.
import { createRequire } from "node:module";
import type { ToolRecord } from "../../store/types";
import { BLOCK_FRAMES, CHECKPOINT_SPACING_SECONDS } from "./renderer";

export const SYNTH_PROJECTION_NAME = "midi->audio.sf2";

const spessasynthVersion = (
  createRequire(import.meta.url)("spessasynth_core/package.json") as { version: string }
).version;

export interface SynthRenderParams {
  /** Content hash of the SoundFont file when known (the path alone does not pin the bits). */
  readonly soundfontHash?: string;
  readonly soundfontPath: string;
  readonly sampleRate: number;
  readonly effects: boolean;
  readonly tailSeconds: number;
}

export function synthToolRecord(params: SynthRenderParams): ToolRecord {
  return {
    kind: "projection",
    name: SYNTH_PROJECTION_NAME,
    params: {
      ...params,
      renderer: `spessasynth_core@${spessasynthVersion}`,
      blockFrames: BLOCK_FRAMES,
      checkpointSpacingSeconds: CHECKPOINT_SPACING_SECONDS,
      mix: "per-channel synthesizers, summed in ascending channel order, float32",
    },
  };
}
