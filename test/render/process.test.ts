import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

describe("renderRange in a plain process", () => {
  it("keeps the process alive until the pages are written, then lets it exit", async () => {
    const script = join(import.meta.dirname, "range-child.ts");
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          ["--import", "tsx", script],
          { timeout: 60_000 },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      },
    );
    expect(stderr.replace(/npm warn.*\n/g, "")).not.toMatch(/Error/);
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim()) as { progress: number; written: number; rendered: number };
    expect(result.written).toBeGreaterThan(25);
    expect(result.progress).toBe(result.written);
    expect(result.rendered).toBeGreaterThan(25);
    expect(result.rendered).toBeLessThanOrEqual(result.written);
  }, 90_000);
});
