// Streaming matrix-vector products for decode (1..8 tokens) over MLX affine 4-/8-bit weights, on CUDA
// cores, up to kMaxMatvecJobs matrices sharing one staged input per launch.
//
// Structure (issue 5, brief H7): a warp takes R rows of one job at a time; lane l reads chunks
// l, l + 32, … of each row (a warp's 16-byte loads cover 512 contiguous bytes), R × chunk slots = 8
// loads in flight per lane, all issued before any arithmetic. No block barrier in the main loop: the
// row sums are warp shuffles. A persistent grid (as many blocks as fit on the SMs) stages the input
// ONCE per block: x̂ (after the StageInput transform) as float in shared memory, swizzled like
// matvec_common.cuh, plus Σx̂ per 32-column chunk.
//
// Fewer instructions per weight: a chunk lies in one quantisation group (group size a multiple of
// 32), so its scale s and bias b leave the inner loop:
//   Σ_e (s·q_e + b)·x_e = s·Σ_e q_e·x_e + b·Σ_e x_e
// with Σ q·x in float32 (q exact: 2^23 + q assembled by one byte permute, then one exact subtraction)
// and Σx from staging: PRMT + FADD + FFMA per 4-bit weight in the inner loop (SASS counted on H200).
// Float32-faithful: every product and sum is float32; sums run in a fixed order (deterministic).
//
// Measured (H200, engine_cuda_matvec_bench, graph-replayed, one token): the plain kernel issued 0.42
// instructions per cycle and scheduler with 55% of its stalls on global loads (ncu), ~1.1 TB/s on
// lm_head; the software-pipelined single-token kernel (kernel_matvec_stream_pipe, next round's loads
// issued before the current round's arithmetic) reaches 1.6 TB/s there. Still far from HBM: the
// 64-bit index arithmetic (IMAD/ISETP/LEA around every load) roughly doubles the instructions per
// weight, and 16 warps per SM are few. Brief H12: for one-row groups the pipelined kernel resolves a
// group's pointers once and then works in 32-bit offsets, with the input staged lane-major so that every
// shared load is one register plus an immediate (8-17% faster on the 27B shapes on H100; see pick_pipe).
#include <algorithm>
#include <mutex>
#include <string>
#include <unordered_map>

#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/common/matvec_common.cuh"
#include "engine/cuda/matvec/matvec_stream_layout.h"
#include "engine/cuda/matvec/matvec_variants.h"
#include "engine/cuda/common/smem_attr.h"
#include "engine/cuda/common/stage_input.cuh"
#include "util/error.h"

