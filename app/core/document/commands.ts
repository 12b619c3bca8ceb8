// Edits of the project document as data: each command applies to an immutable document and yields the new
// document plus its inverse command. Owned by app/core/document; the history (undo/redo, gestures) and any tool
// that edits a document go through applyCommand. An invalid command throws DocumentError and changes nothing.
import {
  type TempoMap,
  TempoMapError,
  withMeter,
  withoutMeter,
  withoutTempo,
  withTempo,
} from "../time/tempo-map";
import {
  checkConnection,
  checkConnectionReferences,
  checkGrid,
  checkHead,
  checkLane,
  checkRegion,
  checkTempoMap,
  DocumentError,
} from "./schema";
import type {
  AttentionHead,
  Connection,
  ConnectionChanges,
  HeadChanges,
  Lane,
  LaneChanges,
  ProjectDocument,
  Region,
  RegionChanges,
} from "./types";

export type Command =
  | { readonly kind: "addLane"; readonly lane: Lane; readonly index?: number }
  | { readonly kind: "removeLane"; readonly laneId: string }
  | { readonly kind: "updateLane"; readonly laneId: string; readonly changes: LaneChanges }
  | { readonly kind: "moveLane"; readonly laneId: string; readonly toIndex: number }
  | { readonly kind: "addRegion"; readonly region: Region; readonly index?: number }
  | { readonly kind: "removeRegion"; readonly regionId: string }
  | { readonly kind: "updateRegion"; readonly regionId: string; readonly changes: RegionChanges }
  | { readonly kind: "addConnection"; readonly connection: Connection; readonly index?: number }
  | { readonly kind: "removeConnection"; readonly srcRegionId: string; readonly dstRegionId: string }
  | {
      readonly kind: "setConnection";
      readonly srcRegionId: string;
      readonly dstRegionId: string;
      readonly changes: ConnectionChanges;
    }
  | { readonly kind: "addHead"; readonly head: AttentionHead; readonly index?: number }
  | { readonly kind: "removeHead"; readonly headId: string }
  | { readonly kind: "updateHead"; readonly headId: string; readonly changes: HeadChanges }
  | { readonly kind: "setTempo"; readonly atTick: number; readonly bpm: number }
  | { readonly kind: "removeTempo"; readonly atTick: number }
  | {
      readonly kind: "setMeter";
      readonly atTick: number;
      readonly numerator: number;
      readonly denominator: number;
    }
  | { readonly kind: "removeMeter"; readonly atTick: number }
  | { readonly kind: "replaceTempoMap"; readonly tempoMap: TempoMap }
  | { readonly kind: "setGrid"; readonly beatsPerCanvasFrame: number }
  | { readonly kind: "batch"; readonly commands: readonly Command[] };

export interface Applied {
  readonly document: ProjectDocument;
  /** Applying this to `document` gives back the document the command was applied to. */
  readonly inverse: Command;
}

/** Moves a region (and optionally to another lane). */
export function moveRegion(regionId: string, atBeat: number, laneId?: string): Command {
  return { kind: "updateRegion", regionId, changes: laneId === undefined ? { atBeat } : { atBeat, laneId } };
}

/** Resizes a region; trimming its start moves atBeat and offsetBeats together. */
export function resizeRegion(
  regionId: string,
  edges: { readonly atBeat?: number; readonly durationBeats?: number; readonly offsetBeats?: number },
): Command {
  return { kind: "updateRegion", regionId, changes: edges };
}

/** Connects `srcRegionId` to read `dstRegionId` (defaults: weight 1, hold, order 1). */
export function connectRegions(
  srcRegionId: string,
  dstRegionId: string,
  fields: ConnectionChanges = {},
): Command {
  return {
    kind: "addConnection",
    connection: {
      srcRegionId,
      dstRegionId,
      weight: 1,
      temporalFill: "hold",
      interpolationOrder: 1,
      ...fields,
    },
  };
}

type EntityKey = "lanes" | "regions" | "heads";
interface Entity {
  readonly id: string;
}

function frozen<T>(list: T[]): readonly T[] {
  return Object.freeze(list);
}

function insertAt<T>(list: readonly T[], index: number, item: T): readonly T[] {
  const copy = list.slice();
  copy.splice(index, 0, item);
  return frozen(copy);
}

