// The canvas file: sparse on disk, validated before use; a corrupt or truncated file is rejected with a clear
// error while the engine keeps running on the null driver.

import { spawnSync } from "node:child_process";
import { closeSync, openSync, readFileSync, statSync, truncateSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanvasReader, CanvasWriter, createCanvasFile, readCanvasLayout } from "../../app/audio/canvas-file";
import { Engine } from "../../app/audio/engine";
import { REPO_ROOT } from "../support/native-build";
import { pageContent, requireAddon, tempDir, writeTestCanvas } from "./helpers";

const tmp = tempDir();
beforeAll(() => requireAddon());
afterAll(() => tmp.cleanup());

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function patched(bytes: Buffer, edit: (b: Buffer) => unknown): Buffer {
  edit(bytes);
  return bytes;
}

function corruptCopy(name: string, mutate: (bytes: Buffer) => Buffer): string {
  const good = join(tmp.dir, "good.lcc");
  const path = join(tmp.dir, name);
  writeFileSync(path, mutate(readFileSync(good)));
  return path;
}

describe("canvas file", () => {
  beforeAll(() => {
    writeTestCanvas({
      path: join(tmp.dir, "good.lcc"),
      sampleRate: 48000,
      channels: 2,
      framesPerPage: 1024,
      pageCapacity: 64,
      streams: [{ key: 7n, pages: 8 }],
    });
  });

  it("is sparse: disk use follows the pages written, not the capacity", () => {
    const path = join(tmp.dir, "sparse.lcc");
    const layout = createCanvasFile(path, {
      sampleRate: 48000,
      channels: 2,
      framesPerPage: 4096,
      pageCapacity: 8192,
    });
    expect(statSync(path).size).toBe(layout.fileBytes);
    expect(layout.fileBytes).toBeGreaterThan(256 * 1024 * 1024);
    const writer = new CanvasWriter(path);
    for (let p = 0; p < 3; p++) writer.writePage(9n, p, 1, pageContent(9n, p, 4096, 2));
    expect(writer.pagesUsed()).toBe(3);
    writer.close();
    const diskBytes = statSync(path).blocks * 512;
    expect(diskBytes).toBeLessThan(2 * 1024 * 1024);
    expect(diskBytes).toBeGreaterThanOrEqual(3 * 4096 * 2 * 4);
    const reader = new CanvasReader(path);
    expect(
      reader
        .pages()
        .map((p) => p.pageIndex)
        .sort(),
    ).toEqual([0, 1, 2]);
    expect(reader.pageFrames(9n, 1)).toEqual(pageContent(9n, 1, 4096, 2));
  });

  it("rewrites a page in place with a new generation and can invalidate it", () => {
    const path = join(tmp.dir, "rewrite.lcc");
    createCanvasFile(path, { sampleRate: 48000, channels: 1, framesPerPage: 16, pageCapacity: 4 });
    const writer = new CanvasWriter(path);
    writer.writePage(1n, 0, 1, new Float32Array(16).fill(0.5));
    writer.writePage(1n, 0, 2, new Float32Array(8).fill(0.25));
    expect(writer.pagesUsed()).toBe(1);
    let record = new CanvasReader(path).page(1n, 0);
    expect(record).toMatchObject({ generation: 2, seq: 4, valid: true });
    const frames = new CanvasReader(path).pageFrames(1n, 0)!;
    expect([...frames.subarray(6, 10)]).toEqual([0.25, 0.25, 0, 0]);
    expect(writer.invalidatePage(1n, 0)).toBe(true);
    record = new CanvasReader(path).page(1n, 0);
    expect(record).toMatchObject({ valid: false });
    expect(new CanvasReader(path).pageFrames(1n, 0)).toBeUndefined();
    expect(() => writer.writePage(0n, 0, 1, new Float32Array(16))).toThrow(/non-zero unsigned 64-bit/);
    expect(() => writer.writePage(1n, -1, 1, new Float32Array(16))).toThrow(/pageIndex must be an integer/);
    expect(() => writer.writePage(1n, 1, 1, new Float32Array(17))).toThrow(/larger than a page/);
    for (let p = 1; p < 4; p++) writer.writePage(1n, p, 1, new Float32Array(16));
    expect(() => writer.writePage(2n, 0, 1, new Float32Array(16))).toThrow(/is full/);
    writer.close();
  });

  it("writePageIfAbsent writes a missing or invalidated page, never over a complete one", () => {
    const path = join(tmp.dir, "if-absent.lcc");
    createCanvasFile(path, { sampleRate: 48000, channels: 1, framesPerPage: 16, pageCapacity: 8 });
    const writer = new CanvasWriter(path);
    try {
      expect(writer.writePageIfAbsent(5n, 2, 7, new Float32Array(16).fill(0.5))).toBe(true);
      expect(new CanvasReader(path).page(5n, 2)).toMatchObject({ generation: 7, valid: true });
      // A complete page is there (say a render worker's): left as it is.
      writer.writePage(5n, 3, 9, new Float32Array(16).fill(0.75));
      expect(writer.writePageIfAbsent(5n, 3, 7, new Float32Array(16).fill(0.5))).toBe(false);
      expect(new CanvasReader(path).page(5n, 3)).toMatchObject({ generation: 9, valid: true });
      expect(new CanvasReader(path).pageFrames(5n, 3)![0]).toBe(0.75);
      // An invalidated page holds no complete page: written.
      expect(writer.invalidatePage(5n, 3)).toBe(true);
      expect(writer.writePageIfAbsent(5n, 3, 7, new Float32Array(16).fill(0.5))).toBe(true);
      expect(new CanvasReader(path).pageFrames(5n, 3)![0]).toBe(0.5);
      expect(() => writer.writePageIfAbsent(0n, 0, 1, new Float32Array(16))).toThrow(
        /non-zero unsigned 64-bit/,
      );
    } finally {
      writer.close();
    }
  });

  const cases: Array<[string, () => string, RegExp]> = [
    [
      "bad magic",
      () => corruptCopy("magic.lcc", (b) => patched(b, (x) => x.write("XXCANVAS", 0, "ascii"))),
      /bad magic/,
    ],
    [
      "bad version",
      () => corruptCopy("version.lcc", (b) => patched(b, (x) => x.writeUInt32LE(99, 8))),
      /unsupported version 99/,
    ],
    [
      "bad checksum",
      () => corruptCopy("sum.lcc", (b) => patched(b, (x) => x.writeUInt32LE(44100, 16))),
      /checksum mismatch/,
    ],
    ["truncated", () => corruptCopy("short.lcc", (b) => b.subarray(0, b.length - 4096)), /truncated/],
    ["header only", () => corruptCopy("tiny.lcc", (b) => b.subarray(0, 40)), /truncated/],
    ["missing", () => join(tmp.dir, "nope.lcc"), /does not exist/],
  ];

  for (const [name, make, message] of cases) {
    it(`rejects a ${name} file in TS and in the addon while the engine keeps playing`, async () => {
      const bad = make();
      expect(() => readCanvasLayout(bad)).toThrow(message);
      const engine = Engine.create({
        sampleRate: 48000,
        channels: 2,
        maxHeads: 1,
        maxLanes: 1,
        maxBlockFrames: 512,
      });
      try {
        engine.openCanvas(join(tmp.dir, "good.lcc"));
        engine.setHeadStreams(0, [7n]);
        engine.setLoop(0, { startFrames: 0, endFrames: 8 * 1024, enabled: true });
        engine.play(0);
        engine.startCapture(48000);
        engine.start({ driver: "null", bufferFrames: 256 });
        await sleep(60);
        expect(() => engine.openCanvas(bad)).toThrow(message);
        expect(() => engine.openCanvas(bad)).toThrow(/delete it and let the renderer rebuild it/);
        const before = engine.stats().callbacks;
        const until = performance.now() + 5000;
        while (engine.stats().callbacks <= before + 5 && performance.now() < until) await sleep(10);
        expect(engine.stats().callbacks).toBeGreaterThan(before + 5);
        engine.setLaneGain(0, 0.5);
        engine.stop();
        const captured = engine.stopCapture();
        const tail = captured.subarray(captured.length - 512);
        expect(tail.some((v) => v !== 0)).toBe(true);
        expect(engine.stats().pageMisses).toBe(0);
        engine.closeCanvas();
        const silent = engine.renderOffline(256);
        expect(silent.every((v) => v === 0)).toBe(true);
        expect(engine.stats().pageMisses).toBe(1);
      } finally {
        engine.dispose();
      }
    });
  }

  it("a page left half-written by a killed writer is an error for the next writer, not a hang", () => {
    const path = join(tmp.dir, "stuck.lcc");
    createCanvasFile(path, { sampleRate: 48000, channels: 2, framesPerPage: 256, pageCapacity: 16 });
    const writer = new CanvasWriter(path);
    writer.writePage(9n, 3, 1, new Float32Array(512).fill(0.25));
    writer.close();
    // What a writer killed inside its memcpy leaves: the page's sequence word odd ("being written").
    const layout = readCanvasLayout(path);
    const bytes = readFileSync(path);
    let entry = -1;
    for (let slot = 0; slot < layout.pageCapacity; slot++) {
      const at = layout.tableOffset + 32 * slot;
      if (
        bytes.readUInt32LE(at + 12) === 1 &&
        bytes.readBigUInt64LE(at) === 9n &&
        bytes.readUInt32LE(at + 8) === 3
      )
        entry = at;
    }
    expect(entry).toBeGreaterThan(0);
    const seq = Buffer.alloc(4);
    seq.writeUInt32LE(bytes.readUInt32LE(entry + 16) + 1);
    const fd = openSync(path, "r+");
    writeSync(fd, seq, 0, 4, entry + 16);
    closeSync(fd);
    // In a child: before the fix this spun forever.
    const script = join(tmp.dir, "stuck-writer.ts");
    writeFileSync(
      script,
      `import { CanvasWriter } from ${JSON.stringify(join(REPO_ROOT, "app/audio/canvas-file.ts"))};
const w = new CanvasWriter(${JSON.stringify(path)});
for (const write of [() => w.writePage(9n, 3, 2, new Float32Array(512)), () => w.invalidatePage(9n, 3)]) {
  try { write(); console.log("written"); } catch (error) { console.log(String(error)); }
}
w.writePage(9n, 4, 1, new Float32Array(512));
console.log("other pages ok");
`,
    );
    const started = Date.now();
    const child = spawnSync(process.execPath, ["--import", "tsx", script], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 25_000,
    });
    expect(child.signal, "the writer hung on the half-written page").toBeNull();
    const lines = child.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    for (const line of lines.slice(0, 2)) {
      expect(line).toMatch(/page 3 of stream 9 has been marked as being written for over 2 s.*delete it/);
    }
    expect(lines[2]).toBe("other pages ok");
    expect(Date.now() - started).toBeLessThan(20_000);

    // A writer killed while claiming the slot leaves its state 2 ("being claimed").
    const state = Buffer.alloc(4);
    state.writeUInt32LE(2);
    const fd2 = openSync(path, "r+");
    writeSync(fd2, state, 0, 4, entry + 12);
    closeSync(fd2);
    const claim = spawnSync(process.execPath, ["--import", "tsx", script], {
      cwd: REPO_ROOT,
      encoding: "utf8",
      timeout: 25_000,
    });
    expect(claim.signal, "the writer hung on the half-claimed slot").toBeNull();
    expect(claim.stdout).toMatch(/slot \d+ has been marked as being claimed for over 2 s.*delete it/);
  }, 60_000);

  it("a file corrupted after creation cannot be reopened for writing either", () => {
    const path = join(tmp.dir, "later.lcc");
    createCanvasFile(path, { sampleRate: 44100, channels: 2, framesPerPage: 256, pageCapacity: 16 });
    const fd = openSync(path, "r+");
    writeSync(fd, Buffer.from([0xff]), 0, 1, 30);
    closeSync(fd);
    expect(() => new CanvasWriter(path)).toThrow(/checksum mismatch/);
    truncateSync(path, 100);
    expect(() => new CanvasWriter(path)).toThrow(/checksum mismatch|truncated/);
  });

  it("recreating a canvas at the same path while it plays swaps files instead of truncating the mapped one", async () => {
    const path = join(tmp.dir, "replace.lcc");
    const geometry = { sampleRate: 48000, channels: 1, framesPerPage: 1024, pageCapacity: 16 };
    createCanvasFile(path, geometry);
    let writer = new CanvasWriter(path);
    for (let p = 0; p < 4; p++) writer.writePage(3n, p, 1, new Float32Array(1024).fill(0.25));
    writer.close();
    const engine = Engine.create({
      sampleRate: 48000,
      channels: 1,
      maxHeads: 1,
      maxLanes: 1,
      maxBlockFrames: 256,
    });
    try {
      engine.openCanvas(path);
      engine.control.setLanePanGains(0, 1, 1);
      engine.setHeadStreams(0, [3n]);
      engine.setLoop(0, { startFrames: 0, endFrames: 4096, enabled: true });
      engine.play(0);
      engine.startCapture(48000);
      engine.start({ driver: "null", bufferFrames: 256 });
      createCanvasFile(path, geometry);
      writer = new CanvasWriter(path);
      for (let p = 0; p < 4; p++) writer.writePage(3n, p, 1, new Float32Array(1024).fill(0.5));
      writer.close();
      await sleep(100);
      engine.openCanvas(path);
      const before = engine.stats().callbacks;
      while (engine.stats().callbacks < before + 10) await sleep(10);
      engine.stop();
      const captured = engine.stopCapture();
      expect(new Set(captured)).toEqual(new Set([0.25, 0.5]));
      expect(captured.at(-1)).toBe(0.5);
      expect(captured[0]).toBe(0.25);
      expect(engine.stats().pageMisses).toBe(0);
    } finally {
      engine.dispose();
    }
  });

  it("refuses a canvas whose format differs from the engine's, keeping the current one", () => {
    const mono = join(tmp.dir, "mono.lcc");
    createCanvasFile(mono, { sampleRate: 44100, channels: 1, framesPerPage: 256, pageCapacity: 4 });
    const engine = Engine.create({
      sampleRate: 48000,
      channels: 2,
      maxHeads: 1,
      maxLanes: 1,
      maxBlockFrames: 256,
    });
    try {
      engine.openCanvas(join(tmp.dir, "good.lcc"));
      expect(() => engine.openCanvas(mono)).toThrow(
        /has 1 channels at 44100 Hz but the engine runs 2 channels at 48000 Hz; create the canvas with the engine's format/,
      );
      engine.setHeadStreams(0, [7n]);
      engine.play(0);
      expect(engine.renderOffline(256).some((v) => v !== 0)).toBe(true);
      expect(engine.stats().pageMisses).toBe(0);
    } finally {
      engine.dispose();
    }
  });
});
