// Test support: a real JACK server (jackd with its dummy backend) under a unique server name, for tests that
// play through the rtaudio driver. Owned by the audio tests; any test may call startJack() or useJackServer().
// A machine where JACK cannot start fails the test with what to install or what went wrong; it never skips.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll } from "vitest";

export interface JackOptions {
  /** Server name; default: a fresh `lc-test-<pid>-<n>` so parallel tests and a developer's own server never collide. */
  name?: string;
  sampleRate?: number;
  periodFrames?: number;
  /** jackd backend; default "dummy" (no sound card needed). */
  backend?: string;
  /** Milliseconds to wait until the server answers; default 10 000. */
  readyTimeoutMs?: number;
}

export interface JackServer {
  readonly name: string;
  readonly sampleRate: number;
  readonly periodFrames: number;
  readonly pid: number;
  /** Environment for clients of this server: JACK_DEFAULT_SERVER=name, JACK_NO_START_SERVER=1. */
  readonly env: NodeJS.ProcessEnv;
  /** What jackd printed so far (for failure messages). */
  log(): string;
  /** True while the jackd process has not exited. */
  running(): boolean;
  /** SIGTERM, wait for exit, SIGKILL after `timeoutMs` (default 5 000). Safe to call twice. */
  stop(timeoutMs?: number): Promise<void>;
  /** SIGKILL at once (a crashed server), and wait for the process to be gone. */
  kill(): Promise<void>;
}

let serial = 0;

// Servers this process started and has not stopped: asked to quit (SIGTERM, so they leave JACK's server registry
// clean) when the process exits, so a test worker torn down before its afterAll ran never leaves a jackd behind.
const live = new Set<ChildProcess>();
let exitHookInstalled = false;
function trackServer(child: ChildProcess): void {
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once("exit", () => {
      for (const c of live) c.kill("SIGTERM");
    });
  }
}

const INSTALL_HINT =
  "JACK is needed for the audio tests: install Debian's jackd2 (scripts/setup.sh does it: " +
  "`echo 'jackd2 jackd/tweak_rt_limits boolean false' | debconf-set-selections && apt-get install jackd2`).";

/** The environment for JACK's own programs: without a test's LD_PRELOAD (rt-guard, ASan), which is for node only. */
export function toolEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const { LD_PRELOAD: _preload, ...rest } = env;
  return rest;
}

function run(
  file: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: toolEnv(env), timeout: 5_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

export function jackClientEnv(name: string, base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  return { ...base, JACK_DEFAULT_SERVER: name, JACK_NO_START_SERVER: "1" };
}

/** Ports of the server as `jack_lsp` lists them. */
export async function jackPorts(server: JackServer): Promise<string[]> {
  const result = await run("jack_lsp", ["-s", server.name], server.env);
  if (result.code !== 0) throw new Error(`jack_lsp -s ${server.name} failed: ${result.stderr.trim()}`);
  return result.stdout
    .split("\n")
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

/** Connects two ports with `jack_connect`; throws with jack_connect's message when it fails. */
export async function jackConnect(server: JackServer, from: string, to: string): Promise<void> {
  const result = await run("jack_connect", ["-s", server.name, from, to], server.env);
  if (result.code !== 0) {
    throw new Error(`jack_connect ${from} ${to} on server ${server.name} failed: ${result.stderr.trim()}`);
  }
}

export async function jackDisconnect(server: JackServer, from: string, to: string): Promise<void> {
  const result = await run("jack_disconnect", ["-s", server.name, from, to], server.env);
  if (result.code !== 0) {
    throw new Error(`jack_disconnect ${from} ${to} on server ${server.name} failed: ${result.stderr.trim()}`);
  }
}

/** Waits until `predicate` holds, polling every `intervalMs`; throws `message()` after `timeoutMs`. */
export async function waitFor(
  predicate: () => boolean | Promise<boolean>,
  timeoutMs: number,
  message: () => string,
  intervalMs = 20,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > deadline) throw new Error(message());
    await sleep(intervalMs);
  }
}

/**
 * JACK keeps a registry of at most 8 servers and reclaims a dead server's entry only when a server of the same name
 * starts again; a SIGKILLed server (the fallback tests kill theirs on purpose) leaves its entry behind. This starts
 * and cleanly stops a server of that name, which clears the entry.
 */
export async function reclaimServerName(name: string): Promise<void> {
  const probe = await run("jack_lsp", ["-s", name], jackClientEnv(name));
  if (probe.code === 0) return; // a live server owns the name
  const child = spawn("jackd", ["-n", name, "-d", "dummy", "-r", "48000", "-p", "256"], {
    env: { ...toolEnv(process.env), JACK_NO_AUDIO_RESERVATION: "1" },
    stdio: "ignore",
  });
  const done = exited(child);
  const deadline = Date.now() + 5_000;
  while (Date.now() < deadline && child.exitCode === null) {
    if ((await run("jack_lsp", ["-s", name], jackClientEnv(name))).code === 0) break;
    await sleep(50);
  }
  child.kill("SIGTERM");
  const timedOut = await Promise.race([done.then(() => false), sleep(5_000).then(() => true)]);
  if (timedOut) {
    child.kill("SIGKILL");
    await done;
  }
}

