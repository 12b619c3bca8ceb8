// The `lcanvas` launcher's bundle (bin/cli-bundle.mjs): built on a fresh cache, reused while its inputs are
// unchanged, rebuilt when one changes, pruned, and bypassed for tsx (a syntax error, LCANVAS_FROM_SOURCE=1, no
// esbuild). Freshness runs on a temporary copy of a tiny project (the real launcher files, a two-file CLI), so
// the real sources and cache are never touched; then the real CLI of this repository from its bundle: `--help`, a
// bounce of the demo (render workers from the bundle's render-worker.js, the audio and FluidSynth addons found),
// `synth render` (bounce workers from bounce-worker.js), imports and a GraphQL query (packages the bundled modules
// load through createRequire(import.meta.url), and the bundled graphql).
import { execFile } from "node:child_process";
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  realpathSync,
  rmSync,
  statSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { writeMidi } from "../../app/spaces/midi/smf";
import { benchmarkSong } from "../../bench/synth/song";
import {
  cacheDir,
  checkBundle,
  INLINE_PACKAGES,
  PRUNE_AFTER_MS,
  pointerPath,
  prune,
  snapshotInputs,
} from "../../bin/cli-bundle.mjs";
import { type DemoFixture, demoProject, peak, readInterleaved } from "../host/fixture";
import { REPO_ROOT } from "../support/native-build";

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `<root>/bin/lcanvas.mjs` with the start traced (LCANVAS_TRACE_START=1) and `extraEnv`. */
function lcanvas(
  root: string,
  args: string[],
  extraEnv: NodeJS.ProcessEnv = {},
  timeoutMs = 60_000,
): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env, LCANVAS_TRACE_START: "1", ...extraEnv };
  if (extraEnv["LCANVAS_FROM_SOURCE"] === undefined) delete env["LCANVAS_FROM_SOURCE"];
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [join(root, "bin", "lcanvas.mjs"), ...args],
      { env, cwd: root, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout: String(stdout), stderr: String(stderr) });
      },
    );
  });
}

const ESBUILD_VERSION = (
  JSON.parse(readFileSync(join(REPO_ROOT, "node_modules", "esbuild", "package.json"), "utf8")) as {
    version: string;
  }
).version;

/** What the fake CLI prints: its greeting and the URL of the module that ran (bundle or source). */
interface FakeOutput {
  greeting: string;
  url: string;
  argv: string[];
}

const FAKE_MAIN = `import { greeting } from "./greeting";
export async function main(argv: string[]): Promise<number> {
  process.stdout.write(\`\${JSON.stringify({ greeting: greeting(), url: import.meta.url, argv })}\\n\`);
  return 0;
}
`;

/**
 * A temporary project with the real launcher (bin/lcanvas.mjs, bin/cli-bundle.mjs), esbuild and tsx linked from
 * this repository, and a two-file CLI plus empty worker entries. Its files are dated 10 s back, so a build never
 * mistakes them for files edited while it ran.
 */
function fakeProject(): string {
  const root = realpathSync(mkdtempSync(join(tmpdir(), "lc-bundle-")));
  const files: Record<string, string> = {
    "package.json": '{ "type": "module", "private": true }\n',
    "app/cli/main.ts": FAKE_MAIN,
    "app/cli/greeting.ts": 'export const greeting = (): string => "hello";\n',
    "app/render/render-worker.ts": "export {};\n",
    "app/spaces/synth/bounce-worker.ts": "export {};\n",
  };
  for (const [path, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), text);
  }
  mkdirSync(join(root, "bin"));
  for (const file of ["lcanvas.mjs", "cli-bundle.mjs"]) {
    copyFileSync(join(REPO_ROOT, "bin", file), join(root, "bin", file));
  }
  const past = new Date(Date.now() - 10_000);
  for (const path of [...Object.keys(files), "bin/lcanvas.mjs", "bin/cli-bundle.mjs"]) {
    utimesSync(join(root, path), past, past);
  }
  mkdirSync(join(root, "node_modules"));
  for (const name of ["esbuild", "tsx"]) {
    symlinkSync(join(REPO_ROOT, "node_modules", name), join(root, "node_modules", name));
  }
  return root;
}

