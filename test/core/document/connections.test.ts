import { describe, expect, it } from "vitest";
import {
  applyCommand,
  type Command,
  connectionsOf,
  connectRegions,
  DocumentError,
  PROJECT_FORMAT,
  type ProjectDocument,
  ProjectFormatError,
  parseProject,
  serializeProject,
} from "../../../app/core/document";
import { sampleDocument } from "./fixtures";

function undoRoundTrip(document: ProjectDocument, command: Command): ProjectDocument {
  const applied = applyCommand(document, command);
  const undone = applyCommand(applied.document, applied.inverse).document;
  expect(undone).toEqual(document);
  expect(serializeProject(undone)).toBe(serializeProject(document));
  return applied.document;
}

describe("connections in the document", () => {
  const base = sampleDocument(6);

  it("the fixture has connections, and connectionsOf lists what a region reads in order", () => {
    expect(base.connections).toHaveLength(4);
    expect(connectionsOf(base, "region-1").map((c) => c.dstRegionId)).toEqual(["region-2", "region-3"]);
    expect(connectionsOf(base, "region-6")).toEqual([]);
  });

  it("add, set and remove have inverses", () => {
    const added = undoRoundTrip(base, connectRegions("region-5", "region-6", { temporalFill: "drop" }));
    expect(added.connections.at(-1)).toEqual({
      srcRegionId: "region-5",
      dstRegionId: "region-6",
      weight: 1,
      temporalFill: "drop",
      interpolationOrder: 1,
    });
    const set = undoRoundTrip(base, {
      kind: "setConnection",
      srcRegionId: "region-1",
      dstRegionId: "region-3",
      changes: { temporalFill: "hold", interpolationOrder: 3 },
    });
    expect(set.connections[1]).toMatchObject({ temporalFill: "hold", interpolationOrder: 3, weight: 0.5 });
    const removed = undoRoundTrip(base, {
      kind: "removeConnection",
      srcRegionId: "region-1",
      dstRegionId: "region-2",
    });
    expect(removed.connections.map((c) => `${c.srcRegionId}>${c.dstRegionId}`)).toEqual([
      "region-1>region-3",
      "region-3>region-2",
      "region-4>region-1",
    ]);
  });

  it("removing a region removes its connections in the same command; undo restores them in place", () => {
    const removed = undoRoundTrip(base, { kind: "removeRegion", regionId: "region-2" });
    expect(removed.connections.map((c) => `${c.srcRegionId}>${c.dstRegionId}`)).toEqual([
      "region-1>region-3",
      "region-4>region-1",
    ]);
    // Removing a lane removes its regions and their connections (region-1 and region-4 are on lane-1).
    const withoutLane = undoRoundTrip(base, { kind: "removeLane", laneId: "lane-1" });
    expect(withoutLane.connections.map((c) => `${c.srcRegionId}>${c.dstRegionId}`)).toEqual([
      "region-3>region-2",
    ]);
  });

  it("rejects missing regions, self-reads, duplicate pairs, bad fields and unknown connections", () => {
    const cases: Array<[Command, RegExp]> = [
      [connectRegions("region-1", "ghost"), /dstRegionId: no region has id "ghost"/],
      [connectRegions("ghost", "region-1"), /srcRegionId: no region has id "ghost"/],
      [connectRegions("region-2", "region-2"), /cannot read itself/],
      [connectRegions("region-1", "region-2"), /already reads "region-2" \(connections\[0\]\)/],
      [connectRegions("region-5", "region-6", { weight: -1 }), /weight: must be >= 0/],
      [connectRegions("region-5", "region-6", { interpolationOrder: 0 }), /interpolationOrder: must be >= 1/],
      [
        { kind: "removeConnection", srcRegionId: "region-6", dstRegionId: "region-1" },
        /does not read "region-1"/,
      ],
      [
        {
          kind: "setConnection",
          srcRegionId: "region-1",
          dstRegionId: "region-2",
          changes: { temporalFill: "smear" as "hold" },
        },
        /temporalFill: must be "hold", "drop" or "interpolate"/,
      ],
    ];
    for (const [command, message] of cases) {
      expect(() => applyCommand(base, command)).toThrow(DocumentError);
      expect(() => applyCommand(base, command)).toThrow(message);
    }
  });

  it("is always written, and optional on load (files from before connections read as none)", () => {
    const text = serializeProject(base);
    expect(JSON.parse(text).connections).toHaveLength(4);
    expect(parseProject(text)).toEqual(base);
    const old = JSON.parse(text) as Record<string, unknown>;
    delete old.connections;
    old.regions = [];
    const loaded = parseProject(JSON.stringify(old));
    expect(loaded.connections).toEqual([]);
    expect(JSON.parse(serializeProject(loaded)).connections).toEqual([]);
  });

  it("a file naming a missing region in a connection is refused with the field named", () => {
    const file = JSON.parse(serializeProject(base)) as {
      format: string;
      connections: { dstRegionId: string }[];
    };
    expect(file.format).toBe(PROJECT_FORMAT);
    file.connections[2]!.dstRegionId = "region-99";
    const parse = () => parseProject(JSON.stringify(file));
    expect(parse).toThrow(ProjectFormatError);
    expect(parse).toThrow(/connections\[2\]\.dstRegionId: no region has id "region-99"/);
    file.connections[2]!.dstRegionId = "region-3";
    file.connections.push({ ...file.connections[0]! });
    expect(() => parseProject(JSON.stringify(file))).toThrow(/already reads/);
  });
});
