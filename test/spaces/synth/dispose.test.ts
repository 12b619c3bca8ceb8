import { describe, expect, it } from "vitest";
import { loadAddon } from "../../../app/audio/native";
import type { MidiSequence } from "../../../app/spaces/midi/sequence";
import { createMidiRenderer } from "../../../app/spaces/synth/renderer";
import { loadSoundFont } from "../../../app/spaces/synth/soundbank";
import { TIMGM6MB } from "./fixtures";

/** Eight channels, one note each: eight FluidSynth synthesizers per renderer. */
function eightChannels(): MidiSequence {
  return {
    ppq: 480,
    tempos: [{ tick: 0, bpm: 120 }],
    meters: [],
    tracks: Array.from({ length: 8 }, (_, channel) => ({
      name: `c${channel}`,
      channel,
      program: channel * 8,
      notes: [{ pitch: 60 + channel, velocity: 100, startTick: 0, durationTicks: 480 }],
      controlChanges: [],
    })),
    durationTicks: 480,
  };
}

describe("FluidSynth renderers free their synthesizers on dispose()", () => {
  // Each synthesizer holds about 1.5 MiB outside the JS heap. Left to the collector, the render workers' dropped
  // streams piled up to hundreds of MiB in the 10-minute soak (C heap 200-890 MiB).
  it("keeps the C heap flat over 40 renderers of 8 channels (320 synthesizers), and a disposed one refuses to render", async () => {
    const addon = loadAddon();
    const font = await loadSoundFont(TIMGM6MB, "fluidsynth");
    const inUse = () => addon.mallocStats().inUseBytes ?? 0;
    const warm = createMidiRenderer({ sequence: eightChannels(), soundfont: font, sampleRate: 48_000 });
    warm.render(4096);
    warm.dispose();
    const before = inUse();
    let peakGrowth = 0;
    for (let i = 0; i < 40; i++) {
      const renderer = createMidiRenderer({ sequence: eightChannels(), soundfont: font, sampleRate: 48_000 });
      renderer.render(4096);
      renderer.dispose();
      renderer.dispose();
      peakGrowth = Math.max(peakGrowth, inUse() - before);
    }
    // Without dispose() this grows by about 320 x 1.5 MiB = 480 MiB (nothing forces a collection here).
    expect(peakGrowth).toBeLessThan(64 * 1024 * 1024);
    const closed = createMidiRenderer({ sequence: eightChannels(), soundfont: font, sampleRate: 48_000 });
    closed.dispose();
    expect(() => closed.render(4096)).toThrow(/closed/);
  });
});
