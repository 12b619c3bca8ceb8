// Finds the script a render worker starts from: a compiled build's render-worker.js; from source, a bundle of
// render-worker.ts made once per process with esbuild (externals kept) and cached in node_modules/.cache/lcanvas
// (named by its hash, so concurrent processes agree); else render-worker.mjs through tsx. Same approach as
// app/spaces/synth/worker-entry.ts. Called only by pool.ts.
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

let cached: Promise<URL> | undefined;

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
  const source = fileURLToPath(new URL("./render-worker.ts", import.meta.url));
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
  const dir = join(root, "node_modules", ".cache", "lcanvas");
  const file = join(dir, `render-worker-${hash}.mjs`);
  if (!existsSync(file)) {
    mkdirSync(dir, { recursive: true });
    const temporary = `${file}.${process.pid}.tmp`;
    writeFileSync(temporary, code);
    renameSync(temporary, file);
  }
  return pathToFileURL(file);
}

export function renderWorkerUrl(): Promise<URL> {
  cached ??= (async () => {
    const compiled = new URL("./render-worker.js", import.meta.url);
    if (existsSync(fileURLToPath(compiled))) return compiled;
    try {
      const bundled = await bundle();
      if (bundled) return bundled;
    } catch {
      // esbuild missing or failing: the tsx entry is slower to start but equivalent.
    }
    return new URL("./render-worker.mjs", import.meta.url);
  })();
  return cached;
}
