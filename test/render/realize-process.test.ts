import { execFile } from "node:child_process";
import { join } from "node:path";
import { describe, expect, it } from "vitest";

interface ChildResult {
  readonly keys: string[][];
  readonly digests: Record<string, string>;
  readonly pages: number;
}

function runChild(): Promise<ChildResult> {
  const script = join(import.meta.dirname, "realize-child.ts");
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ["--import", "tsx", script], { timeout: 90_000 }, (error, stdout, stderr) => {
      if (error) reject(new Error(`${error.message}\n${stderr}`));
      else resolve(JSON.parse(stdout.trim()) as ChildResult);
    });
  });
}

describe("realization determinism across processes (real realizeGenerative)", () => {
  it("two fresh processes give the same keys and bits; seeds split only the generative lane", async () => {
    const first = await runChild();
    const second = await runChild();
    expect(second).toEqual(first);
    const [seed1, seed2, seed1again] = first.keys;
    expect(seed1again).toEqual(seed1);
    expect(seed2![0]).toBe(seed1![0]);
    expect(seed2![1]).not.toBe(seed1![1]);
    expect(first.digests[seed2![1]!]).not.toBe(first.digests[seed1![1]!]);
    expect(first.pages).toBeGreaterThan(40);
  }, 200_000);
});
