import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { hashBytes, isContentHash, StreamingHash } from "../../app/store/index";

const text = (s: string) => new TextEncoder().encode(s);

describe("content hash (BLAKE3-128)", () => {
  it("matches the origin system's vectors", () => {
    expect(hashBytes(text(""))).toBe("af1349b9f5f9a1a6a0404dea36dcc949");
    expect(hashBytes(text("Hello, World!"))).toBe("288a86a79f20a3d6dccdca7713beaed1");
    expect(hashBytes(text("test"))).toBe("4878ca0425c739fa427f7eda20fe845f");
    expect(hashBytes(text("test data"))).toBe("6a953581d60dbebc9749b56d2383277f");
  });

  it("streams to the same hash whatever the chunking", () => {
    const bytes = randomBytes(3 * 1024 * 1024 + 17);
    const whole = hashBytes(bytes);
    for (const chunkSize of [1, 1000, 64 * 1024, 1024 * 1024]) {
      const stream = new StreamingHash();
      const limit = chunkSize === 1 ? 4096 : bytes.length;
      for (let offset = 0; offset < limit; offset += chunkSize) {
        stream.update(bytes.subarray(offset, Math.min(offset + chunkSize, limit)));
      }
      expect(stream.digest()).toBe(chunkSize === 1 ? hashBytes(bytes.subarray(0, 4096)) : whole);
      expect(stream.bytes).toBe(limit);
    }
  });

  it("recognises well-formed hashes only", () => {
    expect(isContentHash("af1349b9f5f9a1a6a0404dea36dcc949")).toBe(true);
    expect(isContentHash("AF1349B9F5F9A1A6A0404DEA36DCC949")).toBe(false);
    expect(isContentHash("af1349b9f5f9a1a6a0404dea36dcc94")).toBe(false);
    expect(isContentHash("../../etc/passwd0000000000000000")).toBe(false);
  });
});
