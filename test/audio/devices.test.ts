// `lcanvas devices` end to end: the real CLI and addon, with and without a JACK server.
import { describe, expect, it } from "vitest";
import type { DevicesReport } from "../../app/cli/commands/devices";
import { runCli } from "../support/cli";
import { jackClientEnv, startJack } from "../support/jack";

function parseReport(stdout: string): DevicesReport {
  return JSON.parse(stdout) as DevicesReport;
}

describe("lcanvas devices", () => {
  it("lists the compiled APIs and, with no JACK server up, no JACK device and a hint", async () => {
    const env = jackClientEnv(`lc-absent-${process.pid}`);
    const result = await runCli(["devices"], env);
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    const report = parseReport(result.stdout);
    expect(report.apis.map((a) => a.api)).toEqual(expect.arrayContaining(["jack", "alsa", "pulse"]));
    expect(report.apis.find((a) => a.api === "jack")?.devices).toEqual([]);
    expect(report.hints.join("\n")).toMatch(/jack: no devices; start a JACK server/);
  });

  it("lists the JACK server's system device with its channels, rate and default flag", async () => {
    const server = await startJack({ sampleRate: 48_000, periodFrames: 256 });
    try {
      const result = await runCli(["devices", "--api", "jack"], server.env);
      expect(result.code).toBe(0);
      const report = parseReport(result.stdout);
      expect(report.apis).toHaveLength(1);
      const jack = report.apis[0]!;
      expect(jack.api).toBe("jack");
      const system = jack.devices.find((d) => d.name === "system");
      expect(system).toMatchObject({
        id: "0",
        outputChannels: 2,
        inputChannels: 2,
        isDefaultOutput: true,
        preferredSampleRate: 48_000,
      });
      expect(system?.sampleRates).toEqual([48_000]);
      expect(report.hints.some((h) => h.startsWith("jack:"))).toBe(false);
    } finally {
      await server.stop();
    }
  });

  it("rejects an unknown API by name and lists the ones this build has", async () => {
    const result = await runCli(["devices", "--api", "coreaudio"]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/unknown audio API "coreaudio"; this build has: .*jack/);
  });

  it("rejects an unknown option with usage", async () => {
    const result = await runCli(["devices", "--nope"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("usage: lcanvas devices");
  });
});
