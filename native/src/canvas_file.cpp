// Owns the canvas file mapping: validation, lock-free lookup and seqlock reads (callback), page writes and
// prefetch (non-real-time). Format: canvas_format.h and docs/canvas-file.md.
#include "canvas_file.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>
#include <thread>
#include <vector>

#include "canvas_format.h"

namespace lc {

namespace {

using namespace canvas;

uint32_t rd32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);
  return v;
}
uint64_t rd64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}

uint32_t* w32(uint8_t* p) { return reinterpret_cast<uint32_t*>(p); }
uint64_t* w64(uint8_t* p) { return reinterpret_cast<uint64_t*>(p); }

// A page's write side is held for one memcpy; held this long, its writer crashed mid-write (or hangs).
constexpr auto kStuckWrite = std::chrono::seconds(2);

// Non-real-time: takes a page's write side (seq even -> odd, which also excludes a second writer) and returns the
// odd value. Throws instead of waiting forever when the page stays "being written" (a writer killed mid-page
// leaves it so in the file).
uint32_t takeWriteSide(uint32_t* seq, const std::string& path, uint64_t streamKey, uint32_t pageIndex) {
  auto started = std::chrono::steady_clock::now();
  for (;;) {
    uint32_t s = __atomic_load_n(seq, __ATOMIC_RELAXED);
    if ((s & 1u) == 0 &&
        __atomic_compare_exchange_n(seq, &s, s + 1, false, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) {
      return s;
    }
    if (std::chrono::steady_clock::now() - started > kStuckWrite) {
      throw std::runtime_error("canvas file " + path + ": page " + std::to_string(pageIndex) + " of stream " +
                               std::to_string(streamKey) +
                               " has been marked as being written for over 2 s: a writer stopped in the middle "
                               "of it (crashed or killed). It is a cache: delete it and let the renderer rebuild "
                               "it (or create a new one).");
    }
    std::this_thread::yield();
  }
}

[[noreturn]] void reject(const std::string& path, const std::string& what) {
  throw std::runtime_error("canvas file " + path + " is unusable: " + what +
                           ". It is a cache: delete it and let the renderer rebuild it (or create a new one).");
}

}  // namespace

std::unique_ptr<CanvasFile> CanvasFile::open(const std::string& path, bool writable) {
  int fd = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC);
  if (fd < 0) {
    int e = errno;
    if (e == ENOENT) reject(path, "the file does not exist");
    reject(path, std::string("it cannot be opened (") + std::strerror(e) + ")");
  }
  struct FdGuard {
    int fd;
    ~FdGuard() {
      if (fd >= 0) ::close(fd);
    }
  } guard{fd};
  struct stat st{};
  if (fstat(fd, &st) != 0) reject(path, std::string("fstat failed (") + std::strerror(errno) + ")");
  uint8_t h[kHChecksummedBytes + 16];
  if (st.st_size < static_cast<off_t>(sizeof h)) {
    reject(path, "it is truncated (" + std::to_string(st.st_size) + " bytes, shorter than the header)");
  }
  ssize_t got = ::pread(fd, h, sizeof h, 0);
  if (got != static_cast<ssize_t>(sizeof h)) reject(path, "its header could not be read");
  if (std::memcmp(h, kMagic, 8) != 0) reject(path, "bad magic (not a Latent Canvas canvas file)");
  uint32_t version = rd32(h + kHVersion);
  if (version != kVersion) {
    reject(path, "unsupported version " + std::to_string(version) + " (this build reads version " +
                     std::to_string(kVersion) + ")");
  }
  uint32_t sum = fnv1a32(h, kHChecksummedBytes);
  if (sum != rd32(h + kHChecksum)) reject(path, "header checksum mismatch (the header is corrupt)");
  CanvasInfo info;
  info.sampleRate = rd32(h + kHSampleRate);
  info.channels = rd32(h + kHChannels);
  info.framesPerPage = rd32(h + kHFramesPerPage);
  info.pageCapacity = rd32(h + kHPageCapacity);
  info.pageBytes = rd32(h + kHPageBytes);
  info.tableOffset = rd64(h + kHTableOffset);
  info.dataOffset = rd64(h + kHDataOffset);
  info.fileBytes = rd64(h + kHFileBytes);
  if (rd32(h + kHHeaderBytes) != kHeaderBytes || rd32(h + kHEntryBytes) != kEntryBytes || info.channels < 1 ||
      info.channels > 2 || info.sampleRate < 8000 || info.sampleRate > 384000 || info.framesPerPage == 0 ||
      info.pageCapacity == 0 || info.pageBytes != alignUp(uint64_t{info.framesPerPage} * info.channels * 4, kAlign) ||
      info.tableOffset != kHeaderBytes ||
      info.dataOffset != alignUp(kHeaderBytes + uint64_t{info.pageCapacity} * kEntryBytes, kAlign) ||
      info.fileBytes != info.dataOffset + uint64_t{info.pageCapacity} * info.pageBytes) {
    reject(path, "inconsistent geometry in the header");
  }
  if (static_cast<uint64_t>(st.st_size) != info.fileBytes) {
    reject(path, "it is truncated or has the wrong size (" + std::to_string(st.st_size) + " bytes, the header says " +
                     std::to_string(info.fileBytes) + ")");
  }
  void* base = ::mmap(nullptr, info.fileBytes, PROT_READ | (writable ? PROT_WRITE : 0), MAP_SHARED, fd, 0);
  if (base == MAP_FAILED) reject(path, std::string("mmap failed (") + std::strerror(errno) + ")");
  std::unique_ptr<CanvasFile> file(new CanvasFile());
  file->path_ = path;
  file->info_ = info;
  file->base_ = static_cast<uint8_t*>(base);
  file->mappedBytes_ = info.fileBytes;
  file->writable_ = writable;
  file->fd_ = fd;
  guard.fd = -1;
  // The page table is small and read by every callback: fault it in now.
  ::madvise(file->base_ + info.tableOffset, info.dataOffset - info.tableOffset, MADV_WILLNEED);
  volatile uint8_t sink = 0;
  for (uint64_t off = info.tableOffset; off < info.dataOffset; off += kAlign) sink = sink + file->base_[off];
  (void)sink;
  return file;
}

