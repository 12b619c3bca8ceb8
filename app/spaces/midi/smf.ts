// Standard MIDI File (SMF) import and export for the `midi` space: bytes <-> MidiSequence.
// Import validates every byte itself first (@tonejs/midi is lenient), then lets @tonejs/midi pair notes.
// Export writes SMF type 1 itself so tempo (microseconds per quarter) and velocities round-trip exactly.
// Called by the import pipeline (app/spaces/import.ts), the ABC projection's consumers and the CLI.
import { createRequire } from "node:module";
import { EncodingError, guardParse } from "../errors";
import type {
  MidiControlChange,
  MidiNote,
  MidiPitchBend,
  MidiSequence,
  MidiTempoChange,
  MidiTrack,
} from "./sequence";

type ToneMidiModule = typeof import("@tonejs/midi");
const tone = createRequire(import.meta.url)("@tonejs/midi") as ToneMidiModule;

const MAX_TRACKS = 4096;
const MAX_EVENTS = 4_000_000;

export interface SmfInfo {
  readonly format: 0 | 1;
  readonly ppq: number;
  readonly trackChunks: number;
  /** Chunks other than MThd/MTrk that were skipped. */
  readonly skippedChunks: number;
  readonly sysexEvents: number;
  /** Latest end-of-track tick over all tracks. */
  readonly endTick: number;
  /**
   * The file rebuilt as format 1 for the parser: an empty first track, then every MTrk cut at its end-of-track
   * event; a track whose channel messages use several channels is split into one track of its other events and
   * one track per channel (with the track's name), so each rebuilt track plays on one channel.
   */
  readonly cleanBytes: Uint8Array;
  /** Per track of `cleanBytes`: the one channel its channel messages use, or -1 (none). */
  readonly cleanTrackChannels: readonly number[];
}

/** One event of a track, with its status byte written out (no running status). */
interface WalkedEvent {
  readonly tick: number;
  readonly bytes: Uint8Array;
  /** Channel of a channel message, -1 for meta and sysex events. */
  readonly channel: number;
  /** A track-name meta event (copied into every part of a split track). */
  readonly isName: boolean;
}

function trackChunkOf(events: readonly WalkedEvent[], endTick: number): Uint8Array {
  const body: number[] = [];
  let tick = 0;
  const delta = (value: number) => {
    const out = [value & 0x7f];
    for (let rest = Math.floor(value / 128); rest > 0; rest = Math.floor(rest / 128))
      out.unshift((rest & 0x7f) | 0x80);
    body.push(...out);
  };
  for (const event of events) {
    delta(event.tick - tick);
    tick = event.tick;
    for (const b of event.bytes) body.push(b);
  }
  delta(Math.max(0, endTick - tick));
  body.push(0xff, 0x2f, 0x00);
  const chunk = new Uint8Array(8 + body.length);
  chunk.set([0x4d, 0x54, 0x72, 0x6b]);
  new DataView(chunk.buffer).setUint32(4, body.length);
  chunk.set(body, 8);
  return chunk;
}

function fourCc(bytes: Uint8Array, at: number): string {
  return String.fromCharCode(bytes[at]!, bytes[at + 1]!, bytes[at + 2]!, bytes[at + 3]!);
}

function printable(tag: string): string {
  return /^[\x20-\x7e]{4}$/.test(tag) ? `"${tag}"` : "binary data";
}

