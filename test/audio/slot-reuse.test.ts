// Page slots are reclaimed: freed pages become tombstones that later writes reuse and their data is punched out of
// the file, so a long session with ever-new stream keys never fills the table nor grows on disk. Lookups still find
// pages placed behind tombstones, the JS reference reader agrees with the kernel after reuse, and the callback
// never accepts a slot that was reused between its lookup and its read.
import { execFile } from "node:child_process";
import { closeSync, openSync, statSync, writeSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  CanvasReader,
  CanvasWriter,
  canvasHomeSlot,
  createCanvasFile,
  encodeHeader,
  fnv1a32,
} from "../../app/audio/canvas-file";
import { Engine } from "../../app/audio/engine";
import { countMismatches, ReferenceMixer } from "../../app/audio/reference-mix";
import { compileNative } from "../support/native-build";
import { pageContent, requireAddon, tempDir } from "./helpers";

const tmp = tempDir("lc-slot-reuse-");
beforeAll(() => requireAddon());
afterAll(() => tmp.cleanup());

const FRAMES_PER_PAGE = 4096;

/** Bytes the file occupies on disk (allocated blocks, not its size). */
const diskBytes = (path: string) => statSync(path).blocks * 512;

/** Keys whose page `pageIndex` has home slot `home` in a table of `capacity` slots. */
function collidingKeys(count: number, home: number, capacity: number, pageIndex = 0): bigint[] {
  const keys: bigint[] = [];
  for (let key = 1n; keys.length < count; key++) {
    if (canvasHomeSlot(key, pageIndex, capacity) === home) keys.push(key);
  }
  return keys;
}

