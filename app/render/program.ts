// Lane programs: what one (lane, realization) stream plays, resolved from the project document into frames of
// project time, and the content-addressed stream key of each. Owned by app/render; called by the lookahead
// renderer (index.ts) on the main thread. Programs are plain data so they can be posted to render workers.
import type { AttentionHead, ProjectDocument, Region } from "../core/document";
import { dbToGain } from "../core/gain";
import { beatToFrame } from "../core/time/tempo-map";
import { parseAbc } from "../spaces/abc/parse";
import { loadAudio } from "../spaces/import";
import type { MidiNote, MidiPitchBend, MidiSequence, MidiTrack } from "../spaces/midi/sequence";
import { importMidi } from "../spaces/midi/smf";
import { chooseSynth } from "../spaces/synth/backend";
import { TempoMap } from "../spaces/synth/events";
import { BLOCK_FRAMES } from "../spaces/synth/renderer";
import { hashBytes } from "../store/hash";
import type { ArtifactGraph, ContentStore } from "../store/types";
import type { RealizeGenerative } from "./types";

/**
 * Part of every stream key. Bump it whenever the audio a program renders to changes (synthesizer, mixing, fades):
 * pages of older keys in a kept canvas file are then never reused. The synthesizer's name and version are part of
 * the key too (`synth`), so pages of FluidSynth and spessasynth never pass for each other.
 */
export const RENDER_VERSION = 2;
/** Ticks per quarter note of a lane sequence (the project tempo map's resolution). */
export const LANE_PPQ = 960;
/** Release rendered after a lane's last MIDI event. */
export const TAIL_SECONDS = 2;
/** Linear fade at both edges of an audio region, so a region cut inside sound does not click. */
export const FADE_SECONDS = 0.003;

export interface AudioClip {
  /** Content hash of the encoding (names the audio; the samples travel in `channelData`). */
  readonly hash: string;
  /** Project frames [startFrame, endFrame) the clip sounds in. */
  readonly startFrame: number;
  readonly endFrame: number;
  /** Source frame heard at `startFrame`. */
  readonly sourceOffsetFrames: number;
  /** Linear gain, float32. */
  readonly gain: number;
  readonly fadeFrames: number;
  /** Decoded at the project rate; one or two planes (more are ignored). */
  readonly channelData: readonly Float32Array[];
}

export interface LaneProgram {
  readonly key: bigint;
  /** The lane's MIDI regions as one sequence in project time (ppq 960, project tempo map); null if none. */
  readonly sequence: MidiSequence | null;
  /** Audio regions in mixing order (atBeat, then region id). */
  readonly clips: readonly AudioClip[];
  /** Frame after which the stream is silence (release tails included). */
  readonly endFrame: number;
}

export interface ProgramSettings {
  readonly sampleRate: number;
  readonly channels: number;
  readonly framesPerPage: number;
  /** Identity of the SoundFont (hash of its bytes): part of every key that uses it. */
  readonly soundfontId: string;
}

export class RenderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "RenderError";
  }
}

export function isGenerative(region: Region): boolean {
  return region.spec.is_output && region.spec.carrier === "diffusive";
}

const fround = Math.fround;

/** Loads and caches encodings (parsed MIDI, decoded audio) by content hash. */
export class EncodingCache {
  readonly #store: ContentStore;
  readonly #graph: ArtifactGraph;
  readonly #sampleRate: number;
  readonly #midi = new Map<string, Promise<MidiSequence>>();
  readonly #audio = new Map<string, Promise<readonly Float32Array[]>>();
  readonly #space = new Map<string, Promise<string>>();

  constructor(store: ContentStore, graph: ArtifactGraph, sampleRate: number) {
    this.#store = store;
    this.#graph = graph;
    this.#sampleRate = sampleRate;
  }

