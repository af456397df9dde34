// CUDA attention against the CPU reference (engine/cpu/attention.cpp) on fresh random inputs, outputs
// poisoned with NaN before every run:
//  - decode (n = 1 .. kAttentionDecodeMaxQueries queries, the streaming kernel of attention_decode.cu) at
//    contexts from 1 to 40000 keys in caches larger than the context, for the 35B-A3B (16 / 2 heads) and
//    27B (24 / 4) layouts at head_dim 256 and smaller layouts at 16 .. 128, position given on the host and
//    read from device memory; a graph recorded once and replayed as the context grows past many piece
//    lengths; a cache row stride the streaming kernel does not take (the older kernels run);
//  - prefill (n = 9 .. 1024 after first_position > 0) in exact mode (three-MMA split, kSplitBf16) and fast
//    mode: with the position on the host, fast prefill runs the cuBLAS path (attention/attention.h: TF32
//    scores, causal softmax, bf16 P·V; kAttentionCublas below) at the model shapes up to 4096 queries,
//    from position 0 and later and after 20000 keys (the softmax kernel for long rows), with query
//    blocks split by the production plan and by a tiny score budget; with the position read from device memory it keeps the one-bf16-MMA kernel (kAttentionBf16).
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <thread>
#include <utility>

#include "cuda_test_util.h"
#include "engine/cuda/attention/attention_cublas_plan.h"
#include "engine/cuda/cublas_library.h"

namespace hearth::engine::cuda {
namespace {

using namespace testing;

// Fast prefill budget (max |cuda − cpu| / max |cpu|): q, k, v and the probabilities rounded to bf16
// (relative 2^-9 each). A score q·k·scale of D terms moves by about 2^-9 · scale · Σ|q_i k_i|, which with
// the inputs below (|q|, |k| <= 2, scale 1 / sqrt(D)) is up to ~0.5% of a softmax weight; the output, a
// weighted mean of values, inherits that and the rounding of v. 3e-2 leaves room over that estimate.
constexpr double kAttentionBf16 = 3e-2;
// The cuBLAS path (fast mode, position on the host): scores from q and k read as TF32 (10 mantissa
// bits, relative rounding 2^-11 to 2^-10 each, 8x finer than bf16) with float32 accumulation, so the
// score error, which softmax turns into relative weight errors, is ~1/8 of the bf16 kernel's; the
// weights and values rounded to bf16 (2^-9 relative each) only perturb the weighted mean of values by
// about that much relative to the largest value. Measured on an H200 (2026-11-26): 4.2e-3 at most (8e-4
// with a TF32 P·V, which ran 1.5x slower). 1e-2 leaves room over that while a wrong index mapping, a
// missed causal mask or an unwritten block gives O(1).
constexpr double kAttentionCublas = 1e-2;

struct Layout {
  const char* name;
  int64_t heads, kv_heads, dim;
};

const Layout kLayouts[] = {
    {"35B-A3B 16/2x256", 16, 2, 256}, {"27B 24/4x256", 24, 4, 256}, {"8/2x128", 8, 2, 128},
    {"6/1x64", 6, 1, 64},             {"4/2x32", 4, 2, 32},         {"12/3x16", 12, 3, 16},
};

// A layer's cache on the host and the device.
struct Cache {
  Cache(CudaOps& gpu, int64_t capacity, int64_t width, int64_t stride)
      : cap(capacity), w(width), stride(stride), k(random_floats(capacity * stride, -2, 2)),
        v(random_floats(capacity * stride)), dk(gpu, k), dv(gpu, v) {}
  int64_t cap, w, stride;
  std::vector<float> k, v;
  DeviceFloats dk, dv;
};

class CudaAttentionTest : public ::testing::Test {
 protected:
  void SetUp() override { HEARTH_REQUIRE_GPU(); }

