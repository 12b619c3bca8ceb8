// Owns the TypeScript side of the canvas file (format: docs/canvas-file.md, native/src/canvas_format.h):
// creating a file, the page writer (through the addon, which does the seqlock with proper atomics), and a
// validating reader for tests and the reference mix. Non-real-time; callers: the renderer, engine.ts, tests, CLI.
import {
  closeSync,
  fstatSync,
  ftruncateSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  writeSync,
} from "node:fs";
import { loadAddon, type NativeCanvasWriterInstance } from "./native";

export const CANVAS_MAGIC = "LCCANVAS";
export const CANVAS_VERSION = 2;
export const HEADER_BYTES = 4096;
export const ENTRY_BYTES = 32;
const ALIGN = 4096;
const CHECKSUMMED_BYTES = 64;
// Page table entry states (canvas_format.h); 2 is "being claimed".
const STATE_EMPTY = 0;
const STATE_LIVE = 1;
const STATE_TOMBSTONE = 3;
/** Linear-probe bound of every lookup. */
const MAX_PROBE = 64;

export interface CanvasGeometry {
  sampleRate: number;
  channels: number;
  framesPerPage: number;
  pageCapacity: number;
}

export interface CanvasLayout extends CanvasGeometry {
  pageBytes: number;
  tableOffset: number;
  dataOffset: number;
  fileBytes: number;
}

export class CanvasFileError extends Error {
  readonly path: string;
  constructor(path: string, problem: string) {
    super(
      `canvas file ${path} is unusable: ${problem}. It is a cache: delete it and let the renderer rebuild it (or create a new one).`,
    );
    this.name = "CanvasFileError";
    this.path = path;
  }
}

