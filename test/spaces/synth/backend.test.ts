// Choosing the synthesizer: FluidSynth by default when its addon loads, LCANVAS_SYNTH to choose, a note (not an
// error) when the default cannot load, an error when FluidSynth is asked for and cannot load. The unavailable case
// runs in a child process pointed at a missing addon (availability is decided once per thread).
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterEach, describe, expect, it } from "vitest";
import { chooseSynth, SYNTH_ENV } from "../../../app/spaces/synth/backend";
import { SYNTH_ADDON_ENV } from "../../../app/spaces/synth/fluid";

const run = promisify(execFile);
const PROBE = `import { chooseSynth } from "./app/spaces/synth/backend.ts";
try { console.log(JSON.stringify(chooseSynth())); } catch (error) { console.log(JSON.stringify({ error: error.message })); }`;

async function probe(env: Record<string, string>): Promise<{ name?: string; note?: string; error?: string }> {
  const { stdout } = await run("node", ["--import", "tsx", "--input-type=module", "-e", PROBE], {
    cwd: process.cwd(),
    env: { ...process.env, ...env },
  });
  return JSON.parse(stdout.trim().split("\n").at(-1)!);
}

describe("chooseSynth", () => {
  afterEach(() => {
    delete process.env[SYNTH_ENV];
  });

  it("is FluidSynth (with its library version) when the addon loads; LCANVAS_SYNTH chooses; a wrong name is refused", () => {
    const fluid = chooseSynth();
    expect(fluid.name).toBe("fluidsynth");
    expect(fluid.id).toMatch(/^fluidsynth@\d+\.\d+\.\d+\+gain0\.5$/);
    expect(fluid.note).toBeUndefined();
    process.env[SYNTH_ENV] = "spessasynth";
    expect(chooseSynth().name).toBe("spessasynth");
    expect(chooseSynth("fluidsynth").name).toBe("fluidsynth");
    process.env[SYNTH_ENV] = "timidity";
    expect(() => chooseSynth()).toThrow(
      /unknown LCANVAS_SYNTH=timidity; use one of: fluidsynth, spessasynth/,
    );
  });

  it("falls back to spessasynth with a note naming the missing addon and the fix", {
    timeout: 60_000,
  }, async () => {
    const missing = "/nonexistent/lcanvas_synth.node";
    const fallback = await probe({ [SYNTH_ADDON_ENV]: missing });
    expect(fallback.name).toBe("spessasynth");
    expect(fallback.note).toContain(missing);
    expect(fallback.note).toMatch(/libfluidsynth-dev.*npm run build:native/);
    const asked = await probe({ [SYNTH_ADDON_ENV]: missing, [SYNTH_ENV]: "fluidsynth" });
    expect(asked.error).toMatch(/FluidSynth addon is not built/);
  });
});
