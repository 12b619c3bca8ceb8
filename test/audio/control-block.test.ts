// The control block layout defined in TypeScript matches the offsets the native addon was compiled with.
import { describe, expect, it } from "vitest";
import { ControlBlock, flatLayout, panGains } from "../../app/audio/control-block";
import { AddonNotBuiltError, loadAddon, loadAddonFrom } from "../../app/audio/native";

describe("control block", () => {
  it("TS layout equals the addon's for several sizes", () => {
    const addon = loadAddon();
    for (const [heads, lanes] of [
      [1, 1],
      [4, 16],
      [8, 64],
      [3, 1000],
    ] as const) {
      expect(addon.controlLayout(heads, lanes)).toEqual(flatLayout(heads, lanes));
    }
  });

  it("stores and reads back controls; pan is constant power in float32", () => {
    const block = ControlBlock.create({ maxHeads: 2, maxLanes: 3, channels: 2 });
    block.setLanePan(1, -1);
    expect(block.lane(1)).toMatchObject({ panLeft: 1, panRight: Math.fround(Math.sin(0)) });
    const centre = panGains(0);
    expect(centre.panLeft).toBe(Math.fround(Math.SQRT1_2));
    expect(Math.fround(centre.panLeft ** 2 + centre.panRight ** 2)).toBeCloseTo(1, 6);
    block.setHeadStreams(1, [5n, 0xffffffffffffffffn], 1);
    expect(block.head(1).streamKeys).toEqual([0n, 5n, 0xffffffffffffffffn]);
    expect(block.seekHead(1, 123)).toBe(1);
    expect(block.head(1)).toMatchObject({ seekCounter: 1, seekTargetFrames: 123 });
    expect(() => block.setLanePan(0, 2)).toThrow(/outside -1..1/);
    expect(() => block.setHeadLoop(0, { startFrames: 10, endFrames: 5, enabled: true })).toThrow(/loop end/);
    expect(() => block.setLaneGain(3, 1)).toThrow(/lane 3 is outside 0..2/);
    expect(() => block.setLaneGain(0, Number.NaN)).toThrow(/lane gain must be a finite number/);
    expect(() => block.seekHead(0, -5)).toThrow(/non-negative integer/);
  });

  it("the addon refuses a control block that is not over a SharedArrayBuffer (it could be detached)", () => {
    const shared = ControlBlock.create({ maxHeads: 1, maxLanes: 1, channels: 2 });
    const plain = new Uint8Array(new ArrayBuffer(shared.bytes.byteLength));
    plain.set(shared.bytes);
    const config = { sampleRate: 48000, channels: 2, maxHeads: 1, maxLanes: 1, maxBlockFrames: 256 };
    const { NativeEngine } = loadAddon();
    expect(() => new NativeEngine(plain, config)).toThrow(/must be a Uint8Array over a SharedArrayBuffer/);
    const engine = new NativeEngine(shared.bytes, config);
    engine.dispose();
  });

  it("a missing addon gives the set-up instruction", () => {
    expect(() => loadAddonFrom("/nonexistent/lcanvas_audio.node")).toThrow(AddonNotBuiltError);
    expect(() => loadAddonFrom("/nonexistent/lcanvas_audio.node")).toThrow(
      /native addon not built: run npm run setup/,
    );
  });
});