/** Clears registry entries of dead test servers (names starting "lc-") of this user. */
export async function reclaimStaleTestServers(): Promise<void> {
  let registry: string;
  try {
    registry = readFileSync("/dev/shm/jack-shm-registry", "latin1");
  } catch {
    return;
  }
  const uid = process.getuid?.() ?? 0;
  const names = new Set<string>();
  for (const match of registry.matchAll(/jack-(\d+):(lc-[A-Za-z0-9_.-]+):/g)) {
    if (Number(match[1]) === uid) names.add(match[2]!);
  }
  for (const name of names) await reclaimServerName(name);
}

/**
 * Starts `jackd -n NAME -d dummy` and resolves once `jack_lsp -s NAME` answers. When JACK says too many servers
 * are active (other test files hold theirs), retries for up to 60 s.
 */
export async function startJack(options: JackOptions = {}): Promise<JackServer> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await startJackOnce(options);
    } catch (error) {
      const busy = error instanceof Error && error.message.includes("Too many servers already active");
      if (!busy || Date.now() > deadline) throw error;
      await reclaimStaleTestServers();
      await sleep(250 + Math.random() * 500);
    }
  }
}

async function startJackOnce(options: JackOptions): Promise<JackServer> {
  serial += 1;
  const name = options.name ?? `lc-test-${process.pid}-${serial}`;
  const sampleRate = options.sampleRate ?? 48_000;
  const periodFrames = options.periodFrames ?? 256;
  const readyTimeoutMs = options.readyTimeoutMs ?? 10_000;
  const env = jackClientEnv(name);
  const backend = options.backend ?? "dummy";
  const args = [
    "-n",
    name,
    "-R",
    "-P",
    "70",
    "-d",
    backend,
    "-r",
    String(sampleRate),
    "-p",
    String(periodFrames),
  ];
  const already = await run("jack_lsp", ["-s", name], env);
  if (already.code === 0) {
    throw new Error(`a JACK server named ${name} is already running: stop it or choose another name`);
  }
  let output = "";
  let spawnError: Error | undefined;
  let killed = false;
  let reclaimed = false;
  const child = spawn("jackd", args, {
    env: { ...toolEnv(process.env), JACK_NO_AUDIO_RESERVATION: "1" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.on("error", (error) => {
    spawnError = error;
  });
  trackServer(child);
  child.stdout?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });
  child.stderr?.on("data", (chunk: Buffer) => {
    output += chunk.toString();
  });

  const server: JackServer = {
    name,
    sampleRate,
    periodFrames,
    pid: child.pid ?? -1,
    env,
    log: () => output,
    running: () => child.exitCode === null && child.signalCode === null && spawnError === undefined,
    async stop(timeoutMs = 5_000) {
      if (!server.running()) {
        // Killed (here or by a test): its registry entry is left behind; clear it once.
        if (killed || child.signalCode === "SIGKILL") {
          killed = false;
          if (!reclaimed) await reclaimServerName(name);
          reclaimed = true;
        }
        return;
      }
      child.kill("SIGTERM");
      const done = exited(child);
      const timedOut = await Promise.race([done.then(() => false), sleep(timeoutMs).then(() => true)]);
      if (timedOut) {
        child.kill("SIGKILL");
        await done;
      }
    },
    async kill() {
      if (!server.running()) return;
      killed = true;
      child.kill("SIGKILL");
      await exited(child);
    },
  };

  try {
    await waitFor(
      async () => {
        if (spawnError) {
          const code = (spawnError as NodeJS.ErrnoException).code;
          throw new Error(
            code === "ENOENT"
              ? `jackd is not installed. ${INSTALL_HINT}`
              : `jackd could not start: ${spawnError}`,
          );
        }
        if (!server.running()) {
          throw new Error(
            `jackd -n ${name} exited (code ${child.exitCode}, signal ${child.signalCode}) before it was ready. ` +
              `Its output:\n${output}\n${INSTALL_HINT}`,
          );
        }
        const probe = await run("jack_lsp", ["-s", name], env);
        return probe.code === 0 && probe.stdout.includes("system:playback_1");
      },
      readyTimeoutMs,
      () => `jackd -n ${name} did not answer jack_lsp within ${readyTimeoutMs} ms. Its output:\n${output}`,
    );
  } catch (error) {
    await server.stop(2_000);
    throw error;
  }
  return server;
}

/**
 * Registers beforeAll/afterAll hooks that start a JACK server for the enclosing suite and stop it afterwards.
 * Returns an accessor; calling it before the hook ran throws.
 */
export function useJackServer(options: JackOptions = {}): () => JackServer {
  let server: JackServer | undefined;
  beforeAll(async () => {
    server = await startJack(options);
  });
  afterAll(async () => {
    await server?.stop();
  });
  return () => {
    if (!server)
      throw new Error("the JACK server of this suite is not running (useJackServer's beforeAll failed)");
    return server;
  };
}
