// Owns the rtaudio driver (see driver_rtaudio.h): stream setup, the real-time callback, the watchdog that falls
// back to the null driver, and device listing. Callers: addon.cpp on the JS thread; the callback runs on RtAudio's
// (or JACK's) real-time thread and touches only atomics and Engine::renderBlock / noteLateBlock.
#include "driver_rtaudio.h"

#include <RtAudio.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "engine.h"
#include "rt_hooks.h"

namespace lc {

namespace {

struct RtSection {
  RtSection() { rtguard_enter(); }
  ~RtSection() { rtguard_exit(); }
  RtSection(const RtSection&) = delete;
  RtSection& operator=(const RtSection&) = delete;
};

// CLOCK_MONOTONIC through the vDSO: no system call, safe on the callback thread.
uint64_t monoNs() {
  timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return uint64_t(ts.tv_sec) * 1000000000ull + uint64_t(ts.tv_nsec);
}

void ignoreAlsaMessage(const char*, int, const char*, int, const char*, ...) {}

// ALSA prints probing noise to stderr when there is no sound card; silence it without linking libasound directly.
void quietAlsa() {
  static std::once_flag once;
  std::call_once(once, [] {
    using Handler = void (*)(const char*, int, const char*, int, const char*, ...);
    using SetHandler = int (*)(Handler);
    auto set = reinterpret_cast<SetHandler>(dlsym(RTLD_DEFAULT, "snd_lib_error_set_handler"));
    if (set) set(&ignoreAlsaMessage);
  });
}

std::string joined(const std::vector<std::string>& words) {
  std::string out;
  for (const auto& w : words) out += (out.empty() ? "" : ", ") + w;
  return out;
}

RtAudio::Api apiByName(const std::string& name) {
  std::vector<RtAudio::Api> apis;
  RtAudio::getCompiledApi(apis);
  for (auto api : apis) {
    if (RtAudio::getApiName(api) == name) return api;
  }
  throw std::runtime_error("rtaudio: unknown audio API \"" + name + "\"; this build has: " +
                           joined(compiledRtAudioApis()) + " (run `lcanvas devices` to see their devices)");
}

DeviceInfo toDeviceInfo(RtAudio::Api api, unsigned index, const RtAudio::DeviceInfo& info) {
  DeviceInfo d;
  d.api = RtAudio::getApiName(api);
  d.id = std::to_string(index);
  d.name = info.name;
  d.outputChannels = info.outputChannels;
  d.inputChannels = info.inputChannels;
  d.sampleRates.assign(info.sampleRates.begin(), info.sampleRates.end());
  d.preferredSampleRate = info.preferredSampleRate;
  d.isDefaultOutput = info.isDefaultOutput;
  d.isDefaultInput = info.isDefaultInput;
  return d;
}

// RtAudio's error callback carries no user pointer: the one process-wide slot below receives the text. It may be
// called on the real-time thread (ALSA xruns), so it only copies into a fixed buffer under a try-flag.
struct ErrorSlot {
  std::atomic<uint64_t> errors{0};    // non-warning errors reported
  std::atomic<uint64_t> warnings{0};  // warnings reported
  std::atomic<bool> busy{false};
  char text[512] = {};
};
ErrorSlot gErrorSlot;

void onRtAudioError(RtAudioError::Type type, const std::string& message) {
  bool warning = type == RtAudioError::WARNING || type == RtAudioError::DEBUG_WARNING;
  bool expected = false;
  if (gErrorSlot.busy.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
    size_t n = std::min(message.size(), sizeof(gErrorSlot.text) - 1);
    std::memcpy(gErrorSlot.text, message.data(), n);
    gErrorSlot.text[n] = '\0';
    gErrorSlot.busy.store(false, std::memory_order_release);
  }
  (warning ? gErrorSlot.warnings : gErrorSlot.errors).fetch_add(1, std::memory_order_release);
}

std::string errorSlotText() {
  for (int i = 0; i < 1000; ++i) {
    bool expected = false;
    if (gErrorSlot.busy.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
      std::string text(gErrorSlot.text);
      gErrorSlot.busy.store(false, std::memory_order_release);
      return text;
    }
    std::this_thread::yield();
  }
  return "";
}

class RtAudioDriverImpl final : public RtAudioDriver {
 public:
  RtAudioDriverImpl(Engine& engine, const DriverConfig& config) : engine_(engine), config_(config) {
    quietAlsa();
    if (config.sampleRate != engine.config().sampleRate) {
      throw std::runtime_error("rtaudio: sampleRate " + std::to_string(config.sampleRate) +
                               " differs from the engine's " + std::to_string(engine.config().sampleRate) +
                               "; open the engine at the device's rate");
    }
    if (config.channels != engine.config().channels) {
      throw std::runtime_error("rtaudio: channels " + std::to_string(config.channels) +
                               " differs from the engine's " + std::to_string(engine.config().channels));
    }
    if (config.bufferFrames < 1) throw std::runtime_error("rtaudio: bufferFrames must be at least 1");
    if (const char* stall = std::getenv("LC_RTAUDIO_STALL_MS")) stallMs_ = std::max(20, std::atoi(stall));
    openStream();
  }

