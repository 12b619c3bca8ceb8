// The JACK test harness itself: unique server names, readiness, stop, and clear failures when jackd cannot start.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { jackConnect, jackPorts, startJack } from "../support/jack";

describe("test/support/jack", () => {
  it("starts two dummy servers side by side under unique names and stops both", async () => {
    const a = await startJack();
    const b = await startJack();
    try {
      expect(a.name).not.toBe(b.name);
      expect(a.env.JACK_DEFAULT_SERVER).toBe(a.name);
      expect(a.env.JACK_NO_START_SERVER).toBe("1");
      const ports = await jackPorts(a);
      expect(ports).toEqual(
        expect.arrayContaining([
          "system:capture_1",
          "system:capture_2",
          "system:playback_1",
          "system:playback_2",
        ]),
      );
      await jackConnect(a, "system:capture_1", "system:playback_1");
      await expect(jackConnect(b, "system:capture_1", "no-such-client:in")).rejects.toThrow(/jack_connect/);
      expect(a.running() && b.running()).toBe(true);
    } finally {
      await a.stop();
      await b.stop();
    }
    expect(a.running()).toBe(false);
    expect(b.running()).toBe(false);
  });

  it("refuses a server name that is already taken, and leaves that server alone", async () => {
    const first = await startJack();
    try {
      await expect(startJack({ name: first.name })).rejects.toThrow(/already running/);
      expect(first.running()).toBe(true);
      expect(await jackPorts(first)).toContain("system:playback_1");
    } finally {
      await first.stop();
    }
  });

  it("fails with jackd's own output when the backend cannot start", async () => {
    await expect(startJack({ backend: "no-such-backend", readyTimeoutMs: 5_000 })).rejects.toThrow(
      /exited .* before it was ready[\s\S]*jackd2/,
    );
  });

  it("clears JACK's registry entry of a killed server when it is stopped", async () => {
    const registryNames = () => readFileSync("/dev/shm/jack-shm-registry", "latin1");
    const server = await startJack();
    expect(registryNames()).toContain(`:${server.name}:`);
    await server.kill();
    expect(server.running()).toBe(false);
    expect(registryNames()).toContain(`:${server.name}:`); // a SIGKILLed server leaves its entry behind
    await server.stop();
    expect(registryNames()).not.toContain(`:${server.name}:`);
  });
});
