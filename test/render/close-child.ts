// Child-process script of process.test.ts: closes renderers whose workers have written pages whose replies this
// thread has not read yet (it is held busy meanwhile), in a plain Node process where nothing else keeps the event
// loop alive. Every close must be awaited to the end: the process prints its result and exits 0.
import { createFixture, documentOf, sequenceOf } from "./fixture";

const rounds = Number(process.argv[2] ?? 8);
const fx = await createFixture();
const hash = await fx.putMidi(
  sequenceOf([{ pitch: 60, velocity: 100, startTick: 0, durationTicks: 960 }], 0),
);
const document = documentOf(fx.ids, [[{ encodingHash: hash, atBeat: 0, durationBeats: 4 }]], [{}]);
const outcomes: string[] = [];
for (let round = 0; round < rounds; round++) {
  const renderer = await fx.renderer(document, { workers: 4 }, { canvas: `round-${round}` });
  const head = document.heads[0]!.id;
  let firstPage: () => void = () => undefined;
  const started = new Promise<void>((resolve) => (firstPage = resolve));
  const range = renderer
    .renderRange([head], 0, renderer.endFrame(), () => firstPage())
    .then(
      () => "finished",
      (error: Error) => error.message,
    );
  await started;
  // The workers render and post their replies while this thread cannot read them.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 200);
  await renderer.close();
  outcomes.push(await range);
}
await fx.dispose();
process.stdout.write(`${JSON.stringify({ rounds: outcomes.length, outcomes: [...new Set(outcomes)] })}\n`);
