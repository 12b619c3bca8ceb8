// Recording a derived artifact: store the bytes, then find an artifact with the same bytes, space, tool record and
// parents, or add one. Owned by app/spaces/projections; called by every projection and by generative realization
// (app/render/generative.ts). Find-or-add is serialized per graph so concurrent identical runs record one artifact.
import type { Artifact, ArtifactGraph, ContentStore, Space, ToolRecord } from "../../store/types";

export interface DerivedArtifact {
  readonly bytes: Uint8Array;
  readonly space: Space;
  readonly mediaType: string;
  readonly creator: string;
  readonly parents: readonly string[];
  readonly tool: ToolRecord;
  readonly tags?: readonly string[];
  readonly metadata?: Readonly<Record<string, unknown>>;
}

/** JSON with object keys sorted at every level: equal values, equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) => {
    if (v === null || typeof v !== "object" || Array.isArray(v)) return v;
    const record = v as Record<string, unknown>;
    return Object.fromEntries(
      Object.keys(record)
        .sort()
        .map((key) => [key, record[key]]),
    );
  });
}

const graphQueues = new WeakMap<ArtifactGraph, Promise<unknown>>();

/** Runs `task` after every earlier task on the same graph (a per-graph queue within this process). */
export function serializedOn<T>(graph: ArtifactGraph, task: () => Promise<T>): Promise<T> {
  const previous = graphQueues.get(graph) ?? Promise.resolve();
  const next = previous.then(task, task);
  graphQueues.set(
    graph,
    next.catch(() => undefined),
  );
  return next;
}

function byAge(a: Artifact, b: Artifact): number {
  return a.createdAtMs - b.createdAtMs || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Stores the bytes and returns the matching artifact (oldest) or a new one; never adds a duplicate. */
export async function recordDerived(
  handles: { readonly store: ContentStore; readonly graph: ArtifactGraph },
  derived: DerivedArtifact,
): Promise<Artifact> {
  const { store, graph } = handles;
  const hash = await store.put(derived.bytes);
  const wantedTool = canonicalJson(derived.tool);
  const wantedParents = [...new Set(derived.parents)].sort().join(" ");
  return serializedOn(graph, async () => {
    const candidates = (await graph.byHash(hash))
      .filter((a) => a.space === derived.space && a.tool !== null && canonicalJson(a.tool) === wantedTool)
      .sort(byAge);
    for (const candidate of candidates) {
      const parents = (await graph.parents(candidate.id))
        .map((edge) => edge.parentId)
        .sort()
        .join(" ");
      if (parents === wantedParents) return candidate;
    }
    return graph.add({
      hash,
      space: derived.space,
      mediaType: derived.mediaType,
      creator: derived.creator,
      parents: [...new Set(derived.parents)],
      tool: derived.tool,
      ...(derived.tags ? { tags: derived.tags } : {}),
      ...(derived.metadata ? { metadata: derived.metadata } : {}),
    });
  });
}