CanvasFile::~CanvasFile() {
  if (base_) ::munmap(base_, mappedBytes_);
  if (fd_ >= 0) ::close(fd_);
}

uint8_t* CanvasFile::entry(uint32_t slot) const noexcept {
  return base_ + info_.tableOffset + uint64_t{slot} * kEntryBytes;
}

float* CanvasFile::pageData(uint32_t slot) const noexcept {
  return reinterpret_cast<float*>(base_ + info_.dataOffset + uint64_t{slot} * info_.pageBytes);
}

int32_t CanvasFile::findSlot(uint64_t streamKey, uint32_t pageIndex) const noexcept {
  if (streamKey == 0) return -1;
  uint32_t cap = info_.pageCapacity;
  uint32_t slot = homeSlot(streamKey, pageIndex, cap);
  uint32_t probes = cap < kMaxProbe ? cap : kMaxProbe;
  for (uint32_t i = 0; i < probes; ++i) {
    uint8_t* e = entry(slot);
    uint32_t state = __atomic_load_n(w32(e + kEState), __ATOMIC_ACQUIRE);
    if (state == kStateEmpty) return -1;
    if (state == kStateLive && __atomic_load_n(w64(e + kEStreamKey), __ATOMIC_RELAXED) == streamKey &&
        __atomic_load_n(w32(e + kEPageIndex), __ATOMIC_RELAXED) == pageIndex) {
      return static_cast<int32_t>(slot);
    }
    slot = slot + 1 == cap ? 0 : slot + 1;
  }
  return -1;
}

CanvasFile::ReadResult CanvasFile::readSlice(int32_t slot, uint64_t streamKey, uint32_t pageIndex,
                                             uint32_t frameOffset, uint32_t frames, uint32_t minGeneration,
                                             float* dst, uint32_t maxAttempts, uint64_t& retries,
                                             uint32_t& pageGeneration) const noexcept {
  uint8_t* e = entry(static_cast<uint32_t>(slot));
  uint32_t* seq = w32(e + kESeq);
  const float* src = pageData(static_cast<uint32_t>(slot)) + uint64_t{frameOffset} * info_.channels;
  size_t bytes = size_t{frames} * info_.channels * sizeof(float);
  pageGeneration = 0;
  for (uint32_t attempt = 0; attempt < maxAttempts; ++attempt) {
    uint32_t s1 = __atomic_load_n(seq, __ATOMIC_ACQUIRE);
    if (s1 == 0) return ReadResult::NeverWritten;
    if (s1 & 1u) {
      ++retries;
      continue;
    }
    uint64_t key = __atomic_load_n(w64(e + kEStreamKey), __ATOMIC_RELAXED);
    uint32_t index = __atomic_load_n(w32(e + kEPageIndex), __ATOMIC_RELAXED);
    uint32_t generation = __atomic_load_n(w32(e + kEGeneration), __ATOMIC_RELAXED);
    uint32_t valid = __atomic_load_n(w32(e + kEValid), __ATOMIC_RELAXED);
    std::memcpy(dst, src, bytes);
    __atomic_thread_fence(__ATOMIC_ACQUIRE);
    uint32_t s2 = __atomic_load_n(seq, __ATOMIC_RELAXED);
    if (s1 == s2) {
      if (key != streamKey || index != pageIndex) return ReadResult::Moved;
      pageGeneration = generation;
      if (valid == 0) return ReadResult::Invalid;
      return generation >= minGeneration ? ReadResult::Ok : ReadResult::Stale;
    }
    ++retries;
  }
  return ReadResult::Torn;
}

