// The project file format (version 1) as text: serializing a document with a fixed key order and parsing text
// back with errors that name the field. Owned by app/core/document; app/project does the file I/O around it.
// The format and versioning policy are in docs/project-format.md.
import { checkDocument, DocumentError } from "./schema";
import type { AttentionHead, Connection, Lane, ProjectDocument, Region } from "./types";

export const PROJECT_FORMAT = "latent-canvas-project";
export const PROJECT_FORMAT_VERSION = 1;

export type ProjectFormatProblem = "not-json" | "not-a-project" | "newer-version" | "invalid";

/** A project file could not be read. `message` says what was wrong and what to do. */
export class ProjectFormatError extends DocumentError {
  readonly kind: ProjectFormatProblem;
  constructor(kind: ProjectFormatProblem, path: string, problem: string) {
    super(path, problem);
    this.name = "ProjectFormatError";
    this.kind = kind;
  }
}

function lane(l: Lane) {
  return { id: l.id, name: l.name, color: l.color, gainDb: l.gainDb, pan: l.pan, mute: l.mute, solo: l.solo };
}

function head(h: AttentionHead) {
  return {
    id: h.id,
    name: h.name,
    color: h.color,
    positionBeat: h.positionBeat,
    rate: h.rate,
    loopStartBeat: h.loopStartBeat,
    loopEndBeat: h.loopEndBeat,
    loopEnabled: h.loopEnabled,
    gainDb: h.gainDb,
    mute: h.mute,
    solo: h.solo,
    context: {
      temperature: h.context.temperature,
      topP: h.context.topP,
      seed: h.context.seed,
      style: h.context.style,
    },
  };
}

function region(r: Region) {
  const s = r.spec;
  return {
    id: r.id,
    name: r.name,
    color: r.color,
    laneId: r.laneId,
    encodingHash: r.encodingHash,
    atBeat: r.atBeat,
    durationBeats: r.durationBeats,
    offsetBeats: r.offsetBeats,
    gainDb: r.gainDb,
    spec: {
      bounds: s.bounds,
      period: s.period,
      is_output: s.is_output,
      loss_weight: s.loss_weight,
      semantic_type: s.semantic_type,
      semantic_embedding: s.semantic_embedding,
      embedding_model: s.embedding_model,
      default_attn: s.default_attn,
      carrier: s.carrier,
    },
  };
}

function connectionJson(c: Connection) {
  return {
    srcRegionId: c.srcRegionId,
    dstRegionId: c.dstRegionId,
    weight: c.weight,
    temporalFill: c.temporalFill,
    interpolationOrder: c.interpolationOrder,
  };
}

/** The document as file text: fixed key order, two-space indent, trailing newline. Same document, same bytes. */
export function serializeProject(document: ProjectDocument): string {
  const file = {
    format: PROJECT_FORMAT,
    version: PROJECT_FORMAT_VERSION,
    tempoMap: {
      tempos: document.tempoMap.tempos.map((t) => ({ atTick: t.atTick, bpm: t.bpm })),
      meters: document.tempoMap.meters.map((m) => ({
        atTick: m.atTick,
        numerator: m.numerator,
        denominator: m.denominator,
      })),
    },
    grid: { beatsPerCanvasFrame: document.grid.beatsPerCanvasFrame },
    lanes: document.lanes.map(lane),
    heads: document.heads.map(head),
    regions: document.regions.map(region),
    connections: document.connections.map(connectionJson),
  };
  return `${JSON.stringify(file, null, 2)}\n`;
}

function describeJsonError(text: string, error: unknown): string {
  const detail = error instanceof Error ? error.message : String(error);
  if (text.trim().length === 0) return "the file is empty";
  return `the file is not valid JSON (${detail}); it may be truncated or corrupt`;
}

/** Parses project file text; throws ProjectFormatError naming the field and what to do. */
export function parseProject(text: string): ProjectDocument {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new ProjectFormatError(
      "not-json",
      "",
      `${describeJsonError(text, error)}: restore it from a backup or the autosave`,
    );
  }
  if (raw === null || typeof raw !== "object" || Array.isArray(raw)) {
    throw new ProjectFormatError(
      "not-a-project",
      "",
      "the file is not a Latent Canvas project (expected a JSON object)",
    );
  }
  const { format, version, ...rest } = raw as Record<string, unknown>;
  if (format !== PROJECT_FORMAT) {
    throw new ProjectFormatError(
      "not-a-project",
      "format",
      `expected "${PROJECT_FORMAT}", got ${JSON.stringify(format) ?? "nothing"}: this is not a Latent Canvas project file`,
    );
  }
  if (typeof version !== "number" || !Number.isInteger(version) || version < 1) {
    throw new ProjectFormatError(
      "invalid",
      "version",
      `must be a whole number >= 1, got ${JSON.stringify(version) ?? "nothing"}: the file is corrupt; restore it from a backup`,
    );
  }
  if (version > PROJECT_FORMAT_VERSION) {
    throw new ProjectFormatError(
      "newer-version",
      "version",
      `written by a newer Latent Canvas (version ${version}); this build reads up to ${PROJECT_FORMAT_VERSION}: update the app`,
    );
  }
  try {
    return checkDocument(rest);
  } catch (error) {
    if (error instanceof DocumentError && !(error instanceof ProjectFormatError)) {
      throw new ProjectFormatError(
        "invalid",
        error.path,
        `${error.problem} (fix this field in the file or restore it from a backup)`,
      );
    }
    throw error;
  }
}
