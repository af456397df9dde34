// The fast grouped MoE GEMMs (moe_gemm_fast.h). Per K step of 64 a block stages its 64 × 64 bf16 A tile
// by cp.async (gathered rows: each 16-byte piece names its own source row) and decodes its 128 × 64 W
// tile from the packed codes into bf16; both are double buffered, so the copies and the global loads of
// the next step's codes are in flight while this step's MMAs run, and one barrier per step suffices.
#include <cuda_bf16.h>

#include <algorithm>

#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/common/device_weights.cuh"
#include "engine/cuda/common/launch.cuh"
#include "engine/cuda/moe/moe_gemm_fast.h"
#include "engine/cuda/moe/moe_gemm_fast_layout.h"
#include "engine/cuda/common/smem_attr.h"
#include "engine/weight_formats.h"

namespace hearth::engine::cuda {
namespace {

enum class FastEpilogue : int {
  swiglu,   // gate/up interleaved (moe_gemm_fast_layout.h): h = silu(gate) · up, bf16
  scatter,  // out[token] += weight · result (atomic)
};

struct FastExperts {
  const uint8_t* const* data = nullptr;  // device tables of per-expert pointers
  const uint8_t* const* scales = nullptr;
  const uint8_t* const* biases = nullptr;
  int64_t rows = 0, row_bytes = 0;
  int32_t groups = 0, group_shift = 0;  // groups per row; log2 of the group size (>= 32)
};

struct FastGemmParams {
  FastExperts w0, w1;  // swiglu: gate, up; scatter: down
  int64_t k = 0;       // weight columns, a multiple of kMoeFastBK
  const __nv_bfloat16* a = nullptr;
  int64_t a_ld = 0;
  const int32_t* a_rows = nullptr;  // A row of sorted row i (null: i itself)
  const int32_t* tile_expert = nullptr;
  const int32_t* tile_row0 = nullptr;
  const int32_t* expert_end = nullptr;
  __nv_bfloat16* h = nullptr;  // swiglu output [pairs, h_ld]
  int64_t h_ld = 0;
  float* out = nullptr;  // scatter output
  int64_t out_ld = 0;
  const int32_t* out_rows = nullptr;
  const float* out_scale = nullptr;
  int out_vec2 = 0;  // out 8-byte aligned with an even stride: float2 atomics
};

__device__ __forceinline__ uint32_t smem_addr(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
__device__ __forceinline__ void cp_async16(uint32_t dst, const void* src) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(dst), "l"(src) : "memory");
}
__device__ __forceinline__ void cp_async_commit() { asm volatile("cp.async.commit_group;\n" ::: "memory"); }
__device__ __forceinline__ void cp_async_wait_all() { asm volatile("cp.async.wait_group 0;\n" ::: "memory"); }
__device__ __forceinline__ void ldmatrix_x4(uint32_t (&r)[4], uint32_t addr) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr)
               : "memory");
}
__device__ __forceinline__ void mma_bf16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0, uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, {%8,%9}, "
      "{%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}
__device__ __forceinline__ uint32_t bf162_bits(__nv_bfloat162 v) { return *reinterpret_cast<uint32_t*>(&v); }
__device__ __forceinline__ __nv_bfloat162 bits_bf162(uint32_t v) { return *reinterpret_cast<__nv_bfloat162*>(&v); }

// One thread's packed chunk (32 consecutive k of one weight row), as loaded.
template <int BITS>
struct PackedChunk {
  uint4 q[BITS / 4];
  uint16_t scale = 0, bias = 0;  // bf16 bits
};

// Decodes a chunk into 16 bf16 pairs (element 2i in the low half of out[i]).
__device__ __forceinline__ void decode_packed(const PackedChunk<4>& c, uint32_t (&out)[16]) {
  // 0x4300 is bf16 128.0 with a 7-bit mantissa of 0: OR-ing a 4-bit code in gives 128 + code exactly;
  // subtracting 128 leaves the code as an exact bf16, and one fused bf16 multiply-add applies scale and
  // bias with a single rounding.
  const __nv_bfloat162 s2 = bits_bf162(uint32_t(c.scale) * 0x10001u);
  const __nv_bfloat162 b2 = bits_bf162(uint32_t(c.bias) * 0x10001u);
  const __nv_bfloat162 k128 = bits_bf162(0x43004300u);
  const uint32_t words[4] = {c.q[0].x, c.q[0].y, c.q[0].z, c.q[0].w};
#pragma unroll
  for (int i = 0; i < 4; ++i)
#pragma unroll
    for (int k = 0; k < 4; ++k) {
      const uint32_t x = words[i] >> (8 * k);
      const uint32_t v = (x & 0xFu) | ((x << 12) & 0xF0000u) | 0x43004300u;
      out[i * 4 + k] = bf162_bits(__hfma2(__hsub2(bits_bf162(v), k128), s2, b2));
    }
}