/** Checks the whole file against the SMF rules; throws EncodingError naming the file and the problem. */
export function validateSmf(bytes: Uint8Array, file: string): SmfInfo {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const fail = (problem: string): never => {
    throw new EncodingError(
      file,
      problem,
      "The MIDI file is damaged or not a Standard MIDI File; re-export it",
    );
  };
  if (bytes.length < 14) fail(`too short for a MIDI file (${bytes.length} bytes, a header alone is 14)`);
  const magic = fourCc(bytes, 0);
  if (magic !== "MThd") fail(`not a Standard MIDI File: starts with ${printable(magic)}, not "MThd"`);
  const headerLength = view.getUint32(4);
  if (headerLength < 6) fail(`MIDI header length is ${headerLength}, must be at least 6`);
  if (8 + headerLength > bytes.length)
    fail(`MIDI header length ${headerLength} runs past the end of the file`);
  const format = view.getUint16(8);
  const declaredTracks = view.getUint16(10);
  const division = view.getUint16(12);
  if (format === 2) fail("SMF format 2 (independent sequences) is not supported; convert it to format 1");
  if (format !== 0 && format !== 1) fail(`unknown SMF format ${format} (expected 0 or 1)`);
  if (division & 0x8000) fail("SMPTE time division is not supported; re-export with ticks per quarter note");
  if (division === 0) fail("ticks per quarter note is 0");
  if (declaredTracks === 0) fail("the header declares no tracks");
  if (format === 0 && declaredTracks !== 1)
    fail(`SMF format 0 must have 1 track, the header says ${declaredTracks}`);
  if (declaredTracks > MAX_TRACKS)
    fail(`the header declares ${declaredTracks} tracks (more than ${MAX_TRACKS})`);

  // The parser drops a first track without notes (format 1): this empty one, so no track of the file is lost.
  const cleanChunks: Uint8Array[] = [trackChunkOf([], 0)];
  const cleanTrackChannels: number[] = [-1];
  let pos = 8 + headerLength;
  let trackChunks = 0;
  let skippedChunks = 0;
  let sysexEvents = 0;
  let events = 0;
  let endTick = 0;
  while (pos < bytes.length && trackChunks < declaredTracks) {
    if (pos + 8 > bytes.length) fail(`truncated chunk header at byte ${pos}`);
    const tag = fourCc(bytes, pos);
    const length = view.getUint32(pos + 4);
    const start = pos + 8;
    if (start + length > bytes.length) {
      fail(
        `chunk ${printable(tag)} at byte ${pos} declares ${length} bytes but only ${bytes.length - start} remain`,
      );
    }
    pos = start + length;
    if (tag !== "MTrk") {
      skippedChunks += 1;
      continue;
    }
    const track = trackChunks;
    trackChunks += 1;
    const end = start + length;
    let at = start;
    let tick = 0;
    let runningStatus = -1;
    const walked: WalkedEvent[] = [];
    const where = () => `track ${track}, byte ${at}`;
    const readVlq = (what: string): number => {
      let value = 0;
      for (let i = 0; i < 4; i++) {
        if (at >= end) fail(`${what} runs past the end of the track chunk (${where()})`);
        const b = bytes[at++]!;
        value = value * 128 + (b & 0x7f);
        if ((b & 0x80) === 0) return value;
      }
      return fail(`${what} is longer than 4 bytes (${where()})`);
    };
    while (at < end) {
      events += 1;
      if (events > MAX_EVENTS) fail(`more than ${MAX_EVENTS} events`);
      tick += readVlq("delta time");
      if (at >= end) fail(`event missing after its delta time (${where()})`);
      let status = bytes[at]!;
      const eventStart = at;
      if (status === 0xff) {
        if (at + 2 > end) fail(`meta event truncated (${where()})`);
        const type = bytes[at + 1]!;
        at += 2;
        const dataLength = readVlq("meta event length");
        if (at + dataLength > end)
          fail(`meta event of ${dataLength} bytes runs past the end of the track (${where()})`);
        const expected: Record<number, number[]> = {
          0: [2],
          32: [1],
          33: [1],
          47: [0],
          81: [3],
          84: [5],
          88: [4, 2],
          89: [2],
        };
        const allowed = expected[type];
        if (allowed && !allowed.includes(dataLength)) {
          fail(
            `meta event 0x${type.toString(16)} has length ${dataLength}, expected ${allowed.join(" or ")} (${where()})`,
          );
        }
        if (type === 0x51 && bytes[at]! * 65536 + bytes[at + 1]! * 256 + bytes[at + 2]! === 0) {
          fail(`tempo of 0 microseconds per quarter note (${where()})`);
        }
        if (type === 0x58 && (bytes[at]! === 0 || bytes[at + 1]! > 6)) {
          fail(`meter ${bytes[at]}/2^${bytes[at + 1]} is not valid (${where()})`);
        }
        at += dataLength;
        if (type === 0x2f) break;
        walked.push({ tick, bytes: bytes.subarray(eventStart, at), channel: -1, isName: type === 0x03 });
      } else if (status === 0xf0 || status === 0xf7) {
        at += 1;
        const dataLength = readVlq("sysex length");
        if (at + dataLength > end)
          fail(`sysex event of ${dataLength} bytes runs past the end of the track (${where()})`);
        at += dataLength;
        sysexEvents += 1;
        walked.push({ tick, bytes: bytes.subarray(eventStart, at), channel: -1, isName: false });
      } else if (status >= 0xf1) {
        fail(`system message 0x${status.toString(16)} is not allowed in a MIDI file (${where()})`);
      } else {
        if (status < 0x80) {
          if (runningStatus < 0) fail(`running status without a prior status byte (${where()})`);
          status = runningStatus;
        } else {
          runningStatus = status;
          at += 1;
        }
        const kind = status >> 4;
        const dataBytes = kind === 0xc || kind === 0xd ? 1 : 2;
        if (at + dataBytes > end) fail(`channel message truncated (${where()})`);
        for (let i = 0; i < dataBytes; i++) {
          if (bytes[at + i]! >= 0x80)
            fail(`data byte 0x${bytes[at + i]!.toString(16)} has its top bit set (${where()})`);
        }
        const message = new Uint8Array(1 + dataBytes);
        message[0] = status;
        message.set(bytes.subarray(at, at + dataBytes), 1);
        walked.push({ tick, bytes: message, channel: status & 0x0f, isName: false });
        at += dataBytes;
      }
    }
    endTick = Math.max(endTick, tick);
    const channels = [...new Set(walked.filter((e) => e.channel >= 0).map((e) => e.channel))];
    if (channels.length <= 1) {
      cleanChunks.push(trackChunkOf(walked, tick));
      cleanTrackChannels.push(channels[0] ?? -1);
    } else {
      const others = walked.filter((e) => e.channel < 0);
      if (others.some((e) => !e.isName)) {
        cleanChunks.push(trackChunkOf(others, tick));
        cleanTrackChannels.push(-1);
      }
      for (const channel of channels) {
        cleanChunks.push(
          trackChunkOf(
            walked.filter((e) => e.isName || e.channel === channel),
            tick,
          ),
        );
        cleanTrackChannels.push(channel);
      }
    }
  }
  if (trackChunks < declaredTracks) {
    fail(`the header declares ${declaredTracks} tracks but the file has ${trackChunks}; it may be truncated`);
  }
  if (cleanChunks.length > 0xffff)
    fail(`${trackChunks} tracks use ${cleanChunks.length - 1} track-channel pairs (at most 65535)`);
  const total = 14 + cleanChunks.reduce((sum, c) => sum + c.length, 0);
  const cleanBytes = new Uint8Array(total);
  cleanBytes.set(bytes.subarray(0, 14));
  const cleanView = new DataView(cleanBytes.buffer);
  cleanView.setUint32(4, 6);
  cleanView.setUint16(8, 1);
  cleanView.setUint16(10, cleanChunks.length);
  let out = 14;
  for (const c of cleanChunks) {
    cleanBytes.set(c, out);
    out += c.length;
  }
  return {
    format: format === 0 ? 0 : 1,
    ppq: division,
    trackChunks,
    skippedChunks,
    sysexEvents,
    endTick,
    cleanBytes,
    cleanTrackChannels,
  };
}

