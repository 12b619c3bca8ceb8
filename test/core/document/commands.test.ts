import { describe, expect, it } from "vitest";
import { regionSpec } from "../../../app/core/canvas/region-spec";
import {
  applyCommand,
  beatToCanvasFrame,
  beatToRegionCanvasFrame,
  canvasFrameToBeats,
  DocumentEditor,
  DocumentError,
  emptyDocument,
  endBeat,
  endSeconds,
  findRegion,
  moveRegion,
  newHead,
  newLane,
  newRegion,
  type ProjectDocument,
  regionCanvasFrameToBeats,
  resizeRegion,
  sequentialIds,
  serializeProject,
} from "../../../app/core/document";
import { hashOf, sampleDocument } from "./fixtures";

function expectRejected(document: ProjectDocument, run: () => unknown, message: RegExp): void {
  const before = serializeProject(document);
  expect(run).toThrow(DocumentError);
  expect(run).toThrow(message);
  expect(serializeProject(document)).toBe(before);
}

describe("building documents", () => {
  it("generates deterministic ids from an injected id source", () => {
    const ids = sequentialIds();
    expect(newLane(ids).id).toBe("lane-1");
    expect(newLane(ids).id).toBe("lane-2");
    expect(newHead(ids).id).toBe("head-1");
    expect(newRegion(ids, { laneId: "lane-1", encodingHash: hashOf(1) }).id).toBe("region-1");
  });

  it("freezes documents and entities", () => {
    const doc = sampleDocument();
    expect(Object.isFrozen(doc)).toBe(true);
    expect(Object.isFrozen(doc.regions)).toBe(true);
    expect(Object.isFrozen(doc.regions[0]!.spec.bounds)).toBe(true);
    expect(Object.isFrozen(doc.heads[1]!.context.style)).toBe(true);
  });

  it("computes the end of the project in beats and seconds through the tempo map", () => {
    const doc = sampleDocument(3);
    // regions: [0,4), [2,7), [4,10) -> ends at beat 10; 4 beats at 120 (2 s) + 6 at 60 (6 s) = 8 s.
    expect(endBeat(doc)).toBe(10);
    expect(endSeconds(doc)).toBe(8);
    expect(endBeat(emptyDocument())).toBe(0);
  });
});

describe("canvas frames and beats", () => {
  const grid = { beatsPerCanvasFrame: 0.25 };

  it("maps canvas frame t of a period-p region to [t*p*bpf, (t+1)*p*bpf) beats", () => {
    expect(canvasFrameToBeats(grid, 1, 0)).toEqual({ startBeat: 0, endBeat: 0.25 });
    expect(canvasFrameToBeats(grid, 1, 7)).toEqual({ startBeat: 1.75, endBeat: 2 });
    expect(canvasFrameToBeats(grid, 4, 3)).toEqual({ startBeat: 3, endBeat: 4 });
    expect(canvasFrameToBeats(grid, 16, 2)).toEqual({ startBeat: 8, endBeat: 12 });
  });

  it("finds the canvas frame containing a beat, boundaries belonging to the later frame", () => {
    expect(beatToCanvasFrame(grid, 1, 1.74)).toBe(6);
    expect(beatToCanvasFrame(grid, 1, 1.75)).toBe(7);
    expect(beatToCanvasFrame(grid, 4, 2.999)).toBe(2);
    expect(beatToCanvasFrame(grid, 16, 8)).toBe(2);
    expect(beatToCanvasFrame(grid, 1, -0.1)).toBe(-1);
    // Triplet grid: 1/3 beat per frame is not exact in binary; beat 1 is still frame 3.
    const triplets = { beatsPerCanvasFrame: 1 / 3 };
    expect(beatToCanvasFrame(triplets, 1, 1)).toBe(3);
    expect(beatToCanvasFrame(triplets, 3, 2)).toBe(2);
    expect(() => beatToCanvasFrame(grid, 0, 1)).toThrow(/period must be a whole number/);
  });
});

describe("canvas frames of a placed region", () => {
  const grid = { beatsPerCanvasFrame: 0.25 };
  const ids = sequentialIds();

  it("counts canvas frames from the region's start: period 4 spanning t=0..3 covers beats 8..12 at atBeat 8", () => {
    const region = newRegion(ids, {
      laneId: "lane-1",
      encodingHash: hashOf(1),
      atBeat: 8,
      durationBeats: 4,
      spec: regionSpec([0, 4, 0, 1], { period: 4 }),
    });
    // The seed: a region with period 4 spanning t=0..3 maps to real frames 0, 4, 8, 12 = beats 0, 1, 2, 3 from its start.
    expect([0, 1, 2, 3].map((t) => regionCanvasFrameToBeats(grid, region, t).startBeat)).toEqual([
      8, 9, 10, 11,
    ]);
    expect(regionCanvasFrameToBeats(grid, region, 3)).toEqual({ startBeat: 11, endBeat: 12 });
    expect(beatToRegionCanvasFrame(grid, region, 10.5)).toBe(2);
    expect(beatToRegionCanvasFrame(grid, region, 8)).toBe(0);
    expect(beatToRegionCanvasFrame(grid, region, 7.99)).toBeNull();
    expect(beatToRegionCanvasFrame(grid, region, 12)).toBeNull();
    const still = newRegion(ids, {
      laneId: "lane-1",
      encodingHash: hashOf(2),
      spec: regionSpec([0, 1], { period: 0 }),
    });
    expect(beatToRegionCanvasFrame(grid, still, 0.5)).toBeNull();
  });
});

