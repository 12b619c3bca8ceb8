// Owns the Node-API surface of lcanvas_audio.node: NativeEngine (engine + driver + capture), CanvasWriter
// (non-real-time page writer), controlLayout() and device listing. Callers: app/audio/*.ts only.
// Node-API only, no per-process globals: loads in Node, Electron main and worker threads.
#include <malloc.h>
#include <napi.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "canvas_file.h"
#include "canvas_format.h"
#include "control_block.h"
#include "driver.h"
#include "engine.h"

#ifdef LC_HAVE_RTAUDIO
#include "driver_rtaudio.h"
#endif

namespace {

using lc::CanvasFile;
using lc::Driver;
using lc::DriverConfig;
using lc::Engine;
using lc::EngineConfig;

uint32_t u32Prop(const Napi::Object& o, const char* key, uint32_t fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined()) return fallback;
  if (!v.IsNumber()) throw std::runtime_error(std::string(key) + " must be a number");
  double d = v.As<Napi::Number>().DoubleValue();
  if (!(d >= 0 && d <= 4294967295.0) || d != static_cast<double>(static_cast<uint64_t>(d))) {
    throw std::runtime_error(std::string(key) + " must be a non-negative integer");
  }
  return static_cast<uint32_t>(d);
}

std::string strProp(const Napi::Object& o, const char* key, const std::string& fallback) {
  Napi::Value v = o.Get(key);
  if (v.IsUndefined() || v.IsNull()) return fallback;
  return v.ToString().Utf8Value();
}

uint64_t bigKey(const Napi::Value& v) {
  if (v.IsBigInt()) {
    bool lossless = false;
    uint64_t key = v.As<Napi::BigInt>().Uint64Value(&lossless);
    if (!lossless) throw std::runtime_error("stream key must fit in 64 unsigned bits");
    return key;
  }
  throw std::runtime_error("stream key must be a bigint");
}

// Runs fn and turns std::exception into a JS Error carrying the same message.
template <typename F>
auto guarded(const Napi::Env& env, F&& fn) -> decltype(fn()) {
  try {
    return fn();
  } catch (const Napi::Error&) {
    throw;
  } catch (const std::exception& e) {
    throw Napi::Error::New(env, e.what());
  }
}

Napi::Float32Array toFloat32Array(Napi::Env env, const std::vector<float>& samples) {
  Napi::Float32Array out = Napi::Float32Array::New(env, samples.size());
  if (!samples.empty()) std::memcpy(out.Data(), samples.data(), samples.size() * sizeof(float));
  return out;
}

