// Owns the C++ mirror of the control block layout (the one definition is app/audio/control-block.ts).
// Callers: engine.cpp (reads controls, publishes positions and stats), addon.cpp (reports offsets for the layout test).
// Every field is a 32-bit or 64-bit little-endian word at a fixed byte offset in a JS SharedArrayBuffer.
#pragma once

#include <cstddef>
#include <cstdint>

namespace lc::cb {

constexpr uint32_t kMagic = 0x42434c4c;  // "LLCB" little-endian bytes 'L','L','C','B'
constexpr uint32_t kVersion = 1;

// Global section.
constexpr size_t kMagicOff = 0;
constexpr size_t kVersionOff = 4;
constexpr size_t kMaxHeadsOff = 8;
constexpr size_t kMaxLanesOff = 12;
constexpr size_t kMasterGainOff = 16;  // f32
constexpr size_t kChannelsOff = 20;

// Stats (u64, written by the callback thread only; JS reads with Atomics.load on a BigUint64Array).
constexpr size_t kStatsOff = 64;
constexpr size_t kCallbacksOff = 64;
constexpr size_t kLateBlocksOff = 72;
constexpr size_t kPageMissesOff = 80;
constexpr size_t kTornReadRetriesOff = 88;
constexpr size_t kMaxCallbackNsOff = 96;
constexpr size_t kLastCallbackNsOff = 104;
constexpr size_t kFramesRenderedOff = 112;
constexpr size_t kCaptureOverrunsOff = 120;
constexpr size_t kDriverFallbacksOff = 128;  // counted by the rtaudio driver glue
constexpr size_t kMissRecordsDroppedOff = 136;  // misses not recorded because the miss ring was full
constexpr size_t kStatsEnd = 256;

// Lanes: maxLanes records.
constexpr size_t kLanesOff = 256;
constexpr size_t kLaneStride = 32;
constexpr size_t kLaneGainOff = 0;      // f32
constexpr size_t kLanePanLeftOff = 4;   // f32, constant-power left gain computed in JS
constexpr size_t kLanePanRightOff = 8;  // f32
constexpr size_t kLaneMuteOff = 12;     // u32 0/1
constexpr size_t kLaneSoloOff = 16;     // u32 0/1

// Heads: maxHeads records after the lanes.
constexpr size_t kHeadFixedBytes = 128;
constexpr size_t kHeadPlayingOff = 0;          // u32 0/1
constexpr size_t kHeadGainOff = 4;             // f32
constexpr size_t kHeadMuteOff = 8;             // u32
constexpr size_t kHeadSoloOff = 12;            // u32
constexpr size_t kHeadGenerationOff = 16;      // u32: pages with generation < this are stale for the head
constexpr size_t kHeadSeekCounterOff = 20;     // u32: JS bumps after writing seekTargetFrames
constexpr size_t kHeadSeekTargetOff = 24;      // i64 frames
constexpr size_t kHeadLoopStartOff = 32;       // i64 frames
constexpr size_t kHeadLoopEndOff = 40;         // i64 frames (exclusive)
constexpr size_t kHeadLoopEnabledOff = 48;     // u32
constexpr size_t kHeadStreamMapSeqOff = 52;    // u32 seqlock over the stream keys and the loop range (odd while JS writes)
constexpr size_t kHeadPositionOff = 56;        // i64 frames, published by the callback: next frame to render
constexpr size_t kHeadSeekAppliedOff = 64;     // u32, published: last seek counter the callback consumed
constexpr size_t kHeadStreamKeysOff = 128;     // maxLanes x u64 stream keys (0 = lane unused for this head)

constexpr size_t lanesBytes(uint32_t maxLanes) { return kLaneStride * maxLanes; }
constexpr size_t headsOffset(uint32_t maxLanes) { return kLanesOff + lanesBytes(maxLanes); }
constexpr size_t headStride(uint32_t maxLanes) { return kHeadFixedBytes + 8u * maxLanes; }
constexpr size_t totalBytes(uint32_t maxHeads, uint32_t maxLanes) {
  return headsOffset(maxLanes) + headStride(maxLanes) * maxHeads;
}

}  // namespace lc::cb
