import { describe, expect, it } from "vitest";
import { EncodingError } from "../../../app/spaces/errors";
import { importMidi, validateSmf, writeMidi } from "../../../app/spaces/midi/smf";
import { chunk, multiTrackSmf, smf, trackBody, type0Smf } from "../support/smf-bytes";

function errorOf(fn: () => unknown): EncodingError {
  try {
    fn();
  } catch (error) {
    if (error instanceof EncodingError) return error;
    throw error;
  }
  throw new Error("expected an EncodingError");
}

describe("SMF import", () => {
  it("reads a type-1 file with several tracks and channels, running status, sysex, tempo and meter changes", () => {
    const { sequence, info } = importMidi(multiTrackSmf(), "multi.mid");
    expect(info.skippedChunks).toBe(1);
    expect(info.sysexEvents).toBe(1);
    expect(sequence.ppq).toBe(480);
    expect(sequence.tempos).toEqual([
      { tick: 0, bpm: 120 },
      { tick: 960, bpm: 150 },
      { tick: 2920, bpm: 60_000_000 / 612_345 },
    ]);
    expect(sequence.meters).toEqual([
      { tick: 0, numerator: 4, denominator: 4 },
      { tick: 1920, numerator: 3, denominator: 8 },
    ]);
    const piano = sequence.tracks.find((t) => t.name === "Piano")!;
    expect(piano.channel).toBe(0);
    expect(piano.notes).toEqual([
      { pitch: 60, velocity: 100, startTick: 0, durationTicks: 240 },
      { pitch: 64, velocity: 90, startTick: 0, durationTicks: 240 },
      { pitch: 67, velocity: 127, startTick: 240, durationTicks: 479 },
      { pitch: 72, velocity: 1, startTick: 720, durationTicks: 1234 },
    ]);
    const channels = sequence.tracks.map((t) => t.channel).sort((a, b) => a - b);
    expect(channels).toEqual([0, 1, 2, 9]);
    const drums = sequence.tracks.find((t) => t.channel === 9)!;
    expect(drums.notes.map((n) => [n.pitch, n.startTick, n.durationTicks, n.velocity])).toEqual([
      [36, 0, 120, 110],
      [38, 120, 100, 80],
    ]);
    const lead = sequence.tracks.find((t) => t.channel === 1)!;
    expect(lead.program).toBe(40);
    expect(lead.notes).toEqual([{ pitch: 50, velocity: 70, startTick: 0, durationTicks: 237 }]);
    const bass = sequence.tracks.find((t) => t.channel === 2)!;
    expect(bass.program).toBe(33);
    expect(bass.controlChanges).toEqual([
      { tick: 0, controller: 7, value: 100 },
      { tick: 10, controller: 10, value: 64 },
      { tick: 3015, controller: 7, value: 50 },
    ]);
    expect(sequence.durationTicks).toBe(3015);
  });

  it("reads a type-0 file and splits it into one track per channel", () => {
    const { sequence, info } = importMidi(type0Smf(), "type0.mid");
    expect(info.format).toBe(0);
    expect(sequence.tracks.map((t) => t.channel).sort((a, b) => a - b)).toEqual([0, 3, 9]);
    expect(sequence.tempos).toEqual([
      { tick: 0, bpm: 100 },
      { tick: 48, bpm: 200 },
    ]);
    expect(sequence.meters).toEqual([{ tick: 0, numerator: 6, denominator: 8 }]);
    const ch3 = sequence.tracks.find((t) => t.channel === 3)!;
    expect(ch3.program).toBe(24);
    expect(ch3.notes).toEqual([
      { pitch: 74, velocity: 81, startTick: 0, durationTicks: 96 },
      { pitch: 76, velocity: 50, startTick: 96, durationTicks: 96 },
    ]);
  });
});

