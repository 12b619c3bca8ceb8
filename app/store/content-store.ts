// The content store: immutable bytes named by their hash under `<root>/objects/<first 2>/<rest>`. Owns writing
// (atomic, idempotent, safe with concurrent writers), reading, listing and verifying objects. Garbage collection
// is in ./gc.ts. Callers: app/store/index.ts factories; importers and projections through `ContentStore`.
import { randomBytes } from "node:crypto";
import { constants as fsConstants } from "node:fs";
import { mkdir, open, readdir, readFile, rename, stat, unlink, utimes } from "node:fs/promises";
import { join } from "node:path";
import { StoreError } from "./errors";
import { hashBytes, isContentHash, StreamingHash } from "./hash";
import type { ContentHash, ContentStore } from "./types";

/** Size of the reusable buffer that files stream through (hash and copy in one pass). */
export const STREAM_CHUNK_BYTES = 1 << 20;

export const OBJECTS_DIR = "objects";
export const TEMP_DIR = "tmp";
export const TRASH_DIR = "trash";
export const DAMAGED_DIR = "damaged";
export const ROOTS_DIR = "roots";

export interface DamagedObject {
  readonly hash: ContentHash;
  readonly path: string;
  /** Hash of the bytes actually found, or null when the file could not be read. */
  readonly actualHash: ContentHash | null;
  readonly problem: string;
  /** Where the object was moved when `quarantine` was asked, else null. */
  readonly movedTo: string | null;
}

export interface VerifyReport {
  readonly checked: number;
  readonly checkedBytes: number;
  readonly damaged: readonly DamagedObject[];
  /** Files inside objects/ whose names are not content hashes (left alone). */
  readonly strays: readonly string[];
  /** What to do about the damage, or null when there is none. */
  readonly advice: string | null;
}

export interface VerifyOptions {
  /** Move damaged objects to `<root>/damaged/` so the next `put` of the right bytes rewrites them. */
  readonly quarantine?: boolean;
  readonly onProgress?: (checked: number) => void;
}

function assertHash(hash: string): asserts hash is ContentHash {
  if (!isContentHash(hash)) {
    throw new StoreError(
      "bad-hash",
      `"${hash}" is not a content hash: expected 32 lowercase hex characters (BLAKE3-128), e.g. af1349b9f5f9a1a6a0404dea36dcc949.`,
    );
  }
}

const UNUSABLE_ROOT: Readonly<Record<string, string>> = {
  ENOTDIR: "it, or a folder on its path, is a file",
  EEXIST: "it, or a folder on its path, is a file",
  EACCES: "no permission to create or write its folders",
  EPERM: "no permission to create or write its folders",
  EROFS: "it is on a read-only file system",
};

function errnoCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error
    ? String((error as NodeJS.ErrnoException).code)
    : undefined;
}