/** Parses an SMF (type 0 or 1) into a MidiSequence; one MidiTrack per (track, channel, program). */
export function importMidi(bytes: Uint8Array, file: string): { sequence: MidiSequence; info: SmfInfo } {
  const info = validateSmf(bytes, file);
  const midi = guardParse(file, "MIDI file", () => new tone.Midi(info.cleanBytes));
  const tempos: MidiTempoChange[] = midi.header.tempos
    .map((t) => ({ tick: t.ticks, bpm: t.bpm }))
    .sort((a, b) => a.tick - b.tick);
  if (tempos.length === 0 || tempos[0]!.tick !== 0) tempos.unshift({ tick: 0, bpm: 120 });
  const meters = midi.header.timeSignatures
    .map((m) => ({ tick: m.ticks, numerator: m.timeSignature[0] ?? 4, denominator: m.timeSignature[1] ?? 4 }))
    .sort((a, b) => a.tick - b.tick);
  if (meters.length === 0 || meters[0]!.tick !== 0) meters.unshift({ tick: 0, numerator: 4, denominator: 4 });
  let lastNoteEnd = 0;
  // The parser drops the empty first track of cleanBytes; a track without notes would get channel 0 from it.
  if (midi.tracks.length !== info.cleanTrackChannels.length - 1) {
    throw new EncodingError(
      file,
      `the MIDI parser read ${midi.tracks.length} tracks where ${info.cleanTrackChannels.length - 1} were expected`,
      "Report this file as a bug; re-exporting it from another program may help",
    );
  }
  const tracks: MidiTrack[] = midi.tracks
    .map((t, index) => ({ t, channel: info.cleanTrackChannels[index + 1]! }))
    .filter(
      ({ t }) => t.notes.length > 0 || Object.keys(t.controlChanges).length > 0 || t.pitchBends.length > 0,
    )
    .map(({ t, channel }) => {
      const notes: MidiNote[] = t.notes
        .map((n) => ({
          pitch: n.midi,
          velocity: Math.round(n.velocity * 127),
          startTick: n.ticks,
          durationTicks: n.durationTicks,
        }))
        .sort((a, b) => a.startTick - b.startTick || a.pitch - b.pitch);
      for (const n of notes) lastNoteEnd = Math.max(lastNoteEnd, n.startTick + n.durationTicks);
      const controlChanges: MidiControlChange[] = Object.values(t.controlChanges)
        .flat()
        .map((c) => ({ tick: c.ticks, controller: c.number, value: Math.round(c.value * 127) }))
        .sort((a, b) => a.tick - b.tick || a.controller - b.controller);
      // @tonejs/midi gives the wheel as raw / 8192; back to the 14-bit centred value, exactly.
      const pitchBends: MidiPitchBend[] = t.pitchBends
        .map((b) => ({ tick: b.ticks, value: Math.round(b.value * 8192) }))
        .sort((a, b) => a.tick - b.tick);
      return {
        name: t.name,
        channel: channel >= 0 ? channel : t.channel,
        program: t.instrument.number,
        notes,
        controlChanges,
        ...(pitchBends.length > 0 ? { pitchBends } : {}),
      };
    });
  const sequence: MidiSequence = {
    ppq: info.ppq,
    tempos,
    meters,
    tracks,
    durationTicks: Math.max(lastNoteEnd, info.endTick),
  };
  return { sequence, info };
}

