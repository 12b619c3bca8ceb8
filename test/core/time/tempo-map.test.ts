import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  barToBeat,
  beatToBar,
  beatToFrame,
  beatToSeconds,
  beatToTick,
  bpmAtBeat,
  constantTempoMap,
  createTempoMap,
  durationSeconds,
  frameToBeat,
  secondsToBeat,
  secondsToFrame,
  secondsToTick,
  type TempoMap,
  TempoMapError,
  tickToBeat,
  tickToSeconds,
  withMeter,
  withoutMeter,
  withoutTempo,
  withTempo,
} from "../../../app/core/time/tempo-map";

// 120 bpm for 4 beats, then 60 bpm.
const twoTempos = createTempoMap(
  [
    { atTick: 0, bpm: 120 },
    { atTick: 4 * 960, bpm: 60 },
  ],
  [{ atTick: 0, numerator: 4, denominator: 4 }],
);

describe("tempo map conversions with hand-computed numbers", () => {
  it("converts ticks and beats at 960 ticks per quarter", () => {
    expect(beatToTick(1)).toBe(960);
    expect(beatToTick(0.25)).toBe(240);
    expect(tickToBeat(1440)).toBe(1.5);
  });

  it("integrates across a tempo change: beat 6 = 2 s + 2 s = 4 s, frame 192000 at 48 kHz", () => {
    expect(beatToSeconds(twoTempos, 4)).toBe(2);
    expect(beatToSeconds(twoTempos, 6)).toBe(4);
    expect(beatToSeconds(twoTempos, 2)).toBe(1);
    expect(beatToFrame(twoTempos, 6, 48_000)).toBe(192_000);
    expect(beatToFrame(twoTempos, 6, 44_100)).toBe(176_400);
    expect(secondsToBeat(twoTempos, 4)).toBe(6);
    expect(secondsToBeat(twoTempos, 1.5)).toBe(3);
    expect(tickToSeconds(twoTempos, 5 * 960)).toBe(3);
    expect(secondsToTick(twoTempos, 3)).toBe(4800);
    expect(durationSeconds(twoTempos, 3, 5)).toBe(1.5);
    expect(bpmAtBeat(twoTempos, 3.999)).toBe(120);
    expect(bpmAtBeat(twoTempos, 4)).toBe(60);
  });

  it("integrates each segment from its own start over three tempos", () => {
    // 100 bpm for 3 beats (1.8 s), 150 bpm for 5 beats (2 s), then 75 bpm: beat 10 = 1.8 + 2 + 1.6 = 5.4 s.
    const map = createTempoMap(
      [
        { atTick: 0, bpm: 100 },
        { atTick: 3 * 960, bpm: 150 },
        { atTick: 8 * 960, bpm: 75 },
      ],
      [{ atTick: 0, numerator: 4, denominator: 4 }],
    );
    expect(beatToSeconds(map, 10)).toBeCloseTo(5.4, 12);
    expect(beatToFrame(map, 10, 48_000)).toBe(259_200);
    expect(secondsToBeat(map, 5.4)).toBeCloseTo(10, 12);
  });

  it("extrapolates negative beats and seconds with the first tempo", () => {
    expect(beatToSeconds(twoTempos, -2)).toBe(-1);
    expect(secondsToBeat(twoTempos, -0.5)).toBe(-1);
  });

  it("rounds frames half up: the nearest frame, ties toward the later frame", () => {
    // 1 beat at 120 bpm = 0.5 s; at 3 Hz that is frame 1.5 -> 2. At 7 Hz, 3.5 -> 4.
    const map = constantTempoMap(120);
    expect(beatToFrame(map, 1, 3)).toBe(2);
    expect(beatToFrame(map, 1, 7)).toBe(4);
    expect(secondsToFrame(0.1, 48_000)).toBe(4800);
    expect(secondsToFrame(1 / 3, 3)).toBe(1);
    expect(secondsToFrame(0.49 / 44_100, 44_100)).toBe(0);
    expect(secondsToFrame(-0.5 / 10, 10)).toBe(0);
    expect(secondsToFrame(-0.51 / 10, 10)).toBe(-1);
  });

  it("rejects a non-positive or non-finite sample rate", () => {
    expect(() => beatToFrame(twoTempos, 1, 0)).toThrow(/sampleRate must be a positive number/);
    expect(() => frameToBeat(twoTempos, 1, Number.NaN)).toThrow(/sampleRate/);
    expect(() => beatToSeconds(twoTempos, Number.POSITIVE_INFINITY)).toThrow(/atBeat must be a finite/);
  });
});

