// CLI commands for the encodings musicians bring in and take out: `import FILE...` and `export ID`.
// Every command takes --store DIR (default: LCANVAS_STORE, else the XDG data folder). Registered in ../main.ts.
import { existsSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { type ParseArgsConfig, parseArgs } from "node:util";
import type { WavExportDepth } from "../../spaces/audio/wav";
import { EncodingError } from "../../spaces/errors";
import { DEFAULT_PROJECT_RATE, type ExportFormat, exportArtifact, importFile } from "../../spaces/import";
import { defaultLibraryRoot, type Library, openLibrary, StoreError } from "../../store/index";
import { type Command, printJson, UserError, usageError } from "../command";

type Values = Record<string, string | boolean | undefined>;

function parse(command: Command, args: string[], options: NonNullable<ParseArgsConfig["options"]>) {
  try {
    const parsed = parseArgs({
      args,
      options: { store: { type: "string" }, ...options },
      allowPositionals: true,
    });
    return { values: parsed.values as Values, positionals: parsed.positionals };
  } catch (error) {
    throw usageError(command, error instanceof Error ? error.message : String(error));
  }
}

async function withLibrary<T>(root: string, work: (library: Library) => Promise<T>): Promise<T> {
  let library: Library;
  try {
    library = await openLibrary(root);
  } catch (error) {
    if (error instanceof StoreError) throw new UserError(error.message);
    throw error;
  }
  try {
    return await work(library);
  } finally {
    await library.close();
  }
}

function userMessage(error: unknown): string | undefined {
  if (error instanceof EncodingError || error instanceof StoreError) return error.message;
  return undefined;
}

const importCommand: Command = {
  path: ["import"],
  usage: "import FILE... [--rate HZ] [--store-decoded] [--store DIR]",
  summary:
    "Import MIDI, WAV, FLAC, MP3, Ogg Vorbis or ABC files into the library; prints one JSON object per file",
  async run(args, io) {
    const { values, positionals } = parse(importCommand, args, {
      rate: { type: "string" },
      "store-decoded": { type: "boolean" },
    });
    if (positionals.length === 0) throw usageError(importCommand, "name at least one file to import");
    const rateText = values["rate"];
    const projectRate = rateText === undefined ? DEFAULT_PROJECT_RATE : Number(rateText);
    if (!Number.isInteger(projectRate) || projectRate < 8000 || projectRate > 384_000) {
      throw usageError(
        importCommand,
        `--rate must be a whole number of Hz from 8000 to 384000 (got "${rateText}")`,
      );
    }
    const root = typeof values["store"] === "string" ? values["store"] : defaultLibraryRoot();
    let failures = 0;
    await withLibrary(root, async (library) => {
      for (const file of positionals) {
        try {
          const summary = await importFile(library, file, {
            projectRate,
            storeDecoded: values["store-decoded"] === true,
          });
          printJson(io, summary);
        } catch (error) {
          const message = userMessage(error);
          if (message === undefined) throw error;
          failures += 1;
          printJson(io, { file, error: message });
          io.err(`lcanvas import: ${message}`);
        }
      }
    });
    return failures === 0 ? 0 : 1;
  },
};

const exportCommand: Command = {
  path: ["export"],
  usage: "export ID --format mid|wav [--bits 16|24|32f] [--rate HZ] --out FILE [--store DIR]",
  summary: "Write an artifact as a MIDI file (SMF type 1) or a WAV file",
  async run(args, io) {
    const { values, positionals } = parse(exportCommand, args, {
      format: { type: "string" },
      bits: { type: "string" },
      rate: { type: "string" },
      out: { type: "string" },
    });
    if (positionals.length !== 1) throw usageError(exportCommand, "name exactly one artifact id");
    const format = values["format"];
    if (format !== "mid" && format !== "wav") throw usageError(exportCommand, "--format must be mid or wav");
    const bits = values["bits"];
    if (bits !== undefined && bits !== "16" && bits !== "24" && bits !== "32f")
      throw usageError(exportCommand, "--bits must be 16, 24 or 32f");
    if (format === "mid" && values["bits"] !== undefined)
      throw usageError(exportCommand, "--bits applies to wav only");
    const out = values["out"];
    if (typeof out !== "string" || out === "") throw usageError(exportCommand, "--out FILE is required");
    const rateText = values["rate"];
    const sampleRate = rateText === undefined ? undefined : Number(rateText);
    if (
      sampleRate !== undefined &&
      (!Number.isInteger(sampleRate) || sampleRate < 8000 || sampleRate > 384_000)
    ) {
      throw usageError(
        exportCommand,
        `--rate must be a whole number of Hz from 8000 to 384000 (got "${rateText}")`,
      );
    }
    const root = typeof values["store"] === "string" ? values["store"] : defaultLibraryRoot();
    if (!existsSync(root)) {
      throw new UserError(
        `no library at ${root}. Pass --store DIR (or set LCANVAS_STORE) to the library folder.`,
      );
    }
    const id = positionals[0]!;
    return withLibrary(root, async (library) => {
      try {
        const result = await exportArtifact(library, id, {
          format: format as ExportFormat,
          ...(bits === undefined ? {} : { bits: bits as WavExportDepth }),
          ...(sampleRate === undefined ? {} : { sampleRate }),
        });
        try {
          await writeFile(out, result.bytes);
        } catch (error) {
          const code = (error as NodeJS.ErrnoException).code ?? "";
          throw new UserError(
            `cannot write ${out} (${code || String(error)}): check that its folder exists and is writable, or choose another --out`,
          );
        }
        printJson(io, {
          id,
          out,
          format: result.format,
          bytes: result.bytes.length,
          ...(result.format === "wav"
            ? { bits: result.bits, sampleRate: result.sampleRate, clippedSamples: result.clippedSamples }
            : {}),
        });
        return 0;
      } catch (error) {
        const message = userMessage(error);
        if (message === undefined) throw error;
        throw new UserError(message);
      }
    });
  },
};

export const commands: Command[] = [importCommand, exportCommand];
