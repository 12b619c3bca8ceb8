// Test support: builds small native artifacts the audio tests need (the rt-guard library and its self-test, and
// any other one-file C++ tool) with the system compiler, cached under .tmp/native-build by a hash of the inputs.
// Callers: test/audio/rt-safety*.test.ts, bench/engine. Build failures throw with the compiler's output.
import { execFile } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, renameSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "../..");
const CACHE_DIR = join(REPO_ROOT, ".tmp", "native-build");

export interface CompileSpec {
  /** Output name without directory, e.g. "liblcrtguard.so". */
  name: string;
  sources: string[];
  /** Flags before the sources (e.g. -shared -fPIC, -O2). */
  flags: string[];
  /** Flags after the sources (libraries). */
  libs?: string[];
  compiler?: string;
}

function run(file: string, args: string[], timeoutMs: number): Promise<{ code: number; output: string }> {
  return new Promise((resolvePromise) => {
    execFile(file, args, { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolvePromise({ code, output: `${stdout}${stderr}` });
    });
  });
}

/** Compiles `spec` unless an identical build is cached; returns the absolute path of the output. */
export async function compileNative(spec: CompileSpec): Promise<string> {
  const compiler = spec.compiler ?? "g++";
  const hash = createHash("sha256");
  hash.update(JSON.stringify({ ...spec, compiler }));
  for (const source of spec.sources) hash.update(readFileSync(resolve(REPO_ROOT, source)));
  const key = hash.digest("hex").slice(0, 16);
  const dir = join(CACHE_DIR, key);
  const out = join(dir, spec.name);
  if (existsSync(out)) return out;
  mkdirSync(dir, { recursive: true });
  const partial = `${out}.partial-${process.pid}`;
  const args = [
    ...spec.flags,
    ...spec.sources.map((s) => resolve(REPO_ROOT, s)),
    "-o",
    partial,
    ...(spec.libs ?? []),
  ];
  const result = await run(compiler, args, 300_000);
  if (result.code !== 0) {
    throw new Error(
      `building ${spec.name} failed (${compiler} ${args.join(" ")}):\n${result.output}\n` +
        "Install the build tools with scripts/setup.sh (g++, librtaudio-dev).",
    );
  }
  renameSync(partial, out);
  return out;
}

/** The guard library (LD_PRELOAD) and its self-test program. */
export async function buildRtGuard(): Promise<{ library: string; selftest: string }> {
  const library = await compileNative({
    name: "liblcrtguard.so",
    sources: ["native/rt-guard/rt_guard.cpp"],
    flags: ["-std=c++17", "-O2", "-g", "-fPIC", "-shared", "-Wall", "-Wextra", "-Werror"],
    libs: ["-ldl", "-pthread"],
  });
  const selftest = await compileNative({
    name: "rtguard-selftest",
    sources: ["native/rt-guard/selftest.cpp"],
    flags: ["-std=c++17", "-O1", "-g", "-Wall", "-Werror"],
    libs: ["-pthread", library],
  });
  return { library, selftest };
}

export interface RtGuardReport {
  enters: number;
  markedThreads: number;
  injectEvery: number;
  counts: Record<string, number>;
  total: number;
  offenders: Array<{ kind: string; caller: string; object: string }>;
}

export function readRtGuardReport(path: string): RtGuardReport {
  const text = readFileSync(path, "utf8");
  try {
    return JSON.parse(text) as RtGuardReport;
  } catch (error) {
    throw new Error(`the rt-guard report ${path} is not JSON (${String(error)}): ${text.slice(0, 400)}`);
  }
}

/**
 * Builds a variant of the audio addon (e.g. the rt-guard build) into .tmp/addon-<name> with
 * scripts/build-native.mjs; CMake rebuilds only what changed. Returns the path of lcanvas_audio.node.
 */
export async function buildAddonVariant(name: string, defines: string[]): Promise<string> {
  const buildDir = join(REPO_ROOT, ".tmp", `addon-${name}`);
  const args = [join(REPO_ROOT, "scripts", "build-native.mjs"), "--build-dir", buildDir];
  for (const define of defines) args.push("--define", define);
  const result = await run(process.execPath, args, 600_000);
  if (result.code !== 0) {
    throw new Error(`building the ${name} addon failed (node ${args.join(" ")}):\n${result.output}`);
  }
  return join(buildDir, "Release", "lcanvas_audio.node");
}