describe("bars and meters", () => {
  // 4/4 for 2 bars (8 beats), then 6/8 (3 quarter beats a bar) for 2 bars, then 3/4.
  const meters = createTempoMap(
    [{ atTick: 0, bpm: 120 }],
    [
      { atTick: 0, numerator: 4, denominator: 4 },
      { atTick: 8 * 960, numerator: 6, denominator: 8 },
      { atTick: 14 * 960, numerator: 3, denominator: 4 },
    ],
  );

  it("finds bar, beat in bar and meter beat", () => {
    expect(beatToBar(meters, 5)).toEqual({
      bar: 1,
      barStartBeat: 4,
      beatsIntoBar: 1,
      meterBeat: 1,
      numerator: 4,
      denominator: 4,
    });
    expect(beatToBar(meters, 9.5)).toEqual({
      bar: 2,
      barStartBeat: 8,
      beatsIntoBar: 1.5,
      meterBeat: 3,
      numerator: 6,
      denominator: 8,
    });
    expect(beatToBar(meters, 11).bar).toBe(3);
    expect(beatToBar(meters, 14)).toMatchObject({ bar: 4, barStartBeat: 14, beatsIntoBar: 0, numerator: 3 });
    expect(beatToBar(meters, 20)).toMatchObject({ bar: 6, barStartBeat: 20 });
    expect(beatToBar(meters, -1)).toMatchObject({ bar: -1, barStartBeat: -4, beatsIntoBar: 3 });
  });

  it("maps bars back to their start beats", () => {
    expect([0, 1, 2, 3, 4, 5, 6].map((bar) => barToBeat(meters, bar))).toEqual([0, 4, 8, 11, 14, 17, 20]);
    expect(barToBeat(meters, -2)).toBe(-8);
  });
});

describe("validation", () => {
  it("rejects bpm <= 0 and out of range, naming the entry", () => {
    expect(() =>
      createTempoMap([{ atTick: 0, bpm: 0 }], [{ atTick: 0, numerator: 4, denominator: 4 }]),
    ).toThrow(/tempos\[0\]\.bpm: must be between 1 and 1000 bpm, got 0/);
    expect(() => withTempo(twoTempos, 960, -120)).toThrow(TempoMapError);
    expect(() => withTempo(twoTempos, 960, Number.NaN)).toThrow(/bpm/);
  });

  it("rejects non-increasing ticks and a first change off tick 0", () => {
    const meter = [{ atTick: 0, numerator: 4, denominator: 4 }];
    expect(() =>
      createTempoMap(
        [
          { atTick: 0, bpm: 120 },
          { atTick: 960, bpm: 100 },
          { atTick: 960, bpm: 90 },
        ],
        meter,
      ),
    ).toThrow(/tempos\[2\]\.atTick: tempo changes must have strictly increasing ticks; 960 follows 960/);
    expect(() => createTempoMap([{ atTick: 10, bpm: 120 }], meter)).toThrow(/first tempo must be at tick 0/);
    expect(() => createTempoMap([{ atTick: 0.5, bpm: 120 }], meter)).toThrow(/whole number of ticks/);
    expect(() => createTempoMap([], meter)).toThrow(/at least one tempo/);
  });

  it("rejects a meter change off a bar line and says where the bar lines are", () => {
    const base = constantTempoMap(120, 4, 4);
    expect(() => withMeter(base, 5 * 960, 3, 4)).toThrow(
      /meters\[1\]\.atTick: a meter change must fall on a bar line of 4\/4; tick 4800 is inside the bar from tick 3840 to 7680/,
    );
    expect(() => withMeter(base, 0, 4, 3)).toThrow(/denominator: must be one of 1, 2, 4, 8, 16, 32, 64/);
    expect(() => withMeter(base, 0, 0, 4)).toThrow(/numerator/);
    // Changing an earlier meter must keep later changes on bar lines.
    const two = withMeter(base, 8 * 960, 3, 4);
    expect(() => withMeter(two, 0, 3, 4)).toThrow(
      /meters\[1\]\.atTick: a meter change must fall on a bar line of 3\/4/,
    );
  });

  it("edits return new frozen maps and leave the original unchanged", () => {
    const base = constantTempoMap(90);
    const edited = withTempo(base, 1920, 140);
    expect(base.tempos).toHaveLength(1);
    expect(edited.tempos).toEqual([
      { atTick: 0, bpm: 90 },
      { atTick: 1920, bpm: 140 },
    ]);
    expect(Object.isFrozen(edited.tempos)).toBe(true);
    expect(withoutTempo(edited, 1920)).toEqual(base);
    expect(() => withoutTempo(base, 0)).toThrow(/cannot be removed/);
    expect(() => withoutTempo(base, 5)).toThrow(/no tempo change at tick 5/);
    expect(withoutMeter(withMeter(base, 3840, 7, 8), 3840)).toEqual(base);
  });
});

