#pragma once
// An owned allocation in a backend's memory (engine/ops.h), released when it goes out of scope.
#include <cstddef>
#include <utility>

#include "engine/ops.h"

namespace hearth::engine {

class DeviceBuffer {
 public:
  DeviceBuffer() = default;
  DeviceBuffer(Ops& ops, size_t bytes) : ops_(&ops), bytes_(bytes), ptr_(bytes ? ops.alloc(bytes) : nullptr) {}
  ~DeviceBuffer() { reset(); }
  DeviceBuffer(DeviceBuffer&& o) noexcept { *this = std::move(o); }
  DeviceBuffer& operator=(DeviceBuffer&& o) noexcept {
    if (this != &o) {
      reset();
      ops_ = std::exchange(o.ops_, nullptr);
      bytes_ = std::exchange(o.bytes_, 0);
      ptr_ = std::exchange(o.ptr_, nullptr);
    }
    return *this;
  }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;

  void reset() {
    if (ptr_) ops_->release(ptr_);
    ptr_ = nullptr;
    bytes_ = 0;
  }
  void* get() const { return ptr_; }
  float* floats() const { return static_cast<float*>(ptr_); }
  size_t bytes() const { return bytes_; }
  // A [rows, cols] contiguous float view of the start of the buffer.
  Tensor tensor(int64_t rows, int64_t cols) const { return Tensor::contiguous(floats(), rows, cols); }

 private:
  Ops* ops_ = nullptr;
  size_t bytes_ = 0;
  void* ptr_ = nullptr;
};

}  // namespace hearth::engine
