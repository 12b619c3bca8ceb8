// Benchmark: our project bounce (app/host bounce(), the path of `lcanvas bounce`) and our MIDI bounce (bounceMidi,
// the path of `lcanvas synth render`) against the fluidsynth CLI on the same MIDI (60 bars: ~2 minutes, 5 tracks)
// and the same SoundFont, in the same run, interleaved round by round; whole wall clock including start-up, and
// in-process. Our synthesizer is the chosen one (FluidSynth when its addon loads); one row bounces with
// spessasynth (LCANVAS_SYNTH=spessasynth) for comparison. Writes bench/results/render-bounce.json (60 bars) or
// render-bounce-<bars>bars.json.
// Run: node --import tsx bench/render/bounce.ts [--rounds 3] [--bars 60]
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { bounce } from "../../app/host/bounce";
import { parseWav, writeWav } from "../../app/spaces/audio/wav";
import { writeMidi } from "../../app/spaces/midi/smf";
import { chooseSynth } from "../../app/spaces/synth/backend";
import { bounceMidi } from "../../app/spaces/synth/bounce";
import { benchmarkSong } from "../synth/song";
import { load, machine, percentile, REPO, record, songProject, uncommitted } from "./common";

const { values } = parseArgs({
  options: { rounds: { type: "string", default: "3" }, bars: { type: "string", default: "60" } },
});
const rounds = Number(values.rounds);
const bars = Number(values.bars);
const SOUNDFONT = "/usr/share/sounds/sf2/TimGM6mb.sf2";
const RATE = 48_000;

interface Timing {
  readonly wallMs: number;
  readonly cpuMs: number;
}

const dir = mkdtempSync(join(tmpdir(), "lc-render-bounce-"));
const midiPath = join(dir, "song.mid");
const song = benchmarkSong(bars);
writeFileSync(midiPath, writeMidi(song));
const project = join(dir, "project");

