#pragma once
// engine/page_memory.h on the GPU: the CUDA driver's virtual memory management. Each page is one
// physical allocation (cuMemCreate; cuMemMap maps a whole allocation, at offset 0), mapped into ranges
// reserved with cuMemAddressReserve and made accessible to the device. The driver entry points are
// looked up through the runtime (cudaGetDriverEntryPointByVersion), so binaries do not link libcuda and
// still start on machines without a driver.
#include <cstddef>
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/page_memory.h"

namespace hearth::engine::cuda {

struct DriverVmm;  // the entry points (cuda_page_memory.cpp)

class CudaPageMemory final : public PageMemory {
 public:
  // `account` is told of every byte of physical memory created (+) and released (-).
  CudaPageMemory(int device, std::function<void(int64_t)> account);
  ~CudaPageMemory() override;
  CudaPageMemory(const CudaPageMemory&) = delete;
  CudaPageMemory& operator=(const CudaPageMemory&) = delete;

  size_t granularity() const override { return granularity_; }
  void create_pages(size_t page_bytes, size_t count) override;
  void* reserve(size_t bytes) override;
  void unreserve(void* base, size_t bytes) override;
  void map(void* at, size_t page) override;
  void unmap(void* at) override;

 private:
  const DriverVmm& vmm_;
  int device_;
  std::function<void(int64_t)> account_;
  size_t granularity_ = 0;
  size_t page_bytes_ = 0;
  std::vector<unsigned long long> handles_;  // CUmemGenericAllocationHandle per page
};

}  // namespace hearth::engine::cuda
