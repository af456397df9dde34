// The CUDA matmul against the CPU reference, for every stored weight format, on fresh random inputs:
// the matrix-vector kernel for up to 8 rows (float32 in both precisions); above that, in
// Precision::exact the split-bf16 tensor-core GEMM, in Precision::fast the single-MMA GEMM (fewer than
// kCublasMinTokens rows) or the bf16 weight copy + cuBLAS path; the grouped MoE GEMMs in fast mode; and
// the embedding lookup. Error budgets: cuda_test_util.h.
#include <gtest/gtest.h>

#include <algorithm>
#include <thread>

#include "cuda_test_util.h"
#include "engine/cuda/gemm/gemm.h"

namespace hearth::engine::cuda {
namespace {

using namespace testing;

struct MatmulCase {
  std::string format;
  int64_t rows, cols, n;
  bool accumulate = false;
  int64_t x_pad = 0, y_pad = 0;  // extra floats between rows (strided views)
  Precision precision = Precision::exact;
};

std::string case_name(const MatmulCase& c) {
  return std::string(c.precision == Precision::fast ? "fast_" : "exact_") + c.format + "_" + std::to_string(c.rows) +
         "x" + std::to_string(c.cols) + "_n" + std::to_string(c.n) + (c.accumulate ? "_acc" : "") +
         (c.x_pad || c.y_pad ? "_strided" : "");
}

CudaOptions with_precision(Precision p) {
  CudaOptions o;
  o.precision = p;
  return o;
}

struct Outputs {
  std::vector<float> got, want;
};

Outputs run_matmul_case(CudaOps& gpu, cpu::CpuOps& cpu, const MatmulCase& c) {
  HostWeight hw = random_weight(format_named(c.format), c.rows, c.cols);
  const WeightMatrix dw = gpu.place_weight(hw.m);
  const int64_t xs = c.cols + c.x_pad, ys = c.rows + c.y_pad;
  std::vector<float> x = random_floats(static_cast<size_t>(c.n * xs));
  std::vector<float> y0 = random_floats(static_cast<size_t>(c.n * ys));
  std::vector<float> y_cpu = y0;
  cpu.matmul({&hw.m, host_tensor(x, c.n, c.cols, xs), host_tensor(y_cpu, c.n, c.rows, ys), c.accumulate});

  DeviceFloats dx(gpu, x), dy(gpu, y0);
  if (!c.accumulate) dy.poison();
  gpu.matmul({&dw, dx.tensor(c.n, c.cols, xs), dy.tensor(c.n, c.rows, ys), c.accumulate});
  return {packed(dy.download(), c.n, c.rows, ys), packed(y_cpu, c.n, c.rows, ys)};
}

class CudaMatmul : public ::testing::TestWithParam<MatmulCase> {};

// Exact mode everywhere and fast mode for decode sizes: float32-level agreement.
TEST_P(CudaMatmul, MatchesCpuReferenceToFloat32LevelInExactModeAndForDecodeSizes) {
  HEARTH_REQUIRE_GPU();
  const MatmulCase& c = GetParam();
  CudaOps gpu(with_precision(c.precision));
  cpu::CpuOps cpu(2);
  const Outputs o = run_matmul_case(gpu, cpu, c);
  const double err = max_rel_error(o.got, o.want);
  const double tol = c.n <= kMatvecMaxTokens ? kFp32 : kSplitBf16;
  EXPECT_LT(err, tol) << case_name(c);
  std::printf("[ matmul error ] %-52s %.3g (budget %.0e)\n", case_name(c).c_str(), err, tol);
}

class CudaMatmulFast : public ::testing::TestWithParam<MatmulCase> {};

// Fast mode at prefill sizes: within the bf16 budget, norm-wise and element-wise.
TEST_P(CudaMatmulFast, MatchesCpuReferenceWithinTheBf16Budget) {
  HEARTH_REQUIRE_GPU();
  const MatmulCase& c = GetParam();
  ASSERT_GT(c.n, kMatvecMaxTokens);
  CudaOps gpu(with_precision(Precision::fast));
  cpu::CpuOps cpu(2);
  const Outputs o = run_matmul_case(gpu, cpu, c);
  const double norm = norm_rel_error(o.got, o.want), max = max_rel_error(o.got, o.want);
  EXPECT_LT(norm, kBf16Norm) << case_name(c);
  EXPECT_LT(max, kBf16Max) << case_name(c);
  std::printf("[ fast matmul error ] %-52s norm %.3g max %.3g (%s)\n", case_name(c).c_str(), norm, max,
              c.n < kCublasMinTokens ? "single-MMA kernel" : "cuBLAS");
}

// Fast mode must really round to bf16 on the prefill path: a product whose float32 result differs from
// its bf16-operand result by far more than float32 rounding shows which arithmetic ran, so a fast mode
// that silently fell back to the exact kernels (or exact mode that lost its split) fails here.
TEST(CudaMatmulPrecision, FastModeRoundsOperandsToBf16AndExactModeDoesNot) {
  HEARTH_REQUIRE_GPU();
  const int64_t rows = 64, cols = 256;
  for (const int64_t n : {int64_t{16}, int64_t{100}}) {  // single-MMA kernel and cuBLAS
    HostWeight hw = random_weight(format_named("f32"), rows, cols);
    std::vector<float> x(static_cast<size_t>(n * cols));
    // 1 + 2^-12: bf16 rounds it to 1, float32 keeps it.
    for (auto& v : x) v = 1.0f + 1.0f / 4096.0f;
    std::vector<float> want(static_cast<size_t>(n * rows));
    cpu::CpuOps cpu(2);
    cpu.matmul({&hw.m, host_tensor(x, n, cols), host_tensor(want, n, rows), false});
    for (const Precision p : {Precision::exact, Precision::fast}) {
      CudaOps gpu(with_precision(p));
      const WeightMatrix dw = gpu.place_weight(hw.m);
      DeviceFloats dx(gpu, x), dy(gpu, static_cast<size_t>(n * rows));
      dy.poison();
      gpu.matmul({&dw, dx.tensor(n, cols), dy.tensor(n, rows), false});
      const std::vector<float> got = dy.download();
      // The bf16 result: the same sums over bf16-rounded operands (x rounds to exactly 1).
      double bf16_gap = 0, scale = 0;
      for (int64_t t = 0; t < n; ++t)
        for (int64_t r = 0; r < rows; ++r) {
          double s = 0;
          for (int64_t k = 0; k < cols; ++k) s += bf16_to_f32(f32_to_bf16(reinterpret_cast<const float*>(hw.data.data())[r * cols + k]));
          bf16_gap = std::max(bf16_gap, std::fabs(static_cast<double>(got[t * rows + r]) - s));
          scale = std::max(scale, std::fabs(s));
        }
      const double to_fp32 = max_rel_error(got, want);
      if (p == Precision::exact) {
        EXPECT_LT(to_fp32, kSplitBf16) << "n " << n;
      } else {
        EXPECT_GT(to_fp32, kSplitBf16) << "n " << n << ": fast mode computed float32-faithfully";
        EXPECT_LT(bf16_gap / scale, kSplitBf16) << "n " << n << ": fast mode is not the bf16-operand product";
      }
    }
  }
}

std::vector<MatmulCase> matmul_cases() {
  std::vector<MatmulCase> cases;
  for (const auto& f : all_formats()) {
    // Decode sizes (matrix-vector kernel) and prefill sizes (GEMM, with a partial last tile).
    for (int64_t n : {1, 5, 8, 9, 100}) cases.push_back({f.name, 200, 256, n, n == 5});
  }
  // Strided, unaligned views (scalar loads) on both paths.
  cases.push_back({"affine4_g64", 72, 192, 3, false, 3, 5});
  cases.push_back({"affine4_g64", 72, 192, 33, true, 3, 5});
  // Shapes with a column count that is no multiple of 32: the generic decoder.
  cases.push_back({"bf16", 130, 80, 1});
  cases.push_back({"bf16", 130, 80, 40});
  cases.push_back({"nvfp4", 130, 80, 2});
  cases.push_back({"nvfp4", 130, 80, 40});
  // Larger: many blocks, several GEMM K steps, and matrix-vector column slices (8 x 4096 floats
  // exceed one block's staging budget).
  cases.push_back({"affine4_g64", 1000, 2048, 1});
  cases.push_back({"affine4_g64", 1000, 2048, 130});
  cases.push_back({"affine4_g64", 64, 4096, 8, true});
  cases.push_back({"mxfp4", 64, 4096, 8});
  // Fast mode at decode sizes runs the same float32 matrix-vector kernel.
  cases.push_back({"affine4_g64", 200, 256, 1, false, 0, 0, Precision::fast});
  cases.push_back({"nvfp4", 200, 256, 8, true, 0, 0, Precision::fast});
  return cases;
}

std::vector<MatmulCase> fast_matmul_cases() {
  const Precision F = Precision::fast;
  std::vector<MatmulCase> cases;
  for (const auto& f : all_formats()) {
    // 9: single-MMA kernel; 100 and 1024: cuBLAS (partial last tiles of both).
    for (int64_t n : {9, 100, 1024}) cases.push_back({f.name, 200, 256, n, n == 100, 0, 0, F});
  }
  // Either side of the cuBLAS threshold, accumulating.
  cases.push_back({"affine4_g64", 200, 256, kCublasMinTokens - 1, true, 0, 0, F});
  cases.push_back({"affine4_g64", 200, 256, kCublasMinTokens, true, 0, 0, F});
  // Column counts that are no multiple of 8 (dense only: quantised rows are whole groups): the bf16
  // copies are zero-padded to 80 columns.
  for (const char* f : {"f32", "bf16", "f16"}) {
    cases.push_back({f, 130, 77, 40, false, 0, 0, F});
    cases.push_back({f, 130, 77, 20, true, 0, 0, F});
  }
  // No multiple of 32 (generic decoders), and a single output row.
  cases.push_back({"nvfp4", 130, 80, 40, false, 0, 0, F});
  cases.push_back({"bf16", 1, 256, 100, false, 0, 0, F});
  // Strided, unaligned activations and outputs (odd leading dimension for cuBLAS).
  cases.push_back({"affine4_g64", 72, 192, 33, true, 3, 5, F});
  cases.push_back({"affine4_g64", 72, 192, 100, false, 3, 5, F});
  cases.push_back({"bf16", 72, 192, 100, true, 1, 3, F});
  cases.push_back({"affine4_g64", 72, 192, 12, false, 3, 5, F});
  // Model shapes: Qwen3.6-35B-A3B's [8192, 2048] projection and a 27B-like [5120, 6144] slice (4-bit g64),
  // bf16 stored (no copy: cuBLAS reads the weights directly), 8-bit.
  cases.push_back({"affine4_g64", 8192, 2048, 100, false, 0, 0, F});
  cases.push_back({"affine4_g64", 5120, 6144, 40, true, 0, 0, F});
  cases.push_back({"bf16", 2048, 2048, 256, false, 0, 0, F});
  cases.push_back({"affine8_g64", 1000, 2048, 130, false, 0, 0, F});
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Formats, CudaMatmul, ::testing::ValuesIn(matmul_cases()),
                         [](const ::testing::TestParamInfo<MatmulCase>& info) { return case_name(info.param); });
INSTANTIATE_TEST_SUITE_P(Formats, CudaMatmulFast, ::testing::ValuesIn(fast_matmul_cases()),
                         [](const ::testing::TestParamInfo<MatmulCase>& info) { return case_name(info.param); });

// The grouped MoE GEMMs (prefill sizes) with one bf16 MMA per product against the CPU MoE: every
// format (affine 4/8-bit with bf16 scales take the tensor-core kernels of moe_gemm_fast.cu, the rest the
// general grouped kernel), tiny shapes and the 35B-A3B shape.
struct MoeFastShape {
  int64_t experts, top_k, hidden, inter;
};

void expect_fast_moe_matches_cpu(const FormatSpec& f, const MoeFastShape& s, const std::vector<int64_t>& ns) {
  CudaOps gpu(with_precision(Precision::fast));
  cpu::CpuOps cpu(static_cast<int>(std::max(2u, std::thread::hardware_concurrency())));
  const int64_t E = s.experts, k = s.top_k, H = s.hidden, I = s.inter;
  std::vector<HostWeight> hg, hu, hd;
  WeightStack sg, su, sd, dg, du, dd;
  for (int64_t e = 0; e < E; ++e) {
    hg.push_back(random_weight(f, I, H));
    hu.push_back(random_weight(f, I, H));
    hd.push_back(random_weight(f, H, I));
  }
  for (int64_t e = 0; e < E; ++e) {
    sg.experts.push_back(hg[e].m), su.experts.push_back(hu[e].m), sd.experts.push_back(hd[e].m);
    dg.experts.push_back(gpu.place_weight(hg[e].m));
    du.experts.push_back(gpu.place_weight(hu[e].m));
    dd.experts.push_back(gpu.place_weight(hd[e].m));
  }
  for (int64_t n : ns) {
    std::vector<float> x = random_floats(n * H), logits = random_floats(n * E, -3, 3), rw(n * k);
    std::vector<int32_t> idx(n * k);
    cpu.route({host_tensor(logits, n, E), k, true, idx.data(), rw.data()});
    std::vector<float> out0 = random_floats(n * H), want = out0;
    cpu.moe({host_tensor(x, n, H), &sg, &su, &sd, idx.data(), rw.data(), k, host_tensor(want, n, H)});
    // Compare the MoE's contribution (out − out0): the residual it accumulates into is exact.
    DeviceFloats dx(gpu, x), drw(gpu, rw), dout(gpu, out0);
    auto* di = static_cast<int32_t*>(gpu.alloc(n * k * 4));
    gpu.upload(di, idx.data(), idx.size() * 4);
    gpu.moe({dx.tensor(n, H), &dg, &du, &dd, di, drw.get(), k, dout.tensor(n, H)});
    std::vector<float> got = dout.download();
    for (size_t i = 0; i < got.size(); ++i) got[i] -= out0[i], want[i] -= out0[i];
    const double norm = norm_rel_error(got, want), max = max_rel_error(got, want);
    EXPECT_LT(norm, kBf16Norm) << f.name << " E " << E << " H " << H << " I " << I << " n " << n;
    EXPECT_LT(max, kBf16Max) << f.name << " E " << E << " H " << H << " I " << I << " n " << n;
    std::printf("[ fast moe error ] %-22s E %-3lld H %-4lld I %-4lld n %-4lld norm %.3g max %.3g\n", f.name.c_str(),
                static_cast<long long>(E), static_cast<long long>(H), static_cast<long long>(I),
                static_cast<long long>(n), norm, max);
    gpu.release(di);
  }
}

TEST(CudaMoeFast, GroupedPrefillMatchesCpuWithinTheBf16Budget) {
  HEARTH_REQUIRE_GPU();
  // Whole groups of every format (up to 128).
  for (const auto& f : all_formats()) expect_fast_moe_matches_cpu(f, {8, 3, 256, 128}, {9, 100, 333});
}

// Sizes that are no multiple of the fast kernels' 128-row tiles: 3 gate/up tiles of 64 inter rows, a
// partial down tile (192 output rows), one expert taking most tokens (top-1 of 3).
TEST(CudaMoeFast, TensorCoreKernelsHandlePartialTiles) {
  HEARTH_REQUIRE_GPU();
  for (const char* name : {"affine4_g32", "affine4_g64", "affine8_g32", "affine8_g64"}) {
    expect_fast_moe_matches_cpu(format_named(name), {3, 1, 192, 192}, {9, 65, 200});
    expect_fast_moe_matches_cpu(format_named(name), {5, 2, 320, 64}, {17, 129});
  }
}

// Qwen3.6-35B-A3B's routed experts: 256 experts, top-8, hidden 2048, inter 512.
TEST(CudaMoeFast, ModelShapeMatchesCpuWithinTheBf16Budget) {
  HEARTH_REQUIRE_GPU();
  expect_fast_moe_matches_cpu(format_named("affine4_g64"), {256, 8, 2048, 512}, {9, 333, 1024, 4096});
  expect_fast_moe_matches_cpu(format_named("affine8_g64"), {256, 8, 2048, 512}, {333, 1024});
}

class CudaEmbed : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaEmbed, RowsMatchCpuDecoding) {
  HEARTH_REQUIRE_GPU();
  CudaOps gpu(with_precision(Precision::exact));
  cpu::CpuOps cpu(2);
  HostWeight hw = random_weight(format_named(GetParam()), 300, 128);
  const WeightMatrix dw = gpu.place_weight(hw.m);
  const std::vector<Token> tokens = {0, 299, 17, 17, 150};
  std::vector<float> want(tokens.size() * 128);
  cpu.embed({&hw.m, tokens, host_tensor(want, 5, 128)});
  DeviceFloats out(gpu, tokens.size() * 128);
  out.poison();
  gpu.embed({&dw, tokens, out.tensor(5, 128)});
  EXPECT_EQ(max_rel_error(out.download(), want), 0.0);
}

TEST(CudaEmbedErrors, TokenOutsideTheVocabularyIsAnError) {
  HEARTH_REQUIRE_GPU();
  CudaOps gpu;
  HostWeight hw = random_weight(format_named("bf16"), 10, 32);
  const WeightMatrix dw = gpu.place_weight(hw.m);
  DeviceFloats out(gpu, 32);
  const std::vector<Token> bad = {10};
  EXPECT_THROW(gpu.embed({&dw, bad, out.tensor(1, 32)}), Error);
}

INSTANTIATE_TEST_SUITE_P(Formats, CudaEmbed,
                         ::testing::Values("f32", "bf16", "affine4_g64", "affine8_g32", "affine3_g64", "mxfp4", "nvfp4",
                                           "mxfp8"));

}  // namespace
}  // namespace hearth::engine::cuda
