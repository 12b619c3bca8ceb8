import { chmod, mkdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Artifact, openLibrary } from "../../app/store/index";
import { runCli, tempDir } from "./helpers";

let dir: { path: string; remove: () => Promise<void> };
let root: string;
let source: Artifact;
let child: Artifact;

beforeAll(async () => {
  dir = await tempDir("cli");
  root = join(dir.path, "library");
  const library = await openLibrary(root);
  const put = (text: string) => library.store.put(new TextEncoder().encode(text));
  source = await library.graph.add({
    hash: await put("X:1\nK:D\nDEFG|"),
    space: "abc",
    mediaType: "text/vnd.abc",
    creator: "user",
    tags: ["jig"],
    createdAtMs: Date.UTC(2026, 0, 1),
  });
  child = await library.graph.add({
    hash: await put("MThd"),
    space: "midi",
    mediaType: "audio/midi",
    creator: "abc2midi",
    tags: ["jig"],
    parents: [source.id],
    tool: { kind: "projection", name: "abc->midi", params: { ticksPerQuarter: 960 } },
    createdAtMs: Date.UTC(2026, 0, 2),
  });
  await library.close();
}, 60_000);

afterAll(async () => {
  await dir.remove();
});

describe("lcanvas store commands", () => {
  it("show prints an artifact by id and an object by hash", async () => {
    const byId = await runCli(["show", child.id, "--store", root]);
    expect(byId.stderr).toBe("");
    expect(byId.code).toBe(0);
    const shown = JSON.parse(byId.stdout);
    expect(shown.artifact.id).toBe(child.id);
    expect(shown.inStore).toBe(true);
    expect(shown.parents).toEqual([
      {
        childId: child.id,
        parentId: source.id,
        tool: { kind: "projection", name: "abc->midi", params: { ticksPerQuarter: 960 } },
      },
    ]);
    const byHash = await runCli(["show", source.hash], { LCANVAS_STORE: root });
    expect(byHash.code).toBe(0);
    expect(JSON.parse(byHash.stdout).artifacts.map((a: Artifact) => a.id)).toEqual([source.id]);
    const unknown = await runCli(["show", "artifact_nope", "--store", root]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/no artifact "artifact_nope" .*lcanvas query/);
  }, 90_000);

  it("lineage prints ancestors with their edges", async () => {
    const result = await runCli(["lineage", child.id, "--store", root]);
    expect(result.code).toBe(0);
    const lineage = JSON.parse(result.stdout);
    expect(
      lineage.ancestors.map((s: { artifact: Artifact; depth: number }) => [s.artifact.id, s.depth]),
    ).toEqual([[source.id, 1]]);
    expect(lineage.parents[0].tool.name).toBe("abc->midi");
    const usage = await runCli(["lineage", "--store", root]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/give exactly one artifact id\nusage: lcanvas lineage ID/);
  }, 90_000);

  it("query runs GraphQL and reports query errors with exit code 1", async () => {
    const result = await runCli([
      "query",
      "query ($t: String) { artifacts(tag: $t) { id space } }",
      "--variables",
      '{"t":"jig"}',
      "--store",
      root,
    ]);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      data: {
        artifacts: [
          { id: child.id, space: "midi" },
          { id: source.id, space: "abc" },
        ],
      },
    });
    const bad = await runCli(["query", "{ artifacts { nope } }", "--store", root]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Cannot query field "nope" on type "Artifact"/);
    const corruptRoot = join(dir.path, "corrupt");
    await mkdir(corruptRoot, { recursive: true });
    await writeFile(join(corruptRoot, "graph.sqlite"), "not a database at all\n".repeat(100));
    const corrupt = await runCli(["query", "{ artifactCount }", "--store", corruptRoot]);
    expect(corrupt.code).toBe(1);
    expect(corrupt.stderr).toMatch(
      /lcanvas query: the artifact graph .*graph\.sqlite cannot be read .*move it aside/,
    );
    const missing = await runCli(["query", "{ artifactCount }", "--store", join(dir.path, "absent")]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no library at .*absent.*--store DIR/);
  }, 90_000);

  it("store verify reports a damaged object by name and what to do", async () => {
    const ok = await runCli(["store", "verify", "--store", root]);
    expect(ok.code).toBe(0);
    expect(JSON.parse(ok.stdout).checked).toBe(2);
    const path = join(root, "objects", child.hash.slice(0, 2), child.hash.slice(2));
    await chmod(path, 0o644);
    await writeFile(path, "flipped bits");
    const bad = await runCli(["store", "verify", "--store", root]);
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout).damaged.map((d: { hash: string }) => d.hash)).toEqual([child.hash]);
    expect(bad.stderr).toContain(`damaged: ${child.hash}`);
    expect(bad.stderr).toMatch(/--quarantine/);
    const fixed = await runCli(["store", "verify", "--quarantine", "--store", root]);
    expect(fixed.code).toBe(1);
    expect(fixed.stderr).toMatch(/Moved 1 damaged object/);
    const put = join(dir.path, "midi.bin");
    await writeFile(put, "MThd");
    const restored = await runCli(["store", "put", put, "--store", root]);
    expect(JSON.parse(restored.stdout).hash).toBe(child.hash);
    expect((await runCli(["store", "verify", "--store", root])).code).toBe(0);
  }, 90_000);

  it("a --store that is a file is a clear error, not an internal one", async () => {
    const file = join(dir.path, "not-a-folder");
    await writeFile(file, "x");
    const result = await runCli(["import", file, "--store", file]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot use .*not-a-folder as a library: .* is a file/);
    expect(result.stderr).not.toMatch(/internal error|at async/);
  });

  it("store gc keeps referenced and project objects and removes the rest", async () => {
    const library = await openLibrary(root);
    const old = new Date(Date.now() - 7200_000);
    const garbage = await library.store.put(new TextEncoder().encode("unreferenced"));
    const projectOnly = await library.store.put(new TextEncoder().encode("used by a project"));
    for (const hash of [garbage, projectOnly, source.hash])
      await utimes(library.store.pathOf(hash), old, old);
    await library.close();
    const project = join(dir.path, "project");
    await mkdir(project, { recursive: true });
    await writeFile(join(project, "song.json"), JSON.stringify({ clip: projectOnly }));
    const result = await runCli(["store", "gc", "--project", project, "--store", root]);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout);
    expect(report.removed).toEqual([garbage]);
    const after = await openLibrary(root);
    expect(await after.store.has(projectOnly)).toBe(true);
    expect(await after.store.has(source.hash)).toBe(true);
    await after.close();
    await mkdir(join(root, "graph.sqlite.lock"));
    await utimes(join(root, "graph.sqlite.lock"), old, old);
    const unlocked = await runCli(["store", "unlock", "--store", root]);
    expect(unlocked.code).toBe(0);
    expect(JSON.parse(unlocked.stdout)).toEqual({ removed: true });
    const bad = await runCli(["store", "gc", "--grace-seconds", "soon", "--store", root]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--grace-seconds must be a whole number/);
  }, 90_000);
});
