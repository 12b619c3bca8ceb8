// Benchmark: bounce a generated ~2-minute, 5-track song through a SoundFont with our renderer (the chosen
// synthesizer, FluidSynth by default; all cores) and with
// the fluidsynth CLI (whole process), in the same run, interleaved round by round; writes bench/results/synth.md
// and bench/synth/last-run.json. Run: node --import tsx bench/synth/run.ts [--rounds 3] [--bars 60]
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { availableParallelism, cpus, loadavg, tmpdir, totalmem } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { parseWav } from "../../app/spaces/audio/wav";
import { importMidi, writeMidi } from "../../app/spaces/midi/smf";
import { chooseSynth } from "../../app/spaces/synth/backend";
import { bounceMidi, bounceMidiSerial } from "../../app/spaces/synth/bounce";
import { benchmarkSong } from "./song";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, bars: { type: "string", default: "60" } },
});
const rounds = Number(values.rounds);
const bars = Number(values.bars);
const RATE = 48_000;
const SOUNDFONTS = [
  "/usr/share/sounds/sf2/TimGM6mb.sf2",
  "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3",
  "/usr/share/sounds/sf2/FluidR3_GM.sf2",
].filter((path) => existsSync(path));

interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

interface Candidate {
  readonly name: string;
  readonly effects: boolean;
  readonly run: (soundfont: string, out: string) => Promise<Timing>;
}

const dir = mkdtempSync(join(tmpdir(), "lc-synth-bench-"));
const midiPath = join(dir, "song.mid");
writeFileSync(midiPath, writeMidi(benchmarkSong(bars)));
const { sequence } = importMidi(readFileSync(midiPath), midiPath);

