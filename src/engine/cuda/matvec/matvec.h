#pragma once
// Launchers of the decode matrix-vector family (1..kMatvecMaxTokens tokens). launch_matvec_jobs picks
// among the variants of matvec_variants.h per weight format (see engine/cuda/README.md).
#include <cuda_runtime_api.h>

#include <cstdint>

#include "engine/cuda/common/types.h"

namespace hearth::engine::cuda {

// y (=|+=) x · Wᵀ for one matrix, n <= kMatvecMaxTokens (launch_matmul's decode half).
void launch_matvec(const MatmulLaunch& p, cudaStream_t stream);

// One matrix of a fused launch: y (=|+=) x̂ · Wᵀ. Accumulating into the residual stream is how a
// projection's residual add is fused (each y element is written by exactly one thread: deterministic).
struct MatvecJob {
  WeightMatrix w;  // device pointers; w.cols == StageInput::cols
  float* y = nullptr;
  int64_t y_stride = 0;
  bool accumulate = false;
};
constexpr int kMaxMatvecJobs = 8;
// Every job in ONE kernel launch (e.g. the four Gated DeltaNet input projections, or q/k/v), all
// reading the same transformed input. jobs.size() in [1, kMaxMatvecJobs].
void launch_matvec_jobs(const StageInput& in, const MatvecJob* jobs, int job_count, cudaStream_t stream);

}  // namespace hearth::engine::cuda
