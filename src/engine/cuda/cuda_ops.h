#pragma once
// The CUDA backend of engine/ops.h. Every op enqueues kernels on one stream and returns without
// synchronising; upload/download/synchronize are the only points where the host waits. Weights live in
// a bump-allocated arena (a model has tens of thousands of expert matrices: one cudaMalloc each would
// take seconds), activations and state in ordinary allocations, scratch in a grow-only workspace whose
// old buffers are kept alive so that recorded graphs never point at freed memory.
#include <cuda_runtime_api.h>

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "engine/cuda/moe/moe.h"
#include "engine/ops.h"

struct cublasContext;  // cuBLAS's handle type (cublasHandle_t is cublasContext*)

namespace hearth::engine::cuda {

// True when a CUDA device is present and the driver can use it (never throws).
bool device_available();

// Arithmetic of the prefill products (GEMMs, grouped MoE GEMMs, prefill attention). Decode kernels are
// float32-faithful in both modes.
//   fast   bf16 operands, float32 accumulation (what every production engine runs; error budget of bf16
//          arithmetic, documented in tests/engine/cuda_test_util.h)
//   exact  float32-faithful (each product as three bf16 MMAs): the mode in which the tiny reference
//          models' greedy tokens, 5e-4 apart on their logit scale, must match exactly
enum class Precision { fast, exact };

struct CudaOptions {
  int device = 0;
  Precision precision = Precision::fast;
  // place_weight() fills device memory with random contents of the right format instead of copying
  // the host matrix (--load-format dummy: a 20 GB model is never built on the host or copied).
  bool random_weights = false;
  uint64_t seed = 1;
  // Grouped MoE kernel of Precision::fast prefill: the tensor-core kernels wherever they apply (always,
  // in production), or the general grouped GEMM — the baseline tests/engine/cuda_gemm_bench.cpp times
  // them against. Not a command-line option: the fast kernels won their benchmark.
  MoePrefillKernel moe_prefill_kernel = MoePrefillKernel::fast;
};

struct MemoryStats {
  size_t weights = 0;       // weight arena in use
  size_t allocations = 0;   // alloc() in use (activations, state, KV cache)
  size_t workspace = 0;     // scratch of the MoE and attention kernels (all sizes ever reserved)
  size_t kv_pages = 0;      // the KV page pool (engine/kv_pages.h)
  size_t peak_total = 0;    // largest weights + allocations + workspace + KV pages seen
};

// One row of the per-op timing profile (eager runs only: recorded graphs are not profiled).
struct OpProfileRow {
  std::string label;  // op and shape, e.g. "matmul affine 4-bit g64 [8192, 2048] n=1"
  int64_t calls = 0;
  double total_ms = 0;
};

class CudaOps final : public Ops {
 public:
  explicit CudaOps(const CudaOptions& options = {});
  ~CudaOps() override;
  CudaOps(const CudaOps&) = delete;
  CudaOps& operator=(const CudaOps&) = delete;

  std::string_view name() const override { return "cuda"; }
  cudaStream_t stream() const { return stream_; }

  void* alloc(size_t bytes) override;
  void release(void* ptr) override;
  void upload(void* dst, const void* host_src, size_t bytes) override;
  void download(void* host_dst, const void* src, size_t bytes) override;
  void copy(void* dst, const void* src, size_t bytes) override;
  void zero(void* dst, size_t bytes) override;
  void synchronize() override;
  bool memory_is_host() const override { return false; }
  WeightMatrix place_weight(const WeightMatrix& host) override;
  std::unique_ptr<PageMemory> make_page_memory() override;

  void embed(const EmbedArgs& a) override;
  void matmul(const MatmulArgs& a) override;
  void rms_norm(const RmsNormArgs& a) override;
  void rope(const RopeArgs& a) override;
  void attention(const AttentionArgs& a) override;
  void conv1d(const Conv1dArgs& a) override;
  void delta_gates(const DeltaGatesArgs& a) override;
  void delta_rule(const DeltaRuleArgs& a) override;
  void gated_rms_norm(const GatedRmsNormArgs& a) override;
  void split_query_gate(const SplitQueryGateArgs& a) override;
  void sigmoid_mul(const SigmoidMulArgs& a) override;
  void swiglu(const SwiGluArgs& a) override;
  void add(const AddArgs& a) override;
  void route(const RouterArgs& a) override;
  void moe(const MoeArgs& a) override;
  void copy_tensor(const CopyArgs& a) override;
  void write_rows(const WriteRowsArgs& a) override;
  // Fused ops (ops.h): one or few kernels for decode-sized batches, the default composition otherwise.
  void matmul_jobs(const MatmulJobsArgs& a) override;
  void moe_block(const MoeBlockArgs& a) override;
  void delta_step(const DeltaStepArgs& a) override;
  void attention_prep(const AttentionPrepArgs& a) override;
  void top_logits(const TopLogitsArgs& a) override;
  void delta_steps(std::span<const DeltaStepArgs> steps) override;

  bool can_record() const override { return !profiling_; }
  void begin_recording() override;
  std::unique_ptr<RecordedOps> end_recording() override;

  MemoryStats memory_stats() const { return stats_; }
  // Per-op GPU time (events around each op). While on, can_record() is false so that models run eagerly.
  void set_profiling(bool on);
  std::vector<OpProfileRow> profile();  // synchronises; sorted by total time
  void clear_profile();

 private:
  struct ExpertTableStorage;
  class Timer;

  void* workspace(size_t bytes);
  ::cublasContext* cublas();  // the handle of the fast GEMMs, created on first use
  const ExpertTable& expert_table(const WeightStack& stack);
  void* arena_alloc(size_t bytes);
  void track(size_t& counter, int64_t delta);
  void check_not_recording(const char* what) const;

  CudaOptions options_;
  cudaStream_t stream_ = nullptr;
  ::cublasContext* cublas_ = nullptr;  // see cublas(); bound to stream_
  bool recording_ = false;
  uint64_t random_counter_ = 0;

  struct Slab {
    uint8_t* base = nullptr;
    size_t size = 0, used = 0;
  };
  std::vector<Slab> slabs_;
  std::unordered_map<void*, size_t> allocations_;
  void* workspace_ = nullptr;
  size_t workspace_size_ = 0;
  std::vector<void*> retired_workspaces_;
  MemoryStats stats_;

  int32_t* pinned_tokens_ = nullptr;
  int32_t* dev_tokens_ = nullptr;
  size_t token_capacity_ = 0;
  cudaEvent_t tokens_copied_ = nullptr;
  void* pinned_download_ = nullptr;
  size_t pinned_download_size_ = 0;

  std::map<const void*, std::unique_ptr<ExpertTableStorage>> expert_tables_;

  bool profiling_ = false;
  struct ProfileEvent {
    std::string label;
    cudaEvent_t begin = nullptr, end = nullptr;
  };
  std::vector<ProfileEvent> pending_events_;
  std::vector<cudaEvent_t> free_events_;
  std::map<std::string, OpProfileRow> profile_rows_;
};

}  // namespace hearth::engine::cuda
