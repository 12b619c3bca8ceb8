import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProjectDocument } from "../../app/core/document";
import { beatToFrame } from "../../app/core/time/tempo-map";
import { PAGE_GENERATION, STOPGAP_GENERATION } from "../../app/render/index";
import { BLOCK_FRAMES } from "../../app/spaces/synth/renderer";
import {
  createFixture,
  documentOf,
  type Fixture,
  FRAMES_PER_PAGE,
  pagesOf,
  SAMPLE_RATE,
  sequenceOf,
  waitFor,
} from "./fixture";

const notes = (count: number, pitch: number) =>
  Array.from({ length: count }, (_, i) => ({ pitch, velocity: 90, startTick: i * 480, durationTicks: 400 }));
const LOOKAHEAD = 20 * SAMPLE_RATE;

describe("edits re-render only what changed", () => {
  let fx: Fixture;
  let document: ProjectDocument;
  beforeAll(async () => {
    fx = await createFixture();
    const a = await fx.putMidi(sequenceOf(notes(8, 60), 0));
    const b = await fx.putMidi(sequenceOf(notes(8, 67), 0));
    const drums = await fx.putMidi(sequenceOf(notes(16, 36), 0, 9));
    document = documentOf(
      fx.ids,
      [
        [
          { encodingHash: a, atBeat: 0, durationBeats: 8 },
          { encodingHash: b, atBeat: 8, durationBeats: 8 },
        ],
        [{ encodingHash: drums, atBeat: 0, durationBeats: 16 }],
      ],
      [{}],
    );
  });
  afterAll(async () => fx?.dispose());

  it("copies pages before the first changed frame, renders from there, switches when ready, frees old pages", async () => {
    const renderer = await fx.renderer(document, { lookaheadFrames: LOOKAHEAD }, { retireGraceMs: 0 });
    const head = document.heads[0]!.id;
    const view = { headId: head, audibleFrame: 0, playing: true };
    renderer.updateHeads([view]);
    await waitFor(() => renderer.stats().readyAheadFrames[head]! >= LOOKAHEAD);
    const [oldKey, drumKey] = renderer.streamKeys(head);
    const before = renderer.stats();

    // Move the second region from beat 8 to beat 10.
    const moved = document.regions[1]!;
    const edited: ProjectDocument = {
      ...document,
      regions: document.regions.map((r) => (r.id === moved.id ? { ...r, atBeat: 10 } : r)),
    };
    const switches: Array<{ keys: readonly bigint[]; ready: boolean }> = [];
    renderer.onStreamKeysChanged((id, keys) => {
      expect(id).toBe(head);
      // At the switch the new key's pages under the head (plus the safety margin) are written.
      const margin = Math.floor((0 + Math.round(0.1 * SAMPLE_RATE)) / FRAMES_PER_PAGE);
      const ready = Array.from({ length: margin + 1 }, (_, p) => p).every((p) =>
        renderer.isWritten(keys[0]!, p),
      );
      switches.push({ keys, ready });
    });
    renderer.setDocument(edited);
    await renderer.settled();
    await waitFor(() => switches.length === 1);
    const [newKey, sameDrums] = switches[0]!.keys;
    expect(switches[0]!.ready).toBe(true);
    expect(sameDrums).toBe(drumKey);
    expect(newKey).not.toBe(oldKey);
    await waitFor(() => renderer.stats().readyAheadFrames[head]! >= LOOKAHEAD);

    const changedFrame =
      Math.floor(beatToFrame(edited.tempoMap, 8, SAMPLE_RATE) / BLOCK_FRAMES) * BLOCK_FRAMES;
    const copiedPages = Math.floor(changedFrame / FRAMES_PER_PAGE);
    const after = renderer.stats();
    expect(after.pagesCopied - before.pagesCopied).toBe(copiedPages);
    // Pages from the changed one up to the new stream's end are synthesized again; the rest is silence.
    const endPage = Math.ceil(renderer.endFrame() / FRAMES_PER_PAGE);
    expect(after.pagesRendered - before.pagesRendered).toBe(endPage - copiedPages);

    // The result equals a fresh render of the edited document, copied pages included.
    const fresh = await fx.renderer(edited, { lookaheadFrames: LOOKAHEAD }, { canvas: "fresh" });
    expect(fresh.streamKeys(head)[0]).toBe(newKey);
    await fresh.renderRange([head], 0, endPage * FRAMES_PER_PAGE);
    const reader = fx.reader();
    const got = pagesOf(reader, newKey!, 0, endPage);
    const want = pagesOf(fx.reader("fresh"), newKey!, 0, endPage);
    expect(Buffer.from(got.buffer).equals(Buffer.from(want.buffer))).toBe(true);

    // The old key's pages were freed (their slots are tombstones for reuse) and its program dropped.
    expect(reader.pages().filter((page) => page.streamKey === oldKey)).toEqual([]);
    expect(reader.tombstoneSlots().length).toBeGreaterThan(100);
    expect(renderer.liveKeys()).not.toContain(oldKey);
  }, 90_000);

  it("lane gain, pan, mute and solo (and head gain) are control changes: no render, same keys", async () => {
    const renderer = await fx.renderer(
      document,
      { lookaheadFrames: 4 * FRAMES_PER_PAGE },
      { canvas: "controls" },
    );
    const head = document.heads[0]!.id;
    renderer.updateHeads([{ headId: head, audibleFrame: 0, playing: true }]);
    await waitFor(() => renderer.stats().readyAheadFrames[head]! >= 4 * FRAMES_PER_PAGE);
    const keys = renderer.streamKeys(head);
    const rendered = renderer.stats().pagesRendered;
    let switched = 0;
    renderer.onStreamKeysChanged(() => switched++);
    const lane = document.lanes[0]!;
    for (const change of [{ gainDb: -12 }, { pan: -0.5 }, { mute: true }, { solo: true }]) {
      renderer.setDocument({
        ...document,
        lanes: document.lanes.map((l) => (l.id === lane.id ? { ...l, ...change } : l)),
      });
      await renderer.settled();
    }
    renderer.setDocument({
      ...document,
      heads: document.heads.map((h) => ({ ...h, gainDb: -3, mute: true })),
    });
    await renderer.settled();
    renderer.updateHeads([{ headId: head, audibleFrame: 0, playing: true }]);
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(renderer.stats().pagesRendered).toBe(rendered);
    expect(renderer.stats().queueLength).toBe(0);
    expect(renderer.streamKeys(head)).toEqual(keys);
    expect(switched).toBe(0);
  }, 60_000);
});

