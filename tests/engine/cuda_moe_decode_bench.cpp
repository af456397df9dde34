// GPU micro-benchmark of one MoE block of a 35B-A3B decode step (256 experts of 512 × 2048, top 8,
// shared expert 512, affine 4-bit g64 with bf16 scales; the router's logits given): the fused launch
// (launch_moe_decode_fused, two kernels) against the launches the model makes without it (rms_norm,
// route, the two routed-expert kernels, shared gate/up/down and gate-row matrix-vectors, swiglu, gated
// add: 10 kernels), and the whole block as CudaOps::moe_block launches it (the 8-bit router matrix-vector
// with the RMSNorm staged, then the fused launch: 3 kernels, the per-layer figure). Time from CUDA events around kLaunches blocks (UseManualTime); counters: MB of
// weights one block reads (k distinct experts per token, at most every expert: an upper bound for n > 1)
// and TB/s = MB / time. Successive launches cycle through kVariants router-logit sets and shared-expert
// copies, so each launch reads other experts from HBM rather than the previous launch's from L2 (as
// the 40 layers of a real step do).
//
//   engine_cuda_moe_decode_bench [--benchmark_filter=...]
// Compare against the device's copy bandwidth (~3.0 TB/s on H100 SXM, docs/PERFORMANCE.md).
#include <benchmark/benchmark.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cstdio>
#include <functional>
#include <string>
#include <vector>

#include "engine/cuda/cuda_ops.h"
#include "engine/cuda/elementwise/elementwise.h"
#include "engine/cuda/matvec/matvec.h"
#include "engine/cuda/moe/moe.h"
#include "engine/cuda/random_fill.h"
#include "cuda_bench_main.h"

