// Edits during playback through the session: lane mute and gain are control-block changes (the renderer is not
// given a new document, the stream keys stay) heard within two blocks; an edit of content goes to the renderer.
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { isMixerOnlyChange } from "../../app/host/mixer";
import { openSession, type Session } from "../../app/host/session";
import { AUTOSAVE_FILE, openProject, PROJECT_FILE } from "../../app/project/project";
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

    // An edit beyond the lanes the engine was opened for is refused before anything changes.
    const document = session.document;
    const many = Array.from({ length: session.engine.options.maxLanes }, (_, i) => ({
      kind: "addLane" as const,
      lane: { ...document.lanes[0]!, id: `extra-${i}` },
    }));
    expect(() => session.apply(many)).toThrow(/reopen the project/);
    expect(session.document).toBe(document);
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

  it("a content edit during playback goes to the renderer and is heard soon after, with no page miss", async () => {
    await session.seek(undefined, 0);
    session.apply(
      session.document.lanes.map((lane) => ({
        kind: "updateLane" as const,
        laneId: lane.id,
        changes: { mute: false },
      })),
    );
    await session.waitReady();
    const origin = session.engine.stats().framesRendered;
    const missesBefore = session.engine.stats().pageMisses;
    session.startCapture(48_000 * 6);
    session.play();
    session.start();
    await sleep(500);
    const regions = session.document.regions;
    session.apply(
      regions.map((region) => ({ kind: "removeRegion" as const, regionId: region.id })),
      "clear",
    );
    const appliedAt = session.engine.stats().framesRendered - origin;
    await sleep(800);
    session.undo();
    const undoneAt = session.engine.stats().framesRendered - origin;
    await sleep(1200);
    session.engine.stop();
    session.stop();
    const captured = session.stopCapture();
    expect(session.stats().engine.pageMisses).toBe(missesBefore);
    expect(peak(captured, 0, appliedAt * 2)).toBeGreaterThan(0.05);
    // Silent from some frame after the edit until the undo: find where the silence starts.
    let silentFrom = undoneAt;
    while (
      silentFrom > appliedAt &&
      captured[2 * silentFrom - 1] === 0 &&
      captured[2 * silentFrom - 2] === 0
    ) {
      silentFrom--;
    }
    expect(silentFrom).toBeGreaterThanOrEqual(appliedAt);
    expect(silentFrom - appliedAt).toBeLessThan(0.5 * 48_000);
    // The undo brings the material back.
    expect(peak(captured, undoneAt * 2)).toBeGreaterThan(0.05);
  }, 60_000);
});

describe("saving from a session", () => {
  let demo: DemoFixture;
  beforeAll(async () => {
    demo = await demoProject();
  });
  afterAll(() => demo?.dispose());

  it("autosaves edits beside the document and saves atomically on request", async () => {
    const session = await openSession(demo.project, { driver: "offline", autosaveMs: 20 });
    try {
      const file = join(demo.project, PROJECT_FILE);
      const before = readFileSync(file, "utf8");
      session.apply({ kind: "updateLane", laneId: session.document.lanes[0]!.id, changes: { gainDb: -7 } });
      const deadline = Date.now() + 5000;
      while (!existsSync(join(demo.project, AUTOSAVE_FILE)) && Date.now() < deadline) await sleep(10);
      expect(existsSync(join(demo.project, AUTOSAVE_FILE))).toBe(true);
      expect(readFileSync(file, "utf8")).toBe(before);
      await session.save();
      expect(existsSync(join(demo.project, AUTOSAVE_FILE))).toBe(false);
      expect((await openProject(demo.project)).lanes[0]!.gainDb).toBe(-7);
    } finally {
      await session.close();
    }
  });
});
