// scripts/setup.sh on a machine missing Debian packages, run as a non-root user: with fake dpkg-query, id, sudo
// (which, like the real one, drops the caller's environment) and apt-get on PATH, so nothing is installed.
import { spawnSync } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";

const repo = join(import.meta.dirname, "../..");
const dir = mkdtempSync(join(tmpdir(), "lc-setup-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function fakeBin(name: string, withSudo: boolean): string {
  const bin = join(dir, name);
  const log = join(bin, "apt.log");
  const tools: Record<string, string> = {
    "dpkg-query": "exit 1",
    id: 'if [ "$1" = -u ]; then echo 1000; else exec /usr/bin/id "$@"; fi',
    "debconf-set-selections": "cat >/dev/null",
    "apt-get": `echo "apt-get $1 DEBIAN_FRONTEND=\${DEBIAN_FRONTEND:-unset}" >> ${log}; [ "$1" = update ]`,
  };
  if (withSudo) tools["sudo"] = `exec env -i PATH="${bin}:/usr/bin:/bin" "$@"`;
  spawnSync("mkdir", ["-p", bin]);
  for (const [tool, body] of Object.entries(tools)) {
    writeFileSync(join(bin, tool), `#!/bin/sh\n${body}\n`);
    chmodSync(join(bin, tool), 0o755);
  }
  return bin;
}

function setup(bin: string) {
  return spawnSync("bash", [join(repo, "scripts/setup.sh")], {
    encoding: "utf8",
    env: { PATH: `${bin}:/usr/bin:/bin`, HOME: dir },
    timeout: 30_000,
  });
}

describe("scripts/setup.sh as a non-root user", () => {
  it("installs missing packages through sudo without a prompt (DEBIAN_FRONTEND reaches apt-get)", () => {
    const bin = fakeBin("with-sudo", true);
    const run = setup(bin);
    expect(run.status).not.toBe(0); // the fake apt-get install fails, so set-up stops there
    const log = readFileSync(join(bin, "apt.log"), "utf8");
    expect(log).toMatch(/^apt-get update/m);
    expect(log).toMatch(/^apt-get install DEBIAN_FRONTEND=noninteractive$/m);
  });

  it("says what to install when sudo is missing, and stops before apt-get", () => {
    const bin = fakeBin("without-sudo", false);
    const run = setup(bin);
    expect(run.status).toBe(1);
    expect(run.stdout).toMatch(/install them as root \(apt-get install librtaudio-dev .*\) or install sudo/);
    expect(() => readFileSync(join(bin, "apt.log"), "utf8")).toThrow();
  });
});
