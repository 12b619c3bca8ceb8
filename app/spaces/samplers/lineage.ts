// Lineage records for samplers: the ToolRecord (name, params, inference context) a sampled artifact carries.
// Owned by app/spaces/samplers; called by whoever stores a sample.
import type { ToolRecord } from "../../store/types";
import type { SampleRequest, Sampler } from "./sampler";

export function samplerToolRecord(sampler: Sampler, request: SampleRequest): ToolRecord {
  const { temperature, top_p, seed, style } = request.context;
  return {
    kind: "sampler",
    name: sampler.name,
    params: {
      ...sampler.params,
      spanBeats: request.spanBeats,
      conditioningCount: request.conditioning.length,
    },
    context: style === undefined ? { temperature, top_p, seed } : { temperature, top_p, seed, style },
  };
}
