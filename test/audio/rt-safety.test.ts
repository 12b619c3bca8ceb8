// The real-time-safety proof: the engine built with -DLC_RT_GUARD marks its render entry, the rt-guard library
// (LD_PRELOAD) counts every allocation, lock and interposable syscall made inside it, and a live run on the null
// driver and on JACK with control changes and page rewrites going on must count zero. A run with deliberate
// allocations injected into the marked section must count them, so the check can fail.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startJack } from "../support/jack";
import {
  buildAddonVariant,
  buildRtGuard,
  REPO_ROOT,
  type RtGuardReport,
  readRtGuardReport,
} from "../support/native-build";

interface WorkloadResult {
  info: { name: string; onFallback?: boolean; lastError?: string };
  stats: { callbacks: number; lateBlocks: number; pageMisses: number; driverFallbacks: number };
  positions: number[];
  rewrites: number;
  missRecords: number;
  controlChanges: number;
  rtGuardBuild: boolean;
}

const work = mkdtempSync(join(tmpdir(), "lc-rtsafety-"));
let guardLibrary = "";
let guardAddon = "";

beforeAll(async () => {
  guardLibrary = (await buildRtGuard()).library;
  guardAddon = await buildAddonVariant("rtguard", ["LC_RT_GUARD=ON"]);
}, 600_000);

afterAll(() => rmSync(work, { recursive: true, force: true }));

function runWorkload(
  name: string,
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
): Promise<{ result: WorkloadResult; report: RtGuardReport }> {
  const reportPath = join(work, `${name}.json`);
  const env = {
    ...process.env,
    ...extraEnv,
    LD_PRELOAD: guardLibrary,
    LC_RTGUARD_REPORT: reportPath,
    LC_AUDIO_ADDON: guardAddon,
  };
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      ["--import", "tsx", join(REPO_ROOT, "test", "support", "rt-workload.ts"), ...args],
      { env, cwd: REPO_ROOT, timeout: 60_000 },
      (error, stdout, stderr) => {
        if (error) {
          reject(new Error(`workload ${name} failed: ${error.message}\n${stderr}`));
          return;
        }
        const lines = String(stdout).trim().split("\n");
        const result = JSON.parse(lines[lines.length - 1]!) as WorkloadResult;
        resolve({ result, report: readRtGuardReport(reportPath) });
      },
    );
  });
}

function describeViolations(report: RtGuardReport): string {
  const nonZero = Object.entries(report.counts).filter(([, n]) => n > 0);
  return `${JSON.stringify(Object.fromEntries(nonZero))} first offenders: ${JSON.stringify(report.offenders)}`;
}

describe("real-time safety of the render entry", () => {
  it("counts injected allocations inside the real callback (the check can fail)", async () => {
    const { result, report } = await runWorkload("inject", ["--driver", "null", "--seconds", "1"], {
      LC_RTGUARD_INJECT_EVERY: "10",
    });
    expect(result.rtGuardBuild).toBe(true);
    expect(report.injectEvery).toBe(10);
    expect(report.enters).toBeGreaterThan(100);
    expect(report.counts.malloc).toBe(Math.floor(report.enters / 10));
    expect(report.counts.free).toBe(Math.floor(report.enters / 10));
    expect(report.offenders[0]).toMatchObject({ kind: "malloc", caller: "lc_rtguard_enter" });
  });

  it("makes no allocation, lock or syscall on the null driver under control changes, page rewrites and page misses", async () => {
    const { result, report } = await runWorkload("null", [
      "--driver",
      "null",
      "--seconds",
      "3",
      "--misses",
      "on",
    ]);
    // Head 1 plays a stream with no pages on one lane: the miss record is written in the marked section, and
    // drained while the driver runs.
    expect(result.stats.pageMisses).toBeGreaterThan(100);
    expect(result.missRecords).toBeGreaterThan(100);
    expect(result.rtGuardBuild).toBe(true);
    expect(result.info.name).toBe("null");
    expect(result.controlChanges).toBeGreaterThan(100);
    expect(result.rewrites).toBeGreaterThan(100);
    // 3 s of 256-frame blocks at 48 kHz is 562 callbacks; every one was marked.
    expect(report.enters).toBeGreaterThan(400);
    expect(report.enters).toBeGreaterThanOrEqual(result.stats.callbacks); // stats are read just before the stop
    expect(report.markedThreads).toBe(1);
    expect(report.total, describeViolations(report)).toBe(0);
  });

  it("makes no allocation, lock or syscall on JACK (rtaudio) under control changes and page rewrites", async () => {
    const server = await startJack({ sampleRate: 48_000, periodFrames: 256 });
    try {
      const { result, report } = await runWorkload(
        "jack",
        ["--driver", "jack", "--seconds", "3"],
        server.env,
      );
      expect(result.info).toMatchObject({ name: "rtaudio", onFallback: false });
      expect(result.stats.driverFallbacks).toBe(0);
      expect(result.controlChanges).toBeGreaterThan(100);
      expect(report.enters).toBeGreaterThan(800);
      // Two marked sections per block: the rtaudio driver's whole callback, and the engine's render entry in it
      // (stats are read just before the stop).
      expect(report.enters).toBeGreaterThanOrEqual(2 * result.stats.callbacks);
      expect(report.total, describeViolations(report)).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it("stays clean through a fallback: JACK killed mid-run, the null driver carries on", async () => {
    const server = await startJack({ sampleRate: 48_000, periodFrames: 256 });
    try {
      const { result, report } = await runWorkload(
        "jack-kill",
        ["--driver", "jack", "--seconds", "3", "--kill-pid", String(server.pid), "--kill-after", "1"],
        server.env,
      );
      expect(result.info).toMatchObject({ name: "rtaudio", onFallback: true });
      expect(result.stats.driverFallbacks).toBe(1);
      // The JACK thread and, after the fallback, the null driver's thread were both marked.
      expect(report.markedThreads).toBeGreaterThanOrEqual(2);
      expect(report.enters).toBeGreaterThan(400);
      expect(report.total, describeViolations(report)).toBe(0);
    } finally {
      await server.stop();
    }
  });
});
