// Test support: runs the real `lcanvas` CLI (bin/lcanvas.mjs) as a child process and collects its output.
// Callers: tests that exercise commands end to end.
import { execFile } from "node:child_process";
import { join } from "node:path";
import { REPO_ROOT } from "./native-build";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function runCli(
  args: string[],
  env: NodeJS.ProcessEnv = process.env,
  timeoutMs = 60_000,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(REPO_ROOT, "bin", "lcanvas.mjs"), ...args],
      { env, cwd: REPO_ROOT, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}
