// What every MIDI renderer backend shares (spessasynth in renderer.ts, FluidSynth in fluid.ts): the
// `MidiRenderer` contract and the one mixing rule of every path (whole render, pages, bounce). Owned by
// app/spaces/synth.
import type { MidiSequence } from "../midi/sequence";
import type { LoadedSoundFont } from "./soundbank";

export interface MidiRendererOptions {
  readonly sequence: MidiSequence;
  readonly soundfont: LoadedSoundFont;
  readonly sampleRate: number;
  /** Reverb and chorus; off by default. */
  readonly effects?: boolean;
  /** Render only these MIDI channels (the bounce splits work this way); all channels by default. */
  readonly channels?: readonly number[];
}

export interface StemFrames {
  readonly channel: number;
  readonly left: Float32Array;
  readonly right: Float32Array;
}

export interface MidiRenderer {
  readonly sampleRate: number;
  /** MIDI channels rendered, ascending: the fixed order in which they are summed. */
  readonly channels: readonly number[];
  /** Frame of the last event; release tails sound after it. */
  readonly lastEventFrame: number;
  /** The later of the last event and the sequence's `durationTicks`; release tails sound after it. */
  readonly endFrame: number;
  /** Absolute frame the next render starts at. */
  readonly positionFrame: number;
  /**
   * Renders [positionFrame, positionFrame + frames) as interleaved stereo (L, R, L, R, ...) and advances. With
   * `into` (at least `frames * 2` samples) it writes there, from index 0, and returns it.
   */
  render(frames: number, into?: Float32Array): Float32Array;
  /**
   * Same span, each channel apart (left/right planes); `mixStems` of the result equals `render`. With `into`
   * (planes of exactly `frames` samples, one pair per channel in `channels` order) it renders into those.
   */
  renderStems(frames: number, into?: readonly StemFrames[]): StemFrames[];
  /** Moves to `frame`; the next render equals what a render from 0 would give there. */
  seek(frame: number): void;
  /** Per channel, the frames a seek can restart from (found so far while rendering; 0 always). */
  checkpoints(): Array<{ readonly channel: number; readonly frames: readonly number[] }>;
  /**
   * Frees the synthesizers now (FluidSynth's live outside the JS heap, so waiting for the collector lets them pile
   * up). The renderer must not be used afterwards; calling it twice is harmless.
   */
  dispose(): void;
}

/** Adds planes into interleaved `out` from frame `at`: for each frame, 0 + plane 0 + plane 1 + ..., rounded to
 * float32 after each addition. The one mixing rule of every path (whole render, pages, bounce). */
export function mixPlanesInto(
  out: Float32Array,
  at: number,
  lefts: readonly Float32Array[],
  rights: readonly Float32Array[],
  frames: number,
): void {
  const count = lefts.length;
  for (let i = 0; i < frames; i++) {
    let left = 0;
    let right = 0;
    for (let s = 0; s < count; s++) {
      left = Math.fround(left + lefts[s]![i]!);
      right = Math.fround(right + rights[s]![i]!);
    }
    out[2 * (at + i)] = left;
    out[2 * (at + i) + 1] = right;
  }
}

/** Sums stems into interleaved `out` from frame `atFrame`, in ascending channel order (the order of every path). */
export function mixStemsInto(
  out: Float32Array,
  atFrame: number,
  stems: readonly StemFrames[],
  frames: number,
): void {
  const ordered = [...stems].sort((x, y) => x.channel - y.channel);
  mixPlanesInto(
    out,
    atFrame,
    ordered.map((stem) => stem.left),
    ordered.map((stem) => stem.right),
    frames,
  );
}

/** Sums stems into a new interleaved stereo span. */
export function mixStems(stems: readonly StemFrames[], frames: number): Float32Array {
  const out = new Float32Array(frames * 2);
  mixStemsInto(out, 0, stems, frames);
  return out;
}

export function checkFrames(frames: number, what: string): void {
  if (!(Number.isInteger(frames) && frames >= 0)) {
    throw new RangeError(`${what} must be a whole number of frames >= 0, got ${frames}`);
  }
}

/** Frames of the scratch planes `render` mixes through. */
const SCRATCH_FRAMES = 8192;

/** One MIDI channel's stateful renderer, as each backend implements it. */
export interface ChannelRendererLike {
  readonly channel: number;
  readonly checkpointFrames: readonly number[];
  /** Writes the next `frames` frames to left/right from `offset` (overwriting). */
  render(left: Float32Array, right: Float32Array, offset: number, frames: number): void;
  seek(frame: number): void;
  /** Frees what the garbage collector would free late (native synthesizers); optional. */
  dispose?(): void;
}

/** The `MidiRenderer` over per-channel renderers: every path sums them with `mixPlanesInto`. */
export function assembleRenderer(
  renderers: readonly ChannelRendererLike[],
  meta: {
    readonly sampleRate: number;
    readonly channels: readonly number[];
    readonly lastEventFrame: number;
    readonly endFrame: number;
  },
): MidiRenderer {
  let positionFrame = 0;
  let scratchLefts: Float32Array[] | undefined;
  let scratchRights: Float32Array[] | undefined;

  const renderStems = (frames: number, into?: readonly StemFrames[]): StemFrames[] => {
    checkFrames(frames, "render length");
    const result = renderers.map((renderer, i) => {
      const reuse = into?.[i];
      const fits =
        reuse?.channel === renderer.channel && reuse.left.length === frames && reuse.right.length === frames;
      const left = fits ? reuse.left : new Float32Array(frames);
      const right = fits ? reuse.right : new Float32Array(frames);
      renderer.render(left, right, 0, frames);
      return { channel: renderer.channel, left, right };
    });
    positionFrame += frames;
    return result;
  };

  return {
    ...meta,
    get positionFrame() {
      return positionFrame;
    },
    renderStems,
    render(frames, into) {
      checkFrames(frames, "render length");
      if (into && into.length < frames * 2) {
        throw new RangeError(
          `render into ${into.length} samples: ${frames} stereo frames need ${frames * 2}`,
        );
      }
      // Every sample of the span is written (mixPlanesInto), so a reused buffer needs no clearing.
      const out = into ?? new Float32Array(frames * 2);
      // Reused scratch planes: rendering a long span touches only the output's fresh memory.
      scratchLefts ??= renderers.map(() => new Float32Array(SCRATCH_FRAMES));
      scratchRights ??= renderers.map(() => new Float32Array(SCRATCH_FRAMES));
      for (let done = 0; done < frames; ) {
        const n = Math.min(SCRATCH_FRAMES, frames - done);
        for (const [i, renderer] of renderers.entries()) {
          renderer.render(scratchLefts[i]!, scratchRights[i]!, 0, n);
        }
        mixPlanesInto(out, done, scratchLefts, scratchRights, n);
        done += n;
      }
      positionFrame += frames;
      return out;
    },
    checkpoints: () =>
      renderers.map((renderer) => ({ channel: renderer.channel, frames: [...renderer.checkpointFrames] })),
    seek(frame) {
      checkFrames(frame, "seek position");
      for (const renderer of renderers) renderer.seek(frame);
      positionFrame = frame;
    },
    dispose() {
      for (const renderer of renderers) renderer.dispose?.();
    },
  };
}
