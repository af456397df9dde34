// Speculative decoding on the tiny models (CPU reference; the row test also on the fake device):
// a forward of k tokens with a logits row each gives bit for bit the logits of k one-token steps (the
// DeltaNet runs token by token in short entries), a rollback by restore + re-run continues exactly,
// greedy generation with a drafter that is partly right gives the same tokens, finish reason and final
// state as without, and speculative sampling keeps the target distribution (chi-square on seeded draws).
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <map>

#include "engine/generator.h"
#include "engine/weight_loader.h"
#include "fake_device_ops.h"
#include "reference_data.h"

namespace hearth::engine {
namespace {

using testing::tiny_model_dir;

std::unique_ptr<Qwen35Model> make_model(const std::string& name, bool fake_device = false, int64_t max_chunk = 256,
                                        int32_t slots = 1) {
  const auto dir = tiny_model_dir(name);
  ModelConfig config = load_model_config(dir);
  ModelWeights weights = load_safetensors_weights(dir, config);
  Qwen35Options o;
  o.max_context = 256;
  o.max_chunk = max_chunk;
  o.slots = slots;
  o.kv_page_tokens = 16;
  std::unique_ptr<Ops> ops;
  if (fake_device) ops = std::make_unique<testing::FakeDeviceOps>();
  else ops = std::make_unique<cpu::CpuOps>(2);
  return std::make_unique<Qwen35Model>(std::move(config), std::move(weights), std::move(ops), o);
}

// A prompt whose second half repeats its first, so that lookup-style drafts have something to match.
std::vector<Token> repeating_prompt(int64_t vocab) {
  std::vector<Token> p;
  for (int i = 0; i < 12; ++i) p.push_back(Token((i * 37 + 5) % vocab));
  const std::vector<Token> first = p;
  p.insert(p.end(), first.begin(), first.end());
  return p;
}

std::vector<float> copy(std::span<const float> s) { return {s.begin(), s.end()}; }

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

struct RowCase {
  std::string model;
  bool fake_device = false;
  int64_t max_chunk = 256;  // small: the entry's rows split over two passes
};

class Rows : public ::testing::TestWithParam<RowCase> {};

TEST_P(Rows, ForwardOfKTokensGivesTheLogitsOfKOneTokenStepsBitForBit) {
  const RowCase& c = GetParam();
  auto model = make_model(c.model, c.fake_device, c.max_chunk, 2);
  const std::vector<Token> prompt = repeating_prompt(model->info().vocab_size);
  const std::vector<Token> run = {prompt[3], prompt[4], prompt[5], prompt[6], prompt[7], prompt[8], prompt[9]};
  model->prefill(prompt);
  const auto before = model->save_state();
  std::vector<std::vector<float>> steps;
  for (Token t : run) {
    model->prefill(std::span(&t, 1));
    steps.push_back(copy(model->logits()));
  }
  const auto after_steps = model->save_state();
  const std::vector<float> next_steps = (model->prefill(std::span(&run[0], 1)), copy(model->logits()));

  // Slot 1 decodes in the same passes (its own prompt), so that a batch mixes the shapes.
  model->restore_slot(1, *before);
  for (int32_t rows : {int32_t(run.size()), 3, 1}) {
    model->restore_state(*before);
    const Token other = 11;
    const SlotTokens batch[2] = {{0, run, rows}, {1, std::span(&other, 1)}};
    model->forward(batch);
    for (int32_t i = 0; i < rows; ++i) {
      const size_t step = run.size() - size_t(rows) + size_t(i);
      EXPECT_TRUE(same_bits(copy(model->slot_row_logits(0, i)), steps[step])) << "rows " << rows << " row " << i;
      const auto top = model->slot_row_top_logits(0, i, 3, model->info().vocab_size);
      ASSERT_EQ(top.size(), 3u);
      EXPECT_EQ(top[0].id, Token(std::max_element(steps[step].begin(), steps[step].end()) - steps[step].begin()));
    }
    EXPECT_TRUE(same_bits(copy(model->logits()), steps.back())) << "rows " << rows;
    EXPECT_EQ(model->position(), int64_t(prompt.size() + run.size()));
    // The state after the entry is the state after the steps: the next token's logits agree.
    model->prefill(std::span(&run[0], 1));
    EXPECT_TRUE(same_bits(copy(model->logits()), next_steps)) << "rows " << rows;
    model->restore_slot(1, *before);
  }
  EXPECT_THROW(model->slot_row_logits(0, 1), Error);  // the last forward asked for one row
  const SlotTokens too_many{0, std::span(run).first(2), 3};
  EXPECT_THROW(model->forward(std::span(&too_many, 1)), Error);
}

TEST_P(Rows, RollbackByRestoreAndRerunContinuesExactly) {
  const RowCase& c = GetParam();
  auto model = make_model(c.model, c.fake_device, c.max_chunk);
  const std::vector<Token> prompt = repeating_prompt(model->info().vocab_size);
  const std::vector<Token> kept = {prompt[2], prompt[3], prompt[4]};
  model->prefill(prompt);
  const auto before = model->save_state();
  for (Token t : kept) model->prefill(std::span(&t, 1));
  const std::vector<float> expected = copy(model->logits());

  model->restore_state(*before);
  std::vector<Token> verify = kept;
  verify.insert(verify.end(), {Token(1), Token(2), Token(3)});  // rejected drafts
  const SlotTokens entry{0, verify, int32_t(verify.size())};
  model->forward(std::span(&entry, 1));
  EXPECT_TRUE(same_bits(copy(model->slot_row_logits(0, int32_t(kept.size()) - 1)), expected));
  model->restore_state(*before);
  model->prefill(kept);
  EXPECT_TRUE(same_bits(copy(model->logits()), expected));
  EXPECT_EQ(model->position(), int64_t(prompt.size() + kept.size()));
}

std::string row_case_name(const ::testing::TestParamInfo<RowCase>& info) {
  std::string n = info.param.model + (info.param.fake_device ? "_fake_device" : "_cpu") +
                  (info.param.max_chunk < 256 ? "_split" : "");
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

INSTANTIATE_TEST_SUITE_P(TinyModels, Rows,
                         ::testing::Values(RowCase{"moe-hf-bf16-sharded"}, RowCase{"dense-mlx-affine4-g64"},
                                           RowCase{"qwen3-hf-bf16"}, RowCase{"moe-mlx-mxfp4"},
                                           RowCase{"dense-hf-bf16", false, 4},
                                           RowCase{"moe-hf-bf16-sharded", true}),
                         row_case_name);

// Knows the plain run's tokens and proposes them, spoiled at every `wrong`-th position, so that drafts
// are accepted in full, in part and not at all.
class OracleDrafter : public Drafter {
 public:
  OracleDrafter(std::vector<Token> truth, size_t prompt, int wrong) : truth_(std::move(truth)), prompt_(prompt), wrong_(wrong) {}
  void append(std::span<const Token> tokens) override { seen_ += tokens.size(); }
  std::vector<Token> propose(int32_t limit) override {
    std::vector<Token> out;
    for (size_t i = seen_ - prompt_; i < truth_.size() && out.size() < size_t(limit); ++i) {
      out.push_back(++calls_ % wrong_ == 0 ? Token((truth_[i] + 1) % 50) : truth_[i]);
    }
    return out;
  }
  void feedback(int32_t proposed, int32_t accepted) override { feedback_accepted += accepted; }
  int64_t feedback_accepted = 0;

 private:
  std::vector<Token> truth_;
  size_t prompt_;
  int wrong_;
  size_t seen_ = 0;
  int calls_ = 0;
};

struct Outcome {
  GenerateResult result;
  std::vector<float> next_logits;  // after feeding one more token: the state left behind
  int64_t position = 0;
};

Outcome run(Qwen35Model& model, const StateSnapshot& empty, std::span<const Token> prompt, GenerateParams params) {
  model.restore_state(empty);
  Outcome r;
  r.result = generate(model, prompt, params);
  r.position = model.position();
  const Token t = 7;
  model.prefill(std::span(&t, 1));
  r.next_logits = copy(model.logits());
  return r;
}

class Greedy : public ::testing::TestWithParam<std::string> {};

TEST_P(Greedy, SpeculativeGivesTheSameTokensFinishAndStateAsPlain) {
  auto model = make_model(GetParam());
  const auto empty = model->save_state();
  const std::vector<Token> prompt = repeating_prompt(model->info().vocab_size);
  GenerateParams plain;
  plain.sampling.temperature = 0;
  plain.max_new_tokens = 40;
  const Outcome base = run(*model, *empty, prompt, plain);
  ASSERT_EQ(base.result.generated.size(), 40u);

  for (int wrong : {1, 3, 5, 1000}) {
    OracleDrafter drafter(base.result.generated, prompt.size(), wrong);
    GenerateParams spec = plain;
    spec.drafter = &drafter;
    const Outcome s = run(*model, *empty, prompt, spec);
    EXPECT_EQ(s.result.generated, base.result.generated) << "wrong " << wrong;
    EXPECT_EQ(s.result.finish, base.result.finish);
    EXPECT_EQ(s.position, base.position);
    EXPECT_TRUE(same_bits(s.next_logits, base.next_logits)) << "wrong " << wrong;
    EXPECT_GT(s.result.verify_steps, 0);
    EXPECT_EQ(drafter.feedback_accepted, s.result.accepted);
    if (wrong == 1) {
      EXPECT_EQ(s.result.accepted, 0);
    }
    if (wrong == 1000) {
      EXPECT_LT(s.result.verify_steps, 10);  // 8 drafts a step, all right
    }
    if (wrong == 3) {
      EXPECT_GT(s.result.accepted, 0);
      EXPECT_LT(s.result.accepted, s.result.drafted);
    }
  }

  // Ends inside an accepted run of drafts: a stop token, the callback's stop, the budget.
  const Token stop = base.result.generated[13];
  const size_t stop_at = size_t(std::find(base.result.generated.begin(), base.result.generated.end(), stop) - base.result.generated.begin());
  for (int variant = 0; variant < 3; ++variant) {
    GenerateParams p = plain;
    if (variant == 0) p.stop_tokens = {stop};
    if (variant == 1) p.on_token = [n = 0](Token) mutable { return ++n < 12; };
    if (variant == 2) p.max_new_tokens = 11;
    const Outcome b = run(*model, *empty, prompt, p);
    OracleDrafter drafter(base.result.generated, prompt.size(), 1000);
    p.drafter = &drafter;
    if (variant == 1) p.on_token = [n = 0](Token) mutable { return ++n < 12; };
    const Outcome s = run(*model, *empty, prompt, p);
    EXPECT_EQ(s.result.generated, b.result.generated) << "variant " << variant;
    EXPECT_EQ(s.result.finish, b.result.finish) << "variant " << variant;
    EXPECT_EQ(s.position, b.position) << "variant " << variant;
    EXPECT_TRUE(same_bits(s.next_logits, b.next_logits)) << "variant " << variant;
    if (variant == 0) {
      EXPECT_EQ(b.result.generated.size(), stop_at);
    }
  }
}

INSTANTIATE_TEST_SUITE_P(TinyModels, Greedy,
                         ::testing::Values("moe-hf-bf16-sharded", "dense-mlx-affine4-g64", "qwen3-hf-bf16", "dense-hf-bf16",
                                           "moe-mlx-nvfp4"),
                         [](const auto& info) {
                           std::string n = info.param;
                           std::replace(n.begin(), n.end(), '-', '_');
                           return n;
                         });

// Always proposes the same token.
class FixedDrafter : public Drafter {
 public:
  explicit FixedDrafter(Token t) : t_(t) {}
  void append(std::span<const Token>) override {}
  std::vector<Token> propose(int32_t) override { return {t_}; }

 private:
  Token t_;
};

// The first two sampled tokens, with and without a draft for the second, against the exact target
// probabilities q1(a) · q2(b | a) computed from the model: Pearson's chi-square per run, cells with an
// expected count under 5 pooled, against the 0.1% critical value (Wilson–Hilferty).
TEST(SpeculativeSampling, KeepsTheTargetDistribution) {
  auto model = make_model("dense-hf-bf16");
  const std::vector<Token> prompt = repeating_prompt(model->info().vocab_size);
  SamplingParams sp;
  sp.temperature = 1.5f;
  sp.top_k = 6;
  model->prefill(std::span(prompt).first(prompt.size() - 1));
  const auto cached = model->save_state();  // generate() runs the prompt's last token from here
  model->prefill(std::span(prompt).last(1));
  const auto q1 = draw_distribution(next_candidates(*model, 0, -1, sp, prompt, {}), sp);
  const auto after_prompt = model->save_state();
  std::map<std::pair<Token, Token>, double> expected;
  Token draft = -1;
  for (const TokenProb& a : q1) {
    model->restore_state(*after_prompt);
    model->prefill(std::span(&a.id, 1));
    std::vector<Token> history = prompt;
    history.push_back(a.id);
    const auto q2 = draw_distribution(next_candidates(*model, 0, -1, sp, history, {}), sp);
    for (const TokenProb& b : q2) expected[{a.id, b.id}] = a.p * b.p;
    if (draft < 0) draft = q2.size() > 1 ? q2[1].id : q2[0].id;  // likely, but not the likeliest
  }

  const int draws = 1200;
  for (bool speculate : {false, true}) {
    std::map<std::pair<Token, Token>, int> seen;
    int64_t drafted = 0, accepted = 0;
    for (int seed = 0; seed < draws; ++seed) {
      model->restore_state(*cached);
      FixedDrafter drafter(draft);
      GenerateParams p;
      p.sampling = sp;
      p.sampling.seed = uint64_t(seed) + (speculate ? 1000000 : 0);
      p.max_new_tokens = 3;
      if (speculate) p.drafter = &drafter;
      const GenerateResult r = generate(*model, prompt, p);
      ASSERT_GE(r.generated.size(), 2u);
      ++seen[{r.generated[0], r.generated[1]}];
      drafted += r.drafted, accepted += r.accepted;
    }
    double chi2 = 0, pooled_expected = 0, pooled_seen = 0;
    int cells = 0;
    for (const auto& [cell, p] : expected) {
      const double e = p * draws;
      const double o = seen.count(cell) ? seen[cell] : 0;
      if (e < 5) {
        pooled_expected += e, pooled_seen += o;
        continue;
      }
      chi2 += (o - e) * (o - e) / e;
      ++cells;
    }
    for (const auto& [cell, n] : seen) EXPECT_TRUE(expected.count(cell)) << "a pair outside the target's support";
    if (pooled_expected > 0) chi2 += (pooled_seen - pooled_expected) * (pooled_seen - pooled_expected) / pooled_expected, ++cells;
    const double df = cells - 1, z = 3.09;
    const double critical = df * std::pow(1 - 2 / (9 * df) + z * std::sqrt(2 / (9 * df)), 3);
    EXPECT_LT(chi2, critical) << (speculate ? "speculative" : "plain") << " over " << cells << " cells";
    if (speculate) {
      EXPECT_EQ(drafted, draws);
      EXPECT_GT(accepted, draws / 50);
      EXPECT_LT(accepted, drafted);
    }
  }
}

}  // namespace
}  // namespace hearth::engine
