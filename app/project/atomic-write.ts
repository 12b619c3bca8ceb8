// Atomic file replacement: write a temp file in the target's directory, fsync it, rename it over the target,
// fsync the directory. A crash at any moment leaves either the old or the new file, never a mix.
// Owned by app/project; used for the project document and its autosave. Protocol: docs/project-format.md.
import { randomBytes } from "node:crypto";
import { type FileHandle, open, readdir, rename, unlink } from "node:fs/promises";
import { basename, dirname, join } from "node:path";

const inFlight = new Set<string>();

function tempPrefix(target: string): string {
  return `.${basename(target)}.`;
}

/** True for names of temp files that writeFileAtomic makes for `target`. */
export function isTempFor(target: string, name: string): boolean {
  return name.startsWith(tempPrefix(target)) && name.endsWith(".tmp");
}

async function fsyncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * A temp file beside `target` that replaces it atomically and durably on commit(): for files written piece by
 * piece (a bounce streams its mix), too large to hold in memory first. abort() (or any failure) removes it.
 */
export class AtomicFile {
  readonly target: string;
  readonly temp: string;
  readonly handle: FileHandle;
  #done = false;

  private constructor(target: string, temp: string, handle: FileHandle) {
    this.target = target;
    this.temp = temp;
    this.handle = handle;
  }

  static async open(target: string): Promise<AtomicFile> {
    const temp = join(
      dirname(target),
      `${tempPrefix(target)}${process.pid}-${randomBytes(6).toString("hex")}.tmp`,
    );
    inFlight.add(temp);
    try {
      return new AtomicFile(target, temp, await open(temp, "wx", 0o644));
    } catch (error) {
      inFlight.delete(temp);
      throw error;
    }
  }

  /** Flushes the temp file to disk and renames it over the target (then flushes the directory). */
  async commit(): Promise<void> {
    if (this.#done) throw new Error(`${this.target} was already committed or aborted`);
    this.#done = true;
    try {
      try {
        await this.handle.sync();
      } finally {
        await this.handle.close();
      }
      await rename(this.temp, this.target);
    } catch (error) {
      await unlink(this.temp).catch(() => undefined);
      throw error;
    } finally {
      inFlight.delete(this.temp);
    }
    await fsyncDirectory(dirname(this.target));
  }

  /** Removes the temp file; the target is left as it was. */
  async abort(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.handle.close().catch(() => undefined);
    await unlink(this.temp).catch(() => undefined);
    inFlight.delete(this.temp);
  }
}

/** Replaces `target` with `data` atomically and durably. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const file = await AtomicFile.open(target);
  try {
    await file.handle.writeFile(data);
  } catch (error) {
    await file.abort();
    throw error;
  }
  await file.commit();
}

/** Deletes temp files left for `target` by an interrupted write (not those this process is writing now). */
export async function removeStaleTemps(target: string): Promise<string[]> {
  const dir = dirname(target);
  const removed: string[] = [];
  for (const name of await readdir(dir)) {
    const path = join(dir, name);
    if (!isTempFor(target, name) || inFlight.has(path)) continue;
    try {
      await unlink(path);
      removed.push(name);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
    }
  }
  return removed;
}