function removeAt<T>(list: readonly T[], index: number): readonly T[] {
  const copy = list.slice();
  copy.splice(index, 1);
  return frozen(copy);
}

function replaceAt<T>(list: readonly T[], index: number, item: T): readonly T[] {
  const copy = list.slice();
  copy[index] = item;
  return frozen(copy);
}

function withEntities(document: ProjectDocument, key: EntityKey, list: readonly Entity[]): ProjectDocument {
  return Object.freeze({ ...document, [key]: list });
}

function withConnections(document: ProjectDocument, connections: readonly Connection[]): ProjectDocument {
  return Object.freeze({ ...document, connections });
}

/** Connections not touching `regionIds`; pushes an addConnection (ascending index) to `restore` per removed one. */
function withoutConnectionsOf(
  document: ProjectDocument,
  regionIds: ReadonlySet<string>,
  restore: Command[],
): readonly Connection[] {
  const kept: Connection[] = [];
  document.connections.forEach((conn, index) => {
    if (regionIds.has(conn.srcRegionId) || regionIds.has(conn.dstRegionId)) {
      restore.push({ kind: "addConnection", connection: conn, index });
    } else kept.push(conn);
  });
  return kept.length === document.connections.length ? document.connections : frozen(kept);
}

function connectionIndex(document: ProjectDocument, srcRegionId: string, dstRegionId: string): number {
  const index = document.connections.findIndex(
    (conn) => conn.srcRegionId === srcRegionId && conn.dstRegionId === dstRegionId,
  );
  if (index < 0) {
    throw new DocumentError(
      "connections",
      `region "${srcRegionId}" does not read "${dstRegionId}": no such connection (add it first)`,
    );
  }
  return index;
}

function indexOf(document: ProjectDocument, key: EntityKey, entityId: string, noun: string): number {
  const index = (document[key] as readonly Entity[]).findIndex((e) => e.id === entityId);
  if (index < 0) throw new DocumentError(`${key}`, `no ${noun} has id "${entityId}"`);
  return index;
}

function requireFreeId(document: ProjectDocument, entityId: string, key: EntityKey): void {
  for (const other of ["lanes", "heads", "regions"] as const) {
    if ((document[other] as readonly Entity[]).some((e) => e.id === entityId)) {
      throw new DocumentError(
        `${key}["${entityId}"].id`,
        `id "${entityId}" is already used in ${other}: ids must be unique`,
      );
    }
  }
}

function insertionIndex(index: number | undefined, length: number, key: string): number {
  if (index === undefined) return length;
  if (!Number.isInteger(index) || index < 0 || index > length) {
    throw new DocumentError(key, `insertion index ${index} is outside 0..${length}`);
  }
  return index;
}

function requireLane(document: ProjectDocument, laneId: string, path: string): void {
  if (!document.lanes.some((lane) => lane.id === laneId)) {
    throw new DocumentError(
      path,
      `no lane has id "${laneId}": add that lane first or choose an existing one`,
    );
  }
}

function oldValues<T extends object>(entity: T, changes: object, path: string): Partial<T> {
  const previous: Record<string, unknown> = {};
  for (const field of Object.keys(changes)) {
    if (field === "id")
      throw new DocumentError(`${path}.id`, "an id cannot be changed; remove and add instead");
    if (!(field in entity)) throw new DocumentError(`${path}.${field}`, `unknown field "${field}"`);
    previous[field] = (entity as Record<string, unknown>)[field];
  }
  return previous as Partial<T>;
}

function tempoEdit(document: ProjectDocument, edit: (map: TempoMap) => TempoMap): Applied {
  let tempoMap: TempoMap;
  try {
    tempoMap = edit(document.tempoMap);
  } catch (error) {
    if (error instanceof TempoMapError) {
      throw new DocumentError(`tempoMap.${error.path}`, error.message.slice(error.path.length + 2));
    }
    throw error;
  }
  return {
    document: Object.freeze({ ...document, tempoMap }),
    inverse: { kind: "replaceTempoMap", tempoMap: document.tempoMap },
  };
}

