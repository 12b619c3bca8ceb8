import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { regionSpec } from "../../../app/core/canvas/region-spec";
import {
  type Command,
  connectRegions,
  DocumentEditor,
  DocumentError,
  type IdSource,
  moveRegion,
  newHead,
  newLane,
  newRegion,
  type ProjectDocument,
  parseProject,
  resizeRegion,
  serializeProject,
} from "../../../app/core/document";
import { hashOf, sampleDocument } from "./fixtures";

interface Intent {
  readonly op: number;
  readonly a: number;
  readonly b: number;
  readonly c: number;
  readonly commit: boolean;
}

const intentArb: fc.Arbitrary<Intent> = fc.record({
  op: fc.integer({ min: 0, max: 22 }),
  a: fc.nat({ max: 1000 }),
  b: fc.double({ min: -4, max: 64, noNaN: true }),
  c: fc.nat({ max: 100_000 }),
  commit: fc.boolean(),
});

function pick<T>(list: readonly T[], n: number): T | undefined {
  return list.length === 0 ? undefined : list[n % list.length];
}

/** Turns a random intent into commands against the current document (some deliberately invalid). */
function commandsFor(doc: ProjectDocument, intent: Intent, ids: IdSource): Command[] {
  const { a, b, c } = intent;
  const lane = pick(doc.lanes, a)?.id ?? "no-lane";
  const region = pick(doc.regions, a)?.id ?? "no-region";
  const head = pick(doc.heads, a)?.id ?? "no-head";
  switch (intent.op) {
    case 0:
      return [
        {
          kind: "addLane",
          lane: newLane(ids, { name: `L${a}`, pan: (c % 21) / 10 - 1 }),
          index: c % (doc.lanes.length + 1),
        },
      ];
    case 1:
      return [{ kind: "removeLane", laneId: lane }];
    case 2:
      return [{ kind: "updateLane", laneId: lane, changes: { gainDb: b - 30, solo: c % 2 === 0 } }];
    case 3:
      return [{ kind: "moveLane", laneId: lane, toIndex: c % Math.max(1, doc.lanes.length) }];
    case 4:
      return [
        {
          kind: "addRegion",
          region: newRegion(ids, {
            laneId: lane,
            encodingHash: hashOf(c),
            atBeat: Math.abs(b),
            durationBeats: 1 + (c % 16),
            spec: regionSpec([0, 1 + (c % 32), 0, 1], { period: 1 + (a % 16) }),
          }),
        },
      ];
    case 5:
      return [{ kind: "removeRegion", regionId: region }];
    case 6:
      return [moveRegion(region, b, pick(doc.lanes, c)?.id)];
    case 7:
      return [resizeRegion(region, { durationBeats: b, offsetBeats: c % 8 })];
    case 8:
      return [
        {
          kind: "addHead",
          head: newHead(ids, {
            positionBeat: Math.abs(b),
            context: { temperature: 1, topP: 1, seed: c, style: "x" },
          }),
        },
      ];
    case 9:
      return [{ kind: "removeHead", headId: head }];
    case 10:
      return [{ kind: "updateHead", headId: head, changes: { positionBeat: b, rate: 1 + (c % 4) } }];
    case 11:
      return [{ kind: "setTempo", atTick: (c % 64) * 240, bpm: 40 + (a % 200) }];
    case 12:
      return [{ kind: "removeTempo", atTick: pick(doc.tempoMap.tempos, c)?.atTick ?? 0 }];
    case 13:
      return [
        { kind: "setMeter", atTick: (c % 8) * 1920, numerator: 1 + (a % 12), denominator: [2, 4, 8][c % 3]! },
      ];
    case 14:
      return [{ kind: "removeMeter", atTick: pick(doc.tempoMap.meters, c)?.atTick ?? 0 }];
    case 15:
      return [{ kind: "setGrid", beatsPerCanvasFrame: [0.25, 0.5, 1, 1 / 3, -1][c % 5]! }];
    case 19: {
      // Some pairs are taken, some are self-connections or name missing regions: rejected.
      const dst = pick(doc.regions, c)?.id ?? "no-region";
      return [
        connectRegions(region, dst, {
          weight: (c % 5) * 0.5,
          temporalFill: (["hold", "drop", "interpolate"] as const)[a % 3]!,
          interpolationOrder: 1 + (c % 3),
        }),
      ];
    }
    case 20: {
      const conn = pick(doc.connections, a);
      return [
        {
          kind: "removeConnection",
          srcRegionId: conn?.srcRegionId ?? region,
          dstRegionId: conn?.dstRegionId ?? "no-region",
        },
      ];
    }
    case 21: {
      const conn = pick(doc.connections, a);
      return [
        {
          kind: "setConnection",
          srcRegionId: conn?.srcRegionId ?? region,
          dstRegionId: conn?.dstRegionId ?? "no-region",
          changes: { weight: b, temporalFill: (["hold", "drop", "interpolate"] as const)[c % 3]! },
        },
      ];
    }
    default:
      return [
        {
          kind: "batch",
          commands: [
            { kind: "updateRegion", regionId: region, changes: { gainDb: -6 } },
            { kind: "updateLane", laneId: lane, changes: { mute: true } },
          ],
        },
      ];
  }
}

