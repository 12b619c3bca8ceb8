// How pages reach the workers: runs of a stream's consecutive pages (one message each, not one per page), streams
// placed on workers by estimated cost (costliest first, each on the least loaded worker).
import { describe, expect, it } from "vitest";
import { balanceMoves, type LaneProgram, placeByCost, streamCost } from "../../app/render/index";
import { createFixture, documentOf, FRAMES_PER_PAGE, SAMPLE_RATE, sequenceOf } from "./fixture";

const notes = (count: number, spacingTicks: number, durationTicks: number) =>
  Array.from({ length: count }, (_, i) => ({
    pitch: 48 + (i % 24),
    velocity: 100,
    startTick: i * spacingTicks,
    durationTicks,
  }));

function program(sequenceNotes: ReturnType<typeof notes>, endFrame = 10 * SAMPLE_RATE): LaneProgram {
  return { key: 1n, sequence: sequenceOf(sequenceNotes), clips: [], endFrame };
}

describe("placing streams on workers", () => {
  it("takes the costliest first, each to the least loaded worker", () => {
    const placed = placeByCost(
      [
        { key: "a", cost: 3 },
        { key: "b", cost: 5 },
        { key: "c", cost: 3 },
        { key: "d", cost: 4 },
        { key: "e", cost: 3 },
      ],
      [0, 0],
    );
    // b(5) -> 0, d(4) -> 1, a(3) -> 1 (4 < 5), c(3) -> 0 (5 < 7), e(3) -> 1 (7 < 8): loads 8 and 10. In arrival order
    // (a, b, c, d, e to the least loaded) it would be 3+3+3 = 9 against 5+4 = 9 here, but 11 vs 7 for b first.
    expect(Object.fromEntries(placed)).toEqual({ b: 0, d: 1, a: 1, c: 0, e: 1 });
    // What a worker already holds counts.
    expect(
      Object.fromEntries(
        placeByCost(
          [
            { key: "x", cost: 1 },
            { key: "y", cost: 1 },
          ],
          [10, 0],
        ),
      ),
    ).toEqual({
      x: 1,
      y: 1,
    });
  });

  it("moves streams off the busiest worker only where the move, seek included, shortens the longest one", () => {
    const stream = (key: string, slot: number, workMs: number, seekMs = 0) => ({ key, slot, workMs, seekMs });
    // Worker 0 holds 900 ms of work, worker 1 300 ms: moving b (300) evens them out; a (600) would overshoot.
    expect(
      Object.fromEntries(balanceMoves([stream("a", 0, 600), stream("b", 0, 300), stream("c", 1, 300)], 2)),
    ).toEqual({
      b: 1,
    });
    // The same, but b's seek on the new worker costs 400 ms: worker 1 would hold 300 + 300 + 400 = 1000 > 900.
    expect(balanceMoves([stream("a", 0, 600), stream("b", 0, 300, 400), stream("c", 1, 300)], 2).size).toBe(
      0,
    );
    // Balanced already (within 3%): nothing moves.
    expect(balanceMoves([stream("a", 0, 500), stream("b", 1, 490)], 2).size).toBe(0);
  });

  it("estimates a window of a stream: only the notes sounding in it", () => {
    // 10 notes of a beat each, one every 4 beats at 120 bpm (ppq 480): a note sounds at 0-0.5 s (+0.25 s release),
    // 2-2.5 s, ...
    const spaced = program(notes(10, 4 * 480, 480), 20 * SAMPLE_RATE);
    const whole = streamCost(spaced, SAMPLE_RATE);
    const firstNote = streamCost(spaced, SAMPLE_RATE, 0, 1 * SAMPLE_RATE);
    const between = streamCost(
      spaced,
      SAMPLE_RATE,
      Math.round(0.8 * SAMPLE_RATE),
      Math.round(1.9 * SAMPLE_RATE),
    );
    expect(firstNote).toBeCloseTo(0.75 + 0.05, 6);
    expect(between).toBeCloseTo(0.05 * 1.1, 6);
    expect(whole).toBeCloseTo(10 * 0.75 + 0.05 * 20, 6);
  });

  it("estimates more work for more notes, longer notes and longer streams", () => {
    const sparse = streamCost(program(notes(10, 960, 240)), SAMPLE_RATE);
    const dense = streamCost(program(notes(40, 240, 240)), SAMPLE_RATE);
    const held = streamCost(program(notes(10, 960, 1920)), SAMPLE_RATE);
    const silentShort = streamCost(program([], 1 * SAMPLE_RATE), SAMPLE_RATE);
    const silentLong = streamCost(program([], 60 * SAMPLE_RATE), SAMPLE_RATE);
    expect(dense).toBeGreaterThan(sparse);
    expect(held).toBeGreaterThan(sparse);
    expect(silentLong).toBeGreaterThan(silentShort);
    expect(silentShort).toBeGreaterThan(0);
  });
});

describe("runs of pages", () => {
  it("a range goes to the worker in runs of up to 32 pages, not a message per page", async () => {
    // The bits of pages rendered in runs are those of one linear render: continuity.test.ts (a range on workers).
    const fx = await createFixture();
    try {
      const hash = await fx.putMidi(sequenceOf(notes(160, 240, 200)));
      const document = documentOf(fx.ids, [[{ encodingHash: hash, atBeat: 0, durationBeats: 80 }]], [{}]);
      const renderer = await fx.renderer(document, { workers: 1 });
      const head = document.heads[0]!.id;
      const [key] = renderer.streamKeys(head);
      const pages = 200;
      await renderer.renderRange([head], 0, pages * FRAMES_PER_PAGE);
      for (let page = 0; page < pages; page++) expect(renderer.isWritten(key!, page)).toBe(true);
      const { pagesRendered, runsSent } = renderer.stats();
      expect(pagesRendered).toBeGreaterThanOrEqual(pages - 1);
      // A message per page would be about 200; runs of at most 32 pages need at least 7. The stopped head's
      // window (24 pages) goes first as its own run, and a range's run may end early where the window's ends.
      expect(runsSent).toBeLessThanOrEqual(12);
      expect(runsSent).toBeGreaterThanOrEqual(Math.ceil(pagesRendered / 32));
    } finally {
      await fx.dispose();
    }
  }, 300_000);
});
