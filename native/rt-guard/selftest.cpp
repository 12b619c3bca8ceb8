// Owns the guard's self-test: proves that lc_rtguard counts each kind of call made inside a marked section, and
// nothing made outside one. Callers: test/audio/rt-safety-guard.test.ts runs it with the guard in LD_PRELOAD.
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <thread>

extern "C" void lc_rtguard_enter(void);
extern "C" void lc_rtguard_exit(void);

namespace {

pthread_mutex_t gMutex = PTHREAD_MUTEX_INITIALIZER;

// One call of each kind; volatile sinks keep the optimizer from removing the allocations.
void everyKindOnce() {
  void* a = malloc(32);
  void* volatile grown = realloc(a, 64);
  free(grown);
  void* volatile c = calloc(4, 8);
  free(c);
  int* volatile n = new int(7);
  delete n;
  pthread_mutex_lock(&gMutex);
  pthread_mutex_unlock(&gMutex);
  if (pthread_mutex_trylock(&gMutex) == 0) pthread_mutex_unlock(&gMutex);
  int fd = open("/dev/null", O_RDWR);
  char byte = 0;
  if (write(fd, &byte, 1) < 0) std::abort();
  if (read(fd, &byte, 1) < 0) std::abort();
  close(fd);
  struct timespec ts{0, 1000};
  nanosleep(&ts, nullptr);
  void* m = mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  munmap(m, 4096);
  int word = 0;
  syscall(SYS_futex, &word, 1 /* FUTEX_WAKE */, 1, nullptr, nullptr, 0);
  syscall(SYS_getpid);
  sched_yield();
}

}  // namespace

int main() {
  // Unmarked work on another thread and on this one: must not be counted.
  std::thread other([] {
    for (int i = 0; i < 100; ++i) everyKindOnce();
  });
  other.join();
  for (int i = 0; i < 10; ++i) everyKindOnce();

  lc_rtguard_enter();
  everyKindOnce();
  lc_rtguard_exit();

  // A marked section on a second thread, nested once: counted too.
  std::thread marked([] {
    lc_rtguard_enter();
    lc_rtguard_enter();
    void* volatile p = malloc(8);
    lc_rtguard_exit();
    free(p);  // still marked (depth 1)
    lc_rtguard_exit();
    void* volatile q = malloc(8);  // unmarked again
    free(q);
  });
  marked.join();
  std::puts("selftest done");
  return 0;
}
