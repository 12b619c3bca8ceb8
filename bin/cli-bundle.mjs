// Starts the `lcanvas` CLI (called by bin/lcanvas.mjs) from an esbuild bundle of the TypeScript sources, kept fresh
// without rebuilding on every start; plain JavaScript because it runs before anything can load TypeScript.
//
// Why: through tsx, start-up and on-the-fly transforms cost ~0.3-0.5 s of every command; a bundle starts `--help`
// in about half the time, and its worker entries spare the per-process esbuild run of app/node/worker-script.ts.
//
// Layout, under <root>/node_modules/.cache/lcanvas/ (inside node_modules so the bundle's bare imports and
// createRequire(import.meta.url) resolve as they do from the sources):
//   cli-<id>/main.js, render-worker.js, bounce-worker.js (+ .map)  self-contained ESM bundles, one per entry; the
//       workers sit beside main.js, where worker-script.ts looks for `./NAME.js` (import.meta.url is main.js's)
//   cli-<id>/manifest.json  every input file of the build (esbuild's metafile) with its mtimeMs and size, plus the
//       esbuild version and the build options
//   cli-current-<rootKey>.json  the pointer {dir, root}: which cli-<id> is current for this checkout. Keyed by the
//       checkout's path because git worktrees may share one node_modules through a symlink.
// Each start reads the pointer and the manifest and stat()s the inputs (~90 files, ~1 ms). All equal: import the
// bundle. Else rebuild into a new directory (written under a temporary name, then renamed) and switch the pointer
// with write-temporary + rename, so concurrent starts (vitest spawns many) never see a half-written bundle;
// concurrent builders of the same sources produce the same <id> and keep whichever rename lands first.
// Directories no pointer names are pruned once they have not been current for PRUNE_AFTER_MS: a process that
// started from one may still start workers from it.
//
// Falls back to the sources through tsx (the behaviour before bundles) when LCANVAS_FROM_SOURCE=1, when esbuild is
// missing, when the cache cannot be written, or when the build fails: a syntax error then gets tsx's own report.
// LCANVAS_TRACE_START=1 prints on stderr which way the CLI started and why (tests read it).
//
// Source maps are written beside the bundles but not enabled: Node then parses main.js.map on every start (~10 ms,
// measured). For stack traces in the sources run with NODE_OPTIONS=--enable-source-maps, or LCANVAS_FROM_SOURCE=1.
//
// Known blind spot: a new file that changes how an existing import resolves (adding `x.ts` beside an `x/index.ts`)
// is not an input of the old build, so it goes unnoticed until some input changes.
import {
  chmodSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  renameSync,
  rmSync,
  statSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { createRequire } from "node:module";
import { basename, join, resolve } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

/** Bumped when the layout of the cache or the manifest changes: older bundles are then rebuilt. */
const BUNDLE_FORMAT = 1;

/** Output name (without .js) -> entry source, relative to the root. */
export const ENTRIES = {
  main: "app/cli/main.ts",
  "render-worker": "app/render/render-worker.ts",
  "bounce-worker": "app/spaces/synth/bounce-worker.ts",
};

/** Files that shape esbuild's output without being bundled (tsconfig's settings, package.json's "type"). */
const EXTRA_INPUTS = ["package.json", "tsconfig.json"];

/**
 * Packages bundled in rather than imported from node_modules: pure JavaScript, no files found beside themselves,
 * and slow to load as separate ES modules (graphql ~50 ms, zod ~45 ms: their many files, each a module for Node's
 * loader), while a bundle only parses them. The bundle's external imports are hoisted and run on every start, so
 * these two would otherwise cost every command (even `--help`) ~50 ms; bundled, they run only when used.
 */
export const INLINE_PACKAGES = ["graphql", "zod"];

/** The esbuild options that decide the output (paths apart); recorded in the manifest and compared on start. */
export const BUILD_OPTIONS = {
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node20",
  splitting: false,
  sourcemap: "linked",
  sourcesContent: false,
};

const MANIFEST_OPTIONS = { ...BUILD_OPTIONS, inlinePackages: INLINE_PACKAGES };

/** Keeps every package but INLINE_PACKAGES external (esbuild's `packages: "external"` has no exceptions). */
const externalPackages = {
  name: "lcanvas-external-packages",
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, ({ path }) => {
      if (path.startsWith("node:")) return { external: true };
      return INLINE_PACKAGES.includes(packageName(path)) ? undefined : { external: true };
    });
  },
};

