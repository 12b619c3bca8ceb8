// Lineage records for the `midi -> audio` projection: the ToolRecord an artifact made by the synth carries, with
// every parameter that determines its bits, the synthesizer's name and version first (FluidSynth or spessasynth:
// an artifact of one never passes for the other's). Owned by app/spaces/synth; called by whoever stores a render.
import type { ToolRecord } from "../../store/types";
import { chooseSynth, type SynthName, synthVersion } from "./backend";
import { FLUID_BLOCK_FRAMES, FLUID_CHECKPOINT_SPACING_SECONDS } from "./fluid";
import { BLOCK_FRAMES, CHECKPOINT_SPACING_SECONDS } from "./renderer";

export const SYNTH_PROJECTION_NAME = "midi->audio.sf2";

export interface SynthRenderParams {
  /** Content hash of the SoundFont file when known (the path alone does not pin the bits). */
  readonly soundfontHash?: string;
  readonly soundfontPath: string;
  readonly sampleRate: number;
  readonly effects: boolean;
  readonly tailSeconds: number;
  /** The synthesizer that rendered; default: the one chosen now (backend.ts), as the bounce chose it. */
  readonly synth?: SynthName;
}

export function synthToolRecord(params: SynthRenderParams): ToolRecord {
  const { synth: requested, ...rest } = params;
  const synth = requested ?? chooseSynth().name;
  const version = synthVersion(synth);
  const backend =
    synth === "fluidsynth"
      ? {
          renderer: `fluidsynth@${version}`,
          blockFrames: FLUID_BLOCK_FRAMES,
          eventPlacement: "rounded to the 64-frame block grid from frame 0",
          checkpointSpacingSeconds: FLUID_CHECKPOINT_SPACING_SECONDS,
          settings: "reverb/chorus only with effects, synth.gain 0.5, polyphony grown on demand",
        }
      : {
          renderer: `spessasynth_core@${version}`,
          blockFrames: BLOCK_FRAMES,
          eventPlacement: "exact frame",
          checkpointSpacingSeconds: CHECKPOINT_SPACING_SECONDS,
        };
  return {
    kind: "projection",
    name: SYNTH_PROJECTION_NAME,
    params: {
      ...rest,
      ...backend,
      mix: "per-channel synthesizers, summed in ascending channel order, float32",
    },
  };
}
