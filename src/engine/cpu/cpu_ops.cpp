#include "engine/cpu/cpu_ops.h"

#include "engine/cpu/cpu_page_memory.h"

#include <sys/mman.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <numeric>
#include <vector>

#include "engine/cpu/dot_kernels.h"
#include "util/error.h"

namespace hearth::engine::cpu {

namespace {

constexpr size_t kHeader = 64;                // keeps the user pointer 64-byte aligned
constexpr size_t kMmapThreshold = 1u << 20;  // large buffers: lazily committed anonymous pages

inline float sigmoid(float x) { return 1.0f / (1.0f + std::exp(-x)); }
inline float silu(float x) { return x * sigmoid(x); }
// torch.nn.functional.softplus (beta 1, threshold 20).
inline float softplus(float x) { return x > 20.0f ? x : std::log1p(std::exp(x)); }

void check(bool ok, const char* what) {
  if (!ok) throw Error(std::string("cpu op: ") + what);
}

}  // namespace

CpuOps::CpuOps(int threads) : pool_(threads) {}

void* CpuOps::alloc(size_t bytes) {
  const size_t total = bytes + kHeader;
  uint8_t* base;
  uint64_t kind;
  if (total >= kMmapThreshold) {
    void* p = mmap(nullptr, total, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED) throw Error("out of memory allocating " + std::to_string(bytes) + " bytes");
    base = static_cast<uint8_t*>(p);
    kind = 1;
  } else {
    base = static_cast<uint8_t*>(std::aligned_alloc(kHeader, (total + kHeader - 1) / kHeader * kHeader));
    if (!base) throw Error("out of memory allocating " + std::to_string(bytes) + " bytes");
    std::memset(base, 0, total);
    kind = 0;
  }
  uint64_t header[2] = {total, kind};
  std::memcpy(base, header, sizeof(header));
  return base + kHeader;
}

std::unique_ptr<PageMemory> CpuOps::make_page_memory() { return std::make_unique<CpuPageMemory>(); }

void CpuOps::release(void* ptr) {
  if (!ptr) return;
  uint8_t* base = static_cast<uint8_t*>(ptr) - kHeader;
  uint64_t header[2];
  std::memcpy(header, base, sizeof(header));
  if (header[1] == 1) munmap(base, header[0]);
  else std::free(base);
}

void CpuOps::upload(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }
void CpuOps::download(void* dst, const void* src, size_t bytes) { std::memcpy(dst, src, bytes); }
void CpuOps::copy(void* dst, const void* src, size_t bytes) { std::memmove(dst, src, bytes); }
void CpuOps::zero(void* dst, size_t bytes) { std::memset(dst, 0, bytes); }

void CpuOps::embed(const EmbedArgs& a) {
  check(a.table && a.out.rows == static_cast<int64_t>(a.tokens.size()) && a.out.cols == a.table->cols, "embed shapes");
  for (size_t i = 0; i < a.tokens.size(); ++i) {
    const Token t = a.tokens[i];
    if (t < 0 || t >= a.table->rows) throw Error("token id " + std::to_string(t) + " is outside the vocabulary", ErrorKind::invalid_request);
    decode_row_fast(*a.table, t, a.out.row(static_cast<int64_t>(i)));
  }
}

void CpuOps::rms_norm(const RmsNormArgs& a) {
  check(a.dim > 0 && a.x.cols % a.dim == 0 && a.out.rows == a.x.rows && a.out.cols == a.x.cols, "rms_norm shapes");
  const int64_t groups = a.x.cols / a.dim;
  for (int64_t r = 0; r < a.x.rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      const float* x = a.x.row(r) + g * a.dim;
      float* y = a.out.row(r) + g * a.dim;
      double ss = 0;
      for (int64_t j = 0; j < a.dim; ++j) ss += static_cast<double>(x[j]) * x[j];
      const float inv = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(a.dim)) + a.eps);
      for (int64_t j = 0; j < a.dim; ++j) y[j] = (x[j] * inv) * a.weight[j];
    }
  }
}

