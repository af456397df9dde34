// The conformance harness (op_conformance.h) on the CUDA backend: every op of engine/ops.h — the fused
// ones at decode-sized batches (their one-kernel forms) and past them (the compositions) — against the
// CPU reference on the same random inputs, with the harness's one error measure (infinite on any NaN or
// infinity) and its float32 budgets. Precision::exact: the fast mode's bf16 prefill products have
// budgets of their own (cuda_matmul_test, cuda_attention_test). Label gpu: skips without a device.
#include <gtest/gtest.h>

#include "engine/cpu/cpu_ops.h"
#include "engine/cuda/cuda_ops.h"
#include "op_conformance.h"

namespace hearth::engine::cuda {
namespace {

TEST(CudaConformance, EveryOpMatchesTheCpuReferenceWithinFloat32Budgets) {
  if (!device_available()) GTEST_SKIP() << "no CUDA device";
  CudaOptions options;
  options.precision = Precision::exact;
  CudaOps gpu(options);
  cpu::CpuOps reference(2);
  const auto diffs = hearth::engine::testing::run_op_conformance(reference, gpu, 13);
  EXPECT_GE(diffs.size(), 53u);  // every op of ops.h, several shapes each
  for (const auto& d : diffs) EXPECT_LE(d.relative_error, d.tolerance) << d.op;
}

}  // namespace
}  // namespace hearth::engine::cuda
