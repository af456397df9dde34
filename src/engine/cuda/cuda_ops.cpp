#include "engine/cuda/cuda_ops.h"

#include <algorithm>
#include <cstring>

// One launcher header per kernel family (engine/cuda/README.md), nothing else from the folders.
#include "engine/cuda/attention/attention.h"
#include "engine/cuda/common/cuda_check.h"
#include "engine/cuda/cublas_library.h"
#include "engine/cuda/cuda_page_memory.h"
#include "engine/cuda/delta/delta.h"
#include "engine/cuda/elementwise/elementwise.h"
#include "engine/cuda/gemm/gemm.h"
#include "engine/cuda/matvec/matvec.h"
#include "engine/cuda/moe/moe.h"
#include "engine/cuda/random_fill.h"
#include "engine/cuda/sampling/sampling.h"

namespace hearth::engine::cuda {

namespace {

constexpr size_t kSlabBytes = size_t{256} << 20;
constexpr size_t kArenaAlign = 256;

View view(const Tensor& t) { return View{t.data, t.rows, t.cols, t.stride}; }

void require(bool ok, const char* what) {
  if (!ok) throw Error(std::string("cuda op: ") + what);
}

std::string mib(size_t bytes) { return std::to_string((bytes + (1u << 19)) >> 20) + " MiB"; }

}  // namespace

bool device_available() {
  int count = 0;
  if (cudaGetDeviceCount(&count) != cudaSuccess) {
    cudaGetLastError();  // clear the sticky "no device" error
    return false;
  }
  return count > 0;
}

// ---- recorded graphs ---------------------------------------------------------------------------------
namespace {

class CudaGraph final : public RecordedOps {
 public:
  CudaGraph(cudaGraphExec_t exec, cudaStream_t stream) : exec_(exec), stream_(stream) {}
  ~CudaGraph() override { cudaGraphExecDestroy(exec_); }
  void replay() override { HEARTH_CUDA_CHECK(cudaGraphLaunch(exec_, stream_)); }

 private:
  cudaGraphExec_t exec_;
  cudaStream_t stream_;
};

}  // namespace

// ---- profiling: events around each op ----------------------------------------------------------------
class CudaOps::Timer {
 public:
  template <class Label>
  Timer(CudaOps& ops, Label&& label) : ops_(ops) {
    if (!ops.profiling_ || ops.recording_) return;
    index_ = static_cast<int64_t>(ops.pending_events_.size());
    ProfileEvent ev;
    ev.label = label();
    for (cudaEvent_t* e : {&ev.begin, &ev.end}) {
      if (!ops.free_events_.empty()) {
        *e = ops.free_events_.back();
        ops.free_events_.pop_back();
      } else {
        HEARTH_CUDA_CHECK(cudaEventCreate(e));
      }
    }
    HEARTH_CUDA_CHECK(cudaEventRecord(ev.begin, ops.stream_));
    ops.pending_events_.push_back(std::move(ev));
  }
  ~Timer() {
    if (index_ >= 0) cudaEventRecord(ops_.pending_events_[static_cast<size_t>(index_)].end, ops_.stream_);
  }

