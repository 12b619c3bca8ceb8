// A lost audio server does not stop playback: play through the rtaudio driver on JACK, kill the server mid-stream,
// check that the heads keep advancing on the null driver and the stats and driver info say so, fail to reopen while
// the server is down (a clear error, still playing), restart the server, reopen, and fall back again on a clean stop.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { ControlBlock } from "../../app/audio/control-block";
import { loadAddon, type NativeEngineInstance } from "../../app/audio/native";
import { type JackServer, startJack, waitFor } from "../support/jack";
import { createTestCanvas, setMixerControls, type TestCanvas } from "../support/test-canvas";

const SAMPLE_RATE = 48_000;
const PERIOD = 256;

interface DriverState {
  onFallback?: boolean;
  fallbacks?: number;
  lastError?: string;
  streamCallbacks?: number;
  running: boolean;
  name: string;
}

/** The addon's rtaudio extras (native/src/addon.cpp): reopenDriver() and the fallback fields of driverInfo(). */
type RtAudioEngine = NativeEngineInstance & { reopenDriver(): DriverState };

/** Samples the head position every 10 ms while `during` runs; returns the samples. */
async function trackPositions(control: ControlBlock, during: () => Promise<void>): Promise<number[]> {
  const seen: number[] = [];
  const timer = setInterval(() => seen.push(control.headPositionFrames(0)), 10);
  try {
    await during();
  } finally {
    clearInterval(timer);
  }
  seen.push(control.headPositionFrames(0));
  return seen;
}

function expectMonotonic(positions: number[]): void {
  for (let i = 1; i < positions.length; i++) {
    if (positions[i]! < positions[i - 1]!) {
      throw new Error(`head position went back from ${positions[i - 1]} to ${positions[i]} (sample ${i})`);
    }
  }
}

async function advancesBy(control: ControlBlock, frames: number, withinMs: number): Promise<void> {
  const start = control.headPositionFrames(0);
  await waitFor(
    () => control.headPositionFrames(0) >= start + frames,
    withinMs,
    () =>
      `the head did not advance ${frames} frames in ${withinMs} ms (from ${start} to ${control.headPositionFrames(0)})`,
  );
}

