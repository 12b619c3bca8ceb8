// Loads a SoundFont (.sf2/.sf3) into spessasynth_core's sound bank, with errors that name the file and the fix.
// Owned by app/spaces/synth; called by the renderer, the bounce workers and the CLI. One load per thread.
import { readFile } from "node:fs/promises";
import {
  type BasicSoundBank,
  BasicSoundBank as SoundBankClass,
  SoundBankLoader,
  SpessaLog,
} from "spessasynth_core";
import { INSTALL_HINT, SoundFontError, soundFontProblem } from "./soundfonts";

SpessaLog.infoEnabled = false;
SpessaLog.warnEnabled = false;
SpessaLog.groupEnabled = false;

export interface LoadedSoundFont {
  /** The file it came from, so worker threads can load it themselves. */
  readonly path: string;
  readonly sizeBytes: number;
  readonly bank: BasicSoundBank;
}

export async function loadSoundFont(path: string): Promise<LoadedSoundFont> {
  const problem = soundFontProblem(path);
  if (problem) throw new SoundFontError(`cannot use this SoundFont: ${problem}. ${INSTALL_HINT}.`);
  await SoundBankClass.isSF3DecoderReady;
  const bytes = await readFile(path);
  let bank: BasicSoundBank;
  try {
    const copy = bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength);
    bank = SoundBankLoader.fromArrayBuffer(copy);
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
  return { path, sizeBytes: bytes.byteLength, bank };
}
