// Fuzz run of the compressed-audio importers (FLAC, Ogg Vorbis, MP3 through their WASM decoders): N seeded mutated
// inputs per format (default 10,000; npm test runs 100 each in test/spaces/fuzz.test.ts). Writes
// bench/results/encodings-fuzz.md. Fails (exit 1) when an input escapes with anything but an EncodingError or takes
// more than 2 s of CPU. Run: node --import tsx bench/spaces/fuzz-decoders.ts [--count 10000]
import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { decodeAudio } from "../../app/spaces/audio/decode";
import { EncodingError } from "../../app/spaces/errors";
import { mutate, Rng } from "../../test/spaces/support/mutator";

const { values } = parseArgs({
  options: {
    count: { type: "string", default: "10000" },
    out: { type: "string", default: "bench/results/encodings-fuzz.md" },
  },
});
const count = Number(values.count);
if (!Number.isInteger(count) || count < 1)
  throw new Error(`--count must be a positive integer, got ${values.count}`);
const PER_INPUT_CPU_MS = 2000;
const repo = join(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "lc-fuzz-bench-"));

interface Row {
  format: string;
  seedBytes: number;
  accepted: number;
  rejected: number;
  escaped: string[];
  slowestCpuMs: number;
  wallMs: number;
}

function soxMake(name: string, ...options: string[]): Uint8Array {
  const path = join(dir, name);
  execFileSync("sox", ["-D", "-n", ...options, path, "synth", "0.05", "sine", "880"]);
  return readFileSync(path);
}

async function fuzzFormat(format: string, seeds: Uint8Array[], seed: number): Promise<Row> {
  const rng = new Rng(seed);
  const row: Row = {
    format,
    seedBytes: seeds[0]!.length,
    accepted: 0,
    rejected: 0,
    escaped: [],
    slowestCpuMs: 0,
    wallMs: 0,
  };
  const t0 = performance.now();
  for (let i = 0; i < count; i++) {
    const input = mutate(rng, seeds);
    const cpu = process.cpuUsage();
    try {
      await decodeAudio(input, `fuzz.${format}`);
      row.accepted += 1;
    } catch (error) {
      if (error instanceof EncodingError && error.message.startsWith(`fuzz.${format}`)) row.rejected += 1;
      else row.escaped.push(`input ${i} (seed ${seed}): ${String(error).slice(0, 200)}`);
    }
    const used = process.cpuUsage(cpu);
    row.slowestCpuMs = Math.max(row.slowestCpuMs, (used.user + used.system) / 1000);
  }
  row.wallMs = performance.now() - t0;
  return row;
}

const load = loadavg()
  .map((l) => l.toFixed(2))
  .join(" ");
const rows: Row[] = [];
try {
  const mp3 = readFileSync(join(repo, "test/fixtures/audio/sine440-mono-44100.mp3"));
  rows.push(await fuzzFormat("flac", [soxMake("a.flac", "-r", "44100", "-c", "2", "-b", "16")], 10));
  rows.push(await fuzzFormat("ogg", [soxMake("a.ogg", "-r", "22050", "-c", "1")], 11));
  rows.push(await fuzzFormat("mp3", [mp3.subarray(0, 1500)], 12));
} finally {
  rmSync(dir, { recursive: true, force: true });
}

const failed = rows.some((r) => r.escaped.length > 0 || r.slowestCpuMs > PER_INPUT_CPU_MS);
const lines = [
  "# Encodings: fuzzing the compressed-audio decoders",
  "",
  `Recorded ${new Date().toISOString()} with \`node --import tsx bench/spaces/fuzz-decoders.ts --count ${count}\` (not part of npm test, which runs 100 per format).`,
  "",
  `Machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, Node ${process.version}. Load average at start ${load}.`,
  "Each input is a seeded mutation (bit flips, overwrites, truncation, corrupted 32-bit lengths, insertions, deletions, splices) of one small file made by sox (FLAC, Ogg) or of the MP3 fixture's first 1500 bytes. Pass: every input is decoded or rejected with an EncodingError naming the file, none takes more than 2 s of CPU.",
  "",
  "| format | inputs | decoded | rejected (EncodingError) | escaped (other errors) | slowest input (CPU) | total |",
  "|---|---:|---:|---:|---:|---:|---:|",
  ...rows.map(
    (r) =>
      `| ${r.format} | ${count} | ${r.accepted} | ${r.rejected} | ${r.escaped.length} | ${r.slowestCpuMs.toFixed(1)} ms | ${(r.wallMs / 1000).toFixed(1)} s |`,
  ),
  "",
  `Result: ${failed ? "FAILED" : "clean"}.`,
  ...rows.flatMap((r) => r.escaped.slice(0, 5).map((e) => `- ${r.format}: ${e}`)),
  "",
];
writeFileSync(resolve(repo, values.out), lines.join("\n"));
console.log(lines.join("\n"));
process.exit(failed ? 1 : 0);
