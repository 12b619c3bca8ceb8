// SoundFont discovery for the `midi -> audio` projection: the user's setting, then LCANVAS_SOUNDFONT, then the
// standard system locations (.sf2 and .sf3). Owned by app/spaces/synth; called by the synth renderer, the CLI
// and the engine host. Reads the file system only; never loads a SoundFont (see soundbank.ts).
import { closeSync, openSync, readdirSync, readSync, realpathSync, statSync } from "node:fs";
import { homedir } from "node:os";
import { extname, join, resolve } from "node:path";

export type SoundFontOrigin = "setting" | "env" | "system";

export interface FoundSoundFont {
  /** Absolute path as given or found (symlinks kept, so Debian's default-GM name stays visible). */
  readonly path: string;
  /** The file it resolves to. */
  readonly realPath: string;
  readonly origin: SoundFontOrigin;
}

export interface SoundFontSearch {
  /** The user's setting; when given it must be a readable SoundFont, there is no silent fallback. */
  readonly explicitPath?: string | undefined;
  /** Environment to read LCANVAS_SOUNDFONT from; defaults to process.env. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Home directory for ~/.local/share/soundfonts; defaults to os.homedir(). */
  readonly homeDir?: string;
  /** Replaces the system locations (tests, unusual distributions). */
  readonly systemLocations?: readonly string[];
}

export const SOUNDFONT_ENV = "LCANVAS_SOUNDFONT";

export const INSTALL_HINT =
  "install a General MIDI SoundFont, e.g. `apt-get install timgm6mb-soundfont`, or set LCANVAS_SOUNDFONT to a .sf2/.sf3 file";

/** Where General MIDI SoundFonts live, most preferred first: Debian's default-GM alternatives, then directories. */
export function systemSoundFontLocations(homeDir: string = homedir()): string[] {
  return [
    "/usr/share/sounds/sf2/default-GM.sf2",
    "/usr/share/sounds/sf3/default-GM.sf3",
    "/etc/alternatives/default-GM.sf2",
    "/etc/alternatives/default-GM.sf3",
    "/usr/share/sounds/sf2",
    "/usr/share/sounds/sf3",
    "/usr/share/soundfonts",
    "/usr/local/share/soundfonts",
    join(homeDir, ".local/share/soundfonts"),
  ];
}

export class SoundFontError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "SoundFontError";
  }
}

const EXTENSIONS = new Set([".sf2", ".sf3"]);

/** Why `path` is not a usable SoundFont, or undefined when it is one (a RIFF file of form "sfbk"). */
export function soundFontProblem(path: string): string | undefined {
  let size: number;
  try {
    const stat = statSync(path);
    if (!stat.isFile()) return `${path} is not a file`;
    size = stat.size;
  } catch {
    return `${path} does not exist or cannot be read`;
  }
  if (size < 12) return `${path} is too short to be a SoundFont (${size} bytes)`;
  const header = Buffer.alloc(12);
  let fd: number | undefined;
  try {
    fd = openSync(path, "r");
    readSync(fd, header, 0, 12, 0);
  } catch {
    return `${path} cannot be read`;
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  const riff = header.toString("latin1", 0, 4);
  const form = header.toString("latin1", 8, 12);
  if (riff !== "RIFF" || form !== "sfbk") {
    return `${path} is not a SoundFont (expected a RIFF "sfbk" file, found "${riff}"/"${form}")`;
  }
  return undefined;
}

function soundFontsIn(location: string): string[] {
  let stat: ReturnType<typeof statSync>;
  try {
    stat = statSync(location);
  } catch {
    return [];
  }
  if (stat.isFile()) return EXTENSIONS.has(extname(location).toLowerCase()) ? [location] : [];
  if (!stat.isDirectory()) return [];
  let names: string[];
  try {
    names = readdirSync(location);
  } catch {
    return [];
  }
  return names
    .filter((name) => EXTENSIONS.has(extname(name).toLowerCase()))
    .sort()
    .map((name) => join(location, name));
}

function checked(path: string, origin: SoundFontOrigin, what: string): FoundSoundFont {
  const absolute = resolve(path);
  const problem = soundFontProblem(absolute);
  if (problem)
    throw new SoundFontError(`${what}: ${problem}. Point it at a .sf2/.sf3 file, or ${INSTALL_HINT}.`);
  return { path: absolute, realPath: realpathSync(absolute), origin };
}

/** Every usable SoundFont in the system locations, preferred first, each file once. */
export function listSoundFonts(search: SoundFontSearch = {}): FoundSoundFont[] {
  const locations = search.systemLocations ?? systemSoundFontLocations(search.homeDir);
  const seen = new Set<string>();
  const found: FoundSoundFont[] = [];
  for (const location of locations) {
    for (const path of soundFontsIn(location)) {
      if (soundFontProblem(path)) continue;
      const realPath = realpathSync(path);
      if (seen.has(realPath)) continue;
      seen.add(realPath);
      found.push({ path, realPath, origin: "system" });
    }
  }
  return found;
}

/** The SoundFont to use: the setting, else LCANVAS_SOUNDFONT, else the first system one; throws SoundFontError. */
export function findSoundFont(search: SoundFontSearch = {}): FoundSoundFont {
  if (search.explicitPath !== undefined && search.explicitPath !== "") {
    return checked(search.explicitPath, "setting", "the SoundFont setting");
  }
  const env = search.env ?? process.env;
  const fromEnv = env[SOUNDFONT_ENV];
  if (fromEnv !== undefined && fromEnv !== "") return checked(fromEnv, "env", SOUNDFONT_ENV);
  const first = listSoundFonts(search)[0];
  if (first) return first;
  const locations = search.systemLocations ?? systemSoundFontLocations(search.homeDir);
  throw new SoundFontError(`no SoundFont found (looked in ${locations.join(", ")}): ${INSTALL_HINT}.`);
}
