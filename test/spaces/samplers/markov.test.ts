import { describe, expect, it } from "vitest";
import type { MidiSequence } from "../../../app/spaces/midi/sequence";
import { MarkovSampler, OUTPUT_PPQ } from "../../../app/spaces/samplers/markov";
import { Xoshiro128 } from "../../../app/spaces/samplers/random";
import { drawIndex, type InferenceContext, SamplerInputError } from "../../../app/spaces/samplers/sampler";
import { cycle, song } from "./material";

const sampler = new MarkovSampler();
const context = (seed: number, temperature = 1, top_p = 1): InferenceContext => ({
  temperature,
  top_p,
  seed,
});
const bytes = (sequence: MidiSequence): string => JSON.stringify(sequence);

/** Mean over event positions n of the entropy (bits) across seeds of the lead's n-th step (interval, gap). */
function entropyAcrossSeeds(outputs: readonly MidiSequence[], events: number): number {
  let sum = 0;
  for (let n = 1; n <= events; n++) {
    const counts = new Map<string, number>();
    for (const output of outputs) {
      const notes = output.tracks[0]!.notes;
      const [before, note] = [notes[n - 1], notes[n]];
      const key =
        before && note ? `${note.pitch - before.pitch}/${note.startTick - before.startTick}` : "none";
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    for (const count of counts.values()) sum -= (count / outputs.length) * Math.log2(count / outputs.length);
  }
  return sum / events;
}

describe("drawIndex", () => {
  const weights = [0.5, 0.3, 0.15, 0.05];
  const frequencies = (temperature: number, topP: number): number[] => {
    const random = Xoshiro128.fromSeed(9);
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 40_000; i++) counts[drawIndex(weights, temperature, topP, random.nextFloat())]! += 1;
    return counts.map((count) => count / 40_000);
  };

  it("draws the learned distribution at temperature 1", () => {
    for (const [i, f] of frequencies(1, 1).entries()) expect(Math.abs(f - weights[i]!)).toBeLessThan(0.01);
  });

  it("takes the most likely choice at temperature 0 and flattens at high temperature", () => {
    expect(frequencies(0, 1)).toEqual([1, 0, 0, 0]);
    const hot = frequencies(4, 1);
    expect(hot[3]!).toBeGreaterThan(0.15);
    expect(hot[0]!).toBeLessThan(0.4);
  });

  it("keeps only the nucleus with top_p", () => {
    const nucleus = frequencies(1, 0.75);
    expect(nucleus[2]).toBe(0);
    expect(nucleus[3]).toBe(0);
    expect(Math.abs(nucleus[0]! - 0.5 / 0.8)).toBeLessThan(0.01);
    expect(frequencies(1, 0.01)).toEqual([1, 0, 0, 0]);
  });
});

