// Regression (the soak's page misses): after an edit that re-renders a lane, a head switches to the new key once
// its first pages are written; the rest of its window used to be missing until the renderer got there, and the
// engine played silence on that lane when it got there first. Now every page of the window the new key lacks gets
// the old key's page at the switch (a stopgap, overwritten by its own render later). Real renderer, real engine
// (offline driver): at the switch the engine plays the whole window at once, faster than any worker renders.
// Second cause: a looping head that switches near its loop end wraps to the loop start, whose pages of the new key
// the host's loop-start range had not rendered yet; those pages get stopgaps too.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanvasReader } from "../../app/audio/canvas-file";
import type { PageMiss } from "../../app/audio/engine";
import { newLane, newRegion } from "../../app/core/document";
import { beatToFrame } from "../../app/core/time/tempo-map";
import { openSession, type Session } from "../../app/host/session";
import { type LookaheadRendererImpl, STOPGAP_GENERATION } from "../../app/render/index";
import { type DemoFixture, demoProject, sleep } from "./fixture";

const BUFFER = 256;

describe("key switch after an edit", () => {
  let demo: DemoFixture;
  let session: Session;
  beforeAll(async () => {
    demo = await demoProject();
    session = await openSession(demo.project, {
      driver: "offline",
      bufferFrames: BUFFER,
      autosaveMs: 0,
      workers: 1,
    });
  });
  afterAll(async () => {
    await session?.close();
    demo?.dispose();
  });

  it("plays the old key's pages, never silence, where the new key is not rendered yet", async () => {
    const renderer = session.renderer as LookaheadRendererImpl;
    await session.seek("Alpha", 8);
    await session.seek("Beta", 20);
    await session.waitReady();
    session.play("Alpha");
    session.start();
    const alpha = session.heads().find((h) => h.name === "Alpha")!;
    const keysLane = session.document.lanes.findIndex((lane) => lane.name === "Keys");
    const keysRegion = session.document.regions.find(
      (r) => r.laneId === session.document.lanes[keysLane]!.id,
    )!;
    const oldKey = renderer.streamKeys(alpha.id)[keysLane]!;
    const fpp = session.framesPerPage;
    const lastPage = Math.floor((alpha.positionFrames + session.lookaheadFrames - 1) / fpp);
    const reader = new CanvasReader(session.canvasPath);
    const oldLastPage = new Float32Array(reader.pageFrames(oldKey, lastPage)!);

    let misses: PageMiss[] | undefined;
    let newKey = 0n;
    let writtenAtSwitch = 0;
    const absentAtSwitch: number[] = [];
    const stopgapsInFile: number[] = [];
    /** Pages a worker rendered (in flight at the switch) and wrote after their stopgap, not yet reported. */
    const realButUnreported: number[] = [];
    let stopgapsWritten = 0;
    const switched = new Promise<void>((resolve) => {
      const off = renderer.onStreamKeysChanged((headId, keys) => {
        if (headId !== alpha.id || keys[keysLane] === oldKey) return;
        off();
        newKey = keys[keysLane]!;
        reader.refresh();
        for (let page = Math.floor(alpha.positionFrames / fpp); page <= lastPage; page++) {
          if (renderer.isWritten(newKey, page)) writtenAtSwitch++;
          // Every page of the window is in the file now: rendered, or a stopgap (also those still being rendered:
          // the worker may be behind a slow seek).
          if (!reader.pageFrames(newKey, page)) absentAtSwitch.push(page);
        }
        stopgapsWritten = renderer.pagesStopgap();
        for (const entry of reader.pages()) {
          if (entry.streamKey !== newKey || !entry.valid) continue;
          if (entry.generation === STOPGAP_GENERATION) stopgapsInFile.push(entry.pageIndex);
          else if (!renderer.isWritten(newKey, entry.pageIndex)) realButUnreported.push(entry.pageIndex);
        }
        // The session mapped the new keys into the control block (its listener runs first). Play the head's
        // window now (all but its last page), before the render worker can write the rest of it.
        session.engine.renderOffline(session.lookaheadFrames - fpp, { blockFrames: BUFFER });
        misses = session.engine.takeMisses();
        resolve();
      });
    });
    session.apply({
      kind: "updateRegion",
      regionId: keysRegion.id,
      changes: { gainDb: keysRegion.gainDb - 6 },
    });
    await switched;
    // The new key had only a few of the window's pages of its own when the head switched to it...
    expect(writtenAtSwitch).toBeLessThan(lastPage - Math.floor(alpha.positionFrames / fpp));
    // ...and yet nothing in the window was silent.
    expect(absentAtSwitch).toEqual([]);
    expect(misses).toEqual([]);
    expect(session.stats().engine.pageMisses).toBe(0);
    expect(renderer.pagesStopgap()).toBeGreaterThan(0);
    // Stopgaps carry their own generation: a session opening this canvas file later never takes one for the page's
    // real render (it reuses only PAGE_GENERATION pages).
    expect(stopgapsWritten).toBeGreaterThan(0);
    // Every stopgap written is still in the file, unless the render in flight for its page (a run of up to 4
    // pages) replaced it with the real page in between: nothing else overwrites a stopgap.
    expect(stopgapsInFile.length).toBeGreaterThan(0);
    expect(stopgapsInFile.length).toBeLessThanOrEqual(stopgapsWritten);
    expect(stopgapsInFile.length + realButUnreported.length).toBeGreaterThanOrEqual(stopgapsWritten);
    for (const page of stopgapsInFile) expect(renderer.isWritten(newKey, page)).toBe(false);

    // The stopgaps ahead of the head are replaced by the new key's own render: quieter than the old page there (a
    // MIDI region's gain scales velocities, so -6 dB is not half the amplitude through the SoundFont's velocity
    // curve).
    const deadline = Date.now() + 30_000;
    while (!renderer.isWritten(newKey, lastPage) && Date.now() < deadline) await sleep(20);
    expect(renderer.isWritten(newKey, lastPage)).toBe(true);
    reader.refresh();
    const rendered = reader.pageFrames(newKey, lastPage)!;
    const peak = (x: Float32Array) => x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
    expect(peak(oldLastPage)).toBeGreaterThan(0);
    const ratio = peak(rendered) / peak(oldLastPage);
    expect(ratio).toBeGreaterThan(0.1);
    expect(ratio).toBeLessThan(0.8);
  });

  it("a head that switches just before its loop end finds the loop start's pages after the wrap", async () => {
    const renderer = session.renderer as LookaheadRendererImpl;
    const tempo = session.document.tempoMap;
    const fpp = session.framesPerPage;
    session.stop();
    await session.setLoop("Alpha", 0, 8, true);
    await session.seek("Alpha", 7.75);
    await session.waitReady();
    const alpha = session.heads().find((h) => h.name === "Alpha")!;
    const keysLane = session.document.lanes.findIndex((lane) => lane.name === "Keys");
    const keysRegion = session.document.regions.find(
      (r) => r.laneId === session.document.lanes[keysLane]!.id,
    )!;
    const oldKey = renderer.streamKeys(alpha.id)[keysLane]!;
    const loopEnd = beatToFrame(tempo, 8, session.sampleRate);
    // The loop start's pages of the current key (the host's loop-start range) are there before the edit.
    const loopPages = Math.ceil(Math.min(session.lookaheadFrames, loopEnd) / fpp);
    const deadline = Date.now() + 15_000;
    const loopStartReady = () =>
      Array.from({ length: loopPages }, (_, p) => p).every((p) => renderer.isWritten(oldKey, p));
    while (!loopStartReady() && Date.now() < deadline) await sleep(20);
    expect(loopStartReady()).toBe(true);
    session.play("Alpha");
    session.engine.takeMisses();
    const missesBefore = session.stats().engine.pageMisses;

    let misses: PageMiss[] | undefined;
    let newKey = 0n;
    let loopStartWrittenAtSwitch = 0;
    const switched = new Promise<void>((resolve) => {
      const off = renderer.onStreamKeysChanged((headId, keys) => {
        if (headId !== alpha.id || keys[keysLane] === oldKey) return;
        off();
        newKey = keys[keysLane]!;
        for (let p = 0; p < loopPages; p++) if (renderer.isWritten(newKey, p)) loopStartWrittenAtSwitch++;
        // Play to the loop end, wrap, and one second of the loop start, before the workers get there.
        // (The seek is applied by the engine's next block: read the host's view of the head.)
        const position = session.heads().find((h) => h.name === "Alpha")!.positionFrames;
        session.engine.renderOffline(loopEnd - position + session.sampleRate, { blockFrames: BUFFER });
        misses = session.engine.takeMisses();
        resolve();
      });
    });
    session.apply({
      kind: "updateRegion",
      regionId: keysRegion.id,
      changes: { gainDb: keysRegion.gainDb + 3 },
    });
    await switched;
    expect(newKey).not.toBe(0n);
    expect(loopStartWrittenAtSwitch).toBeLessThan(loopPages);
    expect(session.engine.headPositionFrames(session.slotOf("Alpha"))).toBe(session.sampleRate);
    expect(misses).toEqual([]);
    expect(session.stats().engine.pageMisses).toBe(missesBefore);
  });
});