describe("SMF round trip", () => {
  for (const [label, bytes] of [
    ["type 1, several tracks and channels", multiTrackSmf()],
    ["type 0", type0Smf()],
  ] as const) {
    it(`import -> export -> import keeps every note, velocity, tempo, meter and tick (${label})`, () => {
      const first = importMidi(bytes, "in.mid").sequence;
      const written = writeMidi(first);
      const second = importMidi(written, "out.mid");
      expect(second.info.format).toBe(1);
      const byChannel = (s: typeof first) => [...s.tracks].sort((a, b) => a.channel - b.channel);
      expect(byChannel(second.sequence)).toEqual(byChannel(first));
      expect(second.sequence.tempos).toEqual(first.tempos);
      expect(second.sequence.meters).toEqual(first.meters);
      expect(second.sequence.ppq).toBe(first.ppq);
      expect(second.sequence.durationTicks).toBe(first.durationTicks);
      expect(writeMidi(second.sequence)).toEqual(written);
    });
  }
});

describe("SMF pitch bends", () => {
  it("imports the pitch wheel of each channel as 14-bit centred values, to the tick, and writes them back", () => {
    // Channel 0: bend up to the top (16383 -> +8191) and back to centre; channel 3: full down (0 -> -8192),
    // with running status for a second bend, then a quarter down (6144 -> -2048).
    const bytes = smf(1, 480, [
      [
        [0, 0x90, 60, 100],
        [120, 0xe0, 0x7f, 0x7f],
        [120, 0xe0, 0x00, 0x40],
        [240, 0x80, 60, 0],
      ],
      [
        [0, 0xc3, 33],
        [0, 0x93, 40, 90],
        [0, 0xe3, 0x00, 0x00],
        [480, 0x00, 0x30],
        [480, 0x83, 40, 0],
      ],
    ]);
    const { sequence } = importMidi(bytes, "bends.mid");
    const byChannel = new Map(sequence.tracks.map((t) => [t.channel, t]));
    expect(byChannel.get(0)!.pitchBends).toEqual([
      { tick: 120, value: 8191 },
      { tick: 240, value: 0 },
    ]);
    expect(byChannel.get(3)!.pitchBends).toEqual([
      { tick: 0, value: -8192 },
      { tick: 480, value: -2048 },
    ]);
    const again = importMidi(writeMidi(sequence), "out.mid").sequence;
    expect(new Map(again.tracks.map((t) => [t.channel, t.pitchBends]))).toEqual(
      new Map(sequence.tracks.map((t) => [t.channel, t.pitchBends])),
    );
    // A track that only bends (no notes) is kept, so its wheel still reaches the synthesizer.
    const onlyBend = importMidi(smf(1, 96, [[], [[0, 0xe5, 0, 0x50]]]), "b.mid").sequence;
    expect(onlyBend.tracks.map((t) => [t.channel, t.pitchBends])).toEqual([[5, [{ tick: 0, value: 2048 }]]]);
  });
});

describe("SMF tracks and channels", () => {
  it("splits a format-1 track that plays on two channels, and keeps a controller-only track's own channel", () => {
    const bytes = smf(1, 96, [
      [[0, 0xff, 0x51, 3, 0x07, 0xa1, 0x20]],
      [
        [0, 0xff, 0x03, 3, 0x4d, 0x69, 0x78], // name "Mix"
        [0, 0xc0, 5],
        [0, 0xc9, 0],
        [0, 0x90, 60, 100],
        [0, 0x99, 36, 110],
        [96, 0x80, 60, 0],
        [0, 0x89, 36, 0],
      ],
      [
        [0, 0xb9, 7, 90],
        [48, 0xb9, 10, 20],
      ],
    ]);
    const { sequence } = importMidi(bytes, "mixed.mid");
    const summary = sequence.tracks.map((t) => ({
      name: t.name,
      channel: t.channel,
      program: t.program,
      pitches: t.notes.map((n) => n.pitch),
      controllers: t.controlChanges.map((c) => c.controller),
    }));
    expect(summary).toEqual([
      { name: "Mix", channel: 0, program: 5, pitches: [60], controllers: [] },
      { name: "Mix", channel: 9, program: 0, pitches: [36], controllers: [] },
      { name: "", channel: 9, program: 0, pitches: [], controllers: [7, 10] },
    ]);
    expect(sequence.tempos).toEqual([{ tick: 0, bpm: 120 }]);
  });
});

