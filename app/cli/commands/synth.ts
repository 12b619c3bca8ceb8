// `lcanvas synth ...` and `lcanvas sample ...`: bounce a MIDI file through a SoundFont to WAV (all cores), list
// the SoundFonts found, and draw a Markov variation of a MIDI file. Owned by the synth helper; only main.ts loads it.
import { readFileSync, writeFileSync } from "node:fs";
import { type ParseArgsConfig, parseArgs } from "node:util";
import { writeWav } from "../../spaces/audio/wav";
import { EncodingError } from "../../spaces/errors";
import type { MidiSequence } from "../../spaces/midi/sequence";
import { importMidi, writeMidi } from "../../spaces/midi/smf";
import { MarkovSampler } from "../../spaces/samplers/markov";
import { SamplerInputError } from "../../spaces/samplers/sampler";
import { chooseSynth, SynthChoiceError } from "../../spaces/synth/backend";
import { bounceMidi } from "../../spaces/synth/bounce";
import { MidiSequenceError } from "../../spaces/synth/events";
import { findSoundFont, listSoundFonts, SoundFontError } from "../../spaces/synth/soundfonts";
import { type Command, printJson, UserError, usageError } from "../command";

function parse<const O extends NonNullable<ParseArgsConfig["options"]>>(
  command: Command,
  args: string[],
  options: O,
) {
  try {
    return parseArgs({ args, options, allowPositionals: true as const, strict: true as const });
  } catch (error) {
    throw usageError(command, error instanceof Error ? error.message : String(error));
  }
}

