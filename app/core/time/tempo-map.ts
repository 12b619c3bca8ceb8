// Tempo map: musical time (beats, ticks, bars) <-> seconds <-> sample frames across tempo and meter changes.
// Owned by app/core/time; pure data and pure functions, callable from any layer. Rounding rules and the time
// model are in docs/project-format.md.

/** Ticks per quarter note. A beat (`atBeat`, `durationBeats`) is always a quarter note. */
export const TICKS_PER_QUARTER = 960;
export const MIN_BPM = 1;
export const MAX_BPM = 1000;
export const METER_DENOMINATORS = [1, 2, 4, 8, 16, 32, 64] as const;
export const MAX_METER_NUMERATOR = 64;

/** A step change of tempo at `atTick`, in quarter notes per minute, holding until the next change. */
export interface TempoChange {
  readonly atTick: number;
  readonly bpm: number;
}

/** A change of meter at `atTick`, which must fall on a bar line of the meter before it. */
export interface MeterChange {
  readonly atTick: number;
  readonly numerator: number;
  readonly denominator: number;
}

/** Both lists are sorted by strictly increasing `atTick` and start at tick 0. */
export interface TempoMap {
  readonly tempos: readonly TempoChange[];
  readonly meters: readonly MeterChange[];
}

export interface BarPosition {
  /** 0-based bar index (displayed as bar + 1). */
  readonly bar: number;
  readonly barStartBeat: number;
  /** Quarter-note beats from the start of the bar. */
  readonly beatsIntoBar: number;
  /** 0-based position in the meter's own beat unit (eighths in 6/8), fractional. */
  readonly meterBeat: number;
  readonly numerator: number;
  readonly denominator: number;
}

export class TempoMapError extends Error {
  /** Field path inside the tempo map, e.g. "tempos[2].bpm". */
  readonly path: string;
  constructor(path: string, message: string) {
    super(`${path}: ${message}`);
    this.name = "TempoMapError";
    this.path = path;
  }
}

export function tickToBeat(atTick: number): number {
  return atTick / TICKS_PER_QUARTER;
}

export function beatToTick(atBeat: number): number {
  return atBeat * TICKS_PER_QUARTER;
}

/** Ticks per bar of a meter: numerator notes of 1/denominator, a quarter being 960 ticks. */
export function barTicks(numerator: number, denominator: number): number {
  return (numerator * 4 * TICKS_PER_QUARTER) / denominator;
}

function isWholeTick(value: number): boolean {
  return Number.isSafeInteger(value) && value >= 0;
}

/** Throws a TempoMapError naming the first invalid entry; returns the map when valid. */
export function validateTempoMap(map: TempoMap): TempoMap {
  if (map.tempos.length === 0) throw new TempoMapError("tempos", "needs at least one tempo, at tick 0");
  if (map.meters.length === 0) throw new TempoMapError("meters", "needs at least one meter, at tick 0");
  map.tempos.forEach((tempo, i) => {
    const at = `tempos[${i}]`;
    if (!isWholeTick(tempo.atTick)) {
      throw new TempoMapError(`${at}.atTick`, `must be a whole number of ticks >= 0, got ${tempo.atTick}`);
    }
    if (i === 0 && tempo.atTick !== 0) {
      throw new TempoMapError(`${at}.atTick`, `the first tempo must be at tick 0, got ${tempo.atTick}`);
    }
    const previous = map.tempos[i - 1];
    if (previous && tempo.atTick <= previous.atTick) {
      throw new TempoMapError(
        `${at}.atTick`,
        `tempo changes must have strictly increasing ticks; ${tempo.atTick} follows ${previous.atTick}`,
      );
    }
    if (!Number.isFinite(tempo.bpm) || tempo.bpm < MIN_BPM || tempo.bpm > MAX_BPM) {
      throw new TempoMapError(`${at}.bpm`, `must be between ${MIN_BPM} and ${MAX_BPM} bpm, got ${tempo.bpm}`);
    }
  });
  let barLineTick = 0;
  let barLength = 0;
  map.meters.forEach((meter, i) => {
    const at = `meters[${i}]`;
    if (!isWholeTick(meter.atTick)) {
      throw new TempoMapError(`${at}.atTick`, `must be a whole number of ticks >= 0, got ${meter.atTick}`);
    }
    if (i === 0 && meter.atTick !== 0) {
      throw new TempoMapError(`${at}.atTick`, `the first meter must be at tick 0, got ${meter.atTick}`);
    }
    if (!Number.isInteger(meter.numerator) || meter.numerator < 1 || meter.numerator > MAX_METER_NUMERATOR) {
      throw new TempoMapError(
        `${at}.numerator`,
        `must be a whole number from 1 to ${MAX_METER_NUMERATOR}, got ${meter.numerator}`,
      );
    }
    if (!(METER_DENOMINATORS as readonly number[]).includes(meter.denominator)) {
      throw new TempoMapError(
        `${at}.denominator`,
        `must be one of ${METER_DENOMINATORS.join(", ")}, got ${meter.denominator}`,
      );
    }
    if (i > 0) {
      const previous = map.meters[i - 1]!;
      if (meter.atTick <= previous.atTick) {
        throw new TempoMapError(
          `${at}.atTick`,
          `meter changes must have strictly increasing ticks; ${meter.atTick} follows ${previous.atTick}`,
        );
      }
      if ((meter.atTick - barLineTick) % barLength !== 0) {
        const before = barLineTick + Math.floor((meter.atTick - barLineTick) / barLength) * barLength;
        throw new TempoMapError(
          `${at}.atTick`,
          `a meter change must fall on a bar line of ${previous.numerator}/${previous.denominator}; tick ` +
            `${meter.atTick} is inside the bar from tick ${before} to ${before + barLength}: move it to one of those`,
        );
      }
    }
    barLineTick = meter.atTick;
    barLength = barTicks(meter.numerator, meter.denominator);
  });
  return map;
}