namespace hearth::engine::cuda {
namespace {

using stream::kThreads;
using stream::kWarps;

struct StreamJob {
  DevWeight w;
  float* y;
  int64_t y_stride;
  int64_t group_begin;  // first row group of this job in the launch-wide numbering
  int accumulate;
  int group_shift;  // chunk index >> group_shift = group index (group_size = 32 << group_shift)
};

struct StreamParams {
  StageInput in;
  StreamJob jobs[kMaxMatvecJobs];
  int job_count;
  int64_t total_groups;
  int64_t chunk_begin;  // first chunk (32 columns) of this slice
  int64_t chunk_count;  // chunks in this slice
  int add_to_y;         // a later slice: add into y whatever the job's accumulate flag
};

__device__ __forceinline__ int job_of_group(const StreamParams& p, int64_t g) {
  int j = 0;
#pragma unroll
  for (int i = 1; i < kMaxMatvecJobs; ++i)
    if (i < p.job_count && g >= p.jobs[i].group_begin) j = i;
  return j;
}

__device__ __forceinline__ uint4 load_stream(const uint4* ptr) {
  uint4 v;
  asm volatile("ld.global.nc.L1::no_allocate.v4.u32 {%0,%1,%2,%3}, [%4];"
               : "=r"(v.x), "=r"(v.y), "=r"(v.z), "=r"(v.w)
               : "l"(ptr));
  return v;
}

__device__ __forceinline__ void prefetch_l2(const void* ptr) { asm volatile("prefetch.global.L2 [%0];" ::"l"(ptr)); }

// Stages chunks [chunk_begin, chunk_begin + chunk_count) of x̂ for every token: xs in staged_slot
// order (token t at t·count·8), xsum[t·count + c] = Σ of the chunk's 32 values. Groups of 8 threads
// take one chunk (blockDim and the total are multiples of 8), so each chunk sums by three shuffles.
// kLaneMajor (the single-token kernel): slot stream::lane_major_slot instead of staged_slot.
template <bool kLaneMajor = false>
__device__ __forceinline__ void stage_slice(const StreamParams& p, const float* inv_rms, float4* xs, float* xsum) {
  const int n = static_cast<int>(p.in.n);
  const int count = static_cast<int>(p.chunk_count);
  const int per = count * 8, total = n * per;
  for (int base = 0; base < total; base += kThreads) {
    const int i = base + static_cast<int>(threadIdx.x);
    const bool ok = i < total;
    float4 f = make_float4(0.0f, 0.0f, 0.0f, 0.0f);
    int t = 0, c = 0, e4 = 0;
    if (ok) {
      t = i / per;
      const int rem = i - t * per;
      c = rem >> 3;
      e4 = rem & 7;
      const int64_t col = (p.chunk_begin + c) * 32 + e4 * 4;
      f.x = stage_input_value(p.in, inv_rms, t, col);
      f.y = stage_input_value(p.in, inv_rms, t, col + 1);
      f.z = stage_input_value(p.in, inv_rms, t, col + 2);
      f.w = stage_input_value(p.in, inv_rms, t, col + 3);
      xs[t * per + (kLaneMajor ? stream::lane_major_slot(c, e4) : staged_slot(c, e4))] = f;
    }
    const float s = chunk_sum8(f);
    if (ok && e4 == 0) xsum[t * count + c] = s;
  }
}

__device__ __forceinline__ float load_group_value(const uint8_t* base, int64_t g, uint32_t dtype) {
  return dev_load_float(base, g, dtype);
}

// BITS: 4 or 8; NT: token capacity (n <= NT at run time); R: rows per warp.
template <int BITS, int NT, int R>
__global__ void __launch_bounds__(kThreads, 2) kernel_matvec_stream(const StreamParams p) {
  constexpr int LPC = BITS / 4;                          // 16-byte loads per chunk
  constexpr int CH = stream::kLoadsPerLane / (R * LPC);  // chunk slots per lane and row per round
  static_assert(CH >= 1, "too many rows per warp");
  extern __shared__ float4 smem[];
  __shared__ float inv_rms[kMatvecMaxTokens];
  const int n = static_cast<int>(p.in.n);
  const int64_t cc = p.chunk_count;
  float4* xs = smem;
  float* xsum = reinterpret_cast<float*>(smem + static_cast<int64_t>(n) * cc * 8);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t warps_total = static_cast<int64_t>(gridDim.x) * kWarps;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kWarps + warp;

  // Weights are never written inside a decode step: pulling the first group's bytes toward L2 may
  // start before the dependency wait (L2 is the point of coherence, so nothing stale can be read).
  if (first < p.total_groups) {
    const StreamJob& job = p.jobs[job_of_group(p, first)];
    const int64_t row0 = (first - job.group_begin) * R;
#pragma unroll
    for (int r = 0; r < R; ++r)
      if (row0 + r < job.w.rows && lane < cc)
        prefetch_l2(job.w.data + (row0 + r) * job.w.row_bytes + (p.chunk_begin + lane) * 16 * LPC);
  }
  pdl_begin();
  stage_input_prepare(p.in, inv_rms);
  stage_slice(p, inv_rms, xs, xsum);
  __syncthreads();

  for (int64_t grp = first; grp < p.total_groups; grp += warps_total) {
    const int j = job_of_group(p, grp);
    const StreamJob& job = p.jobs[j];
    const DevWeight& w = job.w;
    const int64_t row0 = (grp - job.group_begin) * R;
    float acc[R][NT];
#pragma unroll
    for (int r = 0; r < R; ++r)
#pragma unroll
      for (int t = 0; t < NT; ++t) acc[r][t] = 0.0f;

    for (int64_t cb = 0; cb < cc; cb += 32 * CH) {
      uint4 q[R][CH][LPC];
      float sc[R][CH], bi[R][CH];
      // Every load of the round first, then the arithmetic.
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const int64_t row = row0 + r;
        const bool row_ok = row < w.rows;
        const uint4* rp = reinterpret_cast<const uint4*>(w.data + (row_ok ? row : 0) * w.row_bytes) + p.chunk_begin * LPC;
#pragma unroll
        for (int k = 0; k < CH; ++k) {
          const int64_t c = cb + lane + 32 * k;
          const bool ok = row_ok && c < cc;
#pragma unroll
          for (int h = 0; h < LPC; ++h) q[r][k][h] = ok ? load_stream(rp + c * LPC + h) : make_uint4(0, 0, 0, 0);
          const int64_t g = (row_ok ? row : 0) * w.groups + ((p.chunk_begin + c) >> job.group_shift);
          sc[r][k] = ok ? load_group_value(w.scales, g, w.dtype) : 0.0f;
          bi[r][k] = ok ? load_group_value(w.biases, g, w.dtype) : 0.0f;
        }
      }
#pragma unroll
      for (int k = 0; k < CH; ++k) {
        const int64_t c = cb + lane + 32 * k;
        if (c >= cc) continue;
#pragma unroll
        for (int r = 0; r < R; ++r) {
#pragma unroll
          for (int t = 0; t < NT; ++t) {
            if (t >= n) break;
            const float d = chunk_code_dot<BITS>(q[r][k], xs + static_cast<int64_t>(t) * cc * 8, c);
            acc[r][t] = fmaf(sc[r][k], d, acc[r][t]);
            acc[r][t] = fmaf(bi[r][k], xsum[t * cc + c], acc[r][t]);
          }
        }
      }
    }
#pragma unroll
    for (int r = 0; r < R; ++r) {
      const int64_t row = row0 + r;
#pragma unroll
      for (int t = 0; t < NT; ++t) {
        if (t >= n) break;  // warp-uniform
        const float v = warp_sum(acc[r][t]);
        if (lane == 0 && row < w.rows) {
          float* dst = job.y + t * job.y_stride + row;
          *dst = (job.accumulate || p.add_to_y) ? *dst + v : v;
        }
      }
    }
  }
}

// One token, bf16 scales (the models' format), software-pipelined: a warp issues the loads of its next
// round (R rows × CH chunk slots) before it computes the current one, so its loads stay in flight while
// it does arithmetic. (The plain kernel above waits for each round's loads with nothing else in
// flight: on H200 it issued 0.42 instructions per cycle and scheduler, 55% of its stalls on global loads.)
template <int BITS, int R, int CH>
struct StreamRound {
  uint4 q[R][CH][BITS / 4];
  uint32_t sb[R][CH];  // the chunk's group: bf16 scale in the low half, bf16 bias in the high half
};

// Where a warp's loads of one row group come from, resolved once per group (not per round): per row a
// pointer to this lane's first 16-byte code word of the slice and to the row's bf16 scales and biases.
// Within the group every offset is a 32-bit chunk count (the slice has at most kStageBudget / 132
// chunks), so the per-round address arithmetic is 32-bit adds and immediates.
// The group's rows are consecutive: one base pointer each for codes, scales and biases plus the
// row strides, rather than three pointers per row (registers are tight at three blocks per SM).
struct StreamRows {
  const uint4* q;  // row 0's first code word of this lane in the slice
  const unsigned short* s;
  const unsigned short* b;
  int q_stride;     // uint4 words per row
  int sb_stride;    // groups per row
  uint32_t row_ok;  // bit r: row r exists
  int shift;        // chunk index >> shift = group index
};

template <int BITS, int R>
__device__ __forceinline__ void resolve_rows(const StreamParams& p, int64_t grp, int lane, StreamRows& rows) {
  constexpr int LPC = BITS / 4;
  const StreamJob& job = p.jobs[job_of_group(p, grp)];
  const DevWeight& w = job.w;
  const int64_t row0 = (grp - job.group_begin) * R;
  rows.row_ok = 0;
#pragma unroll
  for (int r = 0; r < R; ++r) rows.row_ok |= row0 + r < w.rows ? (1u << r) : 0u;
  rows.shift = job.group_shift;
  rows.q_stride = static_cast<int>(w.row_bytes / 16);
  rows.sb_stride = static_cast<int>(w.groups);
  rows.q = reinterpret_cast<const uint4*>(w.data + row0 * w.row_bytes) + (p.chunk_begin + lane) * LPC;
  rows.s = reinterpret_cast<const unsigned short*>(w.scales) + row0 * w.groups;
  rows.b = reinterpret_cast<const unsigned short*>(w.biases) + row0 * w.groups;
}

// Loads round `cb` (chunks cb + lane + 32k of each row) of the resolved group; idle slots load nothing
// and get zero codes and a zero scale and bias (never used: their chunk is skipped or row not written).
template <int BITS, int R, int CH>
__device__ __forceinline__ void load_round(const StreamRows& rows, int cb, int lane, int cc, int lane_chunk,
                                           StreamRound<BITS, R, CH>& b) {
  constexpr int LPC = BITS / 4;
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const uint4* rp = rows.q + (r * rows.q_stride + cb * LPC);
#pragma unroll
    for (int k = 0; k < CH; ++k) {
      const bool ok = ((rows.row_ok >> r) & 1u) && cb + lane + 32 * k < cc;
      if (ok) {
#pragma unroll
        for (int h = 0; h < LPC; ++h) b.q[r][k][h] = load_stream(rp + 32 * k * LPC + h);
        const int g = r * rows.sb_stride + ((lane_chunk + cb + 32 * k) >> rows.shift);
        b.sb[r][k] = static_cast<uint32_t>(__ldg(rows.s + g)) | (static_cast<uint32_t>(__ldg(rows.b + g)) << 16);
      } else {
#pragma unroll
        for (int h = 0; h < LPC; ++h) b.q[r][k][h] = make_uint4(0, 0, 0, 0);
        b.sb[r][k] = 0u;
      }
    }
  }
}