function numberArg(
  command: Command,
  value: unknown,
  what: string,
  fallback: number,
  integer: boolean,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (
    typeof value !== "string" ||
    value.trim() === "" ||
    !Number.isFinite(n) ||
    (integer && !Number.isInteger(n))
  ) {
    throw usageError(
      command,
      `${what}: expected ${integer ? "a whole number" : "a number"}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

function readMidiFile(path: string): MidiSequence {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`cannot read ${path} (${code ?? String(error)}); give the path of a .mid file`);
  }
  try {
    return importMidi(bytes, path).sequence;
  } catch (error) {
    if (error instanceof EncodingError) throw new UserError(error.message);
    throw error;
  }
}

function asUserError(error: unknown): never {
  if (
    error instanceof SoundFontError ||
    error instanceof SynthChoiceError ||
    error instanceof MidiSequenceError ||
    error instanceof SamplerInputError ||
    error instanceof EncodingError
  ) {
    throw new UserError(error.message);
  }
  throw error;
}

function writeOutput(path: string, bytes: Uint8Array): void {
  try {
    writeFileSync(path, bytes);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UserError(`cannot write ${path} (${code ?? String(error)}); choose a writable output path`);
  }
}

const render: Command = {
  path: ["synth", "render"],
  usage:
    "synth render FILE.mid --out OUT.wav [--soundfont PATH] [--synth fluidsynth|spessasynth] [--rate 48000] [--effects] [--workers N] [--tail SECONDS] [--depth 16|24|32f]",
  summary:
    "Render a MIDI file through a SoundFont to WAV on every core (deterministic); prints one JSON object with frames, seconds and timing.",
  async run(args, io) {
    const { values, positionals } = parse(render, args, {
      out: { type: "string" },
      soundfont: { type: "string" },
      synth: { type: "string" },
      rate: { type: "string" },
      effects: { type: "boolean" },
      workers: { type: "string" },
      tail: { type: "string" },
      depth: { type: "string" },
    });
    if (positionals.length !== 1) throw usageError(render, "expected exactly one MIDI file");
    if (!values.out) throw usageError(render, "--out OUT.wav is required");
    const depth = values.depth ?? "24";
    if (depth !== "16" && depth !== "24" && depth !== "32f")
      throw usageError(render, `--depth must be 16, 24 or 32f`);
    const sampleRate = numberArg(render, values.rate, "--rate", 48_000, true);
    const workers = numberArg(render, values.workers, "--workers", 0, true);
    const tailSeconds = numberArg(render, values.tail, "--tail", 2, false);
    const sequence = readMidiFile(positionals[0]!);
    const started = performance.now();
    try {
      const soundfont = findSoundFont({ explicitPath: values.soundfont });
      const synth = chooseSynth(values.synth);
      if (synth.note) io.err(`note: ${synth.note}`);
      const result = await bounceMidi({
        sequence,
        synth: synth.name,
        soundfontPath: soundfont.path,
        sampleRate,
        effects: values.effects ?? false,
        tailSeconds,
        ...(workers > 0 ? { workers } : {}),
      });
      const renderMs = performance.now() - started;
      const left = new Float32Array(result.frames);
      const right = new Float32Array(result.frames);
      for (let i = 0; i < result.frames; i++) {
        left[i] = result.interleaved[2 * i]!;
        right[i] = result.interleaved[2 * i + 1]!;
      }
      const wav = writeWav({ sampleRate, frames: result.frames, channelData: [left, right] }, depth);
      writeOutput(values.out, wav.bytes);
      printJson(io, {
        out: values.out,
        soundfont: soundfont.path,
        synth: result.synthId,
        sampleRate,
        frames: result.frames,
        seconds: result.frames / sampleRate,
        channelGroups: result.groups,
        renderMs: Math.round(renderMs),
        timesRealtime: Math.round((result.frames / sampleRate / (renderMs / 1000)) * 10) / 10,
        clippedSamples: wav.clippedSamples,
      });
      return 0;
    } catch (error) {
      return asUserError(error);
    }
  },
};

const soundfonts: Command = {
  path: ["synth", "soundfonts"],
  usage: "synth soundfonts",
  summary: "List the SoundFonts found (setting/LCANVAS_SOUNDFONT first, then system locations), as JSON.",
  run(args, io) {
    parse(soundfonts, args, {});
    try {
      printJson(io, { chosen: findSoundFont(), system: listSoundFonts() });
      return 0;
    } catch (error) {
      return asUserError(error);
    }
  },
};

const markov: Command = {
  path: ["sample", "markov"],
  usage: "sample markov FILE.mid --bars N --seed S --temperature T [--top-p P] [--order K] --out OUT.mid",
  summary:
    "Learn a variable-order Markov model from a MIDI file and write a seeded continuation of N bars (same seed, same file).",
  run(args, io) {
    const { values, positionals } = parse(markov, args, {
      bars: { type: "string" },
      seed: { type: "string" },
      temperature: { type: "string" },
      "top-p": { type: "string" },
      order: { type: "string" },
      out: { type: "string" },
    });
    if (positionals.length !== 1) throw usageError(markov, "expected exactly one MIDI file");
    if (!values.out) throw usageError(markov, "--out OUT.mid is required");
    const bars = numberArg(markov, values.bars, "--bars", 8, true);
    if (bars < 1) throw usageError(markov, "--bars must be 1 or more");
    const seed = numberArg(markov, values.seed, "--seed", 0, true);
    const temperature = numberArg(markov, values.temperature, "--temperature", 1, false);
    const topP = numberArg(markov, values["top-p"], "--top-p", 1, false);
    const maxOrder = numberArg(markov, values.order, "--order", 3, true);
    const conditioning = readMidiFile(positionals[0]!);
    try {
      const sampler = new MarkovSampler({ maxOrder });
      const meter = conditioning.meters[0];
      const beatsPerBar = meter ? (meter.numerator * 4) / meter.denominator : 4;
      const context = { temperature, top_p: topP, seed };
      const sequence = sampler.sample({
        conditioning: [conditioning],
        context,
        spanBeats: bars * beatsPerBar,
      });
      writeOutput(values.out, writeMidi(sequence));
      printJson(io, {
        out: values.out,
        tool: { kind: "sampler", name: sampler.name, params: sampler.params, context },
        tracks: sequence.tracks.map((track) => ({
          name: track.name,
          channel: track.channel,
          notes: track.notes.length,
        })),
        durationTicks: sequence.durationTicks,
        ppq: sequence.ppq,
      });
      return 0;
    } catch (error) {
      return asUserError(error);
    }
  },
};

export const commands: Command[] = [render, soundfonts, markov];
