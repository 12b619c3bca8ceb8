// Owns the real-time-safety guard: an LD_PRELOAD library that counts, on threads inside a marked section
// (lc_rtguard_enter/lc_rtguard_exit, called by the engine's rtguard hooks in a -DLC_RT_GUARD build), every call
// to an allocator, a lock, or an interposable syscall wrapper. Callers: the rt-safety tests, which preload it into
// a node child (LD_PRELOAD) and read the JSON report it writes at exit to $LC_RTGUARD_REPORT.
// Rationale and limits: docs/rtaudio-driver.md.
#include <dlfcn.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdarg>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>

extern "C" {
void* __libc_malloc(size_t);
void* __libc_calloc(size_t, size_t);
void* __libc_realloc(void*, size_t);
void __libc_free(void*);
void* __libc_memalign(size_t, size_t);
}

namespace {

#define LC_GUARD_KINDS(X)                                                                                       \
  X(malloc) X(calloc) X(realloc) X(free) X(memalign) X(operator_new) X(operator_delete) X(pthread_mutex_lock) \
  X(pthread_mutex_trylock) X(pthread_mutex_unlock) X(pthread_cond_wait) X(pthread_cond_timedwait)           \
  X(pthread_cond_signal) X(pthread_cond_broadcast) X(pthread_rwlock) X(sem_wait) X(sem_post) X(write)        \
  X(read) X(open) X(openat) X(close) X(nanosleep) X(clock_nanosleep) X(usleep) X(mmap) X(munmap)             \
  X(mprotect) X(madvise) X(syscall) X(futex) X(sched_yield) X(poll) X(ioctl) X(fsync)

enum Kind : int {
#define X(name) k_##name,
  LC_GUARD_KINDS(X)
#undef X
      kKindCount
};

const char* const kKindNames[] = {
#define X(name) #name,
    LC_GUARD_KINDS(X)
#undef X
};

constexpr int kMaxOffenders = 16;

struct Offender {
  std::atomic<int> kind{-1};
  std::atomic<void*> caller{nullptr};
};

std::atomic<uint64_t> gCounts[kKindCount];
std::atomic<uint64_t> gEnters{0};
std::atomic<uint64_t> gMarkedThreadsSeen{0};
std::atomic<int> gOffenderCount{0};
Offender gOffenders[kMaxOffenders];
uint64_t gInjectEvery = 0;

// initial-exec: reading the mark never allocates (the library is loaded at start-up by LD_PRELOAD).
__attribute__((tls_model("initial-exec"))) thread_local int tMarkDepth = 0;
__attribute__((tls_model("initial-exec"))) thread_local int tInGuard = 0;
__attribute__((tls_model("initial-exec"))) thread_local bool tSeen = false;

template <typename F>
F next(const char* name) {
  return reinterpret_cast<F>(dlsym(RTLD_NEXT, name));
}

using WriteFn = ssize_t (*)(int, const void*, size_t);
using ReadFn = ssize_t (*)(int, void*, size_t);
using OpenFn = int (*)(const char*, int, ...);
using OpenatFn = int (*)(int, const char*, int, ...);
using CloseFn = int (*)(int);
using NanosleepFn = int (*)(const struct timespec*, struct timespec*);
using ClockNanosleepFn = int (*)(clockid_t, int, const struct timespec*, struct timespec*);
using UsleepFn = int (*)(useconds_t);
using MmapFn = void* (*)(void*, size_t, int, int, int, off_t);
using MunmapFn = int (*)(void*, size_t);
using MprotectFn = int (*)(void*, size_t, int);
using MadviseFn = int (*)(void*, size_t, int);
using SyscallFn = long (*)(long, ...);
using SchedYieldFn = int (*)();
using PollFn = int (*)(struct pollfd*, nfds_t, int);
using IoctlFn = int (*)(int, unsigned long, ...);
using FsyncFn = int (*)(int);
using MutexFn = int (*)(pthread_mutex_t*);
using CondWaitFn = int (*)(pthread_cond_t*, pthread_mutex_t*);
using CondTimedwaitFn = int (*)(pthread_cond_t*, pthread_mutex_t*, const struct timespec*);
using CondFn = int (*)(pthread_cond_t*);
using RwlockFn = int (*)(pthread_rwlock_t*);
using SemFn = int (*)(sem_t*);

struct Real {
  WriteFn write;
  ReadFn read;
  OpenFn open;
  OpenFn open64;
  OpenatFn openat;
  OpenatFn openat64;
  CloseFn close;
  NanosleepFn nanosleep;
  ClockNanosleepFn clock_nanosleep;
  UsleepFn usleep;
  MmapFn mmap;
  MmapFn mmap64;
  MunmapFn munmap;
  MprotectFn mprotect;
  MadviseFn madvise;
  SyscallFn syscall;
  SchedYieldFn sched_yield;
  PollFn poll;
  IoctlFn ioctl;
  FsyncFn fsync;
  MutexFn mutex_lock;
  MutexFn mutex_trylock;
  MutexFn mutex_unlock;
  CondWaitFn cond_wait;
  CondTimedwaitFn cond_timedwait;
  CondFn cond_signal;
  CondFn cond_broadcast;
  RwlockFn rwlock_rdlock;
  RwlockFn rwlock_wrlock;
  RwlockFn rwlock_unlock;
  SemFn sem_wait;
  SemFn sem_post;
};

Real real;
std::atomic<bool> gReady{false};

__attribute__((tls_model("initial-exec"))) thread_local bool tResolving = false;

void resolve() {
  if (tResolving) return;
  tResolving = true;
  real.write = next<WriteFn>("write");
  real.read = next<ReadFn>("read");
  real.open = next<OpenFn>("open");
  real.open64 = next<OpenFn>("open64");
  real.openat = next<OpenatFn>("openat");
  real.openat64 = next<OpenatFn>("openat64");
  real.close = next<CloseFn>("close");
  real.nanosleep = next<NanosleepFn>("nanosleep");
  real.clock_nanosleep = next<ClockNanosleepFn>("clock_nanosleep");
  real.usleep = next<UsleepFn>("usleep");
  real.mmap = next<MmapFn>("mmap");
  real.mmap64 = next<MmapFn>("mmap64");
  real.munmap = next<MunmapFn>("munmap");
  real.mprotect = next<MprotectFn>("mprotect");
  real.madvise = next<MadviseFn>("madvise");
  real.syscall = next<SyscallFn>("syscall");
  real.sched_yield = next<SchedYieldFn>("sched_yield");
  real.poll = next<PollFn>("poll");
  real.ioctl = next<IoctlFn>("ioctl");
  real.fsync = next<FsyncFn>("fsync");
  real.mutex_lock = next<MutexFn>("pthread_mutex_lock");
  real.mutex_trylock = next<MutexFn>("pthread_mutex_trylock");
  real.mutex_unlock = next<MutexFn>("pthread_mutex_unlock");
  real.cond_wait = reinterpret_cast<CondWaitFn>(dlvsym(RTLD_NEXT, "pthread_cond_wait", "GLIBC_2.3.2"));
  if (!real.cond_wait) real.cond_wait = next<CondWaitFn>("pthread_cond_wait");
  real.cond_timedwait =
      reinterpret_cast<CondTimedwaitFn>(dlvsym(RTLD_NEXT, "pthread_cond_timedwait", "GLIBC_2.3.2"));
  if (!real.cond_timedwait) real.cond_timedwait = next<CondTimedwaitFn>("pthread_cond_timedwait");
  real.cond_signal = reinterpret_cast<CondFn>(dlvsym(RTLD_NEXT, "pthread_cond_signal", "GLIBC_2.3.2"));
  if (!real.cond_signal) real.cond_signal = next<CondFn>("pthread_cond_signal");
  real.cond_broadcast = reinterpret_cast<CondFn>(dlvsym(RTLD_NEXT, "pthread_cond_broadcast", "GLIBC_2.3.2"));
  if (!real.cond_broadcast) real.cond_broadcast = next<CondFn>("pthread_cond_broadcast");
  real.rwlock_rdlock = next<RwlockFn>("pthread_rwlock_rdlock");
  real.rwlock_wrlock = next<RwlockFn>("pthread_rwlock_wrlock");
  real.rwlock_unlock = next<RwlockFn>("pthread_rwlock_unlock");
  real.sem_wait = next<SemFn>("sem_wait");
  real.sem_post = next<SemFn>("sem_post");
  const char* inject = getenv("LC_RTGUARD_INJECT_EVERY");
  if (inject) gInjectEvery = strtoull(inject, nullptr, 10);
  gReady.store(true, std::memory_order_release);
  tResolving = false;
}

inline void note(Kind kind) {
  if (__builtin_expect(!gReady.load(std::memory_order_relaxed), 0)) resolve();
  if (tMarkDepth <= 0 || tInGuard) return;
  gCounts[kind].fetch_add(1, std::memory_order_relaxed);
  int slot = gOffenderCount.fetch_add(1, std::memory_order_relaxed);
  if (slot < kMaxOffenders) {
    gOffenders[slot].caller.store(__builtin_return_address(0), std::memory_order_relaxed);
    gOffenders[slot].kind.store(kind, std::memory_order_relaxed);
  }
}

// The report is written with the real syscalls and no allocation, after everything else stopped.
struct Out {
  int fd;
  char buf[8192];
  size_t used = 0;
  void put(const char* s) {
    size_t n = strlen(s);
    if (used + n >= sizeof(buf)) n = sizeof(buf) - used - 1;
    memcpy(buf + used, s, n);
    used += n;
  }
  void num(uint64_t v) {
    char tmp[32];
    snprintf(tmp, sizeof tmp, "%llu", static_cast<unsigned long long>(v));
    put(tmp);
  }
  void flush() {
    size_t done = 0;
    while (done < used) {
      ssize_t w = real.write(fd, buf + done, used - done);
      if (w <= 0) break;
      done += static_cast<size_t>(w);
    }
  }
};

void writeReport() {
  const char* path = getenv("LC_RTGUARD_REPORT");
  if (!path || !gReady.load()) return;
  tInGuard = 1;
  int fd = real.open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (fd < 0) return;
  Out out{fd, {}, 0};
  out.put("{\"enters\":");
  out.num(gEnters.load());
  out.put(",\"markedThreads\":");
  out.num(gMarkedThreadsSeen.load());
  out.put(",\"injectEvery\":");
  out.num(gInjectEvery);
  out.put(",\"counts\":{");
  uint64_t total = 0;
  for (int k = 0; k < kKindCount; ++k) {
    if (k) out.put(",");
    out.put("\"");
    out.put(kKindNames[k]);
    out.put("\":");
    uint64_t c = gCounts[k].load();
    total += c;
    out.num(c);
  }
  out.put("},\"total\":");
  out.num(total);
  out.put(",\"offenders\":[");
  int n = gOffenderCount.load();
  if (n > kMaxOffenders) n = kMaxOffenders;
  for (int i = 0; i < n; ++i) {
    if (i) out.put(",");
    int kind = gOffenders[i].kind.load();
    void* caller = gOffenders[i].caller.load();
    Dl_info info{};
    const char* sym = (caller && dladdr(caller, &info) && info.dli_sname) ? info.dli_sname : "?";
    const char* obj = (caller && info.dli_fname) ? info.dli_fname : "?";
    out.put("{\"kind\":\"");
    out.put(kind >= 0 && kind < kKindCount ? kKindNames[kind] : "?");
    out.put("\",\"caller\":\"");
    out.put(sym);
    out.put("\",\"object\":\"");
    out.put(obj);
    out.put("\"}");
  }
  out.put("]}\n");
  out.flush();
  real.close(fd);
}

struct Init {
  Init() { resolve(); }
  ~Init() { writeReport(); }
};
Init gInit __attribute__((init_priority(101)));

}  // namespace