describe("key switch at once near a loop end", () => {
  // A 1 s lookahead: the head's window (12 pages) is copied in one scheduler pass (16 local pages), so the head
  // switches while the edit is applied, before the host's loop-start range for the new keys is registered.
  let demo: DemoFixture;
  let session: Session;
  beforeAll(async () => {
    demo = await demoProject();
    session = await openSession(demo.project, {
      driver: "offline",
      bufferFrames: BUFFER,
      autosaveMs: 0,
      workers: 1,
      lookaheadSeconds: 1,
    });
    session.start();
  });
  afterAll(async () => {
    await session?.close();
    demo?.dispose();
  });

  it("an edit that switches at once (only copies) near the loop end still finds the loop start after the wrap", async () => {
    const renderer = session.renderer as LookaheadRendererImpl;
    const tempo = session.document.tempoMap;
    const fpp = session.framesPerPage;
    await session.setLoop("Alpha", 0, 8, true);
    await session.seek("Alpha", 7.8);
    await session.waitReady();
    const alpha = session.heads().find((h) => h.name === "Alpha")!;
    // A lane of its own with one region far after the loop (adding a lane switches every head at once).
    const keysRegion = session.document.regions.find(
      (r) => r.laneId === session.document.lanes.find((lane) => lane.name === "Keys")!.id,
    )!;
    const lane = newLane(() => "stopgap-test-lane", { name: "Late" });
    const late = newRegion(() => "stopgap-test-region", {
      laneId: lane.id,
      name: "Late keys",
      encodingHash: keysRegion.encodingHash,
      atBeat: 24,
      durationBeats: 4,
    });
    session.apply([
      { kind: "addLane", lane },
      { kind: "addRegion", region: late },
    ]);
    await (renderer as LookaheadRendererImpl).settled();
    await session.waitReady();
    const lateLane = session.document.lanes.findIndex((l) => l.id === lane.id);
    const oldKey = renderer.streamKeys(alpha.id)[lateLane]!;
    expect(oldKey).not.toBe(0n);
    const loopEnd = beatToFrame(tempo, 8, session.sampleRate);
    const loopPages = Math.ceil(Math.min(session.lookaheadFrames, loopEnd) / fpp);
    const deadline = Date.now() + 15_000;
    // Every lane's loop-start pages (the host's range) are there before the edit.
    const oldKeys = renderer.streamKeys(alpha.id).filter((key) => key !== 0n);
    const loopStartReady = () =>
      Array.from({ length: loopPages }, (_, p) => p).every((p) =>
        oldKeys.every((key) => renderer.isWritten(key, p)),
      );
    while (!loopStartReady() && Date.now() < deadline) await sleep(20);
    expect(loopStartReady()).toBe(true);
    session.play("Alpha");
    session.engine.takeMisses();
    const missesBefore = session.stats().engine.pageMisses;

    let misses: PageMiss[] | undefined;
    let newKey = 0n;
    const switched = new Promise<void>((resolve) => {
      const off = renderer.onStreamKeysChanged((headId, keys) => {
        if (headId !== alpha.id || keys[lateLane] === oldKey) return;
        off();
        newKey = keys[lateLane]!;
        const position = session.heads().find((h) => h.name === "Alpha")!.positionFrames;
        session.engine.renderOffline(loopEnd - position + session.sampleRate, { blockFrames: BUFFER });
        misses = session.engine.takeMisses();
        resolve();
      });
    });
    // The region moves later still: every page of the window and of the loop start is the same as before, so the
    // new key's pages are copies (or silence) and the head switches as soon as the edit is built.
    session.apply({ kind: "updateRegion", regionId: late.id, changes: { atBeat: 28 } });
    await switched;
    expect(newKey).not.toBe(0n);
    expect(misses).toEqual([]);
    expect(session.stats().engine.pageMisses).toBe(missesBefore);
  });
});