/** Runs a whole process; CPU time (user + system) from GNU time. */
function timeProcess(command: string, args: string[]): Timing {
  const timeFile = join(dir, "time.txt");
  const started = performance.now();
  const result = spawnSync("/usr/bin/time", ["-f", "%U %S", "-o", timeFile, command, ...args], {
    encoding: "utf8",
    cwd: process.cwd(),
  });
  const wallMs = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command} failed: ${result.stderr}`);
  const [user, system] = readFileSync(timeFile, "utf8").trim().split(/\s+/).map(Number);
  return { wallMs, cpuMs: (user! + system!) * 1000 };
}

async function timeInProcess(work: () => Promise<unknown>): Promise<Timing> {
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  await work();
  const wallMs = performance.now() - started;
  const cpu = process.cpuUsage(cpuBefore);
  return { wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

const fluidsynth = (effects: boolean) => (soundfont: string, out: string) =>
  Promise.resolve(
    timeProcess("fluidsynth", [
      "-F",
      out,
      "-r",
      String(RATE),
      "-n",
      "-i",
      ...(effects ? [] : ["-R", "0", "-C", "0"]),
      soundfont,
      midiPath,
    ]),
  );

const lcanvas = (effects: boolean) => (soundfont: string, out: string) =>
  Promise.resolve(
    timeProcess("node", [
      "bin/lcanvas.mjs",
      "synth",
      "render",
      midiPath,
      "--out",
      out,
      "--soundfont",
      soundfont,
      "--rate",
      String(RATE),
      "--depth",
      "16",
      ...(effects ? ["--effects"] : []),
    ]),
  );

const CANDIDATES: Candidate[] = [
  { name: "fluidsynth CLI (its defaults: reverb+chorus on)", effects: true, run: fluidsynth(true) },
  { name: "lcanvas synth render --effects (2 workers, whole process)", effects: true, run: lcanvas(true) },
  { name: "fluidsynth CLI -R 0 -C 0 (effects off)", effects: false, run: fluidsynth(false) },
  { name: "lcanvas synth render (2 workers, whole process)", effects: false, run: lcanvas(false) },
  {
    name: "bounceMidi in-process (2 workers, incl. worker start + SoundFont load)",
    effects: false,
    run: (soundfont) =>
      timeInProcess(() => bounceMidi({ sequence, soundfontPath: soundfont, sampleRate: RATE })),
  },
  {
    name: "bounceMidiSerial in-process (1 thread, incl. SoundFont load)",
    effects: false,
    run: (soundfont) =>
      timeInProcess(() => bounceMidiSerial({ sequence, soundfontPath: soundfont, sampleRate: RATE })),
  },
];

function median(values: readonly number[]): number {
  const sorted = [...values].sort((x, y) => x - y);
  const middle = sorted.length >> 1;
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function rms(path: string): { seconds: number; rms: number } {
  const { audio } = parseWav(readFileSync(path), path);
  let sum = 0;
  for (const channel of audio.channelData) for (const sample of channel) sum += sample * sample;
  return {
    seconds: audio.frames / audio.sampleRate,
    rms: Math.sqrt(sum / (audio.frames * audio.channelData.length)),
  };
}

async function main(): Promise<void> {
  const loadBefore = loadavg();
  const timings = new Map<string, Timing[]>();
  const levels = new Map<string, { seconds: number; rms: number }>();
  for (let round = 0; round < rounds; round++) {
    for (const soundfont of SOUNDFONTS) {
      for (const [index, candidate] of CANDIDATES.entries()) {
        const out = join(dir, `out-${index}.wav`);
        const timing = await candidate.run(soundfont, out);
        const key = `${soundfont}\t${candidate.name}`;
        timings.set(key, [...(timings.get(key) ?? []), timing]);
        if (round === 0 && existsSync(out)) levels.set(key, rms(out));
        rmSync(out, { force: true });
        process.stderr.write(
          `round ${round + 1}/${rounds} ${soundfont} ${candidate.name}: ${timing.wallMs.toFixed(0)} ms\n`,
        );
      }
    }
  }
  const loadAfter = loadavg();
  const songSeconds = (bars * 4 * 60) / 120;
  const rows: string[] = [];
  const json: Record<string, unknown>[] = [];
  for (const soundfont of SOUNDFONTS) {
    const medianOf = (name: string) => median(timings.get(`${soundfont}\t${name}`)!.map((t) => t.wallMs));
    for (const candidate of CANDIDATES) {
      const runs = timings.get(`${soundfont}\t${candidate.name}`)!;
      const wall = median(runs.map((t) => t.wallMs));
      const cpu = median(runs.map((t) => t.cpuMs));
      const peer = candidate.effects ? CANDIDATES[0]! : CANDIDATES[2]!;
      const ratio = medianOf(peer.name) / wall;
      const level = levels.get(`${soundfont}\t${candidate.name}`);
      rows.push(
        `| ${soundfont.split("/").pop()} | ${candidate.name} | ${wall.toFixed(0)} | ${Math.min(...runs.map((t) => t.wallMs)).toFixed(0)} | ${cpu.toFixed(0)} | ${(songSeconds / (wall / 1000)).toFixed(1)}x | ${ratio.toFixed(2)} | ${level ? `${level.seconds.toFixed(1)} s, ${level.rms.toFixed(4)}` : "-"} |`,
      );
      json.push({
        soundfont,
        candidate: candidate.name,
        wallMsMedian: wall,
        wallMs: runs.map((t) => t.wallMs),
        cpuMs: runs.map((t) => t.cpuMs),
        speedVsFluidsynthSameEffects: ratio,
        output: level,
      });
    }
  }
  const commit = spawnSync("git", ["rev-parse", "--short", "HEAD"], { encoding: "utf8" }).stdout.trim();
  const fluidVersion = spawnSync("fluidsynth", ["--version"], { encoding: "utf8" }).stdout.split("\n")[0];
  const machine = `${cpus()[0]?.model ?? "unknown CPU"}, ${availableParallelism()} cores, ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, ${fluidVersion}`;
  const command = `node --import tsx bench/synth/run.ts --rounds ${rounds} --bars ${bars}`;
  const markdown = [
    "# Synth bounce benchmark",
    "",
    `Song: bench/synth/song.ts, ${bars} bars at 120 bpm (${songSeconds} s of music + 2 s tail), 5 tracks (drums, bass, keys, pad, lead), written to a .mid and read back by both renderers. 48 kHz stereo, 16-bit WAV out.`,
    `Machine: ${machine}. Load average before/after: ${loadBefore.map((x) => x.toFixed(1)).join(" ")} / ${loadAfter.map((x) => x.toFixed(1)).join(" ")} (other work shared the 2 cores).`,
    `Command: \`${command}\` (${rounds} rounds, candidates interleaved within each round; times are medians). Our synthesizer: ${chooseSynth().id} (app/spaces/synth/backend.ts; LCANVAS_SYNTH=spessasynth for the other), commit ${commit}.`,
    "",
    "x realtime = song seconds / wall time. vs fluidsynth = fluidsynth CLI wall time / this wall time with the same effects setting (> 1: faster than fluidsynth).",
    "",
    "| SoundFont | renderer | wall ms (median) | wall ms (best) | CPU ms | x realtime | vs fluidsynth | output (length, RMS) |",
    "|---|---|---|---|---|---|---|---|",
    ...rows,
    "",
  ].join("\n");
  mkdirSync("bench/results", { recursive: true });
  writeFileSync("bench/results/synth.md", markdown);
  writeFileSync(
    "bench/synth/last-run.json",
    `${JSON.stringify({ command, machine, loadBefore, loadAfter, results: json }, null, 2)}\n`,
  );
  process.stdout.write(markdown);
  rmSync(dir, { recursive: true, force: true });
}

main().catch((error: unknown) => {
  rmSync(dir, { recursive: true, force: true });
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exitCode = 1;
});
