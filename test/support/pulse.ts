// Test support: a private PulseAudio server with a null sink (48 kHz stereo), for tests of the rtaudio driver's
// pulse API and of its ALSA API (ALSA's "default" device goes to a running PulseAudio through the pulse plugin).
// A machine without pulseaudio fails the test saying what to install.
import { type ChildProcess, execFile, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { toolEnv, waitFor } from "./jack";

export interface PulseServer {
  readonly pid: number;
  /** Environment for clients: PULSE_SERVER pointing at this server's socket. */
  readonly env: NodeJS.ProcessEnv;
  log(): string;
  running(): boolean;
  stop(timeoutMs?: number): Promise<void>;
  kill(): Promise<void>;
}

const INSTALL_HINT =
  "PulseAudio is needed for the pulse/ALSA driver tests: install Debian's pulseaudio, pulseaudio-utils and " +
  "libasound2-plugins (scripts/setup.sh does it).";

const live = new Set<ChildProcess>();
let hooked = false;

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export async function startPulse(): Promise<PulseServer> {
  const dir = mkdtempSync(join(tmpdir(), "lc-pulse-"));
  chmodSync(dir, 0o700);
  const socket = join(dir, "native");
  const serverEnv = { ...toolEnv(process.env), HOME: dir, XDG_RUNTIME_DIR: dir, PULSE_RUNTIME_PATH: dir };
  const args = [
    "-n",
    "--daemonize=no",
    "--exit-idle-time=-1",
    "--use-pid-file=no",
    "--log-target=stderr",
    "--log-level=error",
    `--load=module-native-protocol-unix auth-anonymous=1 socket=${socket}`,
    "--load=module-null-sink sink_name=lc_null rate=48000 channels=2",
  ];
  let output = "";
  let spawnError: Error | undefined;
  const child = spawn("pulseaudio", args, { env: serverEnv, stdio: ["ignore", "pipe", "pipe"] });
  child.on("error", (error) => {
    spawnError = error;
  });
  child.stdout?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  child.stderr?.on("data", (c: Buffer) => {
    output += c.toString();
  });
  live.add(child);
  child.once("exit", () => live.delete(child));
  if (!hooked) {
    hooked = true;
    process.once("exit", () => {
      for (const c of live) c.kill("SIGKILL");
    });
  }
  // PULSE_LATENCY_MSEC: clients ask for a short buffer at once. Without it the null sink runs its first seconds at
  // its 2 s default latency, and ALSA's pulse plugin stalls twice (~2 s each) before it streams steadily.
  const env = { ...process.env, PULSE_SERVER: `unix:${socket}`, PULSE_LATENCY_MSEC: "20" };
  const running = () => child.exitCode === null && child.signalCode === null && spawnError === undefined;
  const server: PulseServer = {
    pid: child.pid ?? -1,
    env,
    log: () => output,
    running,
    async stop(timeoutMs = 5_000) {
      if (running()) {
        child.kill("SIGTERM");
        const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
        await exited(child);
        clearTimeout(timer);
      }
      rmSync(dir, { recursive: true, force: true });
    },
    async kill() {
      if (running()) {
        child.kill("SIGKILL");
        await exited(child);
      }
    },
  };
  try {
    await waitFor(
      async () => {
        if (spawnError) {
          const code = (spawnError as NodeJS.ErrnoException).code;
          throw new Error(
            code === "ENOENT" ? `pulseaudio is not installed. ${INSTALL_HINT}` : String(spawnError),
          );
        }
        if (!running()) throw new Error(`pulseaudio exited before it was ready. Its output:\n${output}`);
        return new Promise<boolean>((resolve) => {
          execFile("pactl", ["info"], { env: toolEnv(env), timeout: 5_000 }, (error, stdout) => {
            if (error && (error as NodeJS.ErrnoException).code === "ENOENT") {
              resolve(false);
              spawnError = new Error(`pactl is not installed. ${INSTALL_HINT}`);
              return;
            }
            resolve(!error && String(stdout).includes("Default Sink: lc_null"));
          });
        });
      },
      10_000,
      () => `pulseaudio did not answer pactl within 10 s. Its output:\n${output}`,
      50,
    );
  } catch (error) {
    await server.stop(2_000);
    throw error;
  }
  return server;
}