__device__ __forceinline__ float4 lds128(uint32_t addr) {
  float4 v;
  asm("ld.shared.v4.f32 {%0,%1,%2,%3}, [%4];" : "=f"(v.x), "=f"(v.y), "=f"(v.z), "=f"(v.w) : "r"(addr));
  return v;
}
__device__ __forceinline__ float lds32(uint32_t addr) {
  float v;
  asm("ld.shared.f32 %0, [%1];" : "=f"(v) : "r"(addr));
  return v;
}

// chunk_code_dot (matvec_common.cuh) over the lane-major staging (stream::lane_major_slot): x0 is the
// 32-bit shared address of the chunk's slot for e4 = 0, slot e4 lies 32 float4 (512 bytes) further, so
// every shared load is one register plus an immediate. Same products and the same summation order as
// chunk_code_dot, so the same float32 result.
template <int BITS>
__device__ __forceinline__ float chunk_code_dot_at(const uint4 (&q)[BITS / 4], uint32_t x0) {
  float s0 = 0.0f, s1 = 0.0f;
  if constexpr (BITS == 4) {
    const uint32_t words[4] = {q[0].x, q[0].y, q[0].z, q[0].w};
#pragma unroll
    for (int i = 0; i < 4; ++i) {
      const uint32_t lo = words[i] & 0x0F0F0F0Fu, hi = (words[i] >> 4) & 0x0F0F0F0Fu;
      const float4 xa4 = lds128(x0 + 512u * (2 * i)), xb4 = lds128(x0 + 512u * (2 * i + 1));
      s0 = fmaf(byte_value<0>(lo), xa4.x, s0);
      s1 = fmaf(byte_value<0>(hi), xa4.y, s1);
      s0 = fmaf(byte_value<1>(lo), xa4.z, s0);
      s1 = fmaf(byte_value<1>(hi), xa4.w, s1);
      s0 = fmaf(byte_value<2>(lo), xb4.x, s0);
      s1 = fmaf(byte_value<2>(hi), xb4.y, s1);
      s0 = fmaf(byte_value<3>(lo), xb4.z, s0);
      s1 = fmaf(byte_value<3>(hi), xb4.w, s1);
    }
  } else {
    const uint32_t words[8] = {q[0].x, q[0].y, q[0].z, q[0].w, q[1].x, q[1].y, q[1].z, q[1].w};
#pragma unroll
    for (int i = 0; i < 8; ++i) {
      const float4 x4 = lds128(x0 + 512u * i);
      s0 = fmaf(byte_value<0>(words[i]), x4.x, s0);
      s1 = fmaf(byte_value<1>(words[i]), x4.y, s1);
      s0 = fmaf(byte_value<2>(words[i]), x4.z, s0);
      s1 = fmaf(byte_value<3>(words[i]), x4.w, s1);
    }
  }
  return s0 + s1;
}