const tempoMapArb: fc.Arbitrary<TempoMap> = fc
  .array(
    fc.record({
      gapTicks: fc.integer({ min: 1, max: 20_000 }),
      bpm: fc.double({ min: 20, max: 400, noNaN: true }),
    }),
    {
      minLength: 0,
      maxLength: 12,
    },
  )
  .chain((changes) =>
    fc.double({ min: 20, max: 400, noNaN: true }).map((firstBpm) => {
      let atTick = 0;
      const tempos = [{ atTick: 0, bpm: firstBpm }];
      for (const change of changes) {
        atTick += change.gapTicks;
        tempos.push({ atTick, bpm: change.bpm });
      }
      return createTempoMap(tempos, [{ atTick: 0, numerator: 4, denominator: 4 }]);
    }),
  );

const beatArb = fc.double({ min: -50, max: 2000, noNaN: true });
const sampleRateArb = fc.constantFrom(22_050, 44_100, 48_000, 88_200, 96_000, 192_000, 8000, 11_025);

describe("properties", () => {
  it("seconds are strictly increasing in beats, and frames non-decreasing", () => {
    fc.assert(
      fc.property(tempoMapArb, beatArb, beatArb, sampleRateArb, (map, a, b, sampleRate) => {
        if (a === b) return;
        const [lo, hi] = a < b ? [a, b] : [b, a];
        expect(beatToSeconds(map, lo)).toBeLessThanOrEqual(beatToSeconds(map, hi));
        if (hi - lo > 1e-9) expect(beatToSeconds(map, lo)).toBeLessThan(beatToSeconds(map, hi));
        expect(beatToFrame(map, lo, sampleRate)).toBeLessThanOrEqual(beatToFrame(map, hi, sampleRate));
      }),
    );
  });

  it("seconds -> beat -> seconds and beat -> seconds -> beat round trip within 1e-9", () => {
    fc.assert(
      fc.property(
        tempoMapArb,
        fc.double({ min: -10, max: 3000, noNaN: true }),
        beatArb,
        (map, seconds, beat) => {
          expect(Math.abs(beatToSeconds(map, secondsToBeat(map, seconds)) - seconds)).toBeLessThan(1e-9);
          expect(Math.abs(secondsToBeat(map, beatToSeconds(map, beat)) - beat)).toBeLessThan(1e-9);
        },
      ),
    );
  });

  it("frame -> beat -> frame is the identity for whole frames at any sample rate", () => {
    fc.assert(
      fc.property(
        tempoMapArb,
        fc.integer({ min: -100_000, max: 200_000_000 }),
        sampleRateArb,
        (map, frame, sr) => {
          expect(beatToFrame(map, frameToBeat(map, frame, sr), sr)).toBe(frame);
        },
      ),
    );
  });

  it("bar positions are consistent with barToBeat under random meters", () => {
    const meterMap = fc
      .array(
        fc.record({
          bars: fc.integer({ min: 1, max: 8 }),
          numerator: fc.integer({ min: 1, max: 13 }),
          denominator: fc.constantFrom(2, 4, 8, 16),
        }),
        { minLength: 1, maxLength: 6 },
      )
      .map((segments) => {
        let atTick = 0;
        const meters = segments.map((segment) => {
          const meter = { atTick, numerator: segment.numerator, denominator: segment.denominator };
          atTick += (segment.bars * segment.numerator * 3840) / segment.denominator;
          return meter;
        });
        return createTempoMap([{ atTick: 0, bpm: 120 }], meters);
      });
    fc.assert(
      fc.property(meterMap, fc.double({ min: 0, max: 200, noNaN: true }), (map, atBeat) => {
        const position = beatToBar(map, atBeat);
        expect(barToBeat(map, position.bar)).toBeCloseTo(position.barStartBeat, 9);
        expect(position.beatsIntoBar).toBeGreaterThanOrEqual(-1e-9);
        expect(position.beatsIntoBar).toBeLessThan((position.numerator * 4) / position.denominator + 1e-9);
        expect(barToBeat(map, position.bar + 1)).toBeGreaterThan(atBeat - 1e-9);
      }),
    );
  });
});