  ~RtAudioDriverImpl() override {
    try {
      stop();
    } catch (...) {
    }
  }

  void start() override {
    std::lock_guard<std::mutex> lock(controlMutex_);
    if (started_) return;
    if (!audio_ || !audio_->isStreamOpen()) openStream();
    startStreamLocked();
    awaitFirstCallbackLocked();
    started_ = true;
    watchdogStop_ = false;
    watchdog_ = std::thread([this] { watchdogLoop(); });
  }

  void stop() override {
    {
      std::lock_guard<std::mutex> lock(controlMutex_);
      if (!started_ && !watchdog_.joinable()) {
        closeStreamLocked();
        return;
      }
      watchdogStop_ = true;
    }
    wake_.notify_all();
    if (watchdog_.joinable()) watchdog_.join();
    std::lock_guard<std::mutex> lock(controlMutex_);
    gate_.store(false, std::memory_order_seq_cst);
    waitOutOfCallback();
    if (fallback_) {
      fallback_->stop();
      fallback_.reset();
      retireStreamLocked();  // the failed stream: RtAudio may still be closing it on its own thread
    } else {
      closeStreamLocked();
    }
    started_ = false;
  }

  bool isRunning() const override {
    std::lock_guard<std::mutex> lock(controlMutex_);
    if (fallback_) return fallback_->isRunning();
    return started_ && audio_ && audio_->isStreamRunning();
  }
  const char* name() const override { return "rtaudio"; }
  uint32_t actualSampleRate() const override { return actualSampleRate_; }
  uint32_t actualBufferFrames() const override { return actualBufferFrames_; }
  uint32_t actualLatencyFrames() const override { return actualLatencyFrames_; }
  bool realtimePriorityActive() const override {
    std::lock_guard<std::mutex> lock(controlMutex_);
    if (fallback_) return fallback_->realtimePriorityActive();
    return rtActive_;
  }

  bool onFallback() const override {
    std::lock_guard<std::mutex> lock(controlMutex_);
    return fallback_ != nullptr;
  }
  uint64_t fallbackCount() const override { return fallbacks_.load(); }
  std::string lastError() const override {
    std::lock_guard<std::mutex> lock(errorMutex_);
    return lastError_;
  }
  std::string apiName() const override { return apiName_; }
  std::string deviceName() const override { return deviceName_; }
  uint64_t streamCallbacks() const override { return callbacks_.load(std::memory_order_relaxed); }

