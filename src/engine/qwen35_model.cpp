#include "engine/qwen35_model.h"

#include <algorithm>
#include <cmath>

#include "util/error.h"

namespace hearth::engine {

// Small per-layer float vectors in the backend's memory.
struct Qwen35Model::LayerVectors {
  DeviceBuffer input_norm, post_norm, q_norm, k_norm, conv, a_log, dt_bias, norm;
};

namespace {

DeviceBuffer upload_vector(Ops& ops, const std::vector<float>& v) {
  DeviceBuffer b(ops, v.size() * sizeof(float));
  if (!v.empty()) ops.upload(b.get(), v.data(), v.size() * sizeof(float));
  return b;
}

size_t stored_bytes(const WeightMatrix& m) {
  const size_t group_bytes = m.quantized() ? m.scales_row_bytes() * static_cast<size_t>(m.rows) : 0;
  return m.data_bytes() + group_bytes * (m.biases ? 2 : 1);
}

// Places matrices on the backend and reports LoadStage::place_weights (totals counted up front).
class Placer {
 public:
  Placer(Ops& ops, const ModelWeights& w, const LoadProgressFn& progress) : ops_(ops), progress_(progress) {
    p_.stage = LoadStage::place_weights;
    if (!progress_) return;
    auto count = [&](const WeightMatrix& m) {
      p_.bytes_total += stored_bytes(m);
      ++p_.tensors_total;
    };
    count(w.embed);
    count(w.lm_head);
    for (const auto& lw : w.layers) {
      for (const WeightMatrix* m : {&lw.attn.q, &lw.attn.k, &lw.attn.v, &lw.attn.o, &lw.linear.qkv, &lw.linear.z, &lw.linear.b,
                                    &lw.linear.a, &lw.linear.out, &lw.moe.router, &lw.moe.shared.gate, &lw.moe.shared.up,
                                    &lw.moe.shared.down, &lw.moe.shared_gate, &lw.mlp.gate, &lw.mlp.up, &lw.mlp.down}) {
        if (m->rows && m->cols) count(*m);
      }
      for (const WeightStack* s : {&lw.moe.gate, &lw.moe.up, &lw.moe.down}) {
        for (const auto& m : s->experts) count(m);
      }
    }
    progress_(p_);
  }
  void operator()(WeightMatrix& m) {
    const bool counted = m.rows && m.cols;
    m = ops_.place_weight(m);
    if (!progress_ || !counted) return;
    p_.bytes_done += stored_bytes(m);
    ++p_.tensors_done;
    progress_(p_);
  }
  void stack(WeightStack& s) {
    for (auto& m : s.experts) (*this)(m);
  }
  void finish() {
    if (!progress_) return;
    p_.finished = true;
    progress_(p_);
  }

