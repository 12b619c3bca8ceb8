// lcanvas_synth.node: one FluidSynth synthesizer per object, driven by app/spaces/synth/fluid.ts (the
// `MidiRenderer` over FluidSynth). Node-API only, no global state but FluidSynth's own (its log handlers, set
// once, and its process-wide sample cache, which shares a SoundFont's sample data among all synthesizers that
// load the same file): the addon loads in any number of worker threads. Not real-time code: it runs in render
// threads, never in the audio callback.
#include <fluidsynth.h>
#include <napi.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <string>

namespace {

// FluidSynth reports errors through its log; the last one of this thread goes into the thrown error's message.
thread_local std::string lastError;
// FluidSynth's event queue (64 events per voice of the starting polyphony) dropped events: a voice or a parameter
// change was lost. Counted per thread; the renderer checks it after applying events.
thread_local double queueOverflows = 0;
std::once_flag logOnce;

void onLog(int level, const char* message, void*) {
  if (level == FLUID_PANIC || level == FLUID_ERR) lastError = message ? message : "";
  if (level == FLUID_WARN && message && std::strstr(message, "Ringbuffer full")) queueOverflows += 1;
}

void installLog() {
  std::call_once(logOnce, [] {
    fluid_set_log_function(FLUID_PANIC, onLog, nullptr);
    fluid_set_log_function(FLUID_ERR, onLog, nullptr);
    fluid_set_log_function(FLUID_WARN, onLog, nullptr);
    fluid_set_log_function(FLUID_INFO, nullptr, nullptr);
    fluid_set_log_function(FLUID_DBG, nullptr, nullptr);
  });
}

// Voices a synthesizer starts with unless the caller says otherwise. A note-on that could run out doubles the
// pool first, so no voice is ever stolen. The starting value also sizes FluidSynth's event queue (64 events per
// voice), which must hold every event of one 64-frame block (a voice start queues about 50): the renderer asks for
// enough for the largest burst of note-ons its channel has. Each voice costs about 5 KB, each queue slot 72 bytes.
constexpr int kInitialPolyphony = 64;
// Voices one note-on may start (layered presets, stereo pairs), kept free before each.
constexpr int kHeadroomVoices = 32;
constexpr int kMaxPolyphony = 65535;
// FLUID_BUFSIZE: FluidSynth renders and applies events in blocks of this many frames.
constexpr int kBlockFrames = 64;

// A SoundFont loaded once (its presets, instruments and zones: about 6 MB for TimGM6mb) by a synthesizer that does
// nothing else, shared by every synthesizer made from the same keeper in this thread. The last holder frees it,
// after its own synthesizer (whose channels point into these presets) is gone.
struct SharedFont {
  fluid_settings_t* settings = nullptr;
  fluid_synth_t* synth = nullptr;
  fluid_sfont_t* sfont = nullptr;
  std::string path;
  ~SharedFont() {
    if (synth) delete_fluid_synth(synth);
    if (settings) delete_fluid_settings(settings);
  }
};

// The loader a sharing synthesizer uses: whatever file it is asked for, it answers with a thin SoundFont whose
// presets are the shared font's (so the synthesizer parses nothing). Presets only read their zones on note-on
// and run in the thread that owns the font.
const char* ProxyName(fluid_sfont_t* proxy) {
  return fluid_sfont_get_name(static_cast<fluid_sfont_t*>(fluid_sfont_get_data(proxy)));
}
fluid_preset_t* ProxyPreset(fluid_sfont_t* proxy, int bank, int program) {
  return fluid_sfont_get_preset(static_cast<fluid_sfont_t*>(fluid_sfont_get_data(proxy)), bank, program);
}
void ProxyIterationStart(fluid_sfont_t* proxy) {
  fluid_sfont_iteration_start(static_cast<fluid_sfont_t*>(fluid_sfont_get_data(proxy)));
}
fluid_preset_t* ProxyIterationNext(fluid_sfont_t* proxy) {
  return fluid_sfont_iteration_next(static_cast<fluid_sfont_t*>(fluid_sfont_get_data(proxy)));
}
int ProxyFree(fluid_sfont_t* proxy) {
  delete_fluid_sfont(proxy);
  return 0;
}
fluid_sfont_t* LoadProxy(fluid_sfloader_t* loader, const char*) {
  auto* shared = static_cast<fluid_sfont_t*>(fluid_sfloader_get_data(loader));
  fluid_sfont_t* proxy =
      new_fluid_sfont(ProxyName, ProxyPreset, ProxyIterationStart, ProxyIterationNext, ProxyFree);
  if (proxy) fluid_sfont_set_data(proxy, shared);
  return proxy;
}
void FreeLoader(fluid_sfloader_t* loader) { delete_fluid_sfloader(loader); }

// FluidSynth's own default gain (0.2) sounds about 2.7x quieter (RMS) than spessasynth; 0.5 brings the two
// synthesizers to about the same level, so the choice of synthesizer does not change a mix's balance.
constexpr double kGain = 0.5;  // written into the version string below as "+gain0.5"
// Memory of a synthesizer per voice of its starting polyphony (measured: 1.5 MiB at 64 voices, bench/synth/memory.ts).
constexpr int kBytesPerVoice = 24 * 1024;

fluid_settings_t* NewSettings(double sampleRate, bool effects, bool dynamic, int polyphony) {
  fluid_settings_t* settings = new_fluid_settings();
  if (!settings) return nullptr;
  fluid_settings_setnum(settings, "synth.sample-rate", sampleRate);
  fluid_settings_setint(settings, "synth.reverb.active", effects ? 1 : 0);
  fluid_settings_setint(settings, "synth.chorus.active", effects ? 1 : 0);
  fluid_settings_setint(settings, "synth.cpu-cores", 1);
  fluid_settings_setint(settings, "synth.threadsafe-api", 0);
  fluid_settings_setnum(settings, "synth.gain", kGain);
  fluid_settings_setint(settings, "synth.polyphony", polyphony);
  fluid_settings_setint(settings, "synth.dynamic-sample-loading", dynamic ? 1 : 0);
  return settings;
}

class Synth : public Napi::ObjectWrap<Synth> {
 public:
  static Napi::Function Define(Napi::Env env) {
    return DefineClass(env, "FluidSynth",
                       {
                           InstanceMethod<&Synth::NoteOn>("noteOn"),
                           InstanceMethod<&Synth::NoteOff>("noteOff"),
                           InstanceMethod<&Synth::Control>("controlChange"),
                           InstanceMethod<&Synth::Program>("programChange"),
                           InstanceMethod<&Synth::PitchBend>("pitchBend"),
                           InstanceMethod<&Synth::Render>("render"),
                           InstanceMethod<&Synth::ActiveVoices>("activeVoices"),
                           InstanceMethod<&Synth::Polyphony>("polyphony"),
                           InstanceMethod<&Synth::Close>("close"),
                       });
  }

