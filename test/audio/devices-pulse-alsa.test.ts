// The rtaudio driver on its PulseAudio and ALSA APIs, against a private PulseAudio with a null sink (ALSA's
// "default" device reaches it through the pulse plugin): listing, playing at the device's pace, and falling back
// to the null driver when the server dies (a dead Pulse connection makes RtAudio call back without pacing).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlBlock } from "../../app/audio/control-block";
import { loadAddon, type NativeEngineInstance } from "../../app/audio/native";
import type { DevicesReport } from "../../app/cli/commands/devices";
import { runCli } from "../support/cli";
import { waitFor } from "../support/jack";
import { type PulseServer, startPulse } from "../support/pulse";

const SAMPLE_RATE = 48_000;

interface DriverState {
  name: string;
  running: boolean;
  api?: string;
  device?: string;
  onFallback?: boolean;
  fallbacks?: number;
  lastError?: string;
}

function newEngine(): { engine: NativeEngineInstance; control: ControlBlock } {
  const control = ControlBlock.create({ maxHeads: 1, maxLanes: 1, channels: 2 });
  control.setHeadPlaying(0, true);
  const engine = new (loadAddon().NativeEngine)(control.bytes, {
    sampleRate: SAMPLE_RATE,
    channels: 2,
    maxHeads: 1,
    maxLanes: 1,
    maxBlockFrames: 4096,
  });
  return { engine, control };
}

/** Frames per second the head advanced over `ms` (the device's pace when it paces the stream). */
async function measuredRate(control: ControlBlock, ms: number): Promise<number> {
  const t0 = performance.now();
  const p0 = control.headPositionFrames(0);
  await new Promise((resolve) => setTimeout(resolve, ms));
  return (control.headPositionFrames(0) - p0) / ((performance.now() - t0) / 1000);
}

describe("rtaudio driver on PulseAudio and ALSA", () => {
  let pulse: PulseServer;
  const engines: NativeEngineInstance[] = [];

  beforeAll(async () => {
    pulse = await startPulse();
    process.env.PULSE_SERVER = pulse.env.PULSE_SERVER;
    process.env.PULSE_LATENCY_MSEC = pulse.env.PULSE_LATENCY_MSEC;
  });

  afterAll(async () => {
    for (const e of engines) {
      e.stopDriver();
      e.dispose();
    }
    await pulse?.stop();
  });

  it("lists the null sink under pulse and ALSA's default device", async () => {
    const result = await runCli(["devices"], pulse.env);
    expect(result.code, result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as DevicesReport;
    const pulseApi = report.apis.find((a) => a.api === "pulse");
    expect(pulseApi?.devices).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "Null Output", outputChannels: 2, isDefaultOutput: true }),
      ]),
    );
    const alsaApi = report.apis.find((a) => a.api === "alsa");
    expect(alsaApi?.devices).toEqual(
      expect.arrayContaining([expect.objectContaining({ name: "default", isDefaultOutput: true })]),
    );
  });

  for (const api of ["pulse", "alsa"] as const) {
    it(`plays through the ${api} API at the device's pace`, async () => {
      const { engine, control } = newEngine();
      engines.push(engine);
      // The pulse client's transport thread is not real-time: on a loaded 2-core machine it can pause past the
      // driver's 500 ms stall rule, and the (correct) fallback would fail this pace test. The stall rule has its
      // own test (jack-fallback); here it is 3 s.
      process.env.LC_RTAUDIO_STALL_MS = "3000";
      let info: DriverState;
      try {
        info = engine.startDriver({ driver: "rtaudio", api, bufferFrames: 256 }) as DriverState;
      } finally {
        delete process.env.LC_RTAUDIO_STALL_MS;
      }
      expect(info).toMatchObject({ name: "rtaudio", api, running: true, onFallback: false });
      await waitFor(
        () => control.headPositionFrames(0) > SAMPLE_RATE / 2,
        8_000,
        () => `${api}: no progress`,
      );
      // PulseAudio's null sink takes audio in bursts: paced means near 1x over a second, never the 4x of a runaway.
      const rate = await measuredRate(control, 1_500);
      expect(rate).toBeGreaterThan(SAMPLE_RATE * 0.5);
      expect(rate).toBeLessThan(SAMPLE_RATE * 2);
      const state = engine.driverInfo() as DriverState;
      expect(state, state.lastError).toMatchObject({ onFallback: false, fallbacks: 0 });
      engine.stopDriver();
    });
  }

  it("falls back to the null driver, at the device's pace, when PulseAudio dies under both APIs", async () => {
    const pulseEngine = newEngine();
    const alsaEngine = newEngine();
    engines.push(pulseEngine.engine, alsaEngine.engine);
    pulseEngine.engine.startDriver({ driver: "rtaudio", api: "pulse", bufferFrames: 256 });
    alsaEngine.engine.startDriver({ driver: "rtaudio", api: "alsa", bufferFrames: 256 });
    await waitFor(
      () =>
        pulseEngine.control.headPositionFrames(0) > SAMPLE_RATE &&
        alsaEngine.control.headPositionFrames(0) > SAMPLE_RATE,
      6_000,
      () => "no progress before the kill",
    );
    await pulse.kill();
    for (const [api, { engine, control }] of [
      ["pulse", pulseEngine],
      ["alsa", alsaEngine],
    ] as const) {
      const info = () => engine.driverInfo() as DriverState;
      await waitFor(
        () => info().onFallback === true,
        5_000,
        () => `${api}: no fallback: ${JSON.stringify(info())}`,
      );
      expect(info().lastError).toMatch(
        /stream on ".*" (ran at more than 4x real time|stopped|reported|delivered no callback)/,
      );
      expect(control.stats().driverFallbacks).toBe(1);
      // Still playing, at the null driver's pace (the head did not run ahead while the stream ran unpaced).
      const rate = await measuredRate(control, 600);
      expect(rate).toBeGreaterThan(SAMPLE_RATE * 0.7);
      expect(rate).toBeLessThan(SAMPLE_RATE * 1.4);
      expect(() => (engine as NativeEngineInstance & { reopenDriver(): unknown }).reopenDriver()).toThrow(
        /lists no devices|cannot/,
      );
    }
  });
});