function currentDir(root: string): string {
  return (JSON.parse(readFileSync(pointerPath(root), "utf8")) as { dir: string }).dir;
}

function output(run: Run): FakeOutput {
  expect(run.stderr).not.toMatch(/Error/);
  expect(run.code).toBe(0);
  return JSON.parse(run.stdout) as FakeOutput;
}

describe("lcanvas launcher: the bundle of a project", () => {
  const roots: string[] = [];
  const project = () => {
    const root = fakeProject();
    roots.push(root);
    return root;
  };
  afterEach(() => {
    for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
  });

  it("builds a bundle on a fresh cache and runs the CLI from it", async () => {
    const root = project();
    const run = await lcanvas(root, ["a", "b"]);
    const out = output(run);
    expect(out).toMatchObject({ greeting: "hello", argv: ["a", "b"] });
    const dir = join(cacheDir(root), currentDir(root));
    expect(out.url).toBe(`file://${dir}/main.js`);
    expect(run.stderr).toContain(`rebuilt bundle ${dir}`);
    expect(run.stderr).toContain("(no bundle yet)");
    for (const file of ["main.js", "render-worker.js", "bounce-worker.js", "main.js.map", "manifest.json"]) {
      expect(existsSync(join(dir, file)), file).toBe(true);
    }
    const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as {
      esbuild: string;
      inputs: Record<string, { mtimeMs: number; size: number }>;
    };
    expect(manifest.esbuild).toBe(ESBUILD_VERSION);
    const greeting = join(root, "app/cli/greeting.ts");
    expect(manifest.inputs[greeting]).toEqual({
      mtimeMs: statSync(greeting).mtimeMs,
      size: statSync(greeting).size,
    });
    expect(Object.keys(manifest.inputs)).toEqual(
      expect.arrayContaining([
        join(root, "app/cli/main.ts"),
        join(root, "package.json"),
        join(root, "bin/cli-bundle.mjs"),
      ]),
    );
  });

  it("reuses the bundle on the next start: the pointer file and the bundle directories stay as they were", async () => {
    const root = project();
    output(await lcanvas(root, []));
    const pointerBefore = statSync(pointerPath(root));
    const entriesBefore = readdirSync(cacheDir(root)).sort();
    const run = await lcanvas(root, []);
    expect(output(run).url).toContain("/node_modules/.cache/lcanvas/cli-");
    expect(run.stderr).toContain("reusing bundle");
    expect(run.stderr).not.toContain("rebuilt");
    const pointerAfter = statSync(pointerPath(root));
    expect([pointerAfter.ino, pointerAfter.mtimeMs]).toEqual([pointerBefore.ino, pointerBefore.mtimeMs]);
    expect(readdirSync(cacheDir(root)).sort()).toEqual(entriesBefore);
  });

  it("rebuilds into a new directory when a source changes, keeps the old one for processes still using it, prunes long-unused ones", async () => {
    const root = project();
    output(await lcanvas(root, []));
    const first = currentDir(root);
    // A directory out of use for over PRUNE_AFTER_MS, as an earlier rebuild would have left it.
    const stale = join(cacheDir(root), "cli-00000000000000aa");
    mkdirSync(stale);
    const longAgo = new Date(Date.now() - PRUNE_AFTER_MS - 60_000);
    utimesSync(stale, longAgo, longAgo);

    writeFileSync(
      join(root, "app/cli/greeting.ts"),
      'export const greeting = (): string => "hello again";\n',
    );
    const run = await lcanvas(root, []);
    expect(output(run).greeting).toBe("hello again");
    expect(run.stderr).toContain(`(${join(root, "app/cli/greeting.ts")} changed)`);
    const second = currentDir(root);
    expect(second).not.toBe(first);
    expect(existsSync(join(cacheDir(root), first, "main.js"))).toBe(true);
    expect(existsSync(stale)).toBe(false);
  });

  it("rebuilds over a damaged manifest rather than failing", async () => {
    const root = project();
    output(await lcanvas(root, []));
    const dir = currentDir(root);
    writeFileSync(join(cacheDir(root), dir, "manifest.json"), "{ half a manif");
    const run = await lcanvas(root, []);
    expect(output(run).greeting).toBe("hello");
    expect(run.stderr).toContain(`(${dir}/manifest.json is missing or unreadable)`);
    expect(checkBundle(root, ESBUILD_VERSION).dir).toBe(join(cacheDir(root), currentDir(root)));
  });

  it("sees a source as changed by its mtime alone, or its size alone", async () => {
    const root = project();
    output(await lcanvas(root, []));
    expect(checkBundle(root, ESBUILD_VERSION).dir).toBe(join(cacheDir(root), currentDir(root)));
    const greeting = join(root, "app/cli/greeting.ts");
    const text = readFileSync(greeting, "utf8");
    const { atime, mtime } = statSync(greeting);

    utimesSync(greeting, atime, new Date(mtime.getTime() + 1_000));
    expect(checkBundle(root, ESBUILD_VERSION).stale).toBe(`${greeting} changed`);
    utimesSync(greeting, atime, mtime);
    expect(checkBundle(root, ESBUILD_VERSION).stale).toBeUndefined();

    writeFileSync(greeting, `${text} `);
    utimesSync(greeting, atime, mtime);
    expect(checkBundle(root, ESBUILD_VERSION).stale).toBe(`${greeting} changed`);

    writeFileSync(greeting, text);
    utimesSync(greeting, atime, mtime);
    expect(checkBundle(root, ESBUILD_VERSION).stale).toBeUndefined();
    expect(checkBundle(root, "0.0.0").stale).toBe(`built by esbuild ${ESBUILD_VERSION}, installed 0.0.0`);
    rmSync(join(root, "app/cli/greeting.ts"));
    expect(checkBundle(root, ESBUILD_VERSION).stale).toBe(`${greeting} was removed`);
  });

  it("falls back to tsx on a syntax error, which reports it; the last good bundle stays current", async () => {
    const root = project();
    output(await lcanvas(root, []));
    const good = currentDir(root);
    writeFileSync(join(root, "app/cli/greeting.ts"), 'export const greeting = (: string => "hello";\n');
    const run = await lcanvas(root, []);
    expect(run.code).not.toBe(0);
    expect(run.stderr).toContain(
      `bundle build failed: ${join(root, "app/cli/greeting.ts")}:1:25: Unexpected ":"`,
    );
    expect(run.stderr).toContain("starting from source through tsx");
    // tsx's own report: its TransformError with the file, line and column.
    expect(run.stderr).toContain("TransformError");
    expect(run.stderr).toContain(`${join(root, "app/cli/greeting.ts")}:1:25: ERROR: Unexpected ":"`);
    expect(currentDir(root)).toBe(good);
  });

  it("runs the sources through tsx with LCANVAS_FROM_SOURCE=1, building nothing", async () => {
    const root = project();
    const run = await lcanvas(root, ["x"], { LCANVAS_FROM_SOURCE: "1" });
    expect(output(run)).toMatchObject({ greeting: "hello", url: `file://${root}/app/cli/main.ts` });
    expect(run.stderr).toContain("starting from source: LCANVAS_FROM_SOURCE=1");
    expect(existsSync(cacheDir(root))).toBe(false);
  });

  it("runs the sources through tsx when esbuild is not installed", async () => {
    const root = project();
    rmSync(join(root, "node_modules", "esbuild"));
    const run = await lcanvas(root, []);
    expect(output(run).url).toBe(`file://${root}/app/cli/main.ts`);
    expect(run.stderr).toContain("esbuild is not installed");
  });

  it("lets concurrent first starts agree on one bundle directory, leaving no temporary files", async () => {
    const root = project();
    const runs = await Promise.all(Array.from({ length: 6 }, () => lcanvas(root, [])));
    const urls = new Set(runs.map((run) => output(run).url));
    expect(urls.size).toBe(1);
    const entries = readdirSync(cacheDir(root));
    expect(entries.filter((entry) => /^cli-[0-9a-f]{16}$/.test(entry))).toEqual([currentDir(root)]);
    expect(entries.filter((entry) => entry.includes("tmp"))).toEqual([]);
  });
});

