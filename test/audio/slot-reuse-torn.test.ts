// Slot reuse under playback: another process frees the played pages and reuses their slots for other pages (another
// key's, or the same key's at another index) as fast as it can, while the null driver plays. Every captured block
// must be exactly one version of the right page, or silence (a freed page is a miss); never a mixture, never the
// foreign page that took the slot over.
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanvasReader, CanvasWriter, createCanvasFile } from "../../app/audio/canvas-file";
import { Engine } from "../../app/audio/engine";
import { addonPath } from "../../app/audio/native";
import { requireAddon, tempDir } from "./helpers";

const tmp = tempDir("lc-slot-torn-");
beforeAll(() => requireAddon());
afterAll(() => tmp.cleanup());

const FRAMES_PER_PAGE = 4096;
const BLOCK = 256;
const PAGES = 4;
const MISSING_PAGE = 2;
const KEY = 5n;
const FOREIGN = 0.75;

/** Per block: "A"/"B" (a clean version of the right page), "silence", or a description of what is wrong. */
function classifyBlocks(samples: Float32Array, pageOfBlock: (b: number) => number): string[] {
  const out: string[] = [];
  for (let b = 0; b * BLOCK < samples.length; b++) {
    const block = samples.subarray(b * BLOCK, (b + 1) * BLOCK);
    const page = pageOfBlock(b);
    const first = block[0]!;
    if (!block.every((v) => v === first)) {
      out.push(`mixed block ${b} (page ${page}): ${[...new Set(block)].slice(0, 4).join(", ")}`);
    } else if (first === 0) out.push("silence");
    else if (first === (page + 1) / 64) out.push("A");
    else if (first === -(page + 1) / 64) out.push("B");
    else if (first === FOREIGN) out.push(`block ${b}: the foreign page that reused the slot of page ${page}`);
    else out.push(`block ${b}: value ${first} belongs to no version of page ${page}`);
  }
  return out;
}

describe("page slots freed and reused while playing", () => {
  it("the detector flags a foreign page and a mixed block", () => {
    const foreign = new Float32Array(BLOCK * 2).fill(FOREIGN);
    foreign.fill(1 / 64, BLOCK + 7);
    const kinds = classifyBlocks(foreign, () => 0);
    expect(kinds[0]).toMatch(/foreign page/);
    expect(kinds[1]).toMatch(/^mixed block 1/);
  });

  it("a process freeing and reusing the played slots never makes the callback play a wrong or torn page", async () => {
    const path = join(tmp.dir, "churn.lcc");
    const livePages = [...Array(PAGES).keys()].filter((p) => p !== MISSING_PAGE);
    // Exactly as many slots as live pages: each write after a free has to take the slot just freed.
    createCanvasFile(path, {
      sampleRate: 48000,
      channels: 1,
      framesPerPage: FRAMES_PER_PAGE,
      pageCapacity: livePages.length,
    });
    const seed = new CanvasWriter(path);
    for (const p of livePages)
      seed.writePage(KEY, p, 1, new Float32Array(FRAMES_PER_PAGE).fill((p + 1) / 64));
    expect(seed.pagesUsed()).toBe(livePages.length);
    expect(() => seed.writePage(KEY + 1n, 0, 1, new Float32Array(FRAMES_PER_PAGE))).toThrow(/is full/);
    seed.close();

    const engine = Engine.create({
      sampleRate: 48000,
      channels: 1,
      maxHeads: 1,
      maxLanes: 1,
      maxBlockFrames: BLOCK,
    });
    try {
      engine.openCanvas(path);
      engine.control.setLanePanGains(0, 1, 1);
      engine.setHeadStreams(0, [KEY]);
      engine.setLoop(0, { startFrames: 0, endFrames: PAGES * FRAMES_PER_PAGE, enabled: true });
      engine.play(0);

      const child = spawn(
        process.execPath,
        [
          join(import.meta.dirname, "fixtures/slot-churner.mjs"),
          addonPath(),
          path,
          String(KEY),
          livePages.join(","),
          String(FRAMES_PER_PAGE),
          "2.5",
        ],
        { stdio: ["ignore", "pipe", "inherit"] },
      );
      let childOut = "";
      child.stdout.on("data", (chunk: Buffer) => {
        childOut += chunk.toString();
      });
      const exited = new Promise<number | null>((resolve) => child.on("exit", resolve));
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", () => childOut.includes("ready") && resolve());
        child.on("exit", () => reject(new Error(`slot churner exited early: ${childOut}`)));
      });

      engine.startCapture(48000 * 4);
      engine.start({ driver: "null", bufferFrames: BLOCK });
      const code = await exited;
      engine.stop();
      const captured = engine.stopCapture();
      const stats = engine.stats();
      expect(code, `slot churner failed: ${childOut}`).toBe(0);

      const blocksPerLoop = (PAGES * FRAMES_PER_PAGE) / BLOCK;
      const pageOfBlock = (b: number) => Math.floor(((b % blocksPerLoop) * BLOCK) / FRAMES_PER_PAGE);
      const kinds = classifyBlocks(captured, pageOfBlock);
      const problems = kinds.filter((k) => k !== "A" && k !== "B" && k !== "silence");
      expect(problems).toEqual([]);
      expect(kinds.filter((_, b) => pageOfBlock(b) === MISSING_PAGE).every((k) => k === "silence")).toBe(
        true,
      );
      const written = kinds.filter((_, b) => pageOfBlock(b) !== MISSING_PAGE);
      expect(written.filter((k) => k === "A").length).toBeGreaterThan(10);
      expect(written.filter((k) => k === "B").length).toBeGreaterThan(10);
      expect(kinds.length).toBeGreaterThan(300);
      const result = JSON.parse(childOut.trim().split("\n").at(-1)!) as {
        rounds: number;
        frees: number;
        pagesUsed: number;
      };
      expect(result.rounds).toBeGreaterThan(1000);
      expect(result.pagesUsed).toBe(livePages.length);
      const after = new CanvasReader(path);
      expect(after.pages().map((r) => [r.streamKey, r.pageIndex])).toEqual(
        expect.arrayContaining(livePages.map((p) => [KEY, p])),
      );
      expect(after.pages().length).toBe(livePages.length);
      console.log(
        `slot-reuse-torn: ${kinds.length} blocks (${written.filter((k) => k === "silence").length} silent on freed pages), churner rounds ${result.rounds}, frees ${result.frees}, retries ${stats.tornReadRetries}, misses ${stats.pageMisses}`,
      );
    } finally {
      engine.dispose();
    }
  });
});