 private:
  Ops& ops_;
  const LoadProgressFn& progress_;
  LoadProgress p_;
};

}  // namespace

Qwen35Model::Qwen35Model(ModelConfig config, ModelWeights weights, std::unique_ptr<Ops> ops, const Qwen35Options& options)
    : config_(std::move(config)),
      weights_(std::move(weights)),
      ops_(std::move(ops)),
      options_(options) {
  const ModelConfig& c = config_;
  Ops& o = *ops_;
  if (options_.slots < 1) throw Error("a model needs at least one sequence slot", ErrorKind::invalid_request);
  if (options_.max_context < 1 || options_.max_chunk < options_.slots) {
    throw Error("model options: max_context must be positive and max_chunk at least the slot count", ErrorKind::invalid_request);
  }
  info_.architecture = architecture_name(c.architecture);
  info_.vocab_size = c.vocab_size;
  info_.max_context = options.max_context;
  info_.slots = options.slots;
  info_.description = c.summary() + "; weights: " + weights_.description + "; backend: " + std::string(o.name());

  Placer place(o, weights_, options_.progress);
  place(weights_.embed);
  place(weights_.lm_head);
  final_norm_ = upload_vector(o, weights_.final_norm);
  for (auto& lw : weights_.layers) {
    LayerVectors v;
    v.input_norm = upload_vector(o, lw.input_norm);
    v.post_norm = upload_vector(o, lw.post_norm);
    if (lw.kind == LayerKind::full_attention) {
      for (WeightMatrix* m : {&lw.attn.q, &lw.attn.k, &lw.attn.v, &lw.attn.o}) place(*m);
      v.q_norm = upload_vector(o, lw.attn.q_norm);
      v.k_norm = upload_vector(o, lw.attn.k_norm);
    } else {
      for (WeightMatrix* m : {&lw.linear.qkv, &lw.linear.z, &lw.linear.b, &lw.linear.a, &lw.linear.out}) place(*m);
      v.conv = upload_vector(o, lw.linear.conv);
      v.a_log = upload_vector(o, lw.linear.a_log);
      v.dt_bias = upload_vector(o, lw.linear.dt_bias);
      v.norm = upload_vector(o, lw.linear.norm);
    }
    if (lw.is_moe) {
      place(lw.moe.router);
      place.stack(lw.moe.gate);
      place.stack(lw.moe.up);
      place.stack(lw.moe.down);
      if (lw.moe.has_shared) {
        for (WeightMatrix* m : {&lw.moe.shared.gate, &lw.moe.shared.up, &lw.moe.shared.down, &lw.moe.shared_gate}) {
          place(*m);
        }
      }
    } else {
      for (WeightMatrix* m : {&lw.mlp.gate, &lw.mlp.up, &lw.mlp.down}) place(*m);
    }
    vectors_.push_back(std::move(v));
  }
  place.finish();

  // Scratch: the widest activation any op writes per token.
  const int64_t T = options_.max_chunk;
  wide_ = std::max({c.hidden_size, c.num_heads * c.head_dim * 2, c.linear_conv_channels(), c.linear_v_heads * c.linear_v_dim,
                    c.intermediate_size, c.moe_intermediate_size, c.shared_expert_intermediate_size, c.num_experts});
  const size_t f = sizeof(float);
  const auto rows = static_cast<size_t>(T);
  const size_t H = static_cast<size_t>(c.hidden_size), W = static_cast<size_t>(wide_);
  const size_t heads = static_cast<size_t>(std::max<int64_t>(1, c.linear_v_heads));
  const size_t topk = static_cast<size_t>(std::max<int64_t>(1, c.experts_per_token));
  x_ = DeviceBuffer(o, rows * H * f);
  h_ = DeviceBuffer(o, rows * H * f);
  out_ = DeviceBuffer(o, rows * H * f);
  out2_ = DeviceBuffer(o, rows * H * f);
  for (DeviceBuffer* b : {&a_, &b_, &c_, &d_}) *b = DeviceBuffer(o, rows * W * f);
  for (DeviceBuffer* b : {&g_, &beta_, &ga_, &gb_}) *b = DeviceBuffer(o, rows * heads * f);
  route_w_ = DeviceBuffer(o, rows * topk * f);
  route_i_ = DeviceBuffer(o, rows * topk * sizeof(int32_t));
  row_gate_ = DeviceBuffer(o, rows * f);
  const size_t vocab = static_cast<size_t>(c.vocab_size), slots = static_cast<size_t>(options_.slots);
  logits_dev_ = DeviceBuffer(o, slots * vocab * f);
  const size_t kv_width = static_cast<size_t>(std::max<int64_t>(1, c.num_kv_heads * c.head_dim));
  k_new_ = DeviceBuffer(o, rows * kv_width * f);
  v_new_ = DeviceBuffer(o, rows * kv_width * f);
  position_dev_ = DeviceBuffer(o, slots * sizeof(int64_t));

  // The KV page pool and the slots (engine/kv_pages.h).
  std::unique_ptr<PageMemory> memory = o.make_page_memory();
  KvGeometry g;
  for (LayerKind kind : c.layer_types) g.layers += kind == LayerKind::full_attention;
  g.row_floats = static_cast<int64_t>(kv_width);
  // Host pages of at least 256 KiB keep the mapping count low; a device's granularity (2 MiB) is its own floor.
  const size_t min_chunk = o.memory_is_host() ? (size_t{256} << 10) : memory->granularity();
  // A requested page size is rounded up to the next size the memory's granularity allows.
  const size_t wanted = options_.kv_page_tokens > 0 ? static_cast<size_t>(options_.kv_page_tokens) * g.row_bytes() : min_chunk;
  g.page_tokens = choose_page_tokens(g.row_bytes(), memory->granularity(), wanted);
  g.capacity = (options_.max_context + g.page_tokens - 1) / g.page_tokens * g.page_tokens;
  // By default every slot can fill its context and one more context's worth is left to the checkpoints of
  // branches; host memory is sparse (untouched pages cost nothing), so a host backend gets four times that.
  const int64_t default_tokens = (options_.slots + 1) * g.capacity * (o.memory_is_host() ? 4 : 1);
  const int64_t pool_tokens = options_.kv_pool_tokens > 0 ? options_.kv_pool_tokens : default_tokens;
  pool_ = std::make_unique<KvPagePool>(o, std::move(memory), g, g.layers > 0 ? g.pages_for(pool_tokens) : 0);
  for (int32_t i = 0; i < options_.slots; ++i) slots_.push_back(std::make_unique<SequenceState>(o, c, *pool_, vocab));
  logit_rows_.assign(slots, 1);
}

Qwen35Model::~Qwen35Model() = default;

struct Qwen35Model::RecordedStep {
  int64_t eager_steps = 0;
  std::unique_ptr<RecordedOps> graph;
};

SequenceState& Qwen35Model::at(SlotId slot) const {
  if (slot < 0 || slot >= info_.slots) {
    throw Error("slot " + std::to_string(slot) + " does not exist (the model has " + std::to_string(info_.slots) + ")",
                ErrorKind::internal);
  }
  return *slots_[static_cast<size_t>(slot)];
}

void Qwen35Model::reset_slot(SlotId slot) {
  at(slot).reset();
  logit_rows_[static_cast<size_t>(slot)] = 1;
}

void Qwen35Model::observe(const std::string& name, const Tensor& t) {
  if (!observer_) return;
  std::vector<float> host(static_cast<size_t>(t.rows * t.cols));
  for (int64_t r = 0; r < t.rows; ++r) {
    ops_->download(host.data() + r * t.cols, t.row(r), sizeof(float) * static_cast<size_t>(t.cols));
  }
  observer_(name, host, t.rows, t.cols);
}

void Qwen35Model::forward(std::span<const SlotTokens> batch) {
  // Everything is checked before any state changes.
  for (size_t e = 0; e < batch.size(); ++e) {
    const SlotTokens& entry = batch[e];
    const SequenceState& state = at(entry.slot);
    if (entry.tokens.empty()) throw Error("forward: an entry without tokens", ErrorKind::invalid_request);
    if (entry.logit_rows < 1 || entry.logit_rows > kMaxLogitRows || size_t(entry.logit_rows) > entry.tokens.size()) {
      throw Error("forward: " + std::to_string(entry.logit_rows) + " logits rows asked of an entry of " +
                      std::to_string(entry.tokens.size()) + " tokens (at most " + std::to_string(kMaxLogitRows) + ")",
                  ErrorKind::internal);
    }
    for (size_t other = 0; other < e; ++other) {
      if (batch[other].slot == entry.slot) throw Error("forward: slot " + std::to_string(entry.slot) + " appears twice", ErrorKind::internal);
    }
    for (Token t : entry.tokens) {
      if (t < 0 || t >= config_.vocab_size) {
        throw Error("token id " + std::to_string(t) + " is outside the vocabulary (size " + std::to_string(config_.vocab_size) + ")",
                    ErrorKind::invalid_request);
      }
    }
    const int64_t after = state.position + static_cast<int64_t>(entry.tokens.size());
    if (after > options_.max_context) {
      throw Error("the sequence would hold " + std::to_string(after) + " tokens, more than the context of " +
                      std::to_string(options_.max_context),
                  ErrorKind::prompt_too_long);
    }
  }
  // Passes of at most max_chunk rows; every entry keeps its order, its last piece gives its logits.
  // With an observer each piece is a pass of its own (the unfused path runs one sequence).
  std::vector<size_t> done(batch.size(), 0);
  while (true) {
    std::vector<Piece> pieces;
    int64_t rows = 0;
    for (size_t e = 0; e < batch.size() && rows < options_.max_chunk; ++e) {
      const size_t remaining = batch[e].tokens.size() - done[e];
      if (remaining == 0) continue;
      if (observer_ && !pieces.empty()) break;
      const size_t take = std::min(remaining, static_cast<size_t>(options_.max_chunk - rows));
      Piece piece{batch[e].slot, batch[e].tokens.subspan(done[e], take), rows};
      // The entry's logits rows are its last tokens: within any piece, a run of its last rows.
      const int64_t total = static_cast<int64_t>(batch[e].tokens.size()), first_logit = total - batch[e].logit_rows;
      const int64_t begin = static_cast<int64_t>(done[e]), end = begin + static_cast<int64_t>(take);
      if (batch[e].logit_rows > 1 && end > first_logit) {
        piece.logit_offset = std::max(begin, first_logit) - first_logit;
        piece.logit_rows = end - std::max(begin, first_logit);
      }
      pieces.push_back(piece);
      rows += static_cast<int64_t>(take);
      done[e] += take;
    }
    if (pieces.empty()) break;  // every entry's tokens have run
    run_pass(pieces);
  }
  for (const SlotTokens& entry : batch) logit_rows_[static_cast<size_t>(entry.slot)] = entry.logit_rows;
}

void Qwen35Model::run_pass(std::span<const Piece> pieces) {
  const ModelConfig& c = config_;
  Ops& o = *ops_;
  std::vector<Token> tokens;
  for (const Piece& p : pieces) {
    at(p.slot).prepare_append(p.rows());  // KV pages mapped (copy on write where shared)
    tokens.insert(tokens.end(), p.tokens.begin(), p.tokens.end());
  }
  const int64_t n = static_cast<int64_t>(tokens.size());
  const Tensor x = x_.tensor(n, c.hidden_size);
  o.embed({&weights_.embed, tokens, x});  // reads host memory: never recorded
  observe("embed", x);
  const bool single_tokens =
      std::all_of(pieces.begin(), pieces.end(), [](const Piece& p) { return p.rows() == 1 && p.logit_rows == 0; });
  if (single_tokens && !observer_ && o.can_record()) {
    std::vector<SlotId> key;
    std::vector<int64_t> positions;
    for (const Piece& p : pieces) key.push_back(p.slot), positions.push_back(at(p.slot).position);
    if (recorded_.size() >= 64 && !recorded_.count(key)) recorded_.clear();  // bounded: sets of slots change slowly
    RecordedStep& step = recorded_[key];
    if (step.graph || step.eager_steps > 0) {
      o.upload(position_dev_.get(), positions.data(), positions.size() * sizeof(int64_t));
      if (!step.graph) {
        o.begin_recording();
        positions_ptr_ = static_cast<const int64_t*>(position_dev_.get());
        try {
          run_layers(pieces, n);
        } catch (...) {
          positions_ptr_ = nullptr;
          o.end_recording();
          throw;
        }
        positions_ptr_ = nullptr;
        step.graph = o.end_recording();
      }
      step.graph->replay();
    } else {
      ++step.eager_steps;
      run_layers(pieces, n);
    }
  } else {
    run_layers(pieces, n);
  }
  // Each piece's logits row went to its slot (run_layers); nothing crosses to the host here.
  for (const Piece& p : pieces) {
    SequenceState& state = at(p.slot);
    state.position += p.rows();
    state.logits_written();
  }
  observe("logits", logits_dev_.tensor(static_cast<int64_t>(pieces.size()), c.vocab_size));
}

const float* Qwen35Model::row_logits_ptr(SlotId slot, int32_t row) const {
  at(slot);  // checks the slot
  const int32_t rows = logit_rows_[static_cast<size_t>(slot)];
  if (row < 0 || row >= rows) {
    throw Error("slot " + std::to_string(slot) + " has " + std::to_string(rows) + " logits rows, not row " + std::to_string(row),
                ErrorKind::internal);
  }
  if (row == rows - 1) return at(slot).device_logits();
  return row_logits_.floats() + (static_cast<int64_t>(slot) * kMaxLogitRows + row) * config_.vocab_size;
}

std::span<const float> Qwen35Model::slot_row_logits(SlotId slot, int32_t row) const {
  const float* src = row_logits_ptr(slot, row);
  if (src == at(slot).device_logits()) return slot_logits(slot);
  row_host_.resize(static_cast<size_t>(config_.vocab_size));
  ops_->download(row_host_.data(), src, row_host_.size() * sizeof(float));
  return row_host_;
}

std::vector<TokenLogit> Qwen35Model::slot_row_top_logits(SlotId slot, int32_t row, int32_t k, int64_t limit) const {
  std::vector<TokenLogit> out;
  ops_->top_logits({row_logits_ptr(slot, row), config_.vocab_size, std::min(limit, config_.vocab_size), k, &out});
  return out;
}

Tensor Qwen35Model::head_target(std::span<const Piece> pieces) {
  int64_t rows = 0;
  for (const Piece& p : pieces) rows += p.head_rows();
  const int64_t V = config_.vocab_size;
  if (rows == static_cast<int64_t>(pieces.size())) return logits_dev_.tensor(rows, V);
  // Made on first use, so that a model that never verifies drafts holds none of it. Never while
  // recording: a pass with several rows per piece is not a recorded step.
  const size_t per_pass = static_cast<size_t>(std::min<int64_t>(options_.max_chunk, int64_t{options_.slots} * kMaxLogitRows));
  if (!head_rows_dev_.get()) {
    head_rows_dev_ = DeviceBuffer(*ops_, per_pass * static_cast<size_t>(V) * sizeof(float));
    row_logits_ = DeviceBuffer(*ops_, static_cast<size_t>(options_.slots * kMaxLogitRows * V) * sizeof(float));
  }
  return head_rows_dev_.tensor(rows, V);
}

std::vector<TokenLogit> Qwen35Model::slot_top_logits(SlotId slot, int32_t k, int64_t limit) const {
  const SequenceState& state = at(slot);
  std::vector<TokenLogit> out;
  ops_->top_logits({state.device_logits(), config_.vocab_size, std::min(limit, config_.vocab_size), k, &out});
  return out;
}

void Qwen35Model::run_layers(std::span<const Piece> pieces, int64_t n) {
  if (observer_) run_layers_unfused(pieces.front(), n);
  else run_layers_fused(pieces, n);
  // The head wrote head_rows() logits rows per piece; the last goes to its slot (recorded with the step:
  // a graph's slots are fixed), the rows an entry asked for to row_logits_.
  const int64_t V = config_.vocab_size;
  const Tensor rows = head_target(pieces);
  int64_t r = 0;
  for (const Piece& p : pieces) {
    r += p.head_rows();
    ops_->copy_tensor({rows.rows_slice(r - 1, 1), Tensor::contiguous(at(p.slot).device_logits(), 1, V)});
    if (p.logit_rows == 0) continue;
    float* dst = row_logits_.floats() + (static_cast<int64_t>(p.slot) * kMaxLogitRows + p.logit_offset) * V;
    ops_->copy_tensor({rows.rows_slice(r - p.logit_rows, p.logit_rows), Tensor::contiguous(dst, p.logit_rows, V)});
  }
}

void Qwen35Model::run_layers_unfused(const Piece& piece, int64_t n) {
  SequenceState& state = at(piece.slot);
  const ModelConfig& c = config_;
  Ops& o = *ops_;
  const int64_t H = c.hidden_size;
  const Tensor x = x_.tensor(n, H), h = h_.tensor(n, H), out = out_.tensor(n, H);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    const LayerWeights& lw = weights_.layers[static_cast<size_t>(i)];
    const LayerVectors& v = vectors_[static_cast<size_t>(i)];
    o.rms_norm({x, h, v.input_norm.floats(), H, c.rms_norm_eps});
    observe(blk(i, "attn_norm"), h);
    if (lw.kind == LayerKind::full_attention) full_attention(i, state, h, out);
    else linear_attention(i, state, h, out);
    observe(blk(i, "attn_out"), out);
    o.add({x, out, {}});
    o.rms_norm({x, h, v.post_norm.floats(), H, c.rms_norm_eps});
    observe(blk(i, "ffn_norm"), h);
    if (lw.is_moe) moe_mlp(i, h, out);
    else dense_mlp(i, h, out);
    observe(blk(i, "ffn_out"), out);
    o.add({x, out, {}});
    observe(blk(i, "out"), x);
  }
  // Only the last token's logits are needed, or the entry's last logit_rows.
  const int64_t R = piece.head_rows();
  const Tensor last = x.rows_slice(n - R, R), normed = h.rows_slice(0, R);
  o.rms_norm({last, normed, final_norm_.floats(), H, c.rms_norm_eps});
  observe("output_norm", normed);
  o.matmul({&weights_.lm_head, normed, head_target(std::span(&piece, 1)), false});
}

