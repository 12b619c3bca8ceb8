// Owns the mix kernel (renderBlock) and the engine's non-real-time housekeeping (canvas swap, prefetch, capture).
// The kernel's arithmetic order is the contract with app/audio/reference-mix.ts: see docs/engine.md.
#include "engine.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <stdexcept>

#include "control_block.h"
#include "rt_hooks.h"

namespace lc {

namespace {

constexpr uint32_t kReadAttempts = 4;
constexpr uint32_t kMapReadAttempts = 4;

inline uint32_t ld32(const uint8_t* p) {
  return __atomic_load_n(reinterpret_cast<const uint32_t*>(p), __ATOMIC_ACQUIRE);
}
inline float ldf(const uint8_t* p) {
  uint32_t bits = ld32(p);
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}
inline int64_t ld64(const uint8_t* p) {
  return __atomic_load_n(reinterpret_cast<const int64_t*>(p), __ATOMIC_ACQUIRE);
}
inline void st64(uint8_t* p, int64_t v) { __atomic_store_n(reinterpret_cast<int64_t*>(p), v, __ATOMIC_RELEASE); }
inline void st32(uint8_t* p, uint32_t v) { __atomic_store_n(reinterpret_cast<uint32_t*>(p), v, __ATOMIC_RELEASE); }
inline void add64(uint8_t* p, uint64_t v) {
  if (v) __atomic_fetch_add(reinterpret_cast<uint64_t*>(p), v, __ATOMIC_RELAXED);
}
inline uint64_t nowNs() noexcept {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);  // vDSO: no system call on Linux x86-64/arm64
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

}  // namespace

Engine::Engine(const EngineConfig& config, uint8_t* controlBlock, size_t controlBytes)
    : config_(config), cb_(controlBlock), cbBytes_(controlBytes) {
  if (config.channels < 1 || config.channels > 2) throw std::runtime_error("channels must be 1 or 2");
  if (config.maxHeads < 1 || config.maxHeads > 64) throw std::runtime_error("maxHeads must be 1..64");
  if (config.maxLanes < 1 || config.maxLanes > 1024) throw std::runtime_error("maxLanes must be 1..1024");
  if (config.maxBlockFrames < 1 || config.maxBlockFrames > 65536) {
    throw std::runtime_error("maxBlockFrames must be 1..65536");
  }
  if (controlBytes < cb::totalBytes(config.maxHeads, config.maxLanes)) {
    throw std::runtime_error("control block is too small for maxHeads/maxLanes; allocate it with the layout from "
                             "app/audio/control-block.ts");
  }
  if (ld32(cb_ + cb::kMagicOff) != cb::kMagic || ld32(cb_ + cb::kVersionOff) != cb::kVersion ||
      ld32(cb_ + cb::kMaxHeadsOff) != config.maxHeads || ld32(cb_ + cb::kMaxLanesOff) != config.maxLanes) {
    throw std::runtime_error("control block header does not match (magic, version, maxHeads, maxLanes); initialize "
                             "it with app/audio/control-block.ts");
  }
  size_t blockSamples = size_t{config.maxBlockFrames} * config.channels;
  acc_.assign(blockSamples, 0.0f);
  scratch_.assign(blockSamples, 0.0f);
  positions_.assign(config.maxHeads, 0);
  lastSeek_.assign(config.maxHeads, 0);
  loopOn_.assign(config.maxHeads, 0);
  loopStart_.assign(config.maxHeads, 0);
  loopEnd_.assign(config.maxHeads, 0);
  keys_.assign(size_t{config.maxHeads} * config.maxLanes, 0);
  keysScratch_.assign(config.maxLanes, 0);
  laneAudible_.assign(config.maxLanes, 0);
  laneGainL_.assign(config.maxLanes, 0.0f);
  laneGainR_.assign(config.maxLanes, 0.0f);
  missRing_.assign(kMissRingEntries, MissRecord{});
  for (uint32_t h = 0; h < config.maxHeads; ++h) {
    const uint8_t* head = cb_ + cb::headsOffset(config.maxLanes) + cb::headStride(config.maxLanes) * h;
    lastSeek_[h] = ld32(head + cb::kHeadSeekCounterOff);
    positions_[h] = std::max<int64_t>(0, ld64(head + cb::kHeadPositionOff));
  }
}

Engine::~Engine() {
  stopPrefetchThread();
  if (drainThread_.joinable()) {
    drainStop_.store(true);
    drainThread_.join();
  }
  active_.store(nullptr);
}

void Engine::noteLateBlock() noexcept { add64(cb_ + cb::kLateBlocksOff, 1); }
void Engine::noteDriverFallback() noexcept { add64(cb_ + cb::kDriverFallbacksOff, 1); }

void Engine::renderBlock(float* interleavedOut, uint32_t frames) noexcept {
  rtguard_enter();
  uint64_t t0 = nowNs();
  uint32_t ch = config_.channels;
  uint32_t done = 0;
  // Only this thread writes framesRendered: the frame the block starts at, for miss records.
  const uint64_t blockFrame =
      __atomic_load_n(reinterpret_cast<const uint64_t*>(cb_ + cb::kFramesRenderedOff), __ATOMIC_RELAXED);
  while (done < frames) {
    uint32_t n = std::min(frames - done, config_.maxBlockFrames);
    renderPiece(interleavedOut + size_t{done} * ch, n, blockFrame + done);
    done += n;
  }
  if (captureOn_.load(std::memory_order_acquire)) {
    uint64_t samples = uint64_t{frames} * ch;
    uint64_t w = ringWrite_.load(std::memory_order_relaxed);
    uint64_t r = ringRead_.load(std::memory_order_acquire);
    uint64_t size = ring_.size();
    if (size - (w - r) < samples) {
      add64(cb_ + cb::kCaptureOverrunsOff, 1);
    } else {
      uint64_t at = w % size;
      uint64_t first = std::min(samples, size - at);
      std::memcpy(ring_.data() + at, interleavedOut, first * sizeof(float));
      if (first < samples) std::memcpy(ring_.data(), interleavedOut + first, (samples - first) * sizeof(float));
      ringWrite_.store(w + samples, std::memory_order_release);
    }
  }
  uint64_t elapsed = nowNs() - t0;
  __atomic_store_n(reinterpret_cast<uint64_t*>(cb_ + cb::kLastCallbackNsOff), elapsed, __ATOMIC_RELAXED);
  uint64_t* maxNs = reinterpret_cast<uint64_t*>(cb_ + cb::kMaxCallbackNsOff);
  if (elapsed > __atomic_load_n(maxNs, __ATOMIC_RELAXED)) __atomic_store_n(maxNs, elapsed, __ATOMIC_RELAXED);
  add64(cb_ + cb::kFramesRenderedOff, frames);
  __atomic_fetch_add(reinterpret_cast<uint64_t*>(cb_ + cb::kCallbacksOff), 1, __ATOMIC_RELEASE);
  rtguard_exit();
}

void Engine::recordMiss(const MissRecord& record) noexcept {
  const uint64_t w = missWrite_.load(std::memory_order_relaxed);
  const uint64_t r = missRead_.load(std::memory_order_acquire);
  if (w - r >= missRing_.size()) {
    add64(cb_ + cb::kMissRecordsDroppedOff, 1);
    return;
  }
  missRing_[w % missRing_.size()] = record;
  missWrite_.store(w + 1, std::memory_order_release);
}

size_t Engine::takeMisses(std::vector<MissRecord>& out, size_t maxRecords) {
  uint64_t r = missRead_.load(std::memory_order_relaxed);
  const uint64_t w = missWrite_.load(std::memory_order_acquire);
  size_t n = 0;
  while (r < w && n < maxRecords) {
    out.push_back(missRing_[r % missRing_.size()]);
    ++r;
    ++n;
  }
  missRead_.store(r, std::memory_order_release);
  return n;
}

void Engine::renderPiece(float* out, uint32_t frames, uint64_t engineFrame) noexcept {
  const uint32_t ch = config_.channels;
  const uint32_t maxLanes = config_.maxLanes;
  const size_t samples = size_t{frames} * ch;
  float* acc = acc_.data();
  float* scratch = scratch_.data();
  std::fill(acc, acc + samples, 0.0f);
  const float master = ldf(cb_ + cb::kMasterGainOff);
  CanvasFile* canvas = active_.load(std::memory_order_acquire);
  const uint32_t fpp = canvas ? canvas->info().framesPerPage : 1;
  uint64_t misses = 0;
  uint64_t retries = 0;

  bool anyLaneSolo = false;
  for (uint32_t l = 0; l < maxLanes; ++l) {
    if (ld32(cb_ + cb::kLanesOff + cb::kLaneStride * l + cb::kLaneSoloOff)) anyLaneSolo = true;
  }
  for (uint32_t l = 0; l < maxLanes; ++l) {
    const uint8_t* lane = cb_ + cb::kLanesOff + cb::kLaneStride * l;
    bool mute = ld32(lane + cb::kLaneMuteOff) != 0;
    bool solo = ld32(lane + cb::kLaneSoloOff) != 0;
    laneAudible_[l] = !mute && (!anyLaneSolo || solo);
    float gain = ldf(lane + cb::kLaneGainOff);
    laneGainL_[l] = gain * ldf(lane + cb::kLanePanLeftOff);
    laneGainR_[l] = gain * ldf(lane + cb::kLanePanRightOff);
  }

  uint8_t* heads = cb_ + cb::headsOffset(maxLanes);
  const size_t stride = cb::headStride(maxLanes);
  bool anyHeadSolo = false;
  for (uint32_t h = 0; h < config_.maxHeads; ++h) {
    if (ld32(heads + stride * h + cb::kHeadSoloOff)) anyHeadSolo = true;
  }

  for (uint32_t h = 0; h < config_.maxHeads; ++h) {
    uint8_t* head = heads + stride * h;
    uint32_t seekCounter = ld32(head + cb::kHeadSeekCounterOff);
    if (seekCounter != lastSeek_[h]) {
      positions_[h] = std::max<int64_t>(0, ld64(head + cb::kHeadSeekTargetOff));
      lastSeek_[h] = seekCounter;
      st32(head + cb::kHeadSeekAppliedOff, seekCounter);
    }
    if (!ld32(head + cb::kHeadPlayingOff)) {
      st64(head + cb::kHeadPositionOff, positions_[h]);
      continue;
    }
    const bool audible = !ld32(head + cb::kHeadMuteOff) && (!anyHeadSolo || ld32(head + cb::kHeadSoloOff));
    const float headGain = ldf(head + cb::kHeadGainOff);
    const uint32_t minGeneration = ld32(head + cb::kHeadGenerationOff);

    // The stream map and the loop range are read under the head's seqlock into scratch and adopted only when
    // stable; otherwise the head keeps the map and loop it used in the previous block.
    uint64_t* keys = keys_.data() + size_t{h} * maxLanes;
    const uint32_t* mapSeq = reinterpret_cast<const uint32_t*>(head + cb::kHeadStreamMapSeqOff);
    uint64_t* fresh = keysScratch_.data();
    for (uint32_t attempt = 0; attempt < kMapReadAttempts; ++attempt) {
      uint32_t s1 = __atomic_load_n(mapSeq, __ATOMIC_ACQUIRE);
      if (s1 & 1u) continue;
      for (uint32_t l = 0; l < maxLanes; ++l) {
        fresh[l] = __atomic_load_n(reinterpret_cast<const uint64_t*>(head + cb::kHeadStreamKeysOff + 8u * l),
                                   __ATOMIC_RELAXED);
      }
      const uint32_t freshLoopOn = __atomic_load_n(reinterpret_cast<const uint32_t*>(head + cb::kHeadLoopEnabledOff),
                                                   __ATOMIC_RELAXED);
      const int64_t freshLoopStart =
          __atomic_load_n(reinterpret_cast<const int64_t*>(head + cb::kHeadLoopStartOff), __ATOMIC_RELAXED);
      const int64_t freshLoopEnd =
          __atomic_load_n(reinterpret_cast<const int64_t*>(head + cb::kHeadLoopEndOff), __ATOMIC_RELAXED);
      __atomic_thread_fence(__ATOMIC_ACQUIRE);
      if (__atomic_load_n(mapSeq, __ATOMIC_RELAXED) == s1) {
        std::copy(fresh, fresh + maxLanes, keys);
        loopOn_[h] = freshLoopOn != 0;
        loopStart_[h] = freshLoopStart;
        loopEnd_[h] = freshLoopEnd;
        break;
      }
    }
    const int64_t loopStart = loopStart_[h];
    const int64_t loopEnd = loopEnd_[h];
    const bool looping = loopOn_[h] && loopStart >= 0 && loopEnd > loopStart;

    int64_t pos = positions_[h];
    uint32_t outFrame = 0;
    uint32_t remaining = frames;
    while (remaining > 0) {
      if (looping && pos >= loopEnd) pos = loopStart;
      uint32_t segment = remaining;
      if (looping) segment = static_cast<uint32_t>(std::min<int64_t>(segment, loopEnd - pos));
      const uint64_t pageIndex64 = static_cast<uint64_t>(pos) / fpp;
      const uint32_t offset = static_cast<uint32_t>(static_cast<uint64_t>(pos) % fpp);
      if (canvas) segment = std::min(segment, fpp - offset);
      if (audible) {
        for (uint32_t l = 0; l < maxLanes; ++l) {
          const uint64_t key = keys[l];
          if (key == 0 || !laneAudible_[l]) continue;
          MissReason reason = MissReason::NoCanvas;
          uint32_t pageGeneration = 0;
          bool hit = false;
          if (canvas && pageIndex64 <= 0xffffffffull) {
            const uint32_t pageIndex = static_cast<uint32_t>(pageIndex64);
            const int32_t slot = canvas->findSlot(key, pageIndex);
            if (slot < 0) {
              reason = MissReason::Absent;
            } else {
              switch (canvas->readSlice(slot, key, pageIndex, offset, segment, minGeneration, scratch,
                                        kReadAttempts, retries, pageGeneration)) {
                case CanvasFile::ReadResult::Ok: hit = true; break;
                case CanvasFile::ReadResult::NeverWritten: reason = MissReason::NeverWritten; break;
                case CanvasFile::ReadResult::Invalid: reason = MissReason::Invalid; break;
                case CanvasFile::ReadResult::Moved: reason = MissReason::Moved; break;
                case CanvasFile::ReadResult::Stale: reason = MissReason::Stale; break;
                case CanvasFile::ReadResult::Torn: reason = MissReason::Torn; break;
              }
            }
          } else if (canvas) {
            reason = MissReason::PageOutOfRange;
          }
          if (!hit) {
            ++misses;
            recordMiss(MissRecord{engineFrame + outFrame, pos, key, pageIndex64, h, l, offset, segment,
                                  minGeneration, pageGeneration, static_cast<uint32_t>(reason), 0});
            continue;
          }
          float* dst = acc + size_t{outFrame} * ch;
          if (ch == 2) {
            const float gl = laneGainL_[l];
            const float gr = laneGainR_[l];
            for (uint32_t f = 0; f < segment; ++f) {
              dst[2 * f] = dst[2 * f] + (scratch[2 * f] * gl) * headGain;
              dst[2 * f + 1] = dst[2 * f + 1] + (scratch[2 * f + 1] * gr) * headGain;
            }
          } else {
            const float g = laneGainL_[l];
            for (uint32_t f = 0; f < segment; ++f) dst[f] = dst[f] + (scratch[f] * g) * headGain;
          }
        }
      }
      pos += segment;
      outFrame += segment;
      remaining -= segment;
    }
    positions_[h] = pos;
    st64(head + cb::kHeadPositionOff, pos);
  }

  for (size_t i = 0; i < samples; ++i) out[i] = acc[i] * master;
  add64(cb_ + cb::kPageMissesOff, misses);
  add64(cb_ + cb::kTornReadRetriesOff, retries);
}

void Engine::setCanvas(std::unique_ptr<CanvasFile> canvas) {
  std::lock_guard<std::mutex> lock(canvasMutex_);
  if (canvas && (canvas->info().channels != config_.channels || canvas->info().sampleRate != config_.sampleRate)) {
    throw std::runtime_error("canvas file " + canvas->path() + " has " + std::to_string(canvas->info().channels) +
                             " channels at " + std::to_string(canvas->info().sampleRate) +
                             " Hz but the engine runs " + std::to_string(config_.channels) + " channels at " +
                             std::to_string(config_.sampleRate) + " Hz; create the canvas with the engine's format");
  }
  CanvasFile* next = canvas.get();
  active_.store(next, std::memory_order_release);
  if (owned_) {
    uint64_t callbacks = __atomic_load_n(reinterpret_cast<uint64_t*>(cb_ + cb::kCallbacksOff), __ATOMIC_ACQUIRE);
    retired_.push_back(Retired{std::move(owned_), callbacks + 2});
  }
  owned_ = std::move(canvas);
  releaseRetiredLocked(false);
}

bool Engine::hasCanvas() const { return active_.load(std::memory_order_acquire) != nullptr; }

void Engine::releaseRetired(bool force) {
  std::lock_guard<std::mutex> lock(canvasMutex_);
  releaseRetiredLocked(force);
}

void Engine::releaseRetiredLocked(bool force) {
  uint64_t callbacks = __atomic_load_n(reinterpret_cast<uint64_t*>(cb_ + cb::kCallbacksOff), __ATOMIC_ACQUIRE);
  bool running = running_.load(std::memory_order_acquire);
  retired_.erase(std::remove_if(retired_.begin(), retired_.end(),
                                [&](const Retired& r) {
                                  return force || !running || callbacks >= r.releaseAfterCallbacks;
                                }),
                 retired_.end());
}

void Engine::prefetchAhead(uint32_t aheadPages, bool lock) {
  std::lock_guard<std::mutex> guard(canvasMutex_);
  CanvasFile* canvas = owned_.get();
  if (!canvas) return;
  const uint32_t maxLanes = config_.maxLanes;
  const uint8_t* heads = cb_ + cb::headsOffset(maxLanes);
  for (uint32_t h = 0; h < config_.maxHeads; ++h) {
    const uint8_t* head = heads + cb::headStride(maxLanes) * h;
    if (!ld32(head + cb::kHeadPlayingOff)) continue;
    int64_t pos = std::max<int64_t>(0, ld64(head + cb::kHeadPositionOff));
    uint64_t page = static_cast<uint64_t>(pos) / canvas->info().framesPerPage;
    if (page > 0xffffffffull) continue;
    for (uint32_t l = 0; l < maxLanes; ++l) {
      uint64_t key = __atomic_load_n(reinterpret_cast<const uint64_t*>(head + cb::kHeadStreamKeysOff + 8u * l),
                                     __ATOMIC_RELAXED);
      if (key) canvas->prefetch(key, static_cast<uint32_t>(page), aheadPages, lock);
    }
    if (ld32(head + cb::kHeadLoopEnabledOff)) {
      int64_t loopStart = std::max<int64_t>(0, ld64(head + cb::kHeadLoopStartOff));
      uint64_t loopPage = static_cast<uint64_t>(loopStart) / canvas->info().framesPerPage;
      if (loopPage > 0xffffffffull) continue;
      for (uint32_t l = 0; l < maxLanes; ++l) {
        uint64_t key = __atomic_load_n(reinterpret_cast<const uint64_t*>(head + cb::kHeadStreamKeysOff + 8u * l),
                                       __ATOMIC_RELAXED);
        if (key) canvas->prefetch(key, static_cast<uint32_t>(loopPage), 2, lock);
      }
    }
  }
  releaseRetiredLocked(false);
}

void Engine::prefetchStreams(const std::vector<uint64_t>& keys, uint32_t firstPage, uint32_t pageCount) {
  std::lock_guard<std::mutex> guard(canvasMutex_);
  CanvasFile* canvas = owned_.get();
  if (!canvas) return;
  for (uint64_t key : keys) {
    if (key) canvas->prefetch(key, firstPage, pageCount, false);
  }
}

uint32_t Engine::residentPages(uint64_t streamKey, uint32_t firstPage, uint32_t count) {
  std::lock_guard<std::mutex> guard(canvasMutex_);
  return owned_ ? owned_->residentPages(streamKey, firstPage, count) : 0;
}

void Engine::evictCanvasFromPageCache() {
  std::lock_guard<std::mutex> guard(canvasMutex_);
  if (owned_) owned_->evictFromPageCache();
}

void Engine::startPrefetchThread(uint32_t aheadPages, uint32_t periodMs, bool lock) {
  stopPrefetchThread();
  prefetchStop_.store(false);
  prefetchThread_ = std::thread([this, aheadPages, periodMs, lock] {
    while (!prefetchStop_.load(std::memory_order_acquire)) {
      prefetchAhead(aheadPages, lock);
      std::this_thread::sleep_for(std::chrono::milliseconds(periodMs));
    }
  });
}

void Engine::stopPrefetchThread() {
  if (prefetchThread_.joinable()) {
    prefetchStop_.store(true, std::memory_order_release);
    prefetchThread_.join();
  }
}

void Engine::startCapture(uint64_t maxFrames) {
  if (drainThread_.joinable()) throw std::runtime_error("a capture is already running; stop it first");
  uint64_t ringSamples = uint64_t{config_.sampleRate} * config_.channels;  // one second of headroom
  ringSamples = std::max<uint64_t>(ringSamples, uint64_t{config_.maxBlockFrames} * config_.channels * 4);
  // Allocated once: a callback still finishing a push from an earlier capture must never see it freed.
  if (ring_.empty()) ring_.assign(ringSamples, 0.0f);
  ringWrite_.store(0);
  ringRead_.store(0);
  captureMaxSamples_ = maxFrames * config_.channels;
  captured_.clear();
  captured_.reserve(captureMaxSamples_);
  drainStop_.store(false);
  drainThread_ = std::thread([this] { drainLoop(); });
  captureOn_.store(true, std::memory_order_release);
}

void Engine::drainLoop() {
  for (;;) {
    bool stopping = drainStop_.load(std::memory_order_acquire);
    uint64_t r = ringRead_.load(std::memory_order_relaxed);
    uint64_t w = ringWrite_.load(std::memory_order_acquire);
    uint64_t size = ring_.size();
    while (r < w) {
      uint64_t at = r % size;
      uint64_t n = std::min(w - r, size - at);
      uint64_t room = captureMaxSamples_ - std::min<uint64_t>(captureMaxSamples_, captured_.size());
      uint64_t take = std::min(n, room);
      captured_.insert(captured_.end(), ring_.begin() + static_cast<std::ptrdiff_t>(at),
                       ring_.begin() + static_cast<std::ptrdiff_t>(at + take));
      r += n;
    }
    ringRead_.store(r, std::memory_order_release);
    if (stopping) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::vector<float> Engine::stopCapture() {
  captureOn_.store(false, std::memory_order_release);
  if (drainThread_.joinable()) {
    drainStop_.store(true, std::memory_order_release);
    drainThread_.join();
  }
  std::vector<float> out;
  out.swap(captured_);
  return out;
}

}  // namespace lc
