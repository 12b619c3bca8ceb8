// The synthesizer is part of every MIDI stream key: pages rendered by FluidSynth and by spessasynth never pass for
// each other in a kept canvas file. Real fixture library, real programs.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildLaneProgram, EncodingCache } from "../../app/render/program";
import { SYNTH_ENV } from "../../app/spaces/synth/backend";
import { createFixture, documentOf, type Fixture, SAMPLE_RATE, sequenceOf } from "./fixture";

describe("stream keys and the synthesizer", () => {
  let fx: Fixture;
  const settings = { sampleRate: SAMPLE_RATE, channels: 2, framesPerPage: 4096, soundfontId: "test" };
  beforeAll(async () => {
    fx = await createFixture();
  });
  afterAll(async () => {
    delete process.env[SYNTH_ENV];
    await fx?.dispose();
  });

  it("a MIDI lane's key changes with the synthesizer and stays the same for the same one", async () => {
    const hash = await fx.putMidi(
      sequenceOf([{ pitch: 60, velocity: 100, startTick: 0, durationTicks: 480 }]),
    );
    const document = documentOf(
      fx.ids,
      [[{ encodingHash: hash, atBeat: 0, offsetBeats: 0, durationBeats: 4, gainDb: 0 }]],
      [{}],
    );
    const keyWith = async (synth: string) => {
      process.env[SYNTH_ENV] = synth;
      const encodings = new EncodingCache(fx.library.store, fx.library.graph, SAMPLE_RATE);
      const program = await buildLaneProgram(
        document,
        document.lanes[0]!.id,
        null,
        settings,
        encodings,
        undefined,
        fx.library,
      );
      return program!.key;
    };
    const fluid = await keyWith("fluidsynth");
    const spessa = await keyWith("spessasynth");
    expect(fluid).not.toBe(spessa);
    expect(await keyWith("fluidsynth")).toBe(fluid);
  });
});