describe("lcanvas launcher: bundle housekeeping", () => {
  let dir: string;
  beforeAll(() => {
    dir = realpathSync(mkdtempSync(join(tmpdir(), "lc-bundle-unit-")));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("records a file modified after the build started with mtime -1, so the next start rebuilds", () => {
    const file = join(dir, "edited.ts");
    writeFileSync(file, "export {};\n");
    const mtimeMs = statSync(file).mtimeMs;
    expect(snapshotInputs([file], mtimeMs + 1_000)[file]).toEqual({ mtimeMs, size: 11 });
    expect(snapshotInputs([file], mtimeMs - 1)[file]).toEqual({ mtimeMs: -1, size: 11 });
  });

  it("prunes only directories no pointer names that have been out of use for over an hour, and dead pointers", () => {
    const cache = join(dir, "cache");
    mkdirSync(cache);
    const nowMs = Date.now();
    const longAgo = new Date(nowMs - PRUNE_AFTER_MS - 60_000);
    const make = (name: string, old: boolean) => {
      mkdirSync(join(cache, name));
      if (old) utimesSync(join(cache, name), longAgo, longAgo);
    };
    make("cli-000000000000000a", true); // unnamed, old: pruned
    make("cli-000000000000000b", false); // unnamed, recent: a process may still use it
    make("cli-000000000000000c", true); // named by a live checkout's pointer: current
    make("cli-000000000000000d", true); // named only by the pointer of a checkout that is gone
    make(".tmp-cli-x", true); // an interrupted build
    writeFileSync(
      join(cache, "cli-current-live.json"),
      JSON.stringify({ dir: "cli-000000000000000c", root: dir }),
    );
    writeFileSync(
      join(cache, "cli-current-gone.json"),
      JSON.stringify({ dir: "cli-000000000000000d", root: join(dir, "gone") }),
    );
    utimesSync(join(cache, "cli-current-gone.json"), longAgo, longAgo);
    prune(cache, nowMs);
    expect(readdirSync(cache).sort()).toEqual([
      "cli-000000000000000b",
      "cli-000000000000000c",
      "cli-current-live.json",
    ]);
  });
});

describe("lcanvas launcher: this repository's CLI from its bundle", () => {
  let demo: DemoFixture;
  let work: string;
  beforeAll(async () => {
    demo = await demoProject();
    work = mkdtempSync(join(tmpdir(), "lc-bundle-cli-"));
  });
  afterAll(() => {
    demo?.dispose();
    rmSync(work, { recursive: true, force: true });
  });

  /** The bundle directory the trace says the CLI started from. */
  function startedFrom(run: Run): string {
    const match = /^lcanvas: starting from bundle (.*)$/m.exec(run.stderr);
    expect(match, run.stderr).not.toBeNull();
    return realpathSync(match![1]!);
  }

  /** stderr without the launcher's and worker-script's trace lines. */
  const untraced = (run: Run) =>
    run.stderr
      .split("\n")
      .filter((line) => line !== "" && !line.startsWith("lcanvas: "))
      .join("\n");

  it("`lcanvas --help` starts from the bundle", async () => {
    const run = await lcanvas(REPO_ROOT, ["--help"]);
    expect(run.code).toBe(0);
    const bundle = startedFrom(run);
    expect(bundle).toMatch(/\/node_modules\/\.cache\/lcanvas\/cli-[0-9a-f]{16}$/);
    expect(run.stdout).toContain("lcanvas bounce PROJECT");
    // graphql and zod are bundled in (their imports would otherwise be hoisted and load on every start); the
    // manifest stands for them by their package.json.
    const main = readFileSync(join(bundle, "main.js"), "utf8");
    expect(INLINE_PACKAGES).toEqual(["graphql", "zod"]);
    for (const name of INLINE_PACKAGES) {
      expect(main).not.toMatch(new RegExp(`from "${name}(/[^"]*)?";`));
      expect(main).toContain(`node_modules/${name}/`); // esbuild's comments naming the bundled files
    }
    const manifest = JSON.parse(readFileSync(join(bundle, "manifest.json"), "utf8")) as { inputs: object };
    const packageInputs = Object.keys(manifest.inputs).filter((file) => file.includes("/node_modules/"));
    expect(packageInputs.map((file) => file.replace(/.*\/node_modules\//, "")).sort()).toEqual([
      "graphql/package.json",
      "zod/package.json",
    ]);
  });

  it("`lcanvas bounce` of the demo: render workers start from the bundle's render-worker.js, the addons load", async () => {
    const out = join(demo.root, "mix.wav");
    const run = await lcanvas(REPO_ROOT, ["bounce", demo.project, "--out", out], {}, 120_000);
    // No note that FluidSynth is unavailable (its addon is found through LC_SYNTH_ADDON), no error.
    expect(untraced(run)).toBe("");
    expect(run.code).toBe(0);
    const bundle = startedFrom(run);
    expect(run.stderr).toContain(
      `lcanvas: worker render-worker starts from file://${bundle}/render-worker.js\n`,
    );
    const summary = JSON.parse(run.stdout.trim().split("\n").at(-1)!) as {
      pageMisses: number;
      frames: number;
    };
    expect(summary.pageMisses).toBe(0);
    const mix = readInterleaved(out);
    expect(mix.frames).toBe(summary.frames);
    expect(peak(mix.samples)).toBeGreaterThan(0.05);
  }, 120_000);

  it("`lcanvas synth render` starts bounce workers from the bundle's bounce-worker.js, with FluidSynth", async () => {
    const midi = join(work, "song.mid");
    writeFileSync(midi, writeMidi(benchmarkSong(2)));
    const run = await lcanvas(
      REPO_ROOT,
      ["synth", "render", midi, "--out", join(work, "song.wav")],
      {},
      120_000,
    );
    expect(untraced(run)).toBe("");
    expect(run.code).toBe(0);
    const bundle = startedFrom(run);
    expect(run.stderr).toContain(
      `lcanvas: worker bounce-worker starts from file://${bundle}/bounce-worker.js\n`,
    );
    expect((JSON.parse(run.stdout) as { synth: string }).synth).toMatch(/^fluidsynth@/);
  }, 120_000);

  it("`lcanvas synth render --synth spessasynth` loads spessasynth_core from the bundle", async () => {
    const midi = join(work, "short.mid");
    writeFileSync(midi, writeMidi(benchmarkSong(1)));
    const run = await lcanvas(
      REPO_ROOT,
      ["synth", "render", midi, "--out", join(work, "short.wav"), "--synth", "spessasynth", "--workers", "1"],
      {},
      120_000,
    );
    expect(untraced(run)).toBe("");
    expect(run.code).toBe(0);
    startedFrom(run);
    expect((JSON.parse(run.stdout) as { synth: string }).synth).toMatch(/^spessasynth@\d/);
  }, 120_000);

  it("imports MIDI and MP3 (resampled) into a store and queries it with GraphQL, from the bundle", async () => {
    const midi = join(work, "import.mid");
    writeFileSync(midi, writeMidi(benchmarkSong(1)));
    const store = join(work, "store");
    const mp3 = join(REPO_ROOT, "test/fixtures/audio/sine440-mono-44100.mp3");
    const imported = await lcanvas(REPO_ROOT, [
      "import",
      midi,
      mp3,
      "--rate",
      "48000",
      "--store-decoded",
      "--store",
      store,
    ]);
    expect(untraced(imported)).toBe("");
    expect(imported.code).toBe(0);
    startedFrom(imported);
    const [midiSummary, mp3Summary] = imported.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { space: string; derived: { space: string }[] });
    expect(midiSummary!.space).toBe("midi");
    expect(mp3Summary!.space).toBe("audio");
    // The decoded audio resampled from 44.1 kHz to the project rate (libsamplerate).
    expect(mp3Summary!.derived.map((d) => d.space)).toEqual(["audio"]);

    const query = await lcanvas(REPO_ROOT, ["query", "{ artifactCount }", "--store", store]);
    expect(query.code).toBe(0);
    startedFrom(query);
    const count = (JSON.parse(query.stdout) as { data: { artifactCount: number } }).data.artifactCount;
    expect(count).toBeGreaterThanOrEqual(3);
  });
});
