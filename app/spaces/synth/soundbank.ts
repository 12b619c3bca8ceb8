// Loads a SoundFont (.sf2/.sf3) for the chosen synthesizer, with errors that name the file and the fix: into
// spessasynth_core's sound bank, or (FluidSynth) checked by loading it into one native synthesizer that this
// thread keeps, so FluidSynth's sample cache holds the samples for every synthesizer made from it. Owned by
// app/spaces/synth; called by the renderer, the bounce workers, the render workers and the CLI. One load per thread.
import { readFile, stat } from "node:fs/promises";
import type { BasicSoundBank } from "spessasynth_core";
import { chooseSynth, type SynthName, synthVersion } from "./backend";
import { type FluidSynthInstance, fluidAvailability } from "./fluid";
import { INSTALL_HINT, SoundFontError, soundFontProblem } from "./soundfonts";

/** spessasynth_core, loaded on first use (about 60 ms): processes that render with FluidSynth never load it. */
type SpessaModule = typeof import("spessasynth_core");
let spessaModule: Promise<SpessaModule> | undefined;

function loadSpessa(): Promise<SpessaModule> {
  spessaModule ??= import("spessasynth_core").then((spessa) => {
    spessa.SpessaLog.infoEnabled = false;
    spessa.SpessaLog.warnEnabled = false;
    spessa.SpessaLog.groupEnabled = false;
    return spessa;
  });
  return spessaModule;
}

interface SoundFontCommon {
  /** The file it came from, so worker threads can load it themselves. */
  readonly path: string;
  readonly sizeBytes: number;
  /** `name@version` of the synthesizer it was loaded for. */
  readonly synthId: string;
}

export interface SpessaSoundFont extends SoundFontCommon {
  readonly synth: "spessasynth";
  readonly bank: BasicSoundBank;
  /** The loaded spessasynth_core module (its synthesizer class and defaults). */
  readonly spessa: SpessaModule;
}

export interface FluidSoundFont extends SoundFontCommon {
  readonly synth: "fluidsynth";
  /** .sf3: FluidSynth decodes only the samples of the presets a channel selects (else all at load). */
  readonly dynamicSampleLoading: boolean;
  /** A synthesizer holding the font, so its samples stay in FluidSynth's cache while this object lives. */
  readonly keeper: FluidSynthInstance;
}

export type LoadedSoundFont = SpessaSoundFont | FluidSoundFont;

/** Loads `path` for `synth` (default: the chosen synthesizer, see backend.ts). */
export async function loadSoundFont(path: string, synth?: SynthName): Promise<LoadedSoundFont> {
  const problem = soundFontProblem(path);
  if (problem) throw new SoundFontError(`cannot use this SoundFont: ${problem}. ${INSTALL_HINT}.`);
  const name = synth ?? chooseSynth().name;
  if (name === "fluidsynth") return loadForFluid(path);
  const spessa = await loadSpessa();
  await spessa.BasicSoundBank.isSF3DecoderReady;
  const bytes = await readFile(path);
  let bank: BasicSoundBank;
  try {
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    bank = spessa.SoundBankLoader.fromArrayBuffer(copy);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SoundFontError(
      `${path} is a damaged or unsupported SoundFont (${reason}); re-install it or choose another: ${INSTALL_HINT}.`,
    );
  }
  if (bank.presets.length === 0) {
    throw new SoundFontError(
      `${path} contains no presets; choose a General MIDI SoundFont: ${INSTALL_HINT}.`,
    );
  }
  return {
    synth: "spessasynth",
    synthId: `spessasynth@${synthVersion("spessasynth")}`,
    path,
    sizeBytes: bytes.byteLength,
    bank,
    spessa,
  };
}

async function loadForFluid(path: string): Promise<FluidSoundFont> {
  const fluid = fluidAvailability();
  if (!fluid.ok) throw new SoundFontError(`cannot render with FluidSynth: ${fluid.reason}`);
  const { size } = await stat(path);
  const dynamicSampleLoading = path.toLowerCase().endsWith(".sf3");
  let keeper: FluidSynthInstance;
  try {
    keeper = new fluid.addon.FluidSynth(path, 44_100, false, dynamicSampleLoading);
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new SoundFontError(
      `${path} is a damaged or unsupported SoundFont (${reason}); re-install it or choose another: ${INSTALL_HINT}.`,
    );
  }
  return {
    synth: "fluidsynth",
    synthId: `fluidsynth@${fluid.addon.version}`,
    path,
    sizeBytes: size,
    dynamicSampleLoading,
    keeper,
  };
}
