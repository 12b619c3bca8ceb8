// Owns the on-disk canvas file format (documented in docs/canvas-file.md) and its pure helpers:
// header layout, checksum, page-table hashing. Callers: canvas_file.cpp (C++), mirrored by app/audio/canvas-file.ts.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lc::canvas {

constexpr char kMagic[8] = {'L', 'C', 'C', 'A', 'N', 'V', 'A', 'S'};
constexpr uint32_t kVersion = 2;  // 2: tombstones (state 3), freed pages' data punched out
constexpr uint32_t kHeaderBytes = 4096;
constexpr uint32_t kEntryBytes = 32;
constexpr uint32_t kAlign = 4096;
constexpr uint32_t kMaxProbe = 64;  // linear-probe bound for both writer and callback

// Header fields (little-endian).
constexpr size_t kHMagic = 0;           // 8 bytes
constexpr size_t kHVersion = 8;         // u32
constexpr size_t kHHeaderBytes = 12;    // u32
constexpr size_t kHSampleRate = 16;     // u32
constexpr size_t kHChannels = 20;       // u32
constexpr size_t kHFramesPerPage = 24;  // u32
constexpr size_t kHPageCapacity = 28;   // u32
constexpr size_t kHEntryBytes = 32;     // u32
constexpr size_t kHPageBytes = 36;      // u32 stride of one page slot (multiple of 4096)
constexpr size_t kHTableOffset = 40;    // u64
constexpr size_t kHDataOffset = 48;     // u64
constexpr size_t kHFileBytes = 56;      // u64
constexpr size_t kHChecksum = 64;       // u32 FNV-1a over bytes [0, 64)
constexpr size_t kHChecksummedBytes = 64;
constexpr size_t kHPagesUsed = 72;      // u32, mutable (atomic), not checksummed: live slots (claimed - freed)

// Page table entry fields.
constexpr size_t kEStreamKey = 0;   // u64, 0 = empty slot
constexpr size_t kEPageIndex = 8;   // u32
constexpr size_t kEState = 12;      // u32: kStateEmpty / kStateLive / kStateClaiming / kStateTombstone
constexpr size_t kESeq = 16;        // u32 seqlock: 0 never written, odd while written, even > 0 ready
constexpr size_t kEGeneration = 20; // u32
constexpr size_t kEValid = 24;      // u32: 1 = holds a complete page, 0 = invalidated (written under the seqlock)

// Page table entry states. Empty slots end a probe; tombstones (freed slots) do not, and are reused by inserts.
// A slot's key and index change only under its seqlock (odd), so a reader checks them inside its seqlock read.
constexpr uint32_t kStateEmpty = 0;
constexpr uint32_t kStateLive = 1;
constexpr uint32_t kStateClaiming = 2;
constexpr uint32_t kStateTombstone = 3;

inline uint32_t fnv1a32(const uint8_t* bytes, size_t n) {
  uint32_t h = 0x811c9dc5u;
  for (size_t i = 0; i < n; ++i) {
    h ^= bytes[i];
    h *= 0x01000193u;
  }
  return h;
}

inline uint64_t alignUp(uint64_t v, uint64_t a) { return (v + a - 1) / a * a; }

// Home slot of (streamKey, pageIndex): a 64-bit mix reduced to the capacity.
inline uint32_t homeSlot(uint64_t streamKey, uint32_t pageIndex, uint32_t capacity) {
  uint64_t x = streamKey ^ (static_cast<uint64_t>(pageIndex) * 0x9E3779B97F4A7C15ull);
  x ^= x >> 30;
  x *= 0xBF58476D1CE4E5B9ull;
  x ^= x >> 27;
  x *= 0x94D049BB133111EBull;
  x ^= x >> 31;
  return static_cast<uint32_t>(x % capacity);
}

}  // namespace lc::canvas