void Qwen35Model::full_attention(int64_t i, SequenceState& state, const Tensor& h, const Tensor& out) {
  const ModelConfig& c = config_;
  Ops& o = *ops_;
  const AttentionWeights& w = weights_.layers[static_cast<size_t>(i)].attn;
  const LayerVectors& v = vectors_[static_cast<size_t>(i)];
  const int64_t n = h.rows, Hq = c.num_heads, KV = c.num_kv_heads, D = c.head_dim, p = state.position;
  const Tensor q = b_.tensor(n, Hq * D), gate = c_.tensor(n, Hq * D), attn = d_.tensor(n, Hq * D);
  if (c.attn_output_gate) {
    const Tensor qg = a_.tensor(n, Hq * 2 * D);
    o.matmul({&w.q, h, qg, false});
    o.split_query_gate({qg, Hq, D, q, gate});
    observe(blk(i, "attn_gate"), gate);
  } else {
    o.matmul({&w.q, h, q, false});
  }
  // k and v are made in scratch, then appended to the cache at the position (the unfused path is never
  // recorded: it runs with an observer).
  const Tensor k = k_new_.tensor(n, KV * D), val = v_new_.tensor(n, KV * D);
  o.matmul({&w.k, h, k, false});
  o.matmul({&w.v, h, val, false});
  o.rms_norm({q, q, v.q_norm.floats(), D, c.rms_norm_eps});
  o.rms_norm({k, k, v.k_norm.floats(), D, c.rms_norm_eps});
  o.rope({q, Hq, D, c.rotary_dim, p, static_cast<float>(c.rope_theta)});
  o.rope({k, KV, D, c.rotary_dim, p, static_cast<float>(c.rope_theta)});
  o.write_rows({k, state.k_cache(i), p});
  o.write_rows({val, state.v_cache(i), p});
  observe(blk(i, "attn_q"), q);
  observe(blk(i, "attn_k"), k);
  observe(blk(i, "attn_v"), val);
  o.attention({q, state.k_cache(i), state.v_cache(i), p, Hq, KV, D, 1.0f / std::sqrt(static_cast<float>(D)), attn});
  if (c.attn_output_gate) o.sigmoid_mul({attn, gate});
  observe(blk(i, "attn_heads"), attn);
  o.matmul({&w.o, attn, out, false});
}