 private:
  CudaOps& ops_;
  int64_t index_ = -1;
};

struct CudaOps::ExpertTableStorage {
  std::vector<const void*> host;  // data, scales, biases of every expert: detects a reused address
  void* device = nullptr;
  ExpertTable table;
};

// ---- lifetime and memory -------------------------------------------------------------------------------
CudaOps::CudaOps(const CudaOptions& options) : options_(options) {
  if (!device_available()) throw Error("no CUDA device is available", ErrorKind::unsupported);
  HEARTH_CUDA_CHECK(cudaSetDevice(options.device));
  HEARTH_CUDA_CHECK(cudaStreamCreateWithFlags(&stream_, cudaStreamNonBlocking));
  HEARTH_CUDA_CHECK(cudaEventCreateWithFlags(&tokens_copied_, cudaEventDisableTiming));
}

// Created on the first fast GEMM, so that backends which never run one (decode-only tests, exact
// mode) neither load cuBLAS nor hold its memory.
::cublasContext* CudaOps::cublas() {
  if (cublas_) return cublas_;
  check_not_recording("creating the cuBLAS handle");
  const CublasLibrary& lib = cublas_library();  // throws, naming --precision exact, when missing
  const cublasStatus_t status = lib.create(&cublas_);
  if (status != CUBLAS_STATUS_SUCCESS) {
    cublas_ = nullptr;
    throw Error(std::string("cuBLAS could not be initialised (") + lib.status_string(status) +
                    "); --precision exact runs without it",
                ErrorKind::unsupported);
  }
  // Set once: cublasSetStream resets the workspace, which each GEMM sets from workspace().
  lib.set_stream(cublas_, stream_);
  return cublas_;
}

CudaOps::~CudaOps() {
  cudaStreamSynchronize(stream_);
  if (cublas_) cublas_library().destroy(cublas_);
  for (auto& [key, t] : expert_tables_) cudaFree(t->device);
  for (auto& s : slabs_) cudaFree(s.base);
  for (auto& [p, n] : allocations_) cudaFree(p);
  for (void* w : retired_workspaces_) cudaFree(w);
  cudaFree(workspace_);
  cudaFree(dev_tokens_);
  cudaFreeHost(pinned_tokens_);
  cudaFreeHost(pinned_download_);
  for (auto& e : pending_events_) cudaEventDestroy(e.begin), cudaEventDestroy(e.end);
  for (auto e : free_events_) cudaEventDestroy(e);
  cudaEventDestroy(tokens_copied_);
  cudaStreamDestroy(stream_);
}

void CudaOps::track(size_t& counter, int64_t delta) {
  counter = static_cast<size_t>(static_cast<int64_t>(counter) + delta);
  stats_.peak_total = std::max(stats_.peak_total, stats_.weights + stats_.allocations + stats_.workspace + stats_.kv_pages);
}

std::unique_ptr<PageMemory> CudaOps::make_page_memory() {
  return std::make_unique<CudaPageMemory>(options_.device, [this](int64_t delta) { track(stats_.kv_pages, delta); });
}

namespace {
void* device_malloc(size_t bytes, const MemoryStats& stats, const char* what) {
  void* p = nullptr;
  const cudaError_t err = cudaMalloc(&p, bytes);
  if (err == cudaSuccess) return p;
  cudaGetLastError();
  size_t free_b = 0, total_b = 0;
  cudaMemGetInfo(&free_b, &total_b);
  throw Error(std::string("GPU out of memory allocating ") + mib(bytes) + " for " + what + " (" + cudaGetErrorString(err) +
                  "); in use by hearth: weights " + mib(stats.weights) + ", buffers " + mib(stats.allocations) +
                  ", workspace " + mib(stats.workspace) + "; device free " + mib(free_b) + " of " + mib(total_b) +
                  ". Use a smaller --max-context or a smaller model.",
              ErrorKind::unsupported);
}
}  // namespace

void* CudaOps::alloc(size_t bytes) {
  if (bytes == 0) return nullptr;
  void* p = device_malloc(bytes, stats_, "buffers");
  HEARTH_CUDA_CHECK(cudaMemsetAsync(p, 0, bytes, stream_));
  HEARTH_CUDA_CHECK(cudaStreamSynchronize(stream_));
  allocations_[p] = bytes;
  track(stats_.allocations, static_cast<int64_t>(bytes));
  return p;
}

void CudaOps::release(void* ptr) {
  if (!ptr) return;
  auto it = allocations_.find(ptr);
  if (it == allocations_.end()) throw Error("cuda: release of a pointer alloc() did not return");
  cudaStreamSynchronize(stream_);
  HEARTH_CUDA_CHECK(cudaFree(ptr));
  track(stats_.allocations, -static_cast<int64_t>(it->second));
  allocations_.erase(it);
}

void* CudaOps::arena_alloc(size_t bytes) {
  bytes = (bytes + kArenaAlign - 1) / kArenaAlign * kArenaAlign;
  if (slabs_.empty() || slabs_.back().size - slabs_.back().used < bytes) {
    Slab s;
    s.size = std::max(kSlabBytes, bytes);
    s.base = static_cast<uint8_t*>(device_malloc(s.size, stats_, "weights"));
    slabs_.push_back(s);
  }
  Slab& s = slabs_.back();
  void* p = s.base + s.used;
  s.used += bytes;
  track(stats_.weights, static_cast<int64_t>(bytes));
  return p;
}

void* CudaOps::workspace(size_t bytes) {
  if (bytes <= workspace_size_) return workspace_;
  // Grow-only; the old buffer stays allocated because a recorded graph may still point at it.
  size_t size = std::max<size_t>(bytes, size_t{1} << 20);
  size = std::max(size, workspace_size_ * 2);
  if (workspace_) retired_workspaces_.push_back(workspace_);
  workspace_ = device_malloc(size, stats_, "kernel workspace");
  workspace_size_ = size;
  track(stats_.workspace, static_cast<int64_t>(size));
  return workspace_;
}

void CudaOps::check_not_recording(const char* what) const {
  if (recording_) throw Error(std::string("cuda: ") + what + " cannot be recorded (it reads or writes host memory)");
}

void CudaOps::upload(void* dst, const void* host_src, size_t bytes) {
  check_not_recording("upload");
  if (bytes == 0) return;
  HEARTH_CUDA_CHECK(cudaMemcpyAsync(dst, host_src, bytes, cudaMemcpyHostToDevice, stream_));
  HEARTH_CUDA_CHECK(cudaStreamSynchronize(stream_));  // the caller may reuse host_src at once
}

void CudaOps::download(void* host_dst, const void* src, size_t bytes) {
  check_not_recording("download");
  if (bytes == 0) return;
  if (bytes < (size_t{64} << 10) || bytes > (size_t{64} << 20)) {
    HEARTH_CUDA_CHECK(cudaMemcpyAsync(host_dst, src, bytes, cudaMemcpyDeviceToHost, stream_));
    HEARTH_CUDA_CHECK(cudaStreamSynchronize(stream_));
    return;
  }
  // Mid-sized copies (the logits of every decode step) go through pinned memory: a pageable copy of
  // 1 MB costs several times the DMA itself.
  if (bytes > pinned_download_size_) {
    HEARTH_CUDA_CHECK(cudaStreamSynchronize(stream_));
    cudaFreeHost(pinned_download_);
    pinned_download_ = nullptr;
    HEARTH_CUDA_CHECK(cudaMallocHost(&pinned_download_, bytes));
    pinned_download_size_ = bytes;
  }
  HEARTH_CUDA_CHECK(cudaMemcpyAsync(pinned_download_, src, bytes, cudaMemcpyDeviceToHost, stream_));
  HEARTH_CUDA_CHECK(cudaStreamSynchronize(stream_));
  std::memcpy(host_dst, pinned_download_, bytes);
}

void CudaOps::copy(void* dst, const void* src, size_t bytes) {
  if (bytes) HEARTH_CUDA_CHECK(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, stream_));
}