describe("SMF validation", () => {
  const good = multiTrackSmf();
  const cases: Array<[string, Uint8Array, RegExp]> = [
    [
      "wrong magic",
      Uint8Array.from([...new TextEncoder().encode("RIFF"), ...good.subarray(4)]),
      /starts with "RIFF"/,
    ],
    ["empty file", new Uint8Array(0), /too short/],
    ["truncated in a track", good.subarray(0, good.length - 30), /declares \d+ bytes but only \d+ remain/],
    [
      "absurd chunk length",
      (() => {
        const b = good.slice();
        b.set([0x7f, 0xff, 0xff, 0xff], 14 + 4);
        return b;
      })(),
      /declares 2147483647 bytes/,
    ],
    [
      "running status without status",
      smf(1, 96, [[[0, 60, 100]]]),
      /running status without a prior status byte \(track 0/,
    ],
    ["data byte with top bit", smf(1, 96, [[[0, 0x90, 60, 0x85]]]), /data byte 0x85/],
    [
      "bad tempo length",
      smf(1, 96, [[[0, 0xff, 0x51, 2, 1, 2]]]),
      /meta event 0x51 has length 2, expected 3/,
    ],
    ["sysex past the end", smf(1, 96, [[[0, 0xf0, 0x7f, 1]]]), /sysex event of 127 bytes runs past/],
    [
      "header declares more tracks",
      Uint8Array.from([...chunk("MThd", [0, 1, 0, 3, 0, 96]), ...chunk("MTrk", trackBody([]))]),
      /declares 3 tracks but the file has 1/,
    ],
    ["SMPTE division", Uint8Array.from(chunk("MThd", [0, 0, 0, 1, 0xe7, 0x28])), /SMPTE/],
    ["format 2", Uint8Array.from(chunk("MThd", [0, 2, 0, 1, 0, 96])), /format 2/],
    [
      "short header",
      Uint8Array.from([...chunk("MThd", [0, 1, 0, 1]), 0, 0, 0, 0, 0, 0]),
      /header length is 4/,
    ],
  ];
  for (const [label, bytes, pattern] of cases) {
    it(`rejects ${label} with an error naming the file and the problem`, () => {
      const error = errorOf(() => importMidi(bytes, "bad.mid"));
      expect(error.message.startsWith("bad.mid: ")).toBe(true);
      expect(error.message).toMatch(pattern);
    });
  }

  it("accepts a track without an end-of-track event and skips unknown chunks", () => {
    const bytes = Uint8Array.from([
      ...chunk("MThd", [0, 1, 0, 1, 0, 96]),
      ...chunk("JUNK", [9, 9, 9]),
      ...chunk(
        "MTrk",
        trackBody(
          [
            [0, 0x90, 60, 100],
            [96, 0x80, 60, 0],
          ],
          false,
        ),
      ),
    ]);
    const info = validateSmf(bytes, "x.mid");
    expect(info.skippedChunks).toBe(1);
    expect(importMidi(bytes, "x.mid").sequence.tracks[0]!.notes).toEqual([
      { pitch: 60, velocity: 100, startTick: 0, durationTicks: 96 },
    ]);
  });

  it("rejects a delta time longer than four bytes", () => {
    const bytes = Uint8Array.from([
      ...chunk("MThd", [0, 1, 0, 1, 0, 96]),
      ...chunk("MTrk", [0x81, 0x81, 0x81, 0x81, 0x01, 0x90, 60, 100]),
    ]);
    expect(errorOf(() => importMidi(bytes, "d.mid")).message).toMatch(/delta time is longer than 4 bytes/);
  });
});
