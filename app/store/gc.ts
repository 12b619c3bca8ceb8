// Garbage collection of the content store: mark (graph hashes, root files, project folders), then sweep objects
// that nothing references and that are older than the grace period. Crash-safe at every step; the protocol is
// described in docs/store.md. Callers: app/store/index.ts (`collectGarbage`) and the CLI.
import { mkdir, open, readdir, readFile, rename, rmdir, stat, unlink, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { type LocalContentStore, ROOTS_DIR, TEMP_DIR, TRASH_DIR } from "./content-store";
import { StoreError } from "./errors";
import { isContentHash } from "./hash";
import type { ContentHash } from "./types";

export const DEFAULT_GRACE_MS = 60 * 60 * 1000;
const LOCK_DIR = "gc.lock";
const SCAN_CHUNK_BYTES = 1 << 20;
const SKIPPED_PROJECT_DIRS = new Set(["objects", "trash", "tmp", "damaged", "node_modules", ".git"]);

export interface GcOptions {
  /** Hashes the artifact graph names (read once, before the sweep). */
  readonly graphHashes: ReadonlySet<ContentHash>;
  /** Project folders whose files are scanned for hashes (every 32-hex word counts). */
  readonly projectDirs?: readonly string[];
  /** Objects written or re-put within this many ms before gc started are kept. Default one hour. */
  readonly graceMs?: number;
  readonly dryRun?: boolean;
  readonly onEvent?: (event: GcEvent) => void;
}

export type GcEvent =
  | { readonly kind: "recovered"; readonly hash: ContentHash }
  | { readonly kind: "marked"; readonly referenced: number }
  | { readonly kind: "removed"; readonly hash: ContentHash; readonly bytes: number }
  | { readonly kind: "kept-young"; readonly hash: ContentHash };

export interface GcReport {
  readonly scanned: number;
  readonly referenced: number;
  readonly kept: number;
  readonly keptYoung: number;
  readonly removed: readonly ContentHash[];
  readonly removedBytes: number;
  /** Hashes the graph or a root file names whose objects are absent (the sources need importing again). */
  readonly missing: readonly ContentHash[];
  /** Objects a crashed earlier gc had moved to trash/ and this run put back. */
  readonly recovered: number;
  readonly staleTempFilesRemoved: number;
  readonly dryRun: boolean;
}

function errnoCode(error: unknown): string | undefined {
  return error instanceof Error && "code" in error
    ? String((error as NodeJS.ErrnoException).code)
    : undefined;
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return errnoCode(error) === "EPERM";
  }
}

async function acquireLock(root: string): Promise<() => Promise<void>> {
  const dir = join(root, LOCK_DIR);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await mkdir(dir);
      await writeFile(join(dir, "pid"), String(process.pid));
      return async () => {
        await unlink(join(dir, "pid")).catch(() => undefined);
        await rmdir(dir).catch(() => undefined);
      };
    } catch (error) {
      if (errnoCode(error) !== "EEXIST") throw error;
      const pid = Number(await readFile(join(dir, "pid"), "utf8").catch(() => "NaN"));
      const ageMs = Date.now() - (await stat(dir).catch(() => ({ mtimeMs: Date.now() }))).mtimeMs;
      const stale = Number.isInteger(pid) ? !processAlive(pid) : ageMs > 60_000;
      if (!stale) {
        throw new StoreError(
          "graph-locked",
          `another gc is running on ${root} (lock ${dir}${Number.isInteger(pid) ? `, pid ${pid}` : ""}). Wait for it to finish; if no gc is running, remove ${dir} and retry.`,
        );
      }
      await unlink(join(dir, "pid")).catch(() => undefined);
      await rmdir(dir).catch(() => undefined);
    }
  }
  throw new StoreError(
    "graph-locked",
    `could not take the gc lock ${dir}. Remove it if no gc is running, and retry.`,
  );
}

