// Import throughput per format; writes bench/results/encodings.md.
// Run: node --import tsx bench/spaces/run.ts [--seconds 60] [--out bench/results/encodings.md]
// Not part of npm test. Peers in the same run: @tonejs/midi alone (MIDI, without our validation), sox reading the
// same WAV/FLAC to raw float (child process, includes its start-up), linear interpolation and sox's `rate -v`
// (resampling). ABC has no peer here (no other ABC reader is installed).
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseAbc } from "../../app/spaces/abc/parse";
import { decodeAudio } from "../../app/spaces/audio/decode";
import { resample } from "../../app/spaces/audio/resample";
import { parseWav, writeWav } from "../../app/spaces/audio/wav";
import type { MidiNote, MidiSequence } from "../../app/spaces/midi/sequence";
import { importMidi, writeMidi } from "../../app/spaces/midi/smf";

const { values } = parseArgs({
  options: {
    seconds: { type: "string", default: "60" },
    out: { type: "string", default: "bench/results/encodings.md" },
  },
});
const SECONDS = Number(values.seconds);
const RATE = 44100;
const tone = createRequire(import.meta.url)("@tonejs/midi") as typeof import("@tonejs/midi");
const dir = mkdtempSync(join(tmpdir(), "lc-bench-enc-"));
const rows: string[][] = [];
const load = loadavg().map((x) => x.toFixed(2));

function record(format: string, what: string, ms: number, amount: string, rate: string): void {
  rows.push([format, what, `${ms.toFixed(1)} ms`, amount, rate]);
  process.stdout.write(`${format} | ${what} | ${ms.toFixed(1)} ms | ${amount} | ${rate}\n`);
}

async function best(runs: number, work: () => unknown): Promise<number> {
  let fastest = Number.POSITIVE_INFINITY;
  for (let i = 0; i < runs; i++) {
    const started = performance.now();
    await work();
    fastest = Math.min(fastest, performance.now() - started);
  }
  return fastest;
}

const mb = (bytes: number, ms: number) => `${(bytes / 1e6 / (ms / 1000)).toFixed(1)} MB/s`;
const realtime = (ms: number) => `${(SECONDS / (ms / 1000)).toFixed(1)}x realtime`;

// MIDI: 16 tracks of 8,000 notes with tempo changes.
const tracks = Array.from({ length: 16 }, (_, t) => ({
  name: `T${t}`,
  channel: t === 9 ? 10 : t,
  program: t,
  notes: Array.from(
    { length: 8000 },
    (_, i): MidiNote => ({
      pitch: 36 + ((i * 7 + t) % 60),
      velocity: 1 + ((i * 13) % 127),
      startTick: i * 120,
      durationTicks: 100,
    }),
  ),
  controlChanges: [],
}));
const sequence: MidiSequence = {
  ppq: 480,
  tempos: Array.from({ length: 50 }, (_, i) => ({ tick: i * 19200, bpm: 90 + i })),
  meters: [{ tick: 0, numerator: 4, denominator: 4 }],
  tracks,
  durationTicks: 8000 * 120,
};
const midiBytes = writeMidi(sequence);
const midiOurs = await best(5, () => importMidi(midiBytes, "bench.mid"));
const midiPeer = await best(5, () => new tone.Midi(midiBytes));
record(
  "MIDI",
  "validate + @tonejs/midi (ours)",
  midiOurs,
  `${(midiBytes.length / 1e6).toFixed(2)} MB, 128,000 notes`,
  mb(midiBytes.length, midiOurs),
);
record("MIDI", "@tonejs/midi alone (peer)", midiPeer, "same file", mb(midiBytes.length, midiPeer));
const writeMs = await best(5, () => writeMidi(sequence));
record("MIDI", "writeMidi (export)", writeMs, "same sequence", mb(midiBytes.length, writeMs));

