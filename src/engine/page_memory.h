#pragma once
// Physical memory that is mapped page by page into reserved address ranges: what lets several
// sequences and prompt-cache checkpoints share attention-KV rows while every sequence still sees its
// cache as one contiguous tensor, so that no kernel needs a page table (engine/kv_pages.h builds the KV
// cache on it; the idea is the one of vAttention: paging by the virtual-memory hardware).
//
// A backend implements it with its platform's virtual-memory calls: the CPU backend with a memfd
// mapped by mmap (engine/cpu/cpu_page_memory.cpp), CUDA with the driver's virtual memory management
// (cuMemCreate / cuMemMap, engine/cuda/cuda_page_memory.cpp).
#include <cstddef>

namespace hearth::engine {

class PageMemory {
 public:
  virtual ~PageMemory() = default;
  // Page sizes and reserved ranges must be multiples of this (the CPU's page, the GPU's 2 MiB).
  virtual size_t granularity() const = 0;
  // Creates the physical store: `count` pages of `page_bytes` each. Called once, before map().
  // Throws hearth::Error(out_of_memory) when the memory is not there.
  virtual void create_pages(size_t page_bytes, size_t count) = 0;
  // An address range of `bytes` with nothing mapped (reading it faults); released by unreserve().
  virtual void* reserve(size_t bytes) = 0;
  virtual void unreserve(void* base, size_t bytes) = 0;
  // Maps physical page `page` (readable and writable) at `at`, a page-aligned address of a reserved
  // range where nothing is mapped; unmap() takes it away again. The caller orders these with the
  // backend's queued work (engine/kv_pages.cpp synchronises before unmapping).
  virtual void map(void* at, size_t page) = 0;
  virtual void unmap(void* at) = 0;
  // The page's contents are no longer needed (it is free): a backend may give its memory back to the
  // system until it is written again. Never called on a mapped page.
  virtual void discard(size_t page) {}
};

}  // namespace hearth::engine