export function fnv1a32(bytes: Uint8Array): number {
  let h = 0x811c9dc5;
  for (const b of bytes) {
    h ^= b;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

const MASK64 = 0xffffffffffffffffn;

/**
 * The home slot of (streamKey, pageIndex) in a page table of `pageCapacity` slots: the 64-bit mix of
 * canvas_format.h reduced to the capacity. Lookups probe linearly from here (at most 64 slots).
 */
export function canvasHomeSlot(streamKey: bigint, pageIndex: number, pageCapacity: number): number {
  let x = (streamKey ^ ((BigInt(pageIndex) * 0x9e3779b97f4a7c15n) & MASK64)) & MASK64;
  x ^= x >> 30n;
  x = (x * 0xbf58476d1ce4e5b9n) & MASK64;
  x ^= x >> 27n;
  x = (x * 0x94d049bb133111ebn) & MASK64;
  x ^= x >> 31n;
  return Number(x % BigInt(pageCapacity));
}

const alignUp = (v: number, a: number) => Math.ceil(v / a) * a;

export function canvasLayout(g: CanvasGeometry): CanvasLayout {
  const pageBytes = alignUp(g.framesPerPage * g.channels * 4, ALIGN);
  const tableOffset = HEADER_BYTES;
  const dataOffset = alignUp(HEADER_BYTES + g.pageCapacity * ENTRY_BYTES, ALIGN);
  return { ...g, pageBytes, tableOffset, dataOffset, fileBytes: dataOffset + g.pageCapacity * pageBytes };
}

function checkGeometry(g: CanvasGeometry): void {
  const bad = (what: string) => {
    throw new RangeError(`cannot create a canvas file: ${what}`);
  };
  if (!Number.isInteger(g.sampleRate) || g.sampleRate < 8000 || g.sampleRate > 384000) {
    bad("sampleRate must be 8000..384000");
  }
  if (g.channels !== 1 && g.channels !== 2) bad("channels must be 1 or 2");
  if (!Number.isInteger(g.framesPerPage) || g.framesPerPage < 1 || g.framesPerPage > 1 << 20) {
    bad("framesPerPage must be 1..1048576");
  }
  if (!Number.isInteger(g.pageCapacity) || g.pageCapacity < 1 || g.pageCapacity > 1 << 24) {
    bad("pageCapacity must be 1..16777216");
  }
}

export function encodeHeader(layout: CanvasLayout): Uint8Array {
  const header = new Uint8Array(HEADER_BYTES);
  const view = new DataView(header.buffer);
  header.set(new TextEncoder().encode(CANVAS_MAGIC), 0);
  view.setUint32(8, CANVAS_VERSION, true);
  view.setUint32(12, HEADER_BYTES, true);
  view.setUint32(16, layout.sampleRate, true);
  view.setUint32(20, layout.channels, true);
  view.setUint32(24, layout.framesPerPage, true);
  view.setUint32(28, layout.pageCapacity, true);
  view.setUint32(32, ENTRY_BYTES, true);
  view.setUint32(36, layout.pageBytes, true);
  view.setBigUint64(40, BigInt(layout.tableOffset), true);
  view.setBigUint64(48, BigInt(layout.dataOffset), true);
  view.setBigUint64(56, BigInt(layout.fileBytes), true);
  view.setUint32(64, fnv1a32(header.subarray(0, CHECKSUMMED_BYTES)), true);
  return header;
}

/**
 * Creates (or replaces) a canvas file: header, empty page table, and a sparse data region sized to capacity
 * (ftruncate: disk use follows the pages written, so no remapping is ever needed while playing).
 * A replaced file is swapped in by rename, never truncated in place: an engine still mapping the old file keeps
 * reading the old pages (truncating a mapped file would crash the reader with SIGBUS).
 */
export function createCanvasFile(path: string, geometry: CanvasGeometry): CanvasLayout {
  checkGeometry(geometry);
  const layout = canvasLayout(geometry);
  const temp = `${path}.tmp-${process.pid}-${Date.now()}`;
  try {
    const fd = openSync(temp, "wx");
    try {
      writeSync(fd, encodeHeader(layout), 0, HEADER_BYTES, 0);
      ftruncateSync(fd, layout.fileBytes);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path);
  } catch (error) {
    rmSync(temp, { force: true });
    throw error;
  }
  return layout;
}

function readExactly(fd: number, length: number, position: number): Uint8Array {
  const out = new Uint8Array(length);
  let done = 0;
  while (done < length) {
    const n = readSync(fd, out, done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return out.subarray(0, done);
}

/** Validates a canvas file header the way the addon does; throws CanvasFileError naming the problem. */
export function readCanvasLayout(path: string): CanvasLayout {
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new CanvasFileError(
      path,
      code === "ENOENT" ? "the file does not exist" : `it cannot be opened (${code})`,
    );
  }
  try {
    const size = fstatSync(fd).size;
    const header = readExactly(fd, 80, 0);
    if (header.length < 80)
      throw new CanvasFileError(path, `it is truncated (${size} bytes, shorter than the header)`);
    const view = new DataView(header.buffer, header.byteOffset, header.byteLength);
    if (new TextDecoder().decode(header.subarray(0, 8)) !== CANVAS_MAGIC) {
      throw new CanvasFileError(path, "bad magic (not a Latent Canvas canvas file)");
    }
    const version = view.getUint32(8, true);
    if (version !== CANVAS_VERSION) {
      throw new CanvasFileError(
        path,
        `unsupported version ${version} (this build reads version ${CANVAS_VERSION})`,
      );
    }
    if (fnv1a32(header.subarray(0, CHECKSUMMED_BYTES)) !== view.getUint32(64, true)) {
      throw new CanvasFileError(path, "header checksum mismatch (the header is corrupt)");
    }
    const geometry: CanvasGeometry = {
      sampleRate: view.getUint32(16, true),
      channels: view.getUint32(20, true),
      framesPerPage: view.getUint32(24, true),
      pageCapacity: view.getUint32(28, true),
    };
    const layout = canvasLayout(geometry);
    if (
      view.getUint32(36, true) !== layout.pageBytes ||
      Number(view.getBigUint64(48, true)) !== layout.dataOffset ||
      Number(view.getBigUint64(56, true)) !== layout.fileBytes
    ) {
      throw new CanvasFileError(path, "inconsistent geometry in the header");
    }
    if (size !== layout.fileBytes) {
      throw new CanvasFileError(
        path,
        `it is truncated or has the wrong size (${size} bytes, the header says ${layout.fileBytes})`,
      );
    }
    return layout;
  } finally {
    closeSync(fd);
  }
}

/** Writes pages through the addon: claims the page slot and writes under the page's seqlock (see docs). */
export class CanvasWriter {
  readonly path: string;
  readonly layout: CanvasLayout;
  #native: NativeCanvasWriterInstance | undefined;

  constructor(path: string) {
    this.layout = readCanvasLayout(path);
    this.path = path;
    const addon = loadAddon();
    this.#native = new addon.CanvasWriter(path);
  }

  #writer(): NativeCanvasWriterInstance {
    if (!this.#native) throw new Error(`canvas writer for ${this.path} is closed; open a new CanvasWriter`);
    return this.#native;
  }

  /** Writes one page of interleaved frames (at most framesPerPage; the rest of the page is silence). */
  writePage(streamKey: bigint, pageIndex: number, generation: number, samples: Float32Array): void {
    this.#check(streamKey, pageIndex, generation, samples);
    this.#writer().writePage(streamKey, pageIndex, generation, samples);
  }

  /**
   * Writes the page only if it holds no complete page yet, decided under the page's write side: a page another
   * writer (a render worker) completes at the same moment is never overwritten. Returns whether it wrote.
   */
  writePageIfAbsent(
    streamKey: bigint,
    pageIndex: number,
    generation: number,
    samples: Float32Array,
  ): boolean {
    this.#check(streamKey, pageIndex, generation, samples);
    return this.#writer().writePageIfAbsent(streamKey, pageIndex, generation, samples);
  }

  #check(streamKey: bigint, pageIndex: number, generation: number, samples: Float32Array): void {
    for (const [name, value] of [
      ["pageIndex", pageIndex],
      ["generation", generation],
    ] as const) {
      if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) {
        throw new RangeError(`${name} must be an integer in 0..4294967295, got ${value}`);
      }
    }
    if (streamKey <= 0n || streamKey > 0xffffffffffffffffn) {
      throw new RangeError("stream key must be a non-zero unsigned 64-bit bigint (0 means no stream)");
    }
    if (samples.length % this.layout.channels !== 0) {
      throw new RangeError(
        `page samples (${samples.length}) are not a whole number of ${this.layout.channels}-channel frames`,
      );
    }
  }

  /** Marks a page invalid (the callback treats it as missing) but keeps its slot; see freePage. */
  invalidatePage(streamKey: bigint, pageIndex: number): boolean {
    return this.#writer().invalidatePage(streamKey, pageIndex);
  }

  /**
   * Frees a page: its slot becomes a tombstone that later writes reuse, and its data is punched out of the file
   * (disk space released, file size unchanged). False when the page is not in the file.
   */
  freePage(streamKey: bigint, pageIndex: number): boolean {
    return this.#writer().freePage(streamKey, pageIndex);
  }

  /** Live page slots (written and not freed). */
  pagesUsed(): number {
    return this.#writer().pagesUsed();
  }

  close(): void {
    this.#native?.close();
    this.#native = undefined;
  }
}

export interface PageRecord {
  streamKey: bigint;
  pageIndex: number;
  slot: number;
  seq: number;
  generation: number;
  valid: boolean;
}

/** Reads a canvas file with plain file reads (tests, the reference mix); not for concurrent use with writers. */
export class CanvasReader {
  readonly path: string;
  readonly layout: CanvasLayout;
  #states = new Uint32Array(0);
  #bySlot: Array<PageRecord | undefined> = [];
  #data = new Map<number, Float32Array>();

  constructor(path: string) {
    this.path = path;
    this.layout = readCanvasLayout(path);
    this.refresh();
  }

  /** Re-reads the page table and forgets cached page data. */
  refresh(): void {
    const capacity = this.layout.pageCapacity;
    this.#states = new Uint32Array(capacity);
    this.#bySlot = new Array<PageRecord | undefined>(capacity);
    this.#data.clear();
    const fd = openSync(this.path, "r");
    try {
      const table = readExactly(fd, capacity * ENTRY_BYTES, this.layout.tableOffset);
      const view = new DataView(table.buffer, table.byteOffset, table.byteLength);
      for (let slot = 0; slot < capacity; slot++) {
        const at = slot * ENTRY_BYTES;
        const state = view.getUint32(at + 12, true);
        this.#states[slot] = state;
        if (state !== STATE_LIVE) continue;
        this.#bySlot[slot] = {
          streamKey: view.getBigUint64(at, true),
          pageIndex: view.getUint32(at + 8, true),
          slot,
          seq: view.getUint32(at + 16, true),
          generation: view.getUint32(at + 20, true),
          valid: view.getUint32(at + 24, true) === 1,
        };
      }
    } finally {
      closeSync(fd);
    }
  }

  /** The live pages (written and not freed), in slot order. */
  pages(): PageRecord[] {
    return this.#bySlot.filter((record): record is PageRecord => record !== undefined);
  }

  /** Slots holding tombstones (freed, reusable). */
  tombstoneSlots(): number[] {
    const out: number[] = [];
    for (let slot = 0; slot < this.#states.length; slot++) {
      if (this.#states[slot] === STATE_TOMBSTONE) out.push(slot);
    }
    return out;
  }

  /** The addon's lookup: probe from the home slot past tombstones and other pages, stop at an empty slot. */
  page(streamKey: bigint, pageIndex: number): PageRecord | undefined {
    const capacity = this.layout.pageCapacity;
    let slot = canvasHomeSlot(streamKey, pageIndex, capacity);
    for (let i = 0; i < Math.min(capacity, MAX_PROBE); i++) {
      if (this.#states[slot] === STATE_EMPTY) return undefined;
      const record = this.#bySlot[slot];
      if (record?.streamKey === streamKey && record.pageIndex === pageIndex) return record;
      slot = slot + 1 === capacity ? 0 : slot + 1;
    }
    return undefined;
  }

  /** The page's interleaved frames if it is written and valid, else undefined. */
  pageFrames(streamKey: bigint, pageIndex: number): Float32Array | undefined {
    const record = this.page(streamKey, pageIndex);
    if (!record?.valid || record.seq === 0 || record.seq % 2 === 1) return undefined;
    let data = this.#data.get(record.slot);
    if (!data) {
      const samples = this.layout.framesPerPage * this.layout.channels;
      const fd = openSync(this.path, "r");
      try {
        const bytes = readExactly(
          fd,
          samples * 4,
          this.layout.dataOffset + record.slot * this.layout.pageBytes,
        );
        data = new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
      } finally {
        closeSync(fd);
      }
      this.#data.set(record.slot, data);
    }
    return data;
  }
}
