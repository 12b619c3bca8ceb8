import { describe, expect, it } from "vitest";
import { keyOf, type LaneProgram } from "../../app/render";
import { MAX_CURSORS, StreamRenderer } from "../../app/render/stream";
import { renderSequence } from "../../app/spaces/synth/renderer";
import { loadSoundFont } from "../../app/spaces/synth/soundbank";
import { FRAMES_PER_PAGE, SAMPLE_RATE, SOUNDFONT, sequenceOf } from "./fixture";

describe("StreamRenderer", () => {
  it("pages requested for several heads at once, in interleaved order, equal one linear render", async () => {
    const soundfont = await loadSoundFont(SOUNDFONT);
    // A lane that never falls silent (held strings): seeks cannot use a checkpoint.
    const sequence = sequenceOf(
      Array.from({ length: 24 }, (_, i) => ({
        pitch: 55 + (i % 5),
        velocity: 80,
        startTick: i * 480,
        durationTicks: 600,
      })),
      48,
    );
    const program: LaneProgram = { key: keyOf("t"), sequence, clips: [], endFrame: 14 * SAMPLE_RATE };
    const stream = new StreamRenderer(program, soundfont, {
      sampleRate: SAMPLE_RATE,
      channels: 2,
      framesPerPage: FRAMES_PER_PAGE,
    });
    const linear = renderSequence({
      sequence,
      soundfont,
      sampleRate: SAMPLE_RATE,
      tailFrames: 14 * SAMPLE_RATE,
    });
    // Heads at pages 0, 40, 80 and 120 plus one moving backwards: more places than cursors.
    const starts = [0, 40, 80, 120, 100, 60, 20];
    expect(starts.length).toBeGreaterThan(MAX_CURSORS);
    const order: number[] = [];
    for (let step = 0; step < 8; step++)
      for (const [i, start] of starts.entries()) order.push(i === 4 ? start - step : start + step);
    for (const pageIndex of order) {
      const page = stream.renderPage(pageIndex);
      const want = linear.subarray(pageIndex * FRAMES_PER_PAGE * 2, (pageIndex + 1) * FRAMES_PER_PAGE * 2);
      expect(
        Buffer.from(page.buffer).equals(Buffer.from(want.buffer, want.byteOffset, want.byteLength)),
        `page ${pageIndex}`,
      ).toBe(true);
    }
  }, 120_000);
});
