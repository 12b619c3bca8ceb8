// The artifact graph: artifacts, lineage edges (with the tool that made each child), variation sets and
// annotations, in one SQLite file (`<root>/graph.sqlite`) through node-sqlite3-wasm (same build in Node and in
// Electron's main process). Owns the schema and every query. Callers: app/store/index.ts factories only.
import { randomBytes } from "node:crypto";
import { existsSync, rmdirSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import type { SQLiteValue, Database as SqliteDatabase } from "node-sqlite3-wasm";
import { StoreError } from "./errors";
import { isContentHash } from "./hash";
import type {
  Annotation,
  Artifact,
  ArtifactGraph,
  ArtifactQuery,
  ContentHash,
  LineageEdge,
  LineageStep,
  NewAnnotation,
  NewArtifact,
  ToolRecord,
} from "./types";

// The package is CommonJS without static named exports, so ESM named imports fail at run time.
const sqlite = createRequire(import.meta.url)("node-sqlite3-wasm") as typeof import("node-sqlite3-wasm");
const { Database, SQLite3Error } = sqlite;
type Database = SqliteDatabase;
type Statement = ReturnType<SqliteDatabase["prepare"]>;

export const GRAPH_FILE = "graph.sqlite";
const FORMAT_NAME = "latent-canvas-artifact-graph";
const FORMAT_VERSION = 1;
const DEFAULT_LIMIT = 100;
const MAX_LIMIT = 10_000;
const DEFAULT_MAX_DEPTH = 100_000;
const LOCK_WAIT_MS = 10_000;
/** How long the file lock is kept after a call takes it, so a burst of calls pays one lock round trip. */
const LOCK_HOLD_MS = 25;

const SCHEMA = `
CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE artifacts (
  id TEXT PRIMARY KEY,
  hash TEXT NOT NULL,
  space TEXT NOT NULL,
  media_type TEXT NOT NULL,
  creator TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL,
  metadata TEXT NOT NULL,
  variation_set_id TEXT,
  variation_index INTEGER,
  tool_kind TEXT,
  tool_name TEXT,
  tool_params TEXT,
  tool_context TEXT,
  UNIQUE (variation_set_id, variation_index)
);
CREATE INDEX artifacts_hash ON artifacts (hash);
CREATE INDEX artifacts_time ON artifacts (created_at_ms);
CREATE INDEX artifacts_space_time ON artifacts (space, created_at_ms);
CREATE INDEX artifacts_creator_time ON artifacts (creator, created_at_ms);
CREATE TABLE tags (
  tag TEXT NOT NULL,
  artifact_id TEXT NOT NULL REFERENCES artifacts (id),
  PRIMARY KEY (tag, artifact_id)
) WITHOUT ROWID;
CREATE INDEX tags_artifact ON tags (artifact_id, tag);
CREATE TABLE edges (
  child_id TEXT NOT NULL REFERENCES artifacts (id),
  parent_id TEXT NOT NULL REFERENCES artifacts (id),
  ordinal INTEGER NOT NULL,
  PRIMARY KEY (child_id, parent_id)
) WITHOUT ROWID;
CREATE INDEX edges_parent ON edges (parent_id, child_id);
CREATE TABLE annotations (
  id TEXT PRIMARY KEY,
  artifact_id TEXT NOT NULL REFERENCES artifacts (id),
  message TEXT NOT NULL,
  vibe TEXT,
  source TEXT NOT NULL,
  created_at_ms INTEGER NOT NULL
);
CREATE INDEX annotations_artifact ON annotations (artifact_id, created_at_ms);
`;

const ARTIFACT_COLUMNS = `a.id, a.hash, a.space, a.media_type, a.creator, a.created_at_ms, a.metadata,
  a.variation_set_id, a.variation_index, a.tool_kind, a.tool_name, a.tool_params, a.tool_context,
  (SELECT json_group_array(t.tag) FROM (SELECT tag FROM tags WHERE artifact_id = a.id ORDER BY tag) t) AS tags_json`;

type Row = Record<string, SQLiteValue>;

const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,128}$/;
const SPACE_PATTERN = /^[a-z0-9][a-z0-9._+-]{0,63}$/;