int32_t CanvasFile::locate(uint64_t streamKey, uint32_t pageIndex, bool insert) {
  const uint32_t cap = info_.pageCapacity;
  const uint32_t home = homeSlot(streamKey, pageIndex, cap);
  const uint32_t probes = cap < kMaxProbe ? cap : kMaxProbe;
  std::chrono::steady_clock::time_point claimWaitStarted{};
  for (;;) {
    int64_t tombstone = -1;
    int64_t empty = -1;
    int64_t claiming = -1;
    uint32_t slot = home;
    for (uint32_t i = 0; i < probes; ++i) {
      uint8_t* e = entry(slot);
      uint32_t state = __atomic_load_n(w32(e + kEState), __ATOMIC_ACQUIRE);
      if (state == kStateEmpty) {
        empty = slot;
        break;
      }
      if (state == kStateLive && __atomic_load_n(w64(e + kEStreamKey), __ATOMIC_RELAXED) == streamKey &&
          __atomic_load_n(w32(e + kEPageIndex), __ATOMIC_RELAXED) == pageIndex) {
        return static_cast<int32_t>(slot);
      }
      if (state == kStateTombstone && tombstone < 0) tombstone = slot;
      if (state == kStateClaiming && claiming < 0) claiming = slot;
      slot = slot + 1 == cap ? 0 : slot + 1;
    }
    if (!insert) return -1;
    if (claiming >= 0) {
      // Another writer is claiming a slot of this chain (perhaps for this very page): let it finish, unless it
      // died in between.
      if (claimWaitStarted == std::chrono::steady_clock::time_point{}) {
        claimWaitStarted = std::chrono::steady_clock::now();
      } else if (std::chrono::steady_clock::now() - claimWaitStarted > kStuckWrite) {
        throw std::runtime_error("canvas file " + path_ + ": page table slot " + std::to_string(claiming) +
                                 " has been marked as being claimed for over 2 s: a writer stopped in the "
                                 "middle of it (crashed or killed). It is a cache: delete it and let the "
                                 "renderer rebuild it (or create a new one).");
      }
      std::this_thread::yield();
      continue;
    }
    if (tombstone >= 0) {
      uint8_t* e = entry(static_cast<uint32_t>(tombstone));
      uint32_t expected = kStateTombstone;
      if (!__atomic_compare_exchange_n(w32(e + kEState), &expected, kStateClaiming, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE)) {
        continue;
      }
      // The key and index change under the page's seqlock: a reader holding this slot from an earlier lookup
      // sees either the old identity (and valid = 0) or the new one, never a mixture.
      uint32_t* seq = w32(e + kESeq);
      const uint32_t s = takeWriteSide(seq, path_, streamKey, pageIndex);
      __atomic_thread_fence(__ATOMIC_RELEASE);
      __atomic_store_n(w32(e + kEValid), 0u, __ATOMIC_RELAXED);
      __atomic_store_n(w64(e + kEStreamKey), streamKey, __ATOMIC_RELAXED);
      __atomic_store_n(w32(e + kEPageIndex), pageIndex, __ATOMIC_RELAXED);
      __atomic_store_n(seq, s + 2, __ATOMIC_RELEASE);
      __atomic_store_n(w32(e + kEState), kStateLive, __ATOMIC_RELEASE);
      __atomic_fetch_add(w32(base_ + kHPagesUsed), 1u, __ATOMIC_RELAXED);
      return static_cast<int32_t>(tombstone);
    }
    if (empty >= 0) {
      uint8_t* e = entry(static_cast<uint32_t>(empty));
      uint32_t expected = kStateEmpty;
      if (!__atomic_compare_exchange_n(w32(e + kEState), &expected, kStateClaiming, false, __ATOMIC_ACQ_REL,
                                       __ATOMIC_ACQUIRE)) {
        continue;
      }
      // seq is 0 (never written): readers treat the slot as not ready whatever its key says.
      __atomic_store_n(w64(e + kEStreamKey), streamKey, __ATOMIC_RELAXED);
      __atomic_store_n(w32(e + kEPageIndex), pageIndex, __ATOMIC_RELAXED);
      __atomic_store_n(w32(e + kEState), kStateLive, __ATOMIC_RELEASE);
      __atomic_fetch_add(w32(base_ + kHPagesUsed), 1u, __ATOMIC_RELAXED);
      return static_cast<int32_t>(empty);
    }
    throw std::runtime_error("canvas file " + path_ + " is full near this page (no free slot within " +
                             std::to_string(kMaxProbe) + " probes of " + std::to_string(cap) +
                             " slots); free retired pages, or create a canvas file with a larger page capacity");
  }
}

