// Host helpers shared by the kernel launchers: WeightMatrix → DevWeight, the decoder choice, and the
// device properties the launchers size their grids with.
#include <cstdint>

#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/gemm/gemm.h"
#include "engine/cuda/matvec/matvec.h"

namespace hearth::engine::cuda {

DevWeight to_dev_weight(const WeightMatrix& w) {
  DevWeight d;
  d.data = static_cast<const uint8_t*>(w.data);
  d.scales = static_cast<const uint8_t*>(w.scales);
  d.biases = static_cast<const uint8_t*>(w.biases);
  d.rows = w.rows;
  d.cols = w.cols;
  d.row_bytes = static_cast<int64_t>(w.row_bytes());
  d.groups = static_cast<int32_t>(w.groups());
  d.group_size = w.group_size;
  d.bits = w.bits;
  d.format = static_cast<uint8_t>(w.format);
  d.dtype = static_cast<uint8_t>(w.dtype);
  return d;
}

Codec pick_codec(const WeightMatrix& w) {
  const bool aligned = (reinterpret_cast<uintptr_t>(w.data) % 16 == 0) && (w.row_bytes() % 16 == 0);
  if (w.cols % 32 != 0 || !aligned) return Codec::generic;
  switch (w.format) {
    case WeightFormat::dense: return w.dtype == DType::bf16 ? Codec::bf16 : Codec::generic;
    case WeightFormat::affine:
      if (w.group_size % 32 != 0) return Codec::generic;
      if (w.bits == 4) return Codec::affine4;
      if (w.bits == 8) return Codec::affine8;
      return Codec::generic;
    case WeightFormat::mxfp4:
    case WeightFormat::nvfp4: return (w.group_size % 16 == 0) ? Codec::fp4 : Codec::generic;
    default: return Codec::generic;
  }
}

const char* codec_name(Codec c) {
  switch (c) {
    case Codec::affine4: return "affine4";
    case Codec::affine8: return "affine8";
    case Codec::fp4: return "fp4";
    case Codec::bf16: return "bf16";
    case Codec::generic: return "generic";
  }
  return "?";
}

const DeviceInfo& device_info() {
  static const DeviceInfo info = [] {
    DeviceInfo i;
    int dev = 0;
    HEARTH_CUDA_CHECK(cudaGetDevice(&dev));
    HEARTH_CUDA_CHECK(cudaDeviceGetAttribute(&i.sm_count, cudaDevAttrMultiProcessorCount, dev));
    int smem = 0;
    HEARTH_CUDA_CHECK(cudaDeviceGetAttribute(&smem, cudaDevAttrMaxSharedMemoryPerBlockOptin, dev));
    i.max_smem_per_block = static_cast<size_t>(smem);
    return i;
  }();
  return info;
}

void launch_matmul(const MatmulLaunch& p, cudaStream_t stream) {
  if (p.n <= 0 || p.w.rows <= 0) return;
  if (p.n <= kMatvecMaxTokens) {
    launch_matvec(p, stream);
  } else {
    launch_gemm(p, stream);
  }
}

}  // namespace hearth::engine::cuda