void CudaOps::zero(void* dst, size_t bytes) {
  if (bytes) HEARTH_CUDA_CHECK(cudaMemsetAsync(dst, 0, bytes, stream_));
}

void CudaOps::synchronize() { HEARTH_CUDA_CHECK(cudaStreamSynchronize(stream_)); }

WeightMatrix CudaOps::place_weight(const WeightMatrix& host) {
  check_not_recording("place_weight");
  WeightMatrix d = host;
  if (host.rows == 0 || host.cols == 0) return d;
  const size_t data_bytes = host.data_bytes();
  const size_t scale_bytes = host.quantized() ? host.scales_row_bytes() * static_cast<size_t>(host.rows) : 0;
  auto place = [&](const void* src, size_t bytes) -> void* {
    void* p = arena_alloc(bytes);
    if (!options_.random_weights) {
      HEARTH_CUDA_CHECK(cudaMemcpyAsync(p, src, bytes, cudaMemcpyHostToDevice, stream_));
    }
    return p;
  };
  d.data = place(host.data, data_bytes);
  if (host.quantized()) d.scales = place(host.scales, scale_bytes);
  if (host.biases) d.biases = place(host.biases, scale_bytes);
  if (options_.random_weights) {
    // Same value ranges as the host dummy weights (engine/dummy_weights.cpp): weights about ±0.03.
    const uint64_t seed = options_.seed * 0x100000001b3ull + (++random_counter_);
    const int64_t groups = host.groups() * host.rows;
    switch (host.format) {
      case WeightFormat::dense:
        launch_fill_random_floats(const_cast<void*>(d.data), host.rows * host.cols, host.dtype, -0.0346f, 0.0346f, seed,
                                  stream_);
        break;
      case WeightFormat::affine: {
        launch_fill_random_bits(const_cast<void*>(d.data), data_bytes, seed, stream_);
        const float step = 0.06f / static_cast<float>((1 << host.bits) - 1);
        launch_fill_random_floats(const_cast<void*>(d.scales), groups, host.dtype, 0.75f * step, 1.25f * step, seed + 1,
                                  stream_);
        if (d.biases)
          launch_fill_random_floats(const_cast<void*>(d.biases), groups, host.dtype, -0.032f, -0.028f, seed + 2, stream_);
        break;
      }
      case WeightFormat::nvfp4:
        launch_fill_random_bits(const_cast<void*>(d.data), data_bytes, seed, stream_);
        launch_fill_random_codes(static_cast<uint8_t*>(const_cast<void*>(d.scales)), groups, 0x08, 0x0f, seed + 1, stream_);
        break;
      default:  // mxfp4, mxfp8: E8M0 scales 2^-9 .. 2^-6
        launch_fill_random_bits(const_cast<void*>(d.data), data_bytes, seed, stream_);
        launch_fill_random_codes(static_cast<uint8_t*>(const_cast<void*>(d.scales)), groups, 118, 121, seed + 1, stream_);
        break;
    }
  }
  HEARTH_CUDA_CHECK(cudaStreamSynchronize(stream_));  // host memory (possibly a mapped file) may go away
  return d;
}

// ---- ops ----------------------------------------------------------------------------------------------
void CudaOps::embed(const EmbedArgs& a) {
  check_not_recording("embed");
  require(a.table && a.out.rows == static_cast<int64_t>(a.tokens.size()) && a.out.cols == a.table->cols, "embed shapes");
  for (Token t : a.tokens)
    if (t < 0 || t >= a.table->rows)
      throw Error("token id " + std::to_string(t) + " is outside the vocabulary", ErrorKind::invalid_request);
  const size_t n = a.tokens.size();
  Timer timer(*this, [&] { return "embed n=" + std::to_string(n); });
  if (n > token_capacity_) {
    HEARTH_CUDA_CHECK(cudaStreamSynchronize(stream_));
    cudaFreeHost(pinned_tokens_);
  cudaFreeHost(pinned_download_);
    cudaFree(dev_tokens_);
    token_capacity_ = std::max<size_t>(n, 4096);
    HEARTH_CUDA_CHECK(cudaMallocHost(reinterpret_cast<void**>(&pinned_tokens_), token_capacity_ * sizeof(int32_t)));
    HEARTH_CUDA_CHECK(cudaMalloc(reinterpret_cast<void**>(&dev_tokens_), token_capacity_ * sizeof(int32_t)));
  }
  HEARTH_CUDA_CHECK(cudaEventSynchronize(tokens_copied_));  // the previous copy out of the pinned buffer
  std::memcpy(pinned_tokens_, a.tokens.data(), n * sizeof(int32_t));
  HEARTH_CUDA_CHECK(cudaMemcpyAsync(dev_tokens_, pinned_tokens_, n * sizeof(int32_t), cudaMemcpyHostToDevice, stream_));
  HEARTH_CUDA_CHECK(cudaEventRecord(tokens_copied_, stream_));
  launch_embed(*a.table, dev_tokens_, static_cast<int64_t>(n), view(a.out), stream_);
}

void CudaOps::matmul(const MatmulArgs& a) {
  require(a.weight && a.x.cols == a.weight->cols && a.y.cols == a.weight->rows && a.x.rows == a.y.rows, "matmul shapes");
  Timer timer(*this, [&] { return "matmul " + a.weight->describe() + " n=" + std::to_string(a.x.rows); });
  MatmulLaunch m;
  m.w = *a.weight;
  m.x = a.x.data;
  m.x_stride = a.x.stride;
  m.y = a.y.data;
  m.y_stride = a.y.stride;
  m.n = a.x.rows;
  m.accumulate = a.accumulate;
  if (options_.precision == Precision::fast && m.n > kMatvecMaxTokens && m.w.rows > 0) {
    if (m.n < kCublasMinTokens) {
      launch_gemm_single_mma(m, stream_);
    } else {
      FastGemmLaunch f;
      f.m = m;
      f.cublas = cublas();
      f.workspace = workspace(fast_gemm_workspace_bytes(m.w.rows, m.w.cols, m.n));
      launch_gemm_fast(f, stream_);
    }
    return;
  }
  launch_matmul(m, stream_);
}

