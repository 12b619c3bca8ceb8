// Finds the script a worker thread starts from, for any worker module `NAME.ts` beside its caller: a compiled
// build's NAME.js; from source, a bundle of NAME.ts made once per process with esbuild (packages kept external)
// and cached in node_modules/.cache/lcanvas under its hash, so concurrent processes agree (a worker then starts
// in ~130 ms instead of ~450 ms through tsx); else NAME.mjs, which loads the TypeScript through tsx.
// Node-only; called by the worker pools (app/render/pool.ts, app/spaces/synth/bounce.ts). In the CLI's bundle
// (bin/cli-bundle.mjs) `callerUrl` is the bundle's main.js, beside which the prebuilt worker bundles lie.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const cache = new Map<string, Promise<URL>>();

/** The project root: the nearest directory above `file` with node_modules (where bare imports resolve). */
function projectRoot(file: string): string | undefined {
  let dir = dirname(file);
  for (;;) {
    if (existsSync(join(dir, "node_modules", "spessasynth_core"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

async function bundle(source: string, name: string): Promise<URL | undefined> {
  const root = projectRoot(source);
  if (!existsSync(source) || root === undefined) return undefined;
  const { build } = await import("esbuild");
  const result = await build({
    entryPoints: [source],
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    packages: "external",
    write: false,
    logLevel: "silent",
  });
  const code = result.outputFiles[0]?.text;
  if (code === undefined) return undefined;
  const hash = createHash("sha256").update(code).digest("hex").slice(0, 16);
  // Inside node_modules so the bundle's bare imports resolve as the sources' do.
  const dir = join(root, "node_modules", ".cache", "lcanvas");
  const file = join(dir, `${name}-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, code);
    renameSync(temporary, file);
  }
  return pathToFileURL(file);
}

/** The URL to start worker `name` from; `callerUrl` is the `import.meta.url` of a module beside `name.ts`. */
export function workerScriptUrl(callerUrl: string, name: string): Promise<URL> {
  const key = new URL(`./${name}`, callerUrl).href;
  let found = cache.get(key);
  if (found === undefined) {
    found = (async () => {
      const compiled = new URL(`./${name}.js`, callerUrl);
      if (existsSync(fileURLToPath(compiled))) return compiled;
      try {
        const bundled = await bundle(fileURLToPath(new URL(`./${name}.ts`, callerUrl)), name);
        if (bundled) return bundled;
      } catch {
        // esbuild missing or failing: the tsx entry is slower to start but equivalent.
      }
      return new URL(`./${name}.mjs`, callerUrl);
    })();
    cache.set(key, found);
    // Tests check which script workers start from (e.g. the CLI bundle's prebuilt NAME.js).
    if (process.env["LCANVAS_TRACE_START"] === "1") {
      void found.then((url) => process.stderr.write(`lcanvas: worker ${name} starts from ${url.href}\n`));
    }
  }
  return found;
}
