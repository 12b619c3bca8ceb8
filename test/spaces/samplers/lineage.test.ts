import { describe, expect, it } from "vitest";
import { samplerToolRecord } from "../../../app/spaces/samplers/lineage";
import { MarkovSampler } from "../../../app/spaces/samplers/markov";
import type { InferenceContext } from "../../../app/spaces/samplers/sampler";
import { song } from "./material";

describe("samplerToolRecord", () => {
  it("records enough to draw the same material again", () => {
    const sampler = new MarkovSampler({ maxOrder: 2 });
    const request = {
      conditioning: [song()],
      context: { temperature: 0.7, top_p: 0.9, seed: 77 },
      spanBeats: 12,
    };
    const first = sampler.sample(request);
    const record = samplerToolRecord(sampler, request);
    expect(record).toMatchObject({ kind: "sampler", name: "markov.v1" });
    const params = record.params as { maxOrder: number; stepsPerBeat: number; spanBeats: number };
    const again = new MarkovSampler({ maxOrder: params.maxOrder, stepsPerBeat: params.stepsPerBeat }).sample({
      conditioning: [song()],
      context: record.context as unknown as InferenceContext,
      spanBeats: params.spanBeats,
    });
    expect(JSON.stringify(again)).toBe(JSON.stringify(first));
    expect(record.context).toEqual({ temperature: 0.7, top_p: 0.9, seed: 77 });
    expect(
      samplerToolRecord(sampler, { ...request, context: { ...request.context, style: "dub" } }).context,
    ).toEqual({
      temperature: 0.7,
      top_p: 0.9,
      seed: 77,
      style: "dub",
    });
  });
});
