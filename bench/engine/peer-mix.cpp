// Benchmark peer: the engine's per-sample arithmetic (acc = acc + (s*g)*headGain, then *master) over the same
// number of lanes and bytes, from plain heap arrays with no canvas file, page table, seqlock or control block.
// usage: peer-mix LANES LOOP_FRAMES RENDER_FRAMES BLOCK_FRAMES
//   -> prints {"seconds":wall,"cpuSeconds":process CPU,"checksum":C}
// Callers: bench/engine/run.ts. Built with the engine's float flags (-O2 -ffp-contract=off).
#include <time.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 5) {
    std::fprintf(stderr, "usage: peer-mix LANES LOOP_FRAMES RENDER_FRAMES BLOCK_FRAMES\n");
    return 2;
  }
  const size_t lanes = std::strtoull(argv[1], nullptr, 10);
  const size_t loopFrames = std::strtoull(argv[2], nullptr, 10);
  const size_t renderFrames = std::strtoull(argv[3], nullptr, 10);
  const size_t block = std::strtoull(argv[4], nullptr, 10);
  std::vector<std::vector<float>> data(lanes, std::vector<float>(loopFrames * 2));
  std::vector<float> gl(lanes), gr(lanes);
  for (size_t l = 0; l < lanes; ++l) {
    for (size_t i = 0; i < loopFrames * 2; ++i) data[l][i] = float((i * 2654435761u + l) % 65536) / 65536.0f - 0.5f;
    gl[l] = 0.5f + 0.01f * float(l % 7);
    gr[l] = 0.6f - 0.01f * float(l % 5);
  }
  const float headGain = 0.9f, master = 0.7f;
  std::vector<float> acc(block * 2), out(block * 2);
  double checksum = 0;
  size_t pos = 0;
  auto cpuNow = [] {
    timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return double(ts.tv_sec) + double(ts.tv_nsec) * 1e-9;
  };
  const double cpu0 = cpuNow();
  auto t0 = std::chrono::steady_clock::now();
  for (size_t done = 0; done < renderFrames;) {
    size_t n = std::min(block, renderFrames - done);
    for (size_t i = 0; i < n * 2; ++i) acc[i] = 0.0f;
    size_t outFrame = 0;
    while (outFrame < n) {
      size_t seg = std::min(n - outFrame, loopFrames - pos);
      for (size_t l = 0; l < lanes; ++l) {
        const float* src = data[l].data() + pos * 2;
        float* a = acc.data() + outFrame * 2;
        for (size_t i = 0; i < seg; ++i) {
          a[2 * i] = a[2 * i] + (src[2 * i] * gl[l]) * headGain;
          a[2 * i + 1] = a[2 * i + 1] + (src[2 * i + 1] * gr[l]) * headGain;
        }
      }
      outFrame += seg;
      pos = (pos + seg) % loopFrames;
    }
    for (size_t i = 0; i < n * 2; ++i) out[i] = acc[i] * master;
    checksum += out[0] + out[n * 2 - 1];
    done += n;
  }
  double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double cpuSeconds = cpuNow() - cpu0;
  std::printf("{\"seconds\":%.6f,\"cpuSeconds\":%.6f,\"checksum\":%.6f}\n", seconds, cpuSeconds, checksum);
  return 0;
}