  space(region: Region): Promise<string> {
    const hash = region.encodingHash;
    let found = this.#space.get(hash);
    if (!found) {
      found = this.#graph.byHash(hash).then((artifacts) => {
        const first = artifacts[0];
        if (!first) {
          throw new RenderError(
            `region "${region.name}" (${region.id}) plays encoding ${hash}, which no artifact of the project's library names; import the file again or remove the region`,
          );
        }
        return first.space;
      });
      this.#space.set(hash, found);
      found.catch(() => this.#space.delete(hash));
    }
    return found;
  }

  sequence(region: Region, space: string): Promise<MidiSequence> {
    const hash = region.encodingHash;
    let found = this.#midi.get(hash);
    if (!found) {
      found = this.#store.get(hash).then((bytes) => {
        const name = `encoding ${hash} of region "${region.name}"`;
        return space === "abc" ? parseAbc(bytes, name).sequence : importMidi(bytes, name).sequence;
      });
      this.#midi.set(hash, found);
      found.catch(() => this.#midi.delete(hash));
    }
    return found;
  }

  audio(region: Region): Promise<readonly Float32Array[]> {
    const hash = region.encodingHash;
    let found = this.#audio.get(hash);
    if (!found) {
      found = this.#graph.byHash(hash).then(async (artifacts) => {
        const artifact = artifacts.find((a) => a.space === "audio") ?? artifacts[0];
        if (!artifact)
          throw new RenderError(`encoding ${hash} of region "${region.name}" is not in the library`);
        const pcm = await loadAudio({ store: this.#store, graph: this.#graph }, artifact, this.#sampleRate);
        // Shared memory: programs posted to every render worker share the samples instead of copying them.
        return pcm.channelData.map((plane) => {
          const shared = new Float32Array(
            new SharedArrayBuffer(plane.length * Float32Array.BYTES_PER_ELEMENT),
          );
          shared.set(plane);
          return shared;
        });
      });
      this.#audio.set(hash, found);
      found.catch(() => this.#audio.delete(hash));
    }
    return found;
  }
}

interface PlacedMidi {
  readonly region: Region;
  readonly sequence: MidiSequence;
}

/** Places MIDI regions into one lane sequence: beat = tick / ppq + atBeat - offsetBeats, clipped to the region. */
export function laneSequence(document: ProjectDocument, placed: readonly PlacedMidi[]): MidiSequence | null {
  if (placed.length === 0) return null;
  const tracks: MidiTrack[] = [];
  let durationTicks = 0;
  // Channels whose wheel moves somewhere on the lane: every region's track on them starts with the wheel position
  // its own material has there (centre unless it bent before the region's start), so a region never plays in the
  // bend a previous region left behind.
  const bentChannels = new Set(
    placed.flatMap(({ sequence }) =>
      sequence.tracks.filter((t) => (t.pitchBends?.length ?? 0) > 0).map((t) => t.channel),
    ),
  );
  for (const { region, sequence } of placed) {
    const startBeat = region.atBeat;
    const endBeat = region.atBeat + region.durationBeats;
    const shift = region.atBeat - region.offsetBeats;
    const velocityGain = dbToGain(region.gainDb);
    for (const track of sequence.tracks) {
      const notes: MidiNote[] = [];
      for (const note of track.notes) {
        const onBeat = note.startTick / sequence.ppq + shift;
        if (onBeat < startBeat || onBeat >= endBeat) continue;
        const offBeat = Math.min(onBeat + note.durationTicks / sequence.ppq, endBeat);
        const startTick = Math.round(onBeat * LANE_PPQ);
        const endTick = Math.max(startTick, Math.round(offBeat * LANE_PPQ));
        const velocity = Math.min(127, Math.max(1, Math.round(note.velocity * velocityGain)));
        notes.push({ pitch: note.pitch, velocity, startTick, durationTicks: endTick - startTick });
        durationTicks = Math.max(durationTicks, endTick);
      }
      const controlChanges = track.controlChanges
        .map((cc) => ({ ...cc, beat: cc.tick / sequence.ppq + shift }))
        .filter((cc) => cc.beat >= startBeat && cc.beat < endBeat)
        .map((cc) => ({ tick: Math.round(cc.beat * LANE_PPQ), controller: cc.controller, value: cc.value }));
      const pitchBends: MidiPitchBend[] = [];
      if (bentChannels.has(track.channel)) {
        let atStart = 0;
        for (const bend of track.pitchBends ?? []) {
          const beat = bend.tick / sequence.ppq + shift;
          if (beat < startBeat) atStart = bend.value;
          else if (beat < endBeat) pitchBends.push({ tick: Math.round(beat * LANE_PPQ), value: bend.value });
        }
        const startTick = Math.round(startBeat * LANE_PPQ);
        if (pitchBends[0]?.tick !== startTick) pitchBends.unshift({ tick: startTick, value: atStart });
      }
      if (notes.length === 0 && controlChanges.length === 0 && pitchBends.length === 0) continue;
      tracks.push({
        name: track.name,
        channel: track.channel,
        program: track.program,
        notes,
        controlChanges,
        ...(pitchBends.length > 0 ? { pitchBends } : {}),
      });
    }
  }
  return {
    ppq: LANE_PPQ,
    tempos: document.tempoMap.tempos.map((t) => ({ tick: t.atTick, bpm: t.bpm })),
    meters: document.tempoMap.meters.map((m) => ({
      tick: m.atTick,
      numerator: m.numerator,
      denominator: m.denominator,
    })),
    tracks,
    durationTicks,
  };
}