/** Applies one command; throws DocumentError (leaving `document` untouched) when the result would be invalid. */
export function applyCommand(document: ProjectDocument, command: Command): Applied {
  switch (command.kind) {
    case "addLane": {
      const lane = checkLane(command.lane, "lane");
      requireFreeId(document, lane.id, "lanes");
      const index = insertionIndex(command.index, document.lanes.length, "lanes");
      return {
        document: withEntities(document, "lanes", insertAt(document.lanes, index, lane)),
        inverse: { kind: "removeLane", laneId: lane.id },
      };
    }
    case "removeLane": {
      const index = indexOf(document, "lanes", command.laneId, "lane");
      const restore: Command[] = [{ kind: "addLane", lane: document.lanes[index]!, index }];
      const regions: Region[] = [];
      document.regions.forEach((region, i) => {
        if (region.laneId === command.laneId) restore.push({ kind: "addRegion", region, index: i });
        else regions.push(region);
      });
      const removedIds = new Set(
        document.regions.filter((region) => region.laneId === command.laneId).map((r) => r.id),
      );
      const kept = withoutConnectionsOf(document, removedIds, restore);
      const withoutLane = withEntities(document, "lanes", removeAt(document.lanes, index));
      const withoutRegions =
        regions.length === document.regions.length
          ? withoutLane
          : withEntities(withoutLane, "regions", frozen(regions));
      return {
        document: kept === document.connections ? withoutRegions : withConnections(withoutRegions, kept),
        inverse: restore.length === 1 ? restore[0]! : { kind: "batch", commands: restore },
      };
    }
    case "updateLane": {
      const index = indexOf(document, "lanes", command.laneId, "lane");
      const path = `lanes["${command.laneId}"]`;
      const lane = document.lanes[index]!;
      const previous = oldValues(lane, command.changes, path);
      const updated = checkLane({ ...lane, ...command.changes }, path);
      return {
        document: withEntities(document, "lanes", replaceAt(document.lanes, index, updated)),
        inverse: { kind: "updateLane", laneId: lane.id, changes: previous },
      };
    }
    case "moveLane": {
      const from = indexOf(document, "lanes", command.laneId, "lane");
      const last = document.lanes.length - 1;
      if (!Number.isInteger(command.toIndex) || command.toIndex < 0 || command.toIndex > last) {
        throw new DocumentError("lanes", `cannot move a lane to index ${command.toIndex}; use 0..${last}`);
      }
      const lanes = removeAt(document.lanes, from);
      return {
        document: withEntities(document, "lanes", insertAt(lanes, command.toIndex, document.lanes[from]!)),
        inverse: { kind: "moveLane", laneId: command.laneId, toIndex: from },
      };
    }
    case "addRegion": {
      const region = checkRegion(command.region, "region");
      requireFreeId(document, region.id, "regions");
      requireLane(document, region.laneId, `regions["${region.id}"].laneId`);
      const index = insertionIndex(command.index, document.regions.length, "regions");
      return {
        document: withEntities(document, "regions", insertAt(document.regions, index, region)),
        inverse: { kind: "removeRegion", regionId: region.id },
      };
    }
    case "removeRegion": {
      const index = indexOf(document, "regions", command.regionId, "region");
      const restore: Command[] = [{ kind: "addRegion", region: document.regions[index]!, index }];
      const kept = withoutConnectionsOf(document, new Set([command.regionId]), restore);
      const withoutRegion = withEntities(document, "regions", removeAt(document.regions, index));
      return {
        document: kept === document.connections ? withoutRegion : withConnections(withoutRegion, kept),
        inverse: restore.length === 1 ? restore[0]! : { kind: "batch", commands: restore },
      };
    }
    case "addConnection": {
      const conn = checkConnection(command.connection, "connection");
      const path = `connections["${conn.srcRegionId}" -> "${conn.dstRegionId}"]`;
      checkConnectionReferences(document, conn, path);
      const index = insertionIndex(command.index, document.connections.length, "connections");
      return {
        document: withConnections(document, insertAt(document.connections, index, conn)),
        inverse: {
          kind: "removeConnection",
          srcRegionId: conn.srcRegionId,
          dstRegionId: conn.dstRegionId,
        },
      };
    }
    case "removeConnection": {
      const index = connectionIndex(document, command.srcRegionId, command.dstRegionId);
      return {
        document: withConnections(document, removeAt(document.connections, index)),
        inverse: { kind: "addConnection", connection: document.connections[index]!, index },
      };
    }
    case "setConnection": {
      const index = connectionIndex(document, command.srcRegionId, command.dstRegionId);
      const path = `connections["${command.srcRegionId}" -> "${command.dstRegionId}"]`;
      const conn = document.connections[index]!;
      for (const field of ["srcRegionId", "dstRegionId"]) {
        if (field in command.changes) {
          throw new DocumentError(
            `${path}.${field}`,
            "the regions of a connection cannot be changed; remove and add instead",
          );
        }
      }
      const previous = oldValues(conn, command.changes, path);
      const updated = checkConnection({ ...conn, ...command.changes }, path);
      return {
        document: withConnections(document, replaceAt(document.connections, index, updated)),
        inverse: {
          kind: "setConnection",
          srcRegionId: conn.srcRegionId,
          dstRegionId: conn.dstRegionId,
          changes: previous,
        },
      };
    }
    case "updateRegion": {
      const index = indexOf(document, "regions", command.regionId, "region");
      const path = `regions["${command.regionId}"]`;
      const region = document.regions[index]!;
      const previous = oldValues(region, command.changes, path);
      const updated = checkRegion({ ...region, ...command.changes }, path);
      if (updated.laneId !== region.laneId) requireLane(document, updated.laneId, `${path}.laneId`);
      return {
        document: withEntities(document, "regions", replaceAt(document.regions, index, updated)),
        inverse: { kind: "updateRegion", regionId: region.id, changes: previous },
      };
    }
    case "addHead": {
      const head = checkHead(command.head, "head");
      requireFreeId(document, head.id, "heads");
      const index = insertionIndex(command.index, document.heads.length, "heads");
      return {
        document: withEntities(document, "heads", insertAt(document.heads, index, head)),
        inverse: { kind: "removeHead", headId: head.id },
      };
    }
    case "removeHead": {
      const index = indexOf(document, "heads", command.headId, "head");
      return {
        document: withEntities(document, "heads", removeAt(document.heads, index)),
        inverse: { kind: "addHead", head: document.heads[index]!, index },
      };
    }
    case "updateHead": {
      const index = indexOf(document, "heads", command.headId, "head");
      const path = `heads["${command.headId}"]`;
      const head = document.heads[index]!;
      const previous = oldValues(head, command.changes, path);
      const updated = checkHead({ ...head, ...command.changes }, path);
      return {
        document: withEntities(document, "heads", replaceAt(document.heads, index, updated)),
        inverse: { kind: "updateHead", headId: head.id, changes: previous },
      };
    }
    case "setTempo":
      return tempoEdit(document, (map) => withTempo(map, command.atTick, command.bpm));
    case "removeTempo":
      return tempoEdit(document, (map) => withoutTempo(map, command.atTick));
    case "setMeter":
      return tempoEdit(document, (map) =>
        withMeter(map, command.atTick, command.numerator, command.denominator),
      );
    case "removeMeter":
      return tempoEdit(document, (map) => withoutMeter(map, command.atTick));
    case "replaceTempoMap": {
      const tempoMap = checkTempoMap(command.tempoMap, "tempoMap");
      return {
        document: Object.freeze({ ...document, tempoMap }),
        inverse: { kind: "replaceTempoMap", tempoMap: document.tempoMap },
      };
    }
    case "setGrid": {
      const grid = checkGrid({ beatsPerCanvasFrame: command.beatsPerCanvasFrame }, "grid");
      return {
        document: Object.freeze({ ...document, grid }),
        inverse: { kind: "setGrid", beatsPerCanvasFrame: document.grid.beatsPerCanvasFrame },
      };
    }
    case "batch": {
      const result = applyCommands(document, command.commands);
      return { document: result.document, inverse: { kind: "batch", commands: result.inverses } };
    }
    default: {
      const unknown: never = command;
      throw new DocumentError("command", `unknown command kind "${(unknown as { kind: string }).kind}"`);
    }
  }
}

/** Applies commands in order as one unit: all succeed or the error propagates and nothing changes. */
export function applyCommands(
  document: ProjectDocument,
  commands: readonly Command[],
): { readonly document: ProjectDocument; readonly inverses: readonly Command[] } {
  let current = document;
  const inverses: Command[] = [];
  for (const command of commands) {
    const applied = applyCommand(current, command);
    current = applied.document;
    inverses.push(applied.inverse);
  }
  return { document: current, inverses: inverses.reverse() };
}
