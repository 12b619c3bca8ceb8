import { spawnSync } from "node:child_process";
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { serializeProject } from "../../app/core/document";
import { PROJECT_FILE } from "../../app/project/project";
import { sampleDocument } from "../core/document/fixtures";

const HERE = fileURLToPath(new URL(".", import.meta.url));

const BIN = join(HERE, "../../bin/lcanvas.mjs");
const scratch: string[] = [];

afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lc-cli-project-"));
  scratch.push(dir);
  return dir;
}

function lcanvas(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [BIN, ...args], { encoding: "utf8", timeout: 60_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe("lcanvas project", () => {
  it("new creates a project with the given tempo and meter; info summarizes it", async () => {
    const dir = join(await tempDir(), "song");
    const created = lcanvas("project", "new", dir, "--bpm", "90", "--meter", "6/8");
    expect(created.stderr).toBe("");
    expect(created.status).toBe(0);
    expect(JSON.parse(created.stdout)).toMatchObject({ created: true, lanes: 0, regions: 0, heads: 1 });
    expect(await readdir(dir)).toEqual([PROJECT_FILE]);

    const info = lcanvas("project", "info", dir);
    expect(info.status).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({
      file: join(dir, PROJECT_FILE),
      lanes: 0,
      regions: 0,
      heads: 1,
      tempo: { bpm: 90, meter: "6/8" },
      durationBeats: 0,
      durationSeconds: 0,
      autosave: null,
    });
  });

  it("info reports counts and the duration in beats and seconds through the tempo map", async () => {
    const dir = await tempDir();
    // 6 regions; the latest end is region 5: beat 8 + 8 = 16. 4 beats at 120 bpm (2 s), then 12 at 60 bpm (12 s).
    await writeFile(join(dir, PROJECT_FILE), serializeProject(sampleDocument(6)));
    const info = lcanvas("project", "info", dir);
    expect(info.status).toBe(0);
    expect(JSON.parse(info.stdout)).toMatchObject({
      lanes: 3,
      regions: 6,
      heads: 2,
      tempo: {
        bpm: 120,
        meter: "4/4",
        tempoChanges: [
          { atTick: 0, bpm: 120 },
          { atTick: 3840, bpm: 60 },
        ],
      },
      durationBeats: 16,
      durationSeconds: 14,
    });
  });

  it("fails with exit 1 and a clear message on a corrupt or future-version project, leaving it untouched", async () => {
    const dir = await tempDir();
    const file = join(dir, PROJECT_FILE);
    const text = serializeProject(sampleDocument());
    for (const [content, message] of [
      [text.slice(0, 300), /not valid JSON .*truncated or corrupt/],
      [
        text.replace('"version": 1', '"version": 3'),
        /written by a newer Latent Canvas \(version 3\); this build reads up to 1: update the app/,
      ],
      [text.replace('"pan": -0.5', '"pan": "left"'), /lanes\[1\]\.pan: must be a number/],
    ] as const) {
      await writeFile(file, content);
      const before = await stat(file);
      const result = lcanvas("project", "info", dir);
      expect(result.status).toBe(1);
      expect(result.stdout).toBe("");
      expect(result.stderr).toMatch(/^lcanvas project info: /);
      expect(result.stderr).toMatch(message);
      expect(await readFile(file, "utf8")).toBe(content);
      expect((await stat(file)).mtimeMs).toBe(before.mtimeMs);
      expect(await readdir(dir)).toEqual([PROJECT_FILE]);
    }
  });

  it("refuses to overwrite a project and rejects bad options with usage errors", async () => {
    const dir = await tempDir();
    expect(lcanvas("project", "new", dir).status).toBe(0);
    const before = await readFile(join(dir, PROJECT_FILE), "utf8");
    const again = lcanvas("project", "new", dir, "--bpm", "200");
    expect(again.status).toBe(1);
    expect(again.stderr).toMatch(/a project already exists at .*: open it, or choose an empty folder/);
    expect(await readFile(join(dir, PROJECT_FILE), "utf8")).toBe(before);

    const other = join(dir, "other");
    for (const [args, message] of [
      [["--bpm", "0"], /--bpm: must be between 1 and 1000 bpm, got 0/],
      [["--bpm", "fast"], /--bpm must be a number, got "fast"/],
      [["--meter", "7/6"], /--meter denominator: must be one of 1, 2, 4, 8, 16, 32, 64, got 6/],
      [["--meter", "four"], /--meter must look like 4\/4 or 6\/8/],
    ] as const) {
      const result = lcanvas("project", "new", other, ...args);
      expect(result.status).toBe(2);
      expect(result.stderr).toMatch(message);
      expect(result.stderr).toMatch(/usage: lcanvas project new DIR/);
    }
    expect(await readdir(dir)).toEqual([PROJECT_FILE]);
    const missing = lcanvas("project", "info", join(dir, "missing"));
    expect(missing.status).toBe(1);
    expect(missing.stderr).toMatch(
      /does not exist: check the path, or create a project with "lcanvas project new/,
    );
  });
});