describe("commands and their inverses", () => {
  it("moves and resizes a region, and the inverse restores it", () => {
    const doc = sampleDocument();
    const moved = applyCommand(doc, moveRegion("region-2", 9.5, "lane-3"));
    expect(findRegion(moved.document, "region-2")).toMatchObject({ atBeat: 9.5, laneId: "lane-3" });
    expect(moved.inverse).toEqual({
      kind: "updateRegion",
      regionId: "region-2",
      changes: { atBeat: 2, laneId: "lane-2" },
    });
    expect(applyCommand(moved.document, moved.inverse).document).toEqual(doc);
    // Structural sharing: untouched regions and lanes are the same objects.
    expect(moved.document.regions[0]).toBe(doc.regions[0]);
    expect(moved.document.lanes).toBe(doc.lanes);

    const resized = applyCommand(
      doc,
      resizeRegion("region-1", { atBeat: 1, offsetBeats: 1, durationBeats: 3 }),
    );
    expect(findRegion(resized.document, "region-1")).toMatchObject({
      atBeat: 1,
      offsetBeats: 1,
      durationBeats: 3,
    });
    expect(applyCommand(resized.document, resized.inverse).document).toEqual(doc);
  });

  it("removing a lane removes its regions, and the inverse puts them back in place", () => {
    const doc = sampleDocument();
    const removed = applyCommand(doc, { kind: "removeLane", laneId: "lane-2" });
    expect(removed.document.lanes.map((l) => l.id)).toEqual(["lane-1", "lane-3"]);
    expect(removed.document.regions.map((r) => r.id)).toEqual([
      "region-1",
      "region-3",
      "region-4",
      "region-6",
    ]);
    const restored = applyCommand(removed.document, removed.inverse).document;
    expect(restored).toEqual(doc);
    expect(serializeProject(restored)).toBe(serializeProject(doc));
  });

  it("reorders lanes and edits heads, tempo, meter and grid with exact inverses", () => {
    const doc = sampleDocument();
    for (const command of [
      { kind: "moveLane", laneId: "lane-1", toIndex: 2 },
      { kind: "updateLane", laneId: "lane-2", changes: { solo: true, pan: 1 } },
      {
        kind: "updateHead",
        headId: "head-2",
        changes: { positionBeat: 7, context: { temperature: 0, topP: 0.5, seed: 9, style: "dub" } },
      },
      { kind: "removeHead", headId: "head-1" },
      { kind: "setTempo", atTick: 960, bpm: 90 },
      { kind: "removeTempo", atTick: 3840 },
      { kind: "setMeter", atTick: 7680, numerator: 7, denominator: 8 },
      { kind: "removeMeter", atTick: 7680 },
      { kind: "setGrid", beatsPerCanvasFrame: 0.5 },
      { kind: "removeRegion", regionId: "region-3" },
    ] as const) {
      const applied = applyCommand(doc, command);
      expect(applied.document).not.toEqual(doc);
      expect(serializeProject(applyCommand(applied.document, applied.inverse).document)).toBe(
        serializeProject(doc),
      );
    }
  });

  it("rejects invalid commands with a clear error and changes nothing", () => {
    const doc = sampleDocument();
    const ids = sequentialIds();
    expectRejected(
      doc,
      () => applyCommand(doc, moveRegion("region-1", 2, "lane-99")),
      /regions\["region-1"\]\.laneId: no lane has id "lane-99"/,
    );
    expectRejected(
      doc,
      () => applyCommand(doc, resizeRegion("region-1", { durationBeats: -1 })),
      /regions\["region-1"\]\.durationBeats: must be > 0 beats/,
    );
    expectRejected(
      doc,
      () =>
        applyCommand(doc, { kind: "updateRegion", regionId: "region-1", changes: { encodingHash: "xyz" } }),
      /encodingHash: must be a content hash of 32 lowercase hex characters/,
    );
    expectRejected(
      doc,
      () => applyCommand(doc, { kind: "removeRegion", regionId: "nope" }),
      /no region has id "nope"/,
    );
    expectRejected(
      doc,
      () => applyCommand(doc, { kind: "addLane", lane: { ...newLane(ids), id: "region-1" } }),
      /id "region-1" is already used in regions/,
    );
    expectRejected(
      doc,
      () => applyCommand(doc, { kind: "updateLane", laneId: "lane-1", changes: { pan: 2 } }),
      /lanes\["lane-1"\]\.pan: must be <= 1/,
    );
    expectRejected(
      doc,
      () => applyCommand(doc, { kind: "updateHead", headId: "head-2", changes: { loopEndBeat: 2 } }),
      /heads\["head-2"\]\.loopEndBeat: must be greater than loopStartBeat/,
    );
    expectRejected(
      doc,
      () => applyCommand(doc, { kind: "setTempo", atTick: 0, bpm: 0 }),
      /tempoMap\.tempos\[0\]\.bpm: must be between/,
    );
    expectRejected(
      doc,
      () => applyCommand(doc, { kind: "setMeter", atTick: 960, numerator: 3, denominator: 4 }),
      /tempoMap\.meters\[1\]\.atTick: a meter change must fall on a bar line/,
    );
    expectRejected(
      doc,
      () => applyCommand(doc, { kind: "setGrid", beatsPerCanvasFrame: 0 }),
      /grid\.beatsPerCanvasFrame: must be > 0/,
    );
    expectRejected(
      doc,
      () =>
        applyCommand(doc, {
          kind: "updateRegion",
          regionId: "region-1",
          changes: { id: "other" } as unknown as { name: string },
        }),
      /an id cannot be changed/,
    );
    expectRejected(
      doc,
      () =>
        applyCommand(doc, {
          kind: "updateRegion",
          regionId: "region-1",
          changes: { spec: regionSpec([0, 4], { default_attn: "telepathy" }) },
        }),
      /regions\["region-1"\]\.spec\.default_attn: expected one of cross_attention/,
    );
    // A batch is all-or-nothing.
    expectRejected(
      doc,
      () =>
        applyCommand(doc, {
          kind: "batch",
          commands: [moveRegion("region-1", 3), { kind: "removeLane", laneId: "missing" }],
        }),
      /no lane has id "missing"/,
    );
  });
});