__device__ __forceinline__ void decode_packed(const PackedChunk<8>& c, uint32_t (&out)[16]) {
  // 8-bit codes do not fit bf16's mantissa: decode in float32 as decode_chunk<affine8> does (2^23 + q
  // has q in its low mantissa bits), then round to bf16.
  const float s = dev_bf16(c.scale), b = dev_bf16(c.bias);
  const uint32_t words[8] = {c.q[0].x, c.q[0].y, c.q[0].z, c.q[0].w, c.q[1].x, c.q[1].y, c.q[1].z, c.q[1].w};
#pragma unroll
  for (int i = 0; i < 8; ++i) {
    float f[4];
#pragma unroll
    for (int m = 0; m < 4; ++m)
      f[m] = fmaf(s, __uint_as_float(__byte_perm(words[i], 0x4B000000u, 0x7440u | m)) - 8388608.0f, b);
    out[2 * i] = bf162_bits(__floats2bfloat162_rn(f[0], f[1]));
    out[2 * i + 1] = bf162_bits(__floats2bfloat162_rn(f[2], f[3]));
  }
}

// One staged K step of a warp's 32 × 32 tile, the first LIVE m16 fragments only (a partly filled tile,
// an expert's last, skips the MMAs of its empty rows). All fragments are loaded before the MMAs.
template <int LIVE>
__device__ __forceinline__ void mma_step(float (&acc)[2][4][4], const uint16_t* A, const uint16_t* B, int wm, int wn,
                                         FragPos a_lm, FragPos b_lm) {
#pragma unroll
  for (int kk = 0; kk < kMoeFastBK; kk += 16) {
    uint32_t af[LIVE][4], bfr[2][4];
#pragma unroll
    for (int mi = 0; mi < LIVE; ++mi)
      ldmatrix_x4(af[mi], smem_addr(A + (wm * 32 + mi * 16 + a_lm.row) * kMoeFastLds + kk + a_lm.col));
#pragma unroll
    for (int nb = 0; nb < 2; ++nb)
      ldmatrix_x4(bfr[nb], smem_addr(B + (wn * 32 + nb * 16 + b_lm.row) * kMoeFastLds + kk + b_lm.col));
#pragma unroll
    for (int mi = 0; mi < LIVE; ++mi)
#pragma unroll
      for (int nj = 0; nj < 4; ++nj)
        mma_bf16(acc[mi][nj], af[mi], bfr[nj >> 1][(nj & 1) * 2], bfr[nj >> 1][(nj & 1) * 2 + 1]);
  }
}

__device__ __forceinline__ float silu_times(float g, float u) { return g * (1.0f / (1.0f + expf(-g))) * u; }

// Blocks per SM: three where the kernel fits 85 registers without spilling (down: its K, inter, is
// short, so more resident blocks hide each block's unoverlapped first step; 4-bit gate/up), else two.
template <int BITS, FastEpilogue EPI>
constexpr int kMinBlocks = (EPI == FastEpilogue::scatter || BITS == 4) ? 3 : 2;

template <int BITS, FastEpilogue EPI>
__global__ void __launch_bounds__(kMoeFastThreads, kMinBlocks<BITS, EPI>) kernel_moe_gemm_fast(const FastGemmParams p) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  extern __shared__ __align__(16) uint16_t smem[];
  uint16_t* const sa = smem;                                       // [2][BM][Lds]
  uint16_t* const sb = smem + 2 * kMoeFastBM * kMoeFastLds;        // [2][BN][Lds]
  constexpr int kAStage = kMoeFastBM * kMoeFastLds, kBStage = kMoeFastBN * kMoeFastLds;

  const int e = p.tile_expert[blockIdx.y];
  if (e < 0) return;
  const int row0 = p.tile_row0[blockIdx.y];
  const int mrows = min(kMoeFastBM, p.expert_end[e] - row0);
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5;
  const int wm = warp >> 2, wn = warp & 3;

  // A pieces: rows past the expert's end read its last row (their results are dropped).
  const __nv_bfloat16* a_src[2];
  uint32_t a_dst[2];