  // The CPU reference for n queries at first_position.
  std::vector<float> reference(const Layout& s, Cache& c, std::vector<float>& q, int64_t n, int64_t first, int64_t q_stride) {
    const int64_t Q = s.heads * s.dim;
    std::vector<float> want(n * Q);
    cpu_.attention({host_tensor(q, n, Q, q_stride), host_tensor(c.k, c.cap, c.w, c.stride), host_tensor(c.v, c.cap, c.w, c.stride),
                    first, s.heads, s.kv_heads, s.dim, scale(s), host_tensor(want, n, Q)});
    return want;
  }
  static float scale(const Layout& s) { return 1.0f / std::sqrt(static_cast<float>(s.dim)); }

  // Runs the GPU attention (position from the host, or from device memory when dev_pos is set) and
  // returns the packed output.
  std::vector<float> run(CudaOps& gpu, const Layout& s, Cache& c, DeviceFloats& dq, int64_t n, int64_t first,
                         int64_t q_stride, const int64_t* dev_pos) {
    const int64_t Q = s.heads * s.dim, out_stride = Q + 8;
    DeviceFloats out(gpu, n * out_stride);
    out.poison();
    gpu.attention({dq.tensor(n, Q, q_stride), c.dk.tensor(c.cap, c.w, c.stride), c.dv.tensor(c.cap, c.w, c.stride),
                   dev_pos ? 0 : first, s.heads, s.kv_heads, s.dim, scale(s), out.tensor(n, Q, out_stride), dev_pos});
    std::vector<float> got = packed(out.download(), n, Q, out_stride);
    // The padding between output rows must stay untouched (still NaN).
    const std::vector<float> raw = out.download();
    for (int64_t r = 0; r < n; ++r)
      for (int64_t i = Q; i < out_stride; ++i) EXPECT_TRUE(std::isnan(raw[r * out_stride + i])) << "row padding written";
    return got;
  }

