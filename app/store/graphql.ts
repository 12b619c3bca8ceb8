// The GraphQL schema over the artifact graph (graphql-js): the one query language of the CLI, scripts and the UI.
// Owns the SDL and its resolvers; `runGraphQuery` is the entry point. Callers: app/cli, the engine host, scripts.
import { buildSchema, type ExecutionResult, type GraphQLError, graphql } from "graphql";
import { StoreError } from "./errors";
import type {
  Annotation,
  Artifact,
  ArtifactGraph,
  ArtifactQuery,
  LineageEdge,
  LineageStep,
  ToolRecord,
} from "./types";

export const GRAPH_SCHEMA_SDL = `
"An encoding in the library: content hash, space, tags, creator, time, lineage."
type Artifact {
  id: ID!
  "BLAKE3-128 of the bytes (32 hex); the object is objects/<first 2>/<rest>."
  hash: String!
  space: String!
  mediaType: String!
  tags: [String!]!
  creator: String!
  "ISO-8601 UTC."
  createdAt: String!
  createdAtMs: Float!
  "JSON object as a string."
  metadata: String!
  variationSetId: String
  variationIndex: Int
  "The projection or sampler that made this artifact from its parents."
  tool: Tool
  parents: [Artifact!]!
  children: [Artifact!]!
  "Edges to the parents (each with the tool, its params and inference context)."
  parentEdges: [LineageEdge!]!
  childEdges: [LineageEdge!]!
  ancestors(maxDepth: Int): [Artifact!]!
  descendants(maxDepth: Int): [Artifact!]!
  "Ancestors nearest first, each with its depth and its own parent edges."
  lineage(maxDepth: Int): [LineageStep!]!
  "Every member of this artifact's variation set (itself included), by index."
  variations: [Artifact!]!
  annotations: [Annotation!]!
}

type Tool {
  "import, projection, sampler or edit"
  kind: String!
  name: String!
  "JSON object as a string."
  params: String!
  "Inference context (temperature, top_p, seed, style, ...) as a JSON string, or null."
  context: String
}

type LineageEdge {
  childId: ID!
  parentId: ID!
  child: Artifact!
  parent: Artifact!
  tool: Tool
}

type LineageStep {
  depth: Int!
  artifact: Artifact!
  parents: [LineageEdge!]!
}

type Annotation {
  id: ID!
  artifactId: ID!
  message: String!
  vibe: String
  source: String!
  createdAt: String!
}

type Query {
  artifact(id: ID!): Artifact
  artifactsByHash(hash: String!): [Artifact!]!
  "Filters combine with AND; newest first. since/until: ISO-8601 or ms since 1970; until is exclusive."
  artifacts(
    tag: String
    tags: [String!]
    space: String
    creator: String
    since: String
    until: String
    limit: Int = 100
    offset: Int = 0
  ): [Artifact!]!
  variationSet(id: ID!): [Artifact!]!
  artifactCount: Int!
}

type Mutation {
  annotate(artifactId: ID!, message: String!, vibe: String, source: String!): Annotation!
}
`;

const schema = buildSchema(GRAPH_SCHEMA_SDL);

function iso(ms: number): string {
  return new Date(ms).toISOString();
}

function parseTime(value: string, name: string): number {
  const trimmed = value.trim();
  const ms = /^-?\d+$/.test(trimmed) ? Number(trimmed) : Date.parse(trimmed);
  if (!Number.isFinite(ms)) {
    throw new StoreError(
      "bad-query",
      `${name}: "${value}" is not a time. Use ISO-8601 (2026-11-21T10:00:00Z) or milliseconds since 1970.`,
    );
  }
  return ms;
}

class ToolNode {
  readonly kind: string;
  readonly name: string;
  readonly params: string;
  readonly context: string | null;
  constructor(tool: ToolRecord) {
    this.kind = tool.kind;
    this.name = tool.name;
    this.params = JSON.stringify(tool.params);
    this.context = tool.context === undefined ? null : JSON.stringify(tool.context);
  }
}

