import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderSequence } from "../../app/spaces/synth/renderer";
import { loadSoundFont } from "../../app/spaces/synth/soundbank";
import {
  createFixture,
  documentOf,
  type Fixture,
  FRAMES_PER_PAGE,
  pagesOf,
  SOUNDFONT,
  sequenceOf,
} from "./fixture";

describe("continuity across page edges", () => {
  let fx: Fixture;
  beforeAll(async () => {
    fx = await createFixture();
  });
  afterAll(async () => fx?.dispose());

  it("a sustained tone rendered page by page on workers equals one whole render and has no edge clicks", async () => {
    // Organ (program 19) held for 8 beats (4 s at 120 bpm), placed at beat 1 of the project.
    const hash = await fx.putMidi(
      sequenceOf([{ pitch: 60, velocity: 100, startTick: 0, durationTicks: 8 * 480 }], 19),
    );
    const document = documentOf(fx.ids, [[{ encodingHash: hash, atBeat: 1, durationBeats: 8 }]], [{}]);
    const renderer = await fx.renderer(document);
    const head = document.heads[0]!.id;
    const [key] = renderer.streamKeys(head);
    expect(key).toBeGreaterThan(0n);
    const end = renderer.endFrame();
    const pages = Math.ceil(end / FRAMES_PER_PAGE);
    expect(pages).toBeGreaterThan(50);
    let progress = 0;
    await renderer.renderRange([head], 0, end, (done) => {
      progress = done;
    });
    expect(progress).toBe(pages);
    const got = pagesOf(fx.reader(), key!, 0, pages);

    // The same note written by hand in project time (ppq 960, beat 1 = tick 960), rendered in one piece.
    const whole = renderSequence({
      sequence: {
        ...sequenceOf([{ pitch: 60, velocity: 100, startTick: 960, durationTicks: 8 * 960 }], 19, 0, 960),
        meters: [{ tick: 0, numerator: 4, denominator: 4 }],
      },
      soundfont: await loadSoundFont(SOUNDFONT),
      sampleRate: 48_000,
      tailFrames: pages * FRAMES_PER_PAGE,
    });
    const expected = whole.subarray(0, pages * FRAMES_PER_PAGE * 2);
    expect(
      Buffer.from(got.buffer).equals(Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength)),
    ).toBe(true);

    // Largest sample-to-sample jump at page edges is not larger than inside pages (while the tone sounds).
    let edge = 0;
    let inside = 0;
    const firstSounding = 24_000 / FRAMES_PER_PAGE + 1;
    const lastSounding = Math.floor((24_000 + 4 * 48_000) / FRAMES_PER_PAGE) - 1;
    for (let p = Math.ceil(firstSounding); p <= lastSounding; p++) {
      for (let f = p * FRAMES_PER_PAGE; f < (p + 1) * FRAMES_PER_PAGE; f++) {
        for (let c = 0; c < 2; c++) {
          const jump = Math.abs(got[f * 2 + c]! - got[(f - 1) * 2 + c]!);
          if (f === p * FRAMES_PER_PAGE) edge = Math.max(edge, jump);
          else inside = Math.max(inside, jump);
        }
      }
    }
    expect(inside).toBeGreaterThan(0.001);
    expect(edge).toBeLessThanOrEqual(inside);
  }, 60_000);
});