int32_t CanvasFile::lockPage(uint64_t streamKey, uint32_t pageIndex, bool insert, uint32_t& s) {
  for (;;) {
    int32_t slot = locate(streamKey, pageIndex, insert);
    if (slot < 0) return -1;
    uint8_t* e = entry(static_cast<uint32_t>(slot));
    uint32_t* seq = w32(e + kESeq);
    s = takeWriteSide(seq, path_, streamKey, pageIndex);
    // Freeing needs the write side, so with it held a live slot holding this page stays so.
    if (__atomic_load_n(w32(e + kEState), __ATOMIC_ACQUIRE) == kStateLive &&
        __atomic_load_n(w64(e + kEStreamKey), __ATOMIC_RELAXED) == streamKey &&
        __atomic_load_n(w32(e + kEPageIndex), __ATOMIC_RELAXED) == pageIndex) {
      __atomic_thread_fence(__ATOMIC_RELEASE);
      return slot;
    }
    __atomic_store_n(seq, s + 2, __ATOMIC_RELEASE);  // freed (and maybe reused) since the lookup: look again
  }
}

bool CanvasFile::writePage(uint64_t streamKey, uint32_t pageIndex, uint32_t generation, const float* samples,
                           size_t sampleCount, bool onlyIfAbsent) {
  if (!writable_) throw std::runtime_error("canvas file " + path_ + " was opened read-only; open it for writing");
  if (streamKey == 0) throw std::runtime_error("stream key 0 is reserved for 'no stream'; use a non-zero key");
  size_t pageSamples = size_t{info_.framesPerPage} * info_.channels;
  if (sampleCount > pageSamples) {
    throw std::runtime_error("page of " + std::to_string(sampleCount) + " samples is larger than a page (" +
                             std::to_string(pageSamples) + " = framesPerPage x channels)");
  }
  uint32_t s = 0;
  const int32_t slot = lockPage(streamKey, pageIndex, true, s);
  uint8_t* e = entry(static_cast<uint32_t>(slot));
  if (onlyIfAbsent && s > 0 && __atomic_load_n(w32(e + kEValid), __ATOMIC_RELAXED) == 1u) {
    __atomic_store_n(w32(e + kESeq), s + 2, __ATOMIC_RELEASE);  // a complete page is there: leave it
    return false;
  }
  // The samples go in through pwrite, not through the mapping: a first store to a page of this sparse file through
  // the mapping takes a page fault per 4 KiB and dirty tracking in the kernel (measured on ext4: 60 us per 32 KiB
  // page against 9 us for pwrite, and munmap/unlink slower afterwards), and a full disk would be a SIGBUS there
  // instead of an error. Linux keeps one page cache for both, so readers of the mapping see these bytes; the
  // release store of seq below orders them before the page is marked complete.
  std::vector<float> padded;
  const float* data = samples;
  if (sampleCount < pageSamples) {
    padded.assign(pageSamples, 0.0f);
    std::memcpy(padded.data(), samples, sampleCount * sizeof(float));
    data = padded.data();
  }
  const auto* bytes = reinterpret_cast<const uint8_t*>(data);
  const size_t total = pageSamples * sizeof(float);
  const off_t at = static_cast<off_t>(info_.dataOffset + uint64_t(slot) * info_.pageBytes);
  for (size_t done = 0; done < total;) {
    const ssize_t n = ::pwrite(fd_, bytes + done, total - done, at + static_cast<off_t>(done));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int error = n < 0 ? errno : EIO;
      // Leave the page incomplete (valid 0) and the write side released: readers see a missing page, not a torn one.
      __atomic_store_n(w32(e + kEValid), 0u, __ATOMIC_RELAXED);
      __atomic_store_n(w32(e + kESeq), s + 2, __ATOMIC_RELEASE);
      throw std::runtime_error("cannot write page " + std::to_string(pageIndex) + " into the canvas file " + path_ +
                               ": " + std::strerror(error) +
                               (error == ENOSPC ? " (the disk is full: free space, then play or bounce again)" : ""));
    }
    done += static_cast<size_t>(n);
  }
  __atomic_store_n(w32(e + kEGeneration), generation, __ATOMIC_RELAXED);
  __atomic_store_n(w32(e + kEValid), 1u, __ATOMIC_RELAXED);
  __atomic_store_n(w32(e + kESeq), s + 2, __ATOMIC_RELEASE);
  return true;
}