void CudaOps::rms_norm(const RmsNormArgs& a) {
  require(a.dim > 0 && a.x.cols % a.dim == 0 && a.out.rows == a.x.rows && a.out.cols == a.x.cols, "rms_norm shapes");
  Timer timer(*this, [&] { return "rms_norm dim=" + std::to_string(a.dim); });
  launch_rms_norm(view(a.x), view(a.out), a.weight, a.dim, a.eps, stream_);
}

void CudaOps::rope(const RopeArgs& a) {
  require(a.x.cols == a.heads * a.head_dim && a.rotary_dim % 2 == 0 && a.rotary_dim <= a.head_dim, "rope shapes");
  Timer timer(*this, [&] { return std::string("rope"); });
  launch_rope(view(a.x), a.heads, a.head_dim, a.rotary_dim, a.first_position, a.position_ptr, a.theta, stream_);
}

void CudaOps::attention(const AttentionArgs& a) {
  const int64_t n = a.q.rows, H = a.heads, KV = a.kv_heads, D = a.head_dim;
  require(H > 0 && KV > 0 && H % KV == 0 && a.q.cols == H * D && a.out.cols == H * D && a.k_cache.cols == KV * D &&
              a.v_cache.cols == KV * D && a.out.rows == n && a.k_cache.stride == a.v_cache.stride,
          "attention shapes");
  require(a.position_ptr || a.first_position + n <= a.k_cache.rows, "attention: positions past the cache");
  Timer timer(*this, [&] { return "attention n=" + std::to_string(n) + (n == 1 ? " (decode)" : " (prefill)"); });
  AttentionLaunch l;
  l.q = a.q.data, l.q_stride = a.q.stride;
  l.k_cache = a.k_cache.data, l.v_cache = a.v_cache.data, l.kv_stride = a.k_cache.stride, l.capacity = a.k_cache.rows;
  l.out = a.out.data, l.out_stride = a.out.stride;
  l.n = n, l.first_position = a.first_position, l.dev_position = a.position_ptr;
  l.heads = static_cast<int>(H), l.kv_heads = static_cast<int>(KV), l.head_dim = static_cast<int>(D), l.scale = a.scale;
  l.fast = options_.precision == Precision::fast;
  if (l.fast && !recording_ && cublas_attention_supports(l)) {
    // Fast prefill: cuBLAS products around a causal softmax (attention_cublas_plan.h). Exact mode,
    // decode-sized calls and recorded graphs keep the kernels of attention.cu.
    CublasAttentionLaunch c;
    c.a = l;
    c.cublas = cublas();
    c.workspace = workspace(cublas_attention_workspace_bytes(l.heads, l.kv_heads, l.head_dim, n, a.first_position));
    launch_attention_cublas(c, stream_);
    return;
  }
  if (n <= kAttentionDecodeMaxQueries) l.workspace = workspace(attention_workspace_bytes(l.heads, l.head_dim, l.capacity, n));
  launch_attention(l, stream_);
}

void CudaOps::conv1d(const Conv1dArgs& a) {
  require(a.out.rows == a.x.rows && a.out.cols == a.x.cols && a.kernel >= 1, "conv1d shapes");
  Timer timer(*this, [&] { return "conv1d n=" + std::to_string(a.x.rows); });
  Conv1dLaunch l;
  l.x = a.x.data, l.x_stride = a.x.stride, l.state = a.state, l.weight = a.weight;
  l.out = a.out.data, l.out_stride = a.out.stride, l.n = a.x.rows, l.channels = a.x.cols, l.kernel = a.kernel;
  l.silu = a.silu;
  launch_conv1d(l, stream_);
}

void CudaOps::delta_gates(const DeltaGatesArgs& a) {
  require(a.a.cols == a.b.cols && a.g.cols == a.a.cols && a.beta.cols == a.a.cols, "delta_gates shapes");
  Timer timer(*this, [&] { return std::string("delta_gates"); });
  DeltaGatesLaunch l;
  l.a = a.a.data, l.b = a.b.data, l.a_stride = a.a.stride, l.b_stride = a.b.stride;
  l.a_log = a.a_log, l.dt_bias = a.dt_bias;
  l.g = a.g.data, l.beta = a.beta.data, l.g_stride = a.g.stride, l.beta_stride = a.beta.stride;
  l.n = a.a.rows, l.heads = a.a.cols;
  launch_delta_gates(l, stream_);
}

