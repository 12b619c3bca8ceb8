import { existsSync, readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { workerScriptUrl } from "../../../app/node/worker-script";
import { SYNTH_NAMES } from "../../../app/spaces/synth/backend";
import { bounceMidi, bounceMidiSerial, planChannelGroups } from "../../../app/spaces/synth/bounce";
import { channelStems, lastEventFrame } from "../../../app/spaces/synth/events";
import { benchmarkSong } from "../../../bench/synth/song";
import { countDifferences, peak, TIMGM6MB } from "./fixtures";

const RATE = 48_000;

describe("bounceMidi", () => {
  it("splits channels into balanced groups, each channel once", () => {
    const stems = channelStems(benchmarkSong(8), RATE);
    const groups = planChannelGroups(stems, 2);
    expect(groups).toHaveLength(2);
    expect(groups.flat().sort((x, y) => x - y)).toEqual([1, 2, 3, 4, 9]);
    expect(planChannelGroups(stems, 16)).toHaveLength(5);
    expect(planChannelGroups(stems.slice(0, 1), 4)).toEqual([[1]]);
  });

  it.each(SYNTH_NAMES)(
    "renders on two worker threads the same bits as one thread (%s)",
    { timeout: 120_000 },
    async (synth) => {
      const options = {
        sequence: benchmarkSong(6),
        soundfontPath: TIMGM6MB,
        sampleRate: RATE,
        pageFrames: 20_000,
        synth,
      };
      const serial = await bounceMidiSerial(options);
      const parallel = await bounceMidi({ ...options, workers: 2 });
      expect(parallel.groups).toHaveLength(2);
      expect(parallel.frames).toBe(serial.frames);
      // 6 bars at 120 bpm = 12 s (durationTicks), then the 2 s tail.
      expect(serial.frames).toBe(14 * RATE);
      expect(lastEventFrame(channelStems(options.sequence, RATE))).toBeLessThanOrEqual(12 * RATE);
      expect(peak(serial.interleaved)).toBeGreaterThan(synth === "fluidsynth" ? 0.04 : 0.1);
      expect(serial.synthId).toMatch(new RegExp(`^${synth}@`));
      expect(parallel.synthId).toBe(serial.synthId);
      expect(countDifferences(parallel.interleaved, serial.interleaved)).toBe(0);
      const three = await bounceMidi({ ...options, workers: 3, pageFrames: 65_536 });
      expect(three.groups).toHaveLength(3);
      expect(countDifferences(three.interleaved, serial.interleaved)).toBe(0);
    },
  );

  it("starts workers from a cached JavaScript bundle of the worker when run from source", async () => {
    const bounceModule = new URL("../../../app/spaces/synth/bounce.ts", import.meta.url).href;
    const url = await workerScriptUrl(bounceModule, "bounce-worker");
    expect(url.pathname).toMatch(/node_modules\/\.cache\/lcanvas\/bounce-worker-[0-9a-f]{16}\.mjs$/);
    expect(existsSync(url)).toBe(true);
    expect(readFileSync(url, "utf8")).toMatch(/import\("spessasynth_core"\)/);
    expect(await workerScriptUrl(bounceModule, "bounce-worker")).toBe(url);
  });

  it("the two synthesizers give different audio of the same song (a stream of one never passes for the other)", async () => {
    const options = { sequence: benchmarkSong(2), soundfontPath: TIMGM6MB, sampleRate: RATE, workers: 1 };
    const fluid = await bounceMidi({ ...options, synth: "fluidsynth" });
    const spessa = await bounceMidi({ ...options, synth: "spessasynth" });
    expect(fluid.frames).toBe(spessa.frames);
    expect(countDifferences(fluid.interleaved, spessa.interleaved)).toBeGreaterThan(fluid.frames);
  });

  it("reports a worker's failure as an error naming the problem", async () => {
    await expect(
      bounceMidi({
        sequence: benchmarkSong(2),
        soundfontPath: "/nonexistent/font.sf2",
        sampleRate: RATE,
        workers: 2,
      }),
    ).rejects.toThrow(/font\.sf2 does not exist/);
  });
});
