// The default implementations of the fused ops (ops.h): each runs the unfused ops in exactly the order
// the model's unfused path runs them, so on the CPU reference the fused and unfused forward passes give
// the same bits. Device backends override these with fused kernels.
#include <string>

#include "engine/ops.h"

namespace hearth::engine {

namespace {

void require(bool ok, const char* what) {
  if (!ok) throw Error(std::string("fused op: ") + what, ErrorKind::invalid_request);
}

}  // namespace

void Ops::top_logits(const TopLogitsArgs& a) {
  require(a.logits && a.out && a.k >= 1 && a.k <= kMaxTopLogits && a.limit >= 1 && a.limit <= a.row_length,
          "top_logits arguments");
  std::vector<float> row(static_cast<size_t>(a.limit));
  download(row.data(), a.logits, row.size() * sizeof(float));
  *a.out = engine::top_logits(row, row.size(), static_cast<size_t>(a.k));
}

void Ops::delta_steps(std::span<const DeltaStepArgs> steps) {
  for (const DeltaStepArgs& step : steps) delta_step(step);
}

void Ops::matmul_jobs(const MatmulJobsArgs& a) {
  require(a.job_count >= 1 && a.job_count <= kMaxMatmulJobs, "matmul_jobs: job_count out of range");
  Tensor input = a.x;
  switch (a.transform) {
    case InputTransform::none:
      break;
    case InputTransform::rms_norm:
      require(a.norm_weight && a.scratch.data && a.scratch.rows == a.x.rows && a.scratch.cols == a.x.cols,
              "matmul_jobs: rms_norm needs norm_weight and an [n, cols] scratch");
      rms_norm({a.x, a.scratch, a.norm_weight, a.x.cols, a.eps});
      input = a.scratch;
      break;
    case InputTransform::swiglu:
      require(a.up.data && a.up.rows == a.x.rows && a.up.cols == a.x.cols && a.scratch.data &&
                  a.scratch.rows == a.x.rows && a.scratch.cols == a.x.cols,
              "matmul_jobs: swiglu needs up and scratch shaped like x");
      swiglu({a.x, a.up, a.scratch});
      input = a.scratch;
      break;
  }
  for (int j = 0; j < a.job_count; ++j) {
    const MatmulJob& job = a.jobs[static_cast<size_t>(j)];
    require(job.weight != nullptr, "matmul_jobs: a job without a weight");
    matmul({job.weight, input, job.y, job.accumulate});
  }
}

void Ops::moe_block(const MoeBlockArgs& a) {
  require(a.norm_weight && a.router && a.gate && a.up && a.down && a.top_k > 0 && a.indices && a.weights,
          "moe_block: missing weights or outputs");
  const bool shared = a.shared_gate != nullptr;
  require(!shared || (a.shared_up && a.shared_down && a.shared_gate_row),
          "moe_block: the shared expert needs all four of its matrices");
  const int64_t n = a.x.rows;
  rms_norm({a.x, a.normed, a.norm_weight, a.x.cols, a.eps});
  matmul({a.router, a.normed, a.logits, false});
  route({a.logits, a.top_k, a.normalize, a.indices, a.weights});
  // The routed experts accumulate into moe_out, as the unfused path does (not into x directly: the
  // same order of additions keeps the CPU results bit-identical).
  zero(a.moe_out.data, sizeof(float) * static_cast<size_t>(n * a.moe_out.stride));
  moe({a.normed, a.gate, a.up, a.down, a.indices, a.weights, a.top_k, a.moe_out});
  if (shared) {
    matmul({a.shared_gate, a.normed, a.shared_gate_act, false});
    matmul({a.shared_up, a.normed, a.shared_up_act, false});
    swiglu({a.shared_gate_act, a.shared_up_act, a.shared_gate_act});
    matmul({a.shared_down, a.shared_gate_act, a.shared_out, false});
    matmul({a.shared_gate_row, a.normed, a.row_gate, false});
    add({a.moe_out, a.shared_out, a.row_gate});
  }
  add({a.x, a.moe_out, {}});
}

void Ops::delta_step(const DeltaStepArgs& a) {
  const int64_t kd = a.k_heads * a.dk, vd = a.v_heads * a.dv;
  require(a.k_heads > 0 && a.v_heads > 0 && a.v_heads % a.k_heads == 0 && a.qkv.cols == 2 * kd + vd &&
              a.mixed.cols == a.qkv.cols && a.z.cols == vd && a.out.cols == vd,
          "delta_step shapes");
  conv1d({a.qkv, a.conv_state, a.conv_weight, a.conv_kernel, true, a.mixed});
  delta_gates({a.a, a.b, a.a_log, a.dt_bias, a.g, a.beta});
  delta_rule({a.mixed.cols_slice(0, kd), a.mixed.cols_slice(kd, kd), a.mixed.cols_slice(2 * kd, vd), a.g, a.beta, a.state,
              a.k_heads, a.v_heads, a.dk, a.dv, a.mode, a.chunk, a.out});
  gated_rms_norm({a.out, a.z, a.norm_weight, a.dv, a.eps});
}

void Ops::attention_prep(const AttentionPrepArgs& a) {
  const int64_t D = a.head_dim, qd = a.heads * D;
  require(a.heads > 0 && a.kv_heads > 0 && D > 0 && a.q_proj.cols == qd * (a.gated ? 2 : 1) && a.q.cols == qd &&
              a.k.cols == a.kv_heads * D && a.v.cols == a.k.cols && (!a.gated || a.gate.cols == qd),
          "attention_prep shapes");
  // Same order as the unfused path: split, k/v written to the cache only after norm and RoPE.
  if (a.gated) split_query_gate({a.q_proj, a.heads, D, a.q, a.gate});
  rms_norm({a.gated ? a.q : a.q_proj, a.q, a.q_norm, D, a.eps});
  rms_norm({a.k, a.k, a.k_norm, D, a.eps});
  rope({a.q, a.heads, D, a.rotary_dim, a.first_position, a.theta, a.position_ptr});
  rope({a.k, a.kv_heads, D, a.rotary_dim, a.first_position, a.theta, a.position_ptr});
  write_rows({a.k, a.k_cache, a.first_position, a.position_ptr});
  write_rows({a.v, a.v_cache, a.first_position, a.position_ptr});
}

}  // namespace hearth::engine
