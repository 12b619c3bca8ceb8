// Memory of the per-channel synthesizers: one thread holds `--streams` renderers (the render worker's cursors) of a
// 16-channel song (every channel playing), for each backend and SoundFont; prints resident memory before the font,
// after the font, and after each renderer has rendered one second (voices allocated, .sf3 samples decoded), and
// writes bench/results/synth-memory.json. Each case runs in its own process (RSS is per process).
// Run: node --import tsx bench/synth/memory.ts [--streams 6]
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { loadavg } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import type { MidiSequence } from "../../app/spaces/midi/sequence";
import type { SynthName } from "../../app/spaces/synth/backend";
import { createMidiRenderer, type MidiRenderer } from "../../app/spaces/synth/renderer";
import { loadSoundFont } from "../../app/spaces/synth/soundbank";
import { machine, REPO, RESULTS_DIR } from "../render/common";

const { values } = parseArgs({
  options: {
    streams: { type: "string", default: "6" },
    child: { type: "string" },
  },
});
const FONTS = ["/usr/share/sounds/sf2/TimGM6mb.sf2", "/usr/share/sounds/sf3/MuseScore_General_Lite.sf3"];
const SYNTHS: SynthName[] = ["fluidsynth", "spessasynth"];
const RATE = 48_000;
const rssMiB = () => Math.round((process.memoryUsage().rss / 2 ** 20) * 10) / 10;

/** 16 channels, each a 4-note chord held for 2 s on its own program (channel 9: drums). */
function sixteenChannels(): MidiSequence {
  return {
    ppq: 480,
    tempos: [{ tick: 0, bpm: 120 }],
    meters: [],
    tracks: Array.from({ length: 16 }, (_, channel) => ({
      name: `ch${channel}`,
      channel,
      program: (channel * 8) % 128,
      controlChanges: [],
      notes: [0, 4, 7, 12].map((step) => ({
        pitch: channel === 9 ? 36 + step : 48 + step,
        velocity: 100,
        startTick: 0,
        durationTicks: 1920,
      })),
    })),
    durationTicks: 1920,
  };
}

async function child(spec: string): Promise<void> {
  const [synth, font, streamsText] = spec.split("|") as [SynthName, string, string];
  const streams = Number(streamsText);
  const before = rssMiB();
  const soundfont = await loadSoundFont(font, synth);
  const afterFont = rssMiB();
  const renderers: MidiRenderer[] = [];
  const perStream: number[] = [];
  for (let i = 0; i < streams; i++) {
    const renderer = createMidiRenderer({ sequence: sixteenChannels(), soundfont, sampleRate: RATE });
    renderer.render(RATE);
    renderers.push(renderer);
    perStream.push(rssMiB());
  }
  console.log(
    JSON.stringify({
      synth,
      font,
      streams,
      synthesizers: streams * 16,
      rssMiB: { before, afterFont, perStream },
    }),
  );
}

async function main(): Promise<void> {
  const streams = Number(values.streams);
  const loadBefore = loadavg();
  const rows: unknown[] = [];
  for (const font of FONTS) {
    for (const synth of SYNTHS) {
      const out = execFileSync(
        "node",
        ["--import", "tsx", "bench/synth/memory.ts", "--child", `${synth}|${font}|${streams}`],
        { cwd: REPO, encoding: "utf8" },
      );
      const row = JSON.parse(out.trim().split("\n").at(-1)!) as {
        rssMiB: { before: number; afterFont: number; perStream: number[] };
      };
      rows.push(row);
      const { before, afterFont, perStream } = row.rssMiB;
      console.log(
        `${synth} ${font}: RSS ${before} MiB at start, ${afterFont} with the font, ${perStream.join(" / ")} after each of ${streams} streams x 16 channels`,
      );
    }
  }
  const path = join(RESULTS_DIR, "synth-memory.json");
  writeFileSync(
    path,
    `${JSON.stringify(
      {
        benchmark: "synth-memory",
        date: new Date().toISOString(),
        command: `node --import tsx bench/synth/memory.ts --streams ${streams}`,
        machine: machine(),
        loadBefore,
        loadAfter: loadavg(),
        rows,
      },
      null,
      2,
    )}\n`,
  );
  console.log(`recorded ${path}`);
}

if (values.child) await child(values.child);
else await main();
