// Transport of the engine host on the demo project through the real renderer and the null driver: two heads at
// different places, stop/resume, seek while playing, a loop, rate 1 only; observed through the positions the
// engine publishes and the audio the callback produced.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { beatToFrame } from "../../app/core/time/tempo-map";
import { openSession, type Session } from "../../app/host/session";
import { type DemoFixture, demoProject, peak, sleep } from "./fixture";

const BUFFER = 256;

describe("transport", () => {
  let demo: DemoFixture;
  let session: Session;
  let frame: (beat: number) => number;
  beforeAll(async () => {
    demo = await demoProject();
    session = await openSession(demo.project, { driver: "null", bufferFrames: BUFFER, autosaveMs: 0 });
    frame = (beat) => beatToFrame(session.document.tempoMap, beat, session.sampleRate);
  });
  afterAll(async () => {
    await session?.close();
    demo?.dispose();
  });

  const position = (name: string) => session.heads().find((h) => h.name === name)!.positionFrames;
  const rendered = () => session.engine.stats().framesRendered;

  it("plays two heads at different places, stops one in place, resumes it, seeks while playing, loops", async () => {
    await session.seek("Alpha", 0);
    await session.seek("Beta", 16);
    await session.waitReady();
    expect(rendered()).toBe(0);
    session.startCapture(48_000 * 8);
    session.play();
    session.start();
    await sleep(600);
    const a = position("Alpha");
    const b = position("Beta");
    expect(a).toBeGreaterThan(0.3 * 48_000);
    // Both heads started in the same block and advance by the same blocks: exactly 16 beats apart.
    expect(b - a).toBe(frame(16));

    session.stop("Alpha");
    await sleep(100);
    const stoppedAt = position("Alpha");
    const betaBefore = position("Beta");
    await sleep(300);
    expect(position("Alpha")).toBe(stoppedAt);
    expect(position("Beta")).toBeGreaterThan(betaBefore + 0.2 * 48_000);
    session.play("Alpha");
    await sleep(200);
    expect(position("Alpha")).toBeGreaterThan(stoppedAt + 0.1 * 48_000);

    // Everything so far was rendered ahead of the heads.
    expect(session.stats().engine.pageMisses).toBe(0);
    await session.seek("Alpha", 8);
    await sleep(150);
    expect(position("Alpha")).toBeGreaterThanOrEqual(frame(8));
    expect(position("Alpha")).toBeLessThan(frame(8) + 0.5 * 48_000);

    await session.setLoop("Beta", 16, 17, true);
    await session.seek("Beta", 16);
    await sleep(50);
    const missesBeforeLoop = session.stats().engine.pageMisses;
    const seen: number[] = [];
    for (let i = 0; i < 25; i++) {
      seen.push(position("Beta"));
      await sleep(40);
    }
    for (const p of seen) {
      expect(p).toBeGreaterThanOrEqual(frame(16));
      expect(p).toBeLessThan(frame(17));
    }
    // It wrapped: the positions went down at least once during one second of a 0.55 s loop.
    expect(seen.some((p, i) => i > 0 && p < seen[i - 1]!)).toBe(true);
    expect(session.document.heads.find((h) => h.name === "Beta")!.loopEnabled).toBe(true);
    // The loop start was rendered before the jump back: no page missing in the loop.
    expect(session.stats().engine.pageMisses).toBe(missesBeforeLoop);

    session.stop();
    await sleep(60);
    const silentFrom = rendered();
    await sleep(300);
    const silentTo = rendered();
    session.engine.stop();
    const captured = session.stopCapture();
    expect(peak(captured, 0, Math.min(captured.length, 2 * 48_000 * 0.5))).toBeGreaterThan(0.05);
    expect(silentTo - silentFrom).toBeGreaterThan(0.2 * 48_000);
    // Both heads stopped: the callback produced exact silence.
    expect(peak(captured, silentFrom * 2, silentTo * 2)).toBe(0);
  }, 60_000);

  it("a stopped head's window is kept rendered: play is heard in the next block", async () => {
    await session.seek(undefined, 0);
    await session.waitReady();
    // The capture starts with the driver: its frame 0 is the engine's framesRendered now.
    const origin = rendered();
    session.startCapture(48_000 * 4);
    session.start();
    await sleep(200);
    const before = rendered() - origin;
    session.play();
    await sleep(200);
    session.engine.stop();
    session.stop();
    const captured = session.stopCapture();
    expect(peak(captured, 0, before * 2)).toBe(0);
    let first = -1;
    for (let i = 0; i < captured.length; i++) {
      if (captured[i] !== 0) {
        first = Math.floor(i / 2);
        break;
      }
    }
    expect(first).toBeGreaterThanOrEqual(before);
    expect(first).toBeLessThan(before + 2 * BUFFER);
  }, 60_000);

  it("plays at rate 1 only and names unknown heads", () => {
    expect(() => session.setRate("Alpha", 2)).toThrow(/rate 2 is not supported/);
    expect(() => session.setRate("Alpha", 1)).not.toThrow();
    expect(() => session.play("Gamma")).toThrow(/no attention head "Gamma".*"Alpha"/);
    expect(() => session.seek("Alpha", -1)).toThrow(/give a beat >= 0/);
  });

  it("rewinds a head to its start position and plays from there", async () => {
    await session.seek(undefined, 12);
    await session.rewind("Beta");
    session.start();
    await sleep(100);
    session.engine.stop();
    expect(position("Alpha")).toBe(frame(12));
    expect(position("Beta")).toBe(frame(session.document.heads[1]!.positionBeat));
    session.play("Beta");
    session.renderOffline(session.bufferFrames * 4);
    session.stop();
    expect(position("Beta")).toBe(frame(session.document.heads[1]!.positionBeat) + session.bufferFrames * 4);
    expect(position("Alpha")).toBe(frame(12));
  });
});
