// Test support for the lookahead renderer: a real library (content store + artifact graph), a real canvas file,
// the Debian TimGM6mb SoundFont, MIDI and WAV encodings we write, and a deterministic stand-in realize function.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { CanvasReader, CanvasWriter, createCanvasFile } from "../../app/audio/canvas-file";
import { regionSpec } from "../../app/core/canvas/region-spec";
import {
  emptyDocument,
  newHead,
  newLane,
  newRegion,
  type ProjectDocument,
  sequentialIds,
} from "../../app/core/document";
import type { AttentionHead, InferenceContext, Lane, Region } from "../../app/core/document/types";
import { createLookaheadRenderer, type LookaheadRendererImpl } from "../../app/render";
import type { RealizeGenerative, RenderConfig } from "../../app/render/types";
import { writeWav } from "../../app/spaces/audio/wav";
import type { MidiNote, MidiSequence } from "../../app/spaces/midi/sequence";
import { writeMidi } from "../../app/spaces/midi/smf";
import { hashBytes, type Library, openLibrary } from "../../app/store";

export const SOUNDFONT = "/usr/share/sounds/sf2/TimGM6mb.sf2";
export const SAMPLE_RATE = 48_000;
export const FRAMES_PER_PAGE = 4096;

export function sequenceOf(notes: readonly MidiNote[], program = 0, channel = 0, ppq = 480): MidiSequence {
  const end = Math.max(0, ...notes.map((n) => n.startTick + n.durationTicks));
  return {
    ppq,
    tempos: [{ tick: 0, bpm: 120 }],
    meters: [{ tick: 0, numerator: 4, denominator: 4 }],
    tracks: [{ name: "t", channel, program, notes, controlChanges: [] }],
    durationTicks: end,
  };
}

export interface Fixture {
  readonly dir: string;
  readonly library: Library;
  readonly ids: ReturnType<typeof sequentialIds>;
  putMidi(sequence: MidiSequence): Promise<string>;
  putSine(seconds: number, hz: number): Promise<string>;
  canvas(name?: string): CanvasWriter;
  reader(name?: string): CanvasReader;
  config(fields?: Partial<RenderConfig>): RenderConfig;
  renderer(
    document: ProjectDocument,
    fields?: Partial<RenderConfig>,
    extra?: { canvas?: string; retireGraceMs?: number; switchMarginFrames?: number },
  ): Promise<LookaheadRendererImpl>;
  dispose(): Promise<void>;
}

