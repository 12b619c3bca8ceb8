// The streamed WAV writer (a bounce's output): the same bytes as the whole-file writer, whatever the block sizes;
// an unfinished or aborted file never replaces the target.
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { type WavExportDepth, writeWav } from "../../../app/spaces/audio/wav";
import { WavFileWriter } from "../../../app/spaces/audio/wav-file";

const dir = mkdtempSync(join(tmpdir(), "lc-wav-file-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function planes(channels: number, frames: number): Float32Array[] {
  return Array.from({ length: channels }, (_, c) =>
    Float32Array.from({ length: frames }, (_, f) => {
      if (f === 7) return Number.NaN;
      if (f === 11) return 1.25 * (c % 2 === 0 ? 1 : -1);
      return Math.sin((f + 1) * 0.01 * (c + 1)) * 0.9;
    }),
  );
}

function interleave(channelData: Float32Array[], from: number, to: number): Float32Array {
  const channels = channelData.length;
  const out = new Float32Array((to - from) * channels);
  for (let f = from; f < to; f++)
    for (let c = 0; c < channels; c++) out[(f - from) * channels + c] = channelData[c]![f]!;
  return out;
}

describe("WavFileWriter", () => {
  const cases: Array<[WavExportDepth, number, number]> = [
    ["16", 2, 10_001],
    ["24", 1, 999],
    ["32f", 2, 4_097],
    ["32f", 5, 300],
  ];
  for (const [depth, channels, frames] of cases) {
    it(`${depth}-bit ${channels} ch, ${frames} frames in uneven blocks: the bytes writeWav makes`, async () => {
      const channelData = planes(channels, frames);
      const path = join(dir, `out-${depth}-${channels}.wav`);
      const writer = await WavFileWriter.create(path, { sampleRate: 44_100, channels, depth }, frames);
      for (let at = 0, block = 1; at < frames; at += block, block = block * 3 + 1) {
        await writer.write(interleave(channelData, at, Math.min(frames, at + block)));
      }
      expect(existsSync(path)).toBe(false);
      const { clippedSamples } = await writer.finish();
      const whole = writeWav({ sampleRate: 44_100, frames, channelData }, depth);
      expect(Buffer.from(readFileSync(path)).equals(Buffer.from(whole.bytes))).toBe(true);
      expect(clippedSamples).toBe(whole.clippedSamples);
      expect(clippedSamples).toBeGreaterThan(0);
    });
  }

  it("an unfinished file is not kept and the old one stays; so after abort()", async () => {
    const path = join(dir, "keep.wav");
    writeFileSync(path, "the previous bounce");
    const short = await WavFileWriter.create(path, { sampleRate: 48_000, channels: 2, depth: "16" }, 100);
    await short.write(new Float32Array(2 * 60));
    await expect(short.finish()).rejects.toThrow(/only 60 of the 100 announced frames/);
    const aborted = await WavFileWriter.create(path, { sampleRate: 48_000, channels: 2, depth: "16" }, 10);
    await aborted.write(new Float32Array(20));
    await aborted.abort();
    expect(readFileSync(path, "utf8")).toBe("the previous bounce");
    expect(readdirSync(dir).filter((name) => name.endsWith(".tmp"))).toEqual([]);
  });

  it("refuses frames beyond the announced length and partial frames, naming the file", async () => {
    const path = join(dir, "over.wav");
    const writer = await WavFileWriter.create(path, { sampleRate: 48_000, channels: 2, depth: "32f" }, 4);
    await expect(writer.write(new Float32Array(3))).rejects.toThrow(
      /over\.wav.*not whole frames of 2 channels/,
    );
    await expect(writer.write(new Float32Array(10))).rejects.toThrow(
      /pass the 4 frames the WAV header announces/,
    );
    await writer.abort();
    expect(existsSync(path)).toBe(false);
  });
});