#pragma unroll
  for (int i = 0; i < 2; ++i) {
    const FragPos pc = a_piece(tid + i * kMoeFastThreads);
    const int sorted = row0 + min(pc.row, mrows - 1);
    const int64_t src_row = p.a_rows ? p.a_rows[sorted] : sorted;
    a_src[i] = p.a + src_row * p.a_ld + pc.col;
    a_dst[i] = smem_addr(sa + pc.row * kMoeFastLds + pc.col);
  }

  // W piece of this thread.
  const FragPos wp = w_piece(tid);
  int64_t j;
  bool up = false;
  if constexpr (EPI == FastEpilogue::swiglu) {
    const FusedWeightRow fr = fused_gate_up_row(wp.row);
    up = fr.up != 0;
    j = static_cast<int64_t>(blockIdx.x) * kMoeFastInterPerTile + fr.offset;
  } else {
    j = static_cast<int64_t>(blockIdx.x) * kMoeFastBN + wp.row;
  }
  const int64_t w_rows = up ? p.w1.rows : p.w0.rows;
  const bool w_valid = j < w_rows;
  const int64_t jr = w_valid ? j : 0;
  const uint4* w_codes =
      reinterpret_cast<const uint4*>((up ? p.w1.data : p.w0.data)[e] + jr * (up ? p.w1.row_bytes : p.w0.row_bytes)) +
      (wp.col / 32) * (BITS / 4);
  const int32_t groups = up ? p.w1.groups : p.w0.groups, gshift = up ? p.w1.group_shift : p.w0.group_shift;
  const uint16_t* w_scales = reinterpret_cast<const uint16_t*>((up ? p.w1.scales : p.w0.scales)[e]) + jr * groups;
  const uint16_t* w_biases = reinterpret_cast<const uint16_t*>((up ? p.w1.biases : p.w0.biases)[e]) + jr * groups;
  uint16_t* const w_dst = sb + wp.row * kMoeFastLds + wp.col;

  const int steps = static_cast<int>(p.k / kMoeFastBK);
  auto load_a = [&](int step, int buf) {
#pragma unroll
    for (int i = 0; i < 2; ++i) cp_async16(a_dst[i] + buf * kAStage * 2, a_src[i] + step * kMoeFastBK);
    cp_async_commit();
  };
  auto load_w = [&](int step) {
    PackedChunk<BITS> c;
    const uint4* q = w_codes + step * 2 * (BITS / 4);
#pragma unroll
    for (int l = 0; l < BITS / 4; ++l) c.q[l] = __ldg(q + l);
    const int g = (step * kMoeFastBK + wp.col) >> gshift;
    c.scale = __ldg(w_scales + g);
    c.bias = __ldg(w_biases + g);
    return c;
  };
  auto store_w = [&](const PackedChunk<BITS>& c, int buf) {
    uint32_t v[16];
    decode_packed(c, v);
    uint4* dst = reinterpret_cast<uint4*>(w_dst + buf * kBStage);
#pragma unroll
    for (int i = 0; i < 4; ++i)
      dst[i] = w_valid ? make_uint4(v[4 * i], v[4 * i + 1], v[4 * i + 2], v[4 * i + 3]) : make_uint4(0, 0, 0, 0);
  };

  float acc[2][4][4];
#pragma unroll
  for (int mi = 0; mi < 2; ++mi)
#pragma unroll
    for (int nj = 0; nj < 4; ++nj)
