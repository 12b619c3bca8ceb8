import { spawn } from "node:child_process";
import { utimesSync } from "node:fs";
import { mkdir, readdir, rename, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  collectGarbage,
  gcLibrary,
  type Library,
  openLibrary,
  readRootFiles,
  removeRootFile,
  verifyLibrary,
  writeRootFile,
} from "../../app/store/index";
import { REPO, tempDir } from "./helpers";

let dir: { path: string; remove: () => Promise<void> };
let library: Library;

beforeEach(async () => {
  dir = await tempDir("gc");
  library = await openLibrary(dir.path);
});
afterEach(async () => {
  await library.close();
  await dir.remove();
});

const HOUR_AGO = new Date(Date.now() - 3 * 3600 * 1000);

/** Puts bytes and backdates the object so only references (not the grace period) keep it. */
async function putOld(text: string): Promise<string> {
  const hash = await library.store.put(new TextEncoder().encode(text));
  await utimes(library.store.pathOf(hash), HOUR_AGO, HOUR_AGO);
  return hash;
}

async function listed(): Promise<Set<string>> {
  const all = new Set<string>();
  for await (const hash of library.store.list()) all.add(hash);
  return all;
}

describe("gc", () => {
  it("keeps what the graph, root files and project folders reference, and young objects; removes the rest", async () => {
    const inGraph = await putOld("in graph");
    await library.graph.add({ hash: inGraph, space: "text", mediaType: "text/plain", creator: "user" });
    const inRoots = await putOld("in a root file");
    await writeRootFile(dir.path, "project-a", [inRoots]);
    const inProject = await putOld("in a project document");
    const projectDir = await tempDir("gc-project");
    const project = projectDir.path;
    await mkdir(join(project, "sub"), { recursive: true });
    await writeFile(
      join(project, "sub", "song.lcanvas.json"),
      JSON.stringify({ regions: [{ hash: inProject }] }),
    );
    const young = await library.store.put(new TextEncoder().encode("just written"));
    const garbage = [await putOld("garbage 1"), await putOld("garbage 2")];

    const preview = await gcLibrary(dir.path, { projectDirs: [project], graceMs: 60_000, dryRun: true });
    expect([...preview.removed].sort()).toEqual([...garbage].sort());
    expect((await listed()).size).toBe(6);

    const report = await gcLibrary(dir.path, { projectDirs: [project], graceMs: 60_000 });
    expect([...report.removed].sort()).toEqual([...garbage].sort());
    expect(report.keptYoung).toBe(1);
    expect(report.kept).toBe(3);
    expect(report.missing).toEqual([]);
    expect(await listed()).toEqual(new Set([inGraph, inRoots, inProject, young]));
    await projectDir.remove();
  });

  it("stops without deleting anything when a root file is malformed or a project folder is missing", async () => {
    const garbage = await putOld("would be garbage");
    await mkdir(join(dir.path, "roots"), { recursive: true });
    await writeFile(join(dir.path, "roots", "broken"), "# my project\nnot-a-hash\n");
    await expect(gcLibrary(dir.path, { graceMs: 0 })).rejects.toThrow(
      /roots\/broken line 2: "not-a-hash".*gc deleted nothing/,
    );
    await removeRootFile(dir.path, "broken");
    await expect(
      gcLibrary(dir.path, { graceMs: 0, projectDirs: [join(dir.path, "no-such-project")] }),
    ).rejects.toThrow(/project folder .*no-such-project does not exist.*gc deleted nothing/);
    expect(await library.store.has(garbage)).toBe(true);
    await expect(writeRootFile(dir.path, "../escape", [])).rejects.toThrow(/root name/);
  });

  it("root files are written atomically and read back", async () => {
    const a = await putOld("a");
    const path = await writeRootFile(dir.path, "song", [a]);
    expect(path).toBe(join(dir.path, "roots", "song"));
    expect(await readRootFiles(dir.path)).toEqual(new Set([a]));
    expect((await readdir(join(dir.path, "roots"))).filter((n) => n.endsWith(".tmp"))).toEqual([]);
  });

  it("keeps an object that a writer re-puts after the mark phase", async () => {
    const garbage = await putOld("re-put during gc");
    const other = await putOld("plain garbage");
    const store = library.store;
    const report = await collectGarbage(store, {
      graphHashes: new Set(),
      graceMs: 60_000,
      onEvent: (event) => {
        if (event.kind === "marked") {
          const now = new Date();
          utimesSync(store.pathOf(garbage), now, now);
        }
      },
    });
    expect(report.removed).toEqual([other]);
    expect(await store.has(garbage)).toBe(true);
  });

  it("puts back what a crashed gc left in trash/ and reports referenced objects that are missing", async () => {
    const kept = await putOld("referenced, was being swept when gc crashed");
    await library.graph.add({ hash: kept, space: "text", mediaType: "text/plain", creator: "user" });
    await mkdir(join(dir.path, "trash"), { recursive: true });
    await rename(library.store.pathOf(kept), join(dir.path, "trash", kept));
    const lost = await putOld("referenced but lost");
    await library.graph.add({ hash: lost, space: "text", mediaType: "text/plain", creator: "user" });
    const { unlink, chmod } = await import("node:fs/promises");
    await chmod(library.store.pathOf(lost), 0o644);
    await unlink(library.store.pathOf(lost));
    await mkdir(join(dir.path, "gc.lock"));
    await writeFile(join(dir.path, "gc.lock", "pid"), "999999");

    const report = await gcLibrary(dir.path, { graceMs: 0 });
    expect(report.recovered).toBe(1);
    expect(report.removed).toEqual([]);
    expect(report.missing).toEqual([lost]);
    expect(await library.store.has(kept)).toBe(true);
    expect(await readdir(join(dir.path, "trash"))).toEqual([]);
    const verify = await verifyLibrary(dir.path);
    expect(verify.missing).toEqual([lost]);
    expect(verify.damaged).toEqual([]);
  });

  it("refuses to run beside a live gc", async () => {
    await mkdir(join(dir.path, "gc.lock"));
    await writeFile(join(dir.path, "gc.lock", "pid"), String(process.pid));
    await expect(gcLibrary(dir.path, { graceMs: 0 })).rejects.toThrow(/another gc is running .*pid/);
  });

  it("never loses a referenced object when gc is killed mid-sweep, and a later gc finishes the job", async () => {
    const referenced: string[] = [];
    for (let i = 0; i < 150; i++) {
      const hash = await putOld(`referenced ${i}`);
      referenced.push(hash);
    }
    await library.graph.addMany(
      referenced.map((hash) => ({ hash, space: "text", mediaType: "text/plain", creator: "user" })),
    );
    const garbage = new Set<string>();
    for (let i = 0; i < 800; i++) garbage.add(await putOld(`garbage ${i}`));
    await library.close();

    for (const killAfter of [1, 40, 300]) {
      const child = spawn(
        process.execPath,
        ["--import", "tsx", join(REPO, "test/store/fixtures/gc-child.ts"), dir.path],
        {
          cwd: REPO,
        },
      );
      let removedSeen = 0;
      let finished = false;
      await new Promise<void>((resolve) => {
        let buffered = "";
        child.stdout.on("data", (chunk: Buffer) => {
          buffered += chunk.toString();
          const lines = buffered.split("\n");
          buffered = lines.pop() ?? "";
          for (const line of lines) {
            if (line.includes('"removed"')) removedSeen += 1;
            if (line.includes('"done"')) finished = true;
            if (removedSeen === killAfter) child.kill("SIGKILL");
          }
        });
        child.on("close", () => resolve());
      });
      expect(finished).toBe(false);
      expect(removedSeen).toBeGreaterThanOrEqual(killAfter);
      library = await openLibrary(dir.path);
      for (const hash of referenced) expect(await library.store.has(hash)).toBe(true);
      await library.close();
    }

    const final = await gcLibrary(dir.path, { graceMs: 0 });
    expect(final.missing).toEqual([]);
    library = await openLibrary(dir.path);
    expect(await listed()).toEqual(new Set(referenced));
    const verify = await verifyLibrary(dir.path);
    expect(verify.damaged).toEqual([]);
    expect(verify.missing).toEqual([]);
    expect(verify.graphProblems).toEqual([]);
    expect(await readdir(join(dir.path, "trash"))).toEqual([]);
  }, 120_000);
});