export async function createFixture(): Promise<Fixture> {
  const dir = mkdtempSync(join(tmpdir(), "lc-render-"));
  const library = await openLibrary(join(dir, "library"));
  const ids = sequentialIds();
  const writers: CanvasWriter[] = [];
  const renderers: LookaheadRendererImpl[] = [];
  const canvases = new Set<string>();
  const canvasPath = (name: string) => join(dir, `${name}.lcc`);
  const fixture: Fixture = {
    dir,
    library,
    ids,
    async putMidi(sequence) {
      const hash = await library.store.put(writeMidi(sequence));
      if ((await library.graph.byHash(hash)).length === 0) {
        await library.graph.add({ hash, space: "midi", mediaType: "audio/midi", creator: "test" });
      }
      return hash;
    },
    async putSine(seconds, hz) {
      const frames = Math.round(seconds * SAMPLE_RATE);
      const left = new Float32Array(frames);
      for (let i = 0; i < frames; i++) left[i] = 0.5 * Math.sin((2 * Math.PI * hz * i) / SAMPLE_RATE);
      const { bytes } = writeWav({ sampleRate: SAMPLE_RATE, frames, channelData: [left, left] }, "32f");
      const hash = await library.store.put(bytes);
      if ((await library.graph.byHash(hash)).length === 0) {
        await library.graph.add({ hash, space: "audio", mediaType: "audio/wav", creator: "test" });
      }
      return hash;
    },
    canvas(name = "canvas") {
      const path = canvasPath(name);
      if (!canvases.has(path)) {
        createCanvasFile(path, {
          sampleRate: SAMPLE_RATE,
          channels: 2,
          framesPerPage: FRAMES_PER_PAGE,
          pageCapacity: 8192,
        });
        canvases.add(path);
      }
      const writer = new CanvasWriter(path);
      writers.push(writer);
      return writer;
    },
    reader(name = "canvas") {
      return new CanvasReader(canvasPath(name));
    },
    config(fields = {}) {
      return {
        sampleRate: SAMPLE_RATE,
        channels: 2,
        framesPerPage: FRAMES_PER_PAGE,
        lookaheadFrames: 2 * SAMPLE_RATE,
        workers: 2,
        soundfontPath: SOUNDFONT,
        ...fields,
      };
    },
    async renderer(document, fields = {}, extra = {}) {
      const renderer = await createLookaheadRenderer({
        document,
        store: library.store,
        graph: library.graph,
        canvas: fixture.canvas(extra.canvas),
        config: fixture.config(fields),
        realize: testRealize,
        ...(extra.retireGraceMs !== undefined ? { retireGraceMs: extra.retireGraceMs } : {}),
        ...(extra.switchMarginFrames !== undefined ? { switchMarginFrames: extra.switchMarginFrames } : {}),
      });
      renderers.push(renderer);
      return renderer;
    },
    async dispose() {
      for (const renderer of renderers) await renderer.close();
      for (const writer of writers) writer.close();
      await library.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
  return fixture;
}

/** A document of lanes, each holding the given regions (fields without ids), and heads. */
export function documentOf(
  ids: ReturnType<typeof sequentialIds>,
  lanes: ReadonlyArray<ReadonlyArray<Omit<Parameters<typeof newRegion>[1], "laneId">>>,
  heads: ReadonlyArray<Partial<InferenceContext>>,
): ProjectDocument {
  const base = emptyDocument();
  const laneList: Lane[] = lanes.map((_, i) => newLane(ids, { name: `lane ${i}` }));
  const regions: Region[] = lanes.flatMap((regionFields, i) =>
    regionFields.map((fields) => newRegion(ids, { ...fields, laneId: laneList[i]!.id })),
  );
  const headList: AttentionHead[] = heads.map((context, i) =>
    newHead(ids, {
      name: `head ${i}`,
      context: { temperature: 1, topP: 0.95, seed: 1, style: null, ...context },
    }),
  );
  return { ...base, lanes: laneList, regions, heads: headList };
}

export const GENERATIVE_SPEC = regionSpec([0, 1, 0, 1, 0, 1], { is_output: true, carrier: "diffusive" });

/**
 * Stand-in for realizeGenerative (the "realize" helper's): a seeded variation of the region's own notes, pitches
 * moved by an LCG of the head's seed. Same seed, same bytes.
 */
export const testRealize: RealizeGenerative = async ({ region, head, store }) => {
  const { importMidi } = await import("../../app/spaces/midi/smf");
  const source = importMidi(await store.get(region.encodingHash), "conditioning").sequence;
  let state = head.context.seed >>> 0;
  const next = () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state;
  };
  const track = source.tracks[0]!;
  const notes = track.notes.map((note) => ({ ...note, pitch: 48 + (next() % 24) }));
  const sequence: MidiSequence = { ...source, tracks: [{ ...track, notes }] };
  const hash = hashBytes(writeMidi(sequence));
  return { sequence, artifactId: `test-${hash}`, hash };
};

export function pagesOf(reader: CanvasReader, key: bigint, first: number, count: number): Float32Array {
  const out = new Float32Array(count * FRAMES_PER_PAGE * 2);
  for (let p = 0; p < count; p++) {
    const page = reader.pageFrames(key, first + p);
    if (!page) throw new Error(`page ${first + p} of stream ${key} is not written`);
    out.set(page.subarray(0, FRAMES_PER_PAGE * 2), p * FRAMES_PER_PAGE * 2);
  }
  return out;
}

export function waitFor(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const tick = () => {
      if (condition()) resolve();
      else if (Date.now() - started > timeoutMs) reject(new Error("timed out waiting for the renderer"));
      else setTimeout(tick, 5);
    };
    tick();
  });
}
