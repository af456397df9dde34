// launch_matvec_jobs (matvec.h): several matrices over one transformed input. The jobs the streaming
// kernel (matvec_stream.cu) or the tensor-core kernel (matvec_tc.cu) covers share one launch per kernel
// (per bit width for the streaming kernel; matvec_prefers_stream picks between them); any other job (bf16, fp4,
// other bit widths, which no Qwen3.5/3.6 decode step stores) takes a second, simple launch per job that
// applies the same transform on the fly: correct everywhere, not tuned.
#include <algorithm>
#include <string>
#include <vector>

#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/common/stage_input.cuh"
#include "engine/cuda/matvec/matvec.h"
#include "engine/cuda/matvec/matvec_check.h"
#include "engine/cuda/matvec/matvec_variants.h"
#include "util/error.h"

namespace hearth::engine::cuda {
namespace {

constexpr int kFallbackThreads = 256;
constexpr int kFallbackRowsPerBlock = kFallbackThreads / 32;  // one warp per row

struct FallbackParams {
  StageInput in;
  DevWeight w;
  float* y;
  int64_t y_stride;
  int accumulate;
};

// y[t][r] (=|+=) Σ_j x̂[t][j] · W[r][j], one warp per row, every element decoded on its own.
__global__ void __launch_bounds__(kFallbackThreads) kernel_matvec_staged_generic(const FallbackParams p) {
  pdl_begin();
  __shared__ float inv_rms[kMatvecMaxTokens];
  stage_input_prepare(p.in, inv_rms);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t r = static_cast<int64_t>(blockIdx.x) * kFallbackRowsPerBlock + warp;
  if (r >= p.w.rows) return;
  float acc[kMatvecMaxTokens] = {};
  for (int64_t j = lane; j < p.w.cols; j += 32) {
    const float wv = dev_weight_element(p.w, r, j);
#pragma unroll
    for (int t = 0; t < kMatvecMaxTokens; ++t)
      if (t < p.in.n) acc[t] = fmaf(wv, stage_input_value(p.in, inv_rms, t, j), acc[t]);
  }
#pragma unroll
  for (int t = 0; t < kMatvecMaxTokens; ++t) {
    if (t >= p.in.n) break;
    const float v = warp_sum(acc[t]);
    if (lane == 0) {
      float* dst = p.y + t * p.y_stride + r;
      *dst = p.accumulate ? *dst + v : v;
    }
  }
}

}  // namespace

void launch_matvec_jobs(const StageInput& in, const MatvecJob* jobs, int job_count, cudaStream_t stream) {
  if (job_count < 1 || job_count > kMaxMatvecJobs)
    throw Error("launch_matvec_jobs: " + std::to_string(job_count) + " jobs (1 to 8 allowed)");
  if (in.n < 1 || in.n > kMatvecMaxTokens)
    throw Error("launch_matvec_jobs: " + std::to_string(in.n) + " tokens (1 to 8 allowed)");
  if (in.transform == StageTransform::rms_norm && in.norm_weight == nullptr) throw Error("launch_matvec_jobs: rms_norm without weight");
  if (in.transform == StageTransform::swiglu && in.up == nullptr) throw Error("launch_matvec_jobs: swiglu without up");
  // The streaming or the tensor-core kernel by token count and size (matvec_prefers_stream); a job only
  // the other one covers (affine group 32: streaming only) goes to that one.
  int64_t weights = 0;
  for (int j = 0; j < job_count; ++j) {
    if (jobs[j].w.cols != in.cols)
      throw Error("launch_matvec_jobs: job " + std::to_string(j) + " has " + std::to_string(jobs[j].w.cols) +
                  " columns, the input " + std::to_string(in.cols));
    check_matvec_weight(jobs[j].w, "launch_matvec_jobs");
    weights += jobs[j].w.rows * jobs[j].w.cols;
  }
  const bool prefer_stream = matvec_prefers_stream(in.n, weights);
  MatvecJob streamed[kMaxMatvecJobs], tensor[kMaxMatvecJobs];
  int streamed_count = 0, tensor_count = 0;
  std::vector<bool> covered(static_cast<size_t>(job_count), true);
  for (int j = 0; j < job_count; ++j) {
    const bool st = matvec_stream_covers(jobs[j].w), tc = matvec_tc_covers(jobs[j].w);
    if (st && (prefer_stream || !tc)) {
      streamed[streamed_count++] = jobs[j];
    } else if (tc) {
      tensor[tensor_count++] = jobs[j];
    } else {
      covered[static_cast<size_t>(j)] = false;
    }
  }
  if (streamed_count > 0) launch_matvec_stream(in, streamed, streamed_count, stream);
  if (tensor_count > 0) launch_matvec_tc(in, tensor, tensor_count, stream);
  for (int j = 0; j < job_count; ++j) {
    if (covered[static_cast<size_t>(j)] || jobs[j].w.rows == 0) continue;
    FallbackParams p;
    p.in = in;
    p.w = to_dev_weight(jobs[j].w);
    p.y = jobs[j].y;
    p.y_stride = jobs[j].y_stride;
    p.accumulate = jobs[j].accumulate ? 1 : 0;
    const int64_t blocks = (p.w.rows + kFallbackRowsPerBlock - 1) / kFallbackRowsPerBlock;
    launch_pdl(kernel_matvec_staged_generic, static_cast<int>(blocks), kFallbackThreads, 0, stream, p);
    HEARTH_CUDA_LAUNCH_CHECK();
  }
}

}  // namespace hearth::engine::cuda
