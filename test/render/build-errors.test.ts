import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

const MISSING = "fedcba9876543210fedcba9876543210";

function runChild(heads: number): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = join(import.meta.dirname, "build-error-child.ts");
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", script, String(heads)],
      { timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("a generative region whose encoding is missing, with several heads", () => {
  for (const heads of [2, 3]) {
    it(`${heads} heads: refused at start and as an edit with the lane, region and hash named; the process survives`, async () => {
      const { code, stdout, stderr } = await runChild(heads);
      // An unhandled rejection of any head's build would end the child with code 1 and a stack on stderr.
      expect(stderr.replace(/npm warn.*\n/g, "")).toBe("");
      expect(code).toBe(0);
      const report = JSON.parse(stdout.trim()) as {
        heads: number;
        start: string;
        settled: string;
        errors: string[];
        keysKept: boolean;
        recovered: boolean;
      };
      expect(report.heads).toBe(heads);
      const named = new RegExp(
        `lane "lane 1": region "Tune" \\(region-\\d+\\) with encoding ${MISSING}.*Import`,
      );
      expect(report.start).toMatch(named);
      expect(report.settled).toMatch(named);
      expect(report.errors).toHaveLength(1);
      expect(report.errors[0]).toMatch(named);
      expect(report.keysKept).toBe(true);
      expect(report.recovered).toBe(true);
    }, 90_000);
  }
});