void CudaOps::delta_rule(const DeltaRuleArgs& a) {
  require(a.k_heads > 0 && a.v_heads % a.k_heads == 0 && a.q.cols == a.k_heads * a.dk && a.k.cols == a.k_heads * a.dk &&
              a.v.cols == a.v_heads * a.dv && a.out.cols == a.v_heads * a.dv && a.g.cols == a.v_heads &&
              a.beta.cols == a.v_heads,
          "delta_rule shapes");
  Timer timer(*this, [&] { return "delta_rule n=" + std::to_string(a.q.rows); });
  DeltaRuleLaunch l;
  l.q = a.q.data, l.k = a.k.data, l.v = a.v.data, l.g = a.g.data, l.beta = a.beta.data;
  l.q_stride = a.q.stride, l.k_stride = a.k.stride, l.v_stride = a.v.stride, l.g_stride = a.g.stride;
  l.beta_stride = a.beta.stride;
  l.state = a.state, l.out = a.out.data, l.out_stride = a.out.stride, l.n = a.q.rows;
  l.k_heads = static_cast<int>(a.k_heads), l.v_heads = static_cast<int>(a.v_heads);
  l.dk = static_cast<int>(a.dk), l.dv = static_cast<int>(a.dv);
  if (l.n >= kDeltaChunkedMinTokens && delta_chunked_supports(l)) {
    // The chunked prefill form, its scratch from the planned workspace (memory_plan.cpp).
    launch_delta_rule_chunked(l, workspace(delta_chunked_workspace_bytes(l.n, l.v_heads)), stream_);
    return;
  }
  launch_delta_rule(l, stream_);
}

void CudaOps::gated_rms_norm(const GatedRmsNormArgs& a) {
  require(a.dim > 0 && a.x.cols % a.dim == 0 && a.z.cols == a.x.cols && a.z.rows == a.x.rows, "gated_rms_norm shapes");
  Timer timer(*this, [&] { return std::string("gated_rms_norm"); });
  launch_gated_rms_norm(view(a.x), view(a.z), a.weight, a.dim, a.eps, stream_);
}

void CudaOps::split_query_gate(const SplitQueryGateArgs& a) {
  require(a.query_gate.cols == a.heads * 2 * a.head_dim && a.query.cols == a.heads * a.head_dim &&
              a.gate.cols == a.heads * a.head_dim,
          "split_query_gate shapes");
  Timer timer(*this, [&] { return std::string("split_query_gate"); });
  launch_split_query_gate(view(a.query_gate), a.heads, a.head_dim, view(a.query), view(a.gate), stream_);
}

void CudaOps::sigmoid_mul(const SigmoidMulArgs& a) {
  require(a.x.rows == a.gate.rows && a.x.cols == a.gate.cols, "sigmoid_mul shapes");
  Timer timer(*this, [&] { return std::string("sigmoid_mul"); });
  launch_sigmoid_mul(view(a.x), view(a.gate), stream_);
}

void CudaOps::swiglu(const SwiGluArgs& a) {
  require(a.gate.rows == a.up.rows && a.gate.cols == a.up.cols && a.out.cols == a.gate.cols, "swiglu shapes");
  Timer timer(*this, [&] { return std::string("swiglu"); });
  launch_swiglu(view(a.gate), view(a.up), view(a.out), stream_);
}

void CudaOps::add(const AddArgs& a) {
  require(a.x.rows == a.y.rows && a.x.cols == a.y.cols, "add shapes");
  Timer timer(*this, [&] { return std::string(a.row_gate.data ? "add (gated)" : "add"); });
  launch_add(view(a.x), view(a.y), view(a.row_gate), stream_);
}

void CudaOps::route(const RouterArgs& a) {
  require(a.top_k > 0 && a.top_k <= a.logits.cols, "route: top_k out of range");
  Timer timer(*this, [&] { return std::string("route"); });
  RouteLaunch l;
  l.logits = a.logits.data, l.logits_stride = a.logits.stride, l.n = a.logits.rows, l.experts = a.logits.cols;
  l.top_k = a.top_k, l.normalize = a.normalize, l.indices = a.indices, l.weights = a.weights;
  launch_route(l, stream_);
}

const ExpertTable& CudaOps::expert_table(const WeightStack& stack) {
  std::vector<const void*> host;
  host.reserve(stack.experts.size() * 3);
  for (const auto& m : stack.experts) host.push_back(m.data);
  for (const auto& m : stack.experts) host.push_back(m.scales);
  for (const auto& m : stack.experts) host.push_back(m.biases);
  auto& slot = expert_tables_[stack.experts.data()];
  if (slot && slot->host == host) return slot->table;
  if (recording_) throw Error("cuda: MoE expert tables must be built before recording (run the model once eagerly)");
  require(!stack.experts.empty(), "moe: empty expert stack");
  auto storage = std::make_unique<ExpertTableStorage>();
  const size_t count = stack.experts.size();
  HEARTH_CUDA_CHECK(cudaMalloc(&storage->device, host.size() * sizeof(void*)));
  HEARTH_CUDA_CHECK(cudaMemcpy(storage->device, host.data(), host.size() * sizeof(void*), cudaMemcpyHostToDevice));
  auto* ptrs = static_cast<const uint8_t* const*>(storage->device);
  ExpertTable& t = storage->table;
  t.shape = stack.experts[0];
  t.count = static_cast<int64_t>(count);
  t.data = ptrs;
  t.scales = stack.experts[0].scales ? ptrs + count : nullptr;
  t.biases = stack.experts[0].biases ? ptrs + 2 * count : nullptr;
  t.codec = pick_codec(t.shape);
  for (const auto& m : stack.experts) {
    require(m.rows == t.shape.rows && m.cols == t.shape.cols && m.format == t.shape.format && m.bits == t.shape.bits &&
                m.group_size == t.shape.group_size && m.dtype == t.shape.dtype,
            "moe: experts of one stack differ in shape or format");
    if (pick_codec(m) != t.codec) t.codec = Codec::generic;
  }
  if (slot) cudaFree(slot->device);
  storage->host = std::move(host);
  slot = std::move(storage);
  return slot->table;
}

