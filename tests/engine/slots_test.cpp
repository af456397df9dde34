// Several sequences in one model (engine/model.h slots), on the CPU reference and the fake device (this
// file as engine_slots_test) and on CUDA (the same file as engine_cuda_slots_test, label gpu):
// sequences decoded together give what each gives alone — also when they join and leave mid-way and
// when one's prefill runs in the same passes as the others' decode steps — and checkpoints that share
// KV pages with live sequences restore and continue exactly like independent runs (copy on write).
#include <gtest/gtest.h>

#include <algorithm>
#include <map>

#include "fake_device_ops.h"
#include "util/error.h"
#ifdef HEARTH_SLOTS_ON_CUDA
#include "engine/cuda/cuda_ops.h"
#endif

namespace hearth::engine {
namespace {

using testing::Reference;
using testing::relative_error;
using testing::tiny_model_dir;

enum class Backend { cpu, fake_device, cuda };
struct Case {
  std::string model;
  Backend backend = Backend::cpu;
};
std::string case_name(const ::testing::TestParamInfo<Case>& info) {
  const char* suffix[] = {"_cpu", "_fake_device", "_cuda"};
  std::string n = info.param.model + suffix[static_cast<int>(info.param.backend)];
  std::replace(n.begin(), n.end(), '-', '_');
  return n;
}

std::unique_ptr<Qwen35Model> make_model(const Case& c, int32_t slots, int64_t max_context = 256, int64_t pool_tokens = 0) {
  const auto dir = tiny_model_dir(c.model);
  ModelConfig config = load_model_config(dir);
  ModelWeights weights = load_safetensors_weights(dir, config);
  Qwen35Options o;
  o.max_context = max_context;
  o.slots = slots;
  o.kv_page_tokens = 16;
  o.kv_pool_tokens = pool_tokens;
  std::unique_ptr<Ops> ops;
  switch (c.backend) {
    case Backend::cpu: ops = std::make_unique<cpu::CpuOps>(2); break;
    case Backend::fake_device: ops = std::make_unique<testing::FakeDeviceOps>(); break;
    case Backend::cuda:
#ifdef HEARTH_SLOTS_ON_CUDA
      ops = std::make_unique<cuda::CudaOps>(cuda::CudaOptions{0, cuda::Precision::exact});
#endif
      break;
  }
  if (!ops) throw Error("slots test: backend not built", ErrorKind::unsupported);
  return std::make_unique<Qwen35Model>(std::move(config), std::move(weights), std::move(ops), o);
}

Token argmax(std::span<const float> logits) {
  return static_cast<Token>(std::max_element(logits.begin(), logits.end()) - logits.begin());
}

// What one sequence gives alone: greedy tokens after `prompt` and the logits before each.
struct Greedy {
  std::vector<Token> tokens;
  std::vector<std::vector<float>> logits;
};
Greedy alone(const Case& c, std::span<const Token> prompt, int steps) {
  auto m = make_model(c, 1);
  m->prefill(prompt);
  Greedy r;
  for (int i = 0; i < steps; ++i) {
    r.logits.emplace_back(m->logits().begin(), m->logits().end());
    r.tokens.push_back(argmax(m->logits()));
    m->prefill(std::span(&r.tokens.back(), 1));
  }
  return r;
}

// Float32 arithmetic on every backend; a batch of rows may sum in another order on the GPU.
double tolerance(const Case& c) { return c.backend == Backend::cuda ? 1e-4 : 1e-5; }

void expect_same_run(const Greedy& together, const Greedy& single, const std::string& what, double tol) {
  EXPECT_EQ(together.tokens, single.tokens) << what;
  ASSERT_EQ(together.logits.size(), single.logits.size()) << what;
  for (size_t i = 0; i < single.logits.size(); ++i) {
    EXPECT_LT(relative_error(together.logits[i].data(), single.logits[i].data(), single.logits[i].size()), tol)
        << what << " step " << i;
  }
}

class Slots : public ::testing::TestWithParam<Case> {
 protected:
  void SetUp() override {
#ifdef HEARTH_SLOTS_ON_CUDA
    if (!cuda::device_available()) GTEST_SKIP() << "no CUDA device";
#endif
    ref_ = Reference::load(tiny_model_dir(GetParam().model));
  }
  std::span<const Token> prompt(size_t begin, size_t count) const { return std::span(ref_.prompt).subspan(begin, count); }
  Reference ref_;
};

// Three sequences: A and C start together; B's prompt is prefilled in the passes of A's and C's third
// decode step (a prefill chunk beside decode tokens); C leaves after six steps, A and B go on.
TEST_P(Slots, SequencesDecodedTogetherGiveWhatEachGivesAloneAsTheyJoinAndLeave) {
  const int steps = 10;
  const auto pa = prompt(0, 40), pb = prompt(7, 45), pc = prompt(3, 20);
  const Greedy ra = alone(GetParam(), pa, steps), rb = alone(GetParam(), pb, steps), rc = alone(GetParam(), pc, 6);

  auto m = make_model(GetParam(), 3);
  std::map<SlotId, Greedy> runs;
  std::map<SlotId, std::span<const Token>> prompts = {{0, pa}, {1, pb}, {2, pc}};
  std::map<SlotId, int> budget = {{0, steps}, {1, steps}, {2, 6}};
  std::map<SlotId, bool> started;
  std::vector<Token> next(3);
  for (int step = 0; !budget.empty(); ++step) {
    std::vector<SlotTokens> batch;
    for (auto& [slot, left] : budget) {
      if (slot == 1 && step < 2) continue;  // B joins at the third step
      if (!started[slot]) {
        batch.push_back({slot, prompts[slot]});
        started[slot] = true;
      } else {
        batch.push_back({slot, std::span(&next[static_cast<size_t>(slot)], 1)});
      }
    }
    m->forward(batch);
    for (const SlotTokens& e : batch) {
      Greedy& r = runs[e.slot];
      r.logits.emplace_back(m->slot_logits(e.slot).begin(), m->slot_logits(e.slot).end());
      r.tokens.push_back(argmax(m->slot_logits(e.slot)));
      next[static_cast<size_t>(e.slot)] = r.tokens.back();
      if (--budget[e.slot] == 0) budget.erase(e.slot);
    }
  }
  const double tol = tolerance(GetParam());
  expect_same_run(runs[0], ra, "A", tol);
  expect_same_run(runs[1], rb, "B", tol);
  expect_same_run(runs[2], rc, "C", tol);
}

// Slot 0 runs a prompt, a checkpoint is taken in the middle of a page, slot 0 goes on writing that
// page; the checkpoint is restored into slot 1 (which then must copy the page before writing) and
// into slot 0 later (a branch). Every continuation equals an independent run of the same tokens.
TEST_P(Slots, CheckpointSharingPagesWithALiveSequenceContinuesExactlyInBothPlaces) {
  const auto head = prompt(0, 50);  // 50 = three pages and two positions of 16
  auto m = make_model(GetParam(), 2);
  m->forward(std::vector<SlotTokens>{{0, head}});
  auto checkpoint = m->save_slot(0);
  EXPECT_TRUE(m->holds_pages(*checkpoint));

  const auto tail0 = prompt(50, 12), tail1 = prompt(70, 9), tail2 = prompt(90, 7);
  std::vector<float> slot0_after;
  m->forward(std::vector<SlotTokens>{{0, tail0}});
  slot0_after.assign(m->slot_logits(0).begin(), m->slot_logits(0).end());

  m->restore_slot(1, *checkpoint);
  m->forward(std::vector<SlotTokens>{{1, tail1}});
  const std::vector<float> slot1_after(m->slot_logits(1).begin(), m->slot_logits(1).end());
  // Slot 0 continues after slot 1 wrote its own rows past the checkpoint: it must still see its own.
  const auto more0 = prompt(62, 5);
  m->forward(std::vector<SlotTokens>{{0, more0}});
  const std::vector<float> slot0_more(m->slot_logits(0).begin(), m->slot_logits(0).end());

  m->restore_slot(0, *checkpoint);
  m->forward(std::vector<SlotTokens>{{0, tail2}});
  const std::vector<float> slot0_branch(m->slot_logits(0).begin(), m->slot_logits(0).end());

  auto independent = [&](std::initializer_list<std::span<const Token>> parts) {
    auto single = make_model(GetParam(), 1);
    for (auto part : parts) single->prefill(part);
    return std::vector<float>(single->logits().begin(), single->logits().end());
  };
  auto close = [](const std::vector<float>& a, const std::vector<float>& b) { return relative_error(a.data(), b.data(), a.size()); };
  const double tol = tolerance(GetParam());
  EXPECT_LT(close(slot0_after, independent({head, tail0})), tol);
  EXPECT_LT(close(slot1_after, independent({head, tail1})), tol);
  EXPECT_LT(close(slot0_more, independent({head, tail0, more0})), tol);
  EXPECT_LT(close(slot0_branch, independent({head, tail2})), tol);
}

TEST_P(Slots, ASnapshotCostsTheRecurrentStateNotTheContext) {
  auto m = make_model(GetParam(), 1);
  m->prefill(prompt(0, 10));
  const auto at10 = m->save_state();
  m->prefill(prompt(10, 150));
  const auto at160 = m->save_state();
  EXPECT_EQ(at10->device_bytes() + at10->host_bytes(), at160->device_bytes() + at160->host_bytes());
}

// A pool too small for a second sequence beside a checkpoint: the reclaimer is asked, and without one
// the forward fails as out of memory before any slot changes.
TEST_P(Slots, AFullPagePoolAsksTheReclaimerOrFailsCleanly) {
  auto m = make_model(GetParam(), 2, 64, 64);  // four pages of 16 in all
  m->forward(std::vector<SlotTokens>{{0, prompt(0, 40)}});  // three pages
  auto checkpoint = m->save_slot(0);
  m->reset_slot(0);  // the checkpoint alone holds them now
  try {
    m->forward(std::vector<SlotTokens>{{1, prompt(0, 30)}});  // two pages
    FAIL() << "expected out of memory";
  } catch (const Error& e) {
    EXPECT_EQ(e.kind(), ErrorKind::out_of_memory);
  }
  EXPECT_EQ(m->slot_position(1), 0);
  int calls = 0;
  m->set_page_reclaimer([&] {
    ++calls;
    if (!checkpoint) return false;
    checkpoint.reset();
    return true;
  });
  m->reset_slot(1);
  m->forward(std::vector<SlotTokens>{{1, prompt(0, 30)}});
  EXPECT_EQ(calls, 1);
  EXPECT_EQ(m->slot_position(1), 30);
  m->set_page_reclaimer(nullptr);
}

TEST_P(Slots, InvalidBatchesAreRejectedBeforeAnyStateChanges) {
  auto m = make_model(GetParam(), 2);
  m->forward(std::vector<SlotTokens>{{0, prompt(0, 5)}});
  const Token bad = static_cast<Token>(m->info().vocab_size);
  const std::vector<Token> ok = {1, 2};
  EXPECT_THROW(m->forward(std::vector<SlotTokens>{{0, ok}, {1, std::span(&bad, 1)}}), Error);
  EXPECT_THROW(m->forward(std::vector<SlotTokens>{{0, ok}, {0, ok}}), Error);
  EXPECT_THROW(m->forward(std::vector<SlotTokens>{{2, ok}}), Error);
  EXPECT_EQ(m->slot_position(0), 5);
  EXPECT_EQ(m->slot_position(1), 0);
}

#ifdef HEARTH_SLOTS_ON_CUDA
INSTANTIATE_TEST_SUITE_P(TinyModels, Slots,
                         ::testing::Values(Case{"moe-hf-bf16-sharded", Backend::cuda}, Case{"dense-mlx-affine4-g64", Backend::cuda},
                                           Case{"qwen3-hf-bf16", Backend::cuda}, Case{"moe-mlx-affine4-g64", Backend::cuda}),
                         case_name);
#else
INSTANTIATE_TEST_SUITE_P(TinyModels, Slots,
                         ::testing::Values(Case{"moe-hf-bf16-sharded"}, Case{"dense-mlx-affine4-g64"}, Case{"qwen3-hf-bf16"},
                                           Case{"moe-hf-bf16-sharded", Backend::fake_device}),
                         case_name);
#endif

}  // namespace
}  // namespace hearth::engine
