// Opening the rtaudio driver with a wrong API, device, rate or with no server gives an error that names the problem
// and what to do, and leaves the engine usable (the null driver starts afterwards).
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ControlBlock } from "../../app/audio/control-block";
import { loadAddon, type NativeEngineInstance } from "../../app/audio/native";
import { type JackServer, startJack } from "../support/jack";

describe("rtaudio driver: opening errors", () => {
  let server: JackServer;
  let engine: NativeEngineInstance;
  let engine44k: NativeEngineInstance;

  beforeAll(async () => {
    server = await startJack({ sampleRate: 48_000, periodFrames: 256 });
    process.env.JACK_DEFAULT_SERVER = server.name;
    process.env.JACK_NO_START_SERVER = "1";
    const addon = loadAddon();
    const make = (sampleRate: number) =>
      new addon.NativeEngine(ControlBlock.create({ maxHeads: 1, maxLanes: 1, channels: 2 }).bytes, {
        sampleRate,
        channels: 2,
        maxHeads: 1,
        maxLanes: 1,
        maxBlockFrames: 4096,
      });
    engine = make(48_000);
    engine44k = make(44_100);
  });

  afterAll(async () => {
    engine?.dispose();
    engine44k?.dispose();
    await server?.stop();
  });

  it("names an unknown API and lists the compiled ones", () => {
    expect(() => engine.startDriver({ driver: "rtaudio", api: "asio" })).toThrow(
      /unknown audio API "asio"; this build has: jack, pulse, alsa/,
    );
  });

  it("names a device that does not exist and says how to list devices", () => {
    expect(() => engine.startDriver({ driver: "rtaudio", api: "jack", deviceId: "7" })).toThrow(
      /no device "7" in the jack API; run `lcanvas devices --api jack`/,
    );
    expect(() => engine.startDriver({ driver: "rtaudio", api: "jack", deviceId: "no-such-card" })).toThrow(
      /no device "no-such-card"/,
    );
  });

  it("opens a device by its name as well as by its id", () => {
    const info = engine.startDriver({ driver: "rtaudio", api: "jack", deviceId: "system" });
    expect(info).toMatchObject({ name: "rtaudio", running: true, device: "system", api: "jack" });
    engine.stopDriver();
  });

  it("says the JACK server runs at another rate", () => {
    expect(() => engine44k.startDriver({ driver: "rtaudio", api: "jack" })).toThrow(
      /cannot open "system" \(jack\) at 44100 Hz.*different than the JACK server rate \(48000\)/,
    );
    // The engine is still usable.
    const info = engine44k.startDriver({ driver: "null" });
    expect(info).toMatchObject({ name: "null", running: true });
    engine44k.stopDriver();
  });
});