void CudaOps::moe(const MoeArgs& a) {
  require(a.gate && a.up && a.down && a.gate->count() == a.up->count() && a.gate->count() == a.down->count() &&
              a.top_k > 0 && a.x.rows == a.out.rows,
          "moe arguments");
  Timer timer(*this, [&] { return "moe n=" + std::to_string(a.x.rows); });
  MoeLaunch l;
  l.gate = expert_table(*a.gate);
  l.up = expert_table(*a.up);
  l.down = expert_table(*a.down);
  require(l.gate.shape.cols == a.x.cols && l.down.shape.rows == a.out.cols && l.down.shape.cols == l.gate.shape.rows,
          "moe shapes");
  l.x = a.x.data, l.x_stride = a.x.stride, l.indices = a.indices, l.weights = a.weights;
  l.n = a.x.rows, l.top_k = a.top_k, l.out = a.out.data, l.out_stride = a.out.stride;
  l.workspace = workspace(moe_workspace_bytes(l.n, l.top_k, l.gate.count, l.gate.shape.rows));
  l.single_mma = options_.precision == Precision::fast;
  l.prefill_kernel = options_.moe_prefill_kernel;
  launch_moe(l, stream_);
}

void CudaOps::copy_tensor(const CopyArgs& a) {
  require(a.src.rows == a.dst.rows && a.src.cols == a.dst.cols, "copy_tensor shapes");
  Timer timer(*this, [&] { return std::string("copy"); });
  launch_copy(view(a.src), view(a.dst), stream_);
}

void CudaOps::write_rows(const WriteRowsArgs& a) {
  require(a.src.cols == a.dst.cols, "write_rows shapes");
  require(a.position_ptr || a.position + a.src.rows <= a.dst.rows, "write_rows: rows past the destination");
  Timer timer(*this, [&] { return std::string("write_rows"); });
  launch_copy_at_position(view(a.src), a.dst.data, a.dst.stride, a.position, a.position_ptr, stream_);
}

// ---- fused ops -------------------------------------------------------------------------------------------
namespace {

StageTransform stage_transform(InputTransform t) {
  switch (t) {
    case InputTransform::rms_norm: return StageTransform::rms_norm;
    case InputTransform::swiglu: return StageTransform::swiglu;
    default: return StageTransform::none;
  }
}

StageInput stage_input(const Tensor& x, InputTransform transform, const float* norm_weight, float eps, const Tensor& up) {
  StageInput in;
  in.x = x.data, in.x_stride = x.stride, in.cols = x.cols, in.n = x.rows;
  in.transform = stage_transform(transform);
  in.norm_weight = norm_weight, in.eps = eps;
  in.up = up.data, in.up_stride = up.stride;
  return in;
}

}  // namespace

void CudaOps::matmul_jobs(const MatmulJobsArgs& a) {
  const int64_t n = a.x.rows;
  if (n > kMatvecMaxTokens && a.transform == InputTransform::swiglu && a.job_count == 1 &&
      options_.precision == Precision::fast && n >= kCublasMinTokens && a.jobs[0].weight && a.jobs[0].weight->rows > 0 &&
      a.up.data && a.up.rows == n && a.up.cols == a.x.cols && a.jobs[0].weight->cols == a.x.cols &&
      a.jobs[0].y.rows == n && a.jobs[0].y.cols == a.jobs[0].weight->rows) {
    // A dense MLP's down projection in prefill: silu(gate) · up is formed while the fast GEMM converts its
    // input to bf16 (no SwiGLU kernel, no float32 copy of the product's input).
    const MatmulJob& job = a.jobs[0];
    Timer timer(*this, [&] { return "matmul_jobs swiglu " + job.weight->describe() + " n=" + std::to_string(n); });
    FastGemmLaunch f;
    f.m.w = *job.weight;
    f.m.x = a.x.data, f.m.x_stride = a.x.stride;
    f.m.swiglu_up = a.up.data, f.m.up_stride = a.up.stride;
    f.m.y = job.y.data, f.m.y_stride = job.y.stride;
    f.m.n = n, f.m.accumulate = job.accumulate;
    f.cublas = cublas();
    f.workspace = workspace(fast_gemm_workspace_bytes(f.m.w.rows, f.m.w.cols, n));
    launch_gemm_fast(f, stream_);
    return;
  }
  if (n < 1 || n > kMatvecMaxTokens) {  // prefill: the transform into scratch, then a GEMM per job
    Ops::matmul_jobs(a);
    return;
  }
  require(a.job_count >= 1 && a.job_count <= kMaxMatmulJobs && kMaxMatmulJobs <= kMaxMatvecJobs, "matmul_jobs: job count");
  require(a.transform != InputTransform::rms_norm || a.norm_weight, "matmul_jobs: rms_norm without a weight");
  require(a.transform != InputTransform::swiglu || (a.up.data && a.up.rows == n && a.up.cols == a.x.cols),
          "matmul_jobs: swiglu needs up shaped like x");
  MatvecJob jobs[kMaxMatmulJobs];
  for (int j = 0; j < a.job_count; ++j) {
    const MatmulJob& job = a.jobs[static_cast<size_t>(j)];
    require(job.weight && job.weight->cols == a.x.cols && job.y.rows == n && job.y.cols == job.weight->rows,
            "matmul_jobs shapes");
    jobs[j].w = *job.weight;
    jobs[j].y = job.y.data;
    jobs[j].y_stride = job.y.stride;
    jobs[j].accumulate = job.accumulate;
  }
  Timer timer(*this, [&] {
    return "matmul_jobs x" + std::to_string(a.job_count) + " " + a.jobs[0].weight->describe() + " n=" + std::to_string(n);
  });
  launch_matvec_jobs(stage_input(a.x, a.transform, a.norm_weight, a.eps, a.up), jobs, a.job_count, stream_);
}

