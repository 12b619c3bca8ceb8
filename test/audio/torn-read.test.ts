// Torn reads are impossible: another process rewrites pages (two versions, each a constant per page, so any
// mixture inside one block is visible) while the null driver plays them; every captured block is exactly one
// version of one page, or silence for the page that was never written (counted as misses).
import { spawn } from "node:child_process";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanvasWriter, createCanvasFile } from "../../app/audio/canvas-file";
import { Engine } from "../../app/audio/engine";
import { addonPath } from "../../app/audio/native";
import { requireAddon, tempDir } from "./helpers";

const tmp = tempDir();
beforeAll(() => requireAddon());
afterAll(() => tmp.cleanup());

const FRAMES_PER_PAGE = 4096;
const BLOCK = 256;
const PAGES = 4;
const MISSING_PAGE = 2;

/** Per block: "A"/"B" for a clean version of the right page, "silence", or a description of what is wrong. */
function classifyBlocks(
  samples: Float32Array,
  blockSamples: number,
  pageOfBlock: (b: number) => number,
): string[] {
  const out: string[] = [];
  for (let b = 0; b * blockSamples < samples.length; b++) {
    const block = samples.subarray(b * blockSamples, (b + 1) * blockSamples);
    const page = pageOfBlock(b);
    const first = block[0]!;
    if (!block.every((v) => v === first)) {
      out.push(`mixed block ${b} (page ${page}): ${[...new Set(block)].slice(0, 4).join(", ")}`);
    } else if (first === 0) out.push("silence");
    else if (first === (page + 1) / 64) out.push("A");
    else if (first === -(page + 1) / 64) out.push("B");
    else out.push(`block ${b}: value ${first} belongs to no version of page ${page}`);
  }
  return out;
}

describe("seqlock pages", () => {
  it("the detector flags a block that mixes two versions", () => {
    const mixed = new Float32Array(BLOCK).fill(1 / 64);
    mixed.fill(-1 / 64, 100);
    expect(classifyBlocks(mixed, BLOCK, () => 0)[0]).toMatch(/^mixed block 0/);
  });

  it("a writer process rewriting pages never produces a torn block", async () => {
    const path = join(tmp.dir, "torn.lcc");
    createCanvasFile(path, {
      sampleRate: 48000,
      channels: 1,
      framesPerPage: FRAMES_PER_PAGE,
      pageCapacity: 64,
    });
    const seed = new CanvasWriter(path);
    for (let p = 0; p < PAGES; p++) {
      if (p !== MISSING_PAGE) seed.writePage(5n, p, 1, new Float32Array(FRAMES_PER_PAGE).fill((p + 1) / 64));
    }
    seed.close();
    const livePages = [...Array(PAGES).keys()].filter((p) => p !== MISSING_PAGE);

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
      engine.setHeadStreams(0, [5n]);
      engine.setLoop(0, { startFrames: 0, endFrames: PAGES * FRAMES_PER_PAGE, enabled: true });
      engine.play(0);

      const child = spawn(
        process.execPath,
        [
          join(import.meta.dirname, "fixtures/rewriter.mjs"),
          addonPath(),
          path,
          "5",
          livePages.join(","),
          String(FRAMES_PER_PAGE),
          "1",
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
        child.on("exit", () => reject(new Error(`rewriter exited early: ${childOut}`)));
      });

      engine.startCapture(48000 * 4);
      engine.start({ driver: "null", bufferFrames: BLOCK });
      await exited;
      engine.stop();
      const captured = engine.stopCapture();
      const stats = engine.stats();

      const blocksPerLoop = (PAGES * FRAMES_PER_PAGE) / BLOCK;
      const pageOfBlock = (b: number) => Math.floor(((b % blocksPerLoop) * BLOCK) / FRAMES_PER_PAGE);
      const kinds = classifyBlocks(captured, BLOCK, pageOfBlock);
      const problems = kinds.filter((k) => k !== "A" && k !== "B" && k !== "silence");
      expect(problems).toEqual([]);
      const missingBlocks = kinds.filter((_, b) => pageOfBlock(b) === MISSING_PAGE);
      expect(missingBlocks.every((k) => k === "silence")).toBe(true);
      expect(stats.pageMisses).toBeGreaterThanOrEqual(missingBlocks.length);
      const written = kinds.filter((_, b) => pageOfBlock(b) !== MISSING_PAGE);
      expect(written.filter((k) => k === "A").length).toBeGreaterThan(10);
      expect(written.filter((k) => k === "B").length).toBeGreaterThan(10);
      expect(kinds.length).toBeGreaterThan(300);
      const rounds = JSON.parse(childOut.trim().split("\n").at(-1)!).rounds as number;
      expect(rounds).toBeGreaterThan(1000);
      console.log(
        `torn-read: ${kinds.length} blocks, writer rounds ${rounds}, retries ${stats.tornReadRetries}, misses ${stats.pageMisses} (${missingBlocks.length} blocks on the unwritten page)`,
      );
    } finally {
      engine.dispose();
    }
  });
});