template <int BITS, int R, int CH, int MINB>
__global__ void __launch_bounds__(kThreads, MINB) kernel_matvec_stream_pipe(const StreamParams p) {
  extern __shared__ float4 smem[];
  __shared__ float inv_rms[kMatvecMaxTokens];
  const int64_t cc64 = p.chunk_count;
  float4* xs = smem;
  float* xsum = reinterpret_cast<float*>(smem + stream::lane_major_chunks(cc64) * 8);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t warps_total = static_cast<int64_t>(gridDim.x) * kWarps;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kWarps + warp;
  if (first < p.total_groups) {  // before the dependency wait: see kernel_matvec_stream
    const StreamJob& job = p.jobs[job_of_group(p, first)];
    const int64_t row0 = (first - job.group_begin) * R;
#pragma unroll
    for (int r = 0; r < R; ++r)
      if (row0 + r < job.w.rows && lane < cc64)
        prefetch_l2(job.w.data + (row0 + r) * job.w.row_bytes + (p.chunk_begin + lane) * 4 * BITS);
  }
  pdl_begin();
  stage_input_prepare(p.in, inv_rms);
  stage_slice<true>(p, inv_rms, xs, xsum);
  __syncthreads();
  if (first >= p.total_groups) return;  // no barrier follows

  const int cc = static_cast<int>(cc64);
  const int lane_chunk = static_cast<int>(p.chunk_begin) + lane;
  // Chunk c = cb + 32k + lane (cb + 32k a multiple of 32): slot e4 at xs_lane + 16·(8·(cb + 32k) + 32·e4).
  const uint32_t xs_lane = static_cast<uint32_t>(__cvta_generic_to_shared(xs)) + 16u * lane;
  const uint32_t xsum_lane = static_cast<uint32_t>(__cvta_generic_to_shared(xsum)) + 4u * lane;

  StreamRows rows;
  StreamRound<BITS, R, CH> cur, nxt;
  int64_t grp = first;
  int cb = 0;
  resolve_rows<BITS, R>(p, grp, lane, rows);
  load_round<BITS, R, CH>(rows, cb, lane, cc, lane_chunk, cur);
  float acc[R];
#pragma unroll
  for (int r = 0; r < R; ++r) acc[r] = 0.0f;
  for (;;) {
    int64_t ngrp = grp;
    int ncb = cb + 32 * CH;
    if (ncb >= cc) {
      ncb = 0;
      ngrp = grp + warps_total;
    }
    const bool more = ngrp < p.total_groups;
    if (more) {
      if (ncb == 0) resolve_rows<BITS, R>(p, ngrp, lane, rows);
      load_round<BITS, R, CH>(rows, ncb, lane, cc, lane_chunk, nxt);
    }
#pragma unroll
    for (int k = 0; k < CH; ++k) {
      if (cb + lane + 32 * k >= cc) continue;
      const uint32_t off = static_cast<uint32_t>(cb + 32 * k);
      const float xc = lds32(xsum_lane + 4u * off);
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const float d = chunk_code_dot_at<BITS>(cur.q[r][k], xs_lane + 128u * off);
        acc[r] = fmaf(__uint_as_float(cur.sb[r][k] << 16), d, acc[r]);
        acc[r] = fmaf(__uint_as_float(cur.sb[r][k] & 0xFFFF0000u), xc, acc[r]);
      }
    }
    if (ncb == 0) {  // the group's last round: its rows are complete
      const StreamJob& job = p.jobs[job_of_group(p, grp)];
      const int64_t row0 = (grp - job.group_begin) * R;
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const float v = warp_sum(acc[r]);
        acc[r] = 0.0f;
        if (lane == 0 && row0 + r < job.w.rows) {
          float* dst = job.y + row0 + r;
          *dst = (job.accumulate || p.add_to_y) ? *dst + v : v;
        }
      }
    }
    if (!more) break;
    cur = nxt;
    grp = ngrp;
    cb = ncb;
  }
}