describe("a stopgap under a playing head", () => {
  let demo: DemoFixture;
  let session: Session;
  beforeAll(async () => {
    demo = await demoProject();
    session = await openSession(demo.project, {
      driver: "offline",
      bufferFrames: BUFFER,
      autosaveMs: 0,
      workers: 1,
    });
  });
  afterAll(async () => {
    await session?.close();
    demo?.dispose();
  });

  it("is not overwritten by its render while the head is in it (a torn read there is a miss)", async () => {
    const renderer = session.renderer as LookaheadRendererImpl;
    await session.seek("Alpha", 8);
    await session.waitReady();
    session.play("Alpha");
    session.start();
    const alpha = session.heads().find((h) => h.name === "Alpha")!;
    const keysLane = session.document.lanes.findIndex((lane) => lane.name === "Keys");
    const keysRegion = session.document.regions.find(
      (r) => r.laneId === session.document.lanes[keysLane]!.id,
    )!;
    const oldKey = renderer.streamKeys(alpha.id)[keysLane]!;
    const fpp = session.framesPerPage;
    const first = Math.floor(alpha.positionFrames / fpp);
    const lastPage = Math.floor((alpha.positionFrames + session.lookaheadFrames - 1) / fpp);
    const reader = new CanvasReader(session.canvasPath);
    let newKey = 0n;
    let target = -1;
    let stopgap: Float32Array | undefined;
    const switched = new Promise<void>((resolve) => {
      const off = renderer.onStreamKeysChanged((headId, keys) => {
        if (headId !== alpha.id || keys[keysLane] === oldKey) return;
        off();
        newKey = keys[keysLane]!;
        reader.refresh();
        // A stopgap far in the window: not rendered yet, nor being rendered (the worker is on the near pages).
        for (let page = lastPage - 1; page > first + 2 && target < 0; page--) {
          const frames = reader.pageFrames(newKey, page);
          if (!renderer.isWritten(newKey, page) && frames) {
            target = page;
            stopgap = new Float32Array(frames);
          }
        }
        // The head goes into the middle of that page.
        const position = session.heads().find((h) => h.name === "Alpha")!.positionFrames;
        if (target >= 0)
          session.engine.renderOffline(target * fpp + fpp / 2 - position, { blockFrames: BUFFER });
        resolve();
      });
    });
    session.apply({
      kind: "updateRegion",
      regionId: keysRegion.id,
      changes: { gainDb: keysRegion.gainDb - 6 },
    });
    await switched;
    expect(target).toBeGreaterThan(first + 2);
    session.renderOffline(BUFFER); // the host's view of the head follows (still inside the page)
    // The worker renders the pages after it; the page under the head keeps its stopgap meanwhile.
    const deadline = Date.now() + 20_000;
    while (!renderer.isWritten(newKey, target + 1) && Date.now() < deadline) await sleep(10);
    expect(renderer.isWritten(newKey, target + 1)).toBe(true);
    expect(renderer.isWritten(newKey, target)).toBe(false);
    reader.refresh();
    expect(reader.pageFrames(newKey, target)).toEqual(stopgap);
    expect(session.stats().engine.pageMisses).toBe(0);
  });
});
