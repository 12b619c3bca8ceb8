import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decodeAudio, sniffAudio } from "../../../app/spaces/audio/decode";
import { parseWav } from "../../../app/spaces/audio/wav";
import { EncodingError } from "../../../app/spaces/errors";
import { analyseTone } from "../support/spectrum";

const dir = mkdtempSync(join(tmpdir(), "lc-decode-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const mp3Fixture = join(import.meta.dirname, "../../fixtures/audio/sine440-mono-44100.mp3");

function soxMake(name: string, ...options: string[]): Uint8Array {
  const path = join(dir, name);
  execFileSync("sox", ["-D", "-n", ...options, path, "synth", "0.5", "sine", "1000", "sine", "1500"]);
  return readFileSync(path);
}

async function rejection(promise: Promise<unknown>): Promise<EncodingError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof EncodingError) return error;
    throw error;
  }
  throw new Error("expected an EncodingError");
}

describe("compressed audio decoders", () => {
  for (const bits of ["16", "24"]) {
    it(`decodes ${bits}-bit FLAC (from sox) to exactly the samples of the WAV it was made from`, async () => {
      const wav = soxMake(`t${bits}.wav`, "-r", "44100", "-c", "2", "-b", bits);
      execFileSync("sox", [join(dir, `t${bits}.wav`), join(dir, `t${bits}.flac`)]);
      const flac = readFileSync(join(dir, `t${bits}.flac`));
      expect(sniffAudio(flac)).toBe("flac");
      const decoded = await decodeAudio(flac, "t.flac");
      const reference = parseWav(wav, "t.wav").audio;
      expect(decoded.container).toBe("flac");
      expect(decoded.bitsPerSample).toBe(Number(bits));
      expect(decoded.audio.sampleRate).toBe(44100);
      expect(decoded.audio.frames).toBe(reference.frames);
      const same = (a: Float32Array, b: Float32Array) =>
        Buffer.from(a.buffer, a.byteOffset, a.byteLength).equals(
          Buffer.from(b.buffer, b.byteOffset, b.byteLength),
        );
      expect(same(decoded.audio.channelData[0]!, reference.channelData[0]!)).toBe(true);
      expect(same(decoded.audio.channelData[1]!, reference.channelData[1]!)).toBe(true);
    });
  }

  it("decodes Ogg Vorbis (from sox) with its rate, channels and the tones where they were", async () => {
    const ogg = soxMake("t.ogg", "-r", "48000", "-c", "1");
    expect(sniffAudio(ogg)).toBe("ogg-vorbis");
    const decoded = await decodeAudio(ogg, "t.ogg");
    expect(decoded.container).toBe("ogg-vorbis");
    expect(decoded.audio.sampleRate).toBe(48000);
    expect(decoded.audio.channelData).toHaveLength(1);
    expect(Math.abs(decoded.audio.frames - 24000)).toBeLessThan(1200);
    const tone = analyseTone(decoded.audio.channelData[0]!, 48000, 1000, 16384);
    expect(Math.abs(tone.peakHz - 1000) < 4 || Math.abs(tone.peakHz - 1500) < 4).toBe(true);
  });

  it("decodes the MP3 fixture (440 Hz, 44.1 kHz)", async () => {
    const mp3 = readFileSync(mp3Fixture);
    expect(sniffAudio(mp3)).toBe("mp3");
    const decoded = await decodeAudio(mp3, "sine.mp3");
    expect(decoded.audio.sampleRate).toBe(44100);
    expect(decoded.audio.channelData).toHaveLength(1);
    expect(decoded.audio.frames).toBeGreaterThan(22050);
    expect(Math.abs(analyseTone(decoded.audio.channelData[0]!, 44100, 440, 16384).peakHz - 440)).toBeLessThan(
      4,
    );
  });

  it("rejects a truncated FLAC, a non-Vorbis Ogg and an unknown file with errors that name the file", async () => {
    const flac = soxMake("u.flac", "-r", "44100", "-c", "1", "-b", "16");
    const cut = await rejection(decodeAudio(flac.subarray(0, 60), "cut.flac"));
    expect(cut.message).toMatch(/^cut\.flac: /);
    const opus = Uint8Array.from([...new TextEncoder().encode("OggS"), ...new Array(60).fill(0)]);
    expect((await rejection(decodeAudio(opus, "x.ogg"))).message).toMatch(
      /^x\.ogg: an Ogg file that is not Vorbis/,
    );
    const text = new TextEncoder().encode("hello world, not audio");
    expect((await rejection(decodeAudio(text, "notes.txt"))).message).toMatch(
      /^notes\.txt: not a recognised audio file/,
    );
  });
});
