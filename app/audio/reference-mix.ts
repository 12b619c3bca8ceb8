// Owns the JavaScript reference mix: the native kernel's arithmetic (docs/engine.md, "The mix") redone with
// Math.fround at every operation and the same summation order, from the same canvas file and control block, so its
// output is bit-exact with the addon's. Callers: tests and `lcanvas engine selftest`. Not real-time.
import type { CanvasReader } from "./canvas-file";
import type { ControlBlock } from "./control-block";

const f = Math.fround;

export interface ReferenceBlock {
  output: Float32Array;
  pageMisses: number;
}

export class ReferenceMixer {
  readonly #canvas: CanvasReader | undefined;
  readonly #control: ControlBlock;
  readonly #channels: number;
  readonly #positions: number[];
  readonly #lastSeek: number[];

  /** Starts where a freshly created engine starts: heads at frame 0, no seek pending before this moment. */
  constructor(canvas: CanvasReader | undefined, control: ControlBlock, channels: number) {
    this.#canvas = canvas;
    this.#control = control;
    this.#channels = channels;
    const heads = control.layout.maxHeads;
    this.#positions = Array.from({ length: heads }, () => 0);
    this.#lastSeek = Array.from({ length: heads }, (_, h) => control.head(h).seekCounter);
  }

  headPositionFrames(head: number): number {
    return this.#positions[head]!;
  }

  /** Renders frames as consecutive blocks of blockFrames (controls are read once per block, like the callback). */
  render(frames: number, blockFrames = frames): ReferenceBlock {
    const output = new Float32Array(frames * this.#channels);
    let pageMisses = 0;
    for (let done = 0; done < frames; ) {
      const n = Math.min(blockFrames, frames - done);
      pageMisses += this.#block(output.subarray(done * this.#channels, (done + n) * this.#channels), n);
      done += n;
    }
    return { output, pageMisses };
  }

  #block(out: Float32Array, frames: number): number {
    const ch = this.#channels;
    const control = this.#control;
    const { maxHeads, maxLanes } = control.layout;
    const acc = new Float32Array(frames * ch);
    const master = control.masterGain();
    const canvas = this.#canvas;
    const fpp = canvas ? canvas.layout.framesPerPage : 1;
    let misses = 0;

    const lanes = Array.from({ length: maxLanes }, (_, l) => control.lane(l));
    const anyLaneSolo = lanes.some((lane) => lane.solo);
    const laneAudible = lanes.map((lane) => !lane.mute && (!anyLaneSolo || lane.solo));
    const gainL = lanes.map((lane) => f(lane.gain * lane.panLeft));
    const gainR = lanes.map((lane) => f(lane.gain * lane.panRight));
    const heads = Array.from({ length: maxHeads }, (_, h) => control.head(h));
    const anyHeadSolo = heads.some((head) => head.solo);

    for (let h = 0; h < maxHeads; h++) {
      const head = heads[h]!;
      if (head.seekCounter !== this.#lastSeek[h]) {
        this.#positions[h] = Math.max(0, head.seekTargetFrames);
        this.#lastSeek[h] = head.seekCounter;
      }
      if (!head.playing) continue;
      const audible = !head.mute && (!anyHeadSolo || head.solo);
      const looping =
        head.loopEnabled && head.loopStartFrames >= 0 && head.loopEndFrames > head.loopStartFrames;
      let pos = this.#positions[h]!;
      let outFrame = 0;
      let remaining = frames;
      while (remaining > 0) {
        if (looping && pos >= head.loopEndFrames) pos = head.loopStartFrames;
        let segment = remaining;
        if (looping) segment = Math.min(segment, head.loopEndFrames - pos);
        const pageIndex = Math.floor(pos / fpp);
        const offset = pos % fpp;
        if (canvas) segment = Math.min(segment, fpp - offset);
        if (audible) {
          for (let l = 0; l < maxLanes; l++) {
            const key = head.streamKeys[l]!;
            if (key === 0n || !laneAudible[l]) continue;
            const record = canvas?.page(key, pageIndex);
            const page = canvas?.pageFrames(key, pageIndex);
            if (!record || !page || record.generation < head.generation) {
              misses++;
              continue;
            }
            const base = outFrame * ch;
            const src = offset * ch;
            if (ch === 2) {
              const gl = gainL[l]!;
              const gr = gainR[l]!;
              for (let i = 0; i < segment; i++) {
                const a = base + 2 * i;
                const s = src + 2 * i;
                acc[a] = f(acc[a]! + f(f(page[s]! * gl) * head.gain));
                acc[a + 1] = f(acc[a + 1]! + f(f(page[s + 1]! * gr) * head.gain));
              }
            } else {
              const g = gainL[l]!;
              for (let i = 0; i < segment; i++) {
                acc[base + i] = f(acc[base + i]! + f(f(page[src + i]! * g) * head.gain));
              }
            }
          }
        }
        pos += segment;
        outFrame += segment;
        remaining -= segment;
      }
      this.#positions[h] = pos;
    }
    for (let i = 0; i < frames * ch; i++) out[i] = f(acc[i]! * master);
    return misses;
  }
}

/** Counts samples that differ bit-for-bit (NaN-safe: compares the float32 bit patterns). */
export function countMismatches(
  a: Float32Array,
  b: Float32Array,
): { compared: number; mismatched: number; firstIndex: number } {
  const n = Math.min(a.length, b.length);
  const ai = new Uint32Array(a.buffer, a.byteOffset, n);
  const bi = new Uint32Array(b.buffer, b.byteOffset, n);
  let mismatched = Math.abs(a.length - b.length);
  let firstIndex = a.length === b.length ? -1 : n;
  for (let i = 0; i < n; i++) {
    if (ai[i] !== bi[i]) {
      if (firstIndex < 0 || i < firstIndex) firstIndex = i;
      mismatched++;
    }
  }
  return { compared: n, mismatched, firstIndex };
}
