// Benchmark: edit-to-ear latency on the null driver. The demo project (assets/demo/make-demo.ts) in a temp folder,
// plus a "Marker" lane; every other lane is muted (a control-block change: their pages are still rendered, so the
// renderer's load is the demo's). Head Alpha loops the demo and plays with capture on; Beta stands still (its
// window is kept rendered too). At random moments a region with a loud organ note is placed on the Marker lane at
// Alpha's audible beat (replacing the previous one): a real document edit that the renderer re-renders. Latency =
// end of the first captured block carrying sound after the edit minus the frame the callback had reached when
// session.apply was called. Writes bench/results/render-edit-latency.json.
// Run: node --import tsx bench/render/edit-latency.ts [--edits 60]
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { regionSpec } from "../../app/core/canvas/region-spec";
import { applyCommands, type Command, newLane, newRegion } from "../../app/core/document";
import { openSession } from "../../app/host/session";
import { DEMO_BARS, DEMO_BPM, makeDemo } from "../../assets/demo/make-demo";
import {
  editProject,
  firstSoundFrame,
  importMarker,
  load,
  machine,
  markerSequence,
  peakOf,
  prefixedIds,
  record,
  sleep,
  summary,
  uncommitted,
} from "./common";

const { values } = parseArgs({ options: { edits: { type: "string", default: "60" } } });
const edits = Number(values.edits);
const BUFFER = 256;
const RATE = 48_000;
const LOOP_BEATS = DEMO_BARS * 4;
const MARKER_BEATS = 2;

interface EditRecord {
  readonly atBeat: number;
  readonly editFrame: number;
  readonly applyMs: number;
  readonly wallLagMs: number;
  latencyMs?: number;
  excluded?: string;
}

async function main(): Promise<void> {
  const loadBefore = load();
  const root = mkdtempSync(join(tmpdir(), "lc-render-edit-"));
  const project = join(root, "demo");
  await makeDemo(project);
  const marker = await importMarker(project, markerSequence(DEMO_BPM, MARKER_BEATS), "marker.mid");
  const ids = prefixedIds("edit");
  const markerLane = newLane(ids, { name: "Marker" });
  await editProject(project, (document) => {
    const commands: Command[] = document.lanes.map((lane) => ({
      kind: "updateLane",
      laneId: lane.id,
      changes: { mute: true },
    }));
    commands.push({ kind: "addLane", lane: markerLane });
    const alpha = document.heads.find((h) => h.name === "Alpha")!;
    const beta = document.heads.find((h) => h.name === "Beta")!;
    commands.push({
      kind: "updateHead",
      headId: alpha.id,
      changes: { loopStartBeat: 0, loopEndBeat: LOOP_BEATS, loopEnabled: true },
    });
    commands.push({ kind: "updateHead", headId: beta.id, changes: { positionBeat: 16 } });
    return applyCommands(document, commands).document;
  });

  const session = await openSession(project, { driver: "null", bufferFrames: BUFFER, autosaveMs: 0 });
  const records: EditRecord[] = [];
  let captured: Float32Array = new Float32Array(0);
  try {
    await session.rewind();
    await session.waitReady();
    const maxFrames = Math.ceil((edits * 3 + 20) * RATE);
    session.startCapture(maxFrames);
    session.play("Alpha");
    const startedAt = performance.now();
    session.start();
    let previous: string | undefined;
    let seed = 12345;
    const random = () => {
      seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
      return seed / 2 ** 32;
    };
    while (records.length < edits) {
      await sleep(1800 + random() * 800);
      let alpha = session.heads().find((h) => h.name === "Alpha")!;
      while (alpha.positionBeat > LOOP_BEATS - MARKER_BEATS - 1 || alpha.positionBeat < 0.5) {
        await sleep(50);
        alpha = session.heads().find((h) => h.name === "Alpha")!;
      }
      const region = newRegion(ids, {
        laneId: markerLane.id,
        name: "Marker",
        encodingHash: marker,
        atBeat: alpha.positionBeat,
        durationBeats: MARKER_BEATS,
        spec: regionSpec([0, MARKER_BEATS * 4, 0, 1, 0, 1], { is_output: false }),
      });
      const commands: Command[] = [{ kind: "addRegion", region }];
      if (previous) commands.unshift({ kind: "removeRegion", regionId: previous });
      const editFrame = session.engine.stats().framesRendered;
      const wall = performance.now();
      session.apply(commands, "marker");
      const applyMs = performance.now() - wall;
      previous = region.id;
      records.push({
        atBeat: alpha.positionBeat,
        editFrame,
        applyMs,
        wallLagMs: wall - startedAt - (editFrame / RATE) * 1000,
      });
    }
    await sleep(1500);
    session.engine.stop();
    captured = session.stopCapture();
    const stats = session.stats();
    for (const [index, edit] of records.entries()) {
      const next = records[index + 1]?.editFrame ?? captured.length / 2;
      if (peakOf(captured, edit.editFrame - RATE / 10, edit.editFrame) !== 0) {
        edit.excluded = "not silent in the 100 ms before the edit";
        continue;
      }
      const sound = firstSoundFrame(captured, edit.editFrame);
      if (sound < 0 || sound >= next) {
        edit.excluded = "no sound before the next edit";
        continue;
      }
      const blockEnd = (Math.floor(sound / BUFFER) + 1) * BUFFER;
      edit.latencyMs = ((blockEnd - edit.editFrame) / RATE) * 1000;
    }
    const latencies = records.flatMap((r) => (r.latencyMs === undefined ? [] : [r.latencyMs]));
    const result = {
      command: `node --import tsx bench/render/edit-latency.ts --edits ${edits}`,
      machine: machine(),
      uncommittedFilesOfOthers: uncommitted(),
      loadBefore,
      loadAfter: load(),
      setup: `demo project + Marker lane (others muted), Alpha looping beats 0-${LOOP_BEATS}, Beta stopped at beat 16, null driver, ${BUFFER}-frame blocks at ${RATE} Hz, lookahead 2 s, workers = cores`,
      goal: "p95 < 50 ms",
      latencyMs: summary(latencies),
      applyMs: summary(records.map((r) => r.applyMs)),
      excluded: records.filter((r) => r.excluded).length,
      pageMisses: stats.engine.pageMisses,
      lateBlocks: stats.engine.lateBlocks,
      rendererErrors: stats.rendererErrors,
      renderer: {
        pagesRendered: stats.renderer.pagesRendered,
        pagesCopied: stats.renderer.pagesCopied,
        jobsDropped: stats.renderer.jobsDropped,
      },
      edits: records.map((r) => ({
        ...r,
        applyMs: Math.round(r.applyMs * 100) / 100,
        wallLagMs: Math.round(r.wallLagMs),
      })),
    };
    console.log(
      JSON.stringify({
        latencyMs: result.latencyMs,
        applyMs: result.applyMs,
        excluded: result.excluded,
        pageMisses: result.pageMisses,
      }),
    );
    console.log(`recorded ${record("edit-latency", result)}`);
  } finally {
    await session.close();
    rmSync(root, { recursive: true, force: true });
  }
}

await main();
