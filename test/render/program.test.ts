import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ProjectDocument } from "../../app/core/document";
import { withTempo } from "../../app/core/time/tempo-map";
import { firstChangedFrame, type LaneProgram } from "../../app/render";
import { buildLaneProgram, EncodingCache } from "../../app/render/program";
import { hashBytes } from "../../app/store";
import { createFixture, documentOf, type Fixture, pagesOf, SAMPLE_RATE, sequenceOf } from "./fixture";

describe("lane programs", () => {
  let fx: Fixture;
  const settings = { sampleRate: SAMPLE_RATE, channels: 2, framesPerPage: 4096, soundfontId: "test" };
  const build = (
    document: ProjectDocument,
    encodings = new EncodingCache(fx.library.store, fx.library.graph, SAMPLE_RATE),
  ) => buildLaneProgram(document, document.lanes[0]!.id, null, settings, encodings, undefined, fx.library);
  beforeAll(async () => {
    fx = await createFixture();
  });
  afterAll(async () => fx?.dispose());

  it("places notes by beats: shifted by atBeat - offsetBeats, clipped to the region, velocity scaled by gain", async () => {
    const hash = await fx.putMidi(
      sequenceOf(
        [0, 1, 2, 3].map((beat) => ({
          pitch: 60 + beat,
          velocity: 100,
          startTick: beat * 480,
          durationTicks: 720,
        })),
      ),
    );
    const document = documentOf(
      fx.ids,
      [[{ encodingHash: hash, atBeat: 2, offsetBeats: 1, durationBeats: 2, gainDb: -6 }]],
      [{}],
    );
    const program = (await build(document))!;
    const track = program.sequence!.tracks[0]!;
    expect(program.sequence!.ppq).toBe(960);
    expect(track.notes).toEqual([
      { pitch: 61, velocity: 50, startTick: 1920, durationTicks: 1440 },
      { pitch: 62, velocity: 50, startTick: 2880, durationTicks: 960 },
    ]);
  });

  it("starts every region on a bent channel with its own wheel position, never the one a previous region left", async () => {
    const note = (beat: number) => ({ pitch: 60, velocity: 100, startTick: beat * 480, durationTicks: 480 });
    const bending = { ...sequenceOf([0, 1, 2, 3].map(note)) };
    const bent = await fx.putMidi({
      ...bending,
      tracks: [{ ...bending.tracks[0]!, pitchBends: [{ tick: 480, value: 4096 }] }],
    });
    const straight = await fx.putMidi(sequenceOf([0, 1].map(note)));
    const document = documentOf(
      fx.ids,
      [
        [
          { encodingHash: bent, atBeat: 0, durationBeats: 4 },
          { encodingHash: straight, atBeat: 4, durationBeats: 2 },
          { encodingHash: bent, atBeat: 8, offsetBeats: 2, durationBeats: 2 },
        ],
      ],
      [{}],
    );
    const program = (await build(document))!;
    expect(program.sequence!.tracks.map((t) => t.pitchBends)).toEqual([
      [
        { tick: 0, value: 0 },
        { tick: 960, value: 4096 },
      ],
      [{ tick: 3840, value: 0 }],
      [{ tick: 7680, value: 4096 }],
    ]);
    // A lane without any bend gets no wheel events at all (its stream key is what it was before bends existed).
    const plain = documentOf(fx.ids, [[{ encodingHash: straight, atBeat: 0, durationBeats: 2 }]], [{}]);
    expect((await build(plain))!.sequence!.tracks[0]!.pitchBends).toBeUndefined();
  });

  it("finds the first changed frame of an edit, on the synthesizer's 128-frame grid", async () => {
    const notes = (beats: number[]) =>
      sequenceOf(
        beats.map((beat) => ({ pitch: 60, velocity: 90, startTick: beat * 480, durationTicks: 240 })),
      );
    const a = await fx.putMidi(notes([0, 1, 2, 3, 4, 5]));
    const b = await fx.putMidi(notes([0, 1, 2, 3, 4.01, 5]));
    const doc = (hash: string) =>
      documentOf(fx.ids, [[{ encodingHash: hash, atBeat: 0, durationBeats: 8 }]], [{}]);
    const before = (await build(doc(a)))!;
    const after = (await build(doc(b)))!;
    expect(firstChangedFrame(before, before, SAMPLE_RATE)).toBe(Number.POSITIVE_INFINITY);
    // Beat 4 at 120 bpm is frame 96000; the moved note-on leaves the note at beat 4 first.
    expect(firstChangedFrame(before, after, SAMPLE_RATE)).toBe(96_000);
    // A tempo change at beat 4.5 changes nothing before the first event after it.
    const slower = { ...doc(a), tempoMap: withTempo(doc(a).tempoMap, 4.5 * 960, 60) };
    const changed = firstChangedFrame(before, (await build(slower))!, SAMPLE_RATE);
    expect(changed).toBeGreaterThan(96_000);
    // The old note at beat 5 (2.5 s) is gone from there: the audio differs from frame 120000 on.
    expect(changed).toBe(Math.floor((2.5 * SAMPLE_RATE) / 128) * 128);
  });

  it("an audio clip's first change is its start; unchanged clips copy", async () => {
    const loop = await fx.putSine(1, 330);
    const doc = (atBeat: number) =>
      documentOf(fx.ids, [[{ encodingHash: loop, atBeat, durationBeats: 2 }]], [{}]);
    const at4: LaneProgram = (await build(doc(4)))!;
    const at6: LaneProgram = (await build(doc(6)))!;
    expect(firstChangedFrame(at4, at6, SAMPLE_RATE)).toBe(96_000);
    expect(at4.key).not.toBe(at6.key);
    expect((await build(doc(4)))!.key).toBe(at4.key);
  });

  it("an ABC region is projected to notes and rendered", async () => {
    const bytes = new TextEncoder().encode("X:1\nT:Tiny\nM:4/4\nL:1/4\nK:C\nC E G c |]\n");
    const hash = await fx.library.store.put(bytes);
    await fx.library.graph.add({ hash, space: "abc", mediaType: "text/vnd.abc", creator: "test" });
    const document = documentOf(fx.ids, [[{ encodingHash: hash, atBeat: 1, durationBeats: 4 }]], [{}]);
    const program = (await build(document))!;
    expect(program.sequence!.tracks.flatMap((t) => t.notes).map((n) => n.pitch)).toEqual([60, 64, 67, 72]);
    expect(program.sequence!.tracks[0]!.notes[0]!.startTick).toBe(960);
    const renderer = await fx.renderer(document, {}, { canvas: "abc" });
    const head = document.heads[0]!.id;
    await renderer.renderRange([head], 0, 12 * 4096);
    const [key] = renderer.streamKeys(head);
    const audio = pagesOf(fx.reader("abc"), key!, 0, 12);
    // Silent before beat 1 (frame 24000), sounding after.
    expect(audio.subarray(0, 2 * 23_000).every((v) => v === 0)).toBe(true);
    expect(audio.subarray(2 * 24_000).some((v) => Math.abs(v) > 0.01)).toBe(true);
  });

  it("a region of a space no projection plays is named, with what to do", async () => {
    const bytes = new TextEncoder().encode("just words");
    const hash = await fx.library.store.put(bytes);
    expect(hash).toBe(hashBytes(bytes));
    await fx.library.graph.add({ hash, space: "text", mediaType: "text/plain", creator: "test" });
    const document = documentOf(
      fx.ids,
      [[{ encodingHash: hash, atBeat: 0, durationBeats: 4, name: "Notes" }]],
      [{}],
    );
    await expect(build(document)).rejects.toThrow(
      /region "Notes" .* holds a "text" encoding, which no projection turns into audio yet; project it to midi, abc or audio first/,
    );
  });
});