  cpu::CpuOps cpu_{static_cast<int>(std::max(2u, std::thread::hardware_concurrency()))};
};

TEST_F(CudaAttentionTest, DecodeMatchesCpuAtEveryContextLayoutAndQueryCount) {
  CudaOps gpu;
  auto* pos = static_cast<int64_t*>(gpu.alloc(8));
  double worst = 0;
  for (const Layout& s : kLayouts) {
    const bool big = s.dim == 256;
    const int64_t cap = big ? 40100 : 4500;  // larger than every context below
    Cache c(gpu, cap, s.kv_heads * s.dim, s.kv_heads * s.dim);
    const int64_t Q = s.heads * s.dim, q_stride = Q + 4;
    std::vector<int64_t> contexts = {1, 7, 255, 256, 257, 4096};
    if (big) contexts.push_back(40000);
    for (const int64_t context : contexts) {
      for (int64_t n = 1; n <= kAttentionDecodeMaxQueries; ++n) {
        if (n > context) continue;
        if (context == 40000 && n != 1 && n != 3 && n != 8) continue;  // the CPU reference is the slow part
        const int64_t first = context - n;  // the last query sees `context` keys
        std::vector<float> q = random_floats(n * q_stride, -2, 2);
        const std::vector<float> want = reference(s, c, q, n, first, q_stride);
        DeviceFloats dq(gpu, q);
        for (const bool device_position : {false, true}) {
          gpu.upload(pos, &first, 8);
          const std::vector<float> got = run(gpu, s, c, dq, n, first, q_stride, device_position ? pos : nullptr);
          const double err = max_rel_error(got, want);
          worst = std::max(worst, err);
          EXPECT_LT(err, kFp32) << s.name << " context " << context << " n " << n
                                << (device_position ? " (device position)" : " (host position)");
        }
      }
    }
  }
  gpu.release(pos);
  std::printf("cuda largest error attention decode: %.3g (budget %.3g)\n", worst, kFp32);
}

TEST_F(CudaAttentionTest, RecordedDecodeStaysCorrectAsTheContextGrows) {
  // Recorded once; the piece length and count change with the position read on the device, the grid
  // and the workspace follow the capacity.
  CudaOps gpu;
  const Layout s = kLayouts[0];
  const int64_t cap = 50000, Q = s.heads * s.dim;
  Cache c(gpu, cap, s.kv_heads * s.dim, s.kv_heads * s.dim);
  DeviceFloats dq(gpu, Q), out(gpu, Q);
  auto* pos = static_cast<int64_t*>(gpu.alloc(8));
  const auto record = [&] {
    gpu.attention({dq.tensor(1, Q), c.dk.tensor(cap, c.w), c.dv.tensor(cap, c.w), 0, s.heads, s.kv_heads, s.dim, scale(s),
                   out.tensor(1, Q), pos});
  };
  int64_t p0 = 0;
  gpu.upload(pos, &p0, 8);
  record();  // eager once: the workspace exists before recording
  ASSERT_TRUE(gpu.can_record());
  gpu.begin_recording();
  record();
  auto graph = gpu.end_recording();
  for (const int64_t at : {0, 1, 33, 300, 1023, 1024, 5000, 32767, 49999}) {
    std::vector<float> q = random_floats(Q, -2, 2);
    const std::vector<float> want = reference(s, c, q, 1, at, Q);
    dq.upload(q);
    gpu.upload(pos, &at, 8);
    out.poison();
    graph->replay();
    EXPECT_LT(max_rel_error(out.download(), want), kFp32) << "position " << at;
  }
  gpu.release(pos);
}

TEST_F(CudaAttentionTest, DecodeWithAnUnalignedCacheStrideFallsBackAndMatchesCpu) {
  // A row stride that is not a multiple of 4 floats rules out 16-byte loads: the older kernels run (the
  // n = 4 case then takes the prefill kernel, pinned to exact mode for the float32-level budget).
  CudaOptions options;
  options.precision = Precision::exact;
  CudaOps gpu(options);
  const Layout s = kLayouts[2];
  const int64_t W = s.kv_heads * s.dim, cap = 700, Q = s.heads * s.dim;
  Cache c(gpu, cap, W, W + 2);
  for (const int64_t n : {1, 4}) {
    std::vector<float> q = random_floats(n * Q, -2, 2);
    const std::vector<float> want = reference(s, c, q, n, 600, Q);
    DeviceFloats dq(gpu, q);
    const std::vector<float> got = run(gpu, s, c, dq, n, 600, Q, nullptr);
    EXPECT_LT(max_rel_error(got, want), n == 1 ? kFp32 : kSplitBf16) << "n " << n;
  }
}


class CudaAttentionPrefillTest : public CudaAttentionTest, public ::testing::WithParamInterface<Precision> {};

TEST_P(CudaAttentionPrefillTest, PrefillMatchesCpuWithinThePrecisionBudget) {
  const Precision precision = GetParam();
  // Fast mode with the position on the host runs the cuBLAS path.
  const double budget = precision == Precision::fast ? kAttentionCublas : kSplitBf16;
  CudaOptions options;
  options.precision = precision;
  CudaOps gpu(options);
  struct Run {
    int64_t n, first;
  };
  double worst = 0;
  for (const Layout& s : kLayouts) {
    const int64_t cap = 2200, Q = s.heads * s.dim;
    Cache c(gpu, cap, s.kv_heads * s.dim, s.kv_heads * s.dim);
    std::vector<Run> runs = {{9, 1}, {17, 100}, {64, 64}, {65, 7}, {333, 1000}};
    if (s.dim == 256 || s.dim == 64) runs.push_back({1024, 1100});
    for (const Run r : runs) {
      std::vector<float> q = random_floats(r.n * Q, -2, 2);
      const std::vector<float> want = reference(s, c, q, r.n, r.first, Q);
      DeviceFloats dq(gpu, q);
      const std::vector<float> got = run(gpu, s, c, dq, r.n, r.first, Q, nullptr);
      const double err = max_rel_error(got, want);
      worst = std::max(worst, err);
      EXPECT_LT(err, budget) << s.name << " n " << r.n << " after " << r.first;
    }
  }
  std::printf("cuda largest error attention prefill %s: %.3g (budget %.3g)\n",
              precision == Precision::fast ? "fast" : "exact", worst, budget);
}

TEST_F(CudaAttentionTest, FastPrefillOnCublasMatchesCpuAtModelShapesFromEveryStart) {
  CudaOps gpu;  // Precision::fast
  struct Run {
    int64_t n, first;
  };
  double worst = 0;
  for (const Layout& s : {kLayouts[0], kLayouts[1], kLayouts[3], kLayouts[5]}) {
    const int64_t cap = 4900, Q = s.heads * s.dim, q_stride = Q + 4;
    Cache c(gpu, cap, s.kv_heads * s.dim, s.kv_heads * s.dim + 4);
    std::vector<Run> runs;
    for (const int64_t n : {9, 64, 100, 1024})
      for (const int64_t first : {0, 777}) runs.push_back({n, first});
    // 4096 queries: four blocks of the production plan (kAttentionMaxBlockRows); the CPU reference is the
    // slow part, so one start per layout.
    runs.push_back({4096, s.heads == 24 ? 300 : 0});
    for (const Run r : runs) {
      AttentionLaunch shape;  // what CudaOps hands on: the cuBLAS path must take it
      shape.q_stride = q_stride, shape.kv_stride = c.stride, shape.out_stride = Q + 8, shape.n = r.n;
      shape.first_position = r.first, shape.heads = static_cast<int>(s.heads);
      shape.kv_heads = static_cast<int>(s.kv_heads), shape.head_dim = static_cast<int>(s.dim);
      ASSERT_TRUE(cublas_attention_supports(shape));
      std::vector<float> q = random_floats(r.n * q_stride, -2, 2);
      const std::vector<float> want = reference(s, c, q, r.n, r.first, q_stride);
      DeviceFloats dq(gpu, q);
      const std::vector<float> got = run(gpu, s, c, dq, r.n, r.first, q_stride, nullptr);
      const double err = max_rel_error(got, want);
      worst = std::max(worst, err);
      EXPECT_LT(err, kAttentionCublas) << s.name << " n " << r.n << " after " << r.first;
    }
  }
  std::printf("cuda largest error attention prefill fast (cuBLAS, TF32 scores, bf16 P.V): %.3g (budget %.3g)\n", worst, kAttentionCublas);
}

TEST_F(CudaAttentionTest, FastPrefillOnCublasAfterALongContextMatchesCpu) {
  // Past 16384 keys a score row no longer fits the register-resident softmax: the two-read kernel runs.
  CudaOps gpu;
  double worst = 0;
  for (const Layout& s : {kLayouts[0], kLayouts[3]}) {
    const int64_t cap = 20100, Q = s.heads * s.dim;
    Cache c(gpu, cap, s.kv_heads * s.dim, s.kv_heads * s.dim);
    for (const auto& [n, first] : {std::pair<int64_t, int64_t>{100, 16300}, {9, 20000}}) {
      std::vector<float> q = random_floats(n * Q, -2, 2);
      const std::vector<float> want = reference(s, c, q, n, first, Q);
      DeviceFloats dq(gpu, q);
      const double err = max_rel_error(run(gpu, s, c, dq, n, first, Q, nullptr), want);
      worst = std::max(worst, err);
      EXPECT_LT(err, kAttentionCublas) << s.name << " n " << n << " after " << first;
    }
  }
  std::printf("cuda largest error attention prefill fast (cuBLAS, long context): %.3g (budget %.3g)\n", worst,
              kAttentionCublas);
}

TEST_F(CudaAttentionTest, FastPrefillOnCublasSplitIntoManySmallBlocksMatchesCpu) {
  // A score budget that fits only 64 rows: 300 queries run as five blocks, the last one partial, each
  // block seeing a longer key prefix than the one before.
  CudaOps gpu;
  const cublasHandle_t handle = [] {
    cublasHandle_t h = nullptr;
    EXPECT_EQ(cublas_library().create(&h), CUBLAS_STATUS_SUCCESS);
    return h;
  }();
  ASSERT_NE(handle, nullptr);
  ASSERT_EQ(cublas_library().set_stream(handle, gpu.stream()), CUBLAS_STATUS_SUCCESS);
  double worst = 0;
  for (const Layout& s : {kLayouts[1], kLayouts[4]}) {
    const int64_t n = 300, first = 50, cap = 400, Q = s.heads * s.dim, out_stride = Q + 8;
    const int group = static_cast<int>(s.heads / s.kv_heads);
    const size_t budget = static_cast<size_t>(group) * score_row_floats(first + n) * kAttentionBytesPerScore * 64;
    ASSERT_EQ(plan_attention_blocks(n, first, group, budget).rows, 64);
    Cache c(gpu, cap, s.kv_heads * s.dim, s.kv_heads * s.dim);
    std::vector<float> q = random_floats(n * Q, -2, 2);
    const std::vector<float> want = reference(s, c, q, n, first, Q);
    DeviceFloats dq(gpu, q), out(gpu, n * out_stride);
    const size_t ws_bytes = cublas_attention_workspace_bytes(static_cast<int>(s.heads), static_cast<int>(s.kv_heads),
                                                             static_cast<int>(s.dim), n, first, budget);
    void* ws = gpu.alloc(ws_bytes);
    out.poison();
    CublasAttentionLaunch l;
    l.a.q = dq.get(), l.a.q_stride = Q;
    l.a.k_cache = c.dk.get(), l.a.v_cache = c.dv.get(), l.a.kv_stride = c.stride, l.a.capacity = cap;
    l.a.out = out.get(), l.a.out_stride = out_stride, l.a.n = n, l.a.first_position = first;
    l.a.heads = static_cast<int>(s.heads), l.a.kv_heads = static_cast<int>(s.kv_heads), l.a.head_dim = static_cast<int>(s.dim);
    l.a.scale = scale(s), l.a.fast = true;
    l.cublas = handle, l.workspace = ws, l.budget_bytes = budget;
    launch_attention_cublas(l, gpu.stream());
    const std::vector<float> raw = out.download();
    const double err = max_rel_error(packed(raw, n, Q, out_stride), want);
    worst = std::max(worst, err);
    EXPECT_LT(err, kAttentionCublas) << s.name;
    for (int64_t r = 0; r < n; ++r)
      for (int64_t i = Q; i < out_stride; ++i) ASSERT_TRUE(std::isnan(raw[r * out_stride + i])) << "row padding written";
    gpu.release(ws);
  }
  cublas_library().destroy(handle);
  std::printf("cuda largest error attention prefill fast (cuBLAS, 64-row blocks): %.3g (budget %.3g)\n", worst,
              kAttentionCublas);
}

TEST_F(CudaAttentionTest, FastPrefillWithTheDevicePositionKeepsTheBf16KernelAndMatchesCpu) {
  // The cuBLAS path needs the position on the host; a device position (recorded steps) takes the
  // one-bf16-MMA kernel of attention.cu.
  CudaOps gpu;
  auto* pos = static_cast<int64_t*>(gpu.alloc(8));
  double worst = 0;
  for (const Layout& s : {kLayouts[0], kLayouts[1], kLayouts[4]}) {
    const int64_t cap = 1200, Q = s.heads * s.dim, n = 333, first = 500;
    Cache c(gpu, cap, s.kv_heads * s.dim, s.kv_heads * s.dim);
    std::vector<float> q = random_floats(n * Q, -2, 2);
    const std::vector<float> want = reference(s, c, q, n, first, Q);
    DeviceFloats dq(gpu, q);
    gpu.upload(pos, &first, 8);
    const double err = max_rel_error(run(gpu, s, c, dq, n, first, Q, pos), want);
    worst = std::max(worst, err);
    EXPECT_LT(err, kAttentionBf16) << s.name;
  }
  gpu.release(pos);
  std::printf("cuda largest error attention prefill fast (bf16 kernel, device position): %.3g (budget %.3g)\n", worst,
              kAttentionBf16);
}

INSTANTIATE_TEST_SUITE_P(Precisions, CudaAttentionPrefillTest, ::testing::Values(Precision::fast, Precision::exact),
                         [](const auto& info) { return std::string(info.param == Precision::fast ? "Fast" : "Exact"); });

}  // namespace
}  // namespace hearth::engine::cuda
