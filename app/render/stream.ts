// Renders pages of one lane program: the lane's MIDI through one stateful SoundFont renderer (tails and voices
// carry across page edges), plus its audio clips, summed in a fixed order with float32 rounding. Owned by
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

export class StreamRenderer {
  readonly program: LaneProgram;
  readonly #geometry: PageGeometry;
  readonly #midi: MidiRenderer | null;

  constructor(program: LaneProgram, soundfont: LoadedSoundFont | null, geometry: PageGeometry) {
    this.program = program;
    this.#geometry = geometry;
    if (program.sequence && !soundfont) throw new Error("a MIDI lane needs a SoundFont");
    this.#midi =
      program.sequence && soundfont
        ? createMidiRenderer({ sequence: program.sequence, soundfont, sampleRate: geometry.sampleRate })
        : null;
  }

  /** Interleaved frames of page `pageIndex` (framesPerPage · channels samples). */
  renderPage(pageIndex: number): Float32Array {
    const { framesPerPage, channels } = this.#geometry;
    const startFrame = pageIndex * framesPerPage;
    const out = new Float32Array(framesPerPage * channels);
    if (startFrame >= this.program.endFrame) return out;
    if (this.#midi) {
      if (this.#midi.positionFrame !== startFrame) this.#midi.seek(startFrame);
      const stereo = this.#midi.render(framesPerPage);
      if (channels === 2) out.set(stereo);
      else
        for (let i = 0; i < framesPerPage; i++) out[i] = fround((stereo[2 * i]! + stereo[2 * i + 1]!) * 0.5);
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
