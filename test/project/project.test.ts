import { chmod, mkdir, mkdtemp, readdir, readFile, rm, stat, utimes, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { applyCommand, moveRegion, sequentialIds, serializeProject } from "../../app/core/document";
import { constantTempoMap } from "../../app/core/time/tempo-map";
import { removeStaleTemps, writeFileAtomic } from "../../app/project/atomic-write";
import {
  AUTOSAVE_FILE,
  autosaveProject,
  createProject,
  findRecovery,
  openProject,
  PROJECT_FILE,
  ProjectError,
  saveProject,
} from "../../app/project/project";
import { sampleDocument } from "../core/document/fixtures";

const scratch: string[] = [];
async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lc-project-"));
  scratch.push(dir);
  return dir;
}

afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

async function snapshot(dir: string): Promise<Record<string, { bytes: string; mtimeMs: number }>> {
  const out: Record<string, { bytes: string; mtimeMs: number }> = {};
  for (const name of (await readdir(dir)).sort()) {
    const path = join(dir, name);
    out[name] = { bytes: await readFile(path, "latin1"), mtimeMs: (await stat(path)).mtimeMs };
  }
  return out;
}

async function openError(dir: string): Promise<ProjectError> {
  try {
    await openProject(dir);
  } catch (error) {
    if (error instanceof ProjectError) return error;
    throw error;
  }
  throw new Error("expected openProject to fail");
}

describe("project folders", () => {
  it("creates, opens and saves a project", async () => {
    const dir = join(await tempDir(), "song");
    const created = await createProject(dir, { tempoMap: constantTempoMap(98, 3, 4), ids: sequentialIds() });
    expect(await readdir(dir)).toEqual([PROJECT_FILE]);
    expect(created.heads.map((h) => h.id)).toEqual(["head-1"]);
    const opened = await openProject(dir);
    expect(opened).toEqual(created);
    expect(opened.tempoMap.tempos).toEqual([{ atTick: 0, bpm: 98 }]);

    const doc = sampleDocument();
    await saveProject(dir, doc);
    expect(await openProject(dir)).toEqual(doc);
    expect(await readFile(join(dir, PROJECT_FILE), "utf8")).toBe(serializeProject(doc));
  });

  it("refuses to create over an existing project", async () => {
    const dir = await tempDir();
    await createProject(dir);
    const before = await snapshot(dir);
    await expect(createProject(dir)).rejects.toThrow(
      /a project already exists at .*project\.lcanvas\.json: open it/,
    );
    expect(await snapshot(dir)).toEqual(before);
  });

  it("says what to do when there is no project", async () => {
    const dir = await tempDir();
    const missing = await openError(dir);
    expect(missing.code).toBe("not-found");
    expect(missing.message).toMatch(
      /there is no project\.lcanvas\.json in .*: create a project with "lcanvas project new/,
    );
    expect((await openError(join(dir, "nope"))).message).toMatch(/the folder .*nope does not exist/);
    await saveProject(dir, sampleDocument());
    expect((await openError(join(dir, PROJECT_FILE))).message).toMatch(
      /project\.lcanvas\.json is a file, not a project folder: pass the folder that contains project\.lcanvas\.json/,
    );
  });

  it("opening a corrupt, truncated or future-version file fails clearly and writes nothing", async () => {
    const dir = await tempDir();
    await saveProject(dir, sampleDocument());
    const text = serializeProject(sampleDocument());
    const cases: Array<[string, RegExp]> = [
      [text.slice(0, 500), /project\.lcanvas\.json: the file is not valid JSON .*truncated or corrupt/],
      [
        text.replace('"durationBeats": 4', '"durationBeats": "four"'),
        /regions\[0\]\.durationBeats: must be a finite number/,
      ],
      [
        text.replace('"version": 1', '"version": 2'),
        /written by a newer Latent Canvas \(version 2\); this build reads up to 1: update the app/,
      ],
      ["\u0000\u0001garbage", /not valid JSON/],
    ];
    for (const [content, message] of cases) {
      await writeFile(join(dir, PROJECT_FILE), content);
      const before = await snapshot(dir);
      const error = await openError(dir);
      expect(error.code).toBe("format");
      expect(error.message).toMatch(message);
      expect(await snapshot(dir)).toEqual(before);
    }
  });

  it("reports an unreadable file without touching it", async () => {
    if (process.getuid?.() === 0) {
      // root reads any file, so use a directory in the file's place instead.
      const dir = await tempDir();
      await mkdir(join(dir, PROJECT_FILE));
      expect((await openError(dir)).message).toMatch(/cannot read .*project\.lcanvas\.json \(EISDIR\)/);
      return;
    }
    const dir = await tempDir();
    await saveProject(dir, sampleDocument());
    await chmod(join(dir, PROJECT_FILE), 0o000);
    expect((await openError(dir)).message).toMatch(/cannot read .* \(EACCES\): check its permissions/);
  });
});

