// Owns a mapped canvas file: validation before use, the lock-free page lookup and seqlock read the callback uses,
// the non-real-time page writer, and prefetch. Callers: engine.cpp (lookup/readSlice on the callback thread),
// addon.cpp (open, writePage, prefetch on non-real-time threads).
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>

namespace lc {

struct CanvasInfo {
  uint32_t sampleRate = 0;
  uint32_t channels = 0;
  uint32_t framesPerPage = 0;
  uint32_t pageCapacity = 0;
  uint32_t pageBytes = 0;
  uint64_t tableOffset = 0;
  uint64_t dataOffset = 0;
  uint64_t fileBytes = 0;
};

class CanvasFile {
 public:
  // Validates magic, version, checksum, geometry and file size before mapping; throws std::runtime_error
  // with a message naming the file, what was wrong and what to do. writable: map PROT_WRITE too.
  static std::unique_ptr<CanvasFile> open(const std::string& path, bool writable);
  ~CanvasFile();
  CanvasFile(const CanvasFile&) = delete;
  CanvasFile& operator=(const CanvasFile&) = delete;

  const CanvasInfo& info() const { return info_; }
  const std::string& path() const { return path_; }

  // Real-time safe: bounded probe (past tombstones, stopping at an empty slot), atomic loads only. Returns the
  // slot or -1. The slot may be freed and reused at any time: readSlice re-checks key and index.
  int32_t findSlot(uint64_t streamKey, uint32_t pageIndex) const noexcept;

  // Ok; NeverWritten: the slot was claimed but its first write has not finished (seq 0); Invalid: the page was
  // invalidated (valid 0); Moved: the slot no longer holds (streamKey, pageIndex) (freed, possibly reused);
  // Stale: generation < minGeneration; Torn: every attempt overlapped a write (maxAttempts exhausted).
  enum class ReadResult { Ok, NeverWritten, Invalid, Moved, Stale, Torn };
  // Real-time safe seqlock read of frames [frameOffset, frameOffset + frames) of a slot into dst (interleaved).
  // Accepts the copy only if the slot still holds (streamKey, pageIndex) inside the same stable seqlock window.
  // retries is incremented per failed attempt; pageGeneration receives the generation read in the stable window
  // (0 when none). Never returns data from a page being written.
  ReadResult readSlice(int32_t slot, uint64_t streamKey, uint32_t pageIndex, uint32_t frameOffset, uint32_t frames,
                       uint32_t minGeneration, float* dst, uint32_t maxAttempts, uint64_t& retries,
                       uint32_t& pageGeneration) const noexcept;

  // Non-real-time: claim (or find) the slot of (streamKey, pageIndex) and write a whole page under the seqlock.
  // frames.size <= framesPerPage*channels; the rest of the page is zeroed. Throws on a full table.
  // onlyIfAbsent: write only when the page holds no complete page yet (checked under the page's write side, so a
  // concurrent writer's complete page is never overwritten); returns whether it wrote.
  bool writePage(uint64_t streamKey, uint32_t pageIndex, uint32_t generation, const float* samples,
                 size_t sampleCount, bool onlyIfAbsent = false);
  // Non-real-time: remove a page's readiness (valid = 0) so the callback treats it as missing; keeps the slot.
  bool invalidatePage(uint64_t streamKey, uint32_t pageIndex);
  // Non-real-time: frees a page's slot (a tombstone, reused by later inserts) and punches its data out of the
  // file (disk space is released; the file size never changes). Returns false when the page is not there.
  bool freePage(uint64_t streamKey, uint32_t pageIndex);

  // Non-real-time: fault in (touch + MADV_WILLNEED, optional mlock) the pages of a stream from pageIndex on.
  void prefetch(uint64_t streamKey, uint32_t firstPage, uint32_t pageCount, bool lock) noexcept;

  uint32_t pagesUsed() const noexcept;

  // Non-real-time diagnostics (tests): how many of the pages [firstPage, firstPage+count) of a stream are written
  // and fully resident in memory (mincore), and evicting the whole file from the page cache (fdatasync + fadvise).
  uint32_t residentPages(uint64_t streamKey, uint32_t firstPage, uint32_t count) const;
  void evictFromPageCache() const;

 private:
  CanvasFile() = default;
  uint8_t* entry(uint32_t slot) const noexcept;
  // Non-real-time: the live slot of (streamKey, pageIndex), or -1; with insert, claims one (reusing the first
  // tombstone of the chain, else the empty slot ending it). Throws on a full chain or a claim stuck for 2 s.
  int32_t locate(uint64_t streamKey, uint32_t pageIndex, bool insert);
  // Non-real-time: locates the live slot of the page and takes its seqlock write side with key and index checked
  // under it; returns the slot (seq odd, held: the caller stores s + 2) or -1 when the page is not there.
  int32_t lockPage(uint64_t streamKey, uint32_t pageIndex, bool insert, uint32_t& s);
  float* pageData(uint32_t slot) const noexcept;

  std::string path_;
  CanvasInfo info_;
  uint8_t* base_ = nullptr;
  size_t mappedBytes_ = 0;
  int fd_ = -1;
  bool writable_ = false;
};

}  // namespace lc
