// Contracts of the lookahead renderer (app/render), its generative realization step, and the engine host that
// drives them (app/host). Types only. The renderer turns a ProjectDocument into pages of the canvas file, ahead
// of where each attention head is heard; the host feeds it head positions and maps its stream keys into the
// engine's control block.
import type { AttentionHead, ProjectDocument, Region } from "../core/document";
import type { MidiSequence } from "../spaces/midi/sequence";
import type { ArtifactGraph, ContentStore } from "../store/types";

export interface RenderConfig {
  readonly sampleRate: number;
  /** Output channels of every page (2: interleaved stereo). */
  readonly channels: number;
  readonly framesPerPage: number;
  /** How far ahead of each head's audible position pages are kept rendered (default about 2 s of frames). */
  readonly lookaheadFrames: number;
  /** Worker threads that render pages (default: one per core). */
  readonly workers: number;
  /** SoundFont for the midi -> audio projection (see app/spaces/synth/soundfonts.ts). */
  readonly soundfontPath: string;
  /**
   * Heads are played by offline rendering, which waits for the pages it needs (a bounce): no page is urgent, so
   * workers get long runs of pages everywhere, also at a playing head (default false: short runs there).
   */
  readonly offline?: boolean;
}

/** What the host tells the renderer about one attention head, many times a second. */
export interface HeadView {
  readonly headId: string;
  /** The next timeline frame the engine will render for this head (its published position). */
  readonly audibleFrame: number;
  readonly playing: boolean;
}

export interface RendererStats {
  readonly pagesRendered: number;
  /** Messages that sent pages to a worker: each carries a run of one stream's consecutive pages. */
  readonly runsSent: number;
  /** Per worker: milliseconds spent rendering and writing pages so far (how evenly the work is spread). */
  readonly workerBusyMs: readonly number[];
  readonly pagesCopied: number;
  readonly jobsDropped: number;
  readonly queueLength: number;
  /** Per head: frames rendered ahead of its audible position, contiguous from it. */
  readonly readyAheadFrames: Readonly<Record<string, number>>;
}

export interface LookaheadRenderer {
  /** Stream key per lane, in document lane order, for this head; 0n where the lane has nothing to play. */
  streamKeys(headId: string): readonly bigint[];
  /** Called with a listener that the host uses to re-map a head's streams once pages of new keys are ready. */
  onStreamKeysChanged(listener: (headId: string, keys: readonly bigint[]) => void): () => void;
  /** Replaces the document after an edit: only pages whose content changed are rendered again. */
  setDocument(document: ProjectDocument): void;
  /** Keeps [audibleFrame, audibleFrame + lookaheadFrames) rendered for every head, nearest pages first. */
  updateHeads(heads: readonly HeadView[]): void;
  /** A seek or loop jump of one head: bumps its generation and drops queued work for its old window. */
  seek(headId: string, frame: number): number;
  /** Renders every page of [startFrame, endFrame) for these heads; resolves once all are written. */
  renderRange(
    headIds: readonly string[],
    startFrame: number,
    endFrame: number,
    onProgress?: (donePages: number, totalPages: number) => void,
  ): Promise<void>;
  /** The frame where the document's content ends, release tails included. */
  endFrame(): number;
  stats(): RendererStats;
  close(): Promise<void>;
}

/** A generative region (is_output, carrier "diffusive") realized for one head: the material it plays. */
export interface Realization {
  readonly sequence: MidiSequence;
  /** The artifact recorded for it (space "midi"), with lineage to its conditioning and the head's context. */
  readonly artifactId: string;
  readonly hash: string;
}

export interface RealizeRequest {
  readonly document: ProjectDocument;
  readonly region: Region;
  readonly head: AttentionHead;
  readonly store: ContentStore;
  readonly graph: ArtifactGraph;
}

/** Same document, region and head context -> the same bytes (and the same artifact, found again by hash). */
export type RealizeGenerative = (request: RealizeRequest) => Promise<Realization>;
