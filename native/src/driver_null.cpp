// Owns the null driver: a paced thread that calls Engine::renderBlock at the device rate with no device.
// It sleeps to absolute deadlines computed from frames played (clock_nanosleep TIMER_ABSTIME, CLOCK_MONOTONIC),
// so it never drifts and never bursts. Callers: addon.cpp (start/stop on the JS thread).
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "driver.h"
#include "engine.h"

namespace lc {

namespace {

uint64_t monoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

class NullDriver final : public Driver {
 public:
  NullDriver(Engine& engine, const DriverConfig& config) : engine_(engine), config_(config) {
    if (config.bufferFrames < 1 || config.bufferFrames > engine.maxBlockFrames()) {
      throw std::runtime_error("null driver: bufferFrames " + std::to_string(config.bufferFrames) +
                               " is outside 1.." + std::to_string(engine.maxBlockFrames()) +
                               " (the engine's maxBlockFrames)");
    }
    if (config.sampleRate != engine.config().sampleRate) {
      throw std::runtime_error("null driver: sampleRate must equal the engine's (" +
                               std::to_string(engine.config().sampleRate) + ")");
    }
    buffer_.assign(size_t{config.bufferFrames} * engine.config().channels, 0.0f);
  }
  ~NullDriver() override { stop(); }

  void start() override {
    if (thread_.joinable()) return;
    stop_.store(false);
    running_.store(true);
    thread_ = std::thread([this] { run(); });
  }
  void stop() override {
    if (!thread_.joinable()) return;
    stop_.store(true, std::memory_order_release);
    thread_.join();
    running_.store(false);
  }
  bool isRunning() const override { return running_.load(); }
  const char* name() const override { return "null"; }
  uint32_t actualSampleRate() const override { return config_.sampleRate; }
  uint32_t actualBufferFrames() const override { return config_.bufferFrames; }
  uint32_t actualLatencyFrames() const override { return config_.bufferFrames; }
  bool realtimePriorityActive() const override { return rt_.load(); }

 private:
  void run() {
    if (config_.realtimePriority) {
      sched_param param{};
      param.sched_priority = 70;
      rt_.store(pthread_setschedparam(pthread_self(), SCHED_FIFO, &param) == 0);
    }
    const uint64_t sr = config_.sampleRate;
    const uint64_t frames = config_.bufferFrames;
    const uint64_t periodNs = frames * 1000000000ull / sr;
    uint64_t origin = monoNs();
    uint64_t played = 0;  // frames delivered since origin
    while (!stop_.load(std::memory_order_acquire)) {
      // Block k is due at origin + k*period; render it then, and it is late if it finishes after the next deadline.
      uint64_t due = origin + played * 1000000000ull / sr;
      timespec ts{static_cast<time_t>(due / 1000000000ull), static_cast<long>(due % 1000000000ull)};
      while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nullptr) != 0) {
      }
      engine_.renderBlock(buffer_.data(), config_.bufferFrames);
      played += frames;
      uint64_t now = monoNs();
      uint64_t next = origin + played * 1000000000ull / sr;
      if (now > next) {
        engine_.noteLateBlock();
        // Delays up to a quarter second are caught up, so the block count keeps following the clock (what a
        // device would consume); after a longer stall it resynchronizes instead of rendering a long burst.
        if (now > next + std::max<uint64_t>(8 * periodNs, 250000000ull)) origin += now - next;
      }
    }
  }

  Engine& engine_;
  DriverConfig config_;
  std::vector<float> buffer_;
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> running_{false};
  std::atomic<bool> rt_{false};
};

}  // namespace

std::unique_ptr<Driver> makeNullDriver(Engine& engine, const DriverConfig& config) {
  return std::make_unique<NullDriver>(engine, config);
}

}  // namespace lc