void CudaOps::moe_block(const MoeBlockArgs& a) {
  const int64_t n = a.x.rows;
  if (n < 1 || n > kMoeDecodeMaxTokens || n > kMatvecMaxTokens || a.top_k > kMoeMaxTopK) {
    Ops::moe_block(a);  // prefill: the composition (grouped GEMMs in moe())
    return;
  }
  require(a.norm_weight && a.router && a.gate && a.up && a.down && a.indices && a.weights && a.logits.data &&
              a.logits.rows == n && a.logits.cols == a.router->rows && a.router->cols == a.x.cols,
          "moe_block arguments");
  const ExpertTable& gate = expert_table(*a.gate);
  const ExpertTable& up = expert_table(*a.up);
  const ExpertTable& down = expert_table(*a.down);
  Timer timer(*this, [&] { return "moe_block n=" + std::to_string(n); });
  const StageInput in = stage_input(a.x, InputTransform::rms_norm, a.norm_weight, a.eps, {});
  // The router logits (one matrix-vector launch), then routing, experts, shared expert and the
  // residual add in the fused MoE launches.
  MatvecJob router;
  router.w = *a.router;
  router.y = a.logits.data;
  router.y_stride = a.logits.stride;
  launch_matvec_jobs(in, &router, 1, stream_);
  MoeDecodeLaunch l;
  l.gate = gate, l.up = up, l.down = down;
  l.x = in;
  l.router_logits = a.logits.data, l.logits_stride = a.logits.stride;
  l.top_k = a.top_k, l.normalize = a.normalize;
  l.shared_gate = a.shared_gate, l.shared_up = a.shared_up, l.shared_down = a.shared_down;
  l.shared_gate_row = a.shared_gate_row;
  l.indices = a.indices, l.weights = a.weights;
  l.out = a.x.data, l.out_stride = a.x.stride;
  const int64_t shared_inter = a.shared_gate ? a.shared_gate->rows : 0;
  l.workspace = workspace(moe_decode_workspace_bytes(n, a.top_k, gate.shape.rows, shared_inter));
  launch_moe_decode_fused(l, stream_);
}

namespace {

// Whether one decode kernel runs this step (one token, sizes it covers).
bool delta_step_in_one_kernel(const DeltaStepArgs& a) {
  const int64_t kd = a.k_heads * a.dk, vd = a.v_heads * a.dv;
  return a.qkv.rows == 1 && a.k_heads > 0 && a.qkv.cols == 2 * kd + vd && a.z.cols == vd && a.out.cols == vd &&
         a.a.cols == a.v_heads && a.b.cols == a.v_heads &&
         delta_decode_supports(static_cast<int>(a.k_heads), static_cast<int>(a.v_heads), static_cast<int>(a.dk),
                               static_cast<int>(a.dv), a.conv_kernel);
}

// The layer's weights and sizes of a step (its per-sequence pointers are set by the caller).
DeltaDecodeLaunch delta_decode_launch(const DeltaStepArgs& a) {
  DeltaDecodeLaunch l;
  l.qkv = a.qkv.data, l.conv_state = a.conv_state, l.conv_weight = a.conv_weight, l.conv_kernel = a.conv_kernel;
  l.z = a.z.data, l.a = a.a.data, l.b = a.b.data, l.a_log = a.a_log, l.dt_bias = a.dt_bias;
  l.state = a.state, l.norm_weight = a.norm_weight, l.eps = a.eps, l.out = a.out.data;
  l.k_heads = static_cast<int>(a.k_heads), l.v_heads = static_cast<int>(a.v_heads);
  l.dk = static_cast<int>(a.dk), l.dv = static_cast<int>(a.dv);
  return l;
}

// Steps of the same layer: the same weights and sizes.
bool same_layer(const DeltaStepArgs& a, const DeltaStepArgs& b) {
  return a.conv_weight == b.conv_weight && a.conv_kernel == b.conv_kernel && a.a_log == b.a_log && a.dt_bias == b.dt_bias &&
         a.norm_weight == b.norm_weight && a.eps == b.eps && a.k_heads == b.k_heads && a.v_heads == b.v_heads &&
         a.dk == b.dk && a.dv == b.dv;
}

}  // namespace

void CudaOps::delta_step(const DeltaStepArgs& a) { delta_steps(std::span<const DeltaStepArgs>(&a, 1)); }

void CudaOps::delta_steps(std::span<const DeltaStepArgs> steps) {
  DeltaDecodeBatch batch;
  const DeltaStepArgs* first = nullptr;  // the batch's first step: the others must be of its layer
  auto flush = [&] {
    if (batch.count == 0) return;
    Timer timer(*this, [&] { return "delta_step n=1 x" + std::to_string(batch.count); });
    launch_delta_decode_batch(batch, stream_);
    batch.count = 0;
  };
  for (const DeltaStepArgs& a : steps) {
    if (!delta_step_in_one_kernel(a)) {
      Ops::delta_step(a);  // a prefill chunk (or sizes the kernel does not cover): the composition
      continue;
    }
    if (batch.count == kDeltaDecodeMaxBatch || (batch.count > 0 && !same_layer(a, *first))) flush();
    if (batch.count == 0) {
      batch.shared = delta_decode_launch(a);
      first = &a;
    }
    const int e = batch.count++;
    batch.qkv[e] = a.qkv.data, batch.conv_state[e] = a.conv_state, batch.z[e] = a.z.data, batch.a[e] = a.a.data;
    batch.b[e] = a.b.data, batch.state[e] = a.state, batch.out[e] = a.out.data;
  }
  flush();
}

