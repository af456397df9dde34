// The conformance harness (op_conformance.h) that checks a backend against the CPU reference, run on
// two CPU configurations: portable kernels on one thread vs AVX2 kernels on two threads. The CUDA
// backend runs the same harness against CpuOps (cuda_conformance_test.cpp, label gpu).
#include <gtest/gtest.h>

#include <cmath>
#include <vector>

#include "engine/cpu/cpu_ops.h"
#include "engine/cpu/dot_kernels.h"
#include "op_conformance.h"

namespace hearth::engine {
namespace {

TEST(OpConformance, PortableSingleThreadedAndVectorisedMultiThreadedCpuKernelsAgreeOnEveryOp) {
  cpu::CpuOps reference(1), candidate(2);
  const auto diffs = testing::run_op_conformance(
      reference, candidate, 11, [] { cpu::set_isa_override(cpu::KernelIsa::portable); },
      [] { cpu::set_isa_override(cpu::best_isa()); });
  cpu::set_isa_override(cpu::best_isa());
  EXPECT_GE(diffs.size(), 57u);  // every op of ops.h, several shapes each
  for (const auto& d : diffs) EXPECT_LE(d.relative_error, d.tolerance) << d.op;
}

TEST(OpConformance, TheErrorMeasureFailsOnNanAndInfinityWhereverTheyAppear) {
  // max() skips a NaN: the measure must not. A NaN or infinity in the candidate or in the reference,
  // first, last or alone, is an infinite error, which no tolerance passes.
  const std::vector<float> ref = {1.0f, -2.0f, 0.5f};
  EXPECT_EQ(testing::relative_error(ref, ref), 0.0);
  EXPECT_NEAR(testing::relative_error({1.0f, -2.0f, 0.52f}, ref), 0.01, 1e-6);
  for (const float bad : {NAN, INFINITY, -INFINITY})
    for (size_t i = 0; i < ref.size(); ++i) {
      std::vector<float> out = ref;
      out[i] = bad;
      EXPECT_FALSE(testing::relative_error(out, ref) <= 1.0) << "candidate element " << i << " = " << bad;
      EXPECT_FALSE(testing::relative_error(ref, out) <= 1.0) << "reference element " << i << " = " << bad;
    }
  EXPECT_FALSE(testing::relative_error({NAN}, {NAN}) <= 1.0);
  EXPECT_FALSE(testing::relative_error({1.0f, 2.0f}, ref) <= 1.0);  // a missing element
}

TEST(OpConformance, AHarnessFlagsABackendThatWritesNan) {
  // Through the whole harness: a backend whose rms_norm writes a NaN into its output fails that op.
  struct NanNorm : cpu::CpuOps {
    NanNorm() : cpu::CpuOps(1) {}
    void rms_norm(const RmsNormArgs& a) override {
      cpu::CpuOps::rms_norm(a);
      a.out.row(a.out.rows - 1)[a.out.cols - 1] = NAN;
    }
  };
  cpu::CpuOps reference(1);
  NanNorm broken;
  bool flagged = false;
  for (const auto& d : testing::run_op_conformance(reference, broken))
    if (d.op == "rms_norm") flagged = !(d.relative_error <= d.tolerance);
  EXPECT_TRUE(flagged);
}

TEST(OpConformance, AHarnessDetectsAWrongBackend) {
  // A backend whose swiglu is off by a factor must fail the comparison: the harness can fail.
  struct Broken : cpu::CpuOps {
    Broken() : cpu::CpuOps(1) {}
    void swiglu(const SwiGluArgs& a) override {
      cpu::CpuOps::swiglu(a);
      for (int64_t r = 0; r < a.out.rows; ++r) a.out.row(r)[0] *= 1.01f;
    }
  };
  cpu::CpuOps reference(1);
  Broken broken;
  bool flagged = false;
  for (const auto& d : testing::run_op_conformance(reference, broken)) {
    if (d.op == "swiglu") flagged = d.relative_error > d.tolerance;
    // The fused ops whose composition runs swiglu inherit the fault; every other op still passes.
    else if (d.op.starts_with("matmul_jobs/swiglu") || d.op.starts_with("moe_block")) continue;
    else EXPECT_LE(d.relative_error, d.tolerance) << d.op;
  }
  EXPECT_TRUE(flagged);
}

}  // namespace
}  // namespace hearth::engine