describe("a kept canvas file", () => {
  it("is reused by the next session: pages of the same keys are not rendered again", async () => {
    const fx = await createFixture();
    try {
      const hash = await fx.putMidi(sequenceOf(notes(8, 62), 0));
      const document = documentOf(fx.ids, [[{ encodingHash: hash, atBeat: 0, durationBeats: 8 }]], [{}]);
      const head = document.heads[0]!.id;
      const first = await fx.renderer(document, {}, { canvas: "kept" });
      await first.renderRange([head], 0, first.endFrame());
      expect(first.stats().pagesRendered).toBeGreaterThan(50);
      await first.close();
      const second = await fx.renderer(document, {}, { canvas: "kept" });
      await second.renderRange([head], 0, second.endFrame());
      expect(second.stats().pagesRendered).toBe(0);
      expect(second.streamKeys(head)).toEqual(first.streamKeys(head));
    } finally {
      await fx.dispose();
    }
  }, 60_000);

  it("never takes a stopgap left in it (another key's content) for the page's own render", async () => {
    const fx = await createFixture();
    try {
      const hash = await fx.putMidi(sequenceOf(notes(8, 62), 0));
      const document = documentOf(fx.ids, [[{ encodingHash: hash, atBeat: 0, durationBeats: 8 }]], [{}]);
      const head = document.heads[0]!.id;
      const first = await fx.renderer(document, {}, { canvas: "gaps" });
      const [key] = first.streamKeys(head);
      await first.close();
      // A session ended while pages 3 and 4 still held stopgaps: written under this key, not rendered from it.
      const writer = fx.canvas("gaps");
      const foreign = new Float32Array(4096 * 2).fill(0.5);
      writer.writePage(key!, 3, STOPGAP_GENERATION, foreign);
      writer.writePage(key!, 4, STOPGAP_GENERATION, foreign);
      writer.writePage(key!, 5, PAGE_GENERATION, foreign);
      const second = await fx.renderer(document, {}, { canvas: "gaps" });
      expect([3, 4, 5].map((page) => second.isWritten(key!, page))).toEqual([false, false, true]);
      await second.renderRange([head], 0, 6 * 4096);
      // Pages 3 and 4 are rendered again (their own content); page 5, a real page of this key, is kept.
      const reader = fx.reader("gaps");
      for (const page of [3, 4]) expect(reader.pageFrames(key!, page)!.every((x) => x === 0.5)).toBe(false);
      expect(reader.pageFrames(key!, 5)!.every((x) => x === 0.5)).toBe(true);
    } finally {
      await fx.dispose();
    }
  }, 60_000);
});
