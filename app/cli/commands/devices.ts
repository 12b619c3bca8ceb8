// `lcanvas devices`: the audio APIs this build has and, per API, its output/input devices (ids, names, channels,
// sample rates, default flags), as JSON. Owned by the rtaudio helper; only main.ts loads it.
import { parseArgs } from "node:util";
import { AddonNotBuiltError, loadAddon, type NativeDeviceInfo } from "../../audio/native";
import { type Command, printJson, UserError, usageError } from "../command";

export interface ApiDevices {
  api: string;
  devices: Array<Omit<NativeDeviceInfo, "api">>;
}

export interface DevicesReport {
  apis: ApiDevices[];
  /** What to do when an API lists nothing (no server running, no sound card). */
  hints: string[];
}

export function listDevices(apiFilter?: string): DevicesReport {
  let addon: ReturnType<typeof loadAddon>;
  try {
    addon = loadAddon();
  } catch (error) {
    if (error instanceof AddonNotBuiltError) throw new UserError(error.message);
    throw error;
  }
  if (!addon.hasRtAudio) {
    throw new UserError(
      "this build of the audio addon has no rtaudio driver: install librtaudio-dev and run npm run build:native",
    );
  }
  const compiled = addon.compiledApis();
  if (apiFilter !== undefined && !compiled.includes(apiFilter)) {
    throw new UserError(`unknown audio API "${apiFilter}"; this build has: ${compiled.join(", ")}`);
  }
  const apis = apiFilter === undefined ? compiled : [apiFilter];
  const report: DevicesReport = { apis: [], hints: [] };
  for (const api of apis) {
    const devices = addon.listDevices(api).map(({ api: _api, ...rest }) => rest);
    report.apis.push({ api, devices });
    if (devices.length === 0) {
      report.hints.push(
        api === "jack"
          ? "jack: no devices; start a JACK server (e.g. `jackd -d dummy -r 48000 -p 256`, or pw-jack with PipeWire)"
          : api === "pulse"
            ? "pulse: no devices; start PulseAudio or PipeWire's pulse layer"
            : `${api}: no devices; this machine has no sound card the ${api} API can open`,
      );
    }
  }
  return report;
}

const devices: Command = {
  path: ["devices"],
  usage: "devices [--api jack|pulse|alsa]",
  summary:
    "Print one JSON object: {apis: [{api, devices: [{id, name, outputChannels, inputChannels, sampleRates, preferredSampleRate, isDefaultOutput, isDefaultInput}]}], hints}.",
  run(args, io) {
    let values: { api?: string | undefined };
    try {
      ({ values } = parseArgs({
        args,
        options: { api: { type: "string" } },
        allowPositionals: false,
        strict: true,
      }));
    } catch (error) {
      throw usageError(devices, error instanceof Error ? error.message : String(error));
    }
    printJson(io, listDevices(values.api));
    return 0;
  },
};

export const commands: Command[] = [devices];
