// JACK xruns reach the engine as late blocks: the server is paused for 60 ms three times (shorter than the
// driver's stall limit), JACK reports an xrun to its clients, and RtAudio's underflow status becomes lateBlocks.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlBlock } from "../../app/audio/control-block";
import { loadAddon, type NativeEngineInstance } from "../../app/audio/native";
import { type JackServer, startJack } from "../support/jack";

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe("rtaudio driver: xruns", () => {
  let server: JackServer;
  let engine: NativeEngineInstance | undefined;

  beforeAll(async () => {
    server = await startJack({ sampleRate: 48_000, periodFrames: 256 });
    process.env.JACK_DEFAULT_SERVER = server.name;
    process.env.JACK_NO_START_SERVER = "1";
  });

  afterAll(async () => {
    engine?.stopDriver();
    engine?.dispose();
    await server?.stop();
  });

  it("counts JACK xruns as late blocks without falling back", async () => {
    const control = ControlBlock.create({ maxHeads: 1, maxLanes: 1, channels: 2 });
    const addon = loadAddon();
    engine = new addon.NativeEngine(control.bytes, {
      sampleRate: 48_000,
      channels: 2,
      maxHeads: 1,
      maxLanes: 1,
      maxBlockFrames: 4096,
    });
    engine.startDriver({ driver: "rtaudio", api: "jack", bufferFrames: 256 });
    await sleep(300);
    const before = control.stats().lateBlocks; // a loaded machine may xrun on its own too
    for (let i = 0; i < 3; i++) {
      process.kill(server.pid, "SIGSTOP");
      await sleep(60);
      process.kill(server.pid, "SIGCONT");
      await sleep(200);
    }
    expect(control.stats().lateBlocks).toBeGreaterThan(before);
    expect(control.stats().driverFallbacks).toBe(0);
    expect(engine.driverInfo()).toMatchObject({ name: "rtaudio", onFallback: false, running: true });
  });
});
