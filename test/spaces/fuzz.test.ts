import { execFileSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { parseAbc } from "../../app/spaces/abc/parse";
import { decodeAudio } from "../../app/spaces/audio/decode";
import { parseWav } from "../../app/spaces/audio/wav";
import { EncodingError } from "../../app/spaces/errors";
import { importBytes } from "../../app/spaces/import";
import { importMidi } from "../../app/spaces/midi/smf";
import { openLibrary, runGraphQuery } from "../../app/store/index";
import { mutate, Rng } from "./support/mutator";
import { chunk, multiTrackSmf, smf, type0Smf } from "./support/smf-bytes";
import { floatSamples, integerSamples, wavBytes } from "./support/wav-bytes";

const INPUTS_PER_FORMAT = 10_000;
/** No single input may take more CPU time than this (a hang or a runaway expansion would); CPU time, so a
 * loaded machine does not fail the test. */
const PER_INPUT_MS = 500;
const dir = mkdtempSync(join(tmpdir(), "lc-fuzz-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface FuzzReport {
  accepted: number;
  rejected: number;
  /** Most CPU time (user + system) any one input took. */
  slowestMs: number;
}

async function fuzz(
  seeds: readonly Uint8Array[],
  count: number,
  seed: number,
  parse: (bytes: Uint8Array) => unknown,
  tokens: readonly string[] = [],
): Promise<FuzzReport> {
  const rng = new Rng(seed);
  const report: FuzzReport = { accepted: 0, rejected: 0, slowestMs: 0 };
  for (let i = 0; i < count; i++) {
    const input = mutate(rng, seeds, tokens);
    const started = process.cpuUsage();
    try {
      await parse(input);
      report.accepted += 1;
    } catch (error) {
      if (!(error instanceof EncodingError)) {
        throw new Error(
          `input ${i} (seed ${seed}) escaped with ${String(error)}: ${Buffer.from(input).toString("base64")}`,
        );
      }
      expect(error.message.startsWith("fuzz.")).toBe(true);
      report.rejected += 1;
    }
    const used = process.cpuUsage(started);
    report.slowestMs = Math.max(report.slowestMs, (used.user + used.system) / 1000);
  }
  return report;
}

const midiSeeds = [
  multiTrackSmf(),
  type0Smf(),
  smf(
    1,
    96,
    [
      [
        [0, 0x90, 60, 100],
        [96, 60, 0],
        [0, 0xf0, 3, 1, 2, 0xf7],
        [0, 0xff, 0x7f, 2, 1, 2],
      ],
    ],
    [chunk("JUNK", [1])],
  ),
];
const wavSeeds = [
  wavBytes({ depth: "16", sampleRate: 44100, channels: 2, interleaved: integerSamples(64, 16) }),
  wavBytes({
    depth: "24",
    sampleRate: 48000,
    channels: 3,
    interleaved: integerSamples(63, 24),
    extraChunks: [["LIST", [1, 2, 3]]],
  }),
  wavBytes({ depth: "32f", sampleRate: 96000, channels: 1, interleaved: floatSamples(40), extensible: true }),
];
const abcDir = join(import.meta.dirname, "../fixtures/abc");
const abcSeeds = readdirSync(abcDir)
  .filter((f) => f.endsWith(".abc"))
  .map((f) => readFileSync(join(abcDir, f)));
const abcTokens = [
  "|:",
  ":|",
  "[1",
  "[2",
  "::",
  "(3",
  "(5:2:7",
  ">",
  "<<",
  "-",
  "[CEG]",
  "z",
  "Z3",
  "^^",
  "__",
  ",",
  "'",
  "/",
  "//",
  "[K:Bb]",
  "[M:5/8]",
  "[L:1/32]",
  "[V:2]",
  "\nV:3\n",
  "!ff!",
  '"Am"',
  "{g}",
  "\u00e9",
  "\n",
  "A64",
  "|]",
  "&",
];

describe("fuzzing the importers with seeded mutations", { timeout: 120_000 }, () => {
  it(`MIDI: ${INPUTS_PER_FORMAT} mutated files, only EncodingError escapes, none hangs`, async () => {
    const report = await fuzz(midiSeeds, INPUTS_PER_FORMAT, 1, (b) => importMidi(b, "fuzz.mid"));
    expect(report.accepted + report.rejected).toBe(INPUTS_PER_FORMAT);
    expect(report.rejected).toBeGreaterThan(INPUTS_PER_FORMAT / 4);
    expect(report.accepted).toBeGreaterThan(INPUTS_PER_FORMAT / 20);
    expect(report.slowestMs).toBeLessThan(PER_INPUT_MS);
  });

  it(`WAV: ${INPUTS_PER_FORMAT} mutated files, only EncodingError escapes, none hangs`, async () => {
    const report = await fuzz(wavSeeds, INPUTS_PER_FORMAT, 2, (b) => parseWav(b, "fuzz.wav"));
    expect(report.accepted + report.rejected).toBe(INPUTS_PER_FORMAT);
    expect(report.rejected).toBeGreaterThan(INPUTS_PER_FORMAT / 4);
    expect(report.accepted).toBeGreaterThan(INPUTS_PER_FORMAT / 20);
    expect(report.slowestMs).toBeLessThan(PER_INPUT_MS);
  });

  it(`ABC: ${INPUTS_PER_FORMAT} mutated tunes, only EncodingError escapes, none hangs`, async () => {
    const report = await fuzz(abcSeeds, INPUTS_PER_FORMAT, 3, (b) => parseAbc(b, "fuzz.abc"), abcTokens);
    expect(report.accepted + report.rejected).toBe(INPUTS_PER_FORMAT);
    expect(report.rejected).toBeGreaterThan(INPUTS_PER_FORMAT / 10);
    expect(report.accepted).toBeGreaterThan(INPUTS_PER_FORMAT / 10);
    expect(report.slowestMs).toBeLessThan(PER_INPUT_MS);
  });

  it("FLAC, Ogg Vorbis and MP3: 100 mutated files each through the WASM decoders", async () => {
    const make = (name: string, ...options: string[]) => {
      const path = join(dir, name);
      execFileSync("sox", ["-D", "-n", ...options, path, "synth", "0.05", "sine", "880"]);
      return readFileSync(path);
    };
    const mp3 = readFileSync(join(import.meta.dirname, "../fixtures/audio/sine440-mono-44100.mp3"));
    const seeds: Array<[string, Uint8Array[]]> = [
      ["flac", [make("a.flac", "-r", "44100", "-c", "2", "-b", "16")]],
      ["ogg", [make("a.ogg", "-r", "22050", "-c", "1")]],
      ["mp3", [mp3.subarray(0, 1500)]],
    ];
    for (const [index, [extension, formatSeeds]] of seeds.entries()) {
      const report = await fuzz(formatSeeds, 100, 10 + index, (b) => decodeAudio(b, `fuzz.${extension}`));
      expect(report.accepted + report.rejected).toBe(100);
      expect(report.slowestMs).toBeLessThan(2000);
    }
  });

  it("failed imports leave the library empty (300 broken files per format through the pipeline)", async () => {
    const library = await openLibrary(join(dir, "library"));
    try {
      const rng = new Rng(99);
      let accepted = 0;
      for (const [extension, seeds] of [
        ["mid", midiSeeds],
        ["wav", wavSeeds],
        ["abc", abcSeeds],
      ] as const) {
        for (let i = 0; i < 300; i++) {
          const input = mutate(rng, seeds, extension === "abc" ? abcTokens : []);
          try {
            await importBytes(library, input, `fuzz.${extension}`, { projectRate: 48000 });
            accepted += 1;
          } catch (error) {
            if (!(error instanceof EncodingError)) throw error;
          }
        }
      }
      const result = await runGraphQuery(library.graph, "{ artifactCount }");
      const artifacts = (result.data as { artifactCount: number }).artifactCount;
      const objects: string[] = [];
      for await (const hash of library.store.list()) objects.push(hash);
      // Every stored object belongs to an accepted import (an ABC import stores two), and nothing else.
      expect(artifacts).toBeGreaterThanOrEqual(accepted);
      expect(artifacts).toBeLessThanOrEqual(2 * accepted);
      expect(objects.length).toBeLessThanOrEqual(artifacts);
      const ids = new Set<string>();
      for (const hash of objects) for (const a of await library.graph.byHash(hash)) ids.add(a.id);
      expect(ids.size).toBe(artifacts);
    } finally {
      await library.close();
    }
  });
});
