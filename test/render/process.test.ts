import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

function runChild(
  name: string,
  args: string[] = [],
): Promise<{ code: number; stdout: string; stderr: string }> {
  const script = join(import.meta.dirname, name);
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      ["--import", "tsx", script, ...args],
      { timeout: 60_000 },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

describe("the render pool in a plain process", () => {
  it("keeps the process alive until the pages are written, then lets it exit", async () => {
    const { code, stdout, stderr } = await runChild("range-child.ts");
    expect(stderr.replace(/npm warn.*\n/g, "")).not.toMatch(/Error/);
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim()) as { progress: number; written: number; rendered: number };
    expect(result.written).toBeGreaterThan(25);
    expect(result.progress).toBe(result.written);
    expect(result.rendered).toBeGreaterThan(25);
    expect(result.rendered).toBeLessThanOrEqual(result.written);
  }, 90_000);

  // Before the fix a reply read after terminate() unref'd its worker, and the process ended with exit code 13
  // (an unsettled top-level await) in 4 runs of 5 of this script: `lcanvas play` did so in CI.
  it("closing with replies still unread lets the close finish (no exit 13)", async () => {
    const { code, stdout, stderr } = await runChild("close-child.ts", ["8"]);
    expect(stderr.replace(/npm warn.*\n/g, "")).toBe("");
    expect(code).toBe(0);
    expect(JSON.parse(stdout.trim())).toEqual({ rounds: 8, outcomes: ["the renderer was closed"] });
  }, 90_000);
});
