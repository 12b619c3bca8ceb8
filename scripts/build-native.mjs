// Builds the native addons with CMake, using the Node-API headers from the installed npm packages node-api-headers
// and node-addon-api: no header download. The audio addon (native/ -> native/build/Release/lcanvas_audio.node)
// and the FluidSynth addon (native/synth/ -> native/synth/build/Release/lcanvas_synth.node; skipped with a note
// when pkg-config finds no fluidsynth: the synth then falls back to spessasynth).
// Called by scripts/setup.sh and `npm run build:native`. Options: --build-dir DIR (the audio addon only, e.g. guard
// builds; the synth addon is not built then), --define NAME=VALUE (repeatable, audio addon).
import { spawnSync } from "node:child_process";
import { mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs as parseCliArgs } from "node:util";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const require = createRequire(import.meta.url);
const { values } = parseCliArgs({
  options: {
    "build-dir": { type: "string" },
    define: { type: "string", multiple: true },
  },
});
const buildDir = resolve(root, values["build-dir"] ?? "native/build");
const napiInclude = require("node-api-headers").include_dir;
const addonInclude = resolve(root, require("node-addon-api").include_dir);

function run(cmd, args) {
  const result = spawnSync(cmd, args, { stdio: "inherit", cwd: root });
  if (result.error) {
    console.error(
      `build-native: could not run ${cmd}: ${result.error.message}. Install cmake and g++ (npm run setup).`,
    );
    process.exit(1);
  }
  if (result.status !== 0) {
    console.error(`build-native: ${cmd} ${args.join(" ")} failed (exit ${result.status}).`);
    process.exit(result.status ?? 1);
  }
}

mkdirSync(buildDir, { recursive: true });
const defines = (values.define ?? []).map((d) => `-D${d}`);
run("cmake", [
  "-S",
  join(root, "native"),
  "-B",
  buildDir,
  "-DCMAKE_BUILD_TYPE=Release",
  `-DNODE_API_INCLUDE=${napiInclude}`,
  `-DNODE_ADDON_API_INCLUDE=${addonInclude}`,
  ...defines,
]);
run("cmake", ["--build", buildDir, "--parallel", "2"]);
console.log(`build-native: built ${join(buildDir, "Release", "lcanvas_audio.node")}`);

if (values["build-dir"] === undefined) {
  const probe = spawnSync("pkg-config", ["--exists", "fluidsynth"], { stdio: "ignore" });
  if (probe.status !== 0) {
    console.log(
      "build-native: FluidSynth development files not found (apt-get install libfluidsynth-dev); the synth addon is not built and MIDI renders with spessasynth",
    );
  } else {
    const synthBuild = resolve(root, "native/synth/build");
    mkdirSync(synthBuild, { recursive: true });
    run("cmake", [
      "-S",
      join(root, "native/synth"),
      "-B",
      synthBuild,
      "-DCMAKE_BUILD_TYPE=Release",
      `-DNODE_API_INCLUDE=${napiInclude}`,
      `-DNODE_ADDON_API_INCLUDE=${addonInclude}`,
    ]);
    run("cmake", ["--build", synthBuild, "--parallel", "2"]);
    console.log(`build-native: built ${join(synthBuild, "Release", "lcanvas_synth.node")}`);
  }
}