extern "C" {

__attribute__((visibility("default"))) void lc_rtguard_enter(void) {
  if (!tSeen) {
    tSeen = true;
    gMarkedThreadsSeen.fetch_add(1, std::memory_order_relaxed);
  }
  ++tMarkDepth;
  uint64_t n = gEnters.fetch_add(1, std::memory_order_relaxed) + 1;
  if (gInjectEvery && n % gInjectEvery == 0) {
    // Deliberate violations, so a test can prove the guard counts inside the real callback.
    void* p = malloc(64);
    free(p);
  }
}

__attribute__((visibility("default"))) void lc_rtguard_exit(void) { --tMarkDepth; }

__attribute__((visibility("default"))) uint64_t lc_rtguard_count(const char* kind) {
  for (int k = 0; k < kKindCount; ++k) {
    if (strcmp(kKindNames[k], kind) == 0) return gCounts[k].load();
  }
  return UINT64_MAX;
}

__attribute__((visibility("default"))) uint64_t lc_rtguard_enters(void) { return gEnters.load(); }

void* malloc(size_t n) {
  note(k_malloc);
  return __libc_malloc(n);
}
void* calloc(size_t a, size_t b) {
  note(k_calloc);
  return __libc_calloc(a, b);
}
void* realloc(void* p, size_t n) {
  note(k_realloc);
  return __libc_realloc(p, n);
}
void free(void* p) {
  note(k_free);
  __libc_free(p);
}
void* memalign(size_t a, size_t n) {
  note(k_memalign);
  return __libc_memalign(a, n);
}
void* aligned_alloc(size_t a, size_t n) {
  note(k_memalign);
  return __libc_memalign(a, n);
}
int posix_memalign(void** out, size_t a, size_t n) {
  note(k_memalign);
  void* p = __libc_memalign(a, n);
  if (!p) return ENOMEM;
  *out = p;
  return 0;
}

ssize_t write(int fd, const void* b, size_t n) {
  note(k_write);
  return real.write(fd, b, n);
}
ssize_t read(int fd, void* b, size_t n) {
  note(k_read);
  return real.read(fd, b, n);
}
int open(const char* p, int flags, ...) {
  note(k_open);
  va_list ap;
  va_start(ap, flags);
  mode_t mode = static_cast<mode_t>(va_arg(ap, int));
  va_end(ap);
  return real.open(p, flags, mode);
}
int open64(const char* p, int flags, ...) {
  note(k_open);
  va_list ap;
  va_start(ap, flags);
  mode_t mode = static_cast<mode_t>(va_arg(ap, int));
  va_end(ap);
  return real.open64(p, flags, mode);
}
int openat(int d, const char* p, int flags, ...) {
  note(k_openat);
  va_list ap;
  va_start(ap, flags);
  mode_t mode = static_cast<mode_t>(va_arg(ap, int));
  va_end(ap);
  return real.openat(d, p, flags, mode);
}
int openat64(int d, const char* p, int flags, ...) {
  note(k_openat);
  va_list ap;
  va_start(ap, flags);
  mode_t mode = static_cast<mode_t>(va_arg(ap, int));
  va_end(ap);
  return real.openat64(d, p, flags, mode);
}
int close(int fd) {
  note(k_close);
  return real.close(fd);
}
int nanosleep(const struct timespec* a, struct timespec* b) {
  note(k_nanosleep);
  return real.nanosleep(a, b);
}
int clock_nanosleep(clockid_t c, int f, const struct timespec* a, struct timespec* b) {
  note(k_clock_nanosleep);
  return real.clock_nanosleep(c, f, a, b);
}
int usleep(useconds_t u) {
  note(k_usleep);
  return real.usleep(u);
}
void* mmap(void* a, size_t n, int prot, int flags, int fd, off_t off) {
  note(k_mmap);
  return real.mmap(a, n, prot, flags, fd, off);
}
void* mmap64(void* a, size_t n, int prot, int flags, int fd, off_t off) {
  note(k_mmap);
  return real.mmap64(a, n, prot, flags, fd, off);
}
int munmap(void* a, size_t n) {
  note(k_munmap);
  return real.munmap(a, n);
}
int mprotect(void* a, size_t n, int prot) {
  note(k_mprotect);
  return real.mprotect(a, n, prot);
}
int madvise(void* a, size_t n, int advice) {
  note(k_madvise);
  return real.madvise(a, n, advice);
}
long syscall(long number, ...) {
  note(number == SYS_futex ? k_futex : k_syscall);
  va_list ap;
  va_start(ap, number);
  long a1 = va_arg(ap, long), a2 = va_arg(ap, long), a3 = va_arg(ap, long);
  long a4 = va_arg(ap, long), a5 = va_arg(ap, long), a6 = va_arg(ap, long);
  va_end(ap);
  return real.syscall(number, a1, a2, a3, a4, a5, a6);
}
int sched_yield() {
  note(k_sched_yield);
  return real.sched_yield();
}
int poll(struct pollfd* f, nfds_t n, int t) {
  note(k_poll);
  return real.poll(f, n, t);
}
int ioctl(int fd, unsigned long request, ...) {
  note(k_ioctl);
  va_list ap;
  va_start(ap, request);
  void* arg = va_arg(ap, void*);
  va_end(ap);
  return real.ioctl(fd, request, arg);
}
int fsync(int fd) {
  note(k_fsync);
  return real.fsync(fd);
}

int pthread_mutex_lock(pthread_mutex_t* m) {
  note(k_pthread_mutex_lock);
  return real.mutex_lock(m);
}
int pthread_mutex_trylock(pthread_mutex_t* m) {
  note(k_pthread_mutex_trylock);
  return real.mutex_trylock(m);
}
int pthread_mutex_unlock(pthread_mutex_t* m) {
  note(k_pthread_mutex_unlock);
  return real.mutex_unlock(m);
}
int pthread_cond_wait(pthread_cond_t* c, pthread_mutex_t* m) {
  note(k_pthread_cond_wait);
  return real.cond_wait(c, m);
}
int pthread_cond_timedwait(pthread_cond_t* c, pthread_mutex_t* m, const struct timespec* t) {
  note(k_pthread_cond_timedwait);
  return real.cond_timedwait(c, m, t);
}
int pthread_cond_signal(pthread_cond_t* c) {
  note(k_pthread_cond_signal);
  return real.cond_signal(c);
}
int pthread_cond_broadcast(pthread_cond_t* c) {
  note(k_pthread_cond_broadcast);
  return real.cond_broadcast(c);
}
int pthread_rwlock_rdlock(pthread_rwlock_t* l) {
  note(k_pthread_rwlock);
  return real.rwlock_rdlock(l);
}
int pthread_rwlock_wrlock(pthread_rwlock_t* l) {
  note(k_pthread_rwlock);
  return real.rwlock_wrlock(l);
}
int pthread_rwlock_unlock(pthread_rwlock_t* l) {
  note(k_pthread_rwlock);
  return real.rwlock_unlock(l);
}
int sem_wait(sem_t* s) {
  note(k_sem_wait);
  return real.sem_wait(s);
}
int sem_post(sem_t* s) {
  note(k_sem_post);
  return real.sem_post(s);
}

}  // extern "C"