  void reopen() override {
    std::lock_guard<std::mutex> lock(controlMutex_);
    if (!fallback_) {
      if (started_) return;
      throw std::runtime_error("rtaudio: reopen needs a started driver; call start()");
    }
    retireStreamLocked();
    try {
      openStream();
    } catch (const std::exception& e) {
      setError(std::string("reopen failed: ") + e.what());
      throw;
    }
    // Hand over: the null driver stops (its thread joined) before the stream's first callback can render.
    fallback_->stop();
    fallback_.reset();
    try {
      startStreamLocked();
    } catch (const std::exception& e) {
      setError(std::string("reopen failed: ") + e.what());
      startFallbackLocked();
      throw;
    }
    awaitFirstCallbackLocked();
  }

 private:
  static int callback(void* out, void* /*in*/, unsigned int frames, double /*streamTime*/,
                      RtAudioStreamStatus status, void* user) {
    auto* self = static_cast<RtAudioDriverImpl*>(user);
    RtSection marked;  // the whole callback, not only the engine, is under the real-time guard in a guard build
    self->inCallback_.store(true, std::memory_order_seq_cst);
    if (!self->gate_.load(std::memory_order_seq_cst)) {
      std::memset(out, 0, size_t{frames} * self->config_.channels * sizeof(float));
      self->inCallback_.store(false, std::memory_order_seq_cst);
      return 0;
    }
    // Pace guard: a stream whose device stopped pacing it (RtAudio's writes failing at once) must not run the
    // heads ahead; beyond 4x real time plus one burst, play silence and leave the engine alone.
    // A token bucket: refilled at 4x the device rate, capped at one burst of kBurstBlocks.
    const uint64_t now = monoNs();
    const double cap = double(kBurstBlocks) * self->actualBufferFrames_;
    self->paceTokens_ = std::min(cap, self->paceTokens_ + double(now - self->paceLastNs_) * 1e-9 *
                                                           double(self->paceFramesPerSecond_) * 4.0);
    self->paceLastNs_ = now;
    if (self->paceTokens_ < double(frames)) {
      std::memset(out, 0, size_t{frames} * self->config_.channels * sizeof(float));
      self->pacedOut_.fetch_add(1, std::memory_order_relaxed);
      self->inCallback_.store(false, std::memory_order_seq_cst);
      return 0;
    }
    self->paceTokens_ -= double(frames);
    if (status != 0) self->engine_.noteLateBlock();
    self->engine_.renderBlock(static_cast<float*>(out), frames);
    if (!self->threadKnown_.load(std::memory_order_relaxed)) {
      self->callbackThread_ = pthread_self();
      self->threadKnown_.store(true, std::memory_order_release);
    }
    self->callbacks_.fetch_add(1, std::memory_order_release);
    self->inCallback_.store(false, std::memory_order_seq_cst);
    return 0;
  }