function runIntents(editor: DocumentEditor, intents: readonly Intent[], ids: IdSource): void {
  for (const intent of intents) {
    const before = editor.document;
    try {
      if (intent.op === 16) {
        const drag = editor.beginGesture("drag");
        const region = pick(editor.document.regions, intent.a)?.id ?? "no-region";
        try {
          for (let step = 1; step <= 3; step++) drag.preview(moveRegion(region, Math.abs(intent.b) + step));
        } finally {
          if (intent.commit) drag.commit();
          else drag.cancel();
        }
      } else if (intent.op === 17) {
        editor.undo();
      } else if (intent.op === 18) {
        editor.redo();
      } else {
        editor.apply(commandsFor(editor.document, intent, ids));
      }
    } catch (error) {
      if (!(error instanceof DocumentError)) throw error;
      // A rejected edit leaves the document exactly as it was (a failed drag keeps only committed previews).
      if (intent.op !== 16) expect(editor.document).toBe(before);
    }
  }
}

describe("history properties", () => {
  it("for any edit sequence, undo-all gives back the original (same bytes) and redo-all the final document", () => {
    const original = sampleDocument(8);
    const originalText = serializeProject(original);
    fc.assert(
      fc.property(fc.array(intentArb, { minLength: 1, maxLength: 60, size: "max" }), (intents) => {
        let n = 0;
        const ids: IdSource = (kind) => `${kind}-p${++n}`;
        const editor = new DocumentEditor(original);
        runIntents(editor, intents, ids);
        const final = editor.document;
        const finalText = serializeProject(final);
        expect(parseProject(finalText)).toEqual(final);

        let undone = 0;
        while (editor.undo()) undone++;
        expect(editor.document).toEqual(original);
        expect(serializeProject(editor.document)).toBe(originalText);

        for (let i = 0; i < undone; i++) expect(editor.redo()).toBe(true);
        expect(editor.document).toEqual(final);
        expect(serializeProject(editor.document)).toBe(finalText);
      }),
      { numRuns: 200 },
    );
  });

  it("undo keeps untouched entities shared (no whole-project copies)", () => {
    const original = sampleDocument(50);
    const editor = new DocumentEditor(original);
    editor.apply(moveRegion("region-10", 99));
    editor.undo();
    // region-10 (index 9) was touched: equal again; its neighbours were never copied.
    expect(editor.document.regions[9]).toEqual(original.regions[9]);
    expect(editor.document.regions[8]).toBe(original.regions[8]);
    expect(editor.document.regions[10]).toBe(original.regions[10]);
    expect(editor.document.lanes).toBe(original.lanes);
    expect(editor.document.heads).toBe(original.heads);
    expect(editor.document.tempoMap).toBe(original.tempoMap);
  });
});
