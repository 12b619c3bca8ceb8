// Edits during playback through the session: lane mute and gain are control-block changes (the renderer is not
// given a new document, the stream keys stay) heard within two blocks; an edit of content goes to the renderer.
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { isMixerOnlyChange } from "../../app/host/mixer";
import { openSession, type Session } from "../../app/host/session";
import { type DemoFixture, demoProject, peak, sleep } from "./fixture";

const BUFFER = 256;

describe("mixer edits during playback", () => {
  let demo: DemoFixture;
  let session: Session;
  beforeAll(async () => {
    demo = await demoProject();
    session = await openSession(demo.project, { driver: "null", bufferFrames: BUFFER, autosaveMs: 0 });
  });
  afterAll(async () => {
    await session?.close();
    demo?.dispose();
  });

  it("a mute of every lane is silent within two blocks and renders nothing", async () => {
    await session.waitReady();
    // Capture frame i is engine frame i: nothing was rendered before.
    expect(session.engine.stats().framesRendered).toBe(0);
    session.startCapture(48_000 * 4);
    session.play();
    session.start();
    await sleep(500);
    const setDocument = vi.spyOn(session.renderer, "setDocument");
    const keysBefore = session.engine.control.head(0).streamKeys;
    session.apply(
      session.document.lanes.map((lane) => ({
        kind: "updateLane" as const,
        laneId: lane.id,
        changes: { mute: true },
      })),
      "mute all",
    );
    const appliedAt = session.engine.stats().framesRendered;
    await sleep(300);
    session.engine.stop();
    const captured = session.stopCapture();
    expect(setDocument).not.toHaveBeenCalled();
    expect(session.engine.control.head(0).streamKeys).toEqual(keysBefore);
    for (let i = 0; i < session.document.lanes.length; i++) {
      expect(session.engine.control.lane(i).mute).toBe(true);
    }
    expect(peak(captured, 0, appliedAt * 2)).toBeGreaterThan(0.05);
    const heardBy = appliedAt + 2 * BUFFER;
    expect(captured.length / 2).toBeGreaterThan(heardBy + 0.2 * 48_000);
    expect(peak(captured, heardBy * 2)).toBe(0);
    expect(session.stats().engine.pageMisses).toBe(0);

    // Undo restores the lanes through the control block too; a content edit goes to the renderer.
    session.undo();
    expect(session.engine.control.lane(0).mute).toBe(false);
    expect(setDocument).not.toHaveBeenCalled();
    const region = session.document.regions[0]!;
    session.apply({ kind: "updateRegion", regionId: region.id, changes: { gainDb: -6 } });
    expect(setDocument).toHaveBeenCalledTimes(1);
    setDocument.mockRestore();
  }, 60_000);

  it("tells mixer-only edits from content edits", () => {
    const doc = session.document;
    const lane = doc.lanes[0]!;
    const head = doc.heads[0]!;
    const withLane = {
      ...doc,
      lanes: [{ ...lane, gainDb: -12, pan: 0.5, solo: true }, ...doc.lanes.slice(1)],
    };
    expect(isMixerOnlyChange(doc, withLane)).toBe(true);
    const withHead = { ...doc, heads: [{ ...head, gainDb: -2, loopEnabled: true }, ...doc.heads.slice(1)] };
    expect(isMixerOnlyChange(doc, withHead)).toBe(true);
    const withSeed = {
      ...doc,
      heads: [{ ...head, context: { ...head.context, seed: 99 } }, ...doc.heads.slice(1)],
    };
    expect(isMixerOnlyChange(doc, withSeed)).toBe(false);
    expect(isMixerOnlyChange(doc, { ...doc, regions: [...doc.regions] })).toBe(false);
    expect(isMixerOnlyChange(doc, { ...doc, lanes: [...doc.lanes].reverse() })).toBe(false);
    expect(isMixerOnlyChange(doc, { ...doc, connections: [...doc.connections] })).toBe(false);
  });
});