function timeProcess(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Timing {
  const timeFile = join(dir, "time.txt");
  const started = performance.now();
  const result = spawnSync("/usr/bin/time", ["-f", "%U %S", "-o", timeFile, command, ...args], {
    encoding: "utf8",
    cwd: REPO,
    env,
  });
  const wallMs = performance.now() - started;
  if (result.status !== 0) throw new Error(`${command} ${args.join(" ")} failed: ${result.stderr}`);
  const [user, system] = readFileSync(timeFile, "utf8").trim().split(/\s+/).map(Number);
  return { wallMs, cpuMs: (user! + system!) * 1000 };
}

/** The canvas file is a cache: removed before every cold bounce so each one renders every page. */
const dropCache = () => rmSync(join(project, "cache"), { recursive: true, force: true });

const fluidsynth = (effects: boolean) => (out: string) =>
  timeProcess("fluidsynth", [
    "-F",
    out,
    "-r",
    String(RATE),
    "-n",
    "-i",
    "-g",
    "1",
    ...(effects ? [] : ["-R", "0", "-C", "0"]),
    SOUNDFONT,
    midiPath,
  ]);

/** Cold in-process bounce: session open to the first rendered page; then rendering with the mix overlapped (the mix
 * of each second follows its pages) until the last mixed chunk; then the WAV write and close. */
const phases: { openToFirstPageMs: number; renderAndMixMs: number; writeCloseMs: number }[] = [];

interface Candidate {
  readonly name: string;
  readonly peer: boolean;
  readonly run: (out: string) => Promise<Timing> | Timing;
}

const CANDIDATES: Candidate[] = [
  { name: "fluidsynth CLI, its defaults (reverb+chorus on)", peer: true, run: fluidsynth(true) },
  { name: "fluidsynth CLI -R 0 -C 0 (effects off, like ours)", peer: true, run: fluidsynth(false) },
  {
    name: "lcanvas bounce (spawned process, cold cache, 16-bit)",
    peer: false,
    run: (out) => {
      dropCache();
      return timeProcess(
        "node",
        ["bin/lcanvas.mjs", "bounce", project, "--out", out, "--bits", "16", "--soundfont", SOUNDFONT],
        { ...process.env, LCANVAS_SOUNDFONT: SOUNDFONT },
      );
    },
  },
  {
    name: "bounce() in-process (cold cache: session open, workers, render, mix, write)",
    peer: false,
    run: async (out) => {
      dropCache();
      const cpu = process.cpuUsage();
      const started = performance.now();
      let renderAt = 0;
      let mixedAt = 0;
      await bounce(project, {
        out,
        bits: "16",
        session: { soundfont: SOUNDFONT, autosaveMs: 0 },
        onProgress: ({ phase }) => {
          if (phase === "render" && renderAt === 0) renderAt = performance.now();
          if (phase === "mix") mixedAt = performance.now();
        },
      });
      const wallMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      phases.push({
        openToFirstPageMs: Math.round(renderAt - started),
        renderAndMixMs: Math.round(mixedAt - renderAt),
        writeCloseMs: Math.round(performance.now() - mixedAt),
      });
      return { wallMs, cpuMs: (used.user + used.system) / 1000 };
    },
  },
  {
    name: "bounce() in-process, warm cache (pages kept from the previous bounce)",
    peer: false,
    run: async (out) => {
      const cpu = process.cpuUsage();
      const started = performance.now();
      await bounce(project, { out, bits: "16", session: { soundfont: SOUNDFONT, autosaveMs: 0 } });
      const wallMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      return { wallMs, cpuMs: (used.user + used.system) / 1000 };
    },
  },
  {
    name: "lcanvas bounce with LCANVAS_SYNTH=spessasynth (spawned, cold cache, 16-bit)",
    peer: false,
    run: (out) => {
      dropCache();
      return timeProcess(
        "node",
        ["bin/lcanvas.mjs", "bounce", project, "--out", out, "--bits", "16", "--soundfont", SOUNDFONT],
        { ...process.env, LCANVAS_SOUNDFONT: SOUNDFONT, LCANVAS_SYNTH: "spessasynth" },
      );
    },
  },
  {
    name: "lcanvas synth render song.mid (spawned process, 2 threads, 16-bit)",
    peer: false,
    run: (out) =>
      timeProcess("node", [
        "bin/lcanvas.mjs",
        "synth",
        "render",
        midiPath,
        "--out",
        out,
        "--soundfont",
        SOUNDFONT,
        "--depth",
        "16",
      ]),
  },
  {
    name: "bounceMidi() in-process (2 threads, float; no WAV write)",
    peer: false,
    run: async (out) => {
      const cpu = process.cpuUsage();
      const started = performance.now();
      const result = await bounceMidi({ sequence: song, soundfontPath: SOUNDFONT, sampleRate: RATE });
      const wallMs = performance.now() - started;
      const used = process.cpuUsage(cpu);
      const left = new Float32Array(result.frames);
      const right = new Float32Array(result.frames);
      for (let i = 0; i < result.frames; i++) {
        left[i] = result.interleaved[2 * i]!;
        right[i] = result.interleaved[2 * i + 1]!;
      }
      writeFileSync(
        out,
        writeWav({ sampleRate: RATE, frames: result.frames, channelData: [left, right] }, "16").bytes,
      );
      return { wallMs, cpuMs: (used.user + used.system) / 1000 };
    },
  },
];

function level(path: string): { seconds: number; rms: number } {
  const { audio } = parseWav(new Uint8Array(readFileSync(path)), path);
  let sum = 0;
  for (const channel of audio.channelData) for (const sample of channel) sum += sample * sample;
  return {
    seconds: Math.round((audio.frames / audio.sampleRate) * 100) / 100,
    rms: Math.round(Math.sqrt(sum / (audio.frames * audio.channelData.length)) * 10_000) / 10_000,
  };
}

async function main(): Promise<void> {
  const loadBefore = load();
  await songProject(project, song);
  const timings = new Map<string, Timing[]>(CANDIDATES.map((c) => [c.name, []]));
  const levels = new Map<string, { seconds: number; rms: number }>();
  const failures = new Map<string, string>();
  for (let round = 0; round < rounds; round++) {
    for (const [index, candidate] of CANDIDATES.entries()) {
      const out = join(dir, `out-${index}.wav`);
      let timing: Timing;
      try {
        timing = await candidate.run(out);
      } catch (error) {
        // Recorded, not fatal: the other candidates of the round still run (e.g. a project too long for the canvas).
        const message = (error as Error).message.split("\n").find((line) => line.includes("Error:")) ?? "";
        failures.set(candidate.name, message.trim() || (error as Error).message.slice(0, 300));
        console.log(`round ${round + 1}: ${candidate.name}: FAILED: ${failures.get(candidate.name)}`);
        continue;
      }
      timings.get(candidate.name)!.push(timing);
      levels.set(candidate.name, level(out));
      console.log(
        `round ${round + 1}: ${candidate.name}: ${Math.round(timing.wallMs)} ms wall, ${Math.round(timing.cpuMs)} ms CPU`,
      );
    }
  }
  const loadAfter = load();
  const medianOf = (name: string) =>
    percentile(
      timings.get(name)!.map((t) => t.wallMs),
      50,
    );
  const peerMs = medianOf(CANDIDATES[1]!.name);
  const peerDefaultsMs = medianOf(CANDIDATES[0]!.name);
  const songSeconds =
    levels.get(CANDIDATES[3]!.name)?.seconds ?? levels.get(CANDIDATES[1]!.name)?.seconds ?? 0;
  const rows = CANDIDATES.map((c) => {
    const list = timings.get(c.name)!;
    if (list.length === 0) return { name: c.name, failed: failures.get(c.name) ?? "no run" };
    const wall = percentile(
      list.map((t) => t.wallMs),
      50,
    );
    return {
      name: c.name,
      wallMsMedian: Math.round(wall),
      wallMsBest: Math.round(Math.min(...list.map((t) => t.wallMs))),
      cpuMsMedian: Math.round(
        percentile(
          list.map((t) => t.cpuMs),
          50,
        ),
      ),
      xRealtime: Math.round((songSeconds / (wall / 1000)) * 10) / 10,
      fluidsynthEffectsOffOverThis: Math.round((peerMs / wall) * 100) / 100,
      fluidsynthDefaultsOverThis: Math.round((peerDefaultsMs / wall) * 100) / 100,
      output: levels.get(c.name),
      wallMs: list.map((t) => Math.round(t.wallMs)),
    };
  });
  console.table(rows.map((row) => ("failed" in row ? row : (({ wallMs, output, ...rest }) => rest)(row))));
  const path = record(bars === 60 ? "bounce" : `bounce-${bars}bars`, {
    command: `node --import tsx bench/render/bounce.ts --rounds ${rounds} --bars ${bars}`,
    machine: machine(),
    loadBefore,
    loadAfter,
    song: `bench/synth/song.ts benchmarkSong(${bars}): ${song.tracks.length} tracks, 120 bpm, one lane per track`,
    soundfont: SOUNDFONT,
    synth: chooseSynth().id,
    sampleRate: RATE,
    rounds,
    rows,
    coldInProcessPhases: phases,
    uncommittedFilesOfOthers: uncommitted(),
  });
  console.log(`recorded ${path}`);
  rmSync(dir, { recursive: true, force: true });
}

await main();