class EdgeNode {
  readonly #graph: ArtifactGraph;
  readonly childId: string;
  readonly parentId: string;
  readonly tool: ToolNode | null;
  constructor(graph: ArtifactGraph, edge: LineageEdge) {
    this.#graph = graph;
    this.childId = edge.childId;
    this.parentId = edge.parentId;
    this.tool = edge.tool === null ? null : new ToolNode(edge.tool);
  }
  async child(): Promise<ArtifactNode> {
    return ArtifactNode.load(this.#graph, this.childId);
  }
  async parent(): Promise<ArtifactNode> {
    return ArtifactNode.load(this.#graph, this.parentId);
  }
}

class AnnotationNode {
  readonly id: string;
  readonly artifactId: string;
  readonly message: string;
  readonly vibe: string | null;
  readonly source: string;
  readonly createdAt: string;
  constructor(annotation: Annotation) {
    this.id = annotation.id;
    this.artifactId = annotation.artifactId;
    this.message = annotation.message;
    this.vibe = annotation.vibe;
    this.source = annotation.source;
    this.createdAt = iso(annotation.createdAtMs);
  }
}

class ArtifactNode {
  readonly #graph: ArtifactGraph;
  readonly #artifact: Artifact;
  constructor(graph: ArtifactGraph, artifact: Artifact) {
    this.#graph = graph;
    this.#artifact = artifact;
  }

  static async load(graph: ArtifactGraph, id: string): Promise<ArtifactNode> {
    const artifact = await graph.get(id);
    if (artifact === null) throw new StoreError("unknown-artifact", `artifact "${id}" is not in the graph.`);
    return new ArtifactNode(graph, artifact);
  }

  #wrap(artifacts: readonly Artifact[]): ArtifactNode[] {
    return artifacts.map((artifact) => new ArtifactNode(this.#graph, artifact));
  }

  get id(): string {
    return this.#artifact.id;
  }
  get hash(): string {
    return this.#artifact.hash;
  }
  get space(): string {
    return this.#artifact.space;
  }
  get mediaType(): string {
    return this.#artifact.mediaType;
  }
  get tags(): readonly string[] {
    return this.#artifact.tags;
  }
  get creator(): string {
    return this.#artifact.creator;
  }
  get createdAt(): string {
    return iso(this.#artifact.createdAtMs);
  }
  get createdAtMs(): number {
    return this.#artifact.createdAtMs;
  }
  get metadata(): string {
    return JSON.stringify(this.#artifact.metadata);
  }
  get variationSetId(): string | null {
    return this.#artifact.variationSetId;
  }
  get variationIndex(): number | null {
    return this.#artifact.variationIndex;
  }
  get tool(): ToolNode | null {
    return this.#artifact.tool === null ? null : new ToolNode(this.#artifact.tool);
  }
  async parents(): Promise<ArtifactNode[]> {
    const edges = await this.#graph.parents(this.id);
    return Promise.all(edges.map((edge) => ArtifactNode.load(this.#graph, edge.parentId)));
  }
  async children(): Promise<ArtifactNode[]> {
    const edges = await this.#graph.children(this.id);
    return Promise.all(edges.map((edge) => ArtifactNode.load(this.#graph, edge.childId)));
  }
  async parentEdges(): Promise<EdgeNode[]> {
    return (await this.#graph.parents(this.id)).map((edge) => new EdgeNode(this.#graph, edge));
  }
  async childEdges(): Promise<EdgeNode[]> {
    return (await this.#graph.children(this.id)).map((edge) => new EdgeNode(this.#graph, edge));
  }
  async ancestors(args: { maxDepth?: number | null }): Promise<ArtifactNode[]> {
    return this.#wrap(await this.#graph.ancestors(this.id, args.maxDepth ?? undefined));
  }
  async descendants(args: { maxDepth?: number | null }): Promise<ArtifactNode[]> {
    return this.#wrap(await this.#graph.descendants(this.id, args.maxDepth ?? undefined));
  }
  async lineage(args: {
    maxDepth?: number | null;
  }): Promise<Array<{ depth: number; artifact: ArtifactNode; parents: EdgeNode[] }>> {
    const steps: LineageStep[] = await this.#graph.lineage(this.id, args.maxDepth ?? undefined);
    return steps.map((step) => ({
      depth: step.depth,
      artifact: new ArtifactNode(this.#graph, step.artifact),
      parents: step.parents.map((edge) => new EdgeNode(this.#graph, edge)),
    }));
  }
  async variations(): Promise<ArtifactNode[]> {
    return this.#wrap(await this.#graph.variations(this.id));
  }
  async annotations(): Promise<AnnotationNode[]> {
    return (await this.#graph.annotations(this.id)).map((annotation) => new AnnotationNode(annotation));
  }
}

interface ArtifactsArgs {
  tag?: string | null;
  tags?: string[] | null;
  space?: string | null;
  creator?: string | null;
  since?: string | null;
  until?: string | null;
  limit?: number | null;
  offset?: number | null;
}

function rootFor(graph: ArtifactGraph) {
  return {
    artifact: async (args: { id: string }) => {
      const artifact = await graph.get(args.id);
      return artifact === null ? null : new ArtifactNode(graph, artifact);
    },
    artifactsByHash: async (args: { hash: string }) =>
      (await graph.byHash(args.hash)).map((artifact) => new ArtifactNode(graph, artifact)),
    artifacts: async (args: ArtifactsArgs) => {
      const tags = [...(args.tag ? [args.tag] : []), ...(args.tags ?? [])];
      const query: ArtifactQuery = {
        ...(tags.length > 0 ? { tags } : {}),
        ...(args.space ? { space: args.space } : {}),
        ...(args.creator ? { creator: args.creator } : {}),
        ...(args.since ? { sinceMs: parseTime(args.since, "since") } : {}),
        ...(args.until ? { untilMs: parseTime(args.until, "until") } : {}),
        ...(args.limit !== null && args.limit !== undefined ? { limit: args.limit } : {}),
        ...(args.offset !== null && args.offset !== undefined ? { offset: args.offset } : {}),
      };
      return (await graph.find(query)).map((artifact) => new ArtifactNode(graph, artifact));
    },
    variationSet: async (args: { id: string }) =>
      (await graph.variationSet(args.id)).map((artifact) => new ArtifactNode(graph, artifact)),
    artifactCount: () => graph.count(),
    annotate: async (args: { artifactId: string; message: string; vibe?: string | null; source: string }) =>
      new AnnotationNode(
        await graph.annotate(args.artifactId, {
          message: args.message,
          source: args.source,
          ...(args.vibe ? { vibe: args.vibe } : {}),
        }),
      ),
  };
}

export interface GraphQueryResult {
  readonly data: Record<string, unknown> | null;
  /** Messages for the user (syntax, unknown fields, bad arguments); absent when the query succeeded. */
  readonly errors?: readonly string[];
}

/** Runs a GraphQL query or mutation against the graph. Errors come back as messages, never thrown. */
export async function runGraphQuery(
  graph: ArtifactGraph,
  source: string,
  variables?: Record<string, unknown>,
): Promise<GraphQueryResult> {
  const result: ExecutionResult = await graphql({
    schema,
    source,
    rootValue: rootFor(graph),
    variableValues: variables ?? null,
  });
  const data = (result.data as Record<string, unknown> | null | undefined) ?? null;
  if (result.errors === undefined || result.errors.length === 0)
    return { data: JSON.parse(JSON.stringify(data)) };
  return {
    data: data === null ? null : JSON.parse(JSON.stringify(data)),
    errors: result.errors.map(describeError),
  };
}

function describeError(error: GraphQLError): string {
  const where = error.locations?.[0];
  const at = where === undefined ? "" : ` (line ${where.line}, column ${where.column})`;
  const path = error.path === undefined ? "" : ` at ${error.path.join(".")}`;
  return `${error.message}${at}${path}`;
}