export function keyOf(description: unknown): bigint {
  const text = JSON.stringify(description, (_, value) =>
    typeof value === "bigint" ? value.toString() : value,
  );
  const key = BigInt(`0x${hashBytes(new TextEncoder().encode(text)).slice(0, 16)}`);
  return key === 0n ? 1n : key;
}

/** An error of one region's encoding or realization, as a RenderError naming its lane, region and encoding. */
function regionError(error: unknown, region: Region, laneName: string): RenderError {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof RenderError && message.includes(region.id)) {
    return new RenderError(`lane "${laneName}": ${message}`);
  }
  return new RenderError(
    `lane "${laneName}": region "${region.name}" (${region.id}) with encoding ${region.encodingHash} could not be built: ${message}`,
  );
}

/** What a lane plays for one head: builds its program (or null: nothing to play). */
export async function buildLaneProgram(
  document: ProjectDocument,
  laneId: string,
  head: AttentionHead | null,
  settings: ProgramSettings,
  encodings: EncodingCache,
  realize: RealizeGenerative | undefined,
  realizeRequest: { readonly store: ContentStore; readonly graph: ArtifactGraph },
): Promise<LaneProgram | null> {
  const regions = document.regions
    .filter((r) => r.laneId === laneId)
    .sort((a, b) => a.atBeat - b.atBeat || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  if (regions.length === 0) return null;
  const { sampleRate } = settings;
  const placed: PlacedMidi[] = [];
  const clips: AudioClip[] = [];
  const realizations: string[] = [];
  const laneName = document.lanes.find((lane) => lane.id === laneId)?.name ?? laneId;
  for (const region of regions) {
    try {
      await placeRegion(region);
    } catch (error) {
      throw regionError(error, region, laneName);
    }
  }
  async function placeRegion(region: Region): Promise<void> {
    if (isGenerative(region) && realize && head) {
      const realization = await realize({ document, region, head, ...realizeRequest });
      realizations.push(realization.hash);
      placed.push({ region, sequence: realization.sequence });
      return;
    }
    const space = await encodings.space(region);
    if (space === "midi" || space === "abc") {
      placed.push({ region, sequence: await encodings.sequence(region, space) });
    } else if (space === "audio") {
      const channelData = await encodings.audio(region);
      const startFrame = beatToFrame(document.tempoMap, region.atBeat, sampleRate);
      const endFrame = beatToFrame(document.tempoMap, region.atBeat + region.durationBeats, sampleRate);
      const sourceOffsetFrames =
        beatToFrame(document.tempoMap, region.atBeat + region.offsetBeats, sampleRate) - startFrame;
      if (endFrame <= startFrame) return;
      clips.push({
        hash: region.encodingHash,
        startFrame,
        endFrame,
        sourceOffsetFrames,
        gain: fround(dbToGain(region.gainDb)),
        fadeFrames: Math.min(Math.round(FADE_SECONDS * sampleRate), Math.floor((endFrame - startFrame) / 2)),
        channelData,
      });
    } else {
      throw new RenderError(
        `region "${region.name}" (${region.id}) holds a "${space}" encoding, which no projection turns into audio yet; project it to midi, abc or audio first`,
      );
    }
  }
  const sequence = laneSequence(document, placed);
  const midiFrames = sequence ? midiEndFrame(sequence, sampleRate) : 0;
  const endFrame = Math.max(midiFrames, ...clips.map((clip) => clip.endFrame));
  if (!sequence?.tracks.length && clips.length === 0) return null;
  const key = keyOf({
    v: RENDER_VERSION,
    sampleRate,
    channels: settings.channels,
    framesPerPage: settings.framesPerPage,
    soundfont: sequence ? settings.soundfontId : null,
    synth: sequence ? chooseSynth().id : null,
    sequence,
    clips: clips.map(({ channelData: _, ...rest }) => rest),
    realizations,
  });
  return { key, sequence: sequence?.tracks.length ? sequence : null, clips, endFrame };
}

function midiEndFrame(sequence: MidiSequence, sampleRate: number): number {
  const stems = channelEvents(sequence, sampleRate);
  let last = 0;
  for (const events of stems.values()) for (const e of events) last = Math.max(last, e.endFrame);
  return last + Math.round(TAIL_SECONDS * sampleRate);
}

interface FrameEvent {
  readonly frame: number;
  /** The note-off frame of a note; `frame` otherwise. */
  readonly endFrame: number;
  readonly text: string;
}

/** Per MIDI channel, every event at its frame (the synthesizer's own placement: ticks through the tempo map). */
function channelEvents(sequence: MidiSequence, sampleRate: number): Map<number, FrameEvent[]> {
  const tempo = new TempoMap(sequence);
  const frameAt = (tick: number): number => tempo.frameAt(tick, sampleRate);
  const out = new Map<number, FrameEvent[]>();
  for (const track of sequence.tracks) {
    const list = out.get(track.channel) ?? [];
    out.set(track.channel, list);
    list.push({ frame: 0, endFrame: 0, text: `p${track.program}` });
    for (const cc of track.controlChanges) {
      const frame = frameAt(cc.tick);
      list.push({ frame, endFrame: frame, text: `c${cc.controller}:${cc.value}` });
    }
    for (const bend of track.pitchBends ?? []) {
      const frame = frameAt(bend.tick);
      list.push({ frame, endFrame: frame, text: `b${bend.value}` });
    }
    for (const note of track.notes) {
      const on = frameAt(note.startTick);
      const off = Math.max(on + 1, frameAt(note.startTick + note.durationTicks));
      list.push({ frame: on, endFrame: off, text: `n${note.pitch}:${note.velocity}:${off}` });
    }
  }
  for (const list of out.values()) {
    list.sort((a, b) => a.frame - b.frame || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0));
  }
  return out;
}