  // new FluidSynth(soundfontPath, sampleRate, effects, dynamicSampleLoading, shareFontOf?: FluidSynth,
  // initialPolyphony?: number): with shareFontOf, the font that synthesizer loaded is used (no parsing, no memory of
  // its own for it).
  explicit Synth(const Napi::CallbackInfo& info) : Napi::ObjectWrap<Synth>(info) {
    Napi::Env env = info.Env();
    installLog();
    if (info.Length() < 4 || !info[0].IsString() || !info[1].IsNumber() || !info[2].IsBoolean() ||
        !info[3].IsBoolean() || (info.Length() > 4 && !info[4].IsUndefined() && !info[4].IsObject()) ||
        (info.Length() > 5 && !info[5].IsUndefined() && !info[5].IsNumber())) {
      throw Napi::TypeError::New(env,
                                 "FluidSynth(soundfontPath: string, sampleRate: number, effects: boolean, "
                                 "dynamicSampleLoading: boolean, shareFontOf?: FluidSynth, initialPolyphony?: number)");
    }
    int initialPolyphony = kInitialPolyphony;
    if (info.Length() > 5 && info[5].IsNumber()) {
      const double asked = info[5].As<Napi::Number>().DoubleValue();
      if (!(asked >= 16 && asked <= 4096)) {
        throw Napi::RangeError::New(env, "initialPolyphony must be 16..4096, got " + std::to_string(asked));
      }
      initialPolyphony = static_cast<int>(asked);
    }
    const std::string path = info[0].As<Napi::String>();
    const double sampleRate = info[1].As<Napi::Number>().DoubleValue();
    const bool effects = info[2].As<Napi::Boolean>();
    const bool dynamic = info[3].As<Napi::Boolean>();
    if (!(sampleRate >= 8000 && sampleRate <= 96000)) {
      throw Napi::RangeError::New(env, "FluidSynth sample rate must be 8000..96000 Hz, got " +
                                           std::to_string(sampleRate));
    }
    if (info.Length() > 4 && info[4].IsObject()) {
      Synth* keeper = Synth::Unwrap(info[4].As<Napi::Object>());
      if (!keeper || !keeper->font_) throw Napi::TypeError::New(env, "shareFontOf must be an open FluidSynth");
      if (keeper->font_->path != path) {
        throw Napi::Error::New(env, "shareFontOf loaded " + keeper->font_->path + ", not " + path);
      }
      font_ = keeper->font_;
    } else {
      auto font = std::make_shared<SharedFont>();
      font->path = path;
      font->settings = NewSettings(sampleRate, false, dynamic, 16);
      if (!font->settings) throw Napi::Error::New(env, "FluidSynth: out of memory creating settings");
      lastError.clear();
      font->synth = new_fluid_synth(font->settings);
      if (!font->synth) throw Napi::Error::New(env, "FluidSynth could not create a synthesizer: " + lastError);
      lastError.clear();
      const int id = fluid_synth_sfload(font->synth, path.c_str(), 1);
      if (id == FLUID_FAILED) {
        const std::string reason = lastError.empty() ? "unknown reason" : lastError;
        throw Napi::Error::New(env, "FluidSynth could not load the SoundFont " + path + " (" + reason + ")");
      }
      font->sfont = fluid_synth_get_sfont_by_id(font->synth, id);
      font_ = std::move(font);
    }
    settings_ = NewSettings(sampleRate, effects, dynamic, initialPolyphony);
    if (!settings_) throw Napi::Error::New(env, "FluidSynth: out of memory creating settings");
    lastError.clear();
    synth_ = new_fluid_synth(settings_);
    if (!synth_) {
      Free();
      throw Napi::Error::New(env, "FluidSynth could not create a synthesizer: " + lastError);
    }
    fluid_sfloader_t* loader = new_fluid_sfloader(LoadProxy, FreeLoader);
    if (!loader) {
      Free();
      throw Napi::Error::New(env, "FluidSynth: out of memory creating a SoundFont loader");
    }
    fluid_sfloader_set_data(loader, font_->sfont);
    fluid_synth_add_sfloader(synth_, loader);  // the synthesizer owns it now
    if (fluid_synth_sfload(synth_, path.c_str(), 1) == FLUID_FAILED) {
      Free();
      throw Napi::Error::New(env, "FluidSynth could not attach the shared SoundFont " + path);
    }
    // The collector cannot see this memory (about 24 KiB per voice): told, it collects dropped synthesizers sooner.
    externalBytes_ = int64_t{kBytesPerVoice} * initialPolyphony;
    Napi::MemoryManagement::AdjustExternalMemory(env, externalBytes_);
  }