/** Reads `<root>/roots/*`: one hash per line, `#` starts a comment. A malformed line stops gc (deletes nothing). */
export async function readRootFiles(root: string): Promise<Set<ContentHash>> {
  const dir = join(root, ROOTS_DIR);
  const hashes = new Set<ContentHash>();
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return hashes;
    throw error;
  }
  for (const name of names.sort()) {
    if (name.startsWith(".")) continue;
    const path = join(dir, name);
    const lines = (await readFile(path, "utf8")).split("\n");
    lines.forEach((raw, index) => {
      const line = raw.replace(/#.*/, "").trim();
      if (line === "") return;
      if (!isContentHash(line)) {
        throw new StoreError(
          "bad-root",
          `root file ${path} line ${index + 1}: "${raw.trim()}" is not a content hash. Fix or remove that line (one 32-hex hash per line, # for comments); gc deleted nothing.`,
        );
      }
      hashes.add(line);
    });
  }
  return hashes;
}

/** Registers the hashes an open project needs, atomically (`<root>/roots/<name>`); returns the file's path. */
export async function writeRootFile(
  root: string,
  name: string,
  hashes: Iterable<ContentHash>,
): Promise<string> {
  if (!/^[A-Za-z0-9_.-]{1,128}$/.test(name) || name.startsWith(".")) {
    throw new StoreError(
      "bad-root",
      `root name "${name}" must be 1-128 letters, digits, _ . - (not starting with ".").`,
    );
  }
  const lines: string[] = [];
  for (const hash of hashes) {
    if (!isContentHash(hash))
      throw new StoreError("bad-root", `"${hash}" is not a content hash; root file not written.`);
    lines.push(hash);
  }
  const dir = join(root, ROOTS_DIR);
  await mkdir(dir, { recursive: true });
  const path = join(dir, name);
  const temp = join(dir, `.${name}.${process.pid}.tmp`);
  const handle = await open(temp, "w");
  try {
    await handle.writeFile(`${lines.join("\n")}\n`);
    await handle.sync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
  return path;
}

export async function removeRootFile(root: string, name: string): Promise<void> {
  await unlink(join(root, ROOTS_DIR, name)).catch((error: unknown) => {
    if (errnoCode(error) !== "ENOENT") throw error;
  });
}

async function scanFileForHashes(path: string, into: Set<ContentHash>): Promise<void> {
  const handle = await open(path, "r");
  try {
    const buffer = Buffer.allocUnsafe(SCAN_CHUNK_BYTES);
    let carry = "";
    for (;;) {
      const { bytesRead } = await handle.read(buffer, 0, buffer.byteLength, null);
      if (bytesRead === 0) break;
      const textChunk = carry + buffer.toString("latin1", 0, bytesRead).toLowerCase();
      for (const match of textChunk.matchAll(/(?<![0-9a-f])[0-9a-f]{32}(?![0-9a-f])/g)) into.add(match[0]);
      carry = textChunk.slice(-33);
    }
  } finally {
    await handle.close();
  }
}

/** Every 32-hex word in the files of a project folder (store folders inside it are skipped). */
export async function scanProjectDir(
  dir: string,
  into: Set<ContentHash> = new Set(),
): Promise<Set<ContentHash>> {
  let info: Awaited<ReturnType<typeof stat>>;
  try {
    info = await stat(dir);
  } catch {
    throw new StoreError(
      "bad-root",
      `project folder ${dir} does not exist. Check the --project path; gc deleted nothing.`,
    );
  }
  if (info.isFile()) {
    await scanFileForHashes(dir, into);
    return into;
  }
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!SKIPPED_PROJECT_DIRS.has(entry.name)) await scanProjectDir(path, into);
    } else if (entry.isFile()) {
      await scanFileForHashes(path, into);
    }
  }
  return into;
}

