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
  /** Chosen id (1-128 of A-Z a-z 0-9 _ . : -), e.g. to migrate artifacts; default `artifact_` + 16 random hex. */
  readonly id?: string;
  /** Creation time in ms since the Unix epoch; default now. */
  readonly createdAtMs?: number;
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
  /** The tool that made this artifact from its parents (every lineage edge to a parent carries it). */
  readonly tool: ToolRecord | null;
}

export interface LineageEdge {
  readonly childId: string;
  readonly parentId: string;
  readonly tool: ToolRecord | null;
}

export interface Annotation {
  readonly id: string;
  readonly artifactId: string;
  readonly message: string;
  readonly vibe: string | null;
  readonly source: string;
  readonly createdAtMs: number;
}

export interface NewAnnotation {
  readonly message: string;
  readonly vibe?: string;
  readonly source: string;
  readonly createdAtMs?: number;
}

/** Filters are combined with AND; results are newest first. */
export interface ArtifactQuery {
  /** Artifacts carrying every one of these tags. */
  readonly tags?: readonly string[];
  readonly space?: Space;
  readonly creator?: string;
  /** Inclusive lower bound of createdAtMs. */
  readonly sinceMs?: number;
  /** Exclusive upper bound of createdAtMs. */
  readonly untilMs?: number;
  /** Default 100, at most 10,000. */
  readonly limit?: number;
  readonly offset?: number;
}

/** An artifact reached while walking lineage, with its distance and the edges to its own parents. */
export interface LineageStep {
  readonly artifact: Artifact;
  /** 1 = parent, 2 = grandparent, ... (shortest path). */
  readonly depth: number;
  readonly parents: readonly LineageEdge[];
}

export interface ArtifactGraph {
  add(artifact: NewArtifact): Promise<Artifact>;
  /** Adds many in one transaction (all or none); parents may be earlier items of the same batch (by chosen id). */
  addMany(artifacts: readonly NewArtifact[]): Promise<Artifact[]>;
  get(id: string): Promise<Artifact | null>;
  byHash(hash: ContentHash): Promise<Artifact[]>;
  parents(id: string): Promise<LineageEdge[]>;
  children(id: string): Promise<LineageEdge[]>;
  ancestors(id: string, maxDepth?: number): Promise<Artifact[]>;
  descendants(id: string, maxDepth?: number): Promise<Artifact[]>;
  /** Ancestors with depth and the lineage edges of each (tool, params, context). */
  lineage(id: string, maxDepth?: number): Promise<LineageStep[]>;
  /** Every artifact of the variation set `id` belongs to (itself included), by variation index; [] if none. */
  variations(id: string): Promise<Artifact[]>;
  variationSet(variationSetId: string): Promise<Artifact[]>;
  annotate(artifactId: string, annotation: NewAnnotation): Promise<Annotation>;
  annotations(artifactId: string): Promise<Annotation[]>;
  find(query: ArtifactQuery): Promise<Artifact[]>;
  count(): Promise<number>;
  /** Every content hash some artifact names (the graph's roots for gc). */
  referencedHashes(): Promise<Set<ContentHash>>;
  close(): Promise<void>;
}