  // Opens audio_ per config_; fills the actual* fields. Throws runtime_error with a user-facing message.
  void openStream() {
    RtAudio::Api api = RtAudio::UNSPECIFIED;
    if (!config_.api.empty()) api = apiByName(config_.api);
    std::unique_ptr<RtAudio> audio;
    try {
      audio = std::make_unique<RtAudio>(api);
    } catch (const RtAudioError& e) {
      throw std::runtime_error("rtaudio: cannot start the " + (config_.api.empty() ? "default" : config_.api) +
                               " API: " + e.getMessage());
    }
    audio->showWarnings(false);
    std::string usedApi = RtAudio::getApiName(audio->getCurrentApi());
    unsigned count = audio->getDeviceCount();
    if (count == 0) {
      throw std::runtime_error("rtaudio: the " + usedApi + " API lists no devices" +
                               (usedApi == "jack" ? " (is a JACK server running? start one, e.g. `jackd -d dummy`)"
                                                  : " (is the sound server running and a device present?)") +
                               "; run `lcanvas devices` to see what is available");
    }
    unsigned index = count;
    if (config_.deviceId.empty()) {
      index = audio->getDefaultOutputDevice();
    } else {
      char* end = nullptr;
      unsigned long parsed = std::strtoul(config_.deviceId.c_str(), &end, 10);
      if (end && *end == '\0' && parsed < count) index = static_cast<unsigned>(parsed);
      for (unsigned i = 0; index == count && i < count; ++i) {
        RtAudio::DeviceInfo info = audio->getDeviceInfo(i);
        if (info.probed && info.name == config_.deviceId) index = i;
      }
      if (index == count) {
        throw std::runtime_error("rtaudio: no device \"" + config_.deviceId + "\" in the " + usedApi +
                                 " API; run `lcanvas devices --api " + usedApi + "` and pass an id or name");
      }
    }
    RtAudio::DeviceInfo info = audio->getDeviceInfo(index);
    if (!info.probed || info.outputChannels < config_.channels) {
      throw std::runtime_error("rtaudio: device \"" + info.name + "\" (" + usedApi + ") has " +
                               std::to_string(info.outputChannels) + " output channels, " +
                               std::to_string(config_.channels) + " are needed; choose another device");
    }
    RtAudio::StreamParameters out;
    out.deviceId = index;
    out.nChannels = config_.channels;
    out.firstChannel = 0;
    RtAudio::StreamOptions options;
    options.streamName = "latent-canvas";
    options.flags = RTAUDIO_MINIMIZE_LATENCY;
    if (config_.realtimePriority) {
      options.flags |= RTAUDIO_SCHEDULE_REALTIME;
      options.priority = 70;
    }
    unsigned bufferFrames = config_.bufferFrames;
    try {
      audio->openStream(&out, nullptr, RTAUDIO_FLOAT32, config_.sampleRate, &bufferFrames, &callback, this,
                        &options, &onRtAudioError);
    } catch (const RtAudioError& e) {
      throw std::runtime_error("rtaudio: cannot open \"" + info.name + "\" (" + usedApi + ") at " +
                               std::to_string(config_.sampleRate) + " Hz, " + std::to_string(config_.bufferFrames) +
                               " frames: " + e.getMessage());
    }
    if (!audio->isStreamOpen()) {
      throw std::runtime_error("rtaudio: cannot open \"" + info.name + "\" (" + usedApi + "): " + errorSlotText());
    }
    actualSampleRate_ = audio->getStreamSampleRate();
    if (actualSampleRate_ == 0) actualSampleRate_ = config_.sampleRate;
    actualBufferFrames_ = bufferFrames;
    long streamLatency = audio->getStreamLatency();
    actualLatencyFrames_ = static_cast<uint32_t>(std::max(0L, streamLatency)) + bufferFrames;
    apiName_ = usedApi;
    deviceName_ = info.name;
    audio_ = std::move(audio);
  }

  void startStreamLocked() {
    errorsSeen_ = gErrorSlot.errors.load(std::memory_order_acquire);
    threadKnown_.store(false);
    rtActive_ = false;
    rtChecked_ = false;
    callbacksAtCheck_ = callbacks_.load();
    callbacksAtStart_ = callbacksAtCheck_;
    pacedOutSeen_ = pacedOut_.load();
    paceFramesPerSecond_ = actualSampleRate_;
    paceTokens_ = double(kBurstBlocks) * actualBufferFrames_;
    paceLastNs_ = monoNs();
    lastProgress_ = std::chrono::steady_clock::now();
    startWindowLocked(lastProgress_, callbacksAtCheck_);
    gate_.store(true, std::memory_order_seq_cst);
    try {
      audio_->startStream();
    } catch (const RtAudioError& e) {
      gate_.store(false, std::memory_order_seq_cst);
      throw std::runtime_error("rtaudio: cannot start the " + apiName_ + " stream on \"" + deviceName_ +
                               "\": " + e.getMessage());
    }
  }

