// CLI commands of the projection registry: `projections` lists them, `project-encoding ID --to SPACE` runs one on an
// artifact of the library and prints the child artifact. Takes --store DIR like the other library commands
// (default: LCANVAS_STORE, else the XDG data folder). Registered in ../main.ts.
import { parseArgs } from "node:util";
import { EncodingError } from "../../spaces/errors";
import {
  defaultProjections,
  type Projection,
  ProjectionError,
  type ProjectionRegistry,
} from "../../spaces/projections";
import { SoundFontError } from "../../spaces/synth/soundfonts";
import { defaultLibraryRoot, type Library, openLibrary, StoreError } from "../../store/index";
import { type Command, printJson, UserError, usageError } from "../command";

function describe(projection: Projection) {
  return {
    name: projection.name,
    from: projection.from,
    to: projection.to,
    params: projection.params,
    summary: projection.summary,
  };
}

/** `--via sf2` picks "midi->audio.sf2": a full name, or the part after the last "." or "->". */
function choose(registry: ProjectionRegistry, from: string, to: string, via: string | undefined): Projection {
  if (via === undefined || via.includes("->")) return registry.get(from, to, via);
  const matches = registry.between(from, to).filter((p) => p.name.split(/\.|->/).at(-1) === via);
  if (matches.length === 1) return matches[0]!;
  return registry.get(from, to, via);
}

function parseValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

const PROJECT_OPTIONS = {
  to: { type: "string" },
  via: { type: "string" },
  soundfont: { type: "string" },
  rate: { type: "string" },
  "gain-db": { type: "string" },
  set: { type: "string", multiple: true },
  store: { type: "string" },
} as const;

function parseProjectArgs(args: string[]) {
  try {
    return parseArgs({ args, options: PROJECT_OPTIONS, allowPositionals: true });
  } catch (error) {
    throw usageError(projectCommand, error instanceof Error ? error.message : String(error));
  }
}

const listCommand: Command = {
  path: ["projections"],
  usage: "projections",
  summary: "List the projections between spaces (JSON: name, from, to, params, summary)",
  run(args, io) {
    if (args.length > 0) throw usageError(listCommand, `unexpected argument "${args[0]}"`);
    printJson(io, defaultProjections().list().map(describe));
    return 0;
  },
};

const projectCommand: Command = {
  path: ["project-encoding"],
  usage:
    "project-encoding ID --to SPACE [--via NAME] [--soundfont PATH] [--rate HZ] [--gain-db DB] [--set KEY=VALUE]... [--store DIR]",
  summary:
    "Project an artifact into another space (midi -> audio via sf2, abc -> midi, audio gain/resample); prints the child artifact",
  async run(args, io) {
    const { values, positionals } = parseProjectArgs(args);
    if (positionals.length !== 1) throw usageError(projectCommand, "name exactly one artifact id");
    if (values.to === undefined) throw usageError(projectCommand, "say which space to project to with --to");
    const params: Record<string, unknown> = {};
    if (values.soundfont !== undefined) params.soundfont = values.soundfont;
    if (values.rate !== undefined) params.sampleRate = Number(values.rate);
    if (values["gain-db"] !== undefined) params.gainDb = Number(values["gain-db"]);
    for (const pair of values.set ?? []) {
      const at = pair.indexOf("=");
      if (at <= 0) throw usageError(projectCommand, `--set needs KEY=VALUE, got "${pair}"`);
      params[pair.slice(0, at)] = parseValue(pair.slice(at + 1));
    }
    const root = values.store ?? defaultLibraryRoot();
    let library: Library;
    try {
      library = await openLibrary(root);
    } catch (error) {
      if (error instanceof StoreError) throw new UserError(error.message);
      throw error;
    }
    try {
      const id = positionals[0]!;
      const input = await library.graph.get(id);
      if (!input) {
        throw new UserError(`no artifact has id "${id}" in ${root}; list artifacts with \`lcanvas query\``);
      }
      const registry = defaultProjections();
      const projection = choose(registry, input.space, values.to, values.via);
      const child = await registry.run(projection, [input], params, library);
      printJson(io, {
        id: child.id,
        hash: child.hash,
        space: child.space,
        mediaType: child.mediaType,
        projection: projection.name,
        parents: [input.id],
        metadata: child.metadata,
      });
      return 0;
    } catch (error) {
      if (
        error instanceof ProjectionError ||
        error instanceof SoundFontError ||
        error instanceof EncodingError ||
        error instanceof StoreError
      ) {
        throw new UserError(error.message);
      }
      throw error;
    } finally {
      await library.close();
    }
  },
};

export const commands: Command[] = [listCommand, projectCommand];
