// Offline bounce of a project: renders every page of [0, end) for the chosen heads through the lookahead
// renderer and mixes through the engine's offline driver (the same kernel as live playback), each second as soon
// as its pages are written, into a WAV file;
// stems solo each lane in turn through the control block. Owned by app/host; called by `lcanvas bounce`, tests.
import { mkdir } from "node:fs/promises";
import { dirname, join } from "node:path";
import { type WavExportDepth, WavSampleEncoder, wavDataPadBytes, wavHeader } from "../spaces/audio/wav";
import { WavFileWriter } from "../spaces/audio/wav-file";
import { HostError, openSession, type Session, type SessionOptions } from "./session";

export type BounceBits = "16" | "24" | "32f";

export interface BounceProgress {
  readonly phase: "render" | "mix" | "stems";
  readonly done: number;
  readonly total: number;
}

export interface BounceOptions {
  readonly out: string;
  /** A folder for one WAV per lane. */
  readonly stems?: string;
  /** One head (id or name); default: every head, mixed as the live engine plays them. */
  readonly head?: string;
  readonly bits?: BounceBits;
  /** Frames to bounce from 0 (default: the end of the content, release tails included). */
  readonly frames?: number;
  readonly session?: Omit<SessionOptions, "driver">;
  readonly onProgress?: (progress: BounceProgress) => void;
}

export interface BounceResult {
  readonly out: string;
  readonly frames: number;
  readonly sampleRate: number;
  readonly seconds: number;
  readonly heads: readonly string[];
  readonly stems: readonly string[];
  readonly clippedSamples: number;
  readonly pageMisses: number;
}

const MIX_CHUNK_SECONDS = 1;
/** The engine's largest block: a bounce has no latency to keep low, and fewer blocks cost less per frame. */
const BOUNCE_BLOCK_FRAMES = 4096;

/** Interleaved stereo to WAV bytes (the live capture's file); the same bytes as writeWav of its two planes. */
export function stereoWav(
  interleaved: Float32Array,
  sampleRate: number,
  bits: WavExportDepth,
): { bytes: Uint8Array; clippedSamples: number } {
  const format = { sampleRate, channels: 2, depth: bits };
  const frames = interleaved.length / 2;
  const header = wavHeader(format, frames);
  const encoder = new WavSampleEncoder(bits);
  const samples = encoder.encode(interleaved);
  const bytes = new Uint8Array(header.length + samples.length + wavDataPadBytes(format, frames));
  bytes.set(header);
  bytes.set(samples, header.length);
  return { bytes, clippedSamples: encoder.clippedSamples };
}

/**
 * Plays the chosen heads from frame 0 through the offline driver for `frames` frames, handing each chunk of
 * interleaved stereo to `sink` (a WAV file being written). With `ready`, each chunk waits until its pages are
 * written (the render runs meanwhile on the workers): the mix of the first seconds overlaps the render of the rest
 * instead of following it.
 */
async function mixFrom0(
  session: Session,
  heads: readonly string[],
  frames: number,
  sink: WavFileWriter,
  onChunk: (done: number) => void,
  ready?: (startFrame: number, endFrame: number) => Promise<void>,
): Promise<void> {
  session.stop();
  session.relocate(undefined, 0);
  session.play(undefined);
  for (const id of session.headIds()) if (!heads.includes(id)) session.stop(id);
  const chunk = Math.max(session.bufferFrames, MIX_CHUNK_SECONDS * session.sampleRate);
  for (let done = 0; done < frames; ) {
    const n = Math.min(chunk, frames - done);
    if (ready) await ready(done, done + n);
    await sink.write(session.renderOffline(n, BOUNCE_BLOCK_FRAMES));
    done += n;
    onChunk(done);
  }
  session.stop();
}

function fileName(text: string): string {
  return text.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^_+|_+$/g, "") || "lane";
}

/** Bounces a project. Nothing in the project folder but its cache is written. */
export async function bounce(projectDir: string, options: BounceOptions): Promise<BounceResult> {
  const bits = options.bits ?? "32f";
  const session = await openSession(projectDir, {
    autosaveMs: 0,
    ...options.session,
    driver: "offline",
    offlineRendering: true,
    loops: false,
  });
  const files: WavFileWriter[] = [];
  try {
    const heads = options.head === undefined ? session.headIds() : [session.headId(options.head)];
    if (heads.length === 0) {
      throw new HostError(`the project in ${projectDir} has no attention heads: add one, then bounce`);
    }
    const frames = options.frames ?? session.renderer.endFrame();
    if (!Number.isInteger(frames) || frames <= 0) {
      throw new HostError(
        `the project in ${projectDir} has nothing to bounce (no regions): add a region first`,
      );
    }
    const format = { sampleRate: session.sampleRate, channels: 2, depth: bits };
    await mkdir(dirname(options.out), { recursive: true });
    const out = await WavFileWriter.create(options.out, format, frames);
    files.push(out);
    // To frame 0 without waiting for its pages (renderRange below renders from there; the mix waits per chunk).
    session.relocate(undefined, 0);
    // Every page of the span is requested at once (the workers stay busy); the mix follows chunk by chunk as
    // the pages of each chunk are written, on this thread, which is otherwise idle while the workers render.
    let renderDone = false;
    const rendering = session.renderer
      .renderRange(heads, 0, frames, (done, total) => options.onProgress?.({ phase: "render", done, total }))
      .finally(() => {
        renderDone = true;
      });
    rendering.catch(() => undefined);
    await mixFrom0(
      session,
      heads,
      frames,
      out,
      (done) => options.onProgress?.({ phase: "mix", done, total: frames }),
      async (startFrame, endFrame) => {
        if (!renderDone)
          await Promise.race([session.renderer.renderRange(heads, startFrame, endFrame), rendering]);
        else await rendering;
      },
    );
    await rendering;
    const { clippedSamples } = await out.finish();
    const stems: string[] = [];
    if (options.stems !== undefined) {
      await mkdir(options.stems, { recursive: true });
      const lanes = session.document.lanes;
      const control = session.engine.control;
      for (const [index, lane] of lanes.entries()) {
        for (let other = 0; other < lanes.length; other++) control.setLaneSolo(other, other === index);
        const path = join(options.stems, `${String(index + 1).padStart(2, "0")}-${fileName(lane.name)}.wav`);
        const stem = await WavFileWriter.create(path, format, frames);
        files.push(stem);
        await mixFrom0(session, heads, frames, stem, () => undefined);
        await stem.finish();
        stems.push(path);
        options.onProgress?.({ phase: "stems", done: index + 1, total: lanes.length });
      }
      for (const [index, lane] of lanes.entries()) control.setLaneSolo(index, lane.solo);
    }
    return {
      out: options.out,
      frames,
      sampleRate: session.sampleRate,
      seconds: frames / session.sampleRate,
      heads,
      stems,
      clippedSamples,
      pageMisses: session.engine.stats().pageMisses,
    };
  } catch (error) {
    // Files not finished are not left half-written (finished ones are complete and stay).
    await Promise.all(files.map((file) => file.abort()));
    throw error;
  } finally {
    await session.close();
  }
}
