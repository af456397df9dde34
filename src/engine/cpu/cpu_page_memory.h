#pragma once
// engine/page_memory.h for host memory: the pages are slices of one memfd, mapped with mmap(MAP_FIXED)
// into ranges reserved as PROT_NONE. The file is sparse: a page takes memory only once written, and
// discard() punches it out again.
#include <cstddef>

#include "engine/page_memory.h"

namespace hearth::engine::cpu {

class CpuPageMemory final : public PageMemory {
 public:
  CpuPageMemory();
  ~CpuPageMemory() override;
  CpuPageMemory(const CpuPageMemory&) = delete;
  CpuPageMemory& operator=(const CpuPageMemory&) = delete;

  size_t granularity() const override { return granularity_; }
  void create_pages(size_t page_bytes, size_t count) override;
  void* reserve(size_t bytes) override;
  void unreserve(void* base, size_t bytes) override;
  void map(void* at, size_t page) override;
  void unmap(void* at) override;
  void discard(size_t page) override;

 private:
  size_t granularity_ = 4096;
  size_t page_bytes_ = 0;
  size_t count_ = 0;
  int fd_ = -1;
};

}  // namespace hearth::engine::cpu
