// Plays a test canvas through the rtaudio driver on a real JACK (dummy backend) server, records the driver's output
// ports with a second JACK client, aligns the recording on the first frame of the canvas (silence before the head
// starts is the marker) and compares it bit for bit with the JavaScript reference mix.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadAddon, type NativeEngineInstance } from "../../app/audio/native";
import { countMismatches, ReferenceMixer } from "../../app/audio/reference-mix";
import { type JackServer, jackPorts, startJack, waitFor } from "../support/jack";
import { startCapture } from "../support/jack-capture";
import { createTestCanvas, setMixerControls, type TestCanvas } from "../support/test-canvas";

const SAMPLE_RATE = 48_000;
const PERIOD = 256;

describe("rtaudio driver on JACK", () => {
  let server: JackServer;
  let canvas: TestCanvas;
  let engine: NativeEngineInstance | undefined;

  beforeAll(async () => {
    server = await startJack({ sampleRate: SAMPLE_RATE, periodFrames: PERIOD });
    // libjack in this process reads the server name from the environment when the driver opens its client.
    process.env.JACK_DEFAULT_SERVER = server.name;
    process.env.JACK_NO_START_SERVER = "1";
    canvas = createTestCanvas({ lanes: 3, frames: 10 * SAMPLE_RATE });
  });

  afterAll(async () => {
    engine?.stopDriver();
    engine?.dispose();
    canvas?.dispose();
    await server?.stop();
  });

  it("plays bit-exact with the reference mix, captured back through JACK", async () => {
    const addon = loadAddon();
    expect(addon.hasRtAudio).toBe(true);
    setMixerControls(canvas);
    engine = new addon.NativeEngine(canvas.control.bytes, {
      sampleRate: SAMPLE_RATE,
      channels: 2,
      maxHeads: canvas.control.layout.maxHeads,
      maxLanes: canvas.control.layout.maxLanes,
      maxBlockFrames: 4096,
    });
    engine.openCanvas(canvas.path);
    const info = engine.startDriver({ driver: "rtaudio", api: "jack", bufferFrames: PERIOD });
    expect(info).toMatchObject({
      name: "rtaudio",
      running: true,
      sampleRate: SAMPLE_RATE,
      bufferFrames: PERIOD,
    });
    expect(info.latencyFrames).toBeGreaterThanOrEqual(PERIOD);

    const ports = (await jackPorts(server)).filter((p) => p.startsWith("latent-canvas"));
    expect(ports).toHaveLength(2);

    const captureFrames = 3 * SAMPLE_RATE;
    const capture = await startCapture(server, {
      clientName: "lc-capture",
      outPath: join(canvas.dir, "captured.f32"),
      frames: captureFrames,
      sourcePorts: ports,
    });
    await capture.connected;
    // Let a few silent periods through, then start the head: its first frame is the marker.
    await new Promise((resolve) => setTimeout(resolve, 100));
    canvas.control.setHeadPlaying(0, true);
    const captured = await capture.done;
    expect(captured.length).toBe(captureFrames * 2);

    let first = -1;
    for (let i = 0; i < captureFrames; i++) {
      if (captured[2 * i] !== 0 || captured[2 * i + 1] !== 0) {
        first = i;
        break;
      }
    }
    expect(first).toBeGreaterThan(0); // silence before the head started
    const playedFrames = captureFrames - first;
    expect(playedFrames).toBeGreaterThan(SAMPLE_RATE); // at least a second of music to compare

    const reference = new ReferenceMixer(canvas.reader(), canvas.control, 2).render(playedFrames, PERIOD);
    expect(reference.pageMisses).toBe(0);
    const played = captured.subarray(first * 2);
    const result = countMismatches(played, reference.output);
    expect(result).toEqual({ compared: playedFrames * 2, mismatched: 0, firstIndex: -1 });

    const stats = canvas.control.stats();
    expect(stats.pageMisses).toBe(0);
    expect(stats.driverFallbacks).toBe(0);
    expect(engine.driverInfo()).toMatchObject({
      api: "jack",
      device: "system",
      onFallback: false,
      lastError: "",
    });
  });
});
