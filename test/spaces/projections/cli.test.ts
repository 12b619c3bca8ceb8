import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseWav } from "../../../app/spaces/audio/wav";
import { openLibrary } from "../../../app/store/index";
import { runCli } from "../../support/cli";

let dir: string;
let store: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "lc-project-cli-"));
  store = join(dir, "library");
  await writeFile(join(dir, "tune.abc"), "X:1\nT:CLI\nM:4/4\nL:1/4\nQ:1/4=120\nK:C\nCEGc|\n");
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe("lcanvas projections / project-encoding", () => {
  it("lists the projections", async () => {
    const result = await runCli(["projections"]);
    expect(result.code).toBe(0);
    const list = JSON.parse(result.stdout) as Array<{ name: string; from: string; to: string }>;
    expect(list.map((p) => p.name)).toContain("midi->audio.sf2");
  });

  it("renders an imported tune's MIDI to audio via sf2, the same artifact twice, with clear errors", async () => {
    const imported = await runCli(["import", join(dir, "tune.abc"), "--store", store]);
    expect(imported.code).toBe(0);
    const midiId = (JSON.parse(imported.stdout) as { derived: Array<{ id: string }> }).derived[0]!.id;
    const args = [
      "project-encoding",
      midiId,
      "--to",
      "audio",
      "--via",
      "sf2",
      "--rate",
      "22050",
      "--store",
      store,
    ];
    const first = await runCli([...args, "--set", "tailSeconds=0.25"]);
    expect(first.stderr).toBe("");
    expect(first.code).toBe(0);
    const child = JSON.parse(first.stdout) as { id: string; hash: string; space: string; projection: string };
    expect(child).toMatchObject({ space: "audio", projection: "midi->audio.sf2" });
    const second = await runCli([...args, "--set", "tailSeconds=0.25"]);
    expect(JSON.parse(second.stdout)).toMatchObject({ id: child.id, hash: child.hash });

    const library = await openLibrary(store);
    try {
      const { audio } = parseWav(await library.store.get(child.hash), "render");
      expect(audio.sampleRate).toBe(22_050);
      expect(audio.frames).toBe(Math.round(22_050 * 2.25)); // four beats at 120 bpm + 0.25 s tail
      expect((await library.graph.parents(child.id)).map((e) => e.parentId)).toEqual([midiId]);
    } finally {
      await library.close();
    }

    const wrong = await runCli(["project-encoding", midiId, "--to", "abc", "--store", store]);
    expect(wrong.code).toBe(1);
    expect(wrong.stderr).toMatch(/no projection goes midi -> abc; known:/);
    const missing = await runCli(["project-encoding", "artifact_nope", "--to", "audio", "--store", store]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/no artifact has id "artifact_nope"/);
    const usage = await runCli(["project-encoding", midiId, "--store", store]);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--to/);
  });
});
