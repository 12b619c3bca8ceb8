// `lcanvas engine selftest` as a user runs it: a real child process, JSON on stdout, exit status.
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { requireAddon } from "./helpers";

const bin = join(import.meta.dirname, "../../bin/lcanvas.mjs");
const run = (...args: string[]) =>
  spawnSync(process.execPath, [bin, ...args], { encoding: "utf8", timeout: 60_000 });

beforeAll(() => requireAddon());

describe("lcanvas engine selftest", () => {
  for (const driver of ["null", "offline"]) {
    it(`--driver ${driver} matches the reference mix`, () => {
      const result = run(
        "engine",
        "selftest",
        "--driver",
        driver,
        "--lanes",
        "3",
        "--heads",
        "2",
        "--seconds",
        "1",
      );
      expect(result.stderr).toBe("");
      expect(result.status).toBe(0);
      const report = JSON.parse(result.stdout) as Record<string, number | string | boolean>;
      expect(report).toMatchObject({ driver, mismatched_samples: 0, ok: true, lanes: 3, heads: 2 });
      expect(report["frames_compared"]).toBeGreaterThanOrEqual(47_000);
      const ratio = (report["callbacks"] as number) / (report["expected_callbacks"] as number);
      expect(Math.abs(ratio - 1)).toBeLessThan(0.05);
      for (const key of ["late_blocks", "page_misses", "max_callback_us"]) expect(report).toHaveProperty(key);
    });
  }

  it("rejects bad options with usage and exit 2", () => {
    const result = run("engine", "selftest", "--lanes", "zero");
    expect(result.status).toBe(2);
    expect(result.stderr).toMatch(/--lanes: expected a positive integer/);
    expect(result.stderr).toMatch(/usage: lcanvas engine selftest/);
  });
});
