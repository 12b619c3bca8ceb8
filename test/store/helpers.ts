// Shared helpers of the store tests: temporary library folders and running child processes under tsx.
import { spawn } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const REPO = resolve(import.meta.dirname, "..", "..");

export async function tempDir(prefix: string): Promise<{ path: string; remove: () => Promise<void> }> {
  const path = await mkdtemp(join(tmpdir(), `lc-${prefix}-`));
  return { path, remove: () => rm(path, { recursive: true, force: true }) };
}

export interface ChildResult {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

export function runNode(args: string[], env: Record<string, string> = {}): Promise<ChildResult> {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...env } });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString();
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString();
    });
    child.on("error", reject);
    child.on("close", (code, signal) => resolvePromise({ code, signal, stdout, stderr }));
  });
}

export function runCli(args: string[], env: Record<string, string> = {}): Promise<ChildResult> {
  return runNode([join(REPO, "bin", "lcanvas.mjs"), ...args], env);
}

export function runTs(script: string, args: string[]): Promise<ChildResult> {
  return runNode(["--import", "tsx", join(REPO, "test", "store", "fixtures", script), ...args]);
}