async function fsyncDir(path: string): Promise<void> {
  const handle = await open(path, fsConstants.O_RDONLY | fsConstants.O_DIRECTORY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export class LocalContentStore implements ContentStore {
  readonly root: string;
  readonly #objects: string;
  readonly #temp: string;
  readonly #knownFanout = new Set<string>();

  constructor(root: string) {
    this.root = root;
    this.#objects = join(root, OBJECTS_DIR);
    this.#temp = join(root, TEMP_DIR);
  }

  /** Creates the folders of a store (idempotent). */
  async init(): Promise<void> {
    try {
      await mkdir(this.#objects, { recursive: true });
      await mkdir(this.#temp, { recursive: true });
      await mkdir(join(this.root, ROOTS_DIR), { recursive: true });
    } catch (error) {
      const code = errnoCode(error);
      const why = code === undefined ? undefined : UNUSABLE_ROOT[code];
      if (why === undefined) throw error;
      throw new StoreError(
        "unusable-library",
        `cannot use ${this.root} as a library: ${why} (${code}). Pass --store DIR (or set LCANVAS_STORE) to a folder you can write, or fix the path or its permissions.`,
      );
    }
  }

  pathOf(hash: ContentHash): string {
    assertHash(hash);
    return join(this.#objects, hash.slice(0, 2), hash.slice(2));
  }

  async has(hash: ContentHash): Promise<boolean> {
    try {
      return (await stat(this.pathOf(hash))).isFile();
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return false;
      throw error;
    }
  }

  async get(hash: ContentHash): Promise<Uint8Array> {
    const path = this.pathOf(hash);
    let bytes: Buffer;
    try {
      bytes = await readFile(path);
    } catch (error) {
      if (errnoCode(error) === "ENOENT") {
        throw new StoreError(
          "missing-object",
          `object ${hash} is not in the content store at ${this.root}. Import the source again, or point --store (LCANVAS_STORE) at the library that holds it.`,
        );
      }
      throw error;
    }
    const actual = hashBytes(bytes);
    if (actual !== hash) {
      throw new StoreError(
        "damaged-object",
        `object ${hash} at ${path} is damaged (its bytes hash to ${actual}). Run "lcanvas store verify --quarantine", then import the source again.`,
      );
    }
    return new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  async put(bytes: Uint8Array): Promise<ContentHash> {
    const hash = hashBytes(bytes);
    if (await this.#refresh(hash)) return hash;
    const temp = await this.#tempFile();
    try {
      const handle = await open(temp, "wx", 0o444);
      try {
        await handle.writeFile(bytes);
        await handle.sync();
      } finally {
        await handle.close();
      }
      await this.#publish(temp, hash);
    } catch (error) {
      await unlink(temp).catch(() => undefined);
      throw error;
    }
    return hash;
  }

  async putFile(path: string): Promise<ContentHash> {
    const source = await open(path, "r").catch((error: unknown) => {
      if (errnoCode(error) === "ENOENT") {
        throw new StoreError("missing-object", `cannot store ${path}: no such file. Check the path.`);
      }
      throw error;
    });
    try {
      if (!(await source.stat()).isFile()) {
        throw new StoreError(
          "missing-object",
          `cannot store ${path}: it is not a file (a folder?). Give a file.`,
        );
      }
      const buffer = Buffer.allocUnsafe(STREAM_CHUNK_BYTES);
      // Pass 1 hashes only: content already stored (a re-import) costs one read and no write.
      const first = new StreamingHash();
      for (let position = 0; ; ) {
        const { bytesRead } = await source.read(buffer, 0, buffer.byteLength, position);
        if (bytesRead === 0) break;
        first.update(buffer.subarray(0, bytesRead));
        position += bytesRead;
      }
      const hash = first.digest();
      if (await this.#refresh(hash)) return hash;
      // Pass 2 copies and hashes again, so a file changed in between is caught rather than stored misnamed.
      const temp = await this.#tempFile();
      try {
        const second = new StreamingHash();
        const target = await open(temp, "wx", 0o444);
        try {
          for (let position = 0; ; ) {
            const { bytesRead } = await source.read(buffer, 0, buffer.byteLength, position);
            if (bytesRead === 0) break;
            const chunk = buffer.subarray(0, bytesRead);
            second.update(chunk);
            let written = 0;
            while (written < bytesRead) {
              written += (await target.write(chunk, written, bytesRead - written)).bytesWritten;
            }
            position += bytesRead;
          }
          await target.sync();
        } finally {
          await target.close();
        }
        if (second.digest() !== hash) {
          throw new StoreError(
            "bad-hash",
            `${path} changed while it was being stored (it hashed differently on two reads). Wait until nothing writes to it, then import it again.`,
          );
        }
        await this.#publish(temp, hash);
      } catch (error) {
        await unlink(temp).catch(() => undefined);
        throw error;
      }
      return hash;
    } finally {
      await source.close();
    }
  }

  /** Every object hash in the store (names that are not hashes are skipped; `verify` reports them). */
  async *list(): AsyncGenerator<ContentHash> {
    for (const entry of await this.#fanoutDirs()) {
      for (const name of await readdir(join(this.#objects, entry)).catch(() => [] as string[])) {
        const hash = entry + name;
        if (isContentHash(hash)) yield hash;
      }
    }
  }

  /** Re-hashes every object (streaming) and reports the damaged ones. */
  async verify(options: VerifyOptions = {}): Promise<VerifyReport> {
    const damaged: DamagedObject[] = [];
    const strays: string[] = [];
    let checked = 0;
    let checkedBytes = 0;
    const buffer = Buffer.allocUnsafe(STREAM_CHUNK_BYTES);
    for (const entry of await this.#fanoutDirs(strays)) {
      for (const name of await readdir(join(this.#objects, entry))) {
        const path = join(this.#objects, entry, name);
        const hash = entry + name;
        if (!isContentHash(hash)) {
          strays.push(path);
          continue;
        }
        let actualHash: ContentHash | null = null;
        let problem: string | null = null;
        try {
          const hasher = new StreamingHash();
          const handle = await open(path, "r");
          try {
            for (;;) {
              const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null);
              if (bytesRead === 0) break;
              hasher.update(buffer.subarray(0, bytesRead));
            }
          } finally {
            await handle.close();
          }
          actualHash = hasher.digest();
          checkedBytes += hasher.bytes;
          if (actualHash !== hash) problem = `its bytes hash to ${actualHash} (${hasher.bytes} bytes)`;
        } catch (error) {
          if (errnoCode(error) === "ENOENT") continue; // removed meanwhile (gc): not damage
          problem = `it cannot be read (${error instanceof Error ? error.message : String(error)})`;
        }
        checked += 1;
        options.onProgress?.(checked);
        if (problem !== null) {
          let movedTo: string | null = null;
          if (options.quarantine) {
            const dir = join(this.root, DAMAGED_DIR);
            await mkdir(dir, { recursive: true });
            movedTo = join(dir, `${hash}.${Date.now()}`);
            await rename(path, movedTo);
          }
          damaged.push({ hash, path, actualHash, problem, movedTo });
        }
      }
    }
    const advice =
      damaged.length === 0
        ? null
        : options.quarantine
          ? `Moved ${damaged.length} damaged object(s) to ${join(this.root, DAMAGED_DIR)}. Import their sources again (the next put of the right bytes stores them afresh); artifacts that point at them stay in the graph.`
          : `Run "lcanvas store verify --quarantine" to move the damaged object(s) aside, then import their sources again; until then reading them fails with this same error.`;
    return { checked, checkedBytes, damaged, strays, advice };
  }

  /** Marks an existing object as just written (gc's grace period protects it); false when it does not exist. */
  async #refresh(hash: ContentHash): Promise<boolean> {
    const now = new Date();
    try {
      await utimes(this.pathOf(hash), now, now);
      return true;
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return false;
      throw error;
    }
  }

  async #tempFile(): Promise<string> {
    await mkdir(this.#temp, { recursive: true });
    return join(this.#temp, `${process.pid}.${randomBytes(8).toString("hex")}.part`);
  }

  async #publish(temp: string, hash: ContentHash): Promise<void> {
    const fanout = hash.slice(0, 2);
    const dir = join(this.#objects, fanout);
    if (!this.#knownFanout.has(fanout)) {
      await mkdir(dir, { recursive: true });
      await fsyncDir(this.#objects);
      this.#knownFanout.add(fanout);
    }
    try {
      await rename(temp, this.pathOf(hash));
    } catch (error) {
      if (errnoCode(error) !== "ENOENT") throw error;
      // The fan-out folder vanished (removed by hand): create it again once.
      await mkdir(dir, { recursive: true });
      await rename(temp, this.pathOf(hash));
    }
    await fsyncDir(dir);
  }

  async #fanoutDirs(strays?: string[]): Promise<string[]> {
    let entries: string[];
    try {
      entries = await readdir(this.#objects);
    } catch (error) {
      if (errnoCode(error) === "ENOENT") return [];
      throw error;
    }
    const dirs: string[] = [];
    for (const entry of entries.sort()) {
      if (/^[0-9a-f]{2}$/.test(entry)) dirs.push(entry);
      else strays?.push(join(this.#objects, entry));
    }
    return dirs;
  }
}
