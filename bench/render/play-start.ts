// Benchmark: play-start latency on the null driver. The demo project (assets/demo/make-demo.ts) in a temp folder,
// capture on from the driver's start. Per trial: head Alpha is stopped, sought to a random beat, its window
// rendered (waitReady) and left standing a further 300 ms; then session.play("Alpha"). Latency = end of the first
// captured block with sound minus the frame the callback had reached at the play() call (Beta stands still, so
// everything before is exact silence). Writes bench/results/render-play-start.json.
// Run: node --import tsx bench/render/play-start.ts [--trials 40]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { openSession } from "../../app/host/session";
import { DEMO_BARS, makeDemo } from "../../assets/demo/make-demo";
import { firstSoundFrame, load, machine, peakOf, record, sleep, summary, uncommitted } from "./common";

const { values } = parseArgs({ options: { trials: { type: "string", default: "40" } } });
const trials = Number(values.trials);
const BUFFER = 256;
const RATE = 48_000;
const PLAY_MS = 250;

interface Trial {
  readonly atBeat: number;
  readonly playFrame: number;
  readonly stopFrame: number;
  readonly playCallMs: number;
  latencyMs?: number;
  excluded?: string;
}

async function main(): Promise<void> {
  const loadBefore = load();
  const root = mkdtempSync(join(tmpdir(), "lc-render-play-"));
  const project = join(root, "demo");
  await makeDemo(project);
  const session = await openSession(project, { driver: "null", bufferFrames: BUFFER, autosaveMs: 0 });
  const list: Trial[] = [];
  try {
    await session.rewind();
    await session.seek("Beta", 16);
    await session.waitReady();
    session.startCapture(Math.ceil(trials * 1.5 * RATE + 10 * RATE));
    session.start();
    let seed = 777;
    const random = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    for (let i = 0; i < trials; i++) {
      const atBeat = Math.round((0.25 + random() * (DEMO_BARS * 4 - 4)) * 1000) / 1000;
      await session.seek("Alpha", atBeat);
      await session.waitReady({ heads: ["Alpha"] });
      await sleep(300);
      const playFrame = session.engine.stats().framesRendered;
      const wall = performance.now();
      session.play("Alpha");
      const playCallMs = performance.now() - wall;
      await sleep(PLAY_MS);
      session.stop("Alpha");
      const stopFrame = session.engine.stats().framesRendered;
      list.push({ atBeat, playFrame, stopFrame, playCallMs });
    }
    await sleep(200);
    session.engine.stop();
    const captured = session.stopCapture();
    const stats = session.stats();
    for (const trial of list) {
      if (peakOf(captured, trial.playFrame - RATE / 5, trial.playFrame) !== 0) {
        trial.excluded = "not silent before play";
        continue;
      }
      const sound = firstSoundFrame(captured, trial.playFrame);
      if (sound < 0 || sound >= trial.stopFrame) {
        trial.excluded = "no sound while playing";
        continue;
      }
      const blockEnd = (Math.floor(sound / BUFFER) + 1) * BUFFER;
      trial.latencyMs = ((blockEnd - trial.playFrame) / RATE) * 1000;
    }
    const latencies = list.flatMap((t) => (t.latencyMs === undefined ? [] : [t.latencyMs]));
    const result = {
      command: `node --import tsx bench/render/play-start.ts --trials ${trials}`,
      machine: machine(),
      uncommittedFilesOfOthers: uncommitted(),
      loadBefore,
      loadAfter: load(),
      setup: `demo project, head Alpha at random beats in 0.25..${DEMO_BARS * 4 - 3.75}, Beta stopped at beat 16, null driver, ${BUFFER}-frame blocks (${((BUFFER / RATE) * 1000).toFixed(2)} ms) at ${RATE} Hz`,
      goal: "< 20 ms to the first non-silent block",
      latencyMs: summary(latencies),
      playCallMs: summary(list.map((t) => t.playCallMs)),
      excluded: list.filter((t) => t.excluded).length,
      pageMisses: stats.engine.pageMisses,
      lateBlocks: stats.engine.lateBlocks,
      trials: list.map((t) => ({ ...t, playCallMs: Math.round(t.playCallMs * 1000) / 1000 })),
    };
    console.log(
      JSON.stringify({
        latencyMs: result.latencyMs,
        excluded: result.excluded,
        pageMisses: result.pageMisses,
      }),
    );
    console.log(`recorded ${record("play-start", result)}`);
  } finally {
    await session.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
