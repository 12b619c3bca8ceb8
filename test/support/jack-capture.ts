// Test support: runs test/support/jack-capture.cpp (built on demand) as a second JACK client that records what
// given ports play. Callers: test/audio/jack*.test.ts.
import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { type JackServer, toolEnv } from "./jack";
import { compileNative } from "./native-build";

export async function buildJackCapture(): Promise<string> {
  return compileNative({
    name: "jack-capture",
    sources: ["test/support/jack-capture.cpp"],
    flags: ["-std=c++17", "-O2", "-Wall", "-Werror"],
    libs: ["-ljack", "-pthread"],
  });
}

export interface Capture {
  /** Resolves once the capture client's ports are connected and it records. */
  connected: Promise<void>;
  /** Resolves with the interleaved frames once `frames` frames are recorded. */
  done: Promise<Float32Array>;
  child: ChildProcess;
}

export async function startCapture(
  server: JackServer,
  options: { clientName: string; outPath: string; frames: number; sourcePorts: string[] },
): Promise<Capture> {
  const tool = await buildJackCapture();
  const child = spawn(
    tool,
    [options.clientName, options.outPath, String(options.frames), ...options.sourcePorts],
    {
      env: toolEnv(server.env),
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
  let stdout = "";
  let stderr = "";
  let onConnected: () => void = () => {};
  const connected = new Promise<void>((resolve) => {
    onConnected = resolve;
  });
  child.stdout?.on("data", (chunk: Buffer) => {
    stdout += chunk.toString();
    if (stdout.includes("connected")) onConnected();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    stderr += chunk.toString();
  });
  const done = new Promise<Float32Array>((resolve, reject) => {
    child.on("error", reject);
    child.on("exit", (code) => {
      if (code !== 0) {
        reject(new Error(`jack-capture exited with ${code}: ${stderr.trim()} ${stdout.trim()}`));
        return;
      }
      const bytes = readFileSync(options.outPath);
      resolve(new Float32Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength)));
    });
  });
  // A capture that fails before connecting must not leave `connected` pending forever.
  const connectedOrFailed = Promise.race([connected, done.then(() => undefined)]);
  return { connected: connectedOrFailed, done, child };
}
