// Contracts of the content store and the artifact graph, shared by their implementation (app/store) and the
// code that imports, projects and samples encodings (app/spaces, app/render). Types only.

/** BLAKE3 of the bytes, truncated to 128 bits, 32 lowercase hex characters. */
export type ContentHash = string;

/** What an encoding is. Open-ended: new spaces are added by new projections and samplers. */
export type Space = "midi" | "audio" | "abc" | "tokens" | "style" | "text" | (string & {});

export interface ContentStore {
  readonly root: string;
  /** Stores bytes atomically and idempotently; returns their hash. */
  put(bytes: Uint8Array): Promise<ContentHash>;
  /** Streams a file through the hash into the store without holding it in memory. */
  putFile(path: string): Promise<ContentHash>;
  get(hash: ContentHash): Promise<Uint8Array>;
  has(hash: ContentHash): Promise<boolean>;
  /** Path of the object file (read-only use). */
  pathOf(hash: ContentHash): string;
}

/** The tool that made an artifact from its parents: a projection (space -> space) or a sampler. */
export interface ToolRecord {
  readonly kind: "import" | "projection" | "sampler" | "edit";
  /** e.g. "import.midi", "abc->midi", "midi->audio.sf2", "markov.v1" */
  readonly name: string;
  readonly params: Readonly<Record<string, unknown>>;
  /** Inference context (temperature, top_p, seed, style, ...) where the tool sampled. */
  readonly context?: Readonly<Record<string, unknown>> | undefined;
}

export interface NewArtifact {
  readonly hash: ContentHash;
  readonly space: Space;
  /** IANA media type of the encoding, e.g. "audio/midi", "audio/wav", "text/vnd.abc". */
  readonly mediaType: string;
  readonly tags?: readonly string[];
  readonly creator: string;
  readonly metadata?: Readonly<Record<string, unknown>>;
  readonly parents?: readonly string[];
  readonly tool?: ToolRecord;
  readonly variationSetId?: string;
}

export interface Artifact {
  readonly id: string;
  readonly hash: ContentHash;
  readonly space: Space;
  readonly mediaType: string;
  readonly tags: readonly string[];
  readonly creator: string;
  /** Milliseconds since the Unix epoch. */
  readonly createdAtMs: number;
  readonly metadata: Readonly<Record<string, unknown>>;
  readonly variationSetId: string | null;
  readonly variationIndex: number | null;
}

export interface LineageEdge {
  readonly childId: string;
  readonly parentId: string;
  readonly tool: ToolRecord | null;
}

export interface ArtifactGraph {
  add(artifact: NewArtifact): Promise<Artifact>;
  get(id: string): Promise<Artifact | null>;
  byHash(hash: ContentHash): Promise<Artifact[]>;
  parents(id: string): Promise<LineageEdge[]>;
  ancestors(id: string): Promise<Artifact[]>;
  descendants(id: string): Promise<Artifact[]>;
  close(): Promise<void>;
}