  // Reads the callback thread's scheduling policy from this (non-real-time) thread, once per stream.
  void checkRealtimeLocked() {
    if (rtChecked_ || !threadKnown_.load(std::memory_order_acquire) || !audio_ || !audio_->isStreamRunning()) return;
    int policy = 0;
    sched_param param{};
    if (pthread_getschedparam(callbackThread_, &policy, &param) == 0) {
      rtActive_ = policy == SCHED_FIFO || policy == SCHED_RR;
    }
    rtChecked_ = true;
  }

  // After starting a stream: wait (bounded) for its first callback so the reported state is the real one.
  void awaitFirstCallbackLocked() {
    for (int i = 0; i < 250 && !threadKnown_.load(std::memory_order_acquire); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(2));
    }
    checkRealtimeLocked();
  }

  void waitOutOfCallback() {
    for (int i = 0; i < 2000 && inCallback_.load(std::memory_order_seq_cst); ++i) {
      std::this_thread::sleep_for(std::chrono::microseconds(500));
    }
  }

  void closeStreamLocked() {
    if (!audio_) return;
    try {
      if (audio_->isStreamRunning()) audio_->stopStream();
    } catch (const RtAudioError&) {
    }
    try {
      if (audio_->isStreamOpen()) audio_->closeStream();
    } catch (const RtAudioError&) {
    }
    audio_.reset();
  }

