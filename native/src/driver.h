// Owns the driver contract: how an audio driver (null, offline, rtaudio) drives the one mix kernel.
// Callers: the addon (addon.cpp) creates drivers; a driver's callback thread calls Engine::renderBlock only.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

namespace lc {

class Engine;

// What the caller asks for. A driver may not get exactly this; it reports what it got (actual*()).
struct DriverConfig {
  uint32_t sampleRate = 48000;
  uint32_t bufferFrames = 256;   // frames per callback; must be <= the engine's maxBlockFrames
  uint32_t channels = 2;         // output channels; equals the engine's channels
  std::string api;               // rtaudio only: "jack", "alsa", "pulse" (empty: RtAudio's default)
  std::string deviceId;          // rtaudio only: device id as listed (empty: the API's default output)
  bool realtimePriority = true;  // try SCHED_FIFO for the callback thread where allowed
};

// One output device as a driver lists it (rtaudio: listRtAudioDevices).
struct DeviceInfo {
  std::string api;
  std::string id;
  std::string name;
  uint32_t outputChannels = 0;
  uint32_t inputChannels = 0;
  std::vector<uint32_t> sampleRates;
  uint32_t preferredSampleRate = 0;
  bool isDefaultOutput = false;
  bool isDefaultInput = false;
};

// A driver owns a callback thread (or runs the kernel inline, offline) and calls
// engine.renderBlock(out, frames) once per block with frames <= engine.maxBlockFrames().
// On an xrun / status flag / missed deadline it calls engine.noteLateBlock() from the callback thread.
// start()/stop() run on a non-real-time thread and throw std::runtime_error with a user-facing message.
class Driver {
 public:
  virtual ~Driver() = default;
  virtual void start() = 0;
  virtual void stop() = 0;  // idempotent; after it returns the callback is not running and will not run
  virtual bool isRunning() const = 0;
  virtual const char* name() const = 0;  // "null", "offline", "rtaudio"
  virtual uint32_t actualSampleRate() const = 0;
  virtual uint32_t actualBufferFrames() const = 0;
  // Output latency in frames as the device reports it (stream latency + one buffer); null: one buffer.
  virtual uint32_t actualLatencyFrames() const = 0;
  virtual bool realtimePriorityActive() const = 0;  // true when the callback thread got SCHED_FIFO/RR
};

// The rtaudio helper implements these in native/src/driver_rtaudio.{h,cpp}; the build includes them when present
// (CMake defines LC_HAVE_RTAUDIO). Declared here so the addon compiles against one contract:
//   std::unique_ptr<Driver> makeRtAudioDriver(Engine& engine, const DriverConfig& config);
//   std::vector<DeviceInfo> listRtAudioDevices(const std::string& api);   // api "" = every compiled API
//   std::vector<std::string> compiledRtAudioApis();

std::unique_ptr<Driver> makeNullDriver(Engine& engine, const DriverConfig& config);

}  // namespace lc