void CpuOps::rope(const RopeArgs& a) {
  check(a.x.cols == a.heads * a.head_dim && a.rotary_dim % 2 == 0 && a.rotary_dim <= a.head_dim, "rope shapes");
  const int64_t half = a.rotary_dim / 2;
  // Frequencies as transformers computes them, in float32: 1 / theta^(2i / rotary_dim).
  std::vector<float> inv_freq(static_cast<size_t>(half));
  for (int64_t i = 0; i < half; ++i) {
    const float e = static_cast<float>(2 * i) / static_cast<float>(a.rotary_dim);
    inv_freq[static_cast<size_t>(i)] = 1.0f / static_cast<float>(std::pow(static_cast<double>(a.theta), static_cast<double>(e)));
  }
  std::vector<float> cs(static_cast<size_t>(half)), sn(static_cast<size_t>(half));
  const int64_t first = a.position_ptr ? *a.position_ptr : a.first_position;  // host memory here
  for (int64_t r = 0; r < a.x.rows; ++r) {
    const float pos = static_cast<float>(first + r);
    for (int64_t i = 0; i < half; ++i) {
      const float angle = pos * inv_freq[static_cast<size_t>(i)];
      cs[static_cast<size_t>(i)] = std::cos(angle);
      sn[static_cast<size_t>(i)] = std::sin(angle);
    }
    for (int64_t h = 0; h < a.heads; ++h) {
      float* x = a.x.row(r) + h * a.head_dim;
      for (int64_t i = 0; i < half; ++i) {
        const float x1 = x[i], x2 = x[i + half];
        x[i] = x1 * cs[static_cast<size_t>(i)] - x2 * sn[static_cast<size_t>(i)];
        x[i + half] = x2 * cs[static_cast<size_t>(i)] + x1 * sn[static_cast<size_t>(i)];
      }
    }
  }
}

void CpuOps::delta_gates(const DeltaGatesArgs& a) {
  check(a.a.cols == a.b.cols && a.g.cols == a.a.cols && a.beta.cols == a.a.cols, "delta_gates shapes");
  for (int64_t r = 0; r < a.a.rows; ++r) {
    for (int64_t h = 0; h < a.a.cols; ++h) {
      a.beta.row(r)[h] = sigmoid(a.b.row(r)[h]);
      a.g.row(r)[h] = -std::exp(a.a_log[h]) * softplus(a.a.row(r)[h] + a.dt_bias[h]);
    }
  }
}

void CpuOps::gated_rms_norm(const GatedRmsNormArgs& a) {
  check(a.dim > 0 && a.x.cols % a.dim == 0 && a.z.cols == a.x.cols && a.z.rows == a.x.rows, "gated_rms_norm shapes");
  const int64_t groups = a.x.cols / a.dim;
  for (int64_t r = 0; r < a.x.rows; ++r) {
    for (int64_t g = 0; g < groups; ++g) {
      float* x = a.x.row(r) + g * a.dim;
      const float* z = a.z.row(r) + g * a.dim;
      double ss = 0;
      for (int64_t j = 0; j < a.dim; ++j) ss += static_cast<double>(x[j]) * x[j];
      const float inv = 1.0f / std::sqrt(static_cast<float>(ss / static_cast<double>(a.dim)) + a.eps);
      for (int64_t j = 0; j < a.dim; ++j) x[j] = a.weight[j] * (x[j] * inv) * silu(z[j]);
    }
  }
}

