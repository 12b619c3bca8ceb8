// Shared test fixtures: deterministic documents built through the public document API.
import { regionSpec } from "../../../app/core/canvas/region-spec";
import {
  applyCommands,
  type Command,
  connectRegions,
  emptyDocument,
  newHead,
  newLane,
  newRegion,
  type ProjectDocument,
  sequentialIds,
} from "../../../app/core/document";
import { createTempoMap } from "../../../app/core/time/tempo-map";

export function hashOf(n: number): string {
  return n.toString(16).padStart(8, "0").repeat(4);
}

/** Two tempos (120 bpm for 4 beats, then 60), 3 lanes, 2 heads and `regionCount` regions. */
export function sampleDocument(regionCount = 6): ProjectDocument {
  const ids = sequentialIds();
  const tempoMap = createTempoMap(
    [
      { atTick: 0, bpm: 120 },
      { atTick: 3840, bpm: 60 },
    ],
    [
      { atTick: 0, numerator: 4, denominator: 4 },
      { atTick: 7680, numerator: 6, denominator: 8 },
    ],
  );
  const lanes = [
    newLane(ids, { name: "Drums", color: "#ff0000" }),
    newLane(ids, { name: "Bass", pan: -0.5, gainDb: -3 }),
    newLane(ids, { name: "Chords", mute: true }),
  ];
  const commands: Command[] = lanes.map((lane) => ({ kind: "addLane", lane }));
  for (let i = 0; i < regionCount; i++) {
    commands.push({
      kind: "addRegion",
      region: newRegion(ids, {
        laneId: lanes[i % 3]!.id,
        encodingHash: hashOf(i + 1),
        name: `Region ${i}`,
        atBeat: i * 2,
        durationBeats: 4 + (i % 5),
        offsetBeats: i % 3,
        spec: regionSpec([i, i + 16, i % 3, (i % 3) + 1, 0, 1], {
          period: [1, 4, 16][i % 3]!,
          is_output: i % 2 === 0,
        }),
      }),
    });
  }
  if (regionCount >= 4) {
    commands.push(
      connectRegions("region-1", "region-2"),
      connectRegions("region-1", "region-3", { temporalFill: "interpolate", weight: 0.5 }),
      connectRegions("region-3", "region-2", { temporalFill: "drop", interpolationOrder: 2 }),
      connectRegions("region-4", "region-1", { temporalFill: "hold", weight: 2 }),
    );
  }
  commands.push(
    { kind: "addHead", head: newHead(ids, { name: "Main" }) },
    {
      kind: "addHead",
      head: newHead(ids, {
        name: "Dream",
        rate: 0.5,
        loopEnabled: true,
        loopStartBeat: 4,
        loopEndBeat: 12,
        context: { temperature: 0.8, topP: 0.9, seed: 42, style: [0.1, -0.2, 0.3] },
      }),
    },
  );
  return applyCommands(emptyDocument(tempoMap), commands).document;
}