/** "zod" of "zod/mini", "@scope/name" of "@scope/name/sub". */
function packageName(specifier) {
  const parts = specifier.split("/");
  return specifier.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

/**
 * The files whose mtime and size stand for a build input: a source file itself; for a file of a bundled package,
 * the package's package.json (npm rewrites it on every install or upgrade; ~250 files fewer to stat per start).
 */
function inputStandIn(file) {
  const at = file.lastIndexOf("/node_modules/");
  if (at < 0) return file;
  const inside = file.slice(at + "/node_modules/".length);
  return join(file.slice(0, at), "node_modules", packageName(inside), "package.json");
}

/** How long a directory must have been out of use (not current) before it is pruned. */
export const PRUNE_AFTER_MS = 60 * 60 * 1000;

/** Where a checkout's bundles live. */
export function cacheDir(root) {
  return join(root, "node_modules", ".cache", "lcanvas");
}

/** FNV-1a of the checkout's path, as 8 hex digits (cheaper to load than node:crypto on every start). */
function rootKey(root) {
  let hash = 0x811c9dc5;
  for (let i = 0; i < root.length; i++) {
    hash ^= root.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0).toString(16).padStart(8, "0");
}

/** The pointer file naming the current bundle directory of the checkout at `root`. */
export function pointerPath(root) {
  return join(cacheDir(root), `cli-current-${rootKey(root)}.json`);
}

/** esbuild's package.json as resolved from the checkout, or undefined when esbuild is not installed. */
function esbuildPackage(root) {
  try {
    const file = createRequire(join(root, "package.json")).resolve("esbuild/package.json");
    return { file, version: JSON.parse(readFileSync(file, "utf8")).version };
  } catch {
    return undefined;
  }
}

function readJson(file) {
  try {
    return JSON.parse(readFileSync(file, "utf8"));
  } catch {
    return undefined;
  }
}

/**
 * The current bundle directory of `root` when it is fresh ({dir}), else why it cannot be used ({stale}: a sentence
 * naming what differs). `esbuildVersion` is the installed esbuild's version.
 */
export function checkBundle(root, esbuildVersion) {
  const stale = staleness(root, esbuildVersion);
  return typeof stale === "string" ? { stale } : { dir: stale.dir };
}

function staleness(root, esbuildVersion) {
  const pointer = readJson(pointerPath(root));
  if (pointer === undefined || typeof pointer.dir !== "string") return "no bundle yet";
  const dir = join(cacheDir(root), pointer.dir);
  const manifest = readJson(join(dir, "manifest.json"));
  if (typeof manifest?.inputs !== "object") return `${pointer.dir}/manifest.json is missing or unreadable`;
  if (manifest.format !== BUNDLE_FORMAT)
    return `bundle format ${manifest.format}, this launcher writes ${BUNDLE_FORMAT}`;
  if (manifest.esbuild !== esbuildVersion)
    return `built by esbuild ${manifest.esbuild}, installed ${esbuildVersion}`;
  if (JSON.stringify(manifest.options) !== JSON.stringify(MANIFEST_OPTIONS))
    return "the build options changed";
  for (const name of Object.keys(ENTRIES)) {
    if (statSync(join(dir, `${name}.js`), { throwIfNoEntry: false }) === undefined)
      return `${name}.js is missing`;
  }
  for (const [file, recorded] of Object.entries(manifest.inputs)) {
    const now = statSync(file, { throwIfNoEntry: false });
    if (now === undefined) return `${file} was removed`;
    if (now.mtimeMs !== recorded.mtimeMs || now.size !== recorded.size) return `${file} changed`;
  }
  return { dir };
}

/**
 * File timestamps come from the kernel's coarse clock, which lags Date.now() by up to a tick (4-10 ms): a file
 * written just after a build started can carry an mtime a little before it.
 */
const MTIME_LAG_MS = 20;

/**
 * Each input's mtimeMs and size. A file modified at or after `buildStartedMs` (less MTIME_LAG_MS) may have changed
 * after esbuild read it: it is recorded with mtimeMs -1 so the next start rebuilds rather than trust this bundle.
 */
export function snapshotInputs(files, buildStartedMs) {
  const inputs = {};
  for (const file of files) {
    const stat = statSync(file);
    const unsure = stat.mtimeMs >= buildStartedMs - MTIME_LAG_MS;
    inputs[file] = { mtimeMs: unsure ? -1 : stat.mtimeMs, size: stat.size };
  }
  return inputs;
}

/** Builds the bundle of `root` into a new cli-<id> directory, makes it current, and returns the directory. */
export async function buildBundle(root, esbuildVersion) {
  const cache = cacheDir(root);
  const { build } = await import(
    pathToFileURL(createRequire(join(root, "package.json")).resolve("esbuild")).href
  );
  const startedMs = Date.now();
  // The real path, so the source maps' relative paths lead back to the sources even through a symlinked
  // node_modules (worktrees); the directory name has the final one's depth.
  const outdir = join(realpathSync(cache), "cli-pending");
  const result = await build({
    ...BUILD_OPTIONS,
    plugins: [externalPackages],
    entryPoints: Object.fromEntries(
      Object.entries(ENTRIES).map(([name, source]) => [name, join(root, source)]),
    ),
    absWorkingDir: root,
    outdir,
    write: false,
    metafile: true,
    logLevel: "silent",
  });
  const inputFiles = [
    ...new Set(Object.keys(result.metafile.inputs).map((file) => inputStandIn(resolve(root, file)))),
  ];
  for (const extra of EXTRA_INPUTS) {
    const file = join(root, extra);
    if (statSync(file, { throwIfNoEntry: false }) !== undefined) inputFiles.push(file);
  }
  // This builder too: a change to how it bundles must not leave bundles of the old way in use.
  inputFiles.push(fileURLToPath(import.meta.url));
  const manifest = {
    format: BUNDLE_FORMAT,
    esbuild: esbuildVersion,
    options: MANIFEST_OPTIONS,
    root,
    inputs: snapshotInputs(inputFiles, startedMs),
  };
  const manifestText = `${JSON.stringify(manifest, null, 1)}\n`;
  const { createHash } = await import("node:crypto");
  const hash = createHash("sha256");
  for (const output of result.outputFiles) hash.update(basename(output.path)).update(output.contents);
  const dirName = `cli-${hash.update(manifestText).digest("hex").slice(0, 16)}`;
  const dir = join(cache, dirName);

  if (!complete(dir, manifestText)) {
    // Same id but damaged (a start found it unusable): set it aside, so the rename below can put a whole one there.
    if (statSync(dir, { throwIfNoEntry: false }) !== undefined) {
      const aside = join(cache, `.tmp-cli-damaged-${process.pid}-${Math.random().toString(36).slice(2)}`);
      renameSync(dir, aside);
      rmSync(aside, { recursive: true, force: true });
    }
    const temporary = mkdtempSync(join(cache, ".tmp-cli-"));
    chmodSync(temporary, 0o755); // mkdtemp's 0700 would hide the bundle from other users of a shared checkout
    for (const output of result.outputFiles)
      writeFileSync(join(temporary, basename(output.path)), output.contents);
    writeFileSync(join(temporary, "manifest.json"), manifestText);
    try {
      renameSync(temporary, dir);
    } catch (error) {
      // Another process built the same sources first: its directory is identical.
      rmSync(temporary, { recursive: true, force: true });
      if (!complete(dir, manifestText)) throw error;
    }
  }
  switchPointer(root, dirName);
  prune(cache);
  return dir;
}

/** Whether `dir` holds every entry's bundle and exactly this manifest. */
function complete(dir, manifestText) {
  try {
    if (readFileSync(join(dir, "manifest.json"), "utf8") !== manifestText) return false;
  } catch {
    return false;
  }
  return Object.keys(ENTRIES).every((name) => statSync(join(dir, `${name}.js`), { throwIfNoEntry: false }));
}

function switchPointer(root, dirName) {
  const cache = cacheDir(root);
  const file = pointerPath(root);
  const previous = readJson(file)?.dir;
  const temporary = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  writeFileSync(temporary, `${JSON.stringify({ dir: dirName, root })}\n`);
  renameSync(temporary, file);
  // A directory's mtime counts as its last time current: pruning waits PRUNE_AFTER_MS from now.
  if (typeof previous === "string" && previous !== dirName) {
    const now = new Date();
    try {
      utimesSync(join(cache, previous), now, now);
    } catch {
      // Already gone.
    }
  }
}

/**
 * Removes bundle directories that no pointer names and that have not been current for PRUNE_AFTER_MS, leftovers
 * of interrupted builds, and pointers of checkouts that no longer exist. Errors are ignored: another process may be
 * pruning the same entries.
 */
export function prune(cache, nowMs = Date.now()) {
  const old = (path) => {
    const stat = statSync(path, { throwIfNoEntry: false });
    return stat !== undefined && nowMs - stat.mtimeMs > PRUNE_AFTER_MS;
  };
  try {
    const entries = readdirSync(cache);
    const named = new Set();
    for (const entry of entries) {
      if (!/^cli-current-.*\.json$/.test(entry)) continue;
      const pointer = readJson(join(cache, entry));
      if (pointer !== undefined && statSync(pointer.root, { throwIfNoEntry: false }) === undefined) {
        if (old(join(cache, entry))) rmSync(join(cache, entry), { force: true });
        continue;
      }
      if (typeof pointer?.dir === "string") named.add(pointer.dir);
    }
    for (const entry of entries) {
      const path = join(cache, entry);
      const bundleDir = /^cli-[0-9a-f]{16}$/.test(entry) && !named.has(entry);
      const leftover = entry.startsWith(".tmp-cli-") || /^cli-current-.*\.tmp$/.test(entry);
      if ((bundleDir || leftover) && old(path)) rmSync(path, { recursive: true, force: true });
    }
  } catch {
    // Pruning is housekeeping; the next build tries again.
  }
}

/**
 * The directory of a fresh bundle of `root` (reused or rebuilt), or undefined with the reason traced when the CLI
 * must start from the sources instead.
 */
export async function freshBundle(root, trace) {
  const esbuild = esbuildPackage(root);
  if (esbuild === undefined) {
    trace("esbuild is not installed");
    return undefined;
  }
  let current;
  try {
    current = checkBundle(root, esbuild.version);
  } catch (error) {
    // An unreadable cache (permissions, a damaged manifest) must not stop the CLI.
    trace(`cannot check the bundle: ${error.message}`);
    return undefined;
  }
  if (current.dir !== undefined) {
    trace(`reusing bundle ${current.dir}`);
    return current.dir;
  }
  try {
    mkdirSync(cacheDir(root), { recursive: true });
  } catch (error) {
    trace(`cannot create the bundle cache ${cacheDir(root)}: ${error.message}`);
    return undefined;
  }
  try {
    const startedMs = performance.now();
    const dir = await buildBundle(root, esbuild.version);
    trace(`rebuilt bundle ${dir} in ${Math.round(performance.now() - startedMs)} ms (${current.stale})`);
    return dir;
  } catch (error) {
    const first = error?.errors?.[0]; // esbuild's first message names the file and line
    const at = first?.location; // line 1-based, column 0-based: as esbuild and tsx print them
    const where = at ? `${resolve(root, at.file)}:${at.line}:${at.column}: ` : "";
    trace(`bundle build failed: ${first ? `${where}${first.text}` : String(error?.message ?? error)}`);
    return undefined;
  }
}

/**
 * Modules that locate a file by their own import.meta.url (app/audio/native.ts, app/spaces/synth/fluid.ts) would
 * look beside the bundle: name the checkout's addons for them, unless the caller chose others.
 */
function setAddonPaths(root, env) {
  env["LC_AUDIO_ADDON"] ??= join(root, "native", "build", "Release", "lcanvas_audio.node");
  env["LC_SYNTH_ADDON"] ??= join(root, "native", "synth", "build", "Release", "lcanvas_synth.node");
}

/** Runs the CLI of the checkout at `root` with `argv`; resolves to the exit code. */
export async function startCli(root, argv) {
  const env = process.env;
  const trace =
    env["LCANVAS_TRACE_START"] === "1" ? (line) => process.stderr.write(`lcanvas: ${line}\n`) : () => {};
  let main;
  if (env["LCANVAS_FROM_SOURCE"] === "1") {
    trace("starting from source: LCANVAS_FROM_SOURCE=1");
  } else {
    const dir = await freshBundle(root, trace);
    if (dir !== undefined) {
      setAddonPaths(root, env);
      trace(`starting from bundle ${dir}`);
      ({ main } = await import(pathToFileURL(join(dir, "main.js")).href));
    } else {
      trace("starting from source through tsx");
    }
  }
  if (main === undefined) {
    const { register } = await import("tsx/esm/api");
    register();
    ({ main } = await import(pathToFileURL(join(root, ENTRIES.main)).href));
  }
  return main(argv);
}
