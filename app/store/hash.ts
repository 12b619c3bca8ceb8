// Content hashing of the store: BLAKE3 truncated to 128 bits, 32 lowercase hex characters (the origin system's
// names, so both can share one store). Used by the content store, importers and anything naming bytes.
import { Blake3Hasher, blake3 } from "@napi-rs/blake-hash";
import type { ContentHash } from "./types";

export const HASH_HEX_LENGTH = 32;
const HASH_PATTERN = /^[0-9a-f]{32}$/;

export function hashBytes(bytes: Uint8Array): ContentHash {
  return blake3(bytes)
    .subarray(0, HASH_HEX_LENGTH / 2)
    .toString("hex");
}

export function isContentHash(value: string): value is ContentHash {
  return HASH_PATTERN.test(value);
}

/** Incremental hashing for streams: feed chunks in order, then `digest()` once. */
export class StreamingHash {
  readonly #hasher = new Blake3Hasher();
  #bytes = 0;

  update(chunk: Uint8Array): void {
    this.#hasher.update(chunk);
    this.#bytes += chunk.byteLength;
  }

  get bytes(): number {
    return this.#bytes;
  }

  digest(): ContentHash {
    return this.#hasher
      .digestBuffer()
      .subarray(0, HASH_HEX_LENGTH / 2)
      .toString("hex");
  }
}
