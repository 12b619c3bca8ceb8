// Test support: a second JACK client that records what other clients play, bit for bit.
// usage: jack-capture CLIENT_NAME OUT_FILE FRAMES SOURCE_PORT...
// Registers one input port per source port, connects SOURCE_PORT[i] -> CLIENT_NAME:in_i, records FRAMES frames
// starting with the first cycle after the connections exist, and writes them interleaved float32 (host order) to
// OUT_FILE. Prints "connected" when recording starts and "captured N" at the end; exits 1 with a reason on failure.
// Callers: test/audio/jack*.test.ts (through test/support/native-build.ts).
#include <jack/jack.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

struct State {
  std::vector<jack_port_t*> ports;
  std::vector<float> frames;  // interleaved
  size_t channels = 0;
  size_t wantFrames = 0;
  std::atomic<size_t> gotFrames{0};
  std::atomic<bool> recording{false};
  std::atomic<bool> serverGone{false};
};

int process(jack_nframes_t n, void* arg) {
  auto* s = static_cast<State*>(arg);
  if (!s->recording.load(std::memory_order_acquire)) return 0;
  size_t got = s->gotFrames.load(std::memory_order_relaxed);
  size_t take = s->wantFrames - got;
  if (take > n) take = n;
  for (size_t c = 0; c < s->channels; ++c) {
    const float* in = static_cast<const float*>(jack_port_get_buffer(s->ports[c], n));
    for (size_t i = 0; i < take; ++i) s->frames[(got + i) * s->channels + c] = in[i];
  }
  s->gotFrames.store(got + take, std::memory_order_release);
  return 0;
}

void shutdown(void* arg) { static_cast<State*>(arg)->serverGone.store(true); }

int fail(const std::string& why) {
  std::fprintf(stderr, "jack-capture: %s\n", why.c_str());
  return 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 5) return fail("usage: jack-capture CLIENT_NAME OUT_FILE FRAMES SOURCE_PORT...");
  const char* clientName = argv[1];
  const char* outPath = argv[2];
  State state;
  state.wantFrames = std::strtoull(argv[3], nullptr, 10);
  state.channels = static_cast<size_t>(argc - 4);
  if (state.wantFrames == 0) return fail("FRAMES must be a positive integer");
  state.frames.assign(state.wantFrames * state.channels, 0.0f);

  jack_status_t status;
  jack_client_t* client = jack_client_open(clientName, JackNoStartServer, &status);
  if (!client) return fail("cannot connect to the JACK server (status " + std::to_string(status) + ")");
  jack_set_process_callback(client, process, &state);
  jack_on_shutdown(client, shutdown, &state);
  for (size_t c = 0; c < state.channels; ++c) {
    std::string name = "in_" + std::to_string(c + 1);
    jack_port_t* port = jack_port_register(client, name.c_str(), JACK_DEFAULT_AUDIO_TYPE, JackPortIsInput, 0);
    if (!port) return fail("cannot register port " + name);
    state.ports.push_back(port);
  }
  if (jack_activate(client) != 0) return fail("cannot activate the client");
  for (size_t c = 0; c < state.channels; ++c) {
    const char* source = argv[4 + c];
    if (jack_connect(client, source, jack_port_name(state.ports[c])) != 0) {
      return fail(std::string("cannot connect ") + source + " -> " + jack_port_name(state.ports[c]));
    }
  }
  state.recording.store(true, std::memory_order_release);
  std::printf("connected\n");
  std::fflush(stdout);

  while (state.gotFrames.load(std::memory_order_acquire) < state.wantFrames) {
    if (state.serverGone.load()) return fail("the JACK server went away while recording");
    usleep(5000);
  }
  jack_deactivate(client);
  jack_client_close(client);

  FILE* out = std::fopen(outPath, "wb");
  if (!out) return fail(std::string("cannot write ") + outPath);
  size_t n = std::fwrite(state.frames.data(), sizeof(float), state.frames.size(), out);
  std::fclose(out);
  if (n != state.frames.size()) return fail(std::string("short write to ") + outPath);
  std::printf("captured %zu\n", state.wantFrames);
  return 0;
}
