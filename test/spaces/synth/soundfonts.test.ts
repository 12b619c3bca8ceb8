import { copyFileSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { SYNTH_NAMES } from "../../../app/spaces/synth/backend";
import { loadSoundFont } from "../../../app/spaces/synth/soundbank";
import {
  findSoundFont,
  listSoundFonts,
  SoundFontError,
  soundFontProblem,
  systemSoundFontLocations,
} from "../../../app/spaces/synth/soundfonts";
import { MUSESCORE_SF3, TIMGM6MB } from "./fixtures";

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), "lc-sf-"));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

function fakeSoundFont(path: string): string {
  const bytes = Buffer.alloc(64);
  bytes.write("RIFF", 0, "latin1");
  bytes.writeUInt32LE(56, 4);
  bytes.write("sfbk", 8, "latin1");
  writeFileSync(path, bytes);
  return path;
}

describe("findSoundFont", () => {
  it("uses the explicit setting first, even when the environment names another file", () => {
    const setting = fakeSoundFont(join(dir, "mine.sf2"));
    const found = findSoundFont({ explicitPath: setting, env: { LCANVAS_SOUNDFONT: TIMGM6MB } });
    expect(found).toMatchObject({ path: setting, origin: "setting" });
  });

  it("uses LCANVAS_SOUNDFONT when there is no setting", () => {
    const found = findSoundFont({ env: { LCANVAS_SOUNDFONT: TIMGM6MB }, systemLocations: [dir] });
    expect(found).toMatchObject({ path: TIMGM6MB, origin: "env" });
  });

  it("refuses a missing setting instead of silently falling back, naming the path and the fix", () => {
    const missing = join(dir, "gone.sf2");
    expect(() => findSoundFont({ explicitPath: missing })).toThrow(SoundFontError);
    expect(() => findSoundFont({ explicitPath: missing })).toThrow(
      /gone\.sf2 does not exist.*timgm6mb-soundfont/,
    );
  });

  it("refuses a file that is not a SoundFont and says what it found", () => {
    const text = join(dir, "notes.sf2");
    writeFileSync(text, "this is not a sound font at all");
    expect(soundFontProblem(text)).toMatch(/not a SoundFont.*"this"/);
    expect(() => findSoundFont({ env: { LCANVAS_SOUNDFONT: text } })).toThrow(
      /LCANVAS_SOUNDFONT: .*not a SoundFont/,
    );
  });

  it("says what to install when nothing is found", () => {
    const attempt = () => findSoundFont({ env: {}, systemLocations: [dir, join(dir, "nope")] });
    expect(attempt).toThrow(SoundFontError);
    expect(attempt).toThrow(
      /no SoundFont found \(looked in .*lc-sf-.*apt-get install timgm6mb-soundfont.*LCANVAS_SOUNDFONT/,
    );
  });

  it("finds Debian's General MIDI SoundFont in the standard locations", () => {
    const found = findSoundFont({ env: {} });
    expect(found.origin).toBe("system");
    expect(soundFontProblem(found.realPath)).toBeUndefined();
    expect(systemSoundFontLocations("/home/x")).toContain("/home/x/.local/share/soundfonts");
  });
});

describe("listSoundFonts", () => {
  it("lists .sf2 and .sf3 files in order of location, skips other files and counts each real file once", () => {
    const a = fakeSoundFont(join(dir, "b.sf2"));
    fakeSoundFont(join(dir, "a.SF3"));
    writeFileSync(join(dir, "readme.txt"), "hello");
    writeFileSync(join(dir, "broken.sf2"), "RIFF");
    const other = mkdtempSync(join(tmpdir(), "lc-sf-other-"));
    try {
      symlinkSync(a, join(other, "default-GM.sf2"));
      const found = listSoundFonts({ systemLocations: [join(other, "default-GM.sf2"), dir, other] });
      expect(found.map((f) => f.path)).toEqual([join(other, "default-GM.sf2"), join(dir, "a.SF3")]);
      expect(found[0]!.realPath).toBe(a);
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
  });
});

describe("loadSoundFont", () => {
  it("loads the .sf2 and the .sf3 General MIDI banks (spessasynth)", async () => {
    const sf2 = await loadSoundFont(TIMGM6MB, "spessasynth");
    expect(sf2.synth === "spessasynth" && sf2.bank.presets.length).toBeGreaterThan(100);
    const sf3 = await loadSoundFont(MUSESCORE_SF3, "spessasynth");
    expect(sf3.synth === "spessasynth" && sf3.bank.presets.length).toBeGreaterThan(100);
  });

  it("loads the .sf2 and the .sf3 General MIDI banks (FluidSynth: .sf3 samples decoded on demand)", async () => {
    const sf2 = await loadSoundFont(TIMGM6MB, "fluidsynth");
    expect(sf2.synth).toBe("fluidsynth");
    expect(sf2.synthId).toMatch(/^fluidsynth@\d+\.\d+\.\d+\+gain0\.5$/);
    expect(sf2.synth === "fluidsynth" && sf2.dynamicSampleLoading).toBe(false);
    const sf3 = await loadSoundFont(MUSESCORE_SF3, "fluidsynth");
    expect(sf3.synth === "fluidsynth" && sf3.dynamicSampleLoading).toBe(true);
  });

  it.each(SYNTH_NAMES)("names a damaged file and what to do (%s)", async (synth) => {
    const damaged = join(dir, "damaged.sf2");
    copyFileSync(TIMGM6MB, damaged);
    const head = fakeSoundFont(join(dir, "head.sf2"));
    await expect(loadSoundFont(head, synth)).rejects.toThrow(
      /head\.sf2 is a damaged or unsupported SoundFont.*re-install/,
    );
    writeFileSync(damaged, "nothing");
    await expect(loadSoundFont(damaged, synth)).rejects.toThrow(
      /damaged\.sf2 is too short|damaged\.sf2 is not a SoundFont/,
    );
  });
});
