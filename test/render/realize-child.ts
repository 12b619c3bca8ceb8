// Child-process script of realize-process.test.ts: builds the same small project from scratch in a fresh library,
// renders it with the real realizeGenerative (Markov sampler) on worker threads, and prints each head's stream
// keys and a BLAKE3 digest of every stream's pages.
import { CanvasWriter } from "../../app/audio/canvas-file";
import { createLookaheadRenderer } from "../../app/render";
import { realizeGenerative } from "../../app/render/generative";
import { hashBytes } from "../../app/store";
import { createFixture, documentOf, FRAMES_PER_PAGE, GENERATIVE_SPEC, pagesOf, sequenceOf } from "./fixture";

const fx = await createFixture();
try {
  const melody = [60, 62, 64, 65, 67, 65, 64, 62, 60, 64, 67, 72, 67, 64, 60, 62];
  const notes = melody.map((pitch, i) => ({ pitch, velocity: 90, startTick: i * 240, durationTicks: 220 }));
  const keysHash = await fx.putMidi(sequenceOf(notes, 0));
  const conditioning = await fx.putMidi(sequenceOf(notes, 73, 1));
  const document = documentOf(
    fx.ids,
    [
      [{ encodingHash: keysHash, atBeat: 0, durationBeats: 8 }],
      [{ encodingHash: conditioning, atBeat: 0, durationBeats: 8, spec: GENERATIVE_SPEC }],
    ],
    [{ seed: 1 }, { seed: 2 }, { seed: 1 }],
  );
  const config = fx.config();
  fx.canvas();
  const canvas = new CanvasWriter(`${fx.dir}/canvas.lcc`);
  const renderer = await createLookaheadRenderer({
    document,
    store: fx.library.store,
    graph: fx.library.graph,
    canvas,
    config,
    realize: realizeGenerative,
  });
  const heads = document.heads.map((h) => h.id);
  const end = renderer.endFrame();
  await renderer.renderRange(heads, 0, end);
  const pages = Math.ceil(end / FRAMES_PER_PAGE);
  const reader = fx.reader();
  const keys = heads.map((h) => renderer.streamKeys(h).map(String));
  const digests = Object.fromEntries(
    [...new Set(keys.flat())].map((key) => [
      key,
      hashBytes(new Uint8Array(pagesOf(reader, BigInt(key), 0, pages).buffer)),
    ]),
  );
  await renderer.close();
  canvas.close();
  process.stdout.write(`${JSON.stringify({ keys, digests, pages })}\n`);
} finally {
  await fx.dispose();
}
