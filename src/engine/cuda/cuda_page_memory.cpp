#include "engine/cuda/cuda_page_memory.h"

#include <cuda.h>
#include <cuda_runtime_api.h>

#include <string>

#include "util/error.h"

namespace hearth::engine::cuda {

struct DriverVmm {
  CUresult (*get_granularity)(size_t*, const CUmemAllocationProp*, CUmemAllocationGranularity_flags) = nullptr;
  CUresult (*create)(CUmemGenericAllocationHandle*, size_t, const CUmemAllocationProp*, unsigned long long) = nullptr;
  CUresult (*release)(CUmemGenericAllocationHandle) = nullptr;
  CUresult (*address_reserve)(CUdeviceptr*, size_t, size_t, CUdeviceptr, unsigned long long) = nullptr;
  CUresult (*address_free)(CUdeviceptr, size_t) = nullptr;
  CUresult (*map)(CUdeviceptr, size_t, size_t, CUmemGenericAllocationHandle, unsigned long long) = nullptr;
  CUresult (*unmap)(CUdeviceptr, size_t) = nullptr;
  CUresult (*set_access)(CUdeviceptr, size_t, const CUmemAccessDesc*, size_t) = nullptr;
};

namespace {

template <class Fn>
void lookup(const char* symbol, Fn& fn) {
  void* p = nullptr;
  cudaDriverEntryPointQueryResult found{};
  if (cudaGetDriverEntryPointByVersion(symbol, &p, 12000, cudaEnableDefault, &found) != cudaSuccess ||
      found != cudaDriverEntryPointSuccess || !p) {
    cudaGetLastError();
    throw Error(std::string("the CUDA driver lacks ") + symbol + " (virtual memory management, CUDA 10.2+)", ErrorKind::unsupported);
  }
  fn = reinterpret_cast<Fn>(p);
}

const DriverVmm& driver_vmm() {
  static const DriverVmm vmm = [] {
    DriverVmm v;
    lookup("cuMemGetAllocationGranularity", v.get_granularity);
    lookup("cuMemCreate", v.create);
    lookup("cuMemRelease", v.release);
    lookup("cuMemAddressReserve", v.address_reserve);
    lookup("cuMemAddressFree", v.address_free);
    lookup("cuMemMap", v.map);
    lookup("cuMemUnmap", v.unmap);
    lookup("cuMemSetAccess", v.set_access);
    return v;
  }();
  return vmm;
}

void check(CUresult result, const char* what, ErrorKind kind = ErrorKind::internal) {
  if (result != CUDA_SUCCESS) throw Error(std::string("CUDA KV page memory: ") + what + " failed (CUresult " + std::to_string(result) + ")", kind);
}

CUmemAllocationProp device_pages(int device) {
  CUmemAllocationProp prop{};
  prop.type = CU_MEM_ALLOCATION_TYPE_PINNED;
  prop.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  prop.location.id = device;
  return prop;
}

}  // namespace

CudaPageMemory::CudaPageMemory(int device, std::function<void(int64_t)> account)
    : vmm_(driver_vmm()), device_(device), account_(std::move(account)) {
  const CUmemAllocationProp prop = device_pages(device_);
  check(vmm_.get_granularity(&granularity_, &prop, CU_MEM_ALLOC_GRANULARITY_MINIMUM), "cuMemGetAllocationGranularity");
}

CudaPageMemory::~CudaPageMemory() {
  for (unsigned long long h : handles_) vmm_.release(static_cast<CUmemGenericAllocationHandle>(h));
  if (account_) account_(-static_cast<int64_t>(page_bytes_ * handles_.size()));
}

void CudaPageMemory::create_pages(size_t page_bytes, size_t count) {
  if (!handles_.empty() || page_bytes_ != 0) throw Error("CUDA KV page memory: pages created twice", ErrorKind::internal);
  if (page_bytes == 0 || page_bytes % granularity_ != 0) throw Error("CUDA KV page memory: page size not a granularity multiple", ErrorKind::internal);
  page_bytes_ = page_bytes;
  const CUmemAllocationProp prop = device_pages(device_);
  handles_.reserve(count);
  for (size_t i = 0; i < count; ++i) {
    CUmemGenericAllocationHandle h{};
    const CUresult r = vmm_.create(&h, page_bytes, &prop, 0);
    if (r != CUDA_SUCCESS) {
      throw Error("GPU out of memory for the KV cache: " + std::to_string(i) + " of " + std::to_string(count) + " pages of " +
                      std::to_string(page_bytes >> 20) + " MiB made. Use a smaller --max-context, fewer --parallel slots or a smaller --kv-cache",
                  ErrorKind::out_of_memory);
    }
    handles_.push_back(static_cast<unsigned long long>(h));
    if (account_) account_(static_cast<int64_t>(page_bytes));
  }
}

void* CudaPageMemory::reserve(size_t bytes) {
  CUdeviceptr p = 0;
  check(vmm_.address_reserve(&p, bytes, granularity_, 0, 0), "cuMemAddressReserve", ErrorKind::out_of_memory);
  return reinterpret_cast<void*>(p);
}

void CudaPageMemory::unreserve(void* base, size_t bytes) {
  if (base) vmm_.address_free(reinterpret_cast<CUdeviceptr>(base), bytes);
}

void CudaPageMemory::map(void* at, size_t page) {
  if (page >= handles_.size()) throw Error("CUDA KV page memory: page " + std::to_string(page) + " does not exist", ErrorKind::internal);
  const auto ptr = reinterpret_cast<CUdeviceptr>(at);
  check(vmm_.map(ptr, page_bytes_, 0, static_cast<CUmemGenericAllocationHandle>(handles_[page]), 0), "cuMemMap");
  CUmemAccessDesc access{};
  access.location.type = CU_MEM_LOCATION_TYPE_DEVICE;
  access.location.id = device_;
  access.flags = CU_MEM_ACCESS_FLAGS_PROT_READWRITE;
  check(vmm_.set_access(ptr, page_bytes_, &access, 1), "cuMemSetAccess");
}

void CudaPageMemory::unmap(void* at) { check(vmm_.unmap(reinterpret_cast<CUdeviceptr>(at), page_bytes_), "cuMemUnmap"); }

}  // namespace hearth::engine::cuda