class NativeEngine : public Napi::ObjectWrap<NativeEngine> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "NativeEngine",
                       {
                           InstanceMethod("openCanvas", &NativeEngine::OpenCanvas),
                           InstanceMethod("closeCanvas", &NativeEngine::CloseCanvas),
                           InstanceMethod("startDriver", &NativeEngine::StartDriver),
                           InstanceMethod("stopDriver", &NativeEngine::StopDriver),
                           InstanceMethod("driverInfo", &NativeEngine::DriverInfo),
                           InstanceMethod("reopenDriver", &NativeEngine::ReopenDriver),
                           InstanceMethod("renderOffline", &NativeEngine::RenderOffline),
                           InstanceMethod("startCapture", &NativeEngine::StartCapture),
                           InstanceMethod("stopCapture", &NativeEngine::StopCapture),
                           InstanceMethod("prefetch", &NativeEngine::Prefetch),
                           InstanceMethod("residentPages", &NativeEngine::ResidentPages),
                           InstanceMethod("evictCanvasFromPageCache", &NativeEngine::EvictCanvasFromPageCache),
                           InstanceMethod("takeMisses", &NativeEngine::TakeMisses),
                           InstanceMethod("prefetchStreams", &NativeEngine::PrefetchStreams),
                           InstanceMethod("dispose", &NativeEngine::Dispose),
                       });
  }

  explicit NativeEngine(const Napi::CallbackInfo& info) : Napi::ObjectWrap<NativeEngine>(info) {
    Napi::Env env = info.Env();
    guarded(env, [&] {
      if (info.Length() < 2 || !info[0].IsTypedArray() || !info[1].IsObject()) {
        throw std::runtime_error("new NativeEngine(controlBytes: Uint8Array over a SharedArrayBuffer, config)");
      }
      Napi::TypedArray view = info[0].As<Napi::TypedArray>();
      if (view.TypedArrayType() != napi_uint8_array) throw std::runtime_error("control block must be a Uint8Array");
      Napi::Uint8Array bytes = view.As<Napi::Uint8Array>();
      // The callback keeps a raw pointer into these bytes: only a SharedArrayBuffer can never be detached
      // (transferred) or resized under it.
      Napi::Value sharedCtor = env.Global().Get("SharedArrayBuffer");
      if (!sharedCtor.IsFunction() || !bytes.ArrayBuffer().InstanceOf(sharedCtor.As<Napi::Function>())) {
        throw std::runtime_error("the control block must be a Uint8Array over a SharedArrayBuffer (a plain "
                                 "ArrayBuffer could be detached while the callback reads it); create it with "
                                 "ControlBlock.create() from app/audio/control-block.ts");
      }
      Napi::Object c = info[1].As<Napi::Object>();
      EngineConfig config;
      config.sampleRate = u32Prop(c, "sampleRate", 48000);
      config.channels = u32Prop(c, "channels", 2);
      config.maxHeads = u32Prop(c, "maxHeads", 4);
      config.maxLanes = u32Prop(c, "maxLanes", 16);
      config.maxBlockFrames = u32Prop(c, "maxBlockFrames", 4096);
      // Keep the view (and so its SharedArrayBuffer) alive as long as this engine exists.
      controlRef_ = Napi::Persistent(static_cast<Napi::Object>(bytes));
      engine_ = std::make_unique<Engine>(config, bytes.Data(), bytes.ByteLength());
      return 0;
    });
  }

  ~NativeEngine() override { shutdown(); }

 private:
  void shutdown() {
    if (driver_) {
      driver_->stop();
      driver_.reset();
    }
    if (engine_) {
      engine_->stopPrefetchThread();
      engine_->setRunning(false);
      engine_.reset();
    }
  }

  Engine& engine() {
    if (!engine_) throw std::runtime_error("this engine was disposed; create a new one");
    return *engine_;
  }

  Napi::Value OpenCanvas(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      std::string path = info[0].ToString().Utf8Value();
      std::unique_ptr<CanvasFile> file = CanvasFile::open(path, false);
      Napi::Object out = Napi::Object::New(info.Env());
      const lc::CanvasInfo& ci = file->info();
      out.Set("sampleRate", ci.sampleRate);
      out.Set("channels", ci.channels);
      out.Set("framesPerPage", ci.framesPerPage);
      out.Set("pageCapacity", ci.pageCapacity);
      engine().setCanvas(std::move(file));
      return out;
    });
  }

  Napi::Value CloseCanvas(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      engine().setCanvas(nullptr);
      return info.Env().Undefined();
    });
  }

  Napi::Value StartDriver(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      if (driver_) throw std::runtime_error("a driver is already running; stop() it first");
      Napi::Object o = info[0].IsObject() ? info[0].As<Napi::Object>() : Napi::Object::New(info.Env());
      std::string kind = strProp(o, "driver", "null");
      DriverConfig config;
      config.sampleRate = u32Prop(o, "sampleRate", engine().config().sampleRate);
      config.bufferFrames = u32Prop(o, "bufferFrames", 256);
      config.channels = engine().config().channels;
      config.api = strProp(o, "api", "");
      config.deviceId = strProp(o, "deviceId", "");
      Napi::Value rt = o.Get("realtimePriority");
      config.realtimePriority = rt.IsUndefined() ? true : rt.ToBoolean().Value();
      uint32_t prefetchPages = u32Prop(o, "prefetchPages", 8);
      bool lockPages = o.Get("lockPages").ToBoolean().Value();
      std::unique_ptr<Driver> driver;
      if (kind == "null") {
        driver = lc::makeNullDriver(engine(), config);
      } else if (kind == "rtaudio") {
#ifdef LC_HAVE_RTAUDIO
        driver = lc::makeRtAudioDriver(engine(), config);
#else
        throw std::runtime_error("this build has no rtaudio driver (native/src/driver_rtaudio.cpp was not built); "
                                 "rebuild with npm run build:native");
#endif
      } else {
        throw std::runtime_error("unknown driver \"" + kind + "\"; use null or rtaudio (offline: renderOffline)");
      }
      engine().setRunning(true);
      engine().prefetchAhead(prefetchPages, lockPages);
      try {
        driver->start();
      } catch (...) {
        engine().setRunning(false);
        throw;
      }
      engine().startPrefetchThread(prefetchPages, 10, lockPages);
      driver_ = std::move(driver);
      return DriverInfo(info);
    });
  }

  Napi::Value StopDriver(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      if (driver_) {
        driver_->stop();
        driver_.reset();
      }
      if (engine_) {
        engine_->stopPrefetchThread();
        engine_->setRunning(false);
        engine_->releaseRetired(true);
      }
      return info.Env().Undefined();
    });
  }

  Napi::Value DriverInfo(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    Napi::Object out = Napi::Object::New(env);
    if (!driver_) {
      out.Set("name", Napi::String::New(env, "none"));
      out.Set("running", Napi::Boolean::New(env, false));
      return out;
    }
    out.Set("name", Napi::String::New(env, driver_->name()));
    out.Set("running", Napi::Boolean::New(env, driver_->isRunning()));
    out.Set("sampleRate", driver_->actualSampleRate());
    out.Set("bufferFrames", driver_->actualBufferFrames());
    out.Set("latencyFrames", driver_->actualLatencyFrames());
    out.Set("realtimePriority", Napi::Boolean::New(env, driver_->realtimePriorityActive()));
#ifdef LC_HAVE_RTAUDIO
    if (auto* rt = dynamic_cast<lc::RtAudioDriver*>(driver_.get())) {
      out.Set("api", rt->apiName());
      out.Set("device", rt->deviceName());
      out.Set("onFallback", Napi::Boolean::New(env, rt->onFallback()));
      out.Set("fallbacks", Napi::Number::New(env, static_cast<double>(rt->fallbackCount())));
      out.Set("lastError", rt->lastError());
      out.Set("streamCallbacks", Napi::Number::New(env, static_cast<double>(rt->streamCallbacks())));
    }
#endif
    return out;
  }

  // rtaudio only: after a fallback to the null driver, try the device again (throws with the reason if it fails).
  Napi::Value ReopenDriver(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
#ifdef LC_HAVE_RTAUDIO
      auto* rt = dynamic_cast<lc::RtAudioDriver*>(driver_.get());
      if (!rt) throw std::runtime_error("reopenDriver: the running driver is not rtaudio; start one first");
      rt->reopen();
      return DriverInfo(info);
#else
      throw std::runtime_error("this build has no rtaudio driver; rebuild with npm run build:native");
#endif
    });
  }

  Napi::Value RenderOffline(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      if (driver_) throw std::runtime_error("cannot render offline while a live driver runs; stop() it first");
      uint32_t frames = info[0].As<Napi::Number>().Uint32Value();
      uint32_t block = info.Length() > 1 && info[1].IsNumber() ? info[1].As<Napi::Number>().Uint32Value()
                                                                : engine().maxBlockFrames();
      if (block < 1 || block > engine().maxBlockFrames()) {
        throw std::runtime_error("blockFrames must be 1.." + std::to_string(engine().maxBlockFrames()));
      }
      uint32_t ch = engine().config().channels;
      Napi::Float32Array out = Napi::Float32Array::New(info.Env(), size_t{frames} * ch);
      uint32_t done = 0;
      while (done < frames) {
        uint32_t n = std::min(block, frames - done);
        engine().renderBlock(out.Data() + size_t{done} * ch, n);
        done += n;
      }
      engine().releaseRetired(false);
      return out;
    });
  }

  Napi::Value StartCapture(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      double maxFrames = info[0].As<Napi::Number>().DoubleValue();
      if (!(maxFrames >= 1 && maxFrames <= 1e9)) throw std::runtime_error("maxFrames must be 1..1e9");
      engine().startCapture(static_cast<uint64_t>(maxFrames));
      return info.Env().Undefined();
    });
  }

  Napi::Value StopCapture(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value { return toFloat32Array(info.Env(), engine().stopCapture()); });
  }

  Napi::Value Prefetch(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      uint32_t pages = info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value() : 8;
      engine().prefetchAhead(pages, false);
      return info.Env().Undefined();
    });
  }

  // Diagnostics for tests: residency of a stream's pages, and evicting the canvas from the page cache.
  Napi::Value ResidentPages(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      uint32_t n = engine().residentPages(bigKey(info[0]), info[1].As<Napi::Number>().Uint32Value(),
                                          info[2].As<Napi::Number>().Uint32Value());
      return Napi::Number::New(info.Env(), n);
    });
  }

  Napi::Value EvictCanvasFromPageCache(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      engine().evictCanvasFromPageCache();
      return info.Env().Undefined();
    });
  }

  // prefetchStreams(keys: bigint[], firstPage, pageCount): fault in those pages of those streams now.
  Napi::Value PrefetchStreams(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      if (info.Length() < 3 || !info[0].IsArray() || !info[1].IsNumber() || !info[2].IsNumber()) {
        throw std::runtime_error("prefetchStreams(keys: bigint[], firstPage: number, pageCount: number)");
      }
      Napi::Array array = info[0].As<Napi::Array>();
      std::vector<uint64_t> keys;
      keys.reserve(array.Length());
      for (uint32_t i = 0; i < array.Length(); ++i) keys.push_back(bigKey(array.Get(i)));
      engine().prefetchStreams(keys, info[1].As<Napi::Number>().Uint32Value(),
                               info[2].As<Napi::Number>().Uint32Value());
      return info.Env().Undefined();
    });
  }

  // takeMisses(maxRecords?): the page misses the callback recorded since the last call, oldest first.
  Napi::Value TakeMisses(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      Napi::Env env = info.Env();
      size_t max = info.Length() > 0 && info[0].IsNumber() ? info[0].As<Napi::Number>().Uint32Value()
                                                           : lc::kMissRingEntries;
      std::vector<lc::MissRecord> records;
      records.reserve(std::min<size_t>(max, lc::kMissRingEntries));
      engine().takeMisses(records, max);
      Napi::Array out = Napi::Array::New(env, records.size());
      for (size_t i = 0; i < records.size(); ++i) {
        const lc::MissRecord& m = records[i];
        Napi::Object o = Napi::Object::New(env);
        o.Set("engineFrame", Napi::Number::New(env, static_cast<double>(m.engineFrame)));
        o.Set("timelineFrame", Napi::Number::New(env, static_cast<double>(m.timelineFrame)));
        o.Set("streamKey", Napi::BigInt::New(env, m.streamKey));
        o.Set("pageIndex", Napi::Number::New(env, static_cast<double>(m.pageIndex)));
        o.Set("head", m.head);
        o.Set("lane", m.lane);
        o.Set("frameOffset", m.frameOffset);
        o.Set("frames", m.frames);
        o.Set("wantedGeneration", m.wantedGeneration);
        o.Set("pageGeneration", m.pageGeneration);
        o.Set("reason", m.reason);
        out.Set(static_cast<uint32_t>(i), o);
      }
      return out;
    });
  }

  Napi::Value Dispose(const Napi::CallbackInfo& info) {
    shutdown();
    controlRef_.Reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<Engine> engine_;
  std::unique_ptr<Driver> driver_;
  Napi::ObjectReference controlRef_;
};

