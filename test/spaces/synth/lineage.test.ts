import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { chooseSynth, synthVersion } from "../../../app/spaces/synth/backend";
import { SYNTH_PROJECTION_NAME, synthToolRecord } from "../../../app/spaces/synth/lineage";
import { TIMGM6MB } from "./fixtures";

describe("synthToolRecord", () => {
  it("names the projection, the installed renderer version and every parameter of the bits", () => {
    const installed = JSON.parse(readFileSync("node_modules/spessasynth_core/package.json", "utf8")) as {
      version: string;
    };
    const record = synthToolRecord({
      soundfontPath: TIMGM6MB,
      sampleRate: 44_100,
      effects: false,
      tailSeconds: 2,
      synth: "spessasynth",
    });
    expect(record.kind).toBe("projection");
    expect(record.name).toBe(SYNTH_PROJECTION_NAME);
    expect(record.params).toMatchObject({
      soundfontPath: TIMGM6MB,
      sampleRate: 44_100,
      effects: false,
      tailSeconds: 2,
      renderer: `spessasynth_core@${installed.version}`,
      blockFrames: 128,
      checkpointSpacingSeconds: 2,
    });
  });

  it("names FluidSynth and its library version, the 64-frame grid, and never passes for spessasynth", () => {
    const params = { soundfontPath: TIMGM6MB, sampleRate: 48_000, effects: false, tailSeconds: 2 };
    const fluid = synthToolRecord({ ...params, synth: "fluidsynth" });
    const spessa = synthToolRecord({ ...params, synth: "spessasynth" });
    expect(fluid.params).toMatchObject({
      renderer: `fluidsynth@${synthVersion("fluidsynth")}`,
      blockFrames: 64,
    });
    // The library version and our gain, the one setting that changes the sound.
    expect(synthVersion("fluidsynth")).toMatch(/^\d+\.\d+\.\d+\+gain0\.5$/);
    expect(JSON.stringify(fluid.params)).not.toBe(JSON.stringify(spessa.params));
    // Without a synth named, the record names the one chosen now (as the bounce chose it).
    expect(synthToolRecord(params).params["renderer"]).toBe(
      `${chooseSynth().name === "fluidsynth" ? "fluidsynth" : "spessasynth_core"}@${chooseSynth().version}`,
    );
  });
});
