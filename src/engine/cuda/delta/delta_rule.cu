// Gated DeltaNet: the delta rule over n tokens, continuing each value head's Dk × Dv float32 state.
// The state stays in registers for the whole call: thread (column j, part p) holds rows
// [p·Dk/4, (p+1)·Dk/4) of column j, so a block of 128 threads owns 32 columns of one head, and the
// two reductions over Dk per token (Sᵀk and Sᵀq) are two lane shuffles. Per token:
//   S *= exp(g);  delta = beta · (v − Sᵀk);  S += k deltaᵀ;  o = Sᵀq   (q, k L2-normalised, q · Dk^-½)
// Decode reads and writes the state once (Dk·Dv·4·2 bytes per head). Prefill (n >= 16 tokens) of the
// shapes delta_chunked.cu covers (Dk = Dv = 128) goes to the chunked kernels instead; this recurrence
// stays for decode, short runs and the other head sizes.
#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/delta/delta.h"

namespace hearth::engine::cuda {
namespace {

constexpr int kParts = 4;
constexpr int kColumnsPerBlock = 32;
constexpr int kThreads = kColumnsPerBlock * kParts;
constexpr float kNormEps = 1e-6f;

// grid (ceil(dv / 32), v_heads), 128 threads.
template <int DK>
__global__ void __launch_bounds__(kThreads) kernel_delta_rule(const DeltaRuleLaunch p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  constexpr int kRows = DK / kParts;
  constexpr int kPad = kRows + 1;  // parts read different banks
  __shared__ float ks[kParts * kPad];
  __shared__ float qs[kParts * kPad];
  __shared__ float norms[2];
  const int tid = threadIdx.x, warp = tid >> 5, lane = tid & 31;
  const int h = blockIdx.y;
  const int kh = h / (p.v_heads / p.k_heads);
  const int col = blockIdx.x * kColumnsPerBlock + warp * 8 + (lane >> 2);
  const int part = lane & 3;
  const bool active = col < p.dv;
  float* state = p.state + static_cast<int64_t>(h) * DK * p.dv;

  float S[kRows];
#pragma unroll
  for (int i = 0; i < kRows; ++i) S[i] = active ? state[static_cast<int64_t>(part * kRows + i) * p.dv + col] : 0.0f;

  for (int64_t t = 0; t < p.n; ++t) {
    if (tid < DK) {
      const int slot = (tid / kRows) * kPad + tid % kRows;
      ks[slot] = p.k[t * p.k_stride + static_cast<int64_t>(kh) * DK + tid];
      qs[slot] = p.q[t * p.q_stride + static_cast<int64_t>(kh) * DK + tid];
    }
    __syncthreads();
    if (warp == 0) {
      float sk = 0.0f, sq = 0.0f;
      for (int i = lane; i < DK; i += 32) {
        const int slot = (i / kRows) * kPad + i % kRows;
        sk = fmaf(ks[slot], ks[slot], sk);
        sq = fmaf(qs[slot], qs[slot], sq);
      }
      sk = warp_sum(sk);
      sq = warp_sum(sq);
      if (lane == 0) {
        norms[0] = rsqrtf(sk + kNormEps);
        norms[1] = rsqrtf(sq + kNormEps) * rsqrtf(static_cast<float>(DK));
      }
    }
    __syncthreads();
    const float inv_k = norms[0], inv_q = norms[1];
    const float decay = expf(p.g[t * p.g_stride + h]);
    const float beta = p.beta[t * p.beta_stride + h];
    const float vt = active ? p.v[t * p.v_stride + static_cast<int64_t>(h) * p.dv + col] : 0.0f;
    const float* kp = ks + part * kPad;
    const float* qp = qs + part * kPad;

    float kv0 = 0.0f, kv1 = 0.0f;
#pragma unroll
    for (int i = 0; i < kRows; i += 2) {
      S[i] *= decay;
      S[i + 1] *= decay;
      kv0 = fmaf(S[i], kp[i], kv0);
      kv1 = fmaf(S[i + 1], kp[i + 1], kv1);
    }
    float kv = (kv0 + kv1) * inv_k;
    kv += __shfl_xor_sync(0xffffffffu, kv, 1);
    kv += __shfl_xor_sync(0xffffffffu, kv, 2);
    const float delta = beta * (vt - kv) * inv_k;  // folds k's normalisation into the update
    float o0 = 0.0f, o1 = 0.0f;
#pragma unroll
    for (int i = 0; i < kRows; i += 2) {
      S[i] = fmaf(kp[i], delta, S[i]);
      S[i + 1] = fmaf(kp[i + 1], delta, S[i + 1]);
      o0 = fmaf(S[i], qp[i], o0);
      o1 = fmaf(S[i + 1], qp[i + 1], o1);
    }
    float o = (o0 + o1) * inv_q;
    o += __shfl_xor_sync(0xffffffffu, o, 1);
    o += __shfl_xor_sync(0xffffffffu, o, 2);
    if (part == 0 && active) p.out[t * p.out_stride + static_cast<int64_t>(h) * p.dv + col] = o;
    __syncthreads();  // ks/qs are rewritten for the next token
  }
#pragma unroll
  for (int i = 0; i < kRows; ++i)
    if (active) state[static_cast<int64_t>(part * kRows + i) * p.dv + col] = S[i];
}

}  // namespace

void launch_delta_rule(const DeltaRuleLaunch& p, cudaStream_t stream) {
  if (p.n <= 0) return;
  if (p.k_heads <= 0 || p.v_heads % p.k_heads != 0)
    throw Error("CUDA delta rule: v_heads must be a multiple of k_heads", ErrorKind::unsupported);
  if (p.n >= kDeltaChunkedMinTokens && delta_chunked_supports(p)) {
    launch_delta_rule_chunked(p, nullptr, stream);
    return;
  }
  launch_delta_rule_recurrent(p, stream);
}

void launch_delta_rule_recurrent(const DeltaRuleLaunch& p, cudaStream_t stream) {
  if (p.n <= 0) return;
  if (p.k_heads <= 0 || p.v_heads % p.k_heads != 0)
    throw Error("CUDA delta rule: v_heads must be a multiple of k_heads", ErrorKind::unsupported);
  const dim3 grid(static_cast<unsigned>((p.dv + kColumnsPerBlock - 1) / kColumnsPerBlock),
                  static_cast<unsigned>(p.v_heads));
  switch (p.dk) {
    case 16: launch_pdl(kernel_delta_rule<16>, grid, kThreads, 0, stream, p); break;
    case 32: launch_pdl(kernel_delta_rule<32>, grid, kThreads, 0, stream, p); break;
    case 64: launch_pdl(kernel_delta_rule<64>, grid, kThreads, 0, stream, p); break;
    case 128: launch_pdl(kernel_delta_rule<128>, grid, kThreads, 0, stream, p); break;
    default:
      throw Error("CUDA delta rule: key head dim " + std::to_string(p.dk) + " not supported (16, 32, 64, 128)",
                  ErrorKind::unsupported);
  }
  HEARTH_CUDA_LAUNCH_CHECK();
}

}  // namespace hearth::engine::cuda