class CanvasWriter : public Napi::ObjectWrap<CanvasWriter> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "CanvasWriter",
                       {
                           InstanceMethod("writePage", &CanvasWriter::WritePage),
                           InstanceMethod("writePageIfAbsent", &CanvasWriter::WritePageIfAbsent),
                           InstanceMethod("invalidatePage", &CanvasWriter::InvalidatePage),
                           InstanceMethod("freePage", &CanvasWriter::FreePage),
                           InstanceMethod("pagesUsed", &CanvasWriter::PagesUsed),
                           InstanceMethod("close", &CanvasWriter::Close),
                       });
  }

  explicit CanvasWriter(const Napi::CallbackInfo& info) : Napi::ObjectWrap<CanvasWriter>(info) {
    guarded(info.Env(), [&] {
      file_ = CanvasFile::open(info[0].ToString().Utf8Value(), true);
      return 0;
    });
  }

 private:
  CanvasFile& file() {
    if (!file_) throw std::runtime_error("this canvas writer was closed; open a new one");
    return *file_;
  }

  // writePage(streamKey: bigint, pageIndex, generation, samples: Float32Array)
  Napi::Value WritePage(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      uint64_t key = bigKey(info[0]);
      uint32_t pageIndex = info[1].As<Napi::Number>().Uint32Value();
      uint32_t generation = info[2].As<Napi::Number>().Uint32Value();
      if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        throw std::runtime_error("page samples must be a Float32Array (interleaved frames)");
      }
      Napi::Float32Array samples = info[3].As<Napi::Float32Array>();
      file().writePage(key, pageIndex, generation, samples.Data(), samples.ElementLength());
      return info.Env().Undefined();
    });
  }

  // writePageIfAbsent(streamKey, pageIndex, generation, samples): like writePage, but leaves a complete page that
  // is already there (another writer's); returns whether it wrote.
  Napi::Value WritePageIfAbsent(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      uint64_t key = bigKey(info[0]);
      uint32_t pageIndex = info[1].As<Napi::Number>().Uint32Value();
      uint32_t generation = info[2].As<Napi::Number>().Uint32Value();
      if (!info[3].IsTypedArray() || info[3].As<Napi::TypedArray>().TypedArrayType() != napi_float32_array) {
        throw std::runtime_error("page samples must be a Float32Array (interleaved frames)");
      }
      Napi::Float32Array samples = info[3].As<Napi::Float32Array>();
      bool wrote = file().writePage(key, pageIndex, generation, samples.Data(), samples.ElementLength(), true);
      return Napi::Boolean::New(info.Env(), wrote);
    });
  }

  Napi::Value InvalidatePage(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      bool found = file().invalidatePage(bigKey(info[0]), info[1].As<Napi::Number>().Uint32Value());
      return Napi::Boolean::New(info.Env(), found);
    });
  }

  Napi::Value FreePage(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value {
      bool found = file().freePage(bigKey(info[0]), info[1].As<Napi::Number>().Uint32Value());
      return Napi::Boolean::New(info.Env(), found);
    });
  }

  Napi::Value PagesUsed(const Napi::CallbackInfo& info) {
    return guarded(info.Env(), [&]() -> Napi::Value { return Napi::Number::New(info.Env(), file().pagesUsed()); });
  }

  Napi::Value Close(const Napi::CallbackInfo& info) {
    file_.reset();
    return info.Env().Undefined();
  }

  std::unique_ptr<CanvasFile> file_;
};