describe("rtaudio driver fallback", () => {
  let server: JackServer;
  let canvas: TestCanvas;
  let engine: NativeEngineInstance | undefined;
  const serverName = `lc-fallback-${process.pid}`;

  beforeAll(async () => {
    server = await startJack({ name: serverName, sampleRate: SAMPLE_RATE, periodFrames: PERIOD });
    process.env.JACK_DEFAULT_SERVER = serverName;
    process.env.JACK_NO_START_SERVER = "1";
    canvas = createTestCanvas({ lanes: 2, frames: 60 * SAMPLE_RATE, framesPerPage: 16_384 });
  });

  afterAll(async () => {
    engine?.stopDriver();
    engine?.dispose();
    canvas?.dispose();
    await server?.stop();
  });

  it("keeps playing on the null driver when JACK dies, and reopens when it is back", async () => {
    const addon = loadAddon();
    const control = canvas.control;
    setMixerControls(canvas);
    control.setHeadPlaying(0, true);
    engine = new addon.NativeEngine(control.bytes, {
      sampleRate: SAMPLE_RATE,
      channels: 2,
      maxHeads: control.layout.maxHeads,
      maxLanes: control.layout.maxLanes,
      maxBlockFrames: 4096,
    });
    engine.openCanvas(canvas.path);
    engine.startDriver({ driver: "rtaudio", api: "jack", bufferFrames: PERIOD });
    const live = engine as RtAudioEngine;
    const info = () => live.driverInfo() as DriverState;
    await advancesBy(control, SAMPLE_RATE / 4, 3_000);
    expect(info()).toMatchObject({ name: "rtaudio", onFallback: false, fallbacks: 0, lastError: "" });
    const callbacksBefore = info().streamCallbacks ?? 0;
    expect(callbacksBefore).toBeGreaterThan(10);

    // 1. The server dies (SIGKILL) mid-stream.
    const aroundKill = await trackPositions(control, async () => {
      await server.kill();
      await waitFor(
        () => info().onFallback === true,
        3_000,
        () => `no fallback: ${JSON.stringify(info())}`,
      );
      await advancesBy(control, SAMPLE_RATE / 2, 2_000);
    });
    expectMonotonic(aroundKill);
    expect(info()).toMatchObject({ onFallback: true, fallbacks: 1, running: true });
    expect(info().lastError).toMatch(
      /jack stream on "system" (stopped|delivered no callback|reported an error)/,
    );
    expect(info().lastError).toContain("null driver");
    expect(control.stats().driverFallbacks).toBe(1);

    // 2. Reopening while the server is down fails with a reason and leaves playback on the null driver.
    expect(() => live.reopenDriver()).toThrow(/jack API lists no devices \(is a JACK server running/);
    expect(info()).toMatchObject({ onFallback: true, running: true });
    await advancesBy(control, SAMPLE_RATE / 4, 2_000);

    // 3. The server comes back; reopen hands playback back to JACK at the position the null driver reached.
    server = await startJack({ name: serverName, sampleRate: SAMPLE_RATE, periodFrames: PERIOD });
    const aroundReopen = await trackPositions(control, async () => {
      live.reopenDriver();
      await advancesBy(control, SAMPLE_RATE / 2, 3_000);
    });
    expectMonotonic(aroundReopen);
    expect(info()).toMatchObject({ onFallback: false, fallbacks: 1, running: true });
    const callbacksAfterReopen = info().streamCallbacks ?? 0;
    await waitFor(
      () => (info().streamCallbacks ?? 0) > callbacksAfterReopen + 20,
      2_000,
      () => "the reopened JACK stream delivers no callbacks",
    );

    // 4. A clean server stop (SIGTERM) is a second fallback.
    await server.stop();
    await waitFor(
      () => info().onFallback === true,
      3_000,
      () => `no second fallback: ${JSON.stringify(info())}`,
    );
    await advancesBy(control, SAMPLE_RATE / 4, 2_000);
    expect(info()).toMatchObject({ fallbacks: 2 });
    expect(control.stats().driverFallbacks).toBe(2);

    engine.stopDriver();
    expect(engine.driverInfo()).toMatchObject({ name: "none", running: false });
    engine.dispose();
    engine = undefined;
  });

  it("falls back when the server hangs (no callbacks), renders once per block when it wakes, and reopens", async () => {
    server = await startJack({ name: serverName, sampleRate: SAMPLE_RATE, periodFrames: PERIOD });
    const addon = loadAddon();
    const control = canvas.control;
    engine = new addon.NativeEngine(control.bytes, {
      sampleRate: SAMPLE_RATE,
      channels: 2,
      maxHeads: control.layout.maxHeads,
      maxLanes: control.layout.maxLanes,
      maxBlockFrames: 4096,
    });
    engine.openCanvas(canvas.path);
    engine.startDriver({ driver: "rtaudio", api: "jack", bufferFrames: PERIOD });
    const live = engine as RtAudioEngine;
    const info = () => live.driverInfo() as DriverState;
    // Past the start-up grace (64 blocks), the stall limit is 500 ms.
    await advancesBy(control, SAMPLE_RATE / 2, 3_000);
    const fallbacksBefore = control.stats().driverFallbacks;

    // The server stops scheduling (SIGSTOP): the stream stays "running" but delivers no callback.
    process.kill(server.pid, "SIGSTOP");
    try {
      await waitFor(
        () => info().onFallback === true,
        3_000,
        () => `no fallback on a hung server: ${JSON.stringify(info())}`,
      );
      expect(info().lastError).toMatch(/delivered no callback for \d+ ms/);
      await advancesBy(control, SAMPLE_RATE / 4, 2_000);
    } finally {
      process.kill(server.pid, "SIGCONT");
    }
    // The server wakes up and calls the old stream again: the null driver alone renders, so the head advances at
    // the device rate (not twice as fast) while both could run.
    const t0 = performance.now();
    const p0 = control.headPositionFrames(0);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    const rate = (control.headPositionFrames(0) - p0) / ((performance.now() - t0) / 1000);
    expect(rate).toBeGreaterThan(SAMPLE_RATE * 0.8);
    expect(rate).toBeLessThan(SAMPLE_RATE * 1.25);
    expect(info().onFallback).toBe(true);

    const reopened = live.reopenDriver();
    expect(reopened).toMatchObject({ onFallback: false, running: true });
    const callbacks = info().streamCallbacks ?? 0;
    await waitFor(
      () => (info().streamCallbacks ?? 0) > callbacks + 20,
      3_000,
      () => "no callbacks after reopen",
    );
    expect(control.stats().driverFallbacks).toBe(fallbacksBefore + 1);
  });
});
