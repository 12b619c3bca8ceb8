// The projection registry: named tools that turn artifacts of one space into an artifact of another
// (midi -> audio through a SoundFont, abc -> midi, audio -> audio gain and resample), each recording its output as a
// child artifact with lineage. Owned by app/spaces/projections; called by the CLI, the renderer and the host.
// Design: docs/projections.md.
import type { Artifact, ArtifactGraph, ContentStore, Space } from "../../store/types";

export interface ProjectionHandles {
  readonly store: ContentStore;
  readonly graph: ArtifactGraph;
  /** Recorded as the artifact's creator; default "lcanvas project". */
  readonly creator?: string;
}

export type ProjectionParams = Readonly<Record<string, unknown>>;

export interface Projection {
  /** Unique, e.g. "midi->audio.sf2"; recorded as the tool name in lineage. */
  readonly name: string;
  readonly from: Space;
  readonly to: Space;
  /** One line for listings. */
  readonly summary: string;
  /** Parameter names it accepts (anything else is refused). */
  readonly params: readonly string[];
  /** Projects `inputs` (all of space `from`, already checked) into one child artifact of space `to`. */
  run(inputs: readonly Artifact[], params: ProjectionParams, handles: ProjectionHandles): Promise<Artifact>;
}

export class ProjectionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "ProjectionError";
  }
}

export const DEFAULT_PROJECTION_CREATOR = "lcanvas project";

export class ProjectionRegistry {
  readonly #byName = new Map<string, Projection>();

  register(projection: Projection): this {
    if (this.#byName.has(projection.name)) {
      throw new ProjectionError(
        `a projection named "${projection.name}" is already registered; pick another name`,
      );
    }
    this.#byName.set(projection.name, projection);
    return this;
  }

  /** Every projection, sorted by from, to, name. */
  list(): Projection[] {
    return [...this.#byName.values()].sort(
      (a, b) => cmp(a.from, b.from) || cmp(a.to, b.to) || cmp(a.name, b.name),
    );
  }

  /** Projections from one space to another (sorted by name). */
  between(from: Space, to: Space): Projection[] {
    return this.list().filter((p) => p.from === from && p.to === to);
  }

  /** The projection `name` from `from` to `to`; with no name, the only one between the spaces. */
  get(from: Space, to: Space, name?: string): Projection {
    const candidates = this.between(from, to);
    if (name !== undefined) {
      const found = candidates.find((p) => p.name === name);
      if (found) return found;
      const elsewhere = this.#byName.get(name);
      if (elsewhere) {
        throw new ProjectionError(
          `projection "${name}" goes ${elsewhere.from} -> ${elsewhere.to}, not ${from} -> ${to}; give it a ${elsewhere.from} artifact`,
        );
      }
      throw new ProjectionError(`no projection named "${name}"; known: ${this.#names()}`);
    }
    if (candidates.length === 1) return candidates[0]!;
    if (candidates.length === 0) {
      throw new ProjectionError(`no projection goes ${from} -> ${to}; known: ${this.#names()}`);
    }
    throw new ProjectionError(
      `${candidates.length} projections go ${from} -> ${to} (${candidates.map((p) => p.name).join(", ")}); name one`,
    );
  }

  byName(name: string): Projection {
    const found = this.#byName.get(name);
    if (!found) throw new ProjectionError(`no projection named "${name}"; known: ${this.#names()}`);
    return found;
  }

  /** Checks the inputs' space and the parameter names, then runs the projection. */
  async run(
    projection: Projection,
    inputs: readonly Artifact[],
    params: ProjectionParams,
    handles: ProjectionHandles,
  ): Promise<Artifact> {
    if (inputs.length === 0) {
      throw new ProjectionError(
        `projection "${projection.name}" needs a ${projection.from} artifact as input`,
      );
    }
    for (const input of inputs) {
      if (input.space !== projection.from) {
        throw new ProjectionError(
          `projection "${projection.name}" reads ${projection.from}, but artifact ${input.id} is ${input.space}; ` +
            `pick a ${projection.from} artifact or a projection from ${input.space}`,
        );
      }
    }
    const unknown = Object.keys(params).filter((key) => !projection.params.includes(key));
    if (unknown.length > 0) {
      throw new ProjectionError(
        `projection "${projection.name}" has no parameter ${unknown.map((k) => `"${k}"`).join(", ")}; it takes: ${projection.params.join(", ") || "none"}`,
      );
    }
    return projection.run(inputs, params, handles);
  }

  /** Looks artifacts up by id, then runs `name` on them. */
  async runByIds(
    name: string,
    inputIds: readonly string[],
    params: ProjectionParams,
    handles: ProjectionHandles,
  ): Promise<Artifact> {
    const projection = this.byName(name);
    const inputs: Artifact[] = [];
    for (const id of inputIds) {
      const artifact = await handles.graph.get(id);
      if (!artifact) {
        throw new ProjectionError(
          `no artifact has id "${id}" in this library; list artifacts with \`lcanvas query\``,
        );
      }
      inputs.push(artifact);
    }
    return this.run(projection, inputs, params, handles);
  }

  #names(): string {
    return this.list()
      .map((p) => `${p.name} (${p.from} -> ${p.to})`)
      .join(", ");
  }
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