/**
 * The first frame at which two programs of a lane may sound different: earlier frames are bit-identical, so
 * their pages can be copied. MIDI: the 128-frame block holding the first differing event (spessasynth splits blocks there; FluidSynth moves
 * an event to the nearest 64-frame block edge, never before that block); a new
 * event splits that block); audio: the start of the first clip that differs. Infinity when they are the same.
 */
export function firstChangedFrame(before: LaneProgram, after: LaneProgram, sampleRate: number): number {
  let first = Number.POSITIVE_INFINITY;
  const a = before.sequence ? channelEvents(before.sequence, sampleRate) : new Map<number, FrameEvent[]>();
  const b = after.sequence ? channelEvents(after.sequence, sampleRate) : new Map<number, FrameEvent[]>();
  // A tempo change moves the frames of the events after it: comparing events at frames covers it.
  for (const channel of new Set([...a.keys(), ...b.keys()])) {
    const x = a.get(channel);
    const y = b.get(channel);
    if (!x || !y) {
      // A channel only one side has is silent until its first note.
      const only = (x ?? y)!.filter((e) => e.text.startsWith("n"));
      if (only.length) first = Math.min(first, only[0]!.frame);
      continue;
    }
    const n = Math.min(x.length, y.length);
    let i = 0;
    while (i < n && x[i]!.frame === y[i]!.frame && x[i]!.text === y[i]!.text) i++;
    if (i < n) first = Math.min(first, x[i]!.frame, y[i]!.frame);
    else if (x.length !== y.length) first = Math.min(first, (x[i] ?? y[i])!.frame);
  }
  if (Number.isFinite(first)) first = Math.floor(first / BLOCK_FRAMES) * BLOCK_FRAMES;
  const clipId = (c: AudioClip): string =>
    `${c.hash}:${c.startFrame}:${c.endFrame}:${c.sourceOffsetFrames}:${c.gain}:${c.fadeFrames}`;
  const before_ = new Set(before.clips.map(clipId));
  const after_ = new Set(after.clips.map(clipId));
  for (const clip of before.clips) if (!after_.has(clipId(clip))) first = Math.min(first, clip.startFrame);
  for (const clip of after.clips) if (!before_.has(clipId(clip))) first = Math.min(first, clip.startFrame);
  // Clip sums run in a fixed order; a changed order changes rounding from the earliest clip involved.
  if (
    first === Number.POSITIVE_INFINITY &&
    before.clips.map(clipId).join() !== after.clips.map(clipId).join()
  ) {
    first = Math.min(...before.clips.map((c) => c.startFrame));
  }
  return Math.max(0, first);
}