#pragma unroll
      for (int r = 0; r < 4; ++r) acc[mi][nj][r] = 0.0f;

  load_a(0, 0);
  store_w(load_w(0), 0);
  const FragPos a_lm = ldmatrix_a_src(lane), b_lm = ldmatrix_b_src(lane);
  // m16 fragments of this warp that hold any of the tile's rows (warp-uniform).
  const int live_m = min(2, max(0, (mrows - wm * 32 + 15) / 16));
  for (int step = 0; step < steps; ++step) {
    const int buf = step & 1;
    cp_async_wait_all();
    __syncthreads();  // this step's tiles are staged; every warp is done with the other buffer
    const bool more = step + 1 < steps;
    PackedChunk<BITS> next;
    if (more) {
      load_a(step + 1, buf ^ 1);
      next = load_w(step + 1);
    }
    const uint16_t* A = sa + buf * kAStage;
    const uint16_t* B = sb + buf * kBStage;
    if (live_m == 2) {
      mma_step<2>(acc, A, B, wm, wn, a_lm, b_lm);
    } else if (live_m == 1) {
      mma_step<1>(acc, A, B, wm, wn, a_lm, b_lm);
    }
    if (more) store_w(next, buf ^ 1);
  }

  const int g = lane >> 2, t = lane & 3;
  if constexpr (EPI == FastEpilogue::swiglu) {
#pragma unroll
    for (int mi = 0; mi < 2; ++mi)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = wm * 32 + mi * 16 + g + 8 * half;
        if (row >= mrows) continue;
        __nv_bfloat16* dst = p.h + static_cast<int64_t>(row0 + row) * p.h_ld;
#pragma unroll
        for (int pp = 0; pp < 2; ++pp) {
          // n8 tiles 2pp (gate) and 2pp + 1 (up) of this warp cover inter offsets 8P.. of the tile.
          const int P = 2 * wn + pp;
          const int64_t jj = static_cast<int64_t>(blockIdx.x) * kMoeFastInterPerTile + 8 * P + 2 * t;
          if (jj >= p.w0.rows) continue;
          const float* gv = acc[mi][2 * pp];
          const float* uv = acc[mi][2 * pp + 1];
          *reinterpret_cast<__nv_bfloat162*>(dst + jj) = __floats2bfloat162_rn(
              silu_times(gv[2 * half], uv[2 * half]), silu_times(gv[2 * half + 1], uv[2 * half + 1]));
        }
      }
  } else {
    const int64_t n0 = static_cast<int64_t>(blockIdx.x) * kMoeFastBN;
#pragma unroll
    for (int mi = 0; mi < 2; ++mi)
#pragma unroll
      for (int half = 0; half < 2; ++half) {
        const int row = wm * 32 + mi * 16 + g + 8 * half;
        if (row >= mrows) continue;
        const int sorted = row0 + row;
        const float scale = p.out_scale[sorted];
        float* dst = p.out + static_cast<int64_t>(p.out_rows[sorted]) * p.out_ld;
#pragma unroll
        for (int nj = 0; nj < 4; ++nj) {
          const int64_t col = n0 + wn * 32 + nj * 8 + 2 * t;
          const float v0 = scale * acc[mi][nj][2 * half], v1 = scale * acc[mi][nj][2 * half + 1];
          if (p.out_vec2 && col + 1 < p.w0.rows) {
            atomicAdd(reinterpret_cast<float2*>(dst + col), make_float2(v0, v1));  // one vector atomic (sm_90)
          } else {
            if (col < p.w0.rows) atomicAdd(dst + col, v0);
            if (col + 1 < p.w0.rows) atomicAdd(dst + col + 1, v1);
          }
        }
      }
  }
}

// x [n, cols] (any stride) → bf16 [n, cols] dense; cols % 8 == 0.
__global__ void kernel_rows_to_bf16(const float* x, int64_t x_stride, int64_t n, int64_t cols, int vec4,
                                    __nv_bfloat16* out) {
  pdl_begin();  // launch.cuh: wait for the previous kernel before touching memory
  const int64_t per_row = cols / 8, total = n * per_row;
  for (int64_t i = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x; i < total;
       i += static_cast<int64_t>(gridDim.x) * blockDim.x) {
    const int64_t r = i / per_row, c = (i - r * per_row) * 8;
    const float* src = x + r * x_stride + c;
    float v[8];
    if (vec4) {
      const float4 f0 = *reinterpret_cast<const float4*>(src), f1 = *reinterpret_cast<const float4*>(src + 4);
      v[0] = f0.x, v[1] = f0.y, v[2] = f0.z, v[3] = f0.w, v[4] = f1.x, v[5] = f1.y, v[6] = f1.z, v[7] = f1.w;
    } else {
#pragma unroll
      for (int m = 0; m < 8; ++m) v[m] = src[m];
    }
    uint4 o;
    o.x = bf162_bits(__floats2bfloat162_rn(v[0], v[1]));
    o.y = bf162_bits(__floats2bfloat162_rn(v[2], v[3]));
    o.z = bf162_bits(__floats2bfloat162_rn(v[4], v[5]));
    o.w = bf162_bits(__floats2bfloat162_rn(v[6], v[7]));
    *reinterpret_cast<uint4*>(out + r * cols + c) = o;
  }
}

size_t align256(size_t v) { return (v + 255) / 256 * 256; }

int log2_exact(int v) {
  int s = 0;
  while ((1 << s) < v) ++s;
  return s;
}

bool table_ok(const ExpertTable& t) {
  const WeightMatrix& m = t.shape;
  const int gs = m.group_size;
  return (t.codec == Codec::affine4 || t.codec == Codec::affine8) && m.format == WeightFormat::affine &&
         m.dtype == DType::bf16 && gs >= 32 && (gs & (gs - 1)) == 0 && m.cols % kMoeFastBK == 0 && t.data &&
         t.scales && t.biases;
}