  // After a failure: RtAudio may be closing the stream on a thread of its own (JACK shutdown); wait for that
  // before closing it ourselves, so the two never race.
  void retireStreamLocked() {
    if (!audio_) return;
    // A stalled stream may still be about to be shut down by RtAudio (JACK's shutdown callback): give that a
    // moment to begin, then let it finish, and only then close what is left ourselves.
    for (int i = 0; i < 30 && audio_->isStreamRunning(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    for (int i = 0; i < 100 && audio_->isStreamOpen() && !audio_->isStreamRunning(); ++i) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    // RtAudio's own closer may still be inside jack_client_close (a dead server makes that slow), and a second
    // close of the same client deadlocks inside libjack. So our close runs on a thread of its own with a time
    // limit: if it does not finish, the stream is abandoned (the RtAudio object is leaked with its thread, never
    // destroyed, since its destructor would close again) and stop() still returns.
    struct Retiring {
      std::unique_ptr<RtAudio> audio;
      std::mutex mutex;
      std::condition_variable done;
      bool finished = false;
    };
    auto retiring = std::make_shared<Retiring>();
    retiring->audio = std::move(audio_);
    std::thread closer([retiring] {
      try {
        if (retiring->audio->isStreamOpen()) {
          if (retiring->audio->isStreamRunning()) retiring->audio->abortStream();
          retiring->audio->closeStream();
        }
      } catch (const RtAudioError&) {
      }
      retiring->audio.reset();
      std::lock_guard<std::mutex> lock(retiring->mutex);
      retiring->finished = true;
      retiring->done.notify_all();
    });
    std::unique_lock<std::mutex> lock(retiring->mutex);
    if (retiring->done.wait_for(lock, std::chrono::seconds(3), [&] { return retiring->finished; })) {
      lock.unlock();
      closer.join();
    } else {
      lock.unlock();
      closer.detach();
      abandonedStreams_.fetch_add(1);
      setError("the audio server did not let the failed stream close within 3 s; it was abandoned");
    }
  }

  void setError(const std::string& text) {
    std::lock_guard<std::mutex> lock(errorMutex_);
    lastError_ = text;
  }

  void startFallbackLocked() {
    DriverConfig nullConfig = config_;
    nullConfig.bufferFrames = std::min(std::max(actualBufferFrames_, 1u), engine_.maxBlockFrames());
    nullConfig.sampleRate = engine_.config().sampleRate;
    fallback_ = makeNullDriver(engine_, nullConfig);
    fallback_->start();
  }

  void fallBackLocked(const std::string& reason) {
    gate_.store(false, std::memory_order_seq_cst);
    waitOutOfCallback();
    setError(reason);
    fallbacks_.fetch_add(1);
    engine_.noteDriverFallback();
    startFallbackLocked();
  }

  void watchdogLoop() {
    std::unique_lock<std::mutex> lock(controlMutex_);
    while (!watchdogStop_) {
      wake_.wait_for(lock, std::chrono::milliseconds(20));
      if (watchdogStop_) break;
      if (fallback_ || !audio_) continue;
      auto now = std::chrono::steady_clock::now();
      uint64_t calls = callbacks_.load(std::memory_order_acquire);
      if (calls != callbacksAtCheck_) {
        callbacksAtCheck_ = calls;
        lastProgress_ = now;
      }
      checkRealtimeLocked();
      std::string reason;
      bool runaway = false;
      // Pace: a stream whose device stopped pacing it (a dead PulseAudio connection makes RtAudio's writes fail
      // at once) calls back far faster than real time; so does a flood of warnings.
      double windowSeconds = std::chrono::duration<double>(now - windowStart_).count();
      double expectedBlocks = windowSeconds * actualSampleRate_ / std::max(1u, actualBufferFrames_);
      uint64_t windowBlocks = calls - callbacksAtWindow_;
      uint64_t windowWarnings = gErrorSlot.warnings.load(std::memory_order_acquire) - warningsAtWindow_;
      if (windowBlocks > 4 * expectedBlocks + double(kBurstBlocks) || pacedOut_.load() != pacedOutSeen_) {
        pacedOutSeen_ = pacedOut_.load();
        runaway = true;
        reason = "the " + apiName_ + " stream on \"" + deviceName_ + "\" ran at more than 4x real time (" +
                 std::to_string(windowBlocks) + " blocks in " + std::to_string(int(windowSeconds * 1000)) +
                 " ms: the device no longer paces it)";
        std::string text = errorSlotText();
        if (!text.empty()) reason += "; last message: " + text;
      } else if (windowWarnings > kWarningFlood) {
        runaway = true;
        reason = "the " + apiName_ + " stream on \"" + deviceName_ + "\" reported " + std::to_string(windowWarnings) +
                 " warnings in " + std::to_string(int(windowSeconds * 1000)) + " ms, last: " + errorSlotText();
      }
      if (windowSeconds >= 0.5) startWindowLocked(now, calls);
      uint64_t errors = gErrorSlot.errors.load(std::memory_order_acquire);
      if (runaway) {
        // reason is set
      } else if (errors != errorsSeen_) {
        errorsSeen_ = errors;
        reason = "the " + apiName_ + " stream on \"" + deviceName_ + "\" reported an error: " + errorSlotText();
      } else if (!audio_->isStreamOpen() || !audio_->isStreamRunning()) {
        reason = "the " + apiName_ + " stream on \"" + deviceName_ +
                 "\" stopped (the device or sound server went away)";
      } else {
        // Until a stream has delivered kSettledCallbacks it may still be filling a deep device buffer (ALSA
        // through PulseAudio pauses ~0.5 s after its first few blocks): allow it kStartGraceMs.
        bool settled = calls - callbacksAtStart_ >= kSettledCallbacks;
        int limitMs = settled ? stallMs_ : std::max(stallMs_, kStartGraceMs);
        if (now - lastProgress_ > std::chrono::milliseconds(limitMs)) {
          reason = "the " + apiName_ + " stream on \"" + deviceName_ + "\" delivered no callback for " +
                   std::to_string(limitMs) + " ms (device lost or server hung)";
        }
      }
      if (!reason.empty()) {
        fallBackLocked(reason + "; playing on the null driver, reopen the device to resume");
        // A runaway stream would keep a core busy: stop it now (its device is gone, so this does not block).
        if (runaway) retireStreamLocked();
      }
    }
  }

  void startWindowLocked(std::chrono::steady_clock::time_point now, uint64_t calls) {
    windowStart_ = now;
    callbacksAtWindow_ = calls;
    warningsAtWindow_ = gErrorSlot.warnings.load(std::memory_order_acquire);
  }

  Engine& engine_;
  DriverConfig config_;
  std::unique_ptr<RtAudio> audio_;
  std::atomic<uint64_t> abandonedStreams_{0};
  std::unique_ptr<Driver> fallback_;
  mutable std::mutex controlMutex_;  // non-RT only: start/stop/reopen/watchdog
  std::condition_variable wake_;
  std::thread watchdog_;
  bool watchdogStop_ = false;
  bool started_ = false;
  static constexpr int kStartGraceMs = 3000;
  static constexpr uint64_t kSettledCallbacks = 64;
  static constexpr uint64_t kBurstBlocks = 64;  // a device may take this many blocks at once to fill its buffer
  static constexpr uint64_t kWarningFlood = 50;
  int stallMs_ = 500;

  // Shared with the callback (atomics only).
  std::atomic<bool> gate_{false};
  std::atomic<bool> inCallback_{false};
  std::atomic<uint64_t> callbacks_{0};
  std::atomic<bool> threadKnown_{false};
  // Pace guard (callback thread only, reset before the stream starts).
  double paceTokens_ = 0;
  uint64_t paceFramesPerSecond_ = 48000;
  uint64_t paceLastNs_ = 0;
  std::atomic<uint64_t> pacedOut_{0};
  uint64_t pacedOutSeen_ = 0;
  pthread_t callbackThread_{};

  // Watchdog state (under controlMutex_).
  uint64_t callbacksAtCheck_ = 0;
  uint64_t callbacksAtStart_ = 0;
  uint64_t callbacksAtWindow_ = 0;
  uint64_t warningsAtWindow_ = 0;
  std::chrono::steady_clock::time_point windowStart_{};
  uint64_t errorsSeen_ = 0;
  std::chrono::steady_clock::time_point lastProgress_{};
  bool rtActive_ = false;
  bool rtChecked_ = false;

  std::atomic<uint64_t> fallbacks_{0};
  mutable std::mutex errorMutex_;
  std::string lastError_;

  uint32_t actualSampleRate_ = 0;
  uint32_t actualBufferFrames_ = 0;
  uint32_t actualLatencyFrames_ = 0;
  std::string apiName_;
  std::string deviceName_;
};

}  // namespace

std::vector<std::string> compiledRtAudioApis() {
  std::vector<RtAudio::Api> apis;
  RtAudio::getCompiledApi(apis);
  std::vector<std::string> names;
  for (auto api : apis) {
    if (api != RtAudio::RTAUDIO_DUMMY) names.push_back(RtAudio::getApiName(api));
  }
  return names;
}

std::vector<DeviceInfo> listRtAudioDevices(const std::string& apiName) {
  quietAlsa();
  std::vector<RtAudio::Api> apis;
  if (apiName.empty()) {
    RtAudio::getCompiledApi(apis);
  } else {
    apis.push_back(apiByName(apiName));
  }
  std::vector<DeviceInfo> devices;
  for (auto api : apis) {
    if (api == RtAudio::RTAUDIO_DUMMY) continue;
    try {
      RtAudio audio(api);
      audio.showWarnings(false);
      unsigned count = audio.getDeviceCount();
      for (unsigned i = 0; i < count; ++i) {
        RtAudio::DeviceInfo info = audio.getDeviceInfo(i);
        if (!info.probed) continue;
        devices.push_back(toDeviceInfo(api, i, info));
      }
    } catch (const RtAudioError&) {
      // An API whose server is absent lists no devices.
    }
  }
  return devices;
}

std::unique_ptr<Driver> makeRtAudioDriver(Engine& engine, const DriverConfig& config) {
  return std::make_unique<RtAudioDriverImpl>(engine, config);
}

}  // namespace lc
