// Maps the mixer part of a project document (lane gain/pan/mute/solo, head gain/mute/solo, head loop ranges)
// into the engine's control block, and tells mixer-only edits apart from edits that change what is rendered.
// Owned by app/host; called by the session (app/host/session.ts) and the bounce (app/host/bounce.ts).
import type { ControlBlock } from "../audio/control-block";
import type { AttentionHead, Lane, ProjectDocument } from "../core/document";
import { dbToGain } from "../core/gain";
import { beatToFrame } from "../core/time/tempo-map";

export { dbToGain };

export function applyLaneControls(control: ControlBlock, lanes: readonly Lane[]): void {
  if (lanes.length > control.layout.maxLanes) {
    throw new RangeError(
      `the project has ${lanes.length} lanes but the engine was opened for ${control.layout.maxLanes}: reopen the project`,
    );
  }
  for (const [index, lane] of lanes.entries()) {
    control.setLaneGain(index, dbToGain(lane.gainDb));
    control.setLanePan(index, lane.pan);
    control.setLaneMute(index, lane.mute);
    control.setLaneSolo(index, lane.solo);
  }
  for (let index = lanes.length; index < control.layout.maxLanes; index++) {
    control.setLaneMute(index, true);
    control.setLaneSolo(index, false);
  }
}

/** Loop range of a head in timeline frames (through the tempo map). */
export function headLoopFrames(
  document: ProjectDocument,
  head: AttentionHead,
  sampleRate: number,
): { startFrames: number; endFrames: number; enabled: boolean } {
  const startFrames = beatToFrame(document.tempoMap, head.loopStartBeat, sampleRate);
  const endFrames = beatToFrame(document.tempoMap, head.loopEndBeat, sampleRate);
  return { startFrames, endFrames, enabled: head.loopEnabled && endFrames > startFrames };
}

export interface HeadControlOptions {
  /** Bounces ignore loop ranges: they render [0, end) once. */
  readonly loops: boolean;
  /** The engine head slot of a head id (default: its index in the document). */
  readonly slotOf?: (headId: string) => number;
}

export function applyHeadControls(
  control: ControlBlock,
  document: ProjectDocument,
  sampleRate: number,
  options: HeadControlOptions,
): void {
  const slotOf = options.slotOf ?? ((headId: string) => document.heads.findIndex((h) => h.id === headId));
  if (document.heads.length > control.layout.maxHeads) {
    throw new RangeError(
      `the project has ${document.heads.length} attention heads but the engine was opened for ${control.layout.maxHeads}: reopen the project`,
    );
  }
  for (const head of document.heads) {
    const index = slotOf(head.id);
    control.setHeadGain(index, dbToGain(head.gainDb));
    control.setHeadMute(index, head.mute);
    control.setHeadSolo(index, head.solo);
    const loop = headLoopFrames(document, head, sampleRate);
    control.setHeadLoop(index, options.loops ? loop : { ...loop, enabled: false });
  }
}

function sameLaneContent(a: Lane, b: Lane): boolean {
  return a.id === b.id;
}

function sameHeadContent(a: AttentionHead, b: AttentionHead): boolean {
  return a.id === b.id && a.rate === b.rate && a.context === b.context;
}

/**
 * True when `next` differs from `previous` only in mixer or transport fields (lane gain/pan/mute/solo/name/colour,
 * head gain/mute/solo/position/loop/name/colour): such an edit is a control-block change, never a re-render.
 */
export function isMixerOnlyChange(previous: ProjectDocument, next: ProjectDocument): boolean {
  if (previous.tempoMap !== next.tempoMap || previous.grid !== next.grid) return false;
  if (previous.regions !== next.regions || previous.connections !== next.connections) return false;
  if (previous.lanes.length !== next.lanes.length || previous.heads.length !== next.heads.length)
    return false;
  for (let i = 0; i < next.lanes.length; i++) {
    if (!sameLaneContent(previous.lanes[i]!, next.lanes[i]!)) return false;
  }
  for (let i = 0; i < next.heads.length; i++) {
    if (!sameHeadContent(previous.heads[i]!, next.heads[i]!)) return false;
  }
  return true;
}
