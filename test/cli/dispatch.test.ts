import { describe, expect, it } from "vitest";
import { main } from "../../app/cli/main";

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (t: string) => out.push(t), err: (t: string) => err.push(t), isTty: false }, out, err };
}

describe("lcanvas dispatcher", () => {
  it("rejects an unknown command with exit code 2 and names it", async () => {
    const c = capture();
    expect(await main(["no-such-command", "x"], c.io)).toBe(2);
    expect(c.err.join("\n")).toContain('unknown command "no-such-command x"');
  });

  it("prints help and exits 0 on `help`", async () => {
    const c = capture();
    expect(await main(["help"], c.io)).toBe(0);
    expect(c.out.join("\n")).toContain("usage:");
  });
});

describe("lcanvas command groups", () => {
  it("declare exactly the first words of the commands they load", async () => {
    const { GROUPS } = await import("../../app/cli/main");
    const seen = new Set<string>();
    for (const group of GROUPS) {
      const { commands } = await group.load();
      const firstWords = new Set(commands.map((c) => c.path[0]));
      expect([...firstWords].sort()).toEqual([...group.words].sort());
      for (const word of group.words) {
        expect(seen.has(word), `"${word}" is declared by two groups`).toBe(false);
        seen.add(word);
      }
    }
  });
});
