import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

describe("render workers find the native addon by themselves", () => {
  it("a renderer in a process without LC_AUDIO_ADDON renders and writes pages on its workers", async () => {
    const env = { ...process.env };
    delete env["LC_AUDIO_ADDON"];
    const script = join(import.meta.dirname, "addon-child.ts");
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>(
      (resolve) => {
        execFile(
          process.execPath,
          ["--import", "tsx", script],
          { timeout: 60_000, env },
          (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
        );
      },
    );
    expect(stderr.replace(/npm warn.*\n/g, "")).not.toMatch(/native addon not built|Error/);
    expect(code).toBe(0);
    const result = JSON.parse(stdout.trim()) as {
      valid: number;
      rendered: number;
      errors: string[];
      env: string | null;
    };
    expect(result.errors).toEqual([]);
    // The parent's environment is left as it was (no workaround through process.env).
    expect(result.env).toBeNull();
    expect(result.rendered).toBeGreaterThan(25);
    expect(result.valid).toBeGreaterThanOrEqual(result.rendered);
  }, 90_000);
});
