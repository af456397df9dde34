// The conformance harness (op_conformance.h) that checks a backend against the CPU reference, run on
// two CPU configurations: portable kernels on one thread vs AVX2 kernels on two threads. The CUDA
// backend's tests run the same harness against CpuOps.
#include <gtest/gtest.h>

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
  EXPECT_GE(diffs.size(), 20u);
  for (const auto& d : diffs) EXPECT_LE(d.relative_error, d.tolerance) << d.op;
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
    else EXPECT_LE(d.relative_error, d.tolerance) << d.op;
  }
  EXPECT_TRUE(flagged);
}

}  // namespace
}  // namespace hearth::engine
