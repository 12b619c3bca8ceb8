// Finds the script a bounce worker thread starts from. Compiled builds ship bounce-worker.js next to this module.
// From source, the worker is bundled once per process with esbuild into node_modules/.cache/lcanvas (a file named
// by the bundle's hash, so concurrent processes agree); a worker then starts in ~130 ms instead of ~450 ms through
// tsx. If bundling is impossible, bounce-worker.mjs loads the TypeScript through tsx. Owned by app/spaces/synth;
// called only by bounce.ts.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

let cached: Promise<URL> | undefined;

/** The project root: the nearest directory above this module holding node_modules/spessasynth_core. */
function projectRoot(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    if (existsSync(join(dir, "node_modules", "spessasynth_core"))) return dir;
    const parent = dirname(dir);
    if (parent === dir) return undefined;
    dir = parent;
  }
}

async function bundle(): Promise<URL | undefined> {
  const source = fileURLToPath(new URL("./bounce-worker.ts", import.meta.url));
  const root = projectRoot();
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
  // Inside node_modules so the bundle's bare imports (spessasynth_core) resolve like the sources' do.
  const dir = join(root, "node_modules", ".cache", "lcanvas");
  const file = join(dir, `bounce-worker-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, code);
    renameSync(temporary, file);
  }
  return pathToFileURL(file);
}

export function bounceWorkerUrl(): Promise<URL> {
  cached ??= (async () => {
    const compiled = new URL("./bounce-worker.js", import.meta.url);
    if (existsSync(fileURLToPath(compiled))) return compiled;
    try {
      const bundled = await bundle();
      if (bundled) return bundled;
    } catch {
      // esbuild missing or failing: fall through to the tsx entry, slower to start but equivalent.
    }
    return new URL("./bounce-worker.mjs", import.meta.url);
  })();
  return cached;
}
