#pragma once
// Pieces shared by the GPU micro-benchmarks: their main() (cases registered at run time, names built
// from the shapes they time; without a device they say so and succeed) and their dummy weights.
#include <benchmark/benchmark.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>

#include "engine/cuda/cuda_ops.h"

namespace hearth::engine::cuda {

// An MLX affine matrix (bf16 scales and biases, group 64) of random contents on a backend made with
// CudaOptions::random_weights. place_weight() then never reads the host pointers, but it gives the
// device matrix biases only when the host matrix has them (an MLX affine matrix always does): without
// them the decode kernels read a null bias table.
inline WeightMatrix dummy_affine_weight(CudaOps& ops, int64_t rows, int64_t cols, int bits) {
  WeightMatrix host;
  host.format = WeightFormat::affine;
  host.dtype = DType::bf16;
  host.rows = rows;
  host.cols = cols;
  host.bits = bits;
  host.group_size = 64;
  static const uint8_t unread = 0;
  host.data = host.scales = host.biases = &unread;
  return ops.place_weight(host);
}

// Bytes one read of an affine matrix moves: packed codes plus bf16 scales and biases.
inline size_t affine_weight_bytes(const WeightMatrix& w) {
  return w.data_bytes() + 2 * w.scales_row_bytes() * static_cast<size_t>(w.rows);
}

inline int run_gpu_benchmarks(int argc, char** argv, void (*register_cases)()) {
  if (!device_available()) {
    std::printf("no CUDA device\n");
    return 0;
  }
  register_cases();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}

}  // namespace hearth::engine::cuda
