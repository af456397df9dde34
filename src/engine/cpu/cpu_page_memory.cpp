#include "engine/cpu/cpu_page_memory.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <string>

#include "util/error.h"

namespace hearth::engine::cpu {
namespace {

[[noreturn]] void fail(const std::string& what, ErrorKind kind = ErrorKind::internal) {
  throw Error("KV page memory: " + what + ": " + std::strerror(errno), kind);
}

}  // namespace

CpuPageMemory::CpuPageMemory() {
  const long page = sysconf(_SC_PAGESIZE);
  if (page > 0) granularity_ = static_cast<size_t>(page);
}

CpuPageMemory::~CpuPageMemory() {
  if (fd_ >= 0) close(fd_);
}

void CpuPageMemory::create_pages(size_t page_bytes, size_t count) {
  if (fd_ >= 0) throw Error("KV page memory: pages created twice", ErrorKind::internal);
  if (page_bytes == 0 || page_bytes % granularity_ != 0) {
    throw Error("KV page memory: page size " + std::to_string(page_bytes) + " is not a multiple of " + std::to_string(granularity_),
                ErrorKind::internal);
  }
  fd_ = memfd_create("hearth-kv-pages", MFD_CLOEXEC);
  if (fd_ < 0) fail("memfd_create");
  // Sparse: the size is address space, not memory; pages take memory when first written.
  if (ftruncate(fd_, static_cast<off_t>(page_bytes * count)) != 0) fail("ftruncate", ErrorKind::out_of_memory);
  page_bytes_ = page_bytes;
  count_ = count;
}

void* CpuPageMemory::reserve(size_t bytes) {
  void* p = mmap(nullptr, bytes, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
  if (p == MAP_FAILED) fail("reserving " + std::to_string(bytes) + " bytes of address space", ErrorKind::out_of_memory);
  return p;
}

void CpuPageMemory::unreserve(void* base, size_t bytes) {
  if (base) munmap(base, bytes);
}

void CpuPageMemory::map(void* at, size_t page) {
  if (page >= count_) throw Error("KV page memory: page " + std::to_string(page) + " does not exist", ErrorKind::internal);
  void* p = mmap(at, page_bytes_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd_, static_cast<off_t>(page * page_bytes_));
  if (p == MAP_FAILED) fail("mapping a page", ErrorKind::out_of_memory);
}

void CpuPageMemory::unmap(void* at) {
  // Back to an inaccessible reservation (munmap would give the address range away).
  void* p = mmap(at, page_bytes_, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED, -1, 0);
  if (p == MAP_FAILED) fail("unmapping a page");
}

void CpuPageMemory::discard(size_t page) {
  // Best effort: a file system without hole punching keeps the memory, which is only a cost.
  fallocate(fd_, FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE, static_cast<off_t>(page * page_bytes_),
            static_cast<off_t>(page_bytes_));
}

}  // namespace hearth::engine::cpu