/** A validated, frozen tempo map. */
export function createTempoMap(tempos: readonly TempoChange[], meters: readonly MeterChange[]): TempoMap {
  const map: TempoMap = Object.freeze({
    tempos: Object.freeze(tempos.map((t) => Object.freeze({ atTick: t.atTick + 0, bpm: t.bpm }))),
    meters: Object.freeze(
      meters.map((m) =>
        Object.freeze({ atTick: m.atTick + 0, numerator: m.numerator, denominator: m.denominator }),
      ),
    ),
  });
  return validateTempoMap(map);
}

export function constantTempoMap(bpm = 120, numerator = 4, denominator = 4): TempoMap {
  return createTempoMap([{ atTick: 0, bpm }], [{ atTick: 0, numerator, denominator }]);
}

function replaceAt<T extends { readonly atTick: number }>(list: readonly T[], entry: T): T[] {
  const kept = list.filter((e) => e.atTick !== entry.atTick);
  kept.push(entry);
  return kept.sort((a, b) => a.atTick - b.atTick);
}

/** The map with a tempo change at `atTick` (replacing one already there). */
export function withTempo(map: TempoMap, atTick: number, bpm: number): TempoMap {
  return createTempoMap(replaceAt(map.tempos, { atTick, bpm }), map.meters);
}

export function withoutTempo(map: TempoMap, atTick: number): TempoMap {
  if (atTick === 0) throw new TempoMapError("tempos[0]", "the tempo at tick 0 cannot be removed; change it");
  if (!map.tempos.some((t) => t.atTick === atTick)) {
    throw new TempoMapError("tempos", `there is no tempo change at tick ${atTick} to remove`);
  }
  return createTempoMap(
    map.tempos.filter((t) => t.atTick !== atTick),
    map.meters,
  );
}

/** The map with a meter change at `atTick` (replacing one already there); later changes must stay on bar lines. */
export function withMeter(map: TempoMap, atTick: number, numerator: number, denominator: number): TempoMap {
  return createTempoMap(map.tempos, replaceAt(map.meters, { atTick, numerator, denominator }));
}

export function withoutMeter(map: TempoMap, atTick: number): TempoMap {
  if (atTick === 0) throw new TempoMapError("meters[0]", "the meter at tick 0 cannot be removed; change it");
  if (!map.meters.some((m) => m.atTick === atTick)) {
    throw new TempoMapError("meters", `there is no meter change at tick ${atTick} to remove`);
  }
  return createTempoMap(
    map.tempos,
    map.meters.filter((m) => m.atTick !== atTick),
  );
}

interface TempoSegments {
  readonly startBeat: Float64Array;
  readonly startSeconds: Float64Array;
  readonly secondsPerBeat: Float64Array;
}

interface MeterSegments {
  readonly startBar: Float64Array;
}

const tempoCache = new WeakMap<TempoMap, TempoSegments>();
const meterCache = new WeakMap<TempoMap, MeterSegments>();

function tempoSegments(map: TempoMap): TempoSegments {
  const cached = tempoCache.get(map);
  if (cached) return cached;
  const n = map.tempos.length;
  const startBeat = new Float64Array(n);
  const startSeconds = new Float64Array(n);
  const secondsPerBeat = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const tempo = map.tempos[i]!;
    startBeat[i] = tickToBeat(tempo.atTick);
    secondsPerBeat[i] = 60 / tempo.bpm;
    if (i > 0) {
      startSeconds[i] = startSeconds[i - 1]! + (startBeat[i]! - startBeat[i - 1]!) * secondsPerBeat[i - 1]!;
    }
  }
  const segments = { startBeat, startSeconds, secondsPerBeat };
  tempoCache.set(map, segments);
  return segments;
}

