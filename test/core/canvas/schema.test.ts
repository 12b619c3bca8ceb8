import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import {
  CanvasError,
  CanvasTopology,
  canvasSchema,
  connection,
  parseSchema,
  SCHEMA_VERSION,
  schemaFromJson,
  schemaToJson,
  serializeSchema,
} from "../../../app/core/canvas/index";
import { seedLayout } from "./seed-layout";

function seedSchema() {
  const topology = new CanvasTopology([
    connection("screen", "screen"),
    connection("mouse", "screen", { weight: 0.5, fn: "perceiver" }),
    connection("mouse", "thought", {
      t_src: 0,
      t_dst: 0,
      temporal_fill: "interpolate",
      interpolation_order: 2,
    }),
    connection("thought", "prompt", { t_src: 0, t_dst: -1, temporal_fill: "drop" }),
  ]);
  return canvasSchema(seedLayout(), topology, { author: "seed" });
}

describe("schema JSON", () => {
  it("writes only non-default fields, in the library's format", () => {
    expect(schemaToJson(seedSchema())).toEqual({
      schema_version: SCHEMA_VERSION,
      layout: { T: 16, H: 32, W: 32, d_model: 768, t_current: 0 },
      regions: {
        screen: { bounds: [0, 16, 0, 24, 0, 24] },
        mouse: { bounds: [0, 16, 24, 26, 0, 4], loss_weight: 2 },
        thought: { bounds: [0, 4, 28, 32, 0, 8], period: 4 },
        prompt: { bounds: [0, 1, 26, 28, 0, 4], is_output: false },
      },
      topology: [
        { src: "screen", dst: "screen" },
        { src: "mouse", dst: "screen", weight: 0.5, fn: "perceiver" },
        {
          src: "mouse",
          dst: "thought",
          t_src: 0,
          t_dst: 0,
          temporal_fill: "interpolate",
          interpolation_order: 2,
        },
        { src: "thought", dst: "prompt", t_src: 0, t_dst: -1, temporal_fill: "drop" },
      ],
      metadata: { author: "seed" },
    });
  });

  it("round-trips every field, including carrier, embeddings and N-D spatial shapes", () => {
    const original = seedSchema();
    const text = serializeSchema(original);
    const again = parseSchema(text);
    expect(serializeSchema(again)).toBe(text);
    expect([...again.layout.regions]).toEqual([...original.layout.regions]);
    expect(again.topology!.connections).toEqual(original.topology!.connections);

    const rich = {
      schema_version: "0.2.0",
      layout: { T: 3, spatial_shape: [2, 2, 2], d_model: 6, t_current: 1 },
      regions: {
        r: {
          bounds: [0, 3, 0, 2, 0, 1, 1, 2],
          period: 2,
          loss_weight: 0.25,
          semantic_type: "chords",
          semantic_embedding: [0.5, -1],
          embedding_model: "local/mini",
          default_attn: "gated",
          carrier: "filter",
        },
      },
    };
    const parsed = schemaFromJson(rich);
    expect(parsed.topology).toBeNull();
    expect(parsed.layout.regionSpec("r").carrier).toBe("filter");
    expect(schemaToJson(parsed)).toEqual(rich);
  });

  it("reads the demo layout and keeps region order", () => {
    const demo = parseSchema(readFileSync("assets/layouts/demo.json", "utf8"), "assets/layouts/demo.json");
    expect(demo.layout.regionNames()).toEqual(["drums", "bass", "dynamics", "chords", "accent", "melody"]);
    expect(demo.layout.regionSpec("melody").carrier).toBe("diffusive");
    expect(demo.topology!.connections.map((c) => c.temporal_fill)).toEqual([
      "hold",
      "hold",
      "hold",
      "interpolate",
      "drop",
    ]);
  });

  const base = () => ({
    layout: { T: 4, H: 2, W: 2, d_model: 4 },
    regions: { thought: { bounds: [0, 4, 0, 1, 0, 2], period: 2 } as Record<string, unknown> },
    topology: [{ src: "thought", dst: "thought" }] as Array<Record<string, unknown>>,
  });
  const rejects = (mutate: (d: ReturnType<typeof base>) => unknown, message: string | RegExp) => {
    const d = base();
    const value = mutate(d) ?? d;
    expect(() => schemaFromJson(value)).toThrow(CanvasError);
    expect(() => schemaFromJson(value)).toThrow(message);
  };

  it("names the bad field in every error", () => {
    rejects((d) => {
      d.regions.thought!.period = "x";
    }, 'regions.thought.period: expected a non-negative integer, got "x"');
    rejects((d) => {
      d.regions.thought!.colour = "red";
    }, /regions\.thought\.colour: unknown field; the allowed fields are bounds, period/);
    rejects((d) => {
      d.regions.thought!.carrier = "gas";
    }, 'regions.thought.carrier: expected one of deterministic, diffusive, filter, memory, residual, got "gas"');
    rejects((d) => {
      d.regions.thought!.bounds = [0, 4, 0, 1];
    }, /regions\.thought\.bounds: expected 6 integers/);
    rejects((d) => {
      d.regions.thought!.bounds = [0, 4, 0, 1, 0, "2"];
    }, 'regions.thought.bounds[5]: expected a non-negative integer, got "2"');
    rejects((d) => {
      d.regions.thought!.semantic_embedding = [1, null];
    }, "regions.thought.semantic_embedding[1]: expected a number, got null");
    rejects((d) => {
      d.regions.thought!.default_attn = "telepathy";
    }, /regions\.thought\.default_attn: expected one of cross_attention/);
    rejects((d) => {
      d.topology[0]!.dst = "ghost";
    }, 'topology[0].dst: unknown region "ghost"; declare it under "regions" or use one of: thought');
    rejects((d) => {
      d.topology[0]!.temporal_fill = "smear";
    }, 'topology[0].temporal_fill: expected one of drop, hold, interpolate, got "smear"');
    rejects((d) => {
      d.topology[0]!.interpolation_order = 0;
    }, "topology[0].interpolation_order: expected a positive integer, got 0");
    rejects((d) => {
      d.topology[0]!.t_dst = 0.5;
    }, "topology[0].t_dst: expected an integer or null, got 0.5");
    rejects((d) => {
      d.topology[0]!.speed = 1;
    }, /topology\[0\]\.speed: unknown field/);
    rejects(
      (d) => ({ ...d, layout: { ...d.layout, spatial_shape: [2, 2] } }),
      /either as H\/W or as spatial_shape/,
    );
    rejects((d) => ({ ...d, layout: { T: 4, d_model: 4 } }), /spatial shape is empty/);
    rejects((d) => ({ ...d, layout: { ...d.layout, depth: 3 } }), /layout\.depth: unknown field/);
    rejects((d) => ({ ...d, extra: true }), /schema\.extra: unknown field/);
    rejects((d) => ({ ...d, metadata: { n: 1 } }), "metadata.n: expected a string, got 1");
    rejects((d) => ({ ...d, schema_version: "banana" }), /schema_version: expected a version string/);
    rejects(() => [], "schema: expected an object, got []");
  });

  it("reports bad JSON text with the source name", () => {
    expect(() => parseSchema("{ not json", "demo.json")).toThrow(
      /demo\.json: not valid JSON \(.*\); fix the syntax/,
    );
    expect(() => parseSchema('{"layout": 3}', "x.json")).toThrow("x.json: layout: expected an object, got 3");
  });
});
