// The CUDA matmul (matrix-vector kernel for up to 8 rows, dequantising tensor-core GEMM above) and the
// embedding lookup against the CPU reference, for every stored weight format, on fresh random inputs.
#include <gtest/gtest.h>

#include "cuda_test_util.h"

namespace hearth::engine::cuda {
namespace {

using namespace testing;

struct MatmulCase {
  std::string format;
  int64_t rows, cols, n;
  bool accumulate = false;
  int64_t x_pad = 0, y_pad = 0;  // extra floats between rows (strided views)
};

std::string case_name(const MatmulCase& c) {
  return c.format + "_" + std::to_string(c.rows) + "x" + std::to_string(c.cols) + "_n" + std::to_string(c.n) +
         (c.accumulate ? "_acc" : "") + (c.x_pad || c.y_pad ? "_strided" : "");
}

double run_matmul_case(CudaOps& gpu, cpu::CpuOps& cpu, const MatmulCase& c) {
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
  return max_rel_error(packed(dy.download(), c.n, c.rows, ys), packed(y_cpu, c.n, c.rows, ys));
}

class CudaMatmul : public ::testing::TestWithParam<MatmulCase> {};

TEST_P(CudaMatmul, MatchesCpuReference) {
  HEARTH_REQUIRE_GPU();
  CudaOps gpu;
  cpu::CpuOps cpu(2);
  const MatmulCase& c = GetParam();
  const double err = run_matmul_case(gpu, cpu, c);
  const double tol = c.n <= kMatvecMaxTokens ? kFp32 : kSplitBf16;
  EXPECT_LT(err, tol) << case_name(c);
  std::printf("[ matmul error ] %-44s %.3g (budget %.0e)\n", case_name(c).c_str(), err, tol);
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
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Formats, CudaMatmul, ::testing::ValuesIn(matmul_cases()),
                         [](const ::testing::TestParamInfo<MatmulCase>& info) { return case_name(info.param); });

class CudaEmbed : public ::testing::TestWithParam<std::string> {};

TEST_P(CudaEmbed, RowsMatchCpuDecoding) {
  HEARTH_REQUIRE_GPU();
  CudaOps gpu;
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
