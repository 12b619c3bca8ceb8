import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type Artifact, type Library, openLibrary, runGraphQuery } from "../../app/store/index";
import { tempDir } from "./helpers";

let dir: { path: string; remove: () => Promise<void> };
let library: Library;
let score: Artifact;
let midi: Artifact;
let takes: Artifact[];
const T0 = Date.UTC(2026, 10, 1, 12, 0, 0);

beforeAll(async () => {
  dir = await tempDir("gql");
  library = await openLibrary(dir.path);
  const put = (text: string) => library.store.put(new TextEncoder().encode(text));
  score = await library.graph.add({
    hash: await put("X:1\nK:G\nGABc|"),
    space: "abc",
    mediaType: "text/vnd.abc",
    creator: "user",
    tags: ["folk", "source:abc"],
    metadata: { title: "Reel" },
    createdAtMs: T0,
  });
  midi = await library.graph.add({
    hash: await put("MThd..."),
    space: "midi",
    mediaType: "audio/midi",
    creator: "abc2midi",
    tags: ["folk"],
    parents: [score.id],
    tool: { kind: "projection", name: "abc->midi", params: { ticksPerQuarter: 960 } },
    createdAtMs: T0 + 60_000,
  });
  takes = [];
  for (let i = 0; i < 3; i++) {
    takes.push(
      await library.graph.add({
        hash: await put(`take ${i}`),
        space: "midi",
        mediaType: "audio/midi",
        creator: "markov",
        tags: ["folk", `temp:0.${i + 7}`],
        parents: [midi.id],
        tool: {
          kind: "sampler",
          name: "markov.v1",
          params: { bars: 8 },
          context: { temperature: [0.7, 0.8, 0.9][i] ?? 1, seed: i },
        },
        variationSetId: "vs_reel",
        createdAtMs: T0 + 120_000 + i * 1000,
      }),
    );
  }
  await library.graph.annotate(takes[1]?.id ?? "", { message: "best take", vibe: "lively", source: "user" });
});

afterAll(async () => {
  await library.close();
  await dir.remove();
});

describe("GraphQL over the artifact graph", () => {
  it("resolves an artifact with lineage edges, tool params and inference context", async () => {
    const take = takes[2] as Artifact;
    const result = await runGraphQuery(
      library.graph,
      `query ($id: ID!) {
        artifact(id: $id) {
          id hash space mediaType tags creator createdAt metadata variationSetId variationIndex
          tool { kind name params context }
          parents { id space }
          ancestors { id }
          lineage { depth artifact { id } parents { parentId tool { name params } } }
          parentEdges { parent { id } tool { kind } }
        }
      }`,
      { id: take.id },
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      artifact: {
        id: take.id,
        hash: take.hash,
        space: "midi",
        mediaType: "audio/midi",
        tags: ["folk", "temp:0.9"],
        creator: "markov",
        createdAt: new Date(T0 + 122_000).toISOString(),
        metadata: "{}",
        variationSetId: "vs_reel",
        variationIndex: 2,
        tool: {
          kind: "sampler",
          name: "markov.v1",
          params: '{"bars":8}',
          context: '{"temperature":0.9,"seed":2}',
        },
        parents: [{ id: midi.id, space: "midi" }],
        ancestors: [{ id: midi.id }, { id: score.id }],
        lineage: [
          {
            depth: 1,
            artifact: { id: midi.id },
            parents: [{ parentId: score.id, tool: { name: "abc->midi", params: '{"ticksPerQuarter":960}' } }],
          },
          { depth: 2, artifact: { id: score.id }, parents: [] },
        ],
        parentEdges: [{ parent: { id: midi.id }, tool: { kind: "sampler" } }],
      },
    });
  });

  it("walks down, lists variations and annotations, finds by hash", async () => {
    const result = await runGraphQuery(
      library.graph,
      `{ artifact(id: "${score.id}") { metadata children { id } descendants(maxDepth: 1) { id } }
         take: artifact(id: "${takes[1]?.id}") { variations { variationIndex } annotations { message vibe source } }
         artifactsByHash(hash: "${midi.hash}") { id } variationSet(id: "vs_reel") { id } artifactCount }`,
    );
    expect(result.errors).toBeUndefined();
    expect(result.data).toEqual({
      artifact: { metadata: '{"title":"Reel"}', children: [{ id: midi.id }], descendants: [{ id: midi.id }] },
      take: {
        variations: [{ variationIndex: 0 }, { variationIndex: 1 }, { variationIndex: 2 }],
        annotations: [{ message: "best take", vibe: "lively", source: "user" }],
      },
      artifactsByHash: [{ id: midi.id }],
      variationSet: takes.map((t) => ({ id: t.id })),
      artifactCount: 5,
    });
  });

  it("filters artifacts by tag, space, creator and time window", async () => {
    const ids = async (args: string) => {
      const result = await runGraphQuery(library.graph, `{ artifacts(${args}) { id } }`);
      expect(result.errors).toBeUndefined();
      return ((result.data?.artifacts ?? []) as Array<{ id: string }>).map((a) => a.id);
    };
    expect(await ids(`tag: "folk", space: "midi", creator: "markov"`)).toEqual([
      takes[2]?.id,
      takes[1]?.id,
      takes[0]?.id,
    ]);
    expect(await ids(`tags: ["folk", "temp:0.8"]`)).toEqual([takes[1]?.id]);
    expect(await ids(`since: "${new Date(T0).toISOString()}", until: "${T0 + 120_000}"`)).toEqual([
      midi.id,
      score.id,
    ]);
    expect(await ids(`space: "midi", limit: 2`)).toHaveLength(2);
  });

  it("annotates through a mutation", async () => {
    const result = await runGraphQuery(
      library.graph,
      `mutation { annotate(artifactId: "${score.id}", message: "source tune", source: "agent") { artifactId message vibe } }`,
    );
    expect(result).toEqual({
      data: { annotate: { artifactId: score.id, message: "source tune", vibe: null } },
    });
  });

  it("returns clear messages for bad queries", async () => {
    const syntax = await runGraphQuery(library.graph, "{ artifacts(limit: 5) { id ");
    expect(syntax.errors?.[0]).toMatch(/^Syntax Error: Expected Name, found <EOF>\. \(line 1, column 28\)/);
    const field = await runGraphQuery(library.graph, "{ artifacts { idd } }");
    expect(field.errors?.[0]).toMatch(/Cannot query field "idd" on type "Artifact"\. Did you mean "id"\?/);
    const time = await runGraphQuery(library.graph, `{ artifacts(since: "last tuesday") { id } }`);
    expect(time.errors?.[0]).toMatch(/since: "last tuesday" is not a time\. Use ISO-8601/);
    const limit = await runGraphQuery(library.graph, "{ artifacts(limit: 99999) { id } }");
    expect(limit.errors?.[0]).toMatch(/limit must be a whole number from 1 to 10000/);
    const missing = await runGraphQuery(
      library.graph,
      `mutation { annotate(artifactId: "nope", message: "x", source: "y") { id } }`,
    );
    expect(missing.errors?.[0]).toMatch(/no artifact with id "nope"/);
    expect((await runGraphQuery(library.graph, `{ artifact(id: "nope") { id } }`)).data).toEqual({
      artifact: null,
    });
  });
});