class ByteSink {
  #bytes: number[] = [];
  push(...values: number[]): void {
    for (const v of values) this.#bytes.push(v & 0xff);
  }
  pushAll(values: Uint8Array): void {
    for (const v of values) this.#bytes.push(v);
  }
  vlq(value: number): void {
    const groups = [value & 0x7f];
    let rest = Math.floor(value / 128);
    while (rest > 0) {
      groups.unshift((rest & 0x7f) | 0x80);
      rest = Math.floor(rest / 128);
    }
    this.push(...groups);
  }
  text(s: string): void {
    const encoded = new TextEncoder().encode(s);
    this.vlq(encoded.length);
    this.pushAll(encoded);
  }
  get length(): number {
    return this.#bytes.length;
  }
  toArray(): number[] {
    return this.#bytes;
  }
}

interface TimedEvent {
  readonly tick: number;
  /** Sort rank at equal ticks: meta first, then note-offs, controllers/programs, then note-ons. */
  readonly rank: number;
  readonly write: (sink: ByteSink) => void;
}

function trackChunk(events: TimedEvent[], endTick: number): Uint8Array {
  const sorted = events
    .map((e, i) => ({ e, i }))
    .sort((a, b) => a.e.tick - b.e.tick || a.e.rank - b.e.rank || a.i - b.i);
  const sink = new ByteSink();
  let now = 0;
  for (const { e } of sorted) {
    sink.vlq(e.tick - now);
    now = e.tick;
    e.write(sink);
  }
  sink.vlq(Math.max(0, endTick - now));
  sink.push(0xff, 0x2f, 0x00);
  const chunk = new Uint8Array(8 + sink.length);
  chunk.set([0x4d, 0x54, 0x72, 0x6b]);
  new DataView(chunk.buffer).setUint32(4, sink.length);
  chunk.set(sink.toArray(), 8);
  return chunk;
}

