import { execFile } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";

const run = promisify(execFile);
const dir = mkdtempSync(join(tmpdir(), "lc-layout-cli-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function lcanvas(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, ["bin/lcanvas.mjs", ...args], {
      cwd: process.cwd(),
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const e = error as { code: number; stdout: string; stderr: string };
    return { code: e.code, stdout: e.stdout, stderr: e.stderr };
  }
}

function file(name: string, content: unknown): string {
  const path = join(dir, name);
  writeFileSync(path, typeof content === "string" ? content : JSON.stringify(content));
  return path;
}

// fast (period 1) on lane 0, slow (period 4, real times 0 and 4) on lane 1; uncovered: nothing.
const small = {
  schema_version: "0.2.0",
  layout: { T: 6, H: 2, W: 1, d_model: 4, t_current: 4 },
  regions: {
    fast: { bounds: [0, 6, 0, 1, 0, 1], loss_weight: 0.1 },
    slow: { bounds: [0, 2, 1, 2, 0, 1], period: 4, is_output: false },
  },
  topology: [{ src: "fast", dst: "slow", t_src: 0, t_dst: 0, temporal_fill: "interpolate" }],
};

describe("lcanvas layout (spawned for real)", () => {
  it("inspect prints one JSON object with indices, masks and the compiled attention", async () => {
    const { code, stdout } = await lcanvas("layout", "inspect", file("small.json", small));
    expect(code).toBe(0);
    expect(stdout.trim().split("\n")).toHaveLength(1);
    const out = JSON.parse(stdout);
    expect(out.num_positions).toBe(12);
    expect(out.regions).toEqual({
      fast: { indices: [0, 2, 4, 6, 8, 10], size: [6, 1, 1], numel: 6, period_bucket: 0 },
      slow: { indices: [1, 3], size: [2, 1, 1], numel: 2, period_bucket: 2 },
    });
    expect(out.output_mask).toEqual([8, 9, 10, 11]);
    expect(out.loss_weight_mask).toEqual([0.1, 0, 0.1, 0, 0.1, 0, 0.1, 0, 0.1, 0, 0.1, 0]);
    expect(out.attention).toEqual([
      [0, 1, 1],
      [2, 1, 0.75],
      [2, 3, 0.25],
      [4, 1, 0.5],
      [4, 3, 0.5],
      [6, 1, 0.25],
      [6, 3, 0.75],
      [8, 3, 1],
      [10, 3, 1],
    ]);
    expect(out.positional_encoding).toBeUndefined();
  });

  it("inspect --with-pe adds one d_model vector per position", async () => {
    const { code, stdout } = await lcanvas("layout", "inspect", file("small.json", small), "--with-pe");
    expect(code).toBe(0);
    const pe = JSON.parse(stdout).positional_encoding as number[][];
    expect(pe).toHaveLength(12);
    expect(pe.every((row) => row.length === 4)).toBe(true);
    // widths 1, 1, 2 over (t, h, w): position 10 is t=5, h=0, w=0
    expect(pe[10]![0]).toBeCloseTo(Math.sin(5), 6);
    expect(pe[10]!.slice(1)).toEqual([0, 0, 1]);
  });

  it("inspect runs on the shipped demo layout", async () => {
    const { code, stdout } = await lcanvas("layout", "inspect", "assets/layouts/demo.json");
    expect(code).toBe(0);
    const out = JSON.parse(stdout);
    expect(out.num_positions).toBe(256);
    expect(Object.keys(out.regions)).toEqual(["drums", "bass", "dynamics", "chords", "accent", "melody"]);
    expect(out.regions.chords.period_bucket).toBe(4);
    expect(out.loss_weight_mask.reduce((a: number, b: number) => a + b, 0)).toBe(32);
    expect(out.attention.length).toBeGreaterThan(0);
  });

  it("frame maps real <-> canvas frames and prints null off the grid", async () => {
    const path = file("small.json", small);
    const [four, three, minusFour, dashed, canvas] = await Promise.all([
      lcanvas("layout", "frame", path, "slow", "--real", "4"),
      lcanvas("layout", "frame", path, "slow", "--real", "3"),
      lcanvas("layout", "frame", path, "slow", "--real=-4"),
      lcanvas("layout", "frame", path, "slow", "--real", "-4"),
      lcanvas("layout", "frame", path, "slow", "--canvas", "1"),
    ]);
    expect(four.stdout.trim()).toBe("1");
    expect(three.stdout.trim()).toBe("null");
    expect(minusFour.stdout.trim()).toBe("null");
    expect(dashed.code).toBe(2);
    expect(dashed.stderr).toContain("--real=-");
    expect(canvas.stdout.trim()).toBe("4");
  });

  it("bucket prints the period bucket", async () => {
    const [big, one] = await Promise.all([
      lcanvas("layout", "bucket", "576"),
      lcanvas("layout", "bucket", "1"),
    ]);
    expect(big.stdout.trim()).toBe("10");
    expect(one.stdout.trim()).toBe("0");
  });

  it("fails clearly on a missing file, bad JSON, a bad field, an unknown region and a bad number", async () => {
    const path = file("small.json", small);
    const badField = {
      ...small,
      regions: { ...small.regions, slow: { ...small.regions.slow, period: "x" } },
    };
    const [missing, bad, field, region, number, both, period] = await Promise.all([
      lcanvas("layout", "inspect", join(dir, "nope.json")),
      lcanvas("layout", "inspect", file("bad.json", "{ oops")),
      lcanvas("layout", "inspect", file("field.json", badField)),
      lcanvas("layout", "frame", path, "melody", "--real", "0"),
      lcanvas("layout", "frame", path, "slow", "--real", "2.5"),
      lcanvas("layout", "frame", path, "slow"),
      lcanvas("layout", "bucket", "four"),
    ]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/cannot read schema file .*nope\.json: no such file/);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/bad\.json: not valid JSON/);
    expect(field.code).toBe(1);
    expect(field.stderr).toContain('regions.slow.period: expected a non-negative integer, got "x"');
    expect(region.code).toBe(1);
    expect(region.stderr).toContain('unknown region "melody"; the schema has: fast, slow');
    expect(number.code).toBe(2);
    expect(number.stderr).toContain('--real: expected an integer, got "2.5"');
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("give exactly one of --real T or --canvas T");
    expect(period.code).toBe(2);
    expect(period.stderr).toContain('PERIOD: expected an integer, got "four"');
  });
});
