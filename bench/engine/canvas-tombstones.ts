// Benchmark (not part of npm test): what tombstones cost the callback. Freed slots never become empty again, so a
// long session ends with a page table of live slots and tombstones only, where a lookup of a missing page probes
// the whole 64-slot bound instead of stopping at an empty slot. Peers in the same run: the same engine, lanes and
// pages on a fresh table (no tombstones) against a saturated one (every other slot a tombstone), for pages that
// are there (hits) and pages that are not (misses). Writes bench/results/canvas-tombstones.md.
// usage: node --import tsx bench/engine/canvas-tombstones.ts
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { CanvasReader, CanvasWriter, createCanvasFile } from "../../app/audio/canvas-file";
import { Engine } from "../../app/audio/engine";

const SAMPLE_RATE = 48_000;
const CAPACITY = 32_768; // the host's canvas (app/host/session.ts)
const FRAMES_PER_PAGE = 1024;
const LANES = 64;
const PAGES = 8;
const BLOCK = 256;
const RENDER_FRAMES = PAGES * FRAMES_PER_PAGE * 16;
const REPEATS = 7;

const dir = mkdtempSync(join(tmpdir(), "lc-bench-tombstones-"));
const liveKey = (lane: number) => BigInt(0x5000 + lane);
const missingKey = (lane: number) => BigInt(0x9000 + lane);

function makeCanvas(name: string, saturate: boolean): { path: string; tombstones: number; empty: number } {
  const path = join(dir, name);
  createCanvasFile(path, {
    sampleRate: SAMPLE_RATE,
    channels: 1,
    framesPerPage: FRAMES_PER_PAGE,
    pageCapacity: CAPACITY,
  });
  const writer = new CanvasWriter(path);
  const empty = new Float32Array(0);
  if (saturate) {
    // Claim every slot we can (until chains are full), then free them all: the table holds no empty slot after.
    const written: Array<[bigint, number]> = [];
    let failures = 0;
    for (let i = 0; failures < 2000; i++) {
      const key = BigInt(1_000_000 + i);
      try {
        writer.writePage(key, 0, 1, empty);
        written.push([key, 0]);
      } catch {
        failures++;
      }
    }
    for (const [key, page] of written) writer.freePage(key, page);
  }
  for (let lane = 0; lane < LANES; lane++) {
    for (let p = 0; p < PAGES; p++) {
      writer.writePage(liveKey(lane), p, 1, new Float32Array(FRAMES_PER_PAGE).fill(((lane % 7) + 1) / 256));
    }
  }
  writer.close();
  const reader = new CanvasReader(path);
  const tombstones = reader.tombstoneSlots().length;
  return { path, tombstones, empty: CAPACITY - tombstones - reader.pages().length };
}

/** Median microseconds per 256-frame block of one head over LANES lanes. */
function timeBlocks(path: string, keys: bigint[]): { usPerBlock: number; misses: number } {
  const engine = Engine.create({
    sampleRate: SAMPLE_RATE,
    channels: 1,
    maxHeads: 1,
    maxLanes: LANES,
    maxBlockFrames: BLOCK,
  });
  try {
    engine.openCanvas(path);
    engine.start({ driver: "offline" });
    engine.setHeadStreams(0, keys);
    engine.setLoop(0, { startFrames: 0, endFrames: PAGES * FRAMES_PER_PAGE, enabled: true });
    engine.play(0);
    engine.renderOffline(PAGES * FRAMES_PER_PAGE, { blockFrames: BLOCK }); // warm-up: fault pages and table in
    const samples: number[] = [];
    for (let r = 0; r < REPEATS; r++) {
      const t0 = process.hrtime.bigint();
      engine.renderOffline(RENDER_FRAMES, { blockFrames: BLOCK });
      samples.push(Number(process.hrtime.bigint() - t0) / 1000 / (RENDER_FRAMES / BLOCK));
    }
    samples.sort((a, b) => a - b);
    return { usPerBlock: samples[Math.floor(REPEATS / 2)]!, misses: engine.stats().pageMisses };
  } finally {
    engine.dispose();
  }
}

try {
  const loadStart = loadavg()
    .map((v) => v.toFixed(2))
    .join(" ");
  const fresh = makeCanvas("fresh.lcc", false);
  const saturated = makeCanvas("saturated.lcc", true);
  const lanes = [...Array(LANES).keys()];
  const hits = lanes.map(liveKey);
  const misses = lanes.map(missingKey);
  const rows = [
    ["hits", "fresh", timeBlocks(fresh.path, hits)],
    ["hits", "saturated", timeBlocks(saturated.path, hits)],
    ["misses", "fresh", timeBlocks(fresh.path, misses)],
    ["misses", "saturated", timeBlocks(saturated.path, misses)],
  ] as const;
  const loadEnd = loadavg()
    .map((v) => v.toFixed(2))
    .join(" ");
  const us = (lookup: string, table: string) =>
    rows.find((r) => r[0] === lookup && r[1] === table)![2].usPerBlock;
  const lines = [
    "# Canvas page table: what tombstones cost the callback",
    "",
    `Recorded ${new Date().toISOString()} with \`node --import tsx bench/engine/canvas-tombstones.ts\` (not part of npm test).`,
    "",
    `Machine: ${cpus()[0]?.model ?? "?"}, ${cpus().length} cores, Node ${process.version}. Load average at start ${loadStart}, at end ${loadEnd} (other work shared the cores).`,
    "",
    `One head, ${LANES} lanes, ${BLOCK}-frame blocks on the offline driver (the callback's kernel), a ${CAPACITY}-slot table (the host's), ${LANES * PAGES} live pages. "fresh": no tombstones. "saturated": slots were claimed until the chains were full and then freed, before the live pages were written (${saturated.tombstones} tombstones, ${saturated.empty} empty slots left): the state a long session ends in. "misses": every lane plays a key that is not in the table, so each lookup probes until an empty slot or the 64-slot bound (a few slots on the fresh table, tens on the saturated one). Median of ${REPEATS} runs of ${RENDER_FRAMES / BLOCK} blocks; budget of one block at 48 kHz: 5,333 us.`,
    "",
    "| lookups | table | us per block | page misses counted |",
    "|---|---|---:|---:|",
    ...rows.map(
      ([lookup, table, r]) => `| ${lookup} | ${table} | ${r.usPerBlock.toFixed(2)} | ${r.misses} |`,
    ),
    "",
    `Saturated / fresh: hits ${(us("hits", "saturated") / us("hits", "fresh")).toFixed(2)}x, misses ${(us("misses", "saturated") / us("misses", "fresh")).toFixed(2)}x.`,
    "",
  ];
  const out = join(import.meta.dirname, "../results/canvas-tombstones.md");
  writeFileSync(out, lines.join("\n"));
  console.log(lines.join("\n"));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
