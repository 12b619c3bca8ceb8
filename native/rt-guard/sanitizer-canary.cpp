// Owns the sanitizer canary: proves that a build with the sanitizer flags the addon's ASan+UBSan build uses really
// reports errors. `sanitizer-canary heap` overflows a heap buffer (ASan), `sanitizer-canary shift` shifts past the
// width of an int (UBSan); `sanitizer-canary ok` does neither. Callers: test/audio/rt-safety-sanitizers.test.ts.
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  const char* what = argc > 1 ? argv[1] : "ok";
  volatile int n = argc + 7;
  if (std::strcmp(what, "heap") == 0) {
    char* p = static_cast<char*>(std::malloc(32));
    std::memset(p, 1, static_cast<size_t>(32 + n - 8));  // one byte past the end when argc == 2
    std::printf("%d\n", p[0]);
    std::free(p);
  } else if (std::strcmp(what, "shift") == 0) {
    volatile int width = 30 + n;  // 39 when argc == 2
    std::printf("%d\n", 1 << width);
  }
  std::puts("canary done");
  return 0;
}
