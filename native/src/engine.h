// Owns the mix kernel: one Engine per output, its preallocated buffers, the active canvas pointer and the capture ring.
// Real-time entry points (callback thread only): renderBlock, noteLateBlock. Everything else is non-real-time and
// called by the addon (addon.cpp) from the JS thread or the addon's helper threads.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "canvas_file.h"

namespace lc {

struct EngineConfig {
  uint32_t sampleRate = 48000;
  uint32_t channels = 2;  // 1 or 2; equals the canvas file's channels
  uint32_t maxHeads = 4;
  uint32_t maxLanes = 16;
  uint32_t maxBlockFrames = 4096;
};

// Why a lane-segment was silence (one MissRecord per counted page miss). Values are part of the JS surface
// (app/audio/engine.ts MISS_REASONS); append only.
enum class MissReason : uint32_t {
  NoCanvas = 0,       // no canvas file is open
  PageOutOfRange = 1, // the head's position is beyond the 32-bit page index
  Absent = 2,         // no live slot holds (stream key, page) in the page table
  NeverWritten = 3,   // a slot is claimed but its first write has not finished
  Invalid = 4,        // the page was invalidated
  Moved = 5,          // the slot was freed (possibly reused) between the lookup and the read
  Stale = 6,          // the page's generation is below the head's
  Torn = 7,           // every read attempt overlapped a write
};

// One page miss, written by the callback into a preallocated SPSC ring and drained by takeMisses().
struct MissRecord {
  uint64_t engineFrame;    // output frame (framesRendered count) where the silent segment starts
  int64_t timelineFrame;   // the head's timeline position at the start of the segment
  uint64_t streamKey;
  uint64_t pageIndex;      // timeline page (may exceed 32 bits for PageOutOfRange)
  uint32_t head;           // head slot
  uint32_t lane;           // lane index
  uint32_t frameOffset;    // first frame of the segment within the page
  uint32_t frames;         // segment length (frames of silence for this lane)
  uint32_t wantedGeneration;
  uint32_t pageGeneration; // the page's generation when it was read (Stale, Invalid), else 0
  uint32_t reason;         // MissReason
  uint32_t reserved;
};

constexpr uint32_t kMissRingEntries = 4096;

class Engine {
 public:
  // controlBlock: the bytes of a JS SharedArrayBuffer laid out per control_block.h; the caller keeps it alive.
  Engine(const EngineConfig& config, uint8_t* controlBlock, size_t controlBytes);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // THE render entry. Real-time safe: no locks, no allocation, no syscalls, no JS. frames <= maxBlockFrames
  // (larger requests are rendered in maxBlockFrames pieces). Writes frames*channels interleaved float32.
  void renderBlock(float* interleavedOut, uint32_t frames) noexcept;
  // Called by a driver's callback thread on an xrun / missed deadline.
  void noteLateBlock() noexcept;
  // Called by the rtaudio driver glue when it falls back to the null driver (non-RT or RT thread).
  void noteDriverFallback() noexcept;

  const EngineConfig& config() const { return config_; }
  uint32_t maxBlockFrames() const { return config_.maxBlockFrames; }

  // Non-real-time: replace the active canvas (nullptr = none, silence). The previous mapping is released once
  // the callback can no longer be using it.
  void setCanvas(std::unique_ptr<CanvasFile> canvas);
  bool hasCanvas() const;
  // Non-real-time: prefetch pages ahead of every playing head (aheadPages pages per lane).
  void prefetchAhead(uint32_t aheadPages, bool lock);
  // Non-real-time: fault in pages [firstPage, firstPage + pageCount) of these streams now (a host about to map
  // new keys into a head, so the callback's first reads of them do not fault).
  void prefetchStreams(const std::vector<uint64_t>& keys, uint32_t firstPage, uint32_t pageCount);
  // Non-real-time: a helper thread that calls prefetchAhead every periodMs while a live driver runs.
  // Non-real-time diagnostics over the active canvas (see CanvasFile::residentPages / evictFromPageCache).
  uint32_t residentPages(uint64_t streamKey, uint32_t firstPage, uint32_t count);
  void evictCanvasFromPageCache();
  void startPrefetchThread(uint32_t aheadPages, uint32_t periodMs, bool lock);
  void stopPrefetchThread();
  void releaseRetired(bool force);

  // Capture: the callback copies each block into an SPSC ring; a drain thread moves it into a buffer.
  void startCapture(uint64_t maxFrames);  // preallocates; call before the driver starts
  std::vector<float> stopCapture();       // stops draining and returns what was captured

  void setRunning(bool running) { running_.store(running, std::memory_order_release); }

  // Non-real-time (one consumer thread at a time): moves up to maxRecords recorded misses, oldest first, into out.
  size_t takeMisses(std::vector<MissRecord>& out, size_t maxRecords);

 private:
  void renderPiece(float* out, uint32_t frames, uint64_t engineFrame) noexcept;
  void recordMiss(const MissRecord& record) noexcept;
  void releaseRetiredLocked(bool force);
  void drainLoop();

  EngineConfig config_;
  uint8_t* cb_;
  size_t cbBytes_;
  std::vector<float> acc_;
  std::vector<float> scratch_;
  std::vector<int64_t> positions_;
  std::vector<uint32_t> lastSeek_;
  std::vector<uint8_t> loopOn_;  // per head: the loop range last read stable under the head's seqlock
  std::vector<int64_t> loopStart_;
  std::vector<int64_t> loopEnd_;
  std::vector<uint64_t> keys_;
  std::vector<uint64_t> keysScratch_;
  std::vector<uint8_t> laneAudible_;
  std::vector<float> laneGainL_;
  std::vector<float> laneGainR_;

  std::atomic<CanvasFile*> active_{nullptr};
  std::unique_ptr<CanvasFile> owned_;
  struct Retired {
    std::unique_ptr<CanvasFile> file;
    uint64_t releaseAfterCallbacks;
  };
  std::vector<Retired> retired_;
  mutable std::mutex canvasMutex_;  // non-RT only: serializes setCanvas / prefetch
  std::atomic<bool> running_{false};
  std::thread prefetchThread_;
  std::atomic<bool> prefetchStop_{false};

  // Miss ring (SPSC: callback produces, takeMisses consumes); preallocated in the constructor.
  std::vector<MissRecord> missRing_;
  std::atomic<uint64_t> missWrite_{0};
  std::atomic<uint64_t> missRead_{0};

  // Capture ring (SPSC: callback produces, drain thread consumes).
  std::vector<float> ring_;
  std::atomic<uint64_t> ringWrite_{0};
  std::atomic<uint64_t> ringRead_{0};
  std::atomic<bool> captureOn_{false};
  std::atomic<bool> drainStop_{false};
  std::thread drainThread_;
  std::vector<float> captured_;
  uint64_t captureMaxSamples_ = 0;
};

}  // namespace lc