void Qwen35Model::linear_attention(int64_t i, SequenceState& state, const Tensor& h, const Tensor& out) {
  const ModelConfig& c = config_;
  Ops& o = *ops_;
  const LinearAttentionWeights& w = weights_.layers[static_cast<size_t>(i)].linear;
  const LayerVectors& v = vectors_[static_cast<size_t>(i)];
  const int64_t n = h.rows, C = c.linear_conv_channels(), Hk = c.linear_k_heads, Hv = c.linear_v_heads;
  const int64_t Dk = c.linear_k_dim, Dv = c.linear_v_dim, kd = Hk * Dk;
  const Tensor qkv = a_.tensor(n, C), mixed = b_.tensor(n, C), z = c_.tensor(n, Hv * Dv), core = d_.tensor(n, Hv * Dv);
  const Tensor ta = ga_.tensor(n, Hv), tb = gb_.tensor(n, Hv), g = g_.tensor(n, Hv), beta = beta_.tensor(n, Hv);
  o.matmul({&w.qkv, h, qkv, false});
  o.matmul({&w.z, h, z, false});
  o.matmul({&w.b, h, tb, false});
  o.matmul({&w.a, h, ta, false});
  observe(blk(i, "ssm_qkv"), qkv);
  o.conv1d({qkv, state.conv_state(i), v.conv.floats(), c.conv_kernel, true, mixed});
  observe(blk(i, "ssm_conv"), mixed);
  o.delta_gates({ta, tb, v.a_log.floats(), v.dt_bias.floats(), g, beta});
  observe(blk(i, "ssm_g"), g);
  observe(blk(i, "ssm_beta"), beta);
  const DeltaRuleMode mode = n <= kMaxLogitRows ? DeltaRuleMode::recurrent : DeltaRuleMode::chunked;  // model.h SlotTokens
  o.delta_rule({mixed.cols_slice(0, kd), mixed.cols_slice(kd, kd), mixed.cols_slice(2 * kd, Hv * Dv), g, beta,
                state.recurrent_state(i), Hk, Hv, Dk, Dv, mode, 64, core});
  observe(blk(i, "ssm_core"), core);
  o.gated_rms_norm({core, z, v.norm.floats(), Dv, c.rms_norm_eps});
  observe(blk(i, "ssm_gated_norm"), core);
  o.matmul({&w.out, core, out, false});
}

