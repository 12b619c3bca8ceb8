// Child-process script of addon.test.ts: started WITHOUT LC_AUDIO_ADDON in its environment, renders a range on
// two worker threads (bundled, so their module path differs from the sources') and prints what they wrote.
import { createFixture, documentOf, sequenceOf } from "./fixture";

if (process.env["LC_AUDIO_ADDON"] !== undefined)
  throw new Error("LC_AUDIO_ADDON must not be set for this test");
const fx = await createFixture();
try {
  const hash = await fx.putMidi(
    sequenceOf([{ pitch: 64, velocity: 100, startTick: 0, durationTicks: 960 }], 0),
  );
  const document = documentOf(fx.ids, [[{ encodingHash: hash, atBeat: 0, durationBeats: 4 }]], [{}]);
  const renderer = await fx.renderer(document, { workers: 2 });
  const errors: string[] = [];
  renderer.onError((error) => errors.push(error.message));
  const head = document.heads[0]!.id;
  await renderer.renderRange([head], 0, renderer.endFrame());
  const [key] = renderer.streamKeys(head);
  const valid = fx
    .reader()
    .pages()
    .filter((page) => page.streamKey === key && page.valid).length;
  process.stdout.write(
    `${JSON.stringify({ valid, rendered: renderer.stats().pagesRendered, errors, env: process.env["LC_AUDIO_ADDON"] ?? null })}\n`,
  );
} finally {
  await fx.dispose();
}
