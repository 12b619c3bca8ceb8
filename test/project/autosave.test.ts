import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { DocumentEditor, moveRegion, parseProject } from "../../app/core/document";
import { startAutosave } from "../../app/project/autosave";
import {
  AUTOSAVE_FILE,
  findRecovery,
  openProject,
  PROJECT_FILE,
  saveProject,
} from "../../app/project/project";
import { sampleDocument } from "../core/document/fixtures";

const scratch: string[] = [];
afterAll(async () => {
  for (const dir of scratch) await rm(dir, { recursive: true, force: true });
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "lc-autosave-"));
  scratch.push(dir);
  return dir;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function until(condition: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("timed out waiting for the autosave");
    await sleep(10);
  }
}

describe("background autosave", () => {
  it("writes the latest document once per delay after changes, and recovery offers it", async () => {
    const dir = await tempDir();
    const original = sampleDocument();
    await saveProject(dir, original);
    const editor = new DocumentEditor(original);
    const autosaver = startAutosave(dir, editor, { delayMs: 50 });

    await sleep(120);
    expect(autosaver.writes).toBe(0);
    expect(await readdir(dir)).toEqual([PROJECT_FILE]);

    for (let atBeat = 1; atBeat <= 5; atBeat++) editor.apply(moveRegion("region-1", atBeat));
    await until(() => autosaver.writes > 0);
    await sleep(100);
    expect(autosaver.writes).toBe(1);
    const autosaved = parseProject(await readFile(join(dir, AUTOSAVE_FILE), "utf8"));
    expect(autosaved).toEqual(editor.document);
    expect((await findRecovery(dir))?.document).toEqual(editor.document);
    expect(await openProject(dir)).toEqual(original);

    editor.undo();
    await autosaver.stop();
    expect(autosaver.writes).toBe(2);
    expect(parseProject(await readFile(join(dir, AUTOSAVE_FILE), "utf8"))).toEqual(editor.document);

    editor.apply(moveRegion("region-1", 9));
    await sleep(120);
    expect(autosaver.writes).toBe(2);
    expect(autosaver.failures).toBe(0);

    await saveProject(dir, editor.document);
    expect(await readdir(dir)).toEqual([PROJECT_FILE]);
    expect(await findRecovery(dir)).toBeNull();
  });

  it("counts a failed write, reports it, and keeps going", async () => {
    const dir = join(await tempDir(), "missing");
    const editor = new DocumentEditor(sampleDocument());
    const errors: unknown[] = [];
    const autosaver = startAutosave(dir, editor, { delayMs: 10, onError: (error) => errors.push(error) });
    editor.apply(moveRegion("region-2", 3));
    await autosaver.flush();
    expect(autosaver.failures).toBe(1);
    expect(String(errors[0])).toMatch(/cannot save .*project\.autosave\.json \(ENOENT\)/);
    await autosaver.stop();
  });
});
