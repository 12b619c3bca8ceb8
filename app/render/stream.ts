// Renders pages of one lane program: the lane's MIDI through stateful SoundFont renderers (tails and voices
// carry across page edges; one cursor per place the stream is wanted), plus its audio clips, summed in a fixed order with float32 rounding. Owned by
// app/render; used by render workers (render-worker.ts) and by the in-thread renderer (workers: 0).

import { createMidiRenderer, type MidiRenderer } from "../spaces/synth/renderer";
import type { LoadedSoundFont } from "../spaces/synth/soundbank";
import type { AudioClip, LaneProgram } from "./program";

const fround = Math.fround;

export interface PageGeometry {
  readonly sampleRate: number;
  readonly channels: number;
  readonly framesPerPage: number;
}

/** Synthesizer cursors kept per stream: heads sharing a stream at different places each keep one moving forward. */
export const MAX_CURSORS = 6;

export class StreamRenderer {
  readonly program: LaneProgram;
  readonly #geometry: PageGeometry;
  readonly #soundfont: LoadedSoundFont | null;
  readonly #cursors: MidiRenderer[] = [];
  readonly #lastUse: number[] = [];
  #uses = 0;

  constructor(program: LaneProgram, soundfont: LoadedSoundFont | null, geometry: PageGeometry) {
    this.program = program;
    this.#geometry = geometry;
    if (program.sequence && !soundfont) throw new Error("a MIDI lane needs a SoundFont");
    this.#soundfont = soundfont;
  }

  /**
   * The synthesizer to render from `startFrame`: one already there, else the nearest one behind it (the synth's
   * exact seek renders forward or restarts from a checkpoint), else a new cursor, else the least recently used.
   */
  #cursor(startFrame: number): MidiRenderer {
    let best = -1;
    for (const [i, cursor] of this.#cursors.entries()) {
      const position = cursor.positionFrame;
      if (position === startFrame) {
        best = i;
        break;
      }
      if (position < startFrame && (best < 0 || position > this.#cursors[best]!.positionFrame)) best = i;
    }
    const near = 2 * this.#geometry.sampleRate;
    const found = best >= 0 ? this.#cursors[best]! : undefined;
    if (found && (found.positionFrame === startFrame || startFrame - found.positionFrame <= near)) {
      this.#lastUse[best] = ++this.#uses;
      return found;
    }
    if (this.#cursors.length < MAX_CURSORS) {
      const cursor = createMidiRenderer({
        sequence: this.program.sequence!,
        soundfont: this.#soundfont!,
        sampleRate: this.#geometry.sampleRate,
      });
      this.#cursors.push(cursor);
      this.#lastUse.push(++this.#uses);
      return cursor;
    }
    let oldest = 0;
    for (let i = 1; i < this.#lastUse.length; i++) if (this.#lastUse[i]! < this.#lastUse[oldest]!) oldest = i;
    this.#lastUse[oldest] = ++this.#uses;
    return this.#cursors[oldest]!;
  }

  /** Frees the synthesizer cursors now (native FluidSynth memory is not the JS collector's to see). */
  dispose(): void {
    for (const cursor of this.#cursors.splice(0)) cursor.dispose();
    this.#lastUse.splice(0);
  }

  /** Interleaved frames of page `pageIndex` (framesPerPage · channels samples). */
  renderPage(pageIndex: number): Float32Array {
    const { framesPerPage, channels } = this.#geometry;
    const startFrame = pageIndex * framesPerPage;
    const out = new Float32Array(framesPerPage * channels);
    if (startFrame >= this.program.endFrame) return out;
    if (this.program.sequence) {
      const midi = this.#cursor(startFrame);
      if (midi.positionFrame !== startFrame) midi.seek(startFrame);
      if (channels === 2) midi.render(framesPerPage, out);
      else {
        const stereo = midi.render(framesPerPage);
        for (let i = 0; i < framesPerPage; i++) out[i] = fround((stereo[2 * i]! + stereo[2 * i + 1]!) * 0.5);
      }
    }
    for (const clip of this.program.clips) mixClip(out, startFrame, framesPerPage, channels, clip);
    return out;
  }
}

/** Adds a clip's frames that fall in [startFrame, startFrame + frames), with its gain and edge fades. */
export function mixClip(
  out: Float32Array,
  startFrame: number,
  frames: number,
  channels: number,
  clip: AudioClip,
): void {
  const from = Math.max(startFrame, clip.startFrame);
  const to = Math.min(startFrame + frames, clip.endFrame);
  if (to <= from) return;
  const left = clip.channelData[0];
  if (!left) return;
  const right = clip.channelData[1] ?? left;
  const length = clip.endFrame - clip.startFrame;
  const fade = clip.fadeFrames;
  for (let frame = from; frame < to; frame++) {
    const i = frame - clip.startFrame;
    const source = i + clip.sourceOffsetFrames;
    if (source < 0 || source >= left.length) continue;
    let gain = clip.gain;
    if (i < fade) gain = fround(gain * ((i + 1) / (fade + 1)));
    if (length - i <= fade) gain = fround(gain * ((length - i) / (fade + 1)));
    const at = (frame - startFrame) * channels;
    if (channels === 2) {
      out[at] = fround(out[at]! + fround(left[source]! * gain));
      out[at + 1] = fround(out[at + 1]! + fround(right[source]! * gain));
    } else {
      const mono = fround((left[source]! + right[source]!) * 0.5);
      out[at] = fround(out[at]! + fround(mono * gain));
    }
  }
}