  ~Synth() override {
    Free();
    ReleaseExternal(Env());
  }

 private:
  fluid_settings_t* settings_ = nullptr;
  fluid_synth_t* synth_ = nullptr;
  std::shared_ptr<SharedFont> font_;
  int64_t externalBytes_ = 0;

  // The synthesizer first (its channels point into the shared font's presets), then our hold on the font.
  void Free() {
    if (synth_) delete_fluid_synth(synth_);
    if (settings_) delete_fluid_settings(settings_);
    synth_ = nullptr;
    settings_ = nullptr;
    font_.reset();
  }

  fluid_synth_t* Live(const Napi::CallbackInfo& info) {
    if (!synth_) throw Napi::Error::New(info.Env(), "this FluidSynth synthesizer was closed");
    return synth_;
  }

  static int Int(const Napi::CallbackInfo& info, size_t i, int low, int high, const char* what) {
    if (info.Length() <= i || !info[i].IsNumber()) {
      throw Napi::TypeError::New(info.Env(), std::string(what) + " must be a number");
    }
    const double value = info[i].As<Napi::Number>().DoubleValue();
    if (!(value >= low && value <= high) || value != static_cast<int>(value)) {
      throw Napi::RangeError::New(info.Env(), std::string(what) + " must be a whole number " +
                                                  std::to_string(low) + ".." + std::to_string(high) + ", got " +
                                                  std::to_string(value));
    }
    return static_cast<int>(value);
  }

  void Check(const Napi::CallbackInfo& info, int status, const char* what) {
    if (status == FLUID_FAILED) {
      throw Napi::Error::New(info.Env(), std::string("FluidSynth ") + what + " failed: " + lastError);
    }
  }

  // noteOn(channel, key, velocity 1..127): grows the voice pool first, so nothing is ever stolen.
  void NoteOn(const Napi::CallbackInfo& info) {
    fluid_synth_t* synth = Live(info);
    const int channel = Int(info, 0, 0, 15, "channel");
    const int key = Int(info, 1, 0, 127, "key");
    const int velocity = Int(info, 2, 1, 127, "velocity");
    int polyphony = fluid_synth_get_polyphony(synth);
    if (fluid_synth_get_active_voice_count(synth) + kHeadroomVoices > polyphony && polyphony < kMaxPolyphony) {
      polyphony = std::min(kMaxPolyphony, polyphony * 2);
      Check(info, fluid_synth_set_polyphony(synth, polyphony), "growing the voice pool");
    }
    lastError.clear();
    // FLUID_FAILED here only means the preset has no zone for the key: silence, as in FluidSynth itself.
    fluid_synth_noteon(synth, channel, key, velocity);
  }