void Qwen35Model::dense_mlp(int64_t i, const Tensor& h, const Tensor& out) {
  Ops& o = *ops_;
  const MlpWeights& w = weights_.layers[static_cast<size_t>(i)].mlp;
  const int64_t n = h.rows, I = w.gate.rows;
  const Tensor gate = a_.tensor(n, I), up = b_.tensor(n, I);
  o.matmul({&w.gate, h, gate, false});
  o.matmul({&w.up, h, up, false});
  o.swiglu({gate, up, gate});
  observe(blk(i, "ffn_act"), gate);
  o.matmul({&w.down, gate, out, false});
}

void Qwen35Model::moe_mlp(int64_t i, const Tensor& h, const Tensor& out) {
  const ModelConfig& c = config_;
  Ops& o = *ops_;
  const MoeWeights& w = weights_.layers[static_cast<size_t>(i)].moe;
  const int64_t n = h.rows, E = c.num_experts, k = c.experts_per_token;
  const Tensor router = a_.tensor(n, E);
  o.matmul({&w.router, h, router, false});
  observe(blk(i, "ffn_router"), router);
  auto* indices = static_cast<int32_t*>(route_i_.get());
  o.route({router, k, c.norm_topk_prob, indices, route_w_.floats()});
  o.zero(out.data, sizeof(float) * static_cast<size_t>(n * out.stride));
  o.moe({h, &w.gate, &w.up, &w.down, indices, route_w_.floats(), k, out});
  observe(blk(i, "ffn_moe"), out);
  if (w.has_shared) {
    const int64_t S = w.shared.gate.rows;
    const Tensor gate = a_.tensor(n, S), up = b_.tensor(n, S), shared = out2_.tensor(n, c.hidden_size);
    const Tensor row_gate = row_gate_.tensor(n, 1);
    o.matmul({&w.shared.gate, h, gate, false});
    o.matmul({&w.shared.up, h, up, false});
    o.swiglu({gate, up, gate});
    o.matmul({&w.shared.down, gate, shared, false});
    o.matmul({&w.shared_gate, h, row_gate, false});
    observe(blk(i, "ffn_shared"), shared);
    o.add({out, shared, row_gate});
  }
}

