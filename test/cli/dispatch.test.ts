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