function text(row: Row, key: string): string {
  const value = row[key];
  return typeof value === "string" ? value : String(value ?? "");
}

function textOrNull(row: Row, key: string): string | null {
  const value = row[key];
  return value === null || value === undefined ? null : String(value);
}

function num(row: Row, key: string): number {
  const value = row[key];
  return typeof value === "bigint" ? Number(value) : Number(value ?? 0);
}

function parseObject(json: string | null): Record<string, unknown> {
  if (json === null) return {};
  const value: unknown = JSON.parse(json);
  return value !== null && typeof value === "object" && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

function toolOf(row: Row): ToolRecord | null {
  const kind = textOrNull(row, "tool_kind");
  if (kind === null) return null;
  const contextJson = textOrNull(row, "tool_context");
  return {
    kind: kind as ToolRecord["kind"],
    name: text(row, "tool_name"),
    params: parseObject(textOrNull(row, "tool_params")),
    context: contextJson === null ? undefined : parseObject(contextJson),
  };
}

function edgeOf(row: Row): LineageEdge {
  return { childId: text(row, "child_id"), parentId: text(row, "parent_id"), tool: toolOf(row) };
}

function artifactOf(row: Row): Artifact {
  const tags: unknown = JSON.parse(textOrNull(row, "tags_json") ?? "[]");
  const variationIndex = row.variation_index;
  return {
    id: text(row, "id"),
    hash: text(row, "hash"),
    space: text(row, "space"),
    mediaType: text(row, "media_type"),
    tags: Array.isArray(tags) ? tags.map(String) : [],
    creator: text(row, "creator"),
    createdAtMs: num(row, "created_at_ms"),
    metadata: parseObject(textOrNull(row, "metadata")),
    variationSetId: textOrNull(row, "variation_set_id"),
    variationIndex:
      variationIndex === null || variationIndex === undefined ? null : num(row, "variation_index"),
    tool: toolOf(row),
  };
}

function annotationOf(row: Row): Annotation {
  return {
    id: text(row, "id"),
    artifactId: text(row, "artifact_id"),
    message: text(row, "message"),
    vibe: textOrNull(row, "vibe"),
    source: text(row, "source"),
    createdAtMs: num(row, "created_at_ms"),
  };
}

function jsonOrThrow(value: unknown, what: string): string {
  let json: string | undefined;
  try {
    json = JSON.stringify(value);
  } catch (error) {
    throw new StoreError(
      "bad-artifact",
      `${what} cannot be stored as JSON (${error instanceof Error ? error.message : String(error)}). Use plain objects, arrays, strings, numbers and booleans.`,
    );
  }
  if (json === undefined)
    throw new StoreError("bad-artifact", `${what} is not a JSON value. Pass a plain object.`);
  return json;
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

function isBusy(error: unknown): boolean {
  return error instanceof SQLite3Error && /locked|busy/i.test(error.message);
}

function isCorruption(error: unknown): boolean {
  return error instanceof SQLite3Error && /not a database|malformed|corrupt/i.test(error.message);
}

function randomId(prefix: string, bytes: number): string {
  return `${prefix}${randomBytes(bytes).toString("hex")}`;
}

function clampDepth(maxDepth: number | undefined): number {
  if (maxDepth === undefined) return DEFAULT_MAX_DEPTH;
  if (!Number.isInteger(maxDepth) || maxDepth < 1) {
    throw new StoreError("bad-query", `maxDepth must be a whole number of at least 1 (got ${maxDepth}).`);
  }
  return maxDepth;
}

/**
 * Removes the SQLite lock folder a crashed process left beside the graph, if it is older than `olderThanMs`
 * (live holders renew it every burst, at most a few seconds apart). Returns whether it removed one. Meant for a
 * single-instance caller at start-up, or a user told so by a "graph-locked" error (`lcanvas store unlock`).
 */
export function removeStaleGraphLock(root: string, olderThanMs = 30_000): boolean {
  const lock = `${join(root, GRAPH_FILE)}.lock`;
  let ageMs: number;
  try {
    ageMs = Date.now() - statSync(lock).mtimeMs;
  } catch {
    return false;
  }
  if (ageMs < olderThanMs) {
    throw new StoreError(
      "graph-locked",
      `the graph lock ${lock} is only ${(ageMs / 1000).toFixed(1)} s old, so a process may still be using the library. Close other Latent Canvas processes and retry.`,
    );
  }
  rmdirSync(lock);
  return true;
}

export interface GraphOptions {
  /** When given, `add` refuses artifacts whose bytes are not in this store (library mode). */
  readonly objectExists?: (hash: ContentHash) => Promise<boolean>;
  /** How long to wait for another process's lock before failing with "graph-locked". Default 10 s. */
  readonly lockWaitMs?: number;
}

export class SqliteArtifactGraph implements ArtifactGraph {
  readonly path: string;
  readonly #db: Database;
  readonly #objectExists: GraphOptions["objectExists"];
  readonly #lockWaitMs: number;
  readonly #statements = new Map<string, Statement>();
  #holdTimer: ReturnType<typeof setTimeout> | undefined;
  /** Open graphs of this process: a busy wait is synchronous, so it releases their held locks itself. */
  static readonly #openGraphs = new Set<SqliteArtifactGraph>();

  private constructor(path: string, db: Database, options: GraphOptions) {
    this.path = path;
    this.#db = db;
    this.#objectExists = options.objectExists;
    this.#lockWaitMs = options.lockWaitMs ?? LOCK_WAIT_MS;
  }

  /** Opens (creating if absent) `<root>/graph.sqlite`; a file that is not a graph is refused, never overwritten. */
  static open(root: string, options: GraphOptions = {}): SqliteArtifactGraph {
    const path = join(root, GRAPH_FILE);
    const existed = existsSync(path) && statSync(path).size > 0;
    let db: Database;
    try {
      db = new Database(path);
    } catch (error) {
      throw SqliteArtifactGraph.#openError(path, error);
    }
    const graph = new SqliteArtifactGraph(path, db, options);
    SqliteArtifactGraph.#openGraphs.add(graph);
    try {
      graph.#prepareSchema(existed);
    } catch (error) {
      SqliteArtifactGraph.#openGraphs.delete(graph);
      if (graph.#holdTimer !== undefined) clearTimeout(graph.#holdTimer);
      db.close();
      throw error instanceof StoreError ? error : SqliteArtifactGraph.#openError(path, error);
    }
    return graph;
  }

  static #openError(path: string, error: unknown): StoreError {
    const detail = error instanceof Error ? error.message : String(error);
    if (isBusy(error)) return SqliteArtifactGraph.#lockedError(path, LOCK_WAIT_MS);
    return new StoreError(
      "corrupt-graph",
      `the artifact graph ${path} cannot be read (SQLite: ${detail}). Restore it from a backup, or move it aside to start an empty graph; the content store (objects/) is not affected.`,
    );
  }

  static #lockedError(path: string, waitedMs: number): StoreError {
    return new StoreError(
      "graph-locked",
      `the artifact graph ${path} stayed locked for ${waitedMs / 1000} s. Close other Latent Canvas processes using this library; if none is running, a crashed one left the lock folder ${path}.lock behind: run "lcanvas store unlock" (or remove that folder) and retry.`,
    );
  }

  #prepareSchema(existed: boolean): void {
    const tables = this.#retry(() => this.#db.all("SELECT name FROM sqlite_master WHERE type = 'table'")).map(
      (row) => String((row as Row).name),
    );
    if (tables.length === 0) {
      if (existed) {
        throw new StoreError(
          "corrupt-graph",
          `${this.path} is a SQLite file without the artifact graph's tables. Move it aside (the graph starts empty) or point --store at the right library.`,
        );
      }
      this.#transaction(() => {
        this.#db.exec(SCHEMA);
        this.#db.run("INSERT INTO meta (key, value) VALUES ('format', ?), ('version', ?)", [
          FORMAT_NAME,
          String(FORMAT_VERSION),
        ]);
      });
      return;
    }
    const format = tables.includes("meta")
      ? (this.#db.get("SELECT value FROM meta WHERE key = 'format'") as Row | null)
      : null;
    if (format === null || format.value !== FORMAT_NAME) {
      throw new StoreError(
        "corrupt-graph",
        `${this.path} is a SQLite database but not a Latent Canvas artifact graph. Move it aside (the graph starts empty) or point --store at the right library.`,
      );
    }
    const version = Number(
      (this.#db.get("SELECT value FROM meta WHERE key = 'version'") as Row | null)?.value,
    );
    if (version !== FORMAT_VERSION) {
      throw new StoreError(
        "corrupt-graph",
        `${this.path} has artifact graph format version ${version}, this build reads version ${FORMAT_VERSION}. Use a matching Latent Canvas version.`,
      );
    }
  }

  /**
   * Keeps the file lock for LOCK_HOLD_MS once a call takes it (SQLite's exclusive locking mode), then lets it go
   * so other processes (the CLI beside the app) get their turn: without this every statement would create and
   * remove the lock folder.
   */
  #hold(): void {
    if (this.#holdTimer !== undefined || !this.#db.isOpen) return;
    this.#db.exec("PRAGMA locking_mode = EXCLUSIVE");
    this.#holdTimer = setTimeout(() => this.#releaseLock(), LOCK_HOLD_MS);
    this.#holdTimer.unref();
  }

  #releaseLock(): void {
    if (this.#holdTimer !== undefined) clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    if (!this.#db.isOpen) return;
    if (this.#db.inTransaction) {
      this.#hold();
      return;
    }
    try {
      this.#db.exec("PRAGMA locking_mode = NORMAL");
      this.#withStatement("SELECT 1 FROM meta LIMIT 1", (statement) => statement.all());
    } catch {
      // releasing is best effort: the next statement in normal mode lets the lock go as well
    }
  }

  #retry<T>(fn: () => T): T {
    this.#hold();
    const deadline = Date.now() + this.#lockWaitMs;
    for (let wait = 2; ; wait = Math.min(wait * 2, 50)) {
      try {
        return fn();
      } catch (error) {
        if (isBusy(error)) {
          for (const other of SqliteArtifactGraph.#openGraphs) {
            if (other !== this && other.#holdTimer !== undefined) other.#releaseLock();
          }
          if (Date.now() > deadline) throw SqliteArtifactGraph.#lockedError(this.path, this.#lockWaitMs);
          sleepSync(wait);
          continue;
        }
        if (isCorruption(error)) throw SqliteArtifactGraph.#openError(this.path, error);
        throw error;
      }
    }
  }

  #transaction<T>(fn: () => T): T {
    this.#hold();
    this.#retry(() => this.#db.exec("BEGIN IMMEDIATE"));
    try {
      const result = fn();
      this.#retry(() => this.#db.exec("COMMIT"));
      return result;
    } catch (error) {
      if (this.#db.inTransaction) this.#db.exec("ROLLBACK");
      if (isCorruption(error)) throw SqliteArtifactGraph.#openError(this.path, error);
      throw error;
    }
  }

  /** One read snapshot (one lock round trip) for several statements; joins an open transaction. */
  #read<T>(fn: () => T): T {
    if (this.#db.inTransaction) return fn();
    this.#hold();
    this.#db.exec("BEGIN");
    try {
      return fn();
    } finally {
      if (this.#db.inTransaction) this.#db.exec("COMMIT");
    }
  }

  /**
   * Runs `work` on a statement prepared once per SQL text and kept until close (node-sqlite3-wasm needs explicit
   * finalize). A statement that failed keeps its error until reset, so it is dropped and prepared afresh next time.
   */
  #withStatement<T>(sql: string, work: (statement: Statement) => T): T {
    let statement = this.#statements.get(sql);
    if (statement === undefined) {
      statement = this.#db.prepare(sql);
      this.#statements.set(sql, statement);
    }
    try {
      return work(statement);
    } catch (error) {
      this.#statements.delete(sql);
      try {
        statement.finalize();
      } catch {
        // finalize reports the same error again; the statement is released either way
      }
      throw error;
    }
  }

  #all(sql: string, values?: SQLiteValue[] | Record<string, SQLiteValue>): Row[] {
    return this.#retry(() => this.#withStatement(sql, (statement) => statement.all(values) as Row[]));
  }

  #get(sql: string, values: SQLiteValue[]): Row | null {
    return this.#withStatement(sql, (statement) => statement.get(values) as Row | null);
  }

  #run(sql: string, values: SQLiteValue[]): void {
    this.#withStatement(sql, (statement) => statement.run(values));
  }

  #artifactRows(sql: string, values?: SQLiteValue[] | Record<string, SQLiteValue>): Artifact[] {
    return this.#all(sql, values).map(artifactOf);
  }

  #require(id: string): void {
    if (this.#all("SELECT 1 AS found FROM artifacts WHERE id = ?", [id]).length === 0) {
      throw new StoreError(
        "unknown-artifact",
        `no artifact with id "${id}" in ${this.path}. List artifacts with: lcanvas query '{ artifacts(limit: 20) { id hash space tags } }'`,
      );
    }
  }

  #validate(artifact: NewArtifact, batchIds: ReadonlySet<string>): void {
    const where = artifact.id === undefined ? "new artifact" : `artifact "${artifact.id}"`;
    if (!isContentHash(artifact.hash)) {
      throw new StoreError(
        "bad-artifact",
        `${where}: hash "${artifact.hash}" is not a content hash (32 lowercase hex). Store the bytes first and use the hash put() returned.`,
      );
    }
    if (!SPACE_PATTERN.test(artifact.space)) {
      throw new StoreError(
        "bad-artifact",
        `${where}: space "${artifact.space}" must be a short lowercase name such as midi, audio, abc, style.`,
      );
    }
    if (!/^[\w.+-]+\/[\w.+-]+/.test(artifact.mediaType)) {
      throw new StoreError(
        "bad-artifact",
        `${where}: media type "${artifact.mediaType}" is not a type/subtype such as audio/midi.`,
      );
    }
    if (artifact.creator.trim() === "") {
      throw new StoreError(
        "bad-artifact",
        `${where}: creator is empty. Name who or what made it (user, tool, agent).`,
      );
    }
    if (artifact.id !== undefined && !ID_PATTERN.test(artifact.id)) {
      throw new StoreError(
        "bad-artifact",
        `artifact id "${artifact.id}" must be 1-128 characters of letters, digits, _ . : -. Omit it to get a generated id.`,
      );
    }
    for (const tag of artifact.tags ?? []) {
      if (typeof tag !== "string" || tag.trim() === "" || tag.length > 256) {
        throw new StoreError(
          "bad-artifact",
          `${where}: tag ${JSON.stringify(tag)} must be a non-empty string.`,
        );
      }
    }
    if (artifact.createdAtMs !== undefined && !Number.isSafeInteger(artifact.createdAtMs)) {
      throw new StoreError("bad-artifact", `${where}: createdAtMs must be whole milliseconds since 1970.`);
    }
    if ((artifact.parents?.length ?? 0) > 0 && artifact.tool === undefined) {
      throw new StoreError(
        "bad-artifact",
        `${where} has parents but no tool: record the projection or sampler (kind, name, params) that made it.`,
      );
    }
    for (const parent of artifact.parents ?? []) {
      if (!batchIds.has(parent)) this.#require(parent);
    }
  }

  #insert(artifact: NewArtifact): Artifact {
    const id = artifact.id ?? randomId("artifact_", 8);
    const createdAtMs = artifact.createdAtMs ?? Date.now();
    let variationIndex: number | null = null;
    if (artifact.variationSetId !== undefined) {
      const row = this.#get("SELECT MAX(variation_index) AS top FROM artifacts WHERE variation_set_id = ?", [
        artifact.variationSetId,
      ]);
      variationIndex = row === null || row.top === null ? 0 : num(row, "top") + 1;
    }
    const tool = artifact.tool;
    try {
      this.#run(
        `INSERT INTO artifacts (id, hash, space, media_type, creator, created_at_ms, metadata, variation_set_id,
           variation_index, tool_kind, tool_name, tool_params, tool_context)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        [
          id,
          artifact.hash,
          artifact.space,
          artifact.mediaType,
          artifact.creator,
          createdAtMs,
          jsonOrThrow(artifact.metadata ?? {}, "metadata"),
          artifact.variationSetId ?? null,
          variationIndex,
          tool?.kind ?? null,
          tool?.name ?? null,
          tool === undefined ? null : jsonOrThrow(tool.params, "tool params"),
          tool?.context === undefined ? null : jsonOrThrow(tool.context, "tool context"),
        ],
      );
    } catch (error) {
      if (error instanceof SQLite3Error && /UNIQUE/i.test(error.message) && artifact.id !== undefined) {
        throw new StoreError(
          "bad-artifact",
          `artifact id "${artifact.id}" already exists. Choose another id.`,
        );
      }
      throw error;
    }
    const tags = [...new Set(artifact.tags ?? [])];
    for (const tag of tags) this.#run("INSERT INTO tags (tag, artifact_id) VALUES (?, ?)", [tag, id]);
    (artifact.parents ?? []).forEach((parent, ordinal) => {
      this.#run("INSERT OR IGNORE INTO edges (child_id, parent_id, ordinal) VALUES (?, ?, ?)", [
        id,
        parent,
        ordinal,
      ]);
    });
    return {
      id,
      hash: artifact.hash,
      space: artifact.space,
      mediaType: artifact.mediaType,
      tags: tags.sort(),
      creator: artifact.creator,
      createdAtMs,
      metadata: parseObject(jsonOrThrow(artifact.metadata ?? {}, "metadata")),
      variationSetId: artifact.variationSetId ?? null,
      variationIndex,
      tool: tool ?? null,
    };
  }

  async add(artifact: NewArtifact): Promise<Artifact> {
    const [added] = await this.addMany([artifact]);
    if (added === undefined) throw new Error("addMany returned nothing for one artifact");
    return added;
  }

  async addMany(artifacts: readonly NewArtifact[]): Promise<Artifact[]> {
    const objectExists = this.#objectExists;
    if (objectExists !== undefined) {
      for (const hash of new Set(artifacts.map((artifact) => artifact.hash))) {
        if (isContentHash(hash) && !(await objectExists(hash))) {
          throw new StoreError(
            "missing-object",
            `cannot add an artifact for ${hash}: its bytes are not in the content store. Store them first (store.put or store.putFile) and use the hash it returns.`,
          );
        }
      }
    }
    return this.#transaction(() => {
      const batchIds = new Set<string>();
      const added: Artifact[] = [];
      for (const artifact of artifacts) {
        this.#validate(artifact, batchIds);
        const inserted = this.#insert(artifact);
        batchIds.add(inserted.id);
        added.push(inserted);
      }
      return added;
    });
  }

  async get(id: string): Promise<Artifact | null> {
    return this.#artifactRows(`SELECT ${ARTIFACT_COLUMNS} FROM artifacts a WHERE a.id = ?`, [id])[0] ?? null;
  }

  async byHash(hash: ContentHash): Promise<Artifact[]> {
    return this.#artifactRows(
      `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a WHERE a.hash = ? ORDER BY a.created_at_ms, a.id`,
      [hash],
    );
  }

  #edges(sql: string, id: string): LineageEdge[] {
    return this.#all(sql, [id]).map(edgeOf);
  }

  /** Edges from each of `childIds` to its parents, in parent order, grouped by child. */
  #parentEdgesOf(childIds: readonly string[]): Map<string, LineageEdge[]> {
    const byChild = new Map<string, LineageEdge[]>();
    const rows = this.#all(
      `SELECT e.child_id, e.parent_id, c.tool_kind, c.tool_name, c.tool_params, c.tool_context
       FROM edges e JOIN artifacts c ON c.id = e.child_id
       WHERE e.child_id IN (SELECT value FROM json_each(?)) ORDER BY e.child_id, e.ordinal`,
      [JSON.stringify(childIds)],
    );
    for (const row of rows) {
      const edge = edgeOf(row);
      const list = byChild.get(edge.childId);
      if (list === undefined) byChild.set(edge.childId, [edge]);
      else list.push(edge);
    }
    return byChild;
  }

  async parents(id: string): Promise<LineageEdge[]> {
    return this.#edges(
      `SELECT e.child_id, e.parent_id, c.tool_kind, c.tool_name, c.tool_params, c.tool_context
       FROM edges e JOIN artifacts c ON c.id = e.child_id WHERE e.child_id = ? ORDER BY e.ordinal`,
      id,
    );
  }

  async children(id: string): Promise<LineageEdge[]> {
    return this.#edges(
      `SELECT e.child_id, e.parent_id, c.tool_kind, c.tool_name, c.tool_params, c.tool_context
       FROM edges e JOIN artifacts c ON c.id = e.child_id WHERE e.parent_id = ? ORDER BY c.created_at_ms, c.id`,
      id,
    );
  }

  #walk(
    id: string,
    direction: "up" | "down",
    maxDepth: number | undefined,
  ): Array<{ artifact: Artifact; depth: number }> {
    const [from, to] = direction === "up" ? ["child_id", "parent_id"] : ["parent_id", "child_id"];
    const rows = this.#all(
      `WITH RECURSIVE walk (id, depth) AS (
         SELECT ${to}, 1 FROM edges WHERE ${from} = :id
         UNION
         SELECT e.${to}, walk.depth + 1 FROM edges e JOIN walk ON e.${from} = walk.id WHERE walk.depth < :maxDepth
       ),
       nearest (id, depth) AS (SELECT id, MIN(depth) FROM walk GROUP BY id)
       SELECT ${ARTIFACT_COLUMNS}, nearest.depth AS walk_depth
       FROM nearest JOIN artifacts a ON a.id = nearest.id
       ORDER BY nearest.depth, a.created_at_ms, a.id`,
      { ":id": id, ":maxDepth": clampDepth(maxDepth) },
    );
    return rows.map((row) => ({ artifact: artifactOf(row), depth: num(row, "walk_depth") }));
  }

  async ancestors(id: string, maxDepth?: number): Promise<Artifact[]> {
    return this.#walk(id, "up", maxDepth).map((step) => step.artifact);
  }

  async descendants(id: string, maxDepth?: number): Promise<Artifact[]> {
    return this.#walk(id, "down", maxDepth).map((step) => step.artifact);
  }

  async lineage(id: string, maxDepth?: number): Promise<LineageStep[]> {
    return this.#read(() => {
      this.#require(id);
      const walked = this.#walk(id, "up", maxDepth);
      const edges = this.#parentEdgesOf(walked.map((step) => step.artifact.id));
      return walked.map(({ artifact, depth }) => ({
        artifact,
        depth,
        parents: edges.get(artifact.id) ?? [],
      }));
    });
  }

  async variations(id: string): Promise<Artifact[]> {
    return this.#artifactRows(
      `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a
       WHERE a.variation_set_id = (SELECT s.variation_set_id FROM artifacts s WHERE s.id = ?)
       ORDER BY a.variation_index`,
      [id],
    );
  }

  async variationSet(variationSetId: string): Promise<Artifact[]> {
    return this.#artifactRows(
      `SELECT ${ARTIFACT_COLUMNS} FROM artifacts a WHERE a.variation_set_id = ? ORDER BY a.variation_index`,
      [variationSetId],
    );
  }

  async annotate(artifactId: string, annotation: NewAnnotation): Promise<Annotation> {
    if (annotation.message.trim() === "") {
      throw new StoreError("bad-artifact", "an annotation needs a non-empty message.");
    }
    if (annotation.source.trim() === "") {
      throw new StoreError(
        "bad-artifact",
        "an annotation needs a source (who wrote it, e.g. user or an agent name).",
      );
    }
    const stored: Annotation = {
      id: randomId("ann_", 6),
      artifactId,
      message: annotation.message,
      vibe: annotation.vibe ?? null,
      source: annotation.source,
      createdAtMs: annotation.createdAtMs ?? Date.now(),
    };
    this.#transaction(() => {
      this.#require(artifactId);
      this.#db.run(
        "INSERT INTO annotations (id, artifact_id, message, vibe, source, created_at_ms) VALUES (?, ?, ?, ?, ?, ?)",
        [stored.id, stored.artifactId, stored.message, stored.vibe, stored.source, stored.createdAtMs],
      );
    });
    return stored;
  }

  async annotations(artifactId: string): Promise<Annotation[]> {
    return this.#all("SELECT * FROM annotations WHERE artifact_id = ? ORDER BY created_at_ms, id", [
      artifactId,
    ]).map(annotationOf);
  }

  async find(query: ArtifactQuery): Promise<Artifact[]> {
    const limit = query.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new StoreError(
        "bad-query",
        `limit must be a whole number from 1 to ${MAX_LIMIT} (got ${limit}).`,
      );
    }
    const offset = query.offset ?? 0;
    if (!Number.isInteger(offset) || offset < 0) {
      throw new StoreError("bad-query", `offset must be a whole number of at least 0 (got ${offset}).`);
    }
    const where: string[] = [];
    const values: SQLiteValue[] = [];
    const [firstTag, ...moreTags] = query.tags ?? [];
    let from = "artifacts a";
    if (firstTag !== undefined) {
      from = "tags t0 JOIN artifacts a ON a.id = t0.artifact_id";
      where.push("t0.tag = ?");
      values.push(firstTag);
    }
    for (const tag of moreTags) {
      where.push("EXISTS (SELECT 1 FROM tags tx WHERE tx.tag = ? AND tx.artifact_id = a.id)");
      values.push(tag);
    }
    if (query.space !== undefined) {
      where.push("a.space = ?");
      values.push(query.space);
    }
    if (query.creator !== undefined) {
      where.push("a.creator = ?");
      values.push(query.creator);
    }
    if (query.sinceMs !== undefined) {
      where.push("a.created_at_ms >= ?");
      values.push(query.sinceMs);
    }
    if (query.untilMs !== undefined) {
      where.push("a.created_at_ms < ?");
      values.push(query.untilMs);
    }
    values.push(limit, offset);
    return this.#artifactRows(
      `SELECT ${ARTIFACT_COLUMNS} FROM ${from} ${where.length > 0 ? `WHERE ${where.join(" AND ")}` : ""}
       ORDER BY a.created_at_ms DESC, a.id LIMIT ? OFFSET ?`,
      values,
    );
  }

  async count(): Promise<number> {
    return num(this.#all("SELECT COUNT(*) AS n FROM artifacts")[0] ?? { n: 0 }, "n");
  }

  async referencedHashes(): Promise<Set<ContentHash>> {
    return new Set(this.#all("SELECT DISTINCT hash FROM artifacts").map((row) => text(row, "hash")));
  }

  /** SQLite's own integrity check; returns the problems found ([] when sound). */
  async checkIntegrity(): Promise<string[]> {
    const rows = this.#all("PRAGMA integrity_check");
    const problems = rows.map((row) => String(Object.values(row)[0])).filter((line) => line !== "ok");
    const dangling = this.#all(
      "SELECT e.child_id, e.parent_id FROM edges e LEFT JOIN artifacts p ON p.id = e.parent_id WHERE p.id IS NULL",
    );
    for (const row of dangling) {
      problems.push(`edge ${text(row, "child_id")} -> ${text(row, "parent_id")} points at a missing parent`);
    }
    return problems;
  }

  async close(): Promise<void> {
    SqliteArtifactGraph.#openGraphs.delete(this);
    if (this.#holdTimer !== undefined) clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
    for (const statement of this.#statements.values()) {
      try {
        statement.finalize();
      } catch {
        // a statement whose last run failed reports that error again here; it is released either way
      }
    }
    this.#statements.clear();
    if (this.#db.isOpen) this.#db.close();
  }
}
