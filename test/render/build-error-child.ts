// Child-process script of build-errors.test.ts: a renderer with N heads (argv) meets documents whose generative
// region plays an encoding missing from the library, at start and as an edit. An unhandled rejection would kill
// this process (Node's default); it prints what it saw and exits 0 when it survived.
import { createFixture, documentOf, GENERATIVE_SPEC, sequenceOf } from "./fixture";

const MISSING = "fedcba9876543210fedcba9876543210";
const heads = Number(process.argv[2] ?? 2);
const fx = await createFixture();
try {
  const piano = await fx.putMidi(sequenceOf([{ pitch: 60, velocity: 90, startTick: 0, durationTicks: 960 }]));
  const melody = await fx.putMidi(
    sequenceOf([{ pitch: 67, velocity: 90, startTick: 0, durationTicks: 480 }]),
  );
  const contexts = Array.from({ length: heads }, (_, i) => ({ seed: i + 1 }));
  const good = documentOf(
    fx.ids,
    [
      [{ encodingHash: piano, atBeat: 0, durationBeats: 4, name: "Piano" }],
      [{ encodingHash: melody, atBeat: 0, durationBeats: 4, name: "Tune", spec: GENERATIVE_SPEC }],
    ],
    contexts,
  );
  const broken = {
    ...good,
    regions: good.regions.map((r) => (r.name === "Tune" ? { ...r, encodingHash: MISSING } : r)),
  };
  const report: Record<string, unknown> = { heads };
  // 1. At start: the renderer is refused with the region named.
  try {
    await fx.renderer(broken, {}, { canvas: "start" });
    report["start"] = "no error";
  } catch (error) {
    report["start"] = (error as Error).message;
  }
  // 2. As an edit: reported through onError and settled(), the previous keys keep playing.
  const renderer = await fx.renderer(good, {}, { canvas: "edit" });
  const before = good.heads.map((h) => renderer.streamKeys(h.id).map(String));
  const errors: string[] = [];
  renderer.onError((error) => errors.push(error.message));
  renderer.setDocument(broken);
  try {
    await renderer.settled();
    report["settled"] = "no error";
  } catch (error) {
    report["settled"] = (error as Error).message;
  }
  // Give any stray rejection time to surface (it would end the process here).
  await new Promise((resolve) => setTimeout(resolve, 300));
  report["errors"] = errors;
  report["keysKept"] =
    JSON.stringify(good.heads.map((h) => renderer.streamKeys(h.id).map(String))) === JSON.stringify(before);
  // 3. The renderer still works: the good document again, then a range renders.
  renderer.setDocument(good);
  await renderer.settled();
  await renderer.renderRange([good.heads[0]!.id], 0, 4 * 4096);
  report["recovered"] = true;
  process.stdout.write(`${JSON.stringify(report)}\n`);
} finally {
  await fx.dispose();
}
