// A seek lands on sound: on the null driver, seeks of a playing head to places no window has rendered, and a loop
// set up so that the head jumps at once to an unrendered loop start, count no page miss. The places are checked
// to be unrendered just before each seek, so the test proves the wait, not luck.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { beatToFrame } from "../../app/core/time/tempo-map";
import { openSession, type Session } from "../../app/host/session";
import type { LookaheadRendererImpl } from "../../app/render";
import { type DemoFixture, demoProject, sleep } from "./fixture";

describe("seeks into audio not yet rendered", () => {
  let demo: DemoFixture;
  let session: Session;
  beforeAll(async () => {
    demo = await demoProject();
    // A generous bound: this test proves that a seek which waits for its first pages misses none, whatever the
    // load of the machine; the bound itself is tested below.
    session = await openSession(demo.project, {
      driver: "null",
      bufferFrames: 256,
      autosaveMs: 0,
      seekWaitMs: 20_000,
    });
  });
  afterAll(async () => {
    await session?.close();
    demo?.dispose();
  });

  const frameOf = (beat: number) => beatToFrame(session.document.tempoMap, beat, session.sampleRate);
  const alpha = () => session.headId("Alpha");
  const position = () => session.heads().find((h) => h.name === "Alpha")!.positionFrames;
  /** Whether no stream of Alpha has the page holding `frame` written. */
  const unrendered = (frame: number) => {
    const renderer = session.renderer as LookaheadRendererImpl;
    const page = Math.floor(frame / session.framesPerPage);
    const keys = renderer.streamKeys(alpha()).filter((key) => key !== 0n);
    return keys.length > 0 && keys.every((key) => !renderer.isWritten(key, page));
  };

  it("a playing head seeking to unrendered places plays them with no page miss", async () => {
    await session.waitReady();
    session.play("Alpha");
    session.start();
    await sleep(300);
    expect(session.stats().engine.pageMisses).toBe(0);
    for (const beat of [28, 20, 12]) {
      const target = frameOf(beat);
      expect(unrendered(target)).toBe(true);
      await session.seek("Alpha", beat);
      // The engine has been told: the head is at the target now (or a block or two past it once applied).
      await sleep(30);
      expect(position()).toBeGreaterThanOrEqual(target);
      expect(position()).toBeLessThan(target + 0.2 * session.sampleRate);
      await sleep(300);
      expect(session.stats().engine.pageMisses).toBe(0);
    }
  }, 60_000);

  it("a loop whose start is unrendered is set up so that the jump back lands on sound", async () => {
    // Alpha plays past beat 12: a loop over beats 6..9 sends it to beat 6 at the next block.
    const start = frameOf(6);
    expect(position()).toBeGreaterThan(frameOf(9));
    expect(unrendered(start)).toBe(true);
    await session.setLoop("Alpha", 6, 9, true);
    await sleep(400);
    expect(position()).toBeGreaterThanOrEqual(start);
    expect(position()).toBeLessThan(frameOf(9));
    expect(session.stats().engine.pageMisses).toBe(0);
    session.engine.stop();
  }, 60_000);

  it("the wait is bounded: with seekWaitMs 0 the head moves at once, before its pages are there", async () => {
    const quick = await openSession(demo.project, {
      driver: "null",
      bufferFrames: 256,
      autosaveMs: 0,
      seekWaitMs: 0,
    });
    try {
      await quick.waitReady();
      const renderer = quick.renderer as LookaheadRendererImpl;
      const target = beatToFrame(quick.document.tempoMap, 26, quick.sampleRate);
      const page = Math.floor(target / quick.framesPerPage);
      const keys = renderer.streamKeys(quick.headId("Alpha")).filter((key) => key !== 0n);
      // The canvas file is kept between sessions: beat 26 is a place the first session never rendered.
      expect(keys.every((key) => !renderer.isWritten(key, page))).toBe(true);
      await quick.seek("Alpha", 26);
      // Cold and far (the synthesizer seeks from its last checkpoint): not written yet when the head moved.
      expect(keys.some((key) => !renderer.isWritten(key, page))).toBe(true);
      expect(quick.heads().find((h) => h.name === "Alpha")!.positionFrames).toBe(target);
    } finally {
      await quick.close();
    }
    await expect(
      openSession(demo.project, { driver: "null", autosaveMs: 0, seekWaitMs: -1 }),
    ).rejects.toThrow(/seekWaitMs is -1: give a number of milliseconds >= 0/);
  }, 60_000);
});