function log2Denominator(denominator: number): number {
  const exponent = Math.round(Math.log2(denominator));
  if (2 ** exponent !== denominator || exponent < 0 || exponent > 6) {
    throw new EncodingError("<export>", `meter denominator ${denominator} is not a power of two up to 64`);
  }
  return exponent;
}

/** Writes SMF type 1: a conductor track (tempo map, meters) then one track per MidiTrack. */
export function writeMidi(sequence: MidiSequence): Uint8Array {
  if (!Number.isInteger(sequence.ppq) || sequence.ppq < 1 || sequence.ppq > 0x7fff) {
    throw new EncodingError("<export>", `ppq ${sequence.ppq} cannot be written to a MIDI file (1..32767)`);
  }
  const conductor: TimedEvent[] = [];
  for (const t of sequence.tempos) {
    const microseconds = Math.min(0xffffff, Math.max(1, Math.round(60_000_000 / t.bpm)));
    conductor.push({
      tick: t.tick,
      rank: 0,
      write: (s) => s.push(0xff, 0x51, 3, microseconds >> 16, microseconds >> 8, microseconds),
    });
  }
  for (const m of sequence.meters) {
    const exponent = log2Denominator(m.denominator);
    conductor.push({
      tick: m.tick,
      rank: 0,
      write: (s) => s.push(0xff, 0x58, 4, m.numerator, exponent, 24, 8),
    });
  }
  const chunks: Uint8Array[] = [trackChunk(conductor, sequence.durationTicks)];
  for (const track of sequence.tracks) {
    const ch = track.channel & 0x0f;
    const events: TimedEvent[] = [];
    if (track.name)
      events.push({
        tick: 0,
        rank: 0,
        write: (s) => {
          s.push(0xff, 0x03);
          s.text(track.name);
        },
      });
    events.push({ tick: 0, rank: 2, write: (s) => s.push(0xc0 | ch, track.program & 0x7f) });
    for (const c of track.controlChanges) {
      events.push({
        tick: c.tick,
        rank: 2,
        write: (s) => s.push(0xb0 | ch, c.controller & 0x7f, c.value & 0x7f),
      });
    }
    for (const b of track.pitchBends ?? []) {
      const raw = Math.min(16383, Math.max(0, Math.round(b.value) + 8192));
      events.push({ tick: b.tick, rank: 2, write: (s) => s.push(0xe0 | ch, raw & 0x7f, raw >> 7) });
    }
    let end = 0;
    for (const n of track.notes) {
      const off = n.startTick + n.durationTicks;
      end = Math.max(end, off);
      const velocity = Math.min(127, Math.max(1, Math.round(n.velocity)));
      events.push({ tick: n.startTick, rank: 3, write: (s) => s.push(0x90 | ch, n.pitch & 0x7f, velocity) });
      events.push({ tick: off, rank: 1, write: (s) => s.push(0x80 | ch, n.pitch & 0x7f, 0) });
    }
    chunks.push(trackChunk(events, end));
  }
  const out = new Uint8Array(14 + chunks.reduce((sum, c) => sum + c.length, 0));
  out.set([0x4d, 0x54, 0x68, 0x64, 0, 0, 0, 6, 0, 1, chunks.length >> 8, chunks.length & 0xff]);
  out.set([sequence.ppq >> 8, sequence.ppq & 0xff], 12);
  let at = 14;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}