async function recoverTrash(store: LocalContentStore, onEvent: GcOptions["onEvent"]): Promise<number> {
  const trash = join(store.root, TRASH_DIR);
  let names: string[];
  try {
    names = await readdir(trash);
  } catch (error) {
    if (errnoCode(error) === "ENOENT") return 0;
    throw error;
  }
  let recovered = 0;
  for (const name of names) {
    const path = join(trash, name);
    if (!isContentHash(name)) continue;
    if (await store.has(name)) {
      await unlink(path);
    } else {
      await rename(path, store.pathOf(name));
      recovered += 1;
      onEvent?.({ kind: "recovered", hash: name });
    }
  }
  return recovered;
}

async function removeStaleTempFiles(root: string, cutoffMs: number, dryRun: boolean): Promise<number> {
  const dir = join(root, TEMP_DIR);
  let removed = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const path = join(dir, name);
    const info = await stat(path).catch(() => null);
    if (info?.isFile() && info.mtimeMs < cutoffMs) {
      if (!dryRun) await unlink(path).catch(() => undefined);
      removed += 1;
    }
  }
  return removed;
}

/**
 * Removes objects nothing references. An object is moved to trash/ first and then checked again: a writer that
 * re-put it (touching its mtime) before the move is seen and the object goes back; a writer after the move
 * finds it absent and writes it afresh. A crash leaves at most trash/ entries, which the next gc puts back.
 */
export async function collectGarbage(store: LocalContentStore, options: GcOptions): Promise<GcReport> {
  const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
  if (!Number.isFinite(graceMs) || graceMs < 0) {
    throw new StoreError("bad-root", `the grace period must be 0 or more milliseconds (got ${graceMs}).`);
  }
  const dryRun = options.dryRun ?? false;
  const onEvent = options.onEvent;
  const release = await acquireLock(store.root);
  try {
    const recovered = await recoverTrash(store, onEvent);
    const cutoffMs = Date.now() - graceMs;
    const marked = new Set<ContentHash>(options.graphHashes);
    const declared = new Set<ContentHash>(options.graphHashes);
    for (const hash of await readRootFiles(store.root)) {
      marked.add(hash);
      declared.add(hash);
    }
    for (const dir of options.projectDirs ?? []) await scanProjectDir(dir, marked);
    onEvent?.({ kind: "marked", referenced: marked.size });

    const trash = join(store.root, TRASH_DIR);
    await mkdir(trash, { recursive: true });
    const removed: ContentHash[] = [];
    let removedBytes = 0;
    let scanned = 0;
    let kept = 0;
    let keptYoung = 0;
    const present = new Set<ContentHash>();
    for await (const hash of store.list()) {
      scanned += 1;
      present.add(hash);
      if (marked.has(hash)) {
        kept += 1;
        continue;
      }
      const path = store.pathOf(hash);
      const before = await stat(path).catch(() => null);
      if (before === null) continue;
      if (before.mtimeMs >= cutoffMs) {
        keptYoung += 1;
        onEvent?.({ kind: "kept-young", hash });
        continue;
      }
      if (dryRun) {
        removed.push(hash);
        removedBytes += before.size;
        continue;
      }
      const trashed = join(trash, hash);
      try {
        await rename(path, trashed);
      } catch (error) {
        if (errnoCode(error) === "ENOENT") continue;
        throw error;
      }
      const after = await stat(trashed);
      if (after.mtimeMs >= cutoffMs) {
        await rename(trashed, path);
        keptYoung += 1;
        onEvent?.({ kind: "kept-young", hash });
        continue;
      }
      await unlink(trashed);
      removed.push(hash);
      removedBytes += after.size;
      onEvent?.({ kind: "removed", hash, bytes: after.size });
    }
    const missing = [...declared].filter((hash) => !present.has(hash)).sort();
    const staleTempFilesRemoved = await removeStaleTempFiles(store.root, cutoffMs, dryRun);
    return {
      scanned,
      referenced: marked.size,
      kept,
      keptYoung,
      removed,
      removedBytes,
      missing,
      recovered,
      staleTempFilesRemoved,
      dryRun,
    };
  } finally {
    await release();
  }
}
