// The scheduler over the real Qwen3.5 engine on the CPU (the tiny test models, their own weights, several
// slots): sequences decoded together give the same greedy tokens as each alone — also when they join
// and leave mid-way and when a long prompt's prefill is chunked between the others' decode steps.
#include <gtest/gtest.h>

#include <future>
#include <random>

#include "cache/prompt_cache.h"
#include "engine/loader.h"
#include "serve/scheduler.h"

namespace hearth::serve {
namespace {

std::unique_ptr<engine::Model> tiny_model(const std::string& name, int32_t slots) {
  engine::LoadOptions o;
  o.model_dir = std::filesystem::path(HEARTH_TESTDATA_DIR) / "tiny" / name;
  o.device = engine::Device::cpu;
  o.max_context = 1024;
  o.slots = slots;
  o.threads = 2;
  return engine::load_model(o);
}

std::vector<Token> random_prompt(size_t size, uint32_t seed, int64_t vocab) {
  std::mt19937 rng(seed);
  std::vector<Token> p(size);
  for (Token& t : p) t = Token(rng() % uint32_t(vocab));
  return p;
}

struct Request {
  std::vector<Token> prompt;
  int64_t max_new_tokens = 0;
  int join_after = -1;  // submitted once request `join_after` has generated `join_at` tokens; -1: at start
  int64_t join_at = 0;
};

// Greedy tokens of each request, run through one scheduler over a model with `slots` slots.
std::vector<std::vector<Token>> run_all(const std::string& model_name, int32_t slots, const std::vector<Request>& requests,
                                        int64_t step_tokens) {
  auto model = tiny_model(model_name, slots);
  cache::PromptCacheConfig cache_config;
  cache_config.enabled = false;  // every sequence from an empty slot: only batching is under test
  cache::PromptCache cache(*model, cache_config);
  std::vector<std::vector<Token>> outputs(requests.size());
  std::vector<std::promise<void>> done(requests.size());
  std::vector<std::shared_ptr<SequenceJob>> jobs;
  SchedulerOptions options;
  options.step_tokens = step_tokens;
  Scheduler scheduler(*model, cache, options);
  for (size_t i = 0; i < requests.size(); ++i) {
    auto job = std::make_shared<SequenceJob>();
    job->prompt = requests[i].prompt;
    job->layout.prompt_tokens = int64_t(job->prompt.size());
    job->sampling.temperature = 0;
    job->max_new_tokens = requests[i].max_new_tokens;
    job->callbacks.on_token = [&, i](Token t) {
      outputs[i].push_back(t);
      for (size_t j = 0; j < requests.size(); ++j) {
        if (requests[j].join_after == int(i) && requests[j].join_at == int64_t(outputs[i].size())) scheduler.submit(jobs[j]);
      }
      return true;
    };
    job->callbacks.on_finished = [&, i](const engine::GenerateResult&, const cache::CacheOutcome&) { done[i].set_value(); };
    job->callbacks.on_failed = [&, i](std::exception_ptr e) { done[i].set_exception(e); };
    jobs.push_back(job);
  }
  for (size_t i = 0; i < requests.size(); ++i) {
    if (requests[i].join_after < 0) scheduler.submit(jobs[i]);
  }
  for (auto& d : done) d.get_future().get();
  return outputs;
}

std::vector<std::vector<Token>> each_alone(const std::string& model_name, const std::vector<Request>& requests) {
  std::vector<std::vector<Token>> outputs;
  for (Request r : requests) {
    r.join_after = -1;
    outputs.push_back(run_all(model_name, 1, {r}, 4096).front());
  }
  return outputs;
}

// No stop token is configured: every request runs its whole budget, so the outputs are long enough
// to compare.
std::vector<Request> mixed_requests(int64_t vocab) {
  return {
      {random_prompt(40, 1, vocab), 24},
      {random_prompt(9, 2, vocab), 30},
      {random_prompt(200, 3, vocab), 12, 0, 6},  // a long prompt joins while 0 and 1 decode
      {random_prompt(17, 4, vocab), 8, 1, 20},   // joins late, into the slot 0 or 1 left
  };
}

class BatchedTinyModel : public ::testing::TestWithParam<std::string> {};

TEST_P(BatchedTinyModel, SequencesDecodedTogetherMatchEachAlone) {
  const int64_t vocab = tiny_model(GetParam(), 1)->info().vocab_size;
  const std::vector<Request> requests = mixed_requests(vocab);
  const auto expected = each_alone(GetParam(), requests);
  // 3 slots for 4 requests: the last waits for a slot; 24 tokens per step: the 200-token prompt is
  // prefilled in chunks between the others' decode steps.
  EXPECT_EQ(run_all(GetParam(), 3, requests, 24), expected);
}

TEST_P(BatchedTinyModel, AllSequencesInOneBatchMatchEachAlone) {
  const int64_t vocab = tiny_model(GetParam(), 1)->info().vocab_size;
  std::vector<Request> requests;
  for (uint32_t i = 0; i < 4; ++i) requests.push_back({random_prompt(10 + 7 * i, 10 + i, vocab), 16});
  EXPECT_EQ(run_all(GetParam(), 4, requests, 512), each_alone(GetParam(), requests));
}

INSTANTIATE_TEST_SUITE_P(TinyModels, BatchedTinyModel, ::testing::Values("dense-hf-bf16", "moe-hf-bf16-sharded"));

}  // namespace
}  // namespace hearth::serve
