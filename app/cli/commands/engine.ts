// `lcanvas engine ...`: the audio engine's self-test. Owned by the engine helper; only main.ts loads it.
import { parseArgs } from "node:util";
import { AddonNotBuiltError } from "../../audio/native";
import { runSelftest } from "../../audio/selftest";
import { type Command, printJson, UserError, usageError } from "../command";

function positiveNumber(
  command: Command,
  value: string | undefined,
  name: string,
  fallback: number,
  integer = true,
) {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0 || (integer && !Number.isInteger(n))) {
    throw usageError(
      command,
      `--${name}: expected a positive ${integer ? "integer" : "number"}, got ${JSON.stringify(value)}`,
    );
  }
  return n;
}

const selftest: Command = {
  path: ["engine", "selftest"],
  usage:
    "engine selftest [--driver null|offline|rtaudio] [--api jack|alsa|pulse] [--device ID] [--lanes N] [--heads N] [--seconds S] [--sample-rate HZ] [--buffer-frames N]",
  summary:
    "Play a generated test canvas through a driver, capture the callback's output and compare it bit for bit with the JS reference mix (JSON; exit 1 on mismatch).",
  async run(args, io) {
    let values: Record<string, string | boolean | undefined>;
    try {
      ({ values } = parseArgs({
        args,
        options: {
          driver: { type: "string" },
          api: { type: "string" },
          device: { type: "string" },
          lanes: { type: "string" },
          heads: { type: "string" },
          seconds: { type: "string" },
          "sample-rate": { type: "string" },
          "buffer-frames": { type: "string" },
        },
        strict: true,
      }));
    } catch (error) {
      throw usageError(selftest, (error as Error).message);
    }
    const driver = (values["driver"] as string | undefined) ?? "null";
    if (driver !== "null" && driver !== "offline" && driver !== "rtaudio") {
      throw usageError(
        selftest,
        `--driver: expected null, offline or rtaudio, got ${JSON.stringify(driver)}`,
      );
    }
    const lanes = positiveNumber(selftest, values["lanes"] as string | undefined, "lanes", 4);
    const heads = positiveNumber(selftest, values["heads"] as string | undefined, "heads", 2);
    if (lanes > 1024) throw usageError(selftest, "--lanes: at most 1024");
    if (heads > 64) throw usageError(selftest, "--heads: at most 64");
    const seconds = positiveNumber(selftest, values["seconds"] as string | undefined, "seconds", 2, false);
    const sampleRate = positiveNumber(
      selftest,
      values["sample-rate"] as string | undefined,
      "sample-rate",
      48000,
    );
    const bufferFrames = positiveNumber(
      selftest,
      values["buffer-frames"] as string | undefined,
      "buffer-frames",
      256,
    );
    try {
      const result = await runSelftest({
        driver,
        lanes,
        heads,
        seconds,
        sampleRate,
        bufferFrames,
        ...(typeof values["api"] === "string" ? { api: values["api"] } : {}),
        ...(typeof values["device"] === "string" ? { deviceId: values["device"] } : {}),
      });
      printJson(io, result);
      if (!result.ok) {
        io.err(
          `engine selftest: ${result.mismatched_samples} of ${result.frames_compared * 2} samples differ from the reference mix` +
            (result.capture_overruns ? ` and the capture overran ${result.capture_overruns} times` : ""),
        );
        return 1;
      }
      return 0;
    } catch (error) {
      if (error instanceof AddonNotBuiltError) throw new UserError(error.message);
      if (error instanceof Error && !(error instanceof UserError)) {
        throw new UserError(`the ${driver} driver failed: ${error.message}`);
      }
      throw error;
    }
  },
};

export const commands: Command[] = [selftest];
