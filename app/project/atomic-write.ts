// Atomic file replacement: write a temp file in the target's directory, fsync it, rename it over the target,
// fsync the directory. A crash at any moment leaves either the old or the new file, never a mix.
// Owned by app/project; used for the project document and its autosave. Protocol: docs/project-format.md.
import { randomBytes } from "node:crypto";
import { open, readdir, rename, unlink } from "node:fs/promises";
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

/** Replaces `target` with `data` atomically and durably. */
export async function writeFileAtomic(target: string, data: string | Uint8Array): Promise<void> {
  const dir = dirname(target);
  const temp = join(dir, `${tempPrefix(target)}${process.pid}-${randomBytes(6).toString("hex")}.tmp`);
  inFlight.add(temp);
  try {
    const handle = await open(temp, "wx", 0o644);
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, target);
  } catch (error) {
    await unlink(temp).catch(() => undefined);
    throw error;
  } finally {
    inFlight.delete(temp);
  }
  await fsyncDirectory(dir);
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
