// The decode matrix-vector launches (launch_matvec_jobs, and launch_matvec through it) against a float64
// reference on the same packed weights: the tensor-core kernel for affine 4-/8-bit g64/g128 at the
// model shapes and odd sizes, 1..8 tokens, every staged-input transform, multi-job launches mixing
// covered and uncovered formats, inputs of wide dynamic range. Outputs are NaN-poisoned unless the
// job accumulates.
//
// Error budget: max |gpu − ref| / max |ref| per job <= kTensorCoreBudget = 1e-5. Expected ~1e-6: the
// codes are exact in fp16, the input's hi + lo split keeps ~22 bits, products and sums are float32.
#include <gtest/gtest.h>

#include <cmath>
#include <string>
#include <vector>

#include "cuda_test_util.h"
#include "engine/cuda/matvec/matvec_variants.h"

namespace hearth::engine::cuda {
namespace {

using namespace testing;

constexpr double kTensorCoreBudget = 1e-5;

enum class Range { unit, wide };  // wide: |x| = 10^U(-6, 5) with random signs

struct JobSpec {
  std::string format;
  int64_t rows;
  bool accumulate = false;
};

struct JobsCase {
  std::string name;
  std::vector<JobSpec> jobs;
  int64_t cols;
  int64_t n;
  StageTransform transform = StageTransform::none;
  Range range = Range::unit;
  int64_t x_pad = 0, y_pad = 0;
};

std::vector<float> input_values(size_t count, Range range) {
  if (range == Range::unit) return random_floats(count);
  std::vector<float> v(count);
  for (auto& x : v) x = std::pow(10.0f, uniform(-6.0f, 5.0f)) * (uniform(0, 1) < 0.5f ? -1.0f : 1.0f);
  return v;
}

// x̂ of the reference, float64.
std::vector<double> transformed_input(const JobsCase& c, const std::vector<float>& x, const std::vector<float>& up,
                                      const std::vector<float>& norm_weight, int64_t xs) {
  std::vector<double> out(static_cast<size_t>(c.n * c.cols));
  for (int64_t t = 0; t < c.n; ++t) {
    double mean_sq = 0;
    for (int64_t j = 0; j < c.cols; ++j) mean_sq += double(x[t * xs + j]) * x[t * xs + j];
    const double inv_rms = 1.0 / std::sqrt(mean_sq / double(c.cols) + 1e-6);
    for (int64_t j = 0; j < c.cols; ++j) {
      const double v = x[t * xs + j];
      double r = v;
      if (c.transform == StageTransform::rms_norm) r = v * inv_rms * norm_weight[j];
      if (c.transform == StageTransform::swiglu) r = v / (1.0 + std::exp(-v)) * up[t * xs + j];
      out[t * c.cols + j] = r;
    }
  }
  return out;
}

// The shared test formats plus the 8-bit g128 layout, which only this kernel treats specially.
FormatSpec spec_named(const std::string& name) {
  if (name == "affine8_g128") return {name, WeightFormat::affine, DType::bf16, 8, 128};
  return format_named(name);
}

struct JobsResult {
  std::vector<double> errors;  // per job; -1 for a job the path does not cover (not launched)
};

// Which entry point runs the case: launch_matvec_jobs (picks a kernel per token count and format), or
// one kernel directly with only the jobs it covers.
enum class Path { dispatch, tensor_core, streaming };

const char* path_name(Path p) {
  switch (p) {
    case Path::tensor_core: return "tensor-core";
    case Path::streaming: return "streaming";
    default: return "dispatch";
  }
}

JobsResult run_jobs_case(CudaOps& gpu, const JobsCase& c, Path path = Path::dispatch) {
  const int64_t xs = c.cols + c.x_pad;
  std::vector<float> x = input_values(static_cast<size_t>(c.n * xs), c.range);
  std::vector<float> up = random_floats(static_cast<size_t>(c.n * xs), -2.0f, 2.0f);
  std::vector<float> norm_weight = random_floats(static_cast<size_t>(c.cols), 0.5f, 1.5f);
  const std::vector<double> xh = transformed_input(c, x, up, norm_weight, xs);
  DeviceFloats dx(gpu, x), dup(gpu, up), dnorm(gpu, norm_weight);

  StageInput in;
  in.x = dx.get();
  in.x_stride = xs;
  in.cols = c.cols;
  in.n = c.n;
  in.transform = c.transform;
  in.norm_weight = dnorm.get();
  in.eps = 1e-6f;
  in.up = dup.get();
  in.up_stride = xs;

  std::vector<HostWeight> host;
  std::vector<std::unique_ptr<DeviceFloats>> ys;
  std::vector<std::vector<float>> y0;
  std::vector<MatvecJob> jobs;
  host.reserve(c.jobs.size());
  for (const JobSpec& js : c.jobs) {
    host.push_back(random_weight(spec_named(js.format), js.rows, c.cols));
    const int64_t ystride = js.rows + c.y_pad;
    y0.push_back(random_floats(static_cast<size_t>(c.n * ystride)));
    ys.push_back(std::make_unique<DeviceFloats>(gpu, y0.back()));
    if (!js.accumulate) ys.back()->poison();
    MatvecJob job;
    job.w = gpu.place_weight(host.back().m);
    job.y = ys.back()->get();
    job.y_stride = ystride;
    job.accumulate = js.accumulate;
    jobs.push_back(job);
  }
  std::vector<bool> launched(jobs.size(), true);
  if (path == Path::dispatch) {
    launch_matvec_jobs(in, jobs.data(), static_cast<int>(jobs.size()), gpu.stream());
  } else {
    std::vector<MatvecJob> covered;
    for (size_t j = 0; j < jobs.size(); ++j) {
      launched[j] = path == Path::tensor_core ? matvec_tc_covers(jobs[j].w) : matvec_stream_covers(jobs[j].w);
      if (launched[j]) covered.push_back(jobs[j]);
    }
    if (!covered.empty()) {
      if (path == Path::tensor_core) {
        launch_matvec_tc(in, covered.data(), static_cast<int>(covered.size()), gpu.stream());
      } else {
        launch_matvec_stream(in, covered.data(), static_cast<int>(covered.size()), gpu.stream());
      }
    }
  }

  JobsResult result;
  std::vector<float> row(static_cast<size_t>(c.cols));
  for (size_t j = 0; j < c.jobs.size(); ++j) {
    const JobSpec& js = c.jobs[j];
    if (!launched[j]) {
      result.errors.push_back(-1.0);
      continue;
    }
    const int64_t ystride = js.rows + c.y_pad;
    std::vector<float> want(static_cast<size_t>(c.n * js.rows));
    for (int64_t r = 0; r < js.rows; ++r) {
      decode_row(host[j].m, r, row.data());
      for (int64_t t = 0; t < c.n; ++t) {
        double s = js.accumulate ? y0[j][t * ystride + r] : 0.0;
        const double* xt = xh.data() + t * c.cols;
        for (int64_t k = 0; k < c.cols; ++k) s += double(row[k]) * xt[k];
        want[t * js.rows + r] = static_cast<float>(s);
      }
    }
    result.errors.push_back(max_rel_error(packed(ys[j]->download(), c.n, js.rows, ystride), want));
  }
  return result;
}

class CudaMatvecJobs : public ::testing::TestWithParam<JobsCase> {};

// Every case through the dispatching entry point, and through the kernel the dispatch rule does not pick
// for this token count on the jobs it covers (so both kernels stay tested whichever one is preferred).
TEST_P(CudaMatvecJobs, BothKernelsMatchFloat64Reference) {
  HEARTH_REQUIRE_GPU();
  CudaOps gpu;
  const JobsCase& c = GetParam();
  int64_t weights = 0;
  for (const JobSpec& js : c.jobs) weights += js.rows * c.cols;
  const Path other = matvec_prefers_stream(c.n, weights) ? Path::tensor_core : Path::streaming;
  for (Path path : {Path::dispatch, other}) {
    const JobsResult r = run_jobs_case(gpu, c, path);
    for (size_t j = 0; j < r.errors.size(); ++j) {
      const JobSpec& js = c.jobs[j];
      if (r.errors[j] < 0) continue;  // not covered by this kernel
      // Uncovered formats take the CUDA-core fallback: float32 FMAs, the same budget.
      EXPECT_LT(r.errors[j], kTensorCoreBudget) << c.name << " " << path_name(path) << " job " << j << " " << js.format;
      std::printf("[ matvec error ] %-11s %-52s job %zu %-12s [%lld, %lld] %.3g\n", path_name(path), c.name.c_str(), j,
                  js.format.c_str(), static_cast<long long>(js.rows), static_cast<long long>(c.cols), r.errors[j]);
    }
  }
}

std::string transform_name(StageTransform t) {
  switch (t) {
    case StageTransform::rms_norm: return "rmsnorm";
    case StageTransform::swiglu: return "swiglu";
    default: return "plain";
  }
}

JobsCase single(const std::string& format, int64_t rows, int64_t cols, int64_t n, bool acc = false,
                StageTransform tr = StageTransform::none, Range range = Range::unit) {
  JobsCase c;
  c.jobs = {{format, rows, acc}};
  c.cols = cols;
  c.n = n;
  c.transform = tr;
  c.range = range;
  c.name = format + "_" + std::to_string(rows) + "x" + std::to_string(cols) + "_n" + std::to_string(n) +
           (acc ? "_acc" : "") + "_" + transform_name(tr) + (range == Range::wide ? "_wide" : "");
  return c;
}

std::vector<JobsCase> jobs_cases() {
  std::vector<JobsCase> cases;
  // Model shapes (35B-A3B: hidden 2048; 27B: hidden 5120), one and eight tokens.
  const std::vector<std::pair<int64_t, int64_t>> shapes4 = {{8192, 2048}, {4096, 2048}, {32, 2048},  {2048, 4096},
                                                            {512, 2048},  {2048, 512},  {17408, 5120}, {5120, 17408},
                                                            {10240, 5120}, {5120, 6144}};
  for (const auto& [rows, cols] : shapes4)
    for (int64_t n : {1, 8}) cases.push_back(single("affine4_g64", rows, cols, n));
  for (int64_t n : {1, 3, 8}) cases.push_back(single("affine8_g64", 256, 2048, n));
  cases.push_back(single("affine8_g64", 1, 2048, 1));  // shared-expert gate row
  cases.push_back(single("affine4_g64", 248320, 2048, 1));  // lm_head, once
  // Every token count, accumulate on and off, group 128, f16/f32 scales.
  for (int64_t n = 1; n <= 8; ++n) cases.push_back(single("affine4_g64", 100, 1024, n, n % 2 == 0));
  for (int64_t n : {2, 7}) {
    cases.push_back(single("affine4_g128", 300, 1536, n, n == 7));
    cases.push_back(single("affine8_g128", 130, 768, n, n == 2));
    cases.push_back(single("affine4_g64_f16scales", 64, 512, n));
    cases.push_back(single("affine4_g64_f32scales", 64, 512, n, true));
  }
  // Odd sizes: rows not a multiple of 16, the narrowest columns, one k-tile.
  for (int64_t rows : {1, 17, 100})
    for (int64_t cols : {64, 192, 64 * 37}) {
      cases.push_back(single("affine4_g64", rows, cols, rows == 17 ? 5 : 1));
      cases.push_back(single("affine8_g64", rows, cols, rows == 1 ? 8 : 3, true));
    }
  cases.push_back(single("affine4_g128", 33, 128, 4));
  // Transforms, and wide-range inputs (the per-token fp16 scaling).
  for (auto tr : {StageTransform::rms_norm, StageTransform::swiglu})
    for (int64_t n : {1, 4, 8}) {
      cases.push_back(single("affine4_g64", 520, 2048, n, n == 4, tr));
      cases.push_back(single("affine8_g64", 256, 2048, n, false, tr));
    }
  for (int64_t n : {1, 6}) {
    cases.push_back(single("affine4_g64", 512, 2048, n, false, StageTransform::none, Range::wide));
    cases.push_back(single("affine8_g64", 100, 704, n, true, StageTransform::none, Range::wide));
    cases.push_back(single("affine4_g64", 256, 4096, n, false, StageTransform::rms_norm, Range::wide));
  }
  // Many column slices (8 tokens of 17408 columns exceed one block's staging budget several times).
  cases.push_back(single("affine4_g64", 40, 17408, 8, true, StageTransform::swiglu));
  // One token over more than 620 chunks: two column slices of the single-token kernel (the second adds
  // into y), each slice's chunk count not a multiple of 32 (the lane-major staging's padding); with
  // groups of 128 the second slice starts mid-group (chunk 322).
  cases.push_back(single("affine4_g64", 37, 32 * 700, 1, true, StageTransform::rms_norm));
  cases.push_back(single("affine4_g128", 9, 32 * 644, 1));
  // Multi-job launches: the DeltaNet input projections (qkv, z, b, a) in one launch; mixed bit widths
  // and groups; uncovered formats (second launch) beside covered ones; strided x and y.
  {
    JobsCase c;
    c.name = "deltanet_inputs_rmsnorm_n1";
    c.jobs = {{"affine4_g64", 8192}, {"affine4_g64", 4096}, {"affine4_g64", 32}, {"affine4_g64", 32}};
    c.cols = 2048;
    c.n = 1;
    c.transform = StageTransform::rms_norm;
    cases.push_back(c);
    c.name = "deltanet_inputs_rmsnorm_n8";
    c.n = 8;
    cases.push_back(c);
  }
  {
    JobsCase c;
    c.name = "mixed_covered_and_fallback_n5_strided";
    c.jobs = {{"affine4_g64", 100},  {"affine8_g64", 17, true}, {"bf16", 33},  {"affine4_g128", 64, true},
              {"mxfp4", 40},         {"affine3_g64", 20, true}, {"affine8_g32", 9}, {"affine4_g64", 1}};
    c.cols = 512;
    c.n = 5;
    c.transform = StageTransform::rms_norm;
    c.x_pad = 3;
    c.y_pad = 5;
    cases.push_back(c);
    c.name = "mixed_covered_and_fallback_n2_swiglu";
    c.n = 2;
    c.transform = StageTransform::swiglu;
    c.x_pad = c.y_pad = 0;
    cases.push_back(c);
  }
  return cases;
}

INSTANTIATE_TEST_SUITE_P(Shapes, CudaMatvecJobs, ::testing::ValuesIn(jobs_cases()),
                         [](const ::testing::TestParamInfo<JobsCase>& info) { return info.param.name; });

TEST(CudaMatvecCoverage, TensorCorePathTakesAffine4And8WithGroups64And128Only) {
  for (const auto& f : all_formats()) {
    HostWeight hw = random_weight(f, 16, 256);
    const bool want = f.format == WeightFormat::affine && (f.bits == 4 || f.bits == 8) && (f.group == 64 || f.group == 128);
    EXPECT_EQ(matvec_tc_covers(hw.m), want) << f.name;
  }
  HostWeight narrow = random_weight(format_named("affine4_g64"), 16, 64 * 3);
  EXPECT_TRUE(matvec_tc_covers(narrow.m));
  HostWeight g128_odd = random_weight(format_named("affine4_g64"), 16, 64 * 3);
  g128_odd.m.group_size = 128;  // 192 columns are no whole number of 128-groups
  EXPECT_FALSE(matvec_tc_covers(g128_odd.m));
}

TEST(CudaMatvecErrors, BadJobCountsTokenCountsAndWidthsAreErrors) {
  HEARTH_REQUIRE_GPU();
  CudaOps gpu;
  HostWeight hw = random_weight(format_named("affine4_g64"), 16, 128);
  DeviceFloats x(gpu, 8 * 256), y(gpu, 8 * 16);
  MatvecJob job;
  job.w = gpu.place_weight(hw.m);
  job.y = y.get();
  job.y_stride = 16;
  StageInput in;
  in.x = x.get();
  in.x_stride = 128;
  in.cols = 128;
  in.n = 1;
  std::vector<MatvecJob> nine(9, job);
  EXPECT_THROW(launch_matvec_jobs(in, nine.data(), 0, gpu.stream()), Error);
  EXPECT_THROW(launch_matvec_jobs(in, nine.data(), 9, gpu.stream()), Error);
  in.n = 9;
  EXPECT_THROW(launch_matvec_jobs(in, &job, 1, gpu.stream()), Error);
  in.n = 1;
  in.cols = 256;  // the matrix has 128 columns
  EXPECT_THROW(launch_matvec_jobs(in, &job, 1, gpu.stream()), Error);
}

// launch_matvec (MatmulLaunch) routes covered formats through the streaming or tensor-core kernel: same
// answer as the CUDA-core kernel, on one matrix, 1 and 8 tokens.
TEST(CudaMatvecRouting, DispatchedAndCudaCoreKernelsAgree) {
  HEARTH_REQUIRE_GPU();
  CudaOps gpu;
  for (int64_t n : {1, 8}) {
    HostWeight hw = random_weight(format_named("affine4_g64"), 200, 1024);
    const WeightMatrix dw = gpu.place_weight(hw.m);
    DeviceFloats x(gpu, random_floats(static_cast<size_t>(n * 1024))), y_tc(gpu, static_cast<size_t>(n * 200)),
        y_cc(gpu, static_cast<size_t>(n * 200));
    y_tc.poison();
    y_cc.poison();
    MatmulLaunch p;
    p.w = dw;
    p.x = x.get();
    p.x_stride = 1024;
    p.n = n;
    p.y = y_tc.get();
    p.y_stride = 200;
    launch_matvec(p, gpu.stream());
    p.y = y_cc.get();
    launch_matvec_cuda_core(p, gpu.stream());
    EXPECT_LT(max_rel_error(y_tc.download(), y_cc.download()), 2 * kFp32) << "n " << n;
  }
}

// The streaming kernel sums in a fixed order (no atomics): the same launch twice gives bit-identical
// outputs, with column slices (17408 columns of 8 tokens) and several jobs of both bit widths.
TEST(CudaMatvecStreaming, RepeatedLaunchesAreBitIdentical) {
  HEARTH_REQUIRE_GPU();
  CudaOps gpu;
  for (int64_t n : {1, 8}) {
    const int64_t cols = n == 1 ? 2048 : 17408;
    HostWeight w4 = random_weight(format_named("affine4_g64"), 300, cols);
    HostWeight w8 = random_weight(format_named("affine8_g64"), 45, cols);
    DeviceFloats x(gpu, random_floats(static_cast<size_t>(n * cols)));
    DeviceFloats norm(gpu, random_floats(static_cast<size_t>(cols), 0.5f, 1.5f));
    const WeightMatrix d4 = gpu.place_weight(w4.m), d8 = gpu.place_weight(w8.m);
    std::vector<float> first[2];
    for (int pass = 0; pass < 2; ++pass) {
      DeviceFloats y4(gpu, static_cast<size_t>(n * 300)), y8(gpu, static_cast<size_t>(n * 45));
      y4.poison();
      y8.poison();
      StageInput in;
      in.x = x.get();
      in.x_stride = cols;
      in.cols = cols;
      in.n = n;
      in.transform = StageTransform::rms_norm;
      in.norm_weight = norm.get();
      MatvecJob jobs[2];
      jobs[0].w = d4;
      jobs[0].y = y4.get();
      jobs[0].y_stride = 300;
      jobs[1].w = d8;
      jobs[1].y = y8.get();
      jobs[1].y_stride = 45;
      launch_matvec_stream(in, jobs, 2, gpu.stream());
      std::vector<float> out = y4.download(), out8 = y8.download();
      out.insert(out.end(), out8.begin(), out8.end());
      for (float v : out) ASSERT_TRUE(std::isfinite(v)) << "n " << n;
      if (pass == 0) {
        first[0] = out;
      } else {
        ASSERT_EQ(out.size(), first[0].size());
        for (size_t i = 0; i < out.size(); ++i) ASSERT_EQ(out[i], first[0][i]) << "n " << n << " element " << i;
      }
    }
  }
}

}  // namespace
}  // namespace hearth::engine::cuda