// The single-token kernel with 64-bit index arithmetic per round (resolving the job, row and group
// of every load each round): the default for groups of 2 or 4 rows, where the 32-bit kernel above
// spills (see pick_pipe).
template <int BITS, int R, int CH>
__device__ __forceinline__ void load_round64(const StreamParams& p, int64_t grp, int64_t cb, StreamRound<BITS, R, CH>& b) {
  constexpr int LPC = BITS / 4;
  const int lane = threadIdx.x & 31;
  const StreamJob& job = p.jobs[job_of_group(p, grp)];
  const DevWeight& w = job.w;
  const int64_t row0 = (grp - job.group_begin) * R;
  const unsigned short* scales = reinterpret_cast<const unsigned short*>(w.scales);
  const unsigned short* biases = reinterpret_cast<const unsigned short*>(w.biases);
#pragma unroll
  for (int r = 0; r < R; ++r) {
    const int64_t row = row0 + r;
    const bool row_ok = row < w.rows;
    const int64_t rs = row_ok ? row : 0;
    const uint4* rp = reinterpret_cast<const uint4*>(w.data + rs * w.row_bytes) + p.chunk_begin * LPC;
#pragma unroll
    for (int k = 0; k < CH; ++k) {
      const int64_t c = cb + lane + 32 * k;
      const bool ok = row_ok && c < p.chunk_count;
      const int64_t cs = ok ? c : 0;
#pragma unroll
      for (int h = 0; h < LPC; ++h) b.q[r][k][h] = load_stream(rp + cs * LPC + h);
      const int64_t g = rs * w.groups + ((p.chunk_begin + cs) >> job.group_shift);
      // 0 scale and bias for an idle slot (never used: its chunk is skipped or its row not written).
      b.sb[r][k] = ok ? (static_cast<uint32_t>(__ldg(scales + g)) | (static_cast<uint32_t>(__ldg(biases + g)) << 16)) : 0u;
    }
  }
}

