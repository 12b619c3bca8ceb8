// The control block layout defined in TypeScript matches the offsets the native addon was compiled with.
import { describe, expect, it } from "vitest";
import { ControlBlock, flatLayout, HEAD, panGains } from "../../app/audio/control-block";
import { Engine } from "../../app/audio/engine";
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

  it("a loop range is adopted whole: a writer caught between start and end changes nothing", () => {
    const engine = Engine.create({
      sampleRate: 48000,
      channels: 2,
      maxHeads: 1,
      maxLanes: 1,
      maxBlockFrames: 256,
    });
    try {
      const { control } = engine;
      control.setHeadLoop(0, { startFrames: 0, endFrames: 1024, enabled: true });
      engine.play(0);
      engine.renderOffline(1280, { blockFrames: 256 });
      expect(engine.headPositionFrames(0)).toBe(256); // wrapped once
      // What the callback sees while setHeadLoop(0, {4096, 8192}) is between its two stores: seqlock odd, the new
      // start, the old end. Before the fix the kernel read start > end as "no loop" and ran past the loop end.
      const head = control.layout.headsOff;
      const i32 = new Int32Array(control.buffer);
      const i64 = new BigInt64Array(control.buffer);
      Atomics.add(i32, (head + HEAD.headStreamMapSeqOff) >> 2, 1);
      Atomics.store(i64, (head + HEAD.headLoopStartOff) >> 3, 4096n);
      engine.renderOffline(1024, { blockFrames: 256 });
      expect(engine.headPositionFrames(0)).toBe(256); // still looping over [0, 1024)
      Atomics.store(i64, (head + HEAD.headLoopEndOff) >> 3, 8192n);
      Atomics.add(i32, (head + HEAD.headStreamMapSeqOff) >> 2, 1);
      engine.renderOffline(256, { blockFrames: 256 });
      expect(engine.headPositionFrames(0)).toBe(512); // the new range [4096, 8192) is ahead: plays on
      // setHeadLoop and setHeadStreams leave the seqlock even, also when they refuse their input.
      control.setHeadLoop(0, { startFrames: 0, endFrames: 2048, enabled: true });
      expect(() => control.setHeadStreams(0, [-1n])).toThrow(/unsigned 64-bit/);
      expect(Atomics.load(i32, (head + HEAD.headStreamMapSeqOff) >> 2) % 2).toBe(0);
    } finally {
      engine.dispose();
    }
  });

  it("a missing addon gives the set-up instruction", () => {
    expect(() => loadAddonFrom("/nonexistent/lcanvas_audio.node")).toThrow(AddonNotBuiltError);
    expect(() => loadAddonFrom("/nonexistent/lcanvas_audio.node")).toThrow(
      /native addon not built: run npm run setup/,
    );
  });
});