bool CanvasFile::invalidatePage(uint64_t streamKey, uint32_t pageIndex) {
  if (!writable_) throw std::runtime_error("canvas file " + path_ + " was opened read-only; open it for writing");
  uint32_t s = 0;
  const int32_t slot = lockPage(streamKey, pageIndex, false, s);
  if (slot < 0) return false;
  uint8_t* e = entry(static_cast<uint32_t>(slot));
  __atomic_store_n(w32(e + kEValid), 0u, __ATOMIC_RELAXED);
  __atomic_store_n(w32(e + kESeq), s + 2, __ATOMIC_RELEASE);
  return true;
}

bool CanvasFile::freePage(uint64_t streamKey, uint32_t pageIndex) {
  if (!writable_) throw std::runtime_error("canvas file " + path_ + " was opened read-only; open it for writing");
  uint32_t s = 0;
  const int32_t slot = lockPage(streamKey, pageIndex, false, s);
  if (slot < 0) return false;
  uint8_t* e = entry(static_cast<uint32_t>(slot));
  __atomic_store_n(w32(e + kEValid), 0u, __ATOMIC_RELAXED);
  // Punched while the write side is held, so it cannot hit the data of a writer that reuses the slot. The file
  // size is kept (no SIGBUS for mappings); the range reads as zeros. A file system without hole punching keeps
  // the blocks, which stay bounded by the capacity: ignore the error.
  (void)::fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,
                    static_cast<off_t>(info_.dataOffset + uint64_t(slot) * info_.pageBytes),
                    static_cast<off_t>(info_.pageBytes));
  __atomic_store_n(w32(e + kEState), kStateTombstone, __ATOMIC_RELEASE);
  __atomic_fetch_sub(w32(base_ + kHPagesUsed), 1u, __ATOMIC_RELAXED);
  __atomic_store_n(w32(e + kESeq), s + 2, __ATOMIC_RELEASE);
  return true;
}

void CanvasFile::prefetch(uint64_t streamKey, uint32_t firstPage, uint32_t pageCount, bool lock) noexcept {
  for (uint32_t i = 0; i < pageCount; ++i) {
    int32_t slot = findSlot(streamKey, firstPage + i);
    if (slot < 0) continue;
    uint8_t* p = reinterpret_cast<uint8_t*>(pageData(static_cast<uint32_t>(slot)));
    ::madvise(p, info_.pageBytes, MADV_WILLNEED);
    volatile uint8_t sink = 0;
    for (uint32_t off = 0; off < info_.pageBytes; off += kAlign) sink = sink + p[off];
    (void)sink;
    if (lock) ::mlock(p, info_.pageBytes);
  }
}

uint32_t CanvasFile::pagesUsed() const noexcept {
  return __atomic_load_n(w32(base_ + kHPagesUsed), __ATOMIC_RELAXED);
}

uint32_t CanvasFile::residentPages(uint64_t streamKey, uint32_t firstPage, uint32_t count) const {
  const size_t osPage = static_cast<size_t>(sysconf(_SC_PAGESIZE));
  std::vector<unsigned char> vec((info_.pageBytes + osPage - 1) / osPage);
  uint32_t resident = 0;
  for (uint32_t i = 0; i < count; ++i) {
    int32_t slot = findSlot(streamKey, firstPage + i);
    if (slot < 0) continue;
    void* p = pageData(static_cast<uint32_t>(slot));
    if (::mincore(p, info_.pageBytes, vec.data()) != 0) continue;
    bool all = true;
    for (unsigned char v : vec) all = all && (v & 1u);
    if (all) ++resident;
  }
  return resident;
}

void CanvasFile::evictFromPageCache() const {
  ::fdatasync(fd_);
  ::madvise(base_ + info_.dataOffset, mappedBytes_ - info_.dataOffset, MADV_DONTNEED);
  ::posix_fadvise(fd_, static_cast<off_t>(info_.dataOffset), 0, POSIX_FADV_DONTNEED);
}

}  // namespace lc