Napi::Value ControlLayout(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  uint32_t maxHeads = info[0].As<Napi::Number>().Uint32Value();
  uint32_t maxLanes = info[1].As<Napi::Number>().Uint32Value();
  namespace cb = lc::cb;
  Napi::Object o = Napi::Object::New(env);
  auto set = [&](const char* k, size_t v) { o.Set(k, Napi::Number::New(env, static_cast<double>(v))); };
  set("magic", cb::kMagic);
  set("version", cb::kVersion);
  set("magicOff", cb::kMagicOff);
  set("versionOff", cb::kVersionOff);
  set("maxHeadsOff", cb::kMaxHeadsOff);
  set("maxLanesOff", cb::kMaxLanesOff);
  set("masterGainOff", cb::kMasterGainOff);
  set("channelsOff", cb::kChannelsOff);
  set("callbacksOff", cb::kCallbacksOff);
  set("lateBlocksOff", cb::kLateBlocksOff);
  set("pageMissesOff", cb::kPageMissesOff);
  set("tornReadRetriesOff", cb::kTornReadRetriesOff);
  set("maxCallbackNsOff", cb::kMaxCallbackNsOff);
  set("lastCallbackNsOff", cb::kLastCallbackNsOff);
  set("framesRenderedOff", cb::kFramesRenderedOff);
  set("captureOverrunsOff", cb::kCaptureOverrunsOff);
  set("driverFallbacksOff", cb::kDriverFallbacksOff);
  set("missRecordsDroppedOff", cb::kMissRecordsDroppedOff);
  set("lanesOff", cb::kLanesOff);
  set("laneStride", cb::kLaneStride);
  set("laneGainOff", cb::kLaneGainOff);
  set("lanePanLeftOff", cb::kLanePanLeftOff);
  set("lanePanRightOff", cb::kLanePanRightOff);
  set("laneMuteOff", cb::kLaneMuteOff);
  set("laneSoloOff", cb::kLaneSoloOff);
  set("headsOff", cb::headsOffset(maxLanes));
  set("headStride", cb::headStride(maxLanes));
  set("headPlayingOff", cb::kHeadPlayingOff);
  set("headGainOff", cb::kHeadGainOff);
  set("headMuteOff", cb::kHeadMuteOff);
  set("headSoloOff", cb::kHeadSoloOff);
  set("headGenerationOff", cb::kHeadGenerationOff);
  set("headSeekCounterOff", cb::kHeadSeekCounterOff);
  set("headSeekTargetOff", cb::kHeadSeekTargetOff);
  set("headLoopStartOff", cb::kHeadLoopStartOff);
  set("headLoopEndOff", cb::kHeadLoopEndOff);
  set("headLoopEnabledOff", cb::kHeadLoopEnabledOff);
  set("headStreamMapSeqOff", cb::kHeadStreamMapSeqOff);
  set("headPositionOff", cb::kHeadPositionOff);
  set("headSeekAppliedOff", cb::kHeadSeekAppliedOff);
  set("headStreamKeysOff", cb::kHeadStreamKeysOff);
  set("totalBytes", cb::totalBytes(maxHeads, maxLanes));
  return o;
}

