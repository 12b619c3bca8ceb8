// CLI commands over the library (content store + artifact graph): show, lineage, query, store verify/gc/put.
// Every command takes --store DIR (default: LCANVAS_STORE, else the XDG data folder). Registered in ../main.ts.
import { existsSync } from "node:fs";
import { type ParseArgsConfig, parseArgs } from "node:util";
import {
  DEFAULT_GRACE_MS,
  defaultLibraryRoot,
  gcLibrary,
  isContentHash,
  type Library,
  openLibrary,
  removeStaleGraphLock,
  runGraphQuery,
  StoreError,
  verifyLibrary,
} from "../../store/index";
import { type CliIo, type Command, printJson, UserError, usageError } from "../command";

function libraryRoot(store: string | undefined, mustExist: boolean): string {
  const root = store ?? defaultLibraryRoot();
  if (mustExist && !existsSync(root)) {
    throw new UserError(
      `no library at ${root}. Import something first ("lcanvas import FILE"), or pass --store DIR (or set LCANVAS_STORE) to the library folder.`,
    );
  }
  return root;
}

async function withStoreErrors<T>(work: () => Promise<T>): Promise<T> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof StoreError) throw new UserError(error.message);
    throw error;
  }
}

async function withLibrary<T>(root: string, work: (library: Library) => Promise<T>): Promise<T> {
  return withStoreErrors(async () => {
    const library = await openLibrary(root);
    try {
      return await work(library);
    } finally {
      await library.close();
    }
  });
}

type OptionValues = Record<string, string | boolean | Array<string | boolean> | undefined>;

function parse(
  command: Command,
  args: string[],
  options: NonNullable<ParseArgsConfig["options"]>,
): { values: OptionValues; positionals: string[] } {
  try {
    const parsed = parseArgs({
      args,
      options: { store: { type: "string" }, ...options },
      allowPositionals: true,
    });
    return { values: parsed.values as OptionValues, positionals: parsed.positionals };
  } catch (error) {
    throw usageError(command, error instanceof Error ? error.message : String(error));
  }
}

function optionString(values: OptionValues, name: string): string | undefined {
  const value = values[name];
  return typeof value === "string" ? value : undefined;
}

function wholeNumber(command: Command, text: string | undefined, name: string): number | undefined {
  if (text === undefined) return undefined;
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0)
    throw usageError(command, `--${name} must be a whole number (got "${text}")`);
  return value;
}

const show: Command = {
  path: ["show"],
  usage: "show HASH_OR_ID [--store DIR]",
  summary: "Print an artifact (by id) or an object and its artifacts (by content hash) as JSON.",
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parse(show, args, {});
    const [key, ...extra] = positionals;
    if (key === undefined || extra.length > 0)
      throw usageError(show, "give exactly one content hash or artifact id");
    const root = libraryRoot(optionString(values, "store"), true);
    return withLibrary(root, async ({ store, graph }) => {
      if (isContentHash(key)) {
        const inStore = await store.has(key);
        const artifacts = await graph.byHash(key);
        if (!inStore && artifacts.length === 0) {
          throw new UserError(`${key} is neither in the content store nor named by any artifact in ${root}.`);
        }
        printJson(io, { hash: key, inStore, path: inStore ? store.pathOf(key) : null, artifacts });
        return 0;
      }
      const artifact = await graph.get(key);
      if (artifact === null) {
        throw new UserError(
          `no artifact "${key}" in ${root}. Give an artifact id (artifact_...) or a 32-hex content hash; list some with: lcanvas query '{ artifacts(limit: 20) { id space tags } }'`,
        );
      }
      printJson(io, {
        artifact,
        inStore: await store.has(artifact.hash),
        path: store.pathOf(artifact.hash),
        parents: await graph.parents(key),
        children: (await graph.children(key)).map((edge) => edge.childId),
        variations: (await graph.variations(key)).map((v) => ({
          id: v.id,
          variationIndex: v.variationIndex,
        })),
        annotations: await graph.annotations(key),
      });
      return 0;
    });
  },
};

const lineage: Command = {
  path: ["lineage"],
  usage: "lineage ID [--max-depth N] [--store DIR]",
  summary:
    "Print an artifact's ancestors, nearest first, with the lineage edges (tool, params, context) as JSON.",
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parse(lineage, args, { "max-depth": { type: "string" } });
    const [id, ...extra] = positionals;
    if (id === undefined || extra.length > 0) throw usageError(lineage, "give exactly one artifact id");
    const maxDepth = wholeNumber(lineage, optionString(values, "max-depth"), "max-depth");
    const root = libraryRoot(optionString(values, "store"), true);
    return withLibrary(root, async ({ graph }) => {
      const artifact = await graph.get(id);
      if (artifact === null)
        throw new UserError(`no artifact "${id}" in ${root}. Check the id with "lcanvas show".`);
      printJson(io, {
        artifact,
        parents: await graph.parents(id),
        ancestors: await graph.lineage(id, maxDepth),
      });
      return 0;
    });
  },
};

