// Owns the rtaudio driver: an RtAudio output stream (ALSA, PulseAudio, JACK) whose callback calls
// Engine::renderBlock and nothing else, a watchdog that falls back to the null driver at the same position when the
// stream fails or the device is lost, and the device listing. Callers: addon.cpp (JS thread) through
// makeRtAudioDriver / listRtAudioDevices / compiledRtAudioApis; the fallback extras through RtAudioDriver.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "driver.h"

namespace lc {

class Engine;

// RtAudio's API names as this build knows them ("jack", "pulse", "alsa"), in RtAudio's order of preference.
std::vector<std::string> compiledRtAudioApis();
// Devices of one API ("" = every compiled API). Ids are RtAudio's device indices as decimal strings; opening also
// accepts a device's exact name. Throws std::runtime_error for an unknown API name.
std::vector<DeviceInfo> listRtAudioDevices(const std::string& api);

// What the rtaudio driver knows beyond the Driver contract: fallback state and the last stream error.
// All methods run on a non-real-time thread.
class RtAudioDriver : public Driver {
 public:
  // True while the null driver carries playback after a stream error or a lost device.
  virtual bool onFallback() const = 0;
  // How many times this driver fell back to the null driver.
  virtual uint64_t fallbackCount() const = 0;
  // The text of the last stream error or device loss ("" when there was none). Built off the real-time thread.
  virtual std::string lastError() const = 0;
  // Tries the device again (same API, device, rate, buffer). On success the stream carries playback from the
  // engine's current position and onFallback() is false; on failure throws std::runtime_error and stays on fallback.
  virtual void reopen() = 0;
  virtual std::string apiName() const = 0;
  virtual std::string deviceName() const = 0;
  // Callbacks the stream delivered since start (not counting the fallback's).
  virtual uint64_t streamCallbacks() const = 0;
};

// Opens (but does not start) an output stream. Throws std::runtime_error with a user-facing message naming what
// was wrong (unknown API, no such device, rate the server does not run at, no server) and what to do.
// DriverConfig: api ("" = first compiled API with an output device), deviceId (index or exact name, "" = the API's
// default output), sampleRate (must equal the engine's), bufferFrames (a request; JACK uses its period),
// channels (must equal the engine's), realtimePriority.
std::unique_ptr<Driver> makeRtAudioDriver(Engine& engine, const DriverConfig& config);

}  // namespace lc