Napi::Value CompiledApis(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
#ifdef LC_HAVE_RTAUDIO
  return guarded(env, [&]() -> Napi::Value {
    std::vector<std::string> apis = lc::compiledRtAudioApis();
    for (size_t i = 0; i < apis.size(); ++i) out.Set(static_cast<uint32_t>(i), apis[i]);
    return out;
  });
#else
  return out;
#endif
}

Napi::Value ListDevices(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Array out = Napi::Array::New(env);
#ifdef LC_HAVE_RTAUDIO
  return guarded(env, [&]() -> Napi::Value {
    std::string api = info.Length() > 0 && info[0].IsString() ? info[0].As<Napi::String>().Utf8Value() : "";
    std::vector<lc::DeviceInfo> devices = lc::listRtAudioDevices(api);
    for (size_t i = 0; i < devices.size(); ++i) {
      const lc::DeviceInfo& d = devices[i];
      Napi::Object o = Napi::Object::New(env);
      o.Set("api", d.api);
      o.Set("id", d.id);
      o.Set("name", d.name);
      o.Set("outputChannels", d.outputChannels);
      o.Set("inputChannels", d.inputChannels);
      Napi::Array rates = Napi::Array::New(env, d.sampleRates.size());
      for (size_t r = 0; r < d.sampleRates.size(); ++r) rates.Set(static_cast<uint32_t>(r), d.sampleRates[r]);
      o.Set("sampleRates", rates);
      o.Set("preferredSampleRate", d.preferredSampleRate);
      o.Set("isDefaultOutput", d.isDefaultOutput);
      o.Set("isDefaultInput", d.isDefaultInput);
      out.Set(static_cast<uint32_t>(i), o);
    }
    return out;
  });
#else
  (void)info;
  return out;
#endif
}

