// `lcanvas project ...`: create a project folder and summarize one. Owned by the document helper;
// registered in app/cli/main.ts. Output is one JSON object on stdout.
import { parseArgs } from "node:util";
import { endBeat, endSeconds, type ProjectDocument } from "../../core/document";
import { constantTempoMap, TempoMapError } from "../../core/time/tempo-map";
import { createProject, findRecovery, openProject, ProjectError, projectFile } from "../../project/project";
import { type Command, printJson, UserError, usageError } from "../command";

function summary(dir: string, document: ProjectDocument) {
  return {
    file: projectFile(dir),
    lanes: document.lanes.length,
    regions: document.regions.length,
    heads: document.heads.length,
    tempo: {
      bpm: document.tempoMap.tempos[0]!.bpm,
      meter: `${document.tempoMap.meters[0]!.numerator}/${document.tempoMap.meters[0]!.denominator}`,
      tempoChanges: document.tempoMap.tempos,
      meterChanges: document.tempoMap.meters,
    },
    beatsPerCanvasFrame: document.grid.beatsPerCanvasFrame,
    durationBeats: endBeat(document),
    durationSeconds: endSeconds(document),
  };
}

function asUserError(error: unknown): unknown {
  if (error instanceof ProjectError) return new UserError(error.message);
  return error;
}

function parseMeter(command: Command, text: string): { numerator: number; denominator: number } {
  const match = /^(\d+)\/(\d+)$/.exec(text);
  if (!match) throw usageError(command, `--meter must look like 4/4 or 6/8, got "${text}"`);
  return { numerator: Number(match[1]), denominator: Number(match[2]) };
}

/** Runs an argument parser, turning its complaints into usage errors (exit 2). */
function parseOrUsage<T>(command: Command, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw usageError(command, error instanceof Error ? error.message : String(error));
  }
}

const newCommand: Command = {
  path: ["project", "new"],
  usage: "project new DIR [--bpm N] [--meter 4/4]",
  summary: "Create a project folder with an empty document (default 120 bpm, 4/4).",
  async run(args, io) {
    const parsed = parseOrUsage(newCommand, () =>
      parseArgs({
        args,
        options: { bpm: { type: "string" }, meter: { type: "string" } },
        allowPositionals: true,
      }),
    );
    const [dir, ...extra] = parsed.positionals;
    if (!dir) throw usageError(newCommand, "missing the project folder DIR");
    if (extra.length > 0) throw usageError(newCommand, `unexpected arguments: ${extra.join(" ")}`);
    const bpmText = parsed.values.bpm ?? "120";
    const bpm = Number(bpmText);
    if (bpmText.trim() === "" || !Number.isFinite(bpm)) {
      throw usageError(newCommand, `--bpm must be a number, got "${bpmText}"`);
    }
    const { numerator, denominator } = parseMeter(newCommand, parsed.values.meter ?? "4/4");
    let tempoMap: ReturnType<typeof constantTempoMap>;
    try {
      tempoMap = constantTempoMap(bpm, numerator, denominator);
    } catch (error) {
      if (error instanceof TempoMapError) {
        const field = error.path.split(".").at(-1);
        const option = error.path.startsWith("tempos") ? "--bpm" : `--meter ${field}`;
        throw usageError(newCommand, `${option}: ${error.message.slice(error.path.length + 2)}`);
      }
      throw error;
    }
    let document: ProjectDocument;
    try {
      document = await createProject(dir, { tempoMap });
    } catch (error) {
      throw asUserError(error);
    }
    printJson(io, { created: true, ...summary(dir, document) });
    return 0;
  },
};

const infoCommand: Command = {
  path: ["project", "info"],
  usage: "project info DIR",
  summary: "Print a JSON summary of a project: lanes, regions, heads, tempo, duration in beats and seconds.",
  async run(args, io) {
    const { positionals } = parseOrUsage(infoCommand, () =>
      parseArgs({ args, options: {}, allowPositionals: true }),
    );
    const [dir, ...extra] = positionals;
    if (!dir) throw usageError(infoCommand, "missing the project folder DIR");
    if (extra.length > 0) throw usageError(infoCommand, `unexpected arguments: ${extra.join(" ")}`);
    try {
      const document = await openProject(dir);
      const recovery = await findRecovery(dir);
      printJson(io, {
        ...summary(dir, document),
        autosave: recovery ? { newerThanSaved: true, autosavedAtMs: recovery.autosavedAtMs } : null,
      });
    } catch (error) {
      throw asUserError(error);
    }
    return 0;
  },
};

export const commands: Command[] = [newCommand, infoCommand];
