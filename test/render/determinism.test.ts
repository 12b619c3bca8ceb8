import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProjectDocument } from "../../app/core/document";
import {
  createFixture,
  documentOf,
  type Fixture,
  FRAMES_PER_PAGE,
  GENERATIVE_SPEC,
  pagesOf,
  sequenceOf,
} from "./fixture";

const notes = (count: number, pitch: number) =>
  Array.from({ length: count }, (_, i) => ({ pitch, velocity: 90, startTick: i * 480, durationTicks: 400 }));

describe("realization determinism and sharing", () => {
  let fx: Fixture;
  let document: ProjectDocument;
  beforeAll(async () => {
    fx = await createFixture();
    const keys = await fx.putMidi(sequenceOf(notes(8, 64), 0));
    const conditioning = await fx.putMidi(sequenceOf(notes(8, 60), 33));
    const loop = await fx.putSine(2, 220);
    document = documentOf(
      fx.ids,
      [
        [{ encodingHash: keys, atBeat: 0, durationBeats: 8 }],
        [{ encodingHash: conditioning, atBeat: 0, durationBeats: 8, spec: GENERATIVE_SPEC }],
        [{ encodingHash: loop, atBeat: 0, durationBeats: 4, gainDb: -6 }],
      ],
      [{ seed: 1 }, { seed: 2 }, { seed: 1 }],
    );
  });
  afterAll(async () => fx?.dispose());

  it("shares deterministic lanes across heads, keys generative lanes per context", async () => {
    const renderer = await fx.renderer(document, {}, { canvas: "a" });
    const [h1, h2, h3] = document.heads.map((h) => renderer.streamKeys(h.id));
    expect(h1![0]).toBe(h2![0]);
    expect(h1![2]).toBe(h2![2]);
    expect(h1![1]).not.toBe(h2![1]);
    expect(h3).toEqual(h1);
    expect(h1!.every((key) => key > 0n)).toBe(true);
  });

  it("two renderers with fresh workers write identical pages; seeds change only the generative lane", async () => {
    const a = await fx.renderer(document, {}, { canvas: "a2" });
    const b = await fx.renderer(document, { workers: 1 }, { canvas: "b" });
    const heads = document.heads.map((h) => h.id);
    const end = a.endFrame();
    expect(b.endFrame()).toBe(end);
    await Promise.all([a.renderRange(heads, 0, end), b.renderRange(heads, 0, end)]);
    const pages = Math.ceil(end / FRAMES_PER_PAGE);
    const ra = fx.reader("a2");
    const rb = fx.reader("b");
    const keys = heads.map((h) => a.streamKeys(h));
    expect(heads.map((h) => b.streamKeys(h))).toEqual(keys);
    const audio = (reader: typeof ra, key: bigint) => Buffer.from(pagesOf(reader, key, 0, pages).buffer);
    for (const key of new Set(keys.flat())) expect(audio(ra, key).equals(audio(rb, key))).toBe(true);
    // Different seeds: different audio on the generative lane; the MIDI and audio lanes are the same stream.
    expect(audio(ra, keys[0]![1]!).equals(audio(ra, keys[1]![1]!))).toBe(false);
    expect(keys[0]![0]).toBe(keys[1]![0]);
    // Shared pages were rendered once: 2 shared streams + 2 generative streams, each `pages` pages.
    const stats = a.stats();
    expect(stats.pagesRendered + a.pagesSilent()).toBe(4 * pages);
    // The audio lane really sounds (a sine at -6 dB with a fade-in) and ends at its region.
    const loop = pagesOf(ra, keys[0]![2]!, 0, pages);
    const peak = loop.subarray(0, 2 * 48_000 * 2).reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peak).toBeGreaterThan(0.24);
    expect(peak).toBeLessThan(0.26);
    expect(loop[0]).toBe(0);
    expect(loop.subarray(2 * 48_000 * 2 + 2).every((v) => v === 0)).toBe(true);
  }, 60_000);
});