FastExperts experts_of(const ExpertTable& t) {
  FastExperts f;
  f.data = t.data;
  f.scales = t.scales;
  f.biases = t.biases;
  f.rows = t.shape.rows;
  f.row_bytes = static_cast<int64_t>(t.shape.row_bytes());
  f.groups = static_cast<int32_t>(t.shape.cols / t.shape.group_size);
  f.group_shift = log2_exact(t.shape.group_size);
  return f;
}

template <FastEpilogue EPI>
void launch_fast_gemm(const FastGemmParams& g, Codec codec, dim3 grid, cudaStream_t stream) {
  auto* kernel = codec == Codec::affine4 ? kernel_moe_gemm_fast<4, EPI> : kernel_moe_gemm_fast<8, EPI>;
  ensure_dynamic_smem(reinterpret_cast<const void*>(kernel), kMoeFastSmemBytes);
  launch_pdl(kernel, grid, kMoeFastThreads, kMoeFastSmemBytes, stream, g);
  HEARTH_CUDA_LAUNCH_CHECK();
}

}  // namespace

size_t moe_fast_scratch_bytes(int64_t n, int64_t pairs, int64_t hidden, int64_t inter) {
  return align256(sizeof(uint16_t) * n * hidden) + align256(sizeof(uint16_t) * pairs * inter);
}

bool moe_fast_applies(const MoeLaunch& p) {
  const int64_t hidden = p.gate.shape.cols, inter = p.gate.shape.rows;
  return p.single_mma && table_ok(p.gate) && table_ok(p.up) && table_ok(p.down) && p.gate.codec == p.up.codec &&
         p.up.shape.rows == inter && p.up.shape.cols == hidden && p.down.shape.cols == inter &&
         inter % kMoeFastInterPerTile == 0;
}

void launch_moe_fast(const MoeFastLaunch& f, cudaStream_t stream) {
  const MoeLaunch& m = *f.moe;
  const int64_t hidden = m.gate.shape.cols, inter = m.gate.shape.rows, out_cols = m.down.shape.rows;
  auto* xb = static_cast<__nv_bfloat16*>(f.scratch);
  auto* hb = reinterpret_cast<__nv_bfloat16*>(static_cast<uint8_t*>(f.scratch) + align256(sizeof(uint16_t) * m.n * hidden));

  const int vec4 = reinterpret_cast<uintptr_t>(m.x) % 16 == 0 && m.x_stride % 4 == 0 ? 1 : 0;
  const int64_t pieces = m.n * hidden / 8;
  const unsigned conv_blocks = static_cast<unsigned>(std::min<int64_t>((pieces + 255) / 256, 132 * 16));
  launch_pdl(kernel_rows_to_bf16, conv_blocks, 256, 0, stream, m.x, m.x_stride, m.n, hidden, vec4, xb);
  HEARTH_CUDA_LAUNCH_CHECK();

  FastGemmParams g;
  g.tile_expert = f.tile_expert;
  g.tile_row0 = f.tile_row0;
  g.expert_end = f.expert_end;
  g.w0 = experts_of(m.gate);
  g.w1 = experts_of(m.up);
  g.k = hidden;
  g.a = xb;
  g.a_ld = hidden;
  g.a_rows = f.pair_token;
  g.h = hb;
  g.h_ld = inter;
  launch_fast_gemm<FastEpilogue::swiglu>(
      g, m.gate.codec, dim3(static_cast<unsigned>(inter / kMoeFastInterPerTile), static_cast<unsigned>(f.max_tiles)),
      stream);

  FastGemmParams d;
  d.tile_expert = f.tile_expert;
  d.tile_row0 = f.tile_row0;
  d.expert_end = f.expert_end;
  d.w0 = experts_of(m.down);
  d.w1 = d.w0;
  d.k = inter;
  d.a = hb;
  d.a_ld = inter;
  d.out = m.out;
  d.out_ld = m.out_stride;
  d.out_rows = f.pair_token;
  d.out_scale = f.pair_weight;
  d.out_vec2 = reinterpret_cast<uintptr_t>(m.out) % 8 == 0 && m.out_stride % 2 == 0 ? 1 : 0;
  launch_fast_gemm<FastEpilogue::scatter>(
      d, m.down.codec,
      dim3(static_cast<unsigned>((out_cols + kMoeFastBN - 1) / kMoeFastBN), static_cast<unsigned>(f.max_tiles)), stream);
}

}  // namespace hearth::engine::cuda
