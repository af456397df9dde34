#pragma once
// The decode matrix-vector paths behind launch_matvec / launch_matvec_jobs (matvec.h), exposed for the
// tests and the micro-benchmark, which compare the two kernels on the same weights.
#include <cuda_runtime_api.h>

#include "engine/cuda/matvec/matvec.h"

namespace hearth::engine::cuda {

// True when the tensor-core kernel (matvec_tc.cu) handles `w`: MLX affine 4- or 8-bit, group 64 or 128,
// columns a multiple of 64 and of the group, 16-byte aligned data, f32/f16/bf16 scales and biases.
bool matvec_tc_covers(const WeightMatrix& w);

// Every job through the tensor-core kernel in ONE launch (all must be covered; in.n <= 8 tokens,
// job_count <= kMaxMatvecJobs). Float32-faithful: codes are exact in fp16 and the input is split into
// fp16 hi + lo parts (about 2^-22 relative) under a power-of-two scale per token.
void launch_matvec_tc(const StageInput& in, const MatvecJob* jobs, int job_count, cudaStream_t stream);

// The streaming CUDA-core kernel (matvec_stream.cu): affine 4-/8-bit, groups of 32/64/128, 16-byte
// aligned rows. Float32 throughout; about 3.4 instructions per 4-bit weight, so one token streams W at
// close to the HBM rate. Jobs of both bit widths may be mixed (one launch per width).
bool matvec_stream_covers(const WeightMatrix& w);
void launch_matvec_stream(const StageInput& in, const MatvecJob* jobs, int job_count, cudaStream_t stream);
// Whether launch_matvec / launch_matvec_jobs prefer the streaming kernel for `n` tokens over matrices of
// `weights` elements in all (Σ rows·cols of the launch): measured on H200, it wins at 1 and 2 tokens on
// every model shape and at 8 tokens up to [8192, 2048]; the tensor-core kernel (one mma does 8 tokens'
// products) wins at 8 tokens on the 27B shapes ([17408, 5120]: 165 µs against 279).
bool matvec_prefers_stream(int64_t n, int64_t weights);

// The CUDA-core kernel (matvec.cu) for any format: launch_matvec's path for what the tensor-core kernel
// does not cover.
void launch_matvec_cuda_core(const MatmulLaunch& p, cudaStream_t stream);

}  // namespace hearth::engine::cuda