void CpuOps::split_query_gate(const SplitQueryGateArgs& a) {
  const int64_t D = a.head_dim;
  check(a.query_gate.cols == a.heads * 2 * D && a.query.cols == a.heads * D && a.gate.cols == a.heads * D, "split_query_gate shapes");
  for (int64_t r = 0; r < a.query_gate.rows; ++r) {
    for (int64_t h = 0; h < a.heads; ++h) {
      const float* src = a.query_gate.row(r) + h * 2 * D;
      std::memcpy(a.query.row(r) + h * D, src, sizeof(float) * static_cast<size_t>(D));
      std::memcpy(a.gate.row(r) + h * D, src + D, sizeof(float) * static_cast<size_t>(D));
    }
  }
}

void CpuOps::sigmoid_mul(const SigmoidMulArgs& a) {
  check(a.x.rows == a.gate.rows && a.x.cols == a.gate.cols, "sigmoid_mul shapes");
  for (int64_t r = 0; r < a.x.rows; ++r) {
    for (int64_t j = 0; j < a.x.cols; ++j) a.x.row(r)[j] *= sigmoid(a.gate.row(r)[j]);
  }
}

void CpuOps::swiglu(const SwiGluArgs& a) {
  check(a.gate.rows == a.up.rows && a.gate.cols == a.up.cols && a.out.cols == a.gate.cols, "swiglu shapes");
  for (int64_t r = 0; r < a.gate.rows; ++r) {
    for (int64_t j = 0; j < a.gate.cols; ++j) a.out.row(r)[j] = silu(a.gate.row(r)[j]) * a.up.row(r)[j];
  }
}

void CpuOps::add(const AddArgs& a) {
  check(a.x.rows == a.y.rows && a.x.cols == a.y.cols, "add shapes");
  for (int64_t r = 0; r < a.x.rows; ++r) {
    const float s = a.row_gate.data ? sigmoid(a.row_gate.row(r)[0]) : 1.0f;
    float* x = a.x.row(r);
    const float* y = a.y.row(r);
    if (a.row_gate.data) {
      for (int64_t j = 0; j < a.x.cols; ++j) x[j] += s * y[j];
    } else {
      for (int64_t j = 0; j < a.x.cols; ++j) x[j] += y[j];
    }
  }
}

void CpuOps::route(const RouterArgs& a) {
  const int64_t E = a.logits.cols, k = a.top_k;
  check(k > 0 && k <= E, "route: top_k out of range");
  std::vector<float> p(static_cast<size_t>(E));
  std::vector<int32_t> order(static_cast<size_t>(E));
  for (int64_t r = 0; r < a.logits.rows; ++r) {
    const float* l = a.logits.row(r);
    const float mx = *std::max_element(l, l + E);
    double sum = 0;
    for (int64_t e = 0; e < E; ++e) sum += (p[static_cast<size_t>(e)] = std::exp(l[e] - mx));
    for (auto& v : p) v = static_cast<float>(v / sum);
    std::iota(order.begin(), order.end(), 0);
    // Highest probability first; ties to the lower expert index (as torch.topk on CPU).
    std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t x, int32_t y) {
      return p[static_cast<size_t>(x)] > p[static_cast<size_t>(y)] || (p[static_cast<size_t>(x)] == p[static_cast<size_t>(y)] && x < y);
    });
    float total = 0;
    for (int64_t j = 0; j < k; ++j) total += p[static_cast<size_t>(order[static_cast<size_t>(j)])];
    for (int64_t j = 0; j < k; ++j) {
      const int32_t e = order[static_cast<size_t>(j)];
      a.indices[r * k + j] = e;
      a.weights[r * k + j] = a.normalize ? p[static_cast<size_t>(e)] / total : p[static_cast<size_t>(e)];
    }
  }
}

void CpuOps::copy_tensor(const CopyArgs& a) {
  check(a.src.rows == a.dst.rows && a.src.cols == a.dst.cols, "copy_tensor shapes");
  for (int64_t r = 0; r < a.src.rows; ++r) {
    std::memmove(a.dst.row(r), a.src.row(r), sizeof(float) * static_cast<size_t>(a.src.cols));
  }
}

}  // namespace hearth::engine::cpu
