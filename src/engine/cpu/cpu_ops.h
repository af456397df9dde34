#pragma once
// The CPU backend: the reference implementation of every op in engine/ops.h, multi-threaded over a
// small thread pool. Memory is host memory (alloc uses anonymous mappings for large buffers, so a KV
// cache planned for the whole context only takes pages as positions fill).
#include <memory>

#include "engine/cpu/thread_pool.h"
#include "engine/ops.h"

namespace hearth::engine::cpu {

// Kernels shared by CpuOps (one file each), exposed for tests.
void matmul(ThreadPool& pool, const MatmulArgs& a);
void attention(ThreadPool& pool, const AttentionArgs& a);
void conv1d(ThreadPool& pool, const Conv1dArgs& a);
void delta_rule(ThreadPool& pool, const DeltaRuleArgs& a);
void moe(ThreadPool& pool, const MoeArgs& a);

class CpuOps : public Ops {
 public:
  explicit CpuOps(int threads);
  std::string_view name() const override { return "cpu"; }
  int threads() const { return pool_.size(); }
  ThreadPool& pool() { return pool_; }

  void* alloc(size_t bytes) override;
  void release(void* ptr) override;
  void upload(void* dst, const void* host_src, size_t bytes) override;
  void download(void* host_dst, const void* src, size_t bytes) override;
  void copy(void* dst, const void* src, size_t bytes) override;
  void zero(void* dst, size_t bytes) override;
  WeightMatrix place_weight(const WeightMatrix& host) override { return host; }
  std::unique_ptr<PageMemory> make_page_memory() override;

  void embed(const EmbedArgs& a) override;
  void matmul(const MatmulArgs& a) override { cpu::matmul(pool_, a); }
  void rms_norm(const RmsNormArgs& a) override;
  void rope(const RopeArgs& a) override;
  void attention(const AttentionArgs& a) override { cpu::attention(pool_, a); }
  void conv1d(const Conv1dArgs& a) override { cpu::conv1d(pool_, a); }
  void delta_gates(const DeltaGatesArgs& a) override;
  void delta_rule(const DeltaRuleArgs& a) override { cpu::delta_rule(pool_, a); }
  void gated_rms_norm(const GatedRmsNormArgs& a) override;
  void split_query_gate(const SplitQueryGateArgs& a) override;
  void sigmoid_mul(const SigmoidMulArgs& a) override;
  void swiglu(const SwiGluArgs& a) override;
  void add(const AddArgs& a) override;
  void route(const RouterArgs& a) override;
  void moe(const MoeArgs& a) override { cpu::moe(pool_, a); }
  void copy_tensor(const CopyArgs& a) override;

 private:
  ThreadPool pool_;
};

}  // namespace hearth::engine::cpu
