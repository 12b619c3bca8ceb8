// Deterministic large documents for the crash test: version k differs from every other version in every region.
import { REGION_SPEC_DEFAULTS } from "../../app/core/canvas/region-spec";
import { checkDocument, type ProjectDocument } from "../../app/core/document";

export function versionDocument(version: number, regionCount: number): ProjectDocument {
  const lanes = Array.from({ length: 16 }, (_, i) => ({
    id: `lane-${i}`,
    name: `Lane ${i} v${version}`,
    color: "#336699",
    gainDb: -((version + i) % 12),
    pan: 0,
    mute: false,
    solo: false,
  }));
  const regions = Array.from({ length: regionCount }, (_, i) => ({
    id: `region-${i}`,
    name: `v${version} r${i}`,
    color: "#aa5500",
    laneId: `lane-${i % 16}`,
    encodingHash: ((version * 7919 + i) >>> 0).toString(16).padStart(8, "0").repeat(4),
    spec: { ...REGION_SPEC_DEFAULTS, bounds: [i, i + 4, i % 16, (i % 16) + 1, 0, 1] },
    atBeat: i * 0.5 + version / 1024,
    durationBeats: 1 + (i % 7),
    offsetBeats: 0,
    gainDb: 0,
  }));
  return checkDocument({
    tempoMap: {
      tempos: [{ atTick: 0, bpm: 60 + (version % 180) }],
      meters: [{ atTick: 0, numerator: 4, denominator: 4 }],
    },
    grid: { beatsPerCanvasFrame: 0.25 },
    lanes,
    heads: [
      {
        id: "head-0",
        name: `version ${version}`,
        color: "#00ff00",
        positionBeat: 0,
        rate: 1,
        loopStartBeat: 0,
        loopEndBeat: 16,
        loopEnabled: false,
        gainDb: 0,
        mute: false,
        solo: false,
        context: { temperature: 1, topP: 1, seed: version, style: null },
      },
    ],
    regions,
  });
}

export function versionOf(document: ProjectDocument): number {
  const match = /^version (\d+)$/.exec(document.heads[0]?.name ?? "");
  if (!match) throw new Error(`not a versioned test document: head name ${document.heads[0]?.name}`);
  return Number(match[1]);
}