namespace hearth::engine::cuda {
namespace {

constexpr int kLaunches = 20;
constexpr int kVariants = 16;
constexpr int64_t kExperts = 256, kTopK = 8, kHidden = 2048, kInter = 512, kSharedInter = 512;

// block: the router's matrix-vector launch (8-bit, RMSNorm staged) + the fused launch, as CudaOps::moe_block
// issues them per layer.
enum class Path { fused, block, unfused };

CudaOps& ops() {
  static CudaOps* o = [] {
    CudaOptions opt;
    opt.random_weights = true;  // place_weight fills random contents of the right format
    return new CudaOps(opt);
  }();
  return *o;
}

WeightMatrix dummy_weight(int64_t rows, int64_t cols, int bits) { return dummy_affine_weight(ops(), rows, cols, bits); }


float* device_floats(size_t count, float lo, float hi, uint64_t seed) {
  float* p = static_cast<float*>(ops().alloc(count * sizeof(float)));
  launch_fill_random_floats(p, static_cast<int64_t>(count), DType::f32, lo, hi, seed, ops().stream());
  return p;
}

// One stack of experts and the device pointer table the kernels read.
struct Stack {
  std::vector<WeightMatrix> experts;
  ExpertTable table;
};

Stack make_stack(int64_t rows, int64_t cols) {
  Stack s;
  for (int64_t e = 0; e < kExperts; ++e) s.experts.push_back(dummy_weight(rows, cols, 4));
  std::vector<const void*> ptrs(3 * kExperts);
  for (int64_t e = 0; e < kExperts; ++e) {
    ptrs[e] = s.experts[e].data;
    ptrs[kExperts + e] = s.experts[e].scales;
    ptrs[2 * kExperts + e] = s.experts[e].biases;
  }
  void* mem = ops().alloc(ptrs.size() * sizeof(void*));
  ops().upload(mem, ptrs.data(), ptrs.size() * sizeof(void*));
  auto* table = static_cast<const uint8_t* const*>(mem);
  s.table.shape = s.experts[0];
  s.table.count = kExperts;
  s.table.data = table;
  s.table.scales = table + kExperts;
  s.table.biases = table + 2 * kExperts;
  s.table.codec = pick_codec(s.table.shape);
  return s;
}

struct Shared {
  WeightMatrix gate = dummy_weight(kSharedInter, kHidden, 4), up = dummy_weight(kSharedInter, kHidden, 4),
               down = dummy_weight(kHidden, kSharedInter, 4), gate_row = dummy_weight(1, kHidden, 8),
               router = dummy_weight(kExperts, kHidden, 8);
};

struct Model {
  Stack gate = make_stack(kInter, kHidden), up = make_stack(kInter, kHidden), down = make_stack(kHidden, kInter);
  std::vector<Shared> shared = std::vector<Shared>(kVariants);
};

Model& model() {
  static Model* m = new Model;
  return *m;
}

void BM_MoeBlock(benchmark::State& state, Path path, int64_t n) {
  Model& m = model();
  cudaStream_t stream = ops().stream();
  float* x = device_floats(static_cast<size_t>(n * kHidden), -2, 2, 1);
  float* norm = device_floats(kHidden, 0.5f, 1.5f, 2);
  std::vector<float*> logits_sets;
  for (int v = 0; v < kVariants; ++v) logits_sets.push_back(device_floats(static_cast<size_t>(n * kExperts), -4, 4, 100 + v));
  float* out = device_floats(static_cast<size_t>(n * kHidden), -1, 1, 4);
  float* xn = device_floats(static_cast<size_t>(n * kHidden), 0, 1, 5);
  float* sg = device_floats(static_cast<size_t>(n * kSharedInter), 0, 1, 6);
  float* su = device_floats(static_cast<size_t>(n * kSharedInter), 0, 1, 7);
  float* sy = device_floats(static_cast<size_t>(n * kHidden), 0, 1, 8);
  float* row_gate = device_floats(static_cast<size_t>(n), 0, 1, 9);
  float* weights = device_floats(static_cast<size_t>(n * kTopK), 0, 1, 10);
  auto* indices = static_cast<int32_t*>(ops().alloc(static_cast<size_t>(n * kTopK) * 4));
  const size_t ws = std::max(moe_decode_workspace_bytes(n, kTopK, kInter, kSharedInter),
                             moe_workspace_bytes(n, kTopK, kExperts, kInter));
  void* workspace = ops().alloc(ws);

  const auto matvec = [&](const WeightMatrix& w, const float* in, int64_t in_stride, float* y, int64_t y_stride) {
    MatmulLaunch p;
    p.w = w, p.x = in, p.x_stride = in_stride, p.y = y, p.y_stride = y_stride, p.n = n;
    launch_matvec(p, stream);
  };
  int variant = 0;
  const auto launch = [&] {
    const Shared& sh = m.shared[static_cast<size_t>(variant)];
    float* logits = logits_sets[static_cast<size_t>(variant)];
    variant = (variant + 1) % kVariants;
    if (path != Path::unfused) {
      MoeDecodeLaunch l;
      l.gate = m.gate.table, l.up = m.up.table, l.down = m.down.table;
      l.x.x = x, l.x.x_stride = kHidden, l.x.cols = kHidden, l.x.n = n;
      l.x.transform = StageTransform::rms_norm, l.x.norm_weight = norm;
      l.router_logits = logits, l.logits_stride = kExperts, l.top_k = kTopK;
      l.shared_gate = &sh.gate, l.shared_up = &sh.up, l.shared_down = &sh.down, l.shared_gate_row = &sh.gate_row;
      l.indices = indices, l.weights = weights, l.out = out, l.out_stride = kHidden, l.workspace = workspace;
      if (path == Path::block) {
        MatvecJob router;
        router.w = sh.router, router.y = logits, router.y_stride = kExperts;
        launch_matvec_jobs(l.x, &router, 1, stream);
      }
      launch_moe_decode_fused(l, stream);
      return;
    }
    const View vx{x, n, kHidden, kHidden}, vxn{xn, n, kHidden, kHidden};
    launch_rms_norm(vx, vxn, norm, kHidden, 1e-6f, stream);
    RouteLaunch r;
    r.logits = logits, r.logits_stride = kExperts, r.n = n, r.experts = kExperts, r.top_k = kTopK;
    r.indices = indices, r.weights = weights;
    launch_route(r, stream);
    MoeLaunch e;
    e.gate = m.gate.table, e.up = m.up.table, e.down = m.down.table;
    e.x = xn, e.x_stride = kHidden, e.indices = indices, e.weights = weights, e.n = n, e.top_k = kTopK;
    e.out = out, e.out_stride = kHidden, e.workspace = workspace;
    launch_moe_decode(e, stream);
    matvec(sh.gate, xn, kHidden, sg, kSharedInter);
    matvec(sh.up, xn, kHidden, su, kSharedInter);
    const View vsg{sg, n, kSharedInter, kSharedInter}, vsu{su, n, kSharedInter, kSharedInter};
    launch_swiglu(vsg, vsu, vsg, stream);
    matvec(sh.down, sg, kSharedInter, sy, kHidden);
    matvec(sh.gate_row, xn, kHidden, row_gate, 1);
    launch_add({out, n, kHidden, kHidden}, {sy, n, kHidden, kHidden}, {row_gate, n, 1, 1}, stream);
  };

  const int64_t experts_read = std::min(n * kTopK, kExperts);
  const size_t bytes = static_cast<size_t>(experts_read) *
                           (affine_weight_bytes(m.gate.experts[0]) + affine_weight_bytes(m.up.experts[0]) +
                            affine_weight_bytes(m.down.experts[0])) +
                       affine_weight_bytes(m.shared[0].gate) + affine_weight_bytes(m.shared[0].up) + affine_weight_bytes(m.shared[0].down) +
                       affine_weight_bytes(m.shared[0].gate_row) + (path == Path::block ? affine_weight_bytes(m.shared[0].router) : 0);
  cudaEvent_t start, stop;
  cudaEventCreate(&start);
  cudaEventCreate(&stop);
  launch();  // warm-up (smem attributes, first touch)
  cudaStreamSynchronize(stream);
  for (auto _ : state) {
    cudaEventRecord(start, stream);
    for (int i = 0; i < kLaunches; ++i) launch();
    cudaEventRecord(stop, stream);
    cudaEventSynchronize(stop);
    float ms = 0;
    cudaEventElapsedTime(&ms, start, stop);
    state.SetIterationTime(ms / 1e3 / kLaunches);
  }
  state.counters["MB"] = static_cast<double>(bytes) / 1e6;
  state.counters["TB/s"] =
      benchmark::Counter(static_cast<double>(bytes) * state.iterations() / 1e12, benchmark::Counter::kIsRate);
  cudaEventDestroy(start);
  cudaEventDestroy(stop);
  for (float* p : {x, norm, out, xn, sg, su, sy, row_gate, weights}) ops().release(p);
  for (float* p : logits_sets) ops().release(p);
  ops().release(indices);
  ops().release(workspace);
}

void register_all() {
  for (int64_t n : {1, 2, 4, 8})
    for (Path p : {Path::unfused, Path::fused, Path::block}) {
      const char* what = p == Path::fused ? "fused_2_kernels" : p == Path::block ? "router_and_fused_3_kernels" : "unfused_10_kernels";
      const std::string name = std::string("moe_block_35b_a3b/") + what +
                               "/n" + std::to_string(n);
      benchmark::RegisterBenchmark(name.c_str(), BM_MoeBlock, p, n)->UseManualTime()->Unit(benchmark::kMicrosecond);
    }
}

}  // namespace
}  // namespace hearth::engine::cuda

int main(int argc, char** argv) {
  return hearth::engine::cuda::run_gpu_benchmarks(argc, argv, hearth::engine::cuda::register_all);
}