template <int BITS, int R, int CH, int MINB>
__global__ void __launch_bounds__(kThreads, MINB) kernel_matvec_stream_pipe64(const StreamParams p) {
  extern __shared__ float4 smem[];
  __shared__ float inv_rms[kMatvecMaxTokens];
  const int64_t cc = p.chunk_count;
  float4* xs = smem;
  float* xsum = reinterpret_cast<float*>(smem + cc * 8);
  const int warp = threadIdx.x >> 5, lane = threadIdx.x & 31;
  const int64_t warps_total = static_cast<int64_t>(gridDim.x) * kWarps;
  const int64_t first = static_cast<int64_t>(blockIdx.x) * kWarps + warp;
  if (first < p.total_groups) {  // before the dependency wait: see kernel_matvec_stream
    const StreamJob& job = p.jobs[job_of_group(p, first)];
    const int64_t row0 = (first - job.group_begin) * R;
#pragma unroll
    for (int r = 0; r < R; ++r)
      if (row0 + r < job.w.rows && lane < cc)
        prefetch_l2(job.w.data + (row0 + r) * job.w.row_bytes + (p.chunk_begin + lane) * 4 * BITS);
  }
  pdl_begin();
  stage_input_prepare(p.in, inv_rms);
  stage_slice(p, inv_rms, xs, xsum);
  __syncthreads();
  if (first >= p.total_groups) return;  // no barrier follows

  StreamRound<BITS, R, CH> cur, nxt;
  int64_t grp = first, cb = 0;
  load_round64(p, grp, cb, cur);
  float acc[R];
#pragma unroll
  for (int r = 0; r < R; ++r) acc[r] = 0.0f;
  for (;;) {
    int64_t ngrp = grp, ncb = cb + 32 * CH;
    if (ncb >= cc) ncb = 0, ngrp = grp + warps_total;
    const bool more = ngrp < p.total_groups;
    if (more) load_round64(p, ngrp, ncb, nxt);
#pragma unroll
    for (int k = 0; k < CH; ++k) {
      const int64_t c = cb + lane + 32 * k;
      if (c >= cc) continue;
      const float xc = xsum[c];
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const float d = chunk_code_dot<BITS>(cur.q[r][k], xs, c);
        acc[r] = fmaf(__uint_as_float(cur.sb[r][k] << 16), d, acc[r]);
        acc[r] = fmaf(__uint_as_float(cur.sb[r][k] & 0xFFFF0000u), xc, acc[r]);
      }
    }
    if (ncb == 0) {  // the group's last round: its rows are complete
      const StreamJob& job = p.jobs[job_of_group(p, grp)];
      const int64_t row0 = (grp - job.group_begin) * R;
#pragma unroll
      for (int r = 0; r < R; ++r) {
        const float v = warp_sum(acc[r]);
        acc[r] = 0.0f;
        if (lane == 0 && row0 + r < job.w.rows) {
          float* dst = job.y + row0 + r;
          *dst = (job.accumulate || p.add_to_y) ? *dst + v : v;
        }
      }
    }
    if (!more) break;
    cur = nxt;
    grp = ngrp;
    cb = ncb;
  }
}

using StreamKernel = void (*)(StreamParams);

