import { mkdir, utimes, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import {
  type Artifact,
  type Library,
  openArtifactGraph,
  openLibrary,
  removeStaleGraphLock,
  type SqliteArtifactGraph,
  StoreError,
} from "../../app/store/index";
import { runTs, tempDir } from "./helpers";

let dir: { path: string; remove: () => Promise<void> };
let library: Library;
let graph: SqliteArtifactGraph;

beforeEach(async () => {
  dir = await tempDir("graph");
  library = await openLibrary(dir.path);
  graph = library.graph;
});
afterEach(async () => {
  await library.close();
  await dir.remove();
});

async function put(text: string): Promise<string> {
  return library.store.put(new TextEncoder().encode(text));
}

async function abc(text: string, extra: Partial<Parameters<typeof graph.add>[0]> = {}): Promise<Artifact> {
  return graph.add({
    hash: await put(text),
    space: "abc",
    mediaType: "text/vnd.abc",
    creator: "user",
    ...extra,
  });
}

describe("artifact graph", () => {
  it("adds and reads back an artifact with every field", async () => {
    const hash = await put("X:1\nK:C\nCDEF|");
    const added = await graph.add({
      hash,
      space: "abc",
      mediaType: "text/vnd.abc",
      creator: "user",
      tags: ["phase:initial", "type:abc", "phase:initial"],
      metadata: { title: "scale", bars: 1 },
    });
    expect(added.id).toMatch(/^artifact_[0-9a-f]{16}$/);
    expect(added.tags).toEqual(["phase:initial", "type:abc"]);
    expect(await graph.get(added.id)).toEqual(added);
    expect(await graph.byHash(hash)).toEqual([added]);
    expect(await graph.get("artifact_nope")).toBeNull();
  });

  it("records lineage with the tool, its params and inference context; walks ancestors and descendants", async () => {
    const t0 = Date.UTC(2026, 5, 1);
    const score = await abc("score", { createdAtMs: t0 });
    const style = await graph.add({
      hash: await put("style"),
      space: "style",
      mediaType: "application/json",
      creator: "user",
    });
    const midi = await graph.add({
      hash: await put("midi"),
      space: "midi",
      mediaType: "audio/midi",
      creator: "abc2midi",
      createdAtMs: t0 + 2,
      parents: [score.id],
      tool: { kind: "projection", name: "abc->midi", params: { ticksPerQuarter: 960 } },
    });
    const sampled = await graph.add({
      hash: await put("sampled"),
      space: "midi",
      mediaType: "audio/midi",
      creator: "markov",
      createdAtMs: t0 + 3,
      parents: [midi.id, style.id],
      tool: {
        kind: "sampler",
        name: "markov.v1",
        params: { bars: 4 },
        context: { temperature: 0.9, seed: 7 },
      },
    });
    const audio = await graph.add({
      hash: await put("audio"),
      space: "audio",
      mediaType: "audio/wav",
      creator: "fluidsynth",
      createdAtMs: t0 + 4,
      parents: [sampled.id, midi.id],
      tool: { kind: "projection", name: "midi->audio.sf2", params: { soundfont: "TimGM6mb.sf2" } },
    });

    const parentEdges = await graph.parents(sampled.id);
    expect(parentEdges.map((e) => e.parentId)).toEqual([midi.id, style.id]);
    expect(parentEdges[0]?.tool).toEqual({
      kind: "sampler",
      name: "markov.v1",
      params: { bars: 4 },
      context: { temperature: 0.9, seed: 7 },
    });
    expect((await graph.children(midi.id)).map((e) => e.childId).sort()).toEqual(
      [audio.id, sampled.id].sort(),
    );

    const lineage = await graph.lineage(audio.id);
    expect(lineage.map((s) => [s.artifact.id, s.depth])).toEqual([
      [midi.id, 1],
      [sampled.id, 1],
      [score.id, 2],
      [style.id, 2],
    ]);
    expect(lineage.find((s) => s.artifact.id === sampled.id)?.parents.map((e) => e.parentId)).toEqual([
      midi.id,
      style.id,
    ]);
    expect((await graph.ancestors(audio.id, 1)).map((a) => a.id).sort()).toEqual(
      [midi.id, sampled.id].sort(),
    );
    expect((await graph.descendants(score.id)).map((a) => a.id)).toEqual([midi.id, sampled.id, audio.id]);
    expect(await graph.descendants(audio.id)).toEqual([]);
    await expect(graph.lineage("artifact_unknown")).rejects.toThrow(/no artifact with id "artifact_unknown"/);
  });

  it("walks a deep chain", async () => {
    const batch = Array.from({ length: 2000 }, (_, i) => ({
      id: `chain_${i}`,
      hash: "af1349b9f5f9a1a6a0404dea36dcc949",
      space: "midi",
      mediaType: "audio/midi",
      creator: "chain",
      ...(i > 0
        ? { parents: [`chain_${i - 1}`], tool: { kind: "edit" as const, name: "nudge", params: { i } } }
        : {}),
    }));
    await library.store.put(new Uint8Array(0));
    await graph.addMany(batch);
    const ancestors = await graph.ancestors("chain_1999");
    expect(ancestors).toHaveLength(1999);
    expect(ancestors[0]?.id).toBe("chain_1998");
    expect(ancestors.at(-1)?.id).toBe("chain_0");
    expect(await graph.descendants("chain_0", 10)).toHaveLength(10);
  });

  it("numbers variation sets 0, 1, 2 and lists siblings", async () => {
    const seed = await abc("seed");
    const tool = { kind: "sampler" as const, name: "markov.v1", params: {} };
    const variants: Artifact[] = [];
    for (let i = 0; i < 3; i++) {
      variants.push(await abc(`variant ${i}`, { parents: [seed.id], tool, variationSetId: "vs_take1" }));
    }
    expect(variants.map((v) => v.variationIndex)).toEqual([0, 1, 2]);
    expect((await graph.variations(variants[1]?.id ?? "")).map((v) => v.id)).toEqual(
      variants.map((v) => v.id),
    );
    expect(await graph.variations(seed.id)).toEqual([]);
    expect((await graph.variationSet("vs_take1")).length).toBe(3);
  });

  it("keeps annotations in order", async () => {
    const a = await abc("tune");
    await graph.annotate(a.id, { message: "nice groove", vibe: "warm", source: "user", createdAtMs: 1000 });
    await graph.annotate(a.id, { message: "too busy in bar 3", source: "agent_critic", createdAtMs: 2000 });
    const notes = await graph.annotations(a.id);
    expect(notes.map((n) => [n.message, n.vibe, n.source])).toEqual([
      ["nice groove", "warm", "user"],
      ["too busy in bar 3", null, "agent_critic"],
    ]);
    expect(notes[0]?.id).toMatch(/^ann_[0-9a-f]{12}$/);
    await expect(graph.annotate("artifact_missing", { message: "x", source: "user" })).rejects.toThrow(
      /no artifact/,
    );
    await expect(graph.annotate(a.id, { message: " ", source: "user" })).rejects.toThrow(/non-empty message/);
  });

  it("finds by tags, space, creator and time window, newest first", async () => {
    const t0 = Date.UTC(2026, 0, 1);
    const specs = [
      { text: "a", space: "abc", creator: "user", tags: ["jazz", "draft"], at: t0 },
      { text: "b", space: "midi", creator: "markov", tags: ["jazz"], at: t0 + 1000 },
      { text: "c", space: "midi", creator: "user", tags: ["blues"], at: t0 + 2000 },
      { text: "d", space: "audio", creator: "user", tags: ["jazz", "final"], at: t0 + 3000 },
    ];
    const ids: Record<string, string> = {};
    for (const s of specs) {
      ids[s.text] = (
        await graph.add({
          hash: await put(s.text),
          space: s.space,
          mediaType: "application/octet-stream",
          creator: s.creator,
          tags: s.tags,
          createdAtMs: s.at,
        })
      ).id;
    }
    const find = async (q: Parameters<typeof graph.find>[0]) => (await graph.find(q)).map((a) => a.id);
    expect(await find({ tags: ["jazz"] })).toEqual([ids.d, ids.b, ids.a]);
    expect(await find({ tags: ["jazz", "draft"] })).toEqual([ids.a]);
    expect(await find({ space: "midi" })).toEqual([ids.c, ids.b]);
    expect(await find({ creator: "user", space: "midi" })).toEqual([ids.c]);
    expect(await find({ sinceMs: t0 + 1000, untilMs: t0 + 3000 })).toEqual([ids.c, ids.b]);
    expect(await find({ tags: ["jazz"], limit: 1, offset: 1 })).toEqual([ids.b]);
    expect(await find({ tags: ["nothing"] })).toEqual([]);
    await expect(graph.find({ limit: 0 })).rejects.toThrow(/limit must be a whole number from 1 to 10000/);
    expect(await graph.count()).toBe(4);
  });

  it("rejects bad artifacts with messages that say what to do, and a failed batch adds nothing", async () => {
    const ok = { hash: await put("ok"), space: "midi", mediaType: "audio/midi", creator: "user" };
    await expect(graph.add({ ...ok, hash: "xyz" })).rejects.toThrow(
      /not a content hash.*Store the bytes first/,
    );
    await expect(graph.add({ ...ok, space: "Not A Space" })).rejects.toThrow(/short lowercase name/);
    await expect(graph.add({ ...ok, mediaType: "midi" })).rejects.toThrow(/type\/subtype/);
    await expect(graph.add({ ...ok, creator: " " })).rejects.toThrow(/creator is empty/);
    await expect(
      graph.add({ ...ok, parents: ["artifact_ghost"], tool: { kind: "edit", name: "x", params: {} } }),
    ).rejects.toThrow(/no artifact with id "artifact_ghost"/);
    const parent = await graph.add(ok);
    await expect(graph.add({ ...ok, parents: [parent.id] })).rejects.toThrow(/has parents but no tool/);
    await expect(graph.add({ ...ok, hash: "0123456789abcdef0123456789abcdef" })).rejects.toThrow(
      /bytes are not in the content store/,
    );
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    await expect(graph.add({ ...ok, metadata: circular })).rejects.toThrow(/cannot be stored as JSON/);

    const before = await graph.count();
    await expect(
      graph.addMany([
        { ...ok, id: "fine_1" },
        { ...ok, id: "fine_2" },
        { ...ok, id: "fine_1" },
      ]),
    ).rejects.toThrow(/"fine_1" already exists/);
    expect(await graph.count()).toBe(before);
    expect(await graph.get("fine_2")).toBeNull();
  });

  it("persists across reopening", async () => {
    const a = await abc("kept", { tags: ["keep"] });
    await library.close();
    library = await openLibrary(dir.path);
    graph = library.graph;
    expect(await graph.get(a.id)).toEqual(a);
    expect(await graph.referencedHashes()).toEqual(new Set([a.hash]));
  });
});

describe("several graphs on one file", () => {
  it("two graphs of one process take turns (a busy wait releases the other's held lock)", async () => {
    const a = await abc("shared");
    const second = await openArtifactGraph(dir.path, { lockWaitMs: 2000 });
    try {
      for (let i = 0; i < 20; i++) {
        await graph.annotate(a.id, { message: `from first ${i}`, source: "first" });
        await second.annotate(a.id, { message: `from second ${i}`, source: "second" });
      }
      expect(await second.annotations(a.id)).toHaveLength(40);
    } finally {
      await second.close();
    }
  });

  it("in several processes interleave their transactions without losing or duplicating variation indexes", async () => {
    const writers = 3;
    const count = 60;
    const results = await Promise.all(
      Array.from({ length: writers }, (_, i) =>
        runTs("graph-writer.ts", [dir.path, String(i), String(count)]),
      ),
    );
    for (const result of results) {
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
    }
    const ids = results.flatMap((result) => JSON.parse(result.stdout) as string[]);
    const set = await graph.variationSet("vs_shared");
    expect(set.map((a) => a.id).sort()).toEqual([...ids].sort());
    expect(set.map((a) => a.variationIndex)).toEqual(Array.from({ length: writers * count }, (_, i) => i));
    expect(await graph.checkIntegrity()).toEqual([]);
  }, 90_000);
});

describe("graph file problems", () => {
  it("refuses a file that is not SQLite, without touching it", async () => {
    const root = join(dir.path, "corrupt");
    await mkdir(root);
    const garbage = "this is not a database\n".repeat(200);
    await writeFile(join(root, "graph.sqlite"), garbage);
    const open = openArtifactGraph(root);
    await expect(open).rejects.toBeInstanceOf(StoreError);
    await expect(openArtifactGraph(root)).rejects.toThrow(
      /cannot be read .*Restore it from a backup, or move it aside/,
    );
  });

  it("refuses a SQLite database that is not an artifact graph", async () => {
    const root = join(dir.path, "foreign");
    const { createRequire } = await import("node:module");
    const sqlite = createRequire(import.meta.url)("node-sqlite3-wasm") as typeof import("node-sqlite3-wasm");
    await mkdir(root);
    const db = new sqlite.Database(join(root, "graph.sqlite"));
    db.exec("CREATE TABLE songs (name TEXT)");
    db.close();
    await expect(openArtifactGraph(root)).rejects.toThrow(/not a Latent Canvas artifact graph/);
  });

  it("reports a graph left locked by a crashed process, naming the lock folder", async () => {
    const a = await abc("locked");
    const other = await openArtifactGraph(dir.path, { lockWaitMs: 300 });
    await new Promise((resolve) => setTimeout(resolve, 100)); // this process's graphs let their locks go
    await mkdir(`${graph.path}.lock`);
    await expect(openArtifactGraph(dir.path, { lockWaitMs: 200 })).rejects.toThrow(
      /stayed locked for 0.2 s.*remove that folder/,
    );
    await expect(other.get(a.id)).rejects.toThrow(/graph\.sqlite\.lock behind/);
    expect(() => removeStaleGraphLock(dir.path)).toThrow(/only 0\.\d s old/);
    const old = new Date(Date.now() - 120_000);
    await utimes(`${graph.path}.lock`, old, old);
    expect(removeStaleGraphLock(dir.path)).toBe(true);
    expect(removeStaleGraphLock(dir.path)).toBe(false);
    expect((await other.get(a.id))?.id).toBe(a.id);
    await other.close();
  });
});
