// Which synthesizer renders MIDI: native FluidSynth (the default, when its addon native/synth loads) or
// spessasynth_core (the fallback, pure JavaScript). LCANVAS_SYNTH=spessasynth|fluidsynth chooses explicitly; the
// CLI's --synth sets it. The chosen synthesizer's name and version are part of every stream key and lineage record,
// so audio of one never passes for the other's. Owned by app/spaces/synth; called on every thread that renders.
import { createRequire } from "node:module";
import { fluidAvailability } from "./fluid";

export type SynthName = "fluidsynth" | "spessasynth";
export const SYNTH_NAMES: readonly SynthName[] = ["fluidsynth", "spessasynth"];
export const SYNTH_ENV = "LCANVAS_SYNTH";

export interface SynthChoice {
  readonly name: SynthName;
  readonly version: string;
  /** `name@version`: what stream keys and lineage records carry. */
  readonly id: string;
  /** Set when the default (FluidSynth) could not be used and spessasynth renders instead: say it to the user. */
  readonly note?: string;
}

export class SynthChoiceError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SynthChoiceError";
  }
}

let spessaVersion: string | undefined;

export function synthVersion(name: SynthName): string {
  if (name === "fluidsynth") {
    const fluid = fluidAvailability();
    if (!fluid.ok) throw new SynthChoiceError(fluid.reason);
    return fluid.addon.version;
  }
  spessaVersion ??= (createRequire(import.meta.url)("spessasynth_core/package.json") as { version: string })
    .version;
  return spessaVersion;
}

function choice(name: SynthName, note?: string): SynthChoice {
  const version = synthVersion(name);
  return { name, version, id: `${name}@${version}`, ...(note === undefined ? {} : { note }) };
}

/**
 * The synthesizer to use: `requested` (a setting or CLI flag), else LCANVAS_SYNTH, else FluidSynth when its addon
 * loads, else spessasynth with a note. Asking for FluidSynth explicitly when it cannot load is an error.
 */
export function chooseSynth(requested?: string): SynthChoice {
  const asked = requested ?? process.env[SYNTH_ENV] ?? "";
  if (asked !== "") {
    if (!SYNTH_NAMES.includes(asked as SynthName)) {
      const from = requested === undefined ? `${SYNTH_ENV}=${asked}` : `synthesizer "${asked}"`;
      throw new SynthChoiceError(`unknown ${from}; use one of: ${SYNTH_NAMES.join(", ")}`);
    }
    return choice(asked as SynthName);
  }
  const fluid = fluidAvailability();
  if (fluid.ok) return choice("fluidsynth");
  return choice(
    "spessasynth",
    `FluidSynth is unavailable (${fluid.reason}); rendering MIDI with spessasynth (slower). Set ${SYNTH_ENV}=spessasynth to silence this note.`,
  );
}
