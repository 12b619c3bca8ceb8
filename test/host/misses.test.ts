// Page misses as the musician sees them: a page freed under a playing head (offline driver, real renderer) is
// reported by session.stats() and onMisses with the head's and lane's names, the beat and the reason; a head over
// rendered pages reports none.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanvasWriter } from "../../app/audio/canvas-file";
import { beatToFrame } from "../../app/core/time/tempo-map";
import { openSession, type Session, type SessionMiss } from "../../app/host/session";
import { type DemoFixture, demoProject } from "./fixture";

const BUFFER = 256;

describe("session page-miss report", () => {
  let demo: DemoFixture;
  let session: Session;
  beforeAll(async () => {
    demo = await demoProject();
    session = await openSession(demo.project, { driver: "offline", bufferFrames: BUFFER, autosaveMs: 0 });
  });
  afterAll(async () => {
    await session?.close();
    demo?.dispose();
  });

  it("names the head, lane, beat and reason of each miss", async () => {
    const seen: SessionMiss[] = [];
    session.onMisses((misses) => seen.push(...misses));
    await session.seek("Alpha", 4);
    await session.seek("Beta", 12);
    await session.waitReady();
    session.play("Alpha");
    session.start();
    session.renderOffline(4 * BUFFER);
    expect(session.stats().engine.pageMisses).toBe(0);
    expect(session.stats().misses.recorded).toBe(0);

    // Free the page of the Bass lane that Alpha plays next, behind the renderer's back.
    const fpp = session.framesPerPage;
    const alpha = session.heads().find((h) => h.name === "Alpha")!;
    const bassLane = session.document.lanes.findIndex((lane) => lane.name === "Bass");
    expect(bassLane).toBeGreaterThanOrEqual(0);
    const key = session.renderer.streamKeys(alpha.id)[bassLane]!;
    const page = Math.floor(alpha.positionFrames / fpp) + 1;
    const writer = new CanvasWriter(session.canvasPath);
    try {
      expect(writer.freePage(key, page)).toBe(true);
    } finally {
      writer.close();
    }
    // Play through the freed page: it is silent on that lane only, one miss per block over it.
    const startFrame = alpha.positionFrames;
    const frames = (page + 1) * fpp - startFrame + BUFFER;
    session.renderOffline(Math.ceil(frames / BUFFER) * BUFFER);
    const stats = session.stats();
    const blocksOverPage =
      Math.ceil(((page + 1) * fpp - startFrame) / BUFFER) - Math.floor((page * fpp - startFrame) / BUFFER);
    expect(stats.engine.pageMisses).toBe(blocksOverPage);
    expect(stats.misses.recorded).toBe(blocksOverPage);
    expect(stats.misses.byReason).toEqual({ absent: blocksOverPage });
    expect(seen).toHaveLength(blocksOverPage);
    const first = stats.misses.first[0]!;
    expect(first).toMatchObject({
      headName: "Alpha",
      laneName: "Bass",
      lane: bassLane,
      pageIndex: page,
      streamKey: key,
      reason: "absent",
      timelineFrame: page * fpp,
    });
    const tempo = session.document.tempoMap;
    expect(beatToFrame(tempo, first.atBeat, session.sampleRate)).toBe(page * fpp);
    expect(first.atBeat).toBeGreaterThan(4);
    expect(first.atBeat).toBeLessThan(6);
    expect(stats.misses.first.every((m) => m.headName === "Alpha" && m.laneName === "Bass")).toBe(true);
  });
});