  void NoteOff(const Napi::CallbackInfo& info) {
    fluid_synth_t* synth = Live(info);
    // FLUID_FAILED means no such note sounds (already released): nothing to do.
    fluid_synth_noteoff(synth, Int(info, 0, 0, 15, "channel"), Int(info, 1, 0, 127, "key"));
  }

  void Control(const Napi::CallbackInfo& info) {
    fluid_synth_t* synth = Live(info);
    lastError.clear();
    Check(info,
          fluid_synth_cc(synth, Int(info, 0, 0, 15, "channel"), Int(info, 1, 0, 127, "controller"),
                         Int(info, 2, 0, 127, "value")),
          "control change");
  }

  void PitchBend(const Napi::CallbackInfo& info) {
    fluid_synth_t* synth = Live(info);
    lastError.clear();
    Check(info,
          fluid_synth_pitch_bend(synth, Int(info, 0, 0, 15, "channel"), Int(info, 1, 0, 16383, "pitch wheel")),
          "pitch bend");
  }

  void Program(const Napi::CallbackInfo& info) {
    fluid_synth_t* synth = Live(info);
    lastError.clear();
    // FLUID_FAILED means the font has no such preset: the channel stays silent, as in FluidSynth itself.
    fluid_synth_program_change(synth, Int(info, 0, 0, 15, "channel"), Int(info, 1, 0, 127, "program"));
  }

  // render(left: Float32Array, right: Float32Array, offset, frames): writes (overwrites) frames at offset.
  void Render(const Napi::CallbackInfo& info) {
    Napi::Env env = info.Env();
    fluid_synth_t* synth = Live(info);
    if (info.Length() < 4 || !info[0].IsTypedArray() || !info[1].IsTypedArray()) {
      throw Napi::TypeError::New(env, "render(left: Float32Array, right: Float32Array, offset, frames)");
    }
    auto left = info[0].As<Napi::TypedArray>();
    auto right = info[1].As<Napi::TypedArray>();
    if (left.TypedArrayType() != napi_float32_array || right.TypedArrayType() != napi_float32_array) {
      throw Napi::TypeError::New(env, "render: left and right must be Float32Arrays");
    }
    const int offset = Int(info, 2, 0, 0x7fffffff, "offset");
    const int frames = Int(info, 3, 0, 0x7fffffff, "frames");
    if (static_cast<size_t>(offset) + frames > left.ElementLength() ||
        static_cast<size_t>(offset) + frames > right.ElementLength()) {
      throw Napi::RangeError::New(env, "render: offset + frames is past the end of the planes");
    }
    if (frames == 0) return;
    float* l = left.As<Napi::Float32Array>().Data();
    float* r = right.As<Napi::Float32Array>().Data();
    lastError.clear();
    Check(info, fluid_synth_write_float(synth, frames, l, offset, 1, r, offset, 1), "render");
  }

  Napi::Value ActiveVoices(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), fluid_synth_get_active_voice_count(Live(info)));
  }

  Napi::Value Polyphony(const Napi::CallbackInfo& info) {
    return Napi::Number::New(info.Env(), fluid_synth_get_polyphony(Live(info)));
  }

  void Close(const Napi::CallbackInfo& info) {
    Free();
    ReleaseExternal(info.Env());
  }

  void ReleaseExternal(Napi::Env env) {
    if (externalBytes_ == 0) return;
    Napi::MemoryManagement::AdjustExternalMemory(env, -externalBytes_);
    externalBytes_ = 0;
  }
};

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("FluidSynth", Synth::Define(env));
  // The library's version and our settings that shape the sound: stream keys and lineage records carry it.
  const std::string version = std::string(fluid_version_str()) + "+gain0.5";
  exports.Set("version", Napi::String::New(env, version));
  exports.Set("gain", Napi::Number::New(env, kGain));
  exports.Set("blockFrames", Napi::Number::New(env, kBlockFrames));
  exports.Set("queueOverflows", Napi::Function::New(env, [](const Napi::CallbackInfo& info) {
                return Napi::Number::New(info.Env(), queueOverflows);
              }));
  return exports;
}

}  // namespace

NODE_API_MODULE(lcanvas_synth, Init)
