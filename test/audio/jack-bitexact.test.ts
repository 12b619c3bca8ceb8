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
    engine.stopDriver();
    engine.dispose();
    engine = undefined;
  });

  it("applies a gain change mid-stream at a block boundary, bit-exact before and after", async () => {
    const addon = loadAddon();
    const control = canvas.control;
    control.setHeadPlaying(0, false);
    setMixerControls(canvas);
    engine = new addon.NativeEngine(control.bytes, {
      sampleRate: SAMPLE_RATE,
      channels: 2,
      maxHeads: control.layout.maxHeads,
      maxLanes: control.layout.maxLanes,
      maxBlockFrames: 4096,
    });
    engine.openCanvas(canvas.path);
    engine.startDriver({ driver: "rtaudio", api: "jack", bufferFrames: PERIOD });
    // The engine resumes heads where the control block says they are: seek back to frame 0 first.
    const seek = control.seekHead(0, 0);
    await waitFor(
      () => control.headSeekApplied(0) === seek && control.headPositionFrames(0) === 0,
      2_000,
      () => "the seek to frame 0 was not applied by the callback",
    );
    const ports = (await jackPorts(server)).filter((p) => p.startsWith("latent-canvas"));
    const captureFrames = 2 * SAMPLE_RATE;
    const capture = await startCapture(server, {
      clientName: "lc-capture-2",
      outPath: join(canvas.dir, "captured-2.f32"),
      frames: captureFrames,
      sourcePorts: ports,
    });
    await capture.connected;
    await new Promise((resolve) => setTimeout(resolve, 50));
    control.setHeadPlaying(0, true);
    // The reference with the controls before the change, rendered while the stream plays.
    const before = new ReferenceMixer(canvas.reader(), control, 2).render(captureFrames, PERIOD).output;
    await new Promise((resolve) => setTimeout(resolve, 400));
    control.setLaneGain(1, 0.125);
    control.setMasterGain(1.25);
    const captured = await capture.done;
    const after = new ReferenceMixer(canvas.reader(), control, 2).render(captureFrames, PERIOD).output;

    let first = 0;
    while (first < captureFrames && captured[2 * first] === 0 && captured[2 * first + 1] === 0) first++;
    const played = captured.subarray(first * 2);
    const frames = played.length / 2;
    const untilChange = countMismatches(played, before.subarray(0, played.length)).firstIndex;
    expect(untilChange).toBeGreaterThan(0);
    const changeFrame = Math.floor(untilChange / 2);
    expect(changeFrame % PERIOD).toBe(0); // the change took effect at the start of a block
    expect(changeFrame).toBeLessThan(frames);
    const rest = countMismatches(
      played.subarray(changeFrame * 2),
      after.subarray(changeFrame * 2, played.length),
    );
    expect(rest).toEqual({ compared: (frames - changeFrame) * 2, mismatched: 0, firstIndex: -1 });
  });
});