// ---- the fused path ------------------------------------------------------------------------------------
// Per layer: one matmul_jobs for the input norm and every input projection, the mixer (delta_step, or
// attention_prep + attention), one matmul_jobs for the output projection accumulated into x (no residual
// add), then the MLP (moe_block, or two matmul_jobs) also accumulated into x.
// The jobs of one matmul_jobs launch reading `rows` of the residual stream through an RMSNorm with
// `norm` (the fused path's projections after a norm: attention/DeltaNet inputs, the dense MLP, the head).
MatmulJobsArgs Qwen35Model::normed_jobs(const Tensor& rows, const float* norm) const {
  MatmulJobsArgs a;
  a.x = rows;
  a.transform = InputTransform::rms_norm;
  a.norm_weight = norm;
  a.eps = config_.rms_norm_eps;
  a.scratch = h_.tensor(rows.rows, config_.hidden_size);  // the composition's normed copy
  return a;
}

void Qwen35Model::run_layers_fused(std::span<const Piece> pieces, int64_t n) {
  const ModelConfig& c = config_;
  Ops& o = *ops_;
  const int64_t H = c.hidden_size;
  const Tensor x = x_.tensor(n, H);
  for (int64_t i = 0; i < c.num_layers; ++i) {
    if (weights_.layers[static_cast<size_t>(i)].kind == LayerKind::full_attention) full_attention_fused(i, pieces, n);
    else linear_attention_fused(i, pieces, n);
    mlp_fused(i, n);
  }
  // Only each piece's last token needs logits, or its head_rows() last. When that is every row (decode
  // steps, a verification alone) they are x already; otherwise they are gathered first (out2_ is free
  // after the layers).
  const Tensor target = head_target(pieces);
  Tensor last = x.rows_slice(0, target.rows);
  if (n != target.rows) {
    last = out2_.tensor(target.rows, H);
    int64_t r = 0;
    for (const Piece& p : pieces) {
      o.copy_tensor({x.rows_slice(p.row + p.rows() - p.head_rows(), p.head_rows()), last.rows_slice(r, p.head_rows())});
      r += p.head_rows();
    }
  }
  MatmulJobsArgs head = normed_jobs(last, final_norm_.floats());
  head.jobs[0] = {&weights_.lm_head, target, false};
  head.job_count = 1;
  o.matmul_jobs(head);
}

