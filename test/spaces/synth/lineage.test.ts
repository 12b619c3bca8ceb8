import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
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
});
