// The sanitizer build: the addon built with ASan+UBSan (separate build dir) runs the engine's bit-exact kernel test,
// the JACK bit-exact and fallback tests, and a live null-driver run with control churn, in a child process with
// libasan preloaded; any sanitizer report fails. A canary built with the same flags proves the sanitizers report.
// Costs about a minute (the build is cached by CMake under .tmp/addon-asan).
import { execFile } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildAddonVariant, compileNative, REPO_ROOT } from "../support/native-build";

const SANITIZE = [
  "-fsanitize=address,undefined",
  "-fno-sanitize-recover=undefined",
  "-fno-omit-frame-pointer",
  "-g",
];
const work = mkdtempSync(join(tmpdir(), "lc-asan-"));
let addon = "";
let libasan = "";

function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
  timeoutMs: number,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(
      file,
      args,
      { env, cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (e, out, err) => {
        resolve({
          code: e ? (typeof e.code === "number" ? e.code : 1) : 0,
          stdout: String(out),
          stderr: String(err),
        });
      },
    );
  });
}

function sanitizerEnv(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    LD_PRELOAD: libasan,
    // Node itself is not built with ASan and keeps memory until exit: leak checking would only report Node.
    ASAN_OPTIONS: "detect_leaks=0:abort_on_error=1:halt_on_error=1",
    UBSAN_OPTIONS: "halt_on_error=1:print_stacktrace=1",
    LC_AUDIO_ADDON: addon,
  };
}

beforeAll(async () => {
  const found = await run("g++", ["-print-file-name=libasan.so"], process.env, 10_000);
  libasan = found.stdout.trim();
  if (!existsSync(libasan)) {
    throw new Error(
      `libasan.so not found (g++ says "${libasan}"): install g++ (its libasan comes with libgcc-12-dev)`,
    );
  }
  addon = await buildAddonVariant("asan", [
    `CMAKE_CXX_FLAGS=${SANITIZE.join(" ")}`,
    "CMAKE_SHARED_LINKER_FLAGS=-fsanitize=address,undefined",
  ]);
}, 900_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("ASan+UBSan build of the addon", () => {
  it("is instrumented, and a canary built the same way is caught by both sanitizers", async () => {
    const symbols = await run("nm", ["-D", addon], process.env, 30_000);
    expect(symbols.stdout).toMatch(/__asan_report_load/);
    expect(symbols.stdout).toMatch(/__ubsan_handle_/);
    const canary = await compileNative({
      name: "sanitizer-canary",
      sources: ["native/rt-guard/sanitizer-canary.cpp"],
      flags: ["-O1", ...SANITIZE],
      libs: ["-fsanitize=address,undefined"],
    });
    const env = { ...process.env, ASAN_OPTIONS: "detect_leaks=0", UBSAN_OPTIONS: "halt_on_error=1" };
    const ok = await run(canary, ["ok"], env, 30_000);
    expect(ok.code).toBe(0);
    const heap = await run(canary, ["heap"], env, 30_000);
    expect(heap.code).not.toBe(0);
    expect(heap.stderr).toContain("AddressSanitizer: heap-buffer-overflow");
    const shift = await run(canary, ["shift"], env, 30_000);
    expect(shift.code).not.toBe(0);
    expect(shift.stderr).toMatch(/runtime error: shift exponent 39/);
  });

  it("runs the kernel and JACK bit-exact tests and the fallback test with no sanitizer report", async () => {
    const report = join(work, "vitest.json");
    const files = [
      "test/audio/kernel-bitexact.test.ts",
      "test/audio/jack-bitexact.test.ts",
      "test/audio/jack-fallback.test.ts",
    ].filter((f) => existsSync(join(REPO_ROOT, f)));
    const result = await run(
      process.execPath,
      [
        join(REPO_ROOT, "node_modules", "vitest", "vitest.mjs"),
        "run",
        ...files,
        "--reporter=json",
        `--outputFile=${report}`,
      ],
      sanitizerEnv(),
      600_000,
    );
    const output = `${result.stdout}\n${result.stderr}`;
    expect(output).not.toMatch(/AddressSanitizer|runtime error:|LeakSanitizer/);
    expect(existsSync(report), output.slice(-3000)).toBe(true);
    const summary = JSON.parse(readFileSync(report, "utf8")) as {
      numPassedTests: number;
      numFailedTests: number;
      numPendingTests: number;
    };
    expect(summary.numFailedTests, output.slice(-3000)).toBe(0);
    expect(summary.numPassedTests).toBeGreaterThanOrEqual(3);
    expect(result.code).toBe(0);
  }, 900_000);

  it("plays live on the null driver under control churn and page rewrites with no sanitizer report", async () => {
    const result = await run(
      process.execPath,
      [
        "--import",
        "tsx",
        join(REPO_ROOT, "test", "support", "rt-workload.ts"),
        "--driver",
        "null",
        "--seconds",
        "2",
      ],
      sanitizerEnv(),
      300_000,
    );
    expect(`${result.stdout}\n${result.stderr}`).not.toMatch(/AddressSanitizer|runtime error:/);
    expect(result.code, result.stderr).toBe(0);
    const last = result.stdout.trim().split("\n").pop() ?? "{}";
    const outcome = JSON.parse(last) as { stats: { callbacks: number }; controlChanges: number };
    expect(outcome.stats.callbacks).toBeGreaterThan(200);
    expect(outcome.controlChanges).toBeGreaterThan(50);
  }, 300_000);
});