void Qwen35Model::full_attention_fused(int64_t i, std::span<const Piece> pieces, int64_t n) {
  const ModelConfig& c = config_;
  Ops& o = *ops_;
  const AttentionWeights& w = weights_.layers[static_cast<size_t>(i)].attn;
  const LayerVectors& v = vectors_[static_cast<size_t>(i)];
  const int64_t H = c.hidden_size, Hq = c.num_heads, KV = c.num_kv_heads, D = c.head_dim;
  const Tensor x = x_.tensor(n, H);
  const bool gated = c.attn_output_gate;
  const Tensor q_proj = gated ? a_.tensor(n, Hq * 2 * D) : b_.tensor(n, Hq * D);
  const Tensor q = b_.tensor(n, Hq * D), gate = c_.tensor(n, Hq * D), attn = d_.tensor(n, Hq * D);
  const Tensor k = k_new_.tensor(n, KV * D), val = v_new_.tensor(n, KV * D);

  MatmulJobsArgs in = normed_jobs(x, v.input_norm.floats());
  in.jobs[0] = {&w.q, q_proj, false};
  in.jobs[1] = {&w.k, k, false};
  in.jobs[2] = {&w.v, val, false};
  in.job_count = 3;
  o.matmul_jobs(in);

  // Each piece's rows meet its own slot's cache at its own position.
  for (size_t e = 0; e < pieces.size(); ++e) {
    const Piece& piece = pieces[e];
    const SequenceState& state = at(piece.slot);
    const int64_t r = piece.row, m = piece.rows();
    AttentionPrepArgs prep;
    prep.q_proj = q_proj.rows_slice(r, m);
    prep.gated = gated;
    prep.k = k.rows_slice(r, m);
    prep.v = val.rows_slice(r, m);
    prep.q_norm = v.q_norm.floats();
    prep.k_norm = v.k_norm.floats();
    prep.eps = c.rms_norm_eps;
    prep.heads = Hq, prep.kv_heads = KV, prep.head_dim = D, prep.rotary_dim = c.rotary_dim;
    prep.theta = static_cast<float>(c.rope_theta);
    prep.first_position = state.position;
    prep.position_ptr = position_ptr(e);
    prep.k_cache = state.k_cache(i);
    prep.v_cache = state.v_cache(i);
    prep.q = q.rows_slice(r, m);
    if (gated) prep.gate = gate.rows_slice(r, m);
    o.attention_prep(prep);

    o.attention({q.rows_slice(r, m), state.k_cache(i), state.v_cache(i), state.position, Hq, KV, D,
                 1.0f / std::sqrt(static_cast<float>(D)), attn.rows_slice(r, m), position_ptr(e)});
  }
  if (gated) o.sigmoid_mul({attn, gate});

  MatmulJobsArgs outp;
  outp.x = attn;
  outp.jobs[0] = {&w.o, x, true};  // the residual add
  outp.job_count = 1;
  o.matmul_jobs(outp);
}

void Qwen35Model::linear_attention_fused(int64_t i, std::span<const Piece> pieces, int64_t n) {
  const ModelConfig& c = config_;
  Ops& o = *ops_;
  const LinearAttentionWeights& w = weights_.layers[static_cast<size_t>(i)].linear;
  const LayerVectors& v = vectors_[static_cast<size_t>(i)];
  const int64_t H = c.hidden_size, C = c.linear_conv_channels(), Hv = c.linear_v_heads;
  const Tensor x = x_.tensor(n, H);
  const Tensor qkv = a_.tensor(n, C), mixed = b_.tensor(n, C), z = c_.tensor(n, Hv * c.linear_v_dim);
  const Tensor core = d_.tensor(n, Hv * c.linear_v_dim);
  const Tensor ta = ga_.tensor(n, Hv), tb = gb_.tensor(n, Hv);

  MatmulJobsArgs in = normed_jobs(x, v.input_norm.floats());
  in.jobs[0] = {&w.qkv, qkv, false};
  in.jobs[1] = {&w.z, z, false};
  in.jobs[2] = {&w.b, tb, false};
  in.jobs[3] = {&w.a, ta, false};
  in.job_count = 4;
  o.matmul_jobs(in);

  // Each piece runs its own slot's conv and recurrent state over its rows (one launch for all the
  // one-token pieces on a device).
  std::vector<DeltaStepArgs> steps;
  steps.reserve(pieces.size());
  for (const Piece& piece : pieces) {
    const SequenceState& state = at(piece.slot);
    const int64_t r = piece.row, m = piece.rows();
    DeltaStepArgs d;
    d.qkv = qkv.rows_slice(r, m), d.z = z.rows_slice(r, m), d.a = ta.rows_slice(r, m), d.b = tb.rows_slice(r, m);
    d.conv_state = state.conv_state(i);
    d.conv_weight = v.conv.floats();
    d.conv_kernel = c.conv_kernel;
    d.a_log = v.a_log.floats(), d.dt_bias = v.dt_bias.floats();
    d.state = state.recurrent_state(i);
    d.k_heads = c.linear_k_heads, d.v_heads = Hv, d.dk = c.linear_k_dim, d.dv = c.linear_v_dim;
    d.norm_weight = v.norm.floats();
    d.eps = c.rms_norm_eps;
    // Short pieces (decode steps, verifications and their re-runs) token by token: model.h SlotTokens.
    d.mode = m <= kMaxLogitRows ? DeltaRuleMode::recurrent : DeltaRuleMode::chunked;
    d.chunk = 64;
    d.mixed = mixed.rows_slice(r, m), d.g = g_.tensor(n, Hv).rows_slice(r, m), d.beta = beta_.tensor(n, Hv).rows_slice(r, m);
    d.out = core.rows_slice(r, m);
    steps.push_back(d);
  }
  o.delta_steps(steps);

  MatmulJobsArgs outp;
  outp.x = core;
  outp.jobs[0] = {&w.out, x, true};  // the residual add
  outp.job_count = 1;
  o.matmul_jobs(outp);
}