template <int BITS, int NT>
StreamKernel pick_rows(int r) {
  switch (r) {
    case 1: return kernel_matvec_stream<BITS, NT, 1>;
    case 2: return kernel_matvec_stream<BITS, NT, 2>;
    default: return kernel_matvec_stream<BITS, NT, 4>;
  }
}

template <int BITS>
StreamKernel pick_tokens(int n, int r) {
  if (n == 1) return pick_rows<BITS, 1>(r);
  if (n == 2) return pick_rows<BITS, 2>(r);
  if (n <= 4) return pick_rows<BITS, 4>(r);
  return pick_rows<BITS, 8>(r);
}

// The single-token kernel (bf16 scales): software-pipelined, 4 loads a round and 3 blocks per SM;
// one-row groups run the 32-bit-offset form (input staged lane-major), wider groups the 64-bit form.
// The variants that lost their benchmark left the production kernel (issue 12; the measurements stay
// in docs/PERFORMANCE.md):
//  - 8 loads a round (2 blocks per SM): on H200 pipe4 ≈ pipe8 within ±8% per shape, pipe4 ahead on 9 of
//    13 (DeltaNet inputs 15.3 against 16.9 µs, [5120, 17408] 46.3 against 49.4); both 20–30% ahead of
//    the plain kernel, which now serves only n > 1 and non-bf16 scales;
//  - the 32-bit form for every group or for none: on H100 (µs, 64-bit -> 32-bit) one-row groups gain on
//    the 27B shapes ([17408, 5120] 38.3 -> 31.9, [5120, 17408] 47.2 -> 42.1, [10240, 5120] 25.7 -> 22.1,
//    [5120, 6144] 19.0 -> 17.5) and lose 0.1-0.2 on 2048/4096-column ones ([4096, 2048] 6.9 -> 7.2); with
//    two rows per warp it spills (96 bytes at 80 registers): lm_head 183 -> 170 but [8192, 2048]
//    11.0 -> 12.7 and the DeltaNet inputs 15.8 -> 16.6.
constexpr int kPipeLoadsPerLane = 4;

template <int BITS>
StreamKernel pick_pipe_bits(int r) {
  constexpr int L = kPipeLoadsPerLane, LPC = BITS / 4, MINB = 3;
  constexpr int CH1 = L / LPC, CH2 = L / LPC / 2 > 0 ? L / LPC / 2 : 1, CH4 = L / LPC / 4 > 0 ? L / LPC / 4 : 1;
  switch (r) {
    case 1: return kernel_matvec_stream_pipe<BITS, 1, CH1, MINB>;
    case 2: return kernel_matvec_stream_pipe64<BITS, 2, CH2, MINB>;
    default: return kernel_matvec_stream_pipe64<BITS, 4, CH4, MINB>;
  }
}

StreamKernel pick_pipe(int bits, int r) { return bits == 4 ? pick_pipe_bits<4>(r) : pick_pipe_bits<8>(r); }

// Resident blocks per SM of `kernel` at `smem` dynamic bytes (occupancy query once per kernel and size).
int blocks_per_sm(StreamKernel kernel, size_t smem) {
  static std::mutex mutex;
  static std::unordered_map<const void*, std::unordered_map<size_t, int>> known;
  std::lock_guard<std::mutex> lock(mutex);
  int& v = known[reinterpret_cast<const void*>(kernel)][smem];
  if (v == 0) {
    HEARTH_CUDA_CHECK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&v, kernel, kThreads, smem));
    v = std::max(v, 1);
  }
  return v;
}

}  // namespace

bool matvec_prefers_stream(int64_t n, int64_t weights) { return n <= 2 || weights <= int64_t{8192} * 2048; }

bool matvec_stream_covers(const WeightMatrix& w) {
  if (w.format != WeightFormat::affine || (w.bits != 4 && w.bits != 8)) return false;
  if (w.group_size != 32 && w.group_size != 64 && w.group_size != 128) return false;
  if (w.cols <= 0 || w.cols % w.group_size != 0) return false;
  if (w.dtype != DType::bf16 && w.dtype != DType::f16 && w.dtype != DType::f32) return false;
  if (w.scales == nullptr || w.biases == nullptr) return false;
  return reinterpret_cast<uintptr_t>(w.data) % 16 == 0 && w.row_bytes() % 16 == 0;
}

