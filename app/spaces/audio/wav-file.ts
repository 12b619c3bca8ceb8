// A WAV file written block by block: the header for a known length first, then the samples as they are made,
// into a temp file that replaces the target atomically when finished (app/project/atomic-write.ts). A bounce
// streams its mix through it instead of holding the whole song in memory twice (planes, then the file's bytes).
// Owned by app/spaces/audio; used by app/host/bounce.ts.
import { AtomicFile } from "../../project/atomic-write";
import { EncodingError } from "../errors";
import { type WavFormat, WavSampleEncoder, wavDataPadBytes, wavHeader } from "./wav";

export class WavFileWriter {
  readonly path: string;
  readonly format: WavFormat;
  /** Frames the file holds when finished (its header says so from the start). */
  readonly frames: number;
  readonly #file: AtomicFile;
  readonly #encoder: WavSampleEncoder;
  #framesWritten = 0;

  private constructor(path: string, format: WavFormat, frames: number, file: AtomicFile) {
    this.path = path;
    this.format = format;
    this.frames = frames;
    this.#file = file;
    this.#encoder = new WavSampleEncoder(format.depth);
  }

  /** Opens the temp file and writes the header for `frames` frames. */
  static async create(path: string, format: WavFormat, frames: number): Promise<WavFileWriter> {
    if (!(Number.isInteger(frames) && frames >= 0)) {
      throw new EncodingError(path, `cannot write ${frames} frames to a WAV file: give a whole number >= 0`);
    }
    const header = wavHeader(format, frames);
    const file = await AtomicFile.open(path);
    try {
      await file.handle.write(header);
    } catch (error) {
      await file.abort();
      throw error;
    }
    return new WavFileWriter(path, format, frames, file);
  }

  get framesWritten(): number {
    return this.#framesWritten;
  }

  /** Samples changed to fit (saturated, or non-finite written as 0) so far. */
  get clippedSamples(): number {
    return this.#encoder.clippedSamples;
  }

  /** Appends whole interleaved frames. */
  async write(interleaved: Float32Array): Promise<void> {
    const { channels } = this.format;
    if (interleaved.length % channels !== 0) {
      throw new EncodingError(
        this.path,
        `${interleaved.length} samples are not whole frames of ${channels} channels`,
      );
    }
    const frames = interleaved.length / channels;
    if (this.#framesWritten + frames > this.frames) {
      throw new EncodingError(
        this.path,
        `writing ${frames} more frames would pass the ${this.frames} frames the WAV header announces`,
      );
    }
    const bytes = this.#encoder.encode(interleaved);
    await this.#file.handle.write(bytes);
    this.#framesWritten += frames;
  }

  /** Completes the file (every announced frame must have been written) and puts it in place. */
  async finish(): Promise<{ clippedSamples: number }> {
    if (this.#framesWritten !== this.frames) {
      await this.abort();
      throw new EncodingError(
        this.path,
        `only ${this.#framesWritten} of the ${this.frames} announced frames were written; the file was not kept`,
      );
    }
    if (wavDataPadBytes(this.format, this.frames) === 1) await this.#file.handle.write(new Uint8Array(1));
    await this.#file.commit();
    return { clippedSamples: this.clippedSamples };
  }

  /** Drops the temp file; whatever was at the path stays. */
  async abort(): Promise<void> {
    await this.#file.abort();
  }
}