void Qwen35Model::mlp_fused(int64_t i, int64_t n) {
  const ModelConfig& c = config_;
  Ops& o = *ops_;
  const LayerWeights& lw = weights_.layers[static_cast<size_t>(i)];
  const LayerVectors& v = vectors_[static_cast<size_t>(i)];
  const int64_t H = c.hidden_size;
  const Tensor x = x_.tensor(n, H), normed = h_.tensor(n, H);
  if (lw.is_moe) {
    const MoeWeights& w = lw.moe;
    MoeBlockArgs m;
    m.x = x;
    m.norm_weight = v.post_norm.floats();
    m.eps = c.rms_norm_eps;
    m.router = &w.router;
    m.gate = &w.gate, m.up = &w.up, m.down = &w.down;
    m.top_k = c.experts_per_token;
    m.normalize = c.norm_topk_prob;
    if (w.has_shared) {
      const int64_t S = w.shared.gate.rows;
      m.shared_gate = &w.shared.gate, m.shared_up = &w.shared.up, m.shared_down = &w.shared.down;
      m.shared_gate_row = &w.shared_gate;
      m.shared_out = out2_.tensor(n, H);
      m.shared_gate_act = b_.tensor(n, S);
      m.shared_up_act = c_.tensor(n, S);
      m.row_gate = row_gate_.tensor(n, 1);
    }
    m.indices = static_cast<int32_t*>(route_i_.get());
    m.weights = route_w_.floats();
    m.normed = normed;
    m.logits = a_.tensor(n, c.num_experts);
    m.moe_out = out_.tensor(n, H);
    o.moe_block(m);
    return;
  }
  const MlpWeights& w = lw.mlp;
  const int64_t I = w.gate.rows;
  const Tensor gate = a_.tensor(n, I), up = b_.tensor(n, I);
  MatmulJobsArgs in = normed_jobs(x, v.post_norm.floats());
  in.jobs[0] = {&w.gate, gate, false};
  in.jobs[1] = {&w.up, up, false};
  in.job_count = 2;
  o.matmul_jobs(in);

  MatmulJobsArgs down;
  down.x = gate;
  down.transform = InputTransform::swiglu;
  down.up = up;
  down.scratch = gate;  // swiglu may write over its gate input
  down.jobs[0] = {&w.down, x, true};  // the residual add
  down.job_count = 1;
  o.matmul_jobs(down);
}

// Snapshots share the slot's KV pages and copy the recurrent state in the backend's memory (nothing
// crosses the bus before the first token); offload_state() makes the host copy the cache demotes to.
std::unique_ptr<StateSnapshot> Qwen35Model::save_slot(SlotId slot) const { return Qwen35Snapshot::save(at(slot), this); }

const Qwen35Snapshot& Qwen35Model::own_snapshot(const StateSnapshot& snapshot, const char* what) const {
  const auto* s = dynamic_cast<const Qwen35Snapshot*>(&snapshot);
  if (!s || s->owner() != this) {
    throw Error(std::string(what) + ": the snapshot was made by another model", ErrorKind::invalid_request);
  }
  return *s;
}

void Qwen35Model::restore_slot(SlotId slot, const StateSnapshot& snapshot) {
  own_snapshot(snapshot, "restore_state").restore_into(at(slot));
  logit_rows_[static_cast<size_t>(slot)] = 1;
}

std::unique_ptr<StateSnapshot> Qwen35Model::offload_state(const StateSnapshot& snapshot) const {
  const Qwen35Snapshot& s = own_snapshot(snapshot, "offload_state");
  // A host copy already, or a host backend whose pages are host memory: nothing to offload (model.h).
  if (!s.paged() || s.memory() == SnapshotMemory::host) return nullptr;
  return s.to_host();
}

size_t Qwen35Model::snapshot_host_page_bytes() const {
  if (!ops_->memory_is_host()) return 0;
  return static_cast<size_t>(pool_->unmapped_pages()) * pool_->geometry().page_bytes();
}

bool Qwen35Model::holds_pages(const StateSnapshot& snapshot) const {
  const auto* s = dynamic_cast<const Qwen35Snapshot*>(&snapshot);
  return s && s->paged() && !s->pages().empty();
}

void Qwen35Model::serialize_state(const StateSnapshot& snapshot, std::ostream& out) const {
  own_snapshot(snapshot, "serialize_state").write(out);
}

std::unique_ptr<StateSnapshot> Qwen35Model::deserialize_state(std::istream& in) const {
  return Qwen35Snapshot::read(in, this);
}

}  // namespace hearth::engine
