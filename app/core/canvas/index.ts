// Public surface of app/core/canvas (the canvas model): layout, region specs, topology and masks,
// embeddings and the schema format. Pure TypeScript; any layer may import it.
export { CanvasError } from "./errors";
export { float32Shortest } from "./float32";
export { CanvasLayout, type CanvasLayoutInit, type RegionInput } from "./layout";
export { PERIOD_MAX_PERIOD, PERIOD_N_BUCKETS, PeriodEmbedding, periodBucket } from "./period-embedding";
export { channelAllocation, positionalEncoding, sinusoidTable } from "./positional-encoding";
export {
  ATTENTION_TYPES,
  type AttentionType,
  type Bounds,
  CARRIERS,
  type Carrier,
  isCarrier,
  REGION_SPEC_DEFAULTS,
  type RegionSpec,
  regionSpec,
  transferDistance,
  validateRegionSpec,
} from "./region-spec";
export { PARAMETER_SEED_PREFIX, seededNormal } from "./rng";
export {
  type CanvasSchema,
  canvasSchema,
  compatibleRegions,
  parseSchema,
  SCHEMA_VERSION,
  schemaFromJson,
  schemaToJson,
  serializeSchema,
} from "./schema";
export { SpatiotemporalCanvas, type Tensor3, tensor3 } from "./spatiotemporal";
export {
  AttentionMask,
  type BlockAdjacency,
  CanvasTopology,
  CONNECTION_DEFAULTS,
  type Connection,
  connection,
  type MaskBlock,
  type RealTimeCache,
  resolveTemporalFill,
  TEMPORAL_FILLS,
  type TemporalFill,
} from "./topology";