// Diagnostics (benchmarks): the C heap of the whole process (every glibc arena, all threads), and giving its free
// memory back to the system. Not real-time; glibc only.
Napi::Value MallocStats(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  Napi::Object o = Napi::Object::New(env);
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 33))
  struct mallinfo2 m = mallinfo2();
  auto set = [&](const char* k, size_t v) { o.Set(k, Napi::Number::New(env, static_cast<double>(v))); };
  set("arenaBytes", m.arena);        // obtained with sbrk/arena heaps (not mmapped chunks)
  set("mmappedBytes", m.hblkhd);     // large chunks in their own mmap
  set("inUseBytes", m.uordblks);     // allocated and not freed
  set("freeBytes", m.fordblks);      // free but kept by the allocator
  set("topReleasableBytes", m.keepcost);
#endif
  return o;
}

Napi::Value MallocTrim(const Napi::CallbackInfo& info) {
#if defined(__GLIBC__)
  return Napi::Boolean::New(info.Env(), malloc_trim(0) != 0);
#else
  return Napi::Boolean::New(info.Env(), false);
#endif
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("NativeEngine", NativeEngine::Define(env));
  exports.Set("CanvasWriter", CanvasWriter::Define(env));
  exports.Set("controlLayout", Napi::Function::New(env, ControlLayout));
  exports.Set("compiledApis", Napi::Function::New(env, CompiledApis));
  exports.Set("listDevices", Napi::Function::New(env, ListDevices));
  exports.Set("mallocStats", Napi::Function::New(env, MallocStats));
  exports.Set("mallocTrim", Napi::Function::New(env, MallocTrim));
#ifdef LC_HAVE_RTAUDIO
  exports.Set("hasRtAudio", Napi::Boolean::New(env, true));
#else
  exports.Set("hasRtAudio", Napi::Boolean::New(env, false));
#endif
#ifdef LC_RT_GUARD
  exports.Set("rtGuardBuild", Napi::Boolean::New(env, true));
#else
  exports.Set("rtGuardBuild", Napi::Boolean::New(env, false));
#endif
  return exports;
}

}  // namespace

NODE_API_MODULE(lcanvas_audio, Init)