/** Index of the last entry of `starts` that is <= value (0 when value precedes them all). */
function segmentIndex(starts: Float64Array, value: number): number {
  let lo = 0;
  let hi = starts.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (starts[mid]! <= value) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

function requireFinite(name: string, value: number): void {
  if (!Number.isFinite(value)) throw new RangeError(`${name} must be a finite number, got ${value}`);
}

function requireSampleRate(sampleRate: number): void {
  if (!Number.isFinite(sampleRate) || sampleRate <= 0) {
    throw new RangeError(`sampleRate must be a positive number of frames per second, got ${sampleRate}`);
  }
}

/** Seconds from beat 0 to `atBeat`, integrating each tempo segment from its own start. Negative beats use the first tempo. */
export function beatToSeconds(map: TempoMap, atBeat: number): number {
  requireFinite("atBeat", atBeat);
  const s = tempoSegments(map);
  const i = segmentIndex(s.startBeat, atBeat);
  return s.startSeconds[i]! + (atBeat - s.startBeat[i]!) * s.secondsPerBeat[i]!;
}

export function secondsToBeat(map: TempoMap, seconds: number): number {
  requireFinite("seconds", seconds);
  const s = tempoSegments(map);
  const i = segmentIndex(s.startSeconds, seconds);
  return s.startBeat[i]! + (seconds - s.startSeconds[i]!) / s.secondsPerBeat[i]!;
}

export function tickToSeconds(map: TempoMap, atTick: number): number {
  return beatToSeconds(map, tickToBeat(atTick));
}

export function secondsToTick(map: TempoMap, seconds: number): number {
  return beatToTick(secondsToBeat(map, seconds));
}

/** The sample frame of an instant: round half up (floor(x + 0.5)) of seconds * sampleRate. */
export function secondsToFrame(seconds: number, sampleRate: number): number {
  requireFinite("seconds", seconds);
  requireSampleRate(sampleRate);
  return Math.floor(seconds * sampleRate + 0.5);
}

export function frameToSeconds(frame: number, sampleRate: number): number {
  requireFinite("frame", frame);
  requireSampleRate(sampleRate);
  return frame / sampleRate;
}

/** The integer sample frame at `atBeat` (see secondsToFrame for the rounding rule). */
export function beatToFrame(map: TempoMap, atBeat: number, sampleRate: number): number {
  return secondsToFrame(beatToSeconds(map, atBeat), sampleRate);
}

/** The exact (fractional) beat at the start of sample frame `frame`. */
export function frameToBeat(map: TempoMap, frame: number, sampleRate: number): number {
  return secondsToBeat(map, frameToSeconds(frame, sampleRate));
}

/** Seconds between two beats (negative when toBeat < fromBeat). */
export function durationSeconds(map: TempoMap, fromBeat: number, toBeat: number): number {
  return beatToSeconds(map, toBeat) - beatToSeconds(map, fromBeat);
}

/** The tempo in effect at `atBeat`. */
export function bpmAtBeat(map: TempoMap, atBeat: number): number {
  requireFinite("atBeat", atBeat);
  const s = tempoSegments(map);
  return map.tempos[segmentIndex(s.startBeat, atBeat)]!.bpm;
}

function meterSegments(map: TempoMap): MeterSegments {
  const cached = meterCache.get(map);
  if (cached) return cached;
  const n = map.meters.length;
  const startBar = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    const previous = map.meters[i - 1]!;
    startBar[i] =
      startBar[i - 1]! +
      (map.meters[i]!.atTick - previous.atTick) / barTicks(previous.numerator, previous.denominator);
  }
  const segments = { startBar };
  meterCache.set(map, segments);
  return segments;
}

function meterIndexAtTick(map: TempoMap, atTick: number): number {
  let lo = 0;
  let hi = map.meters.length - 1;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    if (map.meters[mid]!.atTick <= atTick) lo = mid;
    else hi = mid - 1;
  }
  return lo;
}

/** Bar and beat-in-bar of `atBeat` under the meter in effect there. Negative beats count bars backwards. */
export function beatToBar(map: TempoMap, atBeat: number): BarPosition {
  requireFinite("atBeat", atBeat);
  const tick = beatToTick(atBeat);
  const i = meterIndexAtTick(map, tick);
  const meter = map.meters[i]!;
  const length = barTicks(meter.numerator, meter.denominator);
  const barsIn = Math.floor((tick - meter.atTick) / length);
  const barStartTick = meter.atTick + barsIn * length;
  const beatsIntoBar = atBeat - tickToBeat(barStartTick);
  return {
    bar: meterSegments(map).startBar[i]! + barsIn,
    barStartBeat: tickToBeat(barStartTick),
    beatsIntoBar,
    meterBeat: (beatsIntoBar * meter.denominator) / 4,
    numerator: meter.numerator,
    denominator: meter.denominator,
  };
}

/** The beat where 0-based bar `bar` starts. */
export function barToBeat(map: TempoMap, bar: number): number {
  if (!Number.isInteger(bar)) throw new RangeError(`bar must be a whole number, got ${bar}`);
  const starts = meterSegments(map).startBar;
  const i = segmentIndex(starts, bar);
  const meter = map.meters[i]!;
  return tickToBeat(meter.atTick + (bar - starts[i]!) * barTicks(meter.numerator, meter.denominator));
}
