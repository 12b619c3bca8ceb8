// `lcanvas layout ...`: inspect a canvas schema file (indices, masks, compiled attention, positional encoding),
// map frames between real time and a region's canvas frames, and bucket a period. Owned by the canvas helper;
// only main.ts loads it.
import { readFileSync } from "node:fs";
import { type ParseArgsConfig, parseArgs } from "node:util";
import {
  CanvasError,
  type CanvasSchema,
  float32Shortest,
  parseSchema,
  periodBucket,
  positionalEncoding,
} from "../../core/canvas/index";
import { type Command, printJson, UserError, usageError } from "../command";

function loadSchema(path: string): CanvasSchema {
  let text: string;
  try {
    text = readFileSync(path, "utf8");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason =
      code === "ENOENT" ? "no such file" : code === "EISDIR" ? "is a directory" : String(code ?? error);
    throw new UserError(
      `cannot read schema file ${path}: ${reason}; give the path of a canvas schema .json file`,
    );
  }
  try {
    return parseSchema(text, path);
  } catch (error) {
    if (error instanceof CanvasError) throw new UserError(error.message);
    throw error;
  }
}

function integerArg(command: Command, value: string, what: string): number {
  if (!/^-?\d+$/.test(value.trim()))
    throw usageError(command, `${what}: expected an integer, got ${JSON.stringify(value)}`);
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw usageError(command, `${what}: ${value} is out of range`);
  return n;
}

function parse(command: Command, args: string[], options: NonNullable<ParseArgsConfig["options"]>) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (error) {
    throw usageError(command, error instanceof Error ? error.message : String(error));
  }
}

const inspect: Command = {
  path: ["layout", "inspect"],
  usage: "layout inspect SCHEMA.json [--with-pe]",
  summary:
    "Print one JSON object: num_positions, regions (indices, size, numel, period_bucket), output_mask, loss_weight_mask, attention [query, key, weight] (and positional_encoding with --with-pe).",
  run(args, io) {
    const { values, positionals } = parse(inspect, args, { "with-pe": { type: "boolean" } });
    if (positionals.length !== 1) throw usageError(inspect, "expected exactly one schema file");
    const schema = loadSchema(positionals[0]!);
    const { layout } = schema;
    const regions: Record<string, unknown> = {};
    for (const [name, spec] of layout.regions) {
      regions[name] = {
        indices: [...layout.regionIndices(name)],
        size: layout.regionSize(name),
        numel: layout.regionNumel(name),
        period_bucket: periodBucket(spec.period),
      };
    }
    const attention: Array<[number, number, number]> = [];
    if (schema.topology !== null) {
      for (const [q, k, w] of schema.topology.toAttentionMask(layout).entries()) {
        attention.push([q, k, float32Shortest(w)]);
      }
    }
    const result: Record<string, unknown> = {
      num_positions: layout.numPositions,
      regions,
      output_mask: [...layout.outputMask()],
      loss_weight_mask: Array.from(layout.lossWeightMask(), float32Shortest),
      attention,
    };
    if (values["with-pe"] === true) {
      const d = layout.d_model;
      const pe = positionalEncoding([layout.T, ...layout.spatial_shape], d);
      const rows: number[][] = [];
      for (let p = 0; p < layout.numPositions; p++) {
        rows.push(Array.from(pe.subarray(p * d, (p + 1) * d), float32Shortest));
      }
      result.positional_encoding = rows;
    }
    printJson(io, result);
    return 0;
  },
};

const frame: Command = {
  path: ["layout", "frame"],
  usage: "layout frame SCHEMA.json REGION (--real T | --canvas T)",
  summary:
    "Map a real-world frame to the region's canvas frame (prints null when not aligned or outside), or a canvas frame to its real frame.",
  run(args, io) {
    const { values, positionals } = parse(frame, args, {
      real: { type: "string" },
      canvas: { type: "string" },
    });
    if (positionals.length !== 2) throw usageError(frame, "expected a schema file and a region name");
    const hasReal = typeof values.real === "string";
    const hasCanvas = typeof values.canvas === "string";
    if (hasReal === hasCanvas) throw usageError(frame, "give exactly one of --real T or --canvas T");
    const { layout } = loadSchema(positionals[0]!);
    const region = positionals[1]!;
    if (!layout.regions.has(region)) {
      throw new UserError(
        `unknown region ${JSON.stringify(region)}; the schema has: ${layout.regionNames().join(", ") || "(no regions)"}`,
      );
    }
    if (hasReal)
      printJson(io, layout.canvasFrame(region, integerArg(frame, values.real as string, "--real")));
    else printJson(io, layout.realFrame(region, integerArg(frame, values.canvas as string, "--canvas")));
    return 0;
  },
};

const bucket: Command = {
  path: ["layout", "bucket"],
  usage: "layout bucket PERIOD",
  summary:
    "Print the period-embedding bucket of a period (canvas frames per update; 16 buckets, max period 10000).",
  run(args, io) {
    const { positionals } = parse(bucket, args, {});
    if (positionals.length !== 1) throw usageError(bucket, "expected one period");
    const period = integerArg(bucket, positionals[0]!, "PERIOD");
    if (period < 0) throw usageError(bucket, `PERIOD: expected a non-negative integer, got ${period}`);
    printJson(io, periodBucket(period));
    return 0;
  },
};

export const commands: Command[] = [inspect, frame, bucket];