// One launch (per column slice) for jobs of one bit width.
static void launch_stream_bits(const StageInput& in, const MatvecJob* jobs, int job_count, int bits, cudaStream_t stream_) {
  int64_t total_rows = 0;
  for (int j = 0; j < job_count; ++j) total_rows += jobs[j].w.rows;
  if (total_rows == 0) return;
  const int n = static_cast<int>(in.n);
  const int64_t chunks = in.cols / 32;
  const int64_t slice = stream::slice_chunks(n, chunks);
  const int64_t min_warps = int64_t{device_info().sm_count} * 16;
  const int r = stream::rows_per_warp(total_rows, slice, bits / 4, min_warps);
  int r_used = r;
  bool lane_major = false;  // the 32-bit single-token kernel stages lane-major
  bool all_bf16 = true;
  for (int j = 0; j < job_count; ++j) all_bf16 = all_bf16 && jobs[j].w.dtype == DType::bf16;
  StreamParams p{};
  p.in = in;
  p.job_count = job_count;
  int64_t groups = 0;
  for (int j = 0; j < job_count; ++j) {
    const WeightMatrix& w = jobs[j].w;
    StreamJob& sj = p.jobs[j];
    sj.w = to_dev_weight(w);
    sj.y = jobs[j].y;
    sj.y_stride = jobs[j].y_stride;
    sj.accumulate = jobs[j].accumulate ? 1 : 0;
    sj.group_shift = w.group_size == 32 ? 0 : (w.group_size == 64 ? 1 : 2);
    sj.group_begin = groups;
    groups += (w.rows + r - 1) / r;
  }
  for (int j = job_count; j < kMaxMatvecJobs; ++j) p.jobs[j].group_begin = INT64_MAX;
  p.total_groups = groups;
  StreamKernel kernel = bits == 4 ? pick_tokens<4>(n, r) : pick_tokens<8>(n, r);
  if (n == 1 && all_bf16) {
    const int rp = stream::rows_per_warp(total_rows, slice, bits / 4, min_warps, kPipeLoadsPerLane);
    kernel = pick_pipe(bits, rp);
    r_used = rp;
    lane_major = rp == 1;
  }
  if (r_used != r) {  // row groups of the kernel actually launched
    groups = 0;
    for (int j = 0; j < job_count; ++j) {
      p.jobs[j].group_begin = groups;
      groups += (jobs[j].w.rows + r_used - 1) / r_used;
    }
    p.total_groups = groups;
  }
  for (int64_t c0 = 0; c0 < chunks; c0 += slice) {
    p.chunk_begin = c0;
    p.chunk_count = std::min(slice, chunks - c0);
    p.add_to_y = c0 > 0 ? 1 : 0;
    const size_t smem = static_cast<size_t>(
        lane_major ? stream::staged_bytes(1, stream::lane_major_chunks(p.chunk_count)) : stream::staged_bytes(n, p.chunk_count));
    ensure_dynamic_smem(reinterpret_cast<const void*>(kernel), smem);
    const int64_t want = (groups + kWarps - 1) / kWarps;
    const int64_t resident = int64_t{device_info().sm_count} * blocks_per_sm(kernel, smem);
    const int blocks = static_cast<int>(std::min(want, resident));
    launch_pdl(kernel, blocks, kThreads, smem, stream_, p);
    HEARTH_CUDA_LAUNCH_CHECK();
  }
}

void launch_matvec_stream(const StageInput& in, const MatvecJob* jobs, int job_count, cudaStream_t stream_) {
  if (job_count < 1 || job_count > kMaxMatvecJobs) throw Error("launch_matvec_stream: 1 to 8 jobs");
  if (in.n < 1 || in.n > kMatvecMaxTokens) throw Error("launch_matvec_stream: 1 to 8 tokens");
  for (int j = 0; j < job_count; ++j) {
    const WeightMatrix& w = jobs[j].w;
    if (!matvec_stream_covers(w) || w.cols != in.cols)
      throw Error("launch_matvec_stream: job " + std::to_string(j) + " not covered: " + w.describe());
  }
  // The kernel is instantiated per bit width: 4-bit jobs in one launch, 8-bit jobs in another.
  for (int bits : {4, 8}) {
    MatvecJob subset[kMaxMatvecJobs];
    int count = 0;
    for (int j = 0; j < job_count; ++j)
      if (jobs[j].w.bits == bits) subset[count++] = jobs[j];
    if (count > 0) launch_stream_bits(in, subset, count, bits, stream_);
  }
}

}  // namespace hearth::engine::cuda