void CudaOps::attention_prep(const AttentionPrepArgs& a) {
  const int64_t n = a.q_proj.rows, D = a.head_dim, qd = a.heads * D;
  require(a.heads > 0 && a.kv_heads > 0 && D > 0 && a.q_proj.cols == qd * (a.gated ? 2 : 1) && a.q.cols == qd &&
              a.q.rows == n && a.k.rows == n && a.v.rows == n && a.k.cols == a.kv_heads * D && a.v.cols == a.k.cols &&
              a.k_cache.cols == a.k.cols && a.v_cache.cols == a.k.cols && (!a.gated || (a.gate.cols == qd && a.gate.rows == n)),
          "attention_prep shapes");
  require(a.position_ptr || a.first_position + n <= a.k_cache.rows, "attention_prep: rows past the cache");
  if (a.k_cache.stride != a.v_cache.stride) {
    Ops::attention_prep(a);
    return;
  }
  Timer timer(*this, [&] { return "attention_prep n=" + std::to_string(n); });
  AttentionPrepLaunch l;
  l.q_proj = a.q_proj.data, l.q_proj_stride = a.q_proj.stride, l.gated = a.gated;
  l.k = a.k.data, l.k_stride = a.k.stride, l.v = a.v.data, l.v_stride = a.v.stride;
  l.q_norm = a.q_norm, l.k_norm = a.k_norm, l.eps = a.eps, l.n = n;
  l.heads = static_cast<int>(a.heads), l.kv_heads = static_cast<int>(a.kv_heads), l.head_dim = static_cast<int>(D);
  l.rotary_dim = static_cast<int>(a.rotary_dim), l.theta = a.theta;
  l.first_position = a.first_position, l.dev_position = a.position_ptr;
  l.k_cache = a.k_cache.data, l.v_cache = a.v_cache.data, l.cache_stride = a.k_cache.stride;
  l.q = a.q.data, l.q_stride = a.q.stride, l.gate = a.gate.data, l.gate_stride = a.gate.stride;
  launch_attention_prep(l, stream_);
}

void CudaOps::top_logits(const TopLogitsArgs& a) {
  require(a.logits && a.out && a.k >= 1 && a.k <= kMaxTopLogits && a.limit >= 1 && a.limit <= a.row_length,
          "top_logits arguments");
  if (recording_ || !top_logits_supports(a.limit, a.k)) {
    Ops::top_logits(a);  // the row to the host
    return;
  }
  Timer timer(*this, [&] { return "top_logits k=" + std::to_string(a.k); });
  const size_t words = top_logits_workspace_words(a.limit, a.k);
  auto* ws = static_cast<uint64_t*>(workspace((words + kMaxTopLogits) * sizeof(uint64_t)));
  TopLogitsLaunch l;
  l.logits = a.logits, l.limit = a.limit, l.k = a.k, l.workspace = ws, l.out = ws + words;
  launch_top_logits(l, stream_);
  uint64_t keys[kMaxTopLogits];
  download(keys, l.out, static_cast<size_t>(a.k) * sizeof(uint64_t));
  a.out->clear();
  for (int i = 0; i < a.k && keys[i] != 0; ++i) {
    TokenLogit t;
    decode_top_logit_key(keys[i], t.id, t.logit);
    a.out->push_back(t);
  }
}

// ---- recording -----------------------------------------------------------------------------------------
void CudaOps::begin_recording() {
  if (recording_) throw Error("cuda: already recording");
  // Relaxed: the workspace may still grow (cudaMalloc) while a first step is recorded.
  HEARTH_CUDA_CHECK(cudaStreamBeginCapture(stream_, cudaStreamCaptureModeRelaxed));
  recording_ = true;
}

std::unique_ptr<RecordedOps> CudaOps::end_recording() {
  if (!recording_) throw Error("cuda: end_recording without begin_recording");
  recording_ = false;
  cudaGraph_t graph = nullptr;
  HEARTH_CUDA_CHECK(cudaStreamEndCapture(stream_, &graph));
  cudaGraphExec_t exec = nullptr;
  const cudaError_t err = cudaGraphInstantiate(&exec, graph, 0);
  cudaGraphDestroy(graph);
  if (err != cudaSuccess) throw_cuda_error(err, "cudaGraphInstantiate", __FILE__, __LINE__);
  return std::make_unique<CudaGraph>(exec, stream_);
}

// ---- profiling -----------------------------------------------------------------------------------------
void CudaOps::set_profiling(bool on) { profiling_ = on; }

std::vector<OpProfileRow> CudaOps::profile() {
  synchronize();
  for (auto& ev : pending_events_) {
    float ms = 0;
    HEARTH_CUDA_CHECK(cudaEventElapsedTime(&ms, ev.begin, ev.end));
    OpProfileRow& row = profile_rows_[ev.label];
    row.label = ev.label;
    row.calls += 1;
    row.total_ms += ms;
    free_events_.push_back(ev.begin);
    free_events_.push_back(ev.end);
  }
  pending_events_.clear();
  std::vector<OpProfileRow> rows;
  for (auto& [label, row] : profile_rows_) rows.push_back(row);
  std::sort(rows.begin(), rows.end(), [](const OpProfileRow& a, const OpProfileRow& b) { return a.total_ms > b.total_ms; });
  return rows;
}

void CudaOps::clear_profile() {
  profile();
  profile_rows_.clear();
}

}  // namespace hearth::engine::cuda