describe("MarkovSampler", () => {
  it("gives the same bytes for the same request and seed", () => {
    const request = { conditioning: [song()], context: context(1234, 0.9, 0.95), spanBeats: 32 };
    const first = sampler.sample(request);
    const second = new MarkovSampler().sample(request);
    expect(bytes(first)).toBe(bytes(second));
  });

  it("generates every conditioning voice over the requested span on the beat grid", () => {
    const out = sampler.sample({ conditioning: [song()], context: context(5), spanBeats: 16 });
    expect(out.ppq).toBe(OUTPUT_PPQ);
    expect(out.durationTicks).toBe(16 * OUTPUT_PPQ);
    expect(out.tempos).toEqual([{ tick: 0, bpm: 104 }]);
    expect(out.tracks.map((t) => [t.name, t.channel, t.program])).toEqual([
      ["lead", 0, 73],
      ["bass", 1, 33],
      ["drums", 9, 0],
    ]);
    for (const track of out.tracks) {
      expect(track.notes.length).toBeGreaterThan(8);
      for (const note of track.notes) {
        expect(note.startTick % (OUTPUT_PPQ / 4)).toBe(0);
        expect(note.startTick + note.durationTicks).toBeLessThanOrEqual(out.durationTicks);
        expect(note.durationTicks).toBeGreaterThan(0);
      }
    }
    const drumKeys = new Set(out.tracks[2]!.notes.map((n) => n.pitch));
    for (const key of drumKeys) expect([36, 38, 42, 46]).toContain(key);
    for (const note of out.tracks[0]!.notes) expect(note.pitch >= 60 && note.pitch <= 74).toBe(true);
  });

  it("gives different material for different seeds", () => {
    const outputs = new Set<string>();
    for (let seed = 0; seed < 8; seed++) {
      outputs.add(bytes(sampler.sample({ conditioning: [song()], context: context(seed), spanBeats: 32 })));
    }
    expect(outputs.size).toBe(8);
  });

  it("at temperature 0 ignores the seed and continues with the most likely material", () => {
    const at = (seed: number) =>
      sampler.sample({ conditioning: [cycle()], context: context(seed, 0), spanBeats: 8 });
    expect(bytes(at(1))).toBe(bytes(at(999)));
    const notes = at(1).tracks[0]!.notes;
    // The material ends on G (67) after ... E; the most likely continuation restarts the cycle C D E G.
    expect(notes.map((n) => n.pitch)).toEqual([
      60, 62, 64, 67, 60, 62, 64, 67, 60, 62, 64, 67, 60, 62, 64, 67,
    ]);
    expect(notes.map((n) => n.startTick)).toEqual(notes.map((_, i) => i * (OUTPUT_PPQ / 2)));
  });

  it("produces measurably more entropy at higher temperature", () => {
    const entropyAt = (temperature: number): number => {
      const outputs = Array.from({ length: 64 }, (_, seed) =>
        sampler.sample({ conditioning: [song()], context: context(seed, temperature), spanBeats: 16 }),
      );
      return entropyAcrossSeeds(outputs, 24);
    };
    const frozen = entropyAt(0);
    const cold = entropyAt(0.25);
    const warm = entropyAt(1);
    const hot = entropyAt(3);
    expect(frozen).toBe(0);
    // Measured: 0, 1.82, 3.70, 3.95 bits (64 seeds, 24 steps); the learned vocabulary bounds the top.
    expect(cold).toBeGreaterThan(0.5);
    expect(warm).toBeGreaterThan(cold + 1);
    expect(hot).toBeGreaterThan(warm + 0.15);
  });

  it("learns from several sequences", () => {
    const twice = sampler.sample({ conditioning: [cycle(), song()], context: context(3), spanBeats: 16 });
    expect(twice.tracks.map((t) => t.channel)).toEqual([0, 1, 9]);
  });

  it("explains bad requests", () => {
    const request = { conditioning: [song()], context: context(1), spanBeats: 8 };
    expect(() => sampler.sample({ ...request, context: context(1, -1) })).toThrow(/temperature is -1/);
    expect(() => sampler.sample({ ...request, context: context(1, 1, 0) })).toThrow(
      /top_p is 0; use a number in/,
    );
    expect(() => sampler.sample({ ...request, context: context(1.5) })).toThrow(/seed is 1.5/);
    expect(() => sampler.sample({ ...request, spanBeats: 0 })).toThrow(/spanBeats is 0/);
    expect(() => sampler.sample({ ...request, conditioning: [] })).toThrow(SamplerInputError);
    const empty = { ...song(), tracks: [] };
    expect(() => sampler.sample({ ...request, conditioning: [empty] })).toThrow(/has no notes/);
    expect(() => new MarkovSampler({ maxOrder: 20 })).toThrow(/maxOrder is 20/);
  });
});

describe("MarkovSampler orders", () => {
  it("works from order 0 (position and unigram only) up to order 6, deterministically", () => {
    for (const maxOrder of [0, 1, 6]) {
      const sampler = new MarkovSampler({ maxOrder });
      const request = { conditioning: [song()], context: context(21, 0.8), spanBeats: 16 };
      const out = sampler.sample(request);
      expect(out.tracks).toHaveLength(3);
      for (const track of out.tracks) expect(track.notes.length).toBeGreaterThan(4);
      expect(bytes(new MarkovSampler({ maxOrder }).sample(request))).toBe(bytes(out));
    }
  });
});