describe("DocumentEditor: undo, redo and gestures", () => {
  it("undoes and redoes steps, and a new edit clears the redo stack", () => {
    const original = sampleDocument();
    const editor = new DocumentEditor(original);
    editor.apply(moveRegion("region-1", 8), "Move region");
    editor.apply([
      { kind: "setTempo", atTick: 0, bpm: 100 },
      { kind: "updateLane", laneId: "lane-1", changes: { name: "Kit" } },
    ]);
    const final = editor.document;
    expect(editor.undoLabel).toBe("setTempo, updateLane");
    expect(editor.undo()).toBe(true);
    expect(editor.document.tempoMap.tempos[0]!.bpm).toBe(120);
    expect(editor.undo()).toBe(true);
    expect(editor.document).toEqual(original);
    expect(editor.undo()).toBe(false);
    expect(editor.redo()).toBe(true);
    expect(editor.redo()).toBe(true);
    expect(editor.document).toEqual(final);
    editor.undo();
    editor.apply({ kind: "setGrid", beatsPerCanvasFrame: 1 });
    expect(editor.canRedo).toBe(false);
  });

  it("a drag gesture previews many states and commits one undo step", () => {
    const original = sampleDocument();
    const editor = new DocumentEditor(original);
    const seen: number[] = [];
    editor.subscribe((doc) => seen.push(findRegion(doc, "region-3")!.atBeat));
    const drag = editor.beginGesture("Drag region");
    for (const atBeat of [4.25, 4.5, 5, 6.75]) drag.preview(moveRegion("region-3", atBeat));
    expect(() => editor.apply(moveRegion("region-1", 1))).toThrow(/while a gesture is in progress/);
    drag.commit();
    expect(seen).toEqual([4.25, 4.5, 5, 6.75]);
    expect(editor.undoDepth).toBe(1);
    expect(editor.undoLabel).toBe("Drag region");
    editor.undo();
    expect(editor.document).toEqual(original);
    editor.redo();
    expect(findRegion(editor.document, "region-3")!.atBeat).toBe(6.75);
    expect(() => drag.preview(moveRegion("region-3", 1))).toThrow(/has ended/);
  });

  it("a cancelled gesture restores the original and records nothing", () => {
    const original = sampleDocument();
    const editor = new DocumentEditor(original);
    const drag = editor.beginGesture("Resize");
    drag.preview(resizeRegion("region-2", { durationBeats: 9 }));
    drag.preview(resizeRegion("region-2", { durationBeats: 12 }));
    drag.cancel();
    expect(editor.document).toBe(original);
    expect(editor.canUndo).toBe(false);
  });

  it("an invalid preview throws and keeps the last valid preview", () => {
    const editor = new DocumentEditor(sampleDocument());
    const drag = editor.beginGesture("Drag");
    drag.preview(moveRegion("region-1", 3));
    expect(() => drag.preview(moveRegion("region-1", -1))).toThrow(/atBeat: must be >= 0 beats/);
    expect(findRegion(editor.document, "region-1")!.atBeat).toBe(3);
    drag.commit();
    expect(editor.undoDepth).toBe(1);
  });

  it("caps the undo stack at maxUndoSteps", () => {
    const editor = new DocumentEditor(sampleDocument(), { maxUndoSteps: 3 });
    for (let i = 1; i <= 5; i++) editor.apply(moveRegion("region-1", i));
    expect(editor.undoDepth).toBe(3);
    while (editor.undo()) {}
    expect(findRegion(editor.document, "region-1")!.atBeat).toBe(2);
  });
});