// WAV and FLAC: SECONDS of stereo 24-bit noise-like signal at 44.1 kHz.
const frames = SECONDS * RATE;
const channelData = [0, 1].map((c) =>
  Float32Array.from(
    { length: frames },
    (_, i) => Math.round(Math.sin(i * (0.01 + c * 0.003)) * 0.8 * 8388607) / 8388608,
  ),
);
const wavBytes = writeWav({ sampleRate: RATE, frames, channelData }, "24").bytes;
const wavPath = join(dir, "b.wav");
const flacPath = join(dir, "b.flac");
writeFileSync(wavPath, wavBytes);
execFileSync("sox", [wavPath, flacPath]);
const flacBytes = readFileSync(flacPath);
const wavOurs = await best(3, () => parseWav(wavBytes, "b.wav"));
const wavSox = await best(3, () => execFileSync("sox", [wavPath, "-t", "f32", "-"], { maxBuffer: 1 << 30 }));
record(
  "WAV",
  "parseWav (ours)",
  wavOurs,
  `${(wavBytes.length / 1e6).toFixed(1)} MB, ${SECONDS} s stereo 24-bit`,
  `${mb(wavBytes.length, wavOurs)}, ${realtime(wavOurs)}`,
);
record(
  "WAV",
  "sox -> raw f32 (peer, process)",
  wavSox,
  "same file",
  `${mb(wavBytes.length, wavSox)}, ${realtime(wavSox)}`,
);
const flacOurs = await best(3, () => decodeAudio(flacBytes, "b.flac"));
const flacSox = await best(3, () =>
  execFileSync("sox", [flacPath, "-t", "f32", "-"], { maxBuffer: 1 << 30 }),
);
record(
  "FLAC",
  "@wasm-audio-decoders/flac (ours)",
  flacOurs,
  `${(flacBytes.length / 1e6).toFixed(1)} MB`,
  realtime(flacOurs),
);
record("FLAC", "sox -> raw f32 (peer, process)", flacSox, "same file", realtime(flacSox));

// Resampling the same signal 44.1 -> 48 kHz.
const audio = { sampleRate: RATE, frames, channelData };
const srcBest = await best(1, () => resample(audio, 48000));
const linear = await best(3, () => {
  for (const input of channelData) {
    const out = new Float32Array(Math.floor((input.length * 48000) / RATE));
    for (let i = 0; i < out.length; i++) {
      const x = (i * RATE) / 48000;
      const j = Math.floor(x);
      const f = x - j;
      out[i] = (input[j] ?? 0) * (1 - f) + (input[j + 1] ?? 0) * f;
    }
  }
});
const soxRate = await best(1, () =>
  execFileSync("sox", [wavPath, "-t", "f32", "-", "rate", "-v", "48000"], { maxBuffer: 1 << 30 }),
);
record("resample", "libsamplerate SINC_BEST (ours)", srcBest, `${SECONDS} s stereo`, realtime(srcBest));
const lsr = createRequire(import.meta.url)(
  "@alexanderolsen/libsamplerate-js",
) as typeof import("@alexanderolsen/libsamplerate-js");
for (const [name, type] of [
  ["SINC_MEDIUM (90% bandwidth)", lsr.ConverterType.SRC_SINC_MEDIUM_QUALITY],
  ["SINC_FASTEST (80% bandwidth)", lsr.ConverterType.SRC_SINC_FASTEST],
] as const) {
  const ms = await best(1, async () => {
    for (const input of channelData) {
      const converter = await lsr.create(1, RATE, 48000, { converterType: type });
      converter.simple(input);
      converter.destroy();
    }
  });
  record("resample", `libsamplerate ${name} (alternative)`, ms, "same", realtime(ms));
}
record("resample", "linear interpolation (peer, aliases)", linear, "same", realtime(linear));
record("resample", "sox rate -v (peer, process)", soxRate, "same", realtime(soxRate));

// ABC: a long generated tune with repeats, chords, tuplets.
const bar = "|: d2 fd (3efg AdFA | [DFA]2 c2 d>e f2 |1 e2 ed c2 A2 :|2 e2 dc d4 |]\n";
const abcText = `X:1\nT:Long\nM:C|\nL:1/8\nQ:1/2=90\nK:D\n${bar.repeat(2000)}`;
const abcBytes = new TextEncoder().encode(abcText);
const abcMs = await best(3, () => parseAbc(abcBytes, "long.abc"));
const abcNotes = parseAbc(abcBytes, "long.abc").sequence.tracks[0]!.notes.length;
record(
  "ABC",
  "parseAbc -> MidiSequence (ours, no peer)",
  abcMs,
  `${(abcBytes.length / 1e3).toFixed(0)} kB, ${abcNotes} notes`,
  `${mb(abcBytes.length, abcMs)}, ${Math.round(abcNotes / (abcMs / 1000))} notes/s`,
);

rmSync(dir, { recursive: true, force: true });
const lines = [
  "# Encodings: import throughput",
  "",
  `Recorded ${new Date().toISOString()} with \`node --import tsx bench/spaces/run.ts --seconds ${SECONDS}\` (not part of npm test).`,
  "",
  `Machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, Node ${process.version}. Load average at start ${load.join(" ")}: other work shares the cores. Best of several runs (1 for the slow resamplers); peers run in the same process run on the same bytes. Times include WASM instantiation for the decoders and process start-up for sox.`,
  "",
  "| format | what | time | input | throughput |",
  "|---|---|---:|---|---:|",
  ...rows.map((r) => `| ${r.join(" | ")} |`),
  "",
];
writeFileSync(values.out, lines.join("\n"));
process.stdout.write(`wrote ${values.out}\n`);
