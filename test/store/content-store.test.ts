import { randomBytes } from "node:crypto";
import { chmod, readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hashBytes, type LocalContentStore, openContentStore, StoreError } from "../../app/store/index";
import { runTs, tempDir } from "./helpers";

let dir: { path: string; remove: () => Promise<void> };
let store: LocalContentStore;

beforeEach(async () => {
  dir = await tempDir("cas");
  store = await openContentStore(dir.path);
});
afterEach(async () => {
  await dir.remove();
});

async function damage(path: string, bytes: Uint8Array): Promise<void> {
  await chmod(path, 0o644);
  await writeFile(path, bytes);
}

describe("content store", () => {
  it("stores bytes under objects/<first 2>/<rest> and reads them back", async () => {
    const hash = await store.put(new TextEncoder().encode("Hello, World!"));
    expect(hash).toBe("288a86a79f20a3d6dccdca7713beaed1");
    expect(store.pathOf(hash)).toBe(join(dir.path, "objects", "28", "8a86a79f20a3d6dccdca7713beaed1"));
    expect(new TextDecoder().decode(await store.get(hash))).toBe("Hello, World!");
    expect(await store.has(hash)).toBe(true);
    expect(await store.has("00000000000000000000000000000000")).toBe(false);
    expect(await readdir(join(dir.path, "tmp"))).toEqual([]);
  });

  it("is idempotent: a second put of the same bytes keeps one object and refreshes its mtime", async () => {
    const bytes = randomBytes(1000);
    const first = await store.put(bytes);
    const before = await stat(store.pathOf(first));
    await new Promise((r) => setTimeout(r, 20));
    const second = await store.put(bytes);
    expect(second).toBe(first);
    const after = await stat(store.pathOf(first));
    expect(after.ino).toBe(before.ino);
    expect(after.mtimeMs).toBeGreaterThan(before.mtimeMs);
    const hashes: string[] = [];
    for await (const h of store.list()) hashes.push(h);
    expect(hashes).toEqual([first]);
  });

  it("putFile of a folder says it is not a file", async () => {
    await expect(store.putFile(dir.path)).rejects.toThrow(/cannot store .*: it is not a file \(a folder\?\)/);
  });

  it("names a library root it cannot use (a file on its path, no permission) and what to do", async () => {
    const file = join(dir.path, "a-file");
    await writeFile(file, "not a folder");
    for (const root of [file, join(file, "library")]) {
      const error = await openContentStore(root).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(StoreError);
      expect((error as StoreError).code).toBe("unusable-library");
      expect((error as StoreError).message).toMatch(
        /^cannot use .*a-file.* as a library: it, or a folder on its path, is a file \((ENOTDIR|EEXIST)\)\. Pass --store DIR/,
      );
    }
  });

  it("refuses malformed hashes and reports missing objects with what to do", async () => {
    expect(() => store.pathOf("../../../etc/passwd")).toThrow(/not a content hash/);
    const missing = store.get("0123456789abcdef0123456789abcdef");
    await expect(missing).rejects.toBeInstanceOf(StoreError);
    await expect(missing).rejects.toThrow(/not in the content store .*Import the source again/);
  });

  it("refuses to return damaged bytes", async () => {
    const hash = await store.put(new TextEncoder().encode("original"));
    await damage(store.pathOf(hash), new TextEncoder().encode("tampered"));
    await expect(store.get(hash)).rejects.toThrow(/is damaged .*lcanvas store verify --quarantine/);
  });

  it("streams a multi-chunk file through the hash into the store", async () => {
    const source = join(dir.path, "big.bin");
    const bytes = randomBytes(5 * 1024 * 1024 + 12345);
    await writeFile(source, bytes);
    const hash = await store.putFile(source);
    expect(hash).toBe(hashBytes(bytes));
    expect(Buffer.compare(await readFile(store.pathOf(hash)), bytes)).toBe(0);
    expect(await store.putFile(source)).toBe(hash);
    expect(await readdir(join(dir.path, "tmp"))).toEqual([]);
    await expect(store.putFile(join(dir.path, "absent.bin"))).rejects.toThrow(/no such file/);
  });

  it("verify names each damaged object, quarantines it, and a new put restores it", async () => {
    const good = await store.put(new TextEncoder().encode("good"));
    const bad = await store.put(new TextEncoder().encode("will be damaged"));
    const gone = await store.put(new TextEncoder().encode("truncated"));
    await damage(store.pathOf(bad), new TextEncoder().encode("bit rot"));
    await damage(store.pathOf(gone), new Uint8Array(0));
    await writeFile(join(dir.path, "objects", "stray.txt"), "not an object");

    const report = await store.verify();
    expect(report.checked).toBe(3);
    expect(report.damaged.map((d) => d.hash).sort()).toEqual([bad, gone].sort());
    expect(report.damaged.find((d) => d.hash === gone)?.actualHash).toBe(hashBytes(new Uint8Array(0)));
    expect(report.strays).toEqual([join(dir.path, "objects", "stray.txt")]);
    expect(report.advice).toMatch(/--quarantine/);
    expect(await store.has(good)).toBe(true);

    const quarantined = await store.verify({ quarantine: true });
    expect(quarantined.damaged.every((d) => d.movedTo?.includes(join(dir.path, "damaged")))).toBe(true);
    expect(await store.has(bad)).toBe(false);
    expect(await store.put(new TextEncoder().encode("will be damaged"))).toBe(bad);
    const clean = await store.verify();
    expect(clean.damaged).toEqual([]);
    expect(clean.advice).toBeNull();
  });

  it("stays consistent when several processes write the same and different content at once", async () => {
    const writers = 4;
    const count = 100;
    const results = await Promise.all(
      Array.from({ length: writers }, (_, i) => runTs("writer.ts", [dir.path, String(i), String(count)])),
    );
    const all = new Set<string>();
    const perWriter = results.map((result) => {
      expect(result.stderr).toBe("");
      expect(result.code).toBe(0);
      const hashes = JSON.parse(result.stdout) as string[];
      for (const h of hashes) all.add(h);
      return hashes;
    });
    const sharedOf = (hashes: string[]) => hashes.filter((_, i) => i % 2 === 0);
    for (const hashes of perWriter) expect(sharedOf(hashes)).toEqual(sharedOf(perWriter[0] ?? []));
    expect(all.size).toBe(count + writers * count);
    const stored: string[] = [];
    for await (const h of store.list()) stored.push(h);
    expect(new Set(stored)).toEqual(all);
    const report = await store.verify();
    expect(report.checked).toBe(all.size);
    expect(report.damaged).toEqual([]);
    expect(await readdir(join(dir.path, "tmp"))).toEqual([]);
  }, 60_000);
});
