// Child-process script of process.test.ts: renders a range with workers in a plain Node process (nothing else
// keeps the event loop alive) and prints what it wrote.
import { createFixture, documentOf, sequenceOf } from "./fixture";

const fx = await createFixture();
try {
  const hash = await fx.putMidi(
    sequenceOf([{ pitch: 60, velocity: 100, startTick: 0, durationTicks: 960 }], 0),
  );
  const document = documentOf(fx.ids, [[{ encodingHash: hash, atBeat: 0, durationBeats: 4 }]], [{}]);
  const renderer = await fx.renderer(document, { workers: 2 });
  const head = document.heads[0]!.id;
  let progress = 0;
  await renderer.renderRange([head], 0, renderer.endFrame(), (done) => {
    progress = done;
  });
  const [key] = renderer.streamKeys(head);
  const reader = fx.reader();
  const written = reader.pages().filter((page) => page.streamKey === key && page.valid).length;
  process.stdout.write(
    `${JSON.stringify({ progress, written, rendered: renderer.stats().pagesRendered })}\n`,
  );
} finally {
  await fx.dispose();
}
