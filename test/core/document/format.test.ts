import { describe, expect, it } from "vitest";
import {
  emptyDocument,
  PROJECT_FORMAT_VERSION,
  ProjectFormatError,
  parseProject,
  serializeProject,
} from "../../../app/core/document";
import { sampleDocument } from "./fixtures";

function fileObject(): Record<string, unknown> {
  return JSON.parse(serializeProject(sampleDocument())) as Record<string, unknown>;
}

function errorOf(text: string): ProjectFormatError {
  try {
    parseProject(text);
  } catch (error) {
    if (error instanceof ProjectFormatError) return error;
    throw error;
  }
  throw new Error("expected parseProject to throw");
}

/** The sample file with the field at `path` set to `value` (or deleted when value is DELETE). */
const DELETE = Symbol("delete");
function withEdit(path: ReadonlyArray<string | number>, value: unknown): string {
  const file = fileObject();
  let node = file as Record<string | number, unknown>;
  for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
  const last = path.at(-1)!;
  if (value === DELETE) delete node[last];
  else node[last] = value;
  return JSON.stringify(file);
}

describe("project file format v1", () => {
  it("round-trips a document and is byte-stable", () => {
    const doc = sampleDocument();
    const text = serializeProject(doc);
    expect(text.startsWith('{\n  "format": "latent-canvas-project",\n  "version": 1,\n')).toBe(true);
    expect(text.endsWith("}\n")).toBe(true);
    const parsed = parseProject(text);
    expect(parsed).toEqual(doc);
    expect(serializeProject(parsed)).toBe(text);
    expect(parseProject(serializeProject(emptyDocument()))).toEqual(emptyDocument());
  });

  it("writes keys in a fixed order whatever order the file had", () => {
    const file = fileObject();
    const reordered = Object.fromEntries(Object.entries(file).reverse());
    expect(serializeProject(parseProject(JSON.stringify(reordered)))).toBe(
      serializeProject(sampleDocument()),
    );
  });

  it("reports a truncated file and an empty file", () => {
    const text = serializeProject(sampleDocument());
    const truncated = errorOf(text.slice(0, Math.floor(text.length / 2)));
    expect(truncated.kind).toBe("not-json");
    expect(truncated.message).toMatch(/not valid JSON .*truncated or corrupt.*restore it from a backup/);
    expect(errorOf("").message).toMatch(/the file is empty/);
  });

  it("refuses a future version with the update message", () => {
    const error = errorOf(withEdit(["version"], 7));
    expect(error.kind).toBe("newer-version");
    expect(error.message).toBe(
      "version: written by a newer Latent Canvas (version 7); this build reads up to 1: update the app",
    );
    expect(PROJECT_FORMAT_VERSION).toBe(1);
  });

  it("refuses files that are not projects", () => {
    expect(errorOf("[1,2]").kind).toBe("not-a-project");
    expect(errorOf('{"format":"something-else","version":1}').message).toMatch(
      /^format: expected "latent-canvas-project", got "something-else"/,
    );
    expect(errorOf(withEdit(["version"], "1")).message).toMatch(/^version: must be a whole number >= 1/);
  });

  it("names the field path of wrong types and bad values", () => {
    expect(errorOf(withEdit(["regions", 2, "durationBeats"], "4")).message).toMatch(
      /^regions\[2\]\.durationBeats: must be a finite number of beats \(fix this field/,
    );
    expect(errorOf(withEdit(["regions", 0, "encodingHash"], "abc")).message).toMatch(
      /^regions\[0\]\.encodingHash: must be a content hash of 32 lowercase hex characters/,
    );
    expect(errorOf(withEdit(["regions", 1, "spec", "carrier"], "magic")).message).toMatch(
      /^regions\[1\]\.spec\.carrier: must be one of deterministic, diffusive, filter, memory, residual/,
    );
    expect(errorOf(withEdit(["heads", 1, "context", "topP"], 0)).message).toMatch(
      /^heads\[1\]\.context\.topP: must be > 0/,
    );
    expect(errorOf(withEdit(["heads", 0, "context", "style"], { text: "x" })).message).toMatch(
      /^heads\[0\]\.context\.style: must be null, a text prompt, or an embedding vector/,
    );
    expect(errorOf(withEdit(["lanes", 1, "pan"], DELETE)).message).toMatch(
      /^lanes\[1\]\.pan: must be a number/,
    );
    expect(errorOf(withEdit(["lanes", 0, "volume"], 3)).message).toMatch(
      /^lanes\[0\]: unknown field "volume": remove it/,
    );
    expect(errorOf(withEdit(["lanes"], null)).message).toMatch(/^lanes: /);
  });

  it("applies the canvas's RegionSpec rules on load", () => {
    expect(errorOf(withEdit(["regions", 1, "spec", "default_attn"], "telepathy")).message).toMatch(
      /^regions\[1\]\.spec\.default_attn: expected one of cross_attention, .* \(fix this field/,
    );
    expect(errorOf(withEdit(["regions", 0, "spec", "semantic_embedding"], [])).message).toMatch(
      /^regions\[0\]\.spec\.semantic_embedding: expected a non-empty array/,
    );
  });

  it("checks references, unique ids and the tempo map", () => {
    expect(errorOf(withEdit(["regions", 3, "laneId"], "lane-9")).message).toMatch(
      /^regions\[3\]\.laneId: no lane has id "lane-9"/,
    );
    expect(errorOf(withEdit(["heads", 1, "id"], "lane-2")).message).toMatch(
      /^heads\[1\]\.id: id "lane-2" is already used by lanes\[1\]/,
    );
    expect(errorOf(withEdit(["tempoMap", "tempos", 1, "atTick"], 0)).message).toMatch(
      /^tempoMap\.tempos\[1\]\.atTick: tempo changes must have strictly increasing ticks/,
    );
    expect(errorOf(withEdit(["tempoMap", "meters", 1, "atTick"], 1000)).message).toMatch(
      /^tempoMap\.meters\[1\]\.atTick: a meter change must fall on a bar line/,
    );
  });
});