const query: Command = {
  path: ["query"],
  usage: "query 'GRAPHQL' [--variables JSON] [--store DIR]",
  summary: "Run a GraphQL query over the artifact graph and print the JSON result (schema: docs/store.md).",
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parse(query, args, { variables: { type: "string" } });
    const [source, ...extra] = positionals;
    if (source === undefined || extra.length > 0) {
      throw usageError(query, "give the query as one argument, e.g. '{ artifacts(limit: 5) { id space } }'");
    }
    let variables: Record<string, unknown> | undefined;
    const variablesText = optionString(values, "variables");
    if (variablesText !== undefined) {
      try {
        const parsed: unknown = JSON.parse(variablesText);
        if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed))
          throw new Error("not an object");
        variables = parsed as Record<string, unknown>;
      } catch (error) {
        throw usageError(
          query,
          `--variables must be a JSON object (${error instanceof Error ? error.message : ""})`,
        );
      }
    }
    const root = libraryRoot(optionString(values, "store"), true);
    return withLibrary(root, async ({ graph }) => {
      const result = await runGraphQuery(graph, source, variables);
      printJson(io, result);
      if (result.errors !== undefined) {
        for (const message of result.errors) io.err(`lcanvas query: ${message}`);
        return 1;
      }
      return 0;
    });
  },
};

const verify: Command = {
  path: ["store", "verify"],
  usage: "store verify [--quarantine] [--store DIR]",
  summary:
    "Re-hash every object and check the graph; report damaged objects and what to do (exit 1 on damage).",
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parse(verify, args, { quarantine: { type: "boolean" } });
    if (positionals.length > 0) throw usageError(verify, `unexpected argument "${positionals[0]}"`);
    const root = libraryRoot(optionString(values, "store"), true);
    const report = await withStoreErrors(() =>
      verifyLibrary(root, { quarantine: values.quarantine === true }),
    );
    printJson(io, report);
    const sound =
      report.damaged.length === 0 && report.graphProblems.length === 0 && report.missing.length === 0;
    if (sound) return 0;
    for (const damaged of report.damaged)
      io.err(`damaged: ${damaged.hash} (${damaged.path}): ${damaged.problem}`);
    if (report.advice !== null) io.err(report.advice);
    for (const problem of report.graphProblems) io.err(`graph: ${problem}`);
    if (report.missing.length > 0) {
      io.err(
        `${report.missing.length} artifact(s) name objects that are not in the store (first: ${report.missing[0]}); import their sources again.`,
      );
    }
    return 1;
  },
};

const gc: Command = {
  path: ["store", "gc"],
  usage: "store gc [--project DIR ...] [--grace-seconds N] [--dry-run] [--store DIR]",
  summary: "Remove objects no artifact, root file or given project references (older than the grace period).",
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parse(gc, args, {
      project: { type: "string", multiple: true },
      "grace-seconds": { type: "string" },
      "dry-run": { type: "boolean" },
    });
    if (positionals.length > 0) throw usageError(gc, `unexpected argument "${positionals[0]}"`);
    const graceSeconds = wholeNumber(gc, optionString(values, "grace-seconds"), "grace-seconds");
    const projects = values.project;
    const projectDirs = Array.isArray(projects)
      ? projects.filter((p): p is string => typeof p === "string")
      : [];
    const root = libraryRoot(optionString(values, "store"), true);
    const report = await withStoreErrors(() =>
      gcLibrary(root, {
        projectDirs,
        graceMs: graceSeconds === undefined ? DEFAULT_GRACE_MS : graceSeconds * 1000,
        dryRun: values["dry-run"] === true,
      }),
    );
    printJson(io, report);
    if (report.missing.length > 0) {
      io.err(
        `note: ${report.missing.length} referenced object(s) are missing from the store (first: ${report.missing[0]}); import their sources again.`,
      );
    }
    return 0;
  },
};

const unlock: Command = {
  path: ["store", "unlock"],
  usage: "store unlock [--older-than-seconds N] [--store DIR]",
  summary: "Remove the graph lock folder a crashed process left behind (only if older than N s, default 30).",
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parse(unlock, args, { "older-than-seconds": { type: "string" } });
    if (positionals.length > 0) throw usageError(unlock, `unexpected argument "${positionals[0]}"`);
    const seconds =
      wholeNumber(unlock, optionString(values, "older-than-seconds"), "older-than-seconds") ?? 30;
    const root = libraryRoot(optionString(values, "store"), true);
    const removed = await withStoreErrors(async () => removeStaleGraphLock(root, seconds * 1000));
    printJson(io, { removed });
    return 0;
  },
};

const put: Command = {
  path: ["store", "put"],
  usage: "store put FILE [--store DIR]",
  summary: "Store a file's bytes as they are (no artifact) and print its content hash.",
  async run(args: string[], io: CliIo) {
    const { values, positionals } = parse(put, args, {});
    const [file, ...extra] = positionals;
    if (file === undefined || extra.length > 0) throw usageError(put, "give exactly one file");
    const root = libraryRoot(optionString(values, "store"), false);
    return withLibrary(root, async ({ store }) => {
      const hash = await store.putFile(file);
      printJson(io, { hash, path: store.pathOf(hash) });
      return 0;
    });
  },
};

export const commands: Command[] = [show, lineage, query, verify, gc, unlock, put];