describe("freeing page slots", () => {
  it("writing and freeing 20 times the capacity never fills the table, and disk use stays bounded", () => {
    const path = join(tmp.dir, "churn.lcc");
    const capacity = 256;
    const live = 128;
    const layout = createCanvasFile(path, {
      sampleRate: 48000,
      channels: 2,
      framesPerPage: FRAMES_PER_PAGE,
      pageCapacity: capacity,
    });
    const writer = new CanvasWriter(path);
    try {
      const window: Array<[bigint, number]> = [];
      let maxDisk = 0;
      const total = capacity * 20;
      for (let i = 0; i < total; i++) {
        // A new stream key every 8 pages, as an edit makes new content-addressed keys.
        const key = BigInt(1000 + Math.floor(i / 8));
        const page = i % 8;
        writer.writePage(key, page, 1, pageContent(key, page, FRAMES_PER_PAGE, 2));
        window.push([key, page]);
        if (window.length > live) {
          const [oldKey, oldPage] = window.shift()!;
          expect(writer.freePage(oldKey, oldPage)).toBe(true);
          expect(writer.freePage(oldKey, oldPage)).toBe(false);
        }
        if (i % 64 === 0) maxDisk = Math.max(maxDisk, diskBytes(path));
      }
      expect(writer.pagesUsed()).toBe(live);
      // At most the live pages plus the table: far below what 20x capacity pages would take (5120 pages).
      const bound = layout.dataOffset + (live + 1) * layout.pageBytes;
      expect(maxDisk).toBeLessThanOrEqual(bound);
      expect(diskBytes(path)).toBeLessThanOrEqual(bound);
      expect(diskBytes(path)).toBeGreaterThanOrEqual(live * layout.pageBytes);

      const reader = new CanvasReader(path);
      expect(reader.pages().length).toBe(live);
      for (const [key, page] of window) {
        expect(reader.pageFrames(key, page)).toEqual(pageContent(key, page, FRAMES_PER_PAGE, 2));
      }
      expect(reader.page(1000n, 0)).toBeUndefined();
      console.log(
        `slot-reuse: ${total} pages written through ${capacity} slots, disk max ${(maxDisk / 1024) | 0} KiB (bound ${(bound / 1024) | 0} KiB), tombstones ${reader.tombstoneSlots().length}`,
      );
    } finally {
      writer.close();
    }
  });

  it("without freeing (invalidatePage only) the same loop fills the table: the churn test can fail", () => {
    const path = join(tmp.dir, "no-free.lcc");
    createCanvasFile(path, { sampleRate: 48000, channels: 1, framesPerPage: 1024, pageCapacity: 64 });
    const writer = new CanvasWriter(path);
    try {
      const run = () => {
        for (let i = 0; i < 64 * 20; i++) {
          writer.writePage(BigInt(1 + i), 0, 1, new Float32Array(1024).fill(0.5));
          writer.invalidatePage(BigInt(1 + i), 0);
        }
      };
      expect(run).toThrow(/is full near this page .* free retired pages/);
    } finally {
      writer.close();
    }
  });

  it("a freed page's data is punched out: the range reads as zeros and the file keeps its size", () => {
    const path = join(tmp.dir, "punch.lcc");
    const layout = createCanvasFile(path, {
      sampleRate: 48000,
      channels: 1,
      framesPerPage: FRAMES_PER_PAGE,
      pageCapacity: 8,
    });
    const writer = new CanvasWriter(path);
    try {
      writer.writePage(3n, 0, 1, new Float32Array(FRAMES_PER_PAGE).fill(0.5));
      const slot = new CanvasReader(path).page(3n, 0)!.slot;
      const written = diskBytes(path);
      expect(writer.freePage(3n, 0)).toBe(true);
      expect(diskBytes(path)).toBe(written - layout.pageBytes);
      expect(statSync(path).size).toBe(layout.fileBytes);
      const reader = new CanvasReader(path);
      expect(reader.page(3n, 0)).toBeUndefined();
      expect(reader.tombstoneSlots()).toEqual([slot]);
      expect(writer.pagesUsed()).toBe(0);
    } finally {
      writer.close();
    }
  });

  it("lookups find pages behind tombstones; inserts reuse the first tombstone of the chain", () => {
    const path = join(tmp.dir, "chain.lcc");
    const capacity = 16;
    createCanvasFile(path, { sampleRate: 48000, channels: 1, framesPerPage: 1024, pageCapacity: capacity });
    // A chain that wraps around the end of the table: home slot 14 -> slots 14, 15, 0, 1, 2.
    const home = 14;
    const [a, b, c, d, e, f, g] = collidingKeys(7, home, capacity);
    const content = (key: bigint) => pageContent(key!, 0, 1024, 1);
    const writer = new CanvasWriter(path);
    try {
      for (const key of [a, b, c, d]) writer.writePage(key!, 0, 1, content(key!));
      const slotOf = (key: bigint) => new CanvasReader(path).page(key, 0)?.slot;
      expect([a, b, c, d].map((k) => slotOf(k!))).toEqual([14, 15, 0, 1]);
      expect(writer.freePage(a!, 0)).toBe(true);
      expect(writer.freePage(c!, 0)).toBe(true);
      expect(new CanvasReader(path).tombstoneSlots()).toEqual([0, 14]);
      // Behind tombstones: still found by the reader, rewritten in place by the writer (no second entry).
      expect(slotOf(b!)).toBe(15);
      expect(slotOf(d!)).toBe(1);
      writer.writePage(d!, 0, 2, content(b!));
      expect(writer.pagesUsed()).toBe(2);
      expect(new CanvasReader(path).page(d!, 0)).toMatchObject({ slot: 1, generation: 2 });
      // New pages of the chain: the first tombstone, the next tombstone, then the empty slot that ends the chain.
      writer.writePage(e!, 0, 1, content(e!));
      writer.writePage(f!, 0, 1, content(f!));
      writer.writePage(g!, 0, 1, content(g!));
      expect([e, f, g].map((k) => slotOf(k!))).toEqual([14, 0, 2]);
      expect(new CanvasReader(path).tombstoneSlots()).toEqual([]);
      expect(writer.pagesUsed()).toBe(5);
      expect(slotOf(a!)).toBeUndefined();
      expect(slotOf(c!)).toBeUndefined();
    } finally {
      writer.close();
    }

    // The callback's lookup finds the same pages through the same tombstones: play d (slot 1, behind the old
    // tombstone at 0) and a (freed): d's frames, and a miss for a.
    const engine = Engine.create({
      sampleRate: 48000,
      channels: 1,
      maxHeads: 2,
      maxLanes: 1,
      maxBlockFrames: 1024,
    });
    try {
      engine.openCanvas(path);
      engine.start({ driver: "offline" });
      engine.setHeadStreams(0, [d!]);
      engine.setHeadStreams(1, [a!]);
      engine.play(0);
      engine.play(1);
      const reference = new ReferenceMixer(new CanvasReader(path), engine.control, 1);
      const native = engine.renderOffline(1024, { blockFrames: 256 });
      const ref = reference.render(1024, 256);
      expect(countMismatches(native, ref.output).mismatched).toBe(0);
      expect(native.some((v) => v !== 0)).toBe(true);
      expect(ref.pageMisses).toBe(4);
      expect(engine.stats().pageMisses).toBe(4);
    } finally {
      engine.dispose();
    }
  });

  it("after heavy reuse the kernel and the JS reference mix agree bit for bit", () => {
    const path = join(tmp.dir, "reuse-bitexact.lcc");
    const capacity = 64;
    const pages = 6;
    createCanvasFile(path, { sampleRate: 48000, channels: 2, framesPerPage: 1024, pageCapacity: capacity });
    const writer = new CanvasWriter(path);
    const kept = [201n, 202n, 203n];
    try {
      // Rounds of streams written and freed, so the survivors sit in reused slots and behind tombstones.
      for (let round = 0; round < 40; round++) {
        for (let k = 0; k < 6; k++) {
          const key = BigInt(round * 10 + k + 1);
          for (let p = 0; p < pages; p++) writer.writePage(key, p, 1, pageContent(key, p, 1024, 2));
        }
        for (let k = 0; k < 6; k++) {
          const key = BigInt(round * 10 + k + 1);
          for (let p = 0; p < pages; p++) writer.freePage(key, p);
        }
        if (round === 20) {
          for (const key of kept)
            for (let p = 0; p < pages; p++) writer.writePage(key, p, 1, pageContent(key, p, 1024, 2));
          writer.freePage(202n, 3);
        }
      }
      expect(writer.pagesUsed()).toBe(kept.length * pages - 1);
    } finally {
      writer.close();
    }
    const reader = new CanvasReader(path);
    expect(reader.tombstoneSlots().length).toBeGreaterThan(0);
    const engine = Engine.create({
      sampleRate: 48000,
      channels: 2,
      maxHeads: 2,
      maxLanes: 3,
      maxBlockFrames: 512,
    });
    try {
      engine.openCanvas(path);
      engine.start({ driver: "offline" });
      const reference = new ReferenceMixer(reader, engine.control, 2);
      engine.setHeadStreams(0, [201n, 202n, 5n]);
      engine.setHeadStreams(1, [203n, 202n, 201n]);
      engine.setLanePan(1, -0.4);
      engine.seek(1, 700);
      engine.play(0);
      engine.play(1);
      const frames = pages * 1024;
      const native = engine.renderOffline(frames, { blockFrames: 256 });
      const ref = reference.render(frames, 256);
      const diff = countMismatches(native, ref.output);
      expect(diff.mismatched, `first mismatch at sample ${diff.firstIndex}`).toBe(0);
      expect(engine.stats().pageMisses).toBe(ref.pageMisses);
      expect(ref.pageMisses).toBeGreaterThan(0);
      expect(native.filter((v) => v !== 0).length).toBeGreaterThan(native.length / 2);
    } finally {
      engine.dispose();
    }
  });

  it("a version-1 canvas file (no tombstones) is rejected as a cache by the writer, the reader and the engine", () => {
    const path = join(tmp.dir, "v1.lcc");
    const layout = createCanvasFile(path, {
      sampleRate: 48000,
      channels: 1,
      framesPerPage: 1024,
      pageCapacity: 8,
    });
    const header = Buffer.from(encodeHeader(layout));
    header.writeUInt32LE(1, 8);
    header.writeUInt32LE(fnv1a32(header.subarray(0, 64)), 64);
    const fd = openSync(path, "r+");
    try {
      writeSync(fd, header, 0, header.length, 0);
    } finally {
      closeSync(fd);
    }
    const message =
      /unsupported version 1 \(this build reads version 2\).*delete it and let the renderer rebuild it/;
    expect(() => new CanvasWriter(path)).toThrow(message);
    expect(() => new CanvasReader(path)).toThrow(message);
    const engine = Engine.create({
      sampleRate: 48000,
      channels: 1,
      maxHeads: 1,
      maxLanes: 1,
      maxBlockFrames: 256,
    });
    try {
      expect(() => engine.openCanvas(path)).toThrow(message);
    } finally {
      engine.dispose();
    }
  });

  it("the callback rejects a slot freed and reused between its lookup and its read (key and index checked)", async () => {
    const program = await compileNative({
      name: "slot-reuse-interleave",
      sources: ["test/audio/fixtures/slot-reuse-interleave.cpp", "native/src/canvas_file.cpp"],
      flags: ["-std=c++17", "-O2", "-Wall", "-Wextra", "-Werror"],
    });
    const path = join(tmp.dir, "interleave.lcc");
    createCanvasFile(path, { sampleRate: 48000, channels: 1, framesPerPage: 1024, pageCapacity: 1 });
    const { stdout } = await promisify(execFile)(program, [path]);
    const result = JSON.parse(stdout) as Record<string, string | number>;
    expect(result).toEqual({
      found: 0,
      foreignSlot: 0, // capacity 1: the other page had to take the freed slot
      before: "ok",
      otherKey: "moved", // the slot now holds another key's page: not played (a "moved" miss)
      otherKeyFirst: 0.75, // (its data was there to copy: only the identity check refuses it)
      foreignOwn: "ok",
      otherIndex: "moved", // the same key at another page index
      lookupAfterFree: -1,
      pagesUsed: 1,
    });
  });
});