describe("save errors", () => {
  it("saving into a missing folder fails with what to do", async () => {
    const dir = join(await tempDir(), "gone");
    await expect(saveProject(dir, sampleDocument())).rejects.toThrow(
      /cannot save .*gone\/project\.lcanvas\.json \(ENOENT\); the previous file is unchanged: the folder .* does not exist/,
    );
  });

  it("a save that fails at the rename reports it as unwritable and leaves no temp file", async () => {
    const dir = await tempDir();
    // A non-empty directory where the project file should be cannot be renamed over.
    await mkdir(join(dir, PROJECT_FILE, "x"), { recursive: true });
    const error = await saveProject(dir, sampleDocument(3)).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProjectError);
    expect((error as ProjectError).code).toBe("unwritable");
    expect((error as ProjectError).message).toMatch(
      /the previous file is unchanged: check that you can write/,
    );
    expect(await readdir(dir)).toEqual([PROJECT_FILE]);
    expect(await readdir(join(dir, PROJECT_FILE))).toEqual(["x"]);
  });
});

describe("atomic writer", () => {
  it("replaces the file and leaves no temp files", async () => {
    const dir = await tempDir();
    const target = join(dir, "a.json");
    await writeFileAtomic(target, "one");
    await writeFileAtomic(target, "two");
    expect(await readFile(target, "utf8")).toBe("two");
    expect(await readdir(dir)).toEqual(["a.json"]);
  });

  it("removes only its own target's stray temp files", async () => {
    const dir = await tempDir();
    const target = join(dir, "a.json");
    await writeFile(join(dir, ".a.json.123-abc.tmp"), "partial");
    await writeFile(join(dir, ".b.json.123-abc.tmp"), "other target");
    await writeFile(join(dir, "notes.tmp"), "user file");
    expect(await removeStaleTemps(target)).toEqual([".a.json.123-abc.tmp"]);
    expect((await readdir(dir)).sort()).toEqual([".b.json.123-abc.tmp", "notes.tmp"]);
  });

  it("a failed rename removes its temp file and leaves other files alone", async () => {
    const dir = await tempDir();
    const target = join(dir, "a.json");
    await writeFileAtomic(target, "keep me");
    // Renaming a file over a non-empty directory fails after the temp file was written and synced.
    const blocked = join(dir, "blocked");
    await mkdir(join(blocked, "inside"), { recursive: true });
    await expect(writeFileAtomic(blocked, "new")).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(["a.json", "blocked"]);
    expect(await readFile(target, "utf8")).toBe("keep me");
  });

  it("concurrent saves of one project are serialized; the last call wins", async () => {
    const dir = await tempDir();
    const base = sampleDocument();
    const versions = [1, 2, 3, 4, 5].map(
      (atBeat) => applyCommand(base, moveRegion("region-1", atBeat)).document,
    );
    await Promise.all(versions.map((doc) => saveProject(dir, doc)));
    expect(await openProject(dir)).toEqual(versions[4]);
    expect(await readdir(dir)).toEqual([PROJECT_FILE]);
  });
});

describe("autosave and recovery", () => {
  it("offers the autosave when it is newer and different, and a save clears it", async () => {
    const dir = await tempDir();
    const saved = sampleDocument();
    await saveProject(dir, saved);
    expect(await findRecovery(dir)).toBeNull();

    const edited = applyCommand(saved, moveRegion("region-2", 30)).document;
    await autosaveProject(dir, edited);
    const past = new Date(Date.now() - 60_000);
    await utimes(join(dir, PROJECT_FILE), past, past);
    const before = await snapshot(dir);
    const recovery = await findRecovery(dir);
    expect(recovery?.document).toEqual(edited);
    expect(await snapshot(dir)).toEqual(before);
    expect(await openProject(dir)).toEqual(saved);

    await saveProject(dir, edited);
    expect(await readdir(dir)).toEqual([PROJECT_FILE]);
    expect(await findRecovery(dir)).toBeNull();
  });

  it("ignores an autosave that is older than the document or corrupt", async () => {
    const dir = await tempDir();
    await saveProject(dir, sampleDocument());
    await autosaveProject(dir, applyCommand(sampleDocument(), moveRegion("region-1", 9)).document);
    const past = new Date(Date.now() - 60_000);
    await utimes(join(dir, AUTOSAVE_FILE), past, past);
    expect(await findRecovery(dir)).toBeNull();
    await writeFile(join(dir, AUTOSAVE_FILE), '{"format": "latent-canvas-project", "vers');
    expect(await findRecovery(dir)).toBeNull();
  });
});
