// Public surface of the projection registry (app/spaces/projections): the registry, the built-in projections and
// the find-or-add recording of derived artifacts. Any layer above app/spaces may import it.
export { BUILTIN_PROJECTIONS, DEFAULT_SAMPLE_RATE, defaultProjections } from "./builtin";
export { canonicalJson, type DerivedArtifact, recordDerived, serializedOn } from "./record";
export {
  DEFAULT_PROJECTION_CREATOR,
  type Projection,
  ProjectionError,
  type ProjectionHandles,
  type ProjectionParams,
  ProjectionRegistry,
} from "./registry";
