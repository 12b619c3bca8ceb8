// Progress lines of the CLI: a redrawn bar on a terminal, rate-limited plain lines (and the final one) otherwise.
import { describe, expect, it } from "vitest";
import type { CliIo } from "../../app/cli/command";
import { Progress } from "../../app/cli/progress";

function sink(isTty: boolean) {
  const lines: string[] = [];
  const raw: string[] = [];
  const io: CliIo = { out: (t) => lines.push(t), err: () => undefined, isTty };
  return { io, lines, raw, write: (t: string) => raw.push(t) };
}

describe("Progress", () => {
  it("redraws one line with a bar on a terminal and ends it with a newline", () => {
    const s = sink(true);
    const progress = new Progress(s.io, { write: s.write, barWidth: 10 });
    progress.update("rendering pages", 5, 10);
    progress.update("rendering pages", 10, 10);
    progress.done();
    expect(s.lines).toEqual([]);
    expect(s.raw).toEqual([
      "\r\x1b[2Krendering pages [#####-----] 50% (5/10)",
      "\r\x1b[2Krendering pages [##########] 100% (10/10)",
      "\n",
    ]);
  });

  it("prints plain lines at most once per interval when not a terminal, and always the last step", () => {
    const s = sink(false);
    let now = 0;
    const progress = new Progress(s.io, { write: s.write, plainIntervalMs: 1000, now: () => now });
    for (let done = 1; done <= 10; done++) {
      now += 300;
      progress.update("mixing", done, 10);
    }
    progress.done();
    expect(s.raw).toEqual([]);
    expect(s.lines).toEqual([
      "mixing 1/10 (10%)",
      "mixing 5/10 (50%)",
      "mixing 9/10 (90%)",
      "mixing 10/10 (100%)",
    ]);
  });
});
