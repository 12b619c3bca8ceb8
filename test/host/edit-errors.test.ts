// Edits whose material is missing, through a session of the demo (two heads): a region whose encoding is not in
// the library is refused before anything changes; one the library holds but no artifact names gets past that
// check and fails in the renderer's build, which is reported (counted, noted) while the old keys keep playing.
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { newRegion, randomIds } from "../../app/core/document";
import { HostError, openSession, type Session } from "../../app/host/session";
import type { LookaheadRendererImpl } from "../../app/render";
import { openContentStore } from "../../app/store";
import { type DemoFixture, demoProject } from "./fixture";

const MISSING = "00112233445566778899aabbccddeeff";

describe("edits with missing material", () => {
  let demo: DemoFixture;
  let session: Session;
  const notes: string[] = [];
  beforeAll(async () => {
    demo = await demoProject();
    session = await openSession(demo.project, {
      driver: "offline",
      autosaveMs: 0,
      onNote: (text) => notes.push(text),
    });
  });
  afterAll(async () => {
    await session?.close();
    demo?.dispose();
  });

  it("an added region whose encoding the library lacks is refused, naming it, and nothing changes", () => {
    expect(session.document.heads.length).toBeGreaterThanOrEqual(2);
    const before = session.document;
    const lane = before.lanes[1]!;
    const region = newRegion(randomIds(), {
      laneId: lane.id,
      encodingHash: MISSING,
      atBeat: 4,
      durationBeats: 4,
      name: "Lost riff",
    });
    let error: unknown;
    try {
      session.apply({ kind: "addRegion", region }, "add lost riff");
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(HostError);
    expect((error as Error).message).toMatch(
      new RegExp(
        `lacks the encoding ${MISSING} of region "Lost riff" \\(${region.id}\\) on lane "${lane.name}": import that file again`,
      ),
    );
    expect(session.document).toBe(before);
    expect(session.editor.undoLabel).not.toBe("add lost riff");
  });

  it("a region the renderer cannot build is reported through its error path; the old keys keep playing", async () => {
    const renderer = session.renderer as LookaheadRendererImpl;
    await renderer.settled();
    const heads = session.headIds();
    const keysBefore = heads.map((id) => renderer.streamKeys(id));
    // Bytes in the store that no artifact names: past the session's check, refused by the renderer.
    const store = await openContentStore(join(demo.project, "library"));
    const hash = await store.put(new TextEncoder().encode("bytes no artifact of the library names"));
    const lane = session.document.lanes[0]!;
    const region = newRegion(randomIds(), {
      laneId: lane.id,
      encodingHash: hash,
      atBeat: 0,
      durationBeats: 4,
      name: "Orphan",
    });
    session.apply({ kind: "addRegion", region }, "add orphan");
    await expect(renderer.settled()).rejects.toThrow(
      new RegExp(`lane "${lane.name}": region "Orphan" \\(${region.id}\\) plays encoding ${hash}`),
    );
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(session.stats().rendererErrors).toBe(1);
    expect(notes.some((note) => note.includes(`region "Orphan"`))).toBe(true);
    expect(heads.map((id) => renderer.streamKeys(id))).toEqual(keysBefore);
    // Undo brings back a document the renderer builds.
    session.undo();
    await renderer.settled();
    expect(heads.map((id) => renderer.streamKeys(id))).toEqual(keysBefore);
  });
});
