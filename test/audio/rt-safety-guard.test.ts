// The guard can fail: every kind of call made inside a marked section is counted exactly, nothing outside is.
import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { buildRtGuard, readRtGuardReport } from "../support/native-build";

const work = mkdtempSync(join(tmpdir(), "lc-rtguard-"));
afterAll(() => rmSync(work, { recursive: true, force: true }));

describe("native/rt-guard", () => {
  it("counts allocations, locks and syscalls on marked threads only", async () => {
    const { library, selftest } = await buildRtGuard();
    const reportPath = join(work, "selftest.json");
    const stdout = await new Promise<string>((resolve, reject) => {
      execFile(
        selftest,
        [],
        { env: { ...process.env, LD_PRELOAD: library, LC_RTGUARD_REPORT: reportPath } },
        (error, out, err) => (error ? reject(new Error(`${error.message}\n${err}`)) : resolve(String(out))),
      );
    });
    expect(stdout).toContain("selftest done");
    const report = readRtGuardReport(reportPath);
    expect(report.enters).toBe(3);
    expect(report.markedThreads).toBe(2);
    // One of each in the main thread's marked section, plus malloc+free on the second marked thread; the 110
    // unmarked repetitions of the same calls must not show up.
    expect(report.counts).toMatchObject({
      malloc: 2,
      calloc: 1,
      realloc: 1,
      free: 3,
      operator_new: 1,
      operator_delete: 1,
      pthread_mutex_lock: 1,
      pthread_mutex_trylock: 1,
      pthread_mutex_unlock: 2,
      open: 1,
      write: 1,
      read: 1,
      close: 1,
      nanosleep: 1,
      mmap: 1,
      munmap: 1,
      futex: 1,
      syscall: 1,
      sched_yield: 1,
    });
    expect(report.total).toBe(23);
    expect(report.offenders[0]).toMatchObject({ kind: "malloc" });
    expect(report.offenders[0]?.object).toContain("rtguard-selftest");
  });
});
