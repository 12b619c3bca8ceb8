import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CanvasWriter, createCanvasFile } from "../../app/audio/canvas-file";
import type { ProjectDocument } from "../../app/core/document";
import { createLookaheadRenderer } from "../../app/render";
import { createFixture, documentOf, type Fixture, sequenceOf } from "./fixture";

const MISSING = "0123456789abcdef0123456789abcdef";

describe("bad input", () => {
  let fx: Fixture;
  let document: ProjectDocument;
  beforeAll(async () => {
    fx = await createFixture();
    const hash = await fx.putMidi(
      sequenceOf([{ pitch: 60, velocity: 90, startTick: 0, durationTicks: 480 }]),
    );
    document = documentOf(
      fx.ids,
      [[{ encodingHash: hash, atBeat: 0, durationBeats: 4, name: "Piano" }]],
      [{}],
    );
  });
  afterAll(async () => fx?.dispose());

  it("a region whose encoding is not in the library is named, with what to do", async () => {
    const broken = documentOf(
      fx.ids,
      [[{ encodingHash: MISSING, atBeat: 0, durationBeats: 4, name: "Lost" }]],
      [{}],
    );
    await expect(fx.renderer(broken, {}, { canvas: "missing" })).rejects.toThrow(
      /region "Lost" .*plays encoding 0123456789abcdef0123456789abcdef.*import the file again or remove the region/,
    );
  });

  it("an edit that cannot be built is reported and the previous keys keep playing", async () => {
    const renderer = await fx.renderer(document, {}, { canvas: "edit-error" });
    const head = document.heads[0]!.id;
    const keys = renderer.streamKeys(head);
    const errors: Error[] = [];
    renderer.onError((error) => errors.push(error));
    renderer.setDocument({
      ...document,
      regions: document.regions.map((r) => ({ ...r, encodingHash: MISSING })),
    });
    await expect(renderer.settled()).rejects.toThrow(/import the file again or remove the region/);
    expect(errors).toHaveLength(1);
    expect(renderer.streamKeys(head)).toEqual(keys);
    // Fixing the document recovers.
    renderer.setDocument(document);
    await renderer.settled();
    expect(renderer.streamKeys(head)).toEqual(keys);
  });

  it("a canvas file of other geometry is refused with what to do", async () => {
    const path = `${fx.dir}/mono.lcc`;
    createCanvasFile(path, { sampleRate: 44_100, channels: 2, framesPerPage: 4096, pageCapacity: 64 });
    const canvas = new CanvasWriter(path);
    try {
      await expect(
        createLookaheadRenderer({
          document,
          store: fx.library.store,
          graph: fx.library.graph,
          canvas,
          config: fx.config(),
        }),
      ).rejects.toThrow(
        /has sampleRate 44100 but the renderer is configured for 48000; delete the canvas file/,
      );
    } finally {
      canvas.close();
    }
  });

  it("a missing SoundFont is named", async () => {
    await expect(
      fx.renderer(document, { soundfontPath: "/nonexistent/font.sf2" }, { canvas: "nosf" }),
    ).rejects.toThrow(
      /cannot read the SoundFont \/nonexistent\/font.sf2 \(ENOENT\).*install timgm6mb-soundfont/,
    );
  });

  it("a full canvas file is reported once, the range fails with the reason, and nothing spins", async () => {
    const path = `${fx.dir}/tiny.lcc`;
    createCanvasFile(path, { sampleRate: 48_000, channels: 2, framesPerPage: 4096, pageCapacity: 8 });
    const canvas = new CanvasWriter(path);
    try {
      const renderer = await createLookaheadRenderer({
        document,
        store: fx.library.store,
        graph: fx.library.graph,
        canvas,
        config: fx.config(),
      });
      const errors: Error[] = [];
      renderer.onError((error) => errors.push(error));
      const head = document.heads[0]!.id;
      await expect(renderer.renderRange([head], 0, renderer.endFrame())).rejects.toThrow(/full/);
      renderer.updateHeads([{ headId: head, audibleFrame: 0, playing: true }]);
      await new Promise((resolve) => setTimeout(resolve, 300));
      expect(errors.length).toBeGreaterThanOrEqual(1);
      expect(errors.length).toBeLessThanOrEqual(2);
      expect(errors[0]!.message).toMatch(/full/);
      expect(renderer.stats().queueLength).toBe(0);
      await renderer.close();
    } finally {
      canvas.close();
    }
  });
});