// operator new/delete: counted as such, then served by glibc directly (not counted a second time as malloc).
namespace {
void* newImpl(size_t n) {
  note(k_operator_new);
  void* p = __libc_malloc(n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
void* newAligned(size_t n, std::align_val_t a) {
  note(k_operator_new);
  void* p = __libc_memalign(static_cast<size_t>(a), n ? n : 1);
  if (!p) throw std::bad_alloc();
  return p;
}
void deleteImpl(void* p) {
  note(k_operator_delete);
  __libc_free(p);
}
}  // namespace

void* operator new(size_t n) { return newImpl(n); }
void* operator new[](size_t n) { return newImpl(n); }
void* operator new(size_t n, const std::nothrow_t&) noexcept {
  note(k_operator_new);
  return __libc_malloc(n ? n : 1);
}
void* operator new[](size_t n, const std::nothrow_t&) noexcept {
  note(k_operator_new);
  return __libc_malloc(n ? n : 1);
}
void* operator new(size_t n, std::align_val_t a) { return newAligned(n, a); }
void* operator new[](size_t n, std::align_val_t a) { return newAligned(n, a); }
void operator delete(void* p) noexcept { deleteImpl(p); }
void operator delete[](void* p) noexcept { deleteImpl(p); }
void operator delete(void* p, size_t) noexcept { deleteImpl(p); }
void operator delete[](void* p, size_t) noexcept { deleteImpl(p); }
void operator delete(void* p, std::align_val_t) noexcept { deleteImpl(p); }
void operator delete[](void* p, std::align_val_t) noexcept { deleteImpl(p); }
void operator delete(void* p, size_t, std::align_val_t) noexcept { deleteImpl(p); }
void operator delete[](void* p, size_t, std::align_val_t) noexcept { deleteImpl(p); }
