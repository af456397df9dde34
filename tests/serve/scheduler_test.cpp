// The scheduler (serve/scheduler.h) over the scripted model with several slots, token-level: sequences
// stream together, join and leave mid-way, cancel alone, chunk long prompts between others' decode
// steps within the step budget, stop at checkpoints, and produce exactly what each produces alone.
// Ordering is observed through the callbacks, which all run on the scheduler's one thread: no timing.
#include <gtest/gtest.h>

#include <condition_variable>
#include <future>
#include <mutex>
#include <numeric>

#include "cache/prompt_cache.h"
#include "engine/scripted_model.h"
#include "serve/scheduler.h"

namespace hearth::serve {
namespace {

constexpr int64_t kVocab = 1000;
constexpr Token kEnd = 999;

// Replies depend only on the prompt: `length` tokens counting up from the prompt's last token.
// The reply's length is the prompt's first token (so tests choose it).
engine::ScriptedReply reply_for(std::span<const Token> sequence) {
  engine::ScriptedReply reply;
  const Token length = sequence.front();
  for (Token i = 1; i <= length; ++i) reply.tokens.push_back(Token((sequence.back() + i) % 900));
  return reply;
}

// Records every forward() batch: which slots took how many tokens.
class RecordingModel : public engine::ScriptedModel {
 public:
  using ScriptedModel::ScriptedModel;
  void forward(std::span<const engine::SlotTokens> batch) override {
    std::vector<std::pair<engine::SlotId, size_t>> step;
    for (const auto& e : batch) step.emplace_back(e.slot, e.tokens.size());
    {
      std::lock_guard lock(mutex);
      steps.push_back(step);
    }
    ScriptedModel::forward(batch);
  }
  std::mutex mutex;
  std::vector<std::vector<std::pair<engine::SlotId, size_t>>> steps;
};

std::unique_ptr<RecordingModel> scripted(int32_t slots) {
  engine::ScriptedModelOptions o;
  o.vocab_size = kVocab;
  o.max_context = 4096;
  o.slots = slots;
  o.end_token = kEnd;
  o.responder = reply_for;
  return std::make_unique<RecordingModel>(o);
}

std::vector<Token> prompt_of(Token reply_length, int64_t size, Token seed) {
  std::vector<Token> p(static_cast<size_t>(size));
  std::iota(p.begin(), p.end(), seed);
  for (Token& t : p) t %= 900;
  p.front() = reply_length;
  return p;
}

// The log of one run: what each job saw, in the scheduler thread's order.
struct Log {
  std::vector<std::string> lines;  // "A:token", "A:end", "B:admitted", ...
  size_t index_of(const std::string& line) const {
    auto it = std::find(lines.begin(), lines.end(), line);
    return it == lines.end() ? lines.size() : size_t(it - lines.begin());
  }
};

// A job with its result; waits for its end on the test's thread.
struct Job {
  std::shared_ptr<SequenceJob> job = std::make_shared<SequenceJob>();
  std::atomic<bool> cancel{false};
  std::vector<Token> tokens;  // as on_token saw them
  engine::GenerateResult result;
  cache::CacheOutcome outcome;
  std::promise<void> done;
  std::future<void> finished = done.get_future();
  std::function<void(int64_t)> after_token;  // test hook, on the scheduler's thread

  Job(const std::string& name, std::vector<Token> prompt, int64_t max_new, Log& log) {
    job->prompt = std::move(prompt);
    job->layout.prompt_tokens = int64_t(job->prompt.size());
    job->sampling.temperature = 0;
    job->max_new_tokens = max_new;
    job->stop_tokens = {kEnd};
    job->cancel = &cancel;
    job->callbacks.on_admitted = [&log, name](const cache::CacheOutcome&) { log.lines.push_back(name + ":admitted"); };
    job->callbacks.on_token = [this, &log, name](Token t) {
      tokens.push_back(t);
      log.lines.push_back(name + ":token");
      if (after_token) after_token(int64_t(tokens.size()));
      return true;
    };
    job->callbacks.on_finished = [this, &log, name](const engine::GenerateResult& r, const cache::CacheOutcome& o) {
      log.lines.push_back(name + ":end");
      result = r;
      outcome = o;
      done.set_value();
    };
    job->callbacks.on_failed = [this](std::exception_ptr error) { done.set_exception(error); };
  }
  void wait() { finished.get(); }
};

cache::PromptCacheConfig cache_config(bool enabled = true) {
  cache::PromptCacheConfig c;
  c.enabled = enabled;
  c.plan.min_gap = 1;
  return c;
}

// What a job generates when it runs alone on a fresh model and scheduler.
std::vector<Token> alone(std::vector<Token> prompt, int64_t max_new) {
  auto model = scripted(1);
  cache::PromptCache cache(*model, cache_config());
  Log log;
  Job job("solo", std::move(prompt), max_new, log);
  {
    Scheduler scheduler(*model, cache, {});
    scheduler.submit(job.job);
    job.wait();
  }
  return job.result.generated;
}

// Two slots, the prompt cache on, and the log the jobs write into.
class SchedulerTest : public ::testing::Test {
 protected:
  std::unique_ptr<RecordingModel> model = scripted(2);
  cache::PromptCache cache{*model, cache_config()};
  Log log;
};

TEST_F(SchedulerTest, SecondRequestStreamsBeforeTheFirstFinishes) {
  Job a("A", prompt_of(30, 40, 1), 100, log);
  Job b("B", prompt_of(10, 50, 300), 100, log);
  {
    Scheduler scheduler(*model, cache, {});
    // B arrives while A is decoding (after A's third token).
    a.after_token = [&](int64_t n) {
      if (n == 3) scheduler.submit(b.job);
    };
    scheduler.submit(a.job);
    a.wait();
    b.wait();
  }
  EXPECT_LT(log.index_of("B:token"), log.index_of("A:end"));  // B's first token came while A ran
  EXPECT_LT(log.index_of("B:end"), log.index_of("A:end"));    // B is shorter: it leaves first
  EXPECT_EQ(a.result.finish, engine::FinishReason::stop_token);
  EXPECT_EQ(b.result.finish, engine::FinishReason::stop_token);
  EXPECT_EQ(a.result.generated, alone(prompt_of(30, 40, 1), 100));
  EXPECT_EQ(b.result.generated, alone(prompt_of(10, 50, 300), 100));
  EXPECT_EQ(a.result.generated.size(), 30u);
  EXPECT_EQ(b.result.generated.size(), 10u);
  // Some step ran both slots at once.
  bool together = false;
  for (const auto& step : model->steps) together = together || step.size() == 2;
  EXPECT_TRUE(together);
}

TEST_F(SchedulerTest, RequestsJoinAndLeaveMidwayAndReuseFreedSlots) {
  Job a("A", prompt_of(5, 20, 10), 100, log);
  Job b("B", prompt_of(40, 30, 200), 100, log);
  Job c("C", prompt_of(8, 25, 500), 100, log);
  Job d("D", prompt_of(3, 15, 700), 100, log);
  {
    Scheduler scheduler(*model, cache, {});
    scheduler.submit(a.job);
    scheduler.submit(b.job);
    scheduler.submit(c.job);  // waits: both slots are taken until A leaves
    b.after_token = [&](int64_t n) {
      if (n == 20) scheduler.submit(d.job);  // joins while B still runs
    };
    for (Job* j : {&a, &b, &c, &d}) j->wait();
  }
  EXPECT_LT(log.index_of("A:end"), log.index_of("C:admitted"));
  EXPECT_LT(log.index_of("C:token"), log.index_of("B:end"));
  EXPECT_LT(log.index_of("D:token"), log.index_of("B:end"));
  EXPECT_EQ(a.result.generated, alone(prompt_of(5, 20, 10), 100));
  EXPECT_EQ(b.result.generated, alone(prompt_of(40, 30, 200), 100));
  EXPECT_EQ(c.result.generated, alone(prompt_of(8, 25, 500), 100));
  EXPECT_EQ(d.result.generated, alone(prompt_of(3, 15, 700), 100));
  for (const auto& step : model->steps) EXPECT_LE(step.size(), 2u);
}

TEST_F(SchedulerTest, CancellingOneSequenceLeavesTheOtherUntouched) {
  Job a("A", prompt_of(30, 20, 10), 100, log);
  Job b("B", prompt_of(30, 20, 400), 100, log);
  {
    Scheduler scheduler(*model, cache, {});
    a.after_token = [&](int64_t n) {
      if (n == 5) b.cancel.store(true);
    };
    scheduler.submit(a.job);
    scheduler.submit(b.job);
    a.wait();
    b.wait();
  }
  EXPECT_EQ(b.result.finish, engine::FinishReason::cancelled);
  EXPECT_LT(b.result.generated.size(), 30u);
  EXPECT_EQ(a.result.finish, engine::FinishReason::stop_token);
  EXPECT_EQ(a.result.generated, alone(prompt_of(30, 20, 10), 100));
}

TEST_F(SchedulerTest, StopFlagAndTokenCallbackEndOnlyTheirSequence) {
  Job a("A", prompt_of(30, 20, 10), 100, log);
  Job b("B", prompt_of(30, 20, 400), 4, log);  // budget of 4 tokens
  std::atomic<bool> stop_a{false};
  a.job->stop = &stop_a;
  {
    Scheduler scheduler(*model, cache, {});
    a.after_token = [&](int64_t n) {
      if (n == 12) stop_a.store(true);
    };
    scheduler.submit(a.job);
    scheduler.submit(b.job);
    a.wait();
    b.wait();
  }
  EXPECT_EQ(a.result.finish, engine::FinishReason::callback_stop);
  EXPECT_EQ(a.result.generated.size(), 12u);  // the flag is read at the next step boundary
  EXPECT_EQ(b.result.finish, engine::FinishReason::max_tokens);
  EXPECT_EQ(b.result.generated.size(), 4u);
}

TEST_F(SchedulerTest, LongPrefillRunsInChunksBetweenDecodeStepsWithinTheBudget) {
  Job a("A", prompt_of(60, 10, 10), 100, log);
  Job b("B", prompt_of(5, 300, 100), 100, log);
  // Checkpoints at message boundaries inside B's prompt: chunks must end exactly there.
  b.job->layout.boundaries = {{70, cache::CheckpointKind::message_end}, {171, cache::CheckpointKind::message_end}};
  SchedulerOptions options;
  options.step_tokens = 16;
  {
    Scheduler scheduler(*model, cache, options);
    a.after_token = [&](int64_t n) {
      if (n == 2) scheduler.submit(b.job);
    };
    scheduler.submit(a.job);
    a.wait();
    b.wait();
  }
  // B's prompt took many steps, and A decoded in each of them.
  int shared_steps = 0;
  std::vector<int64_t> b_positions;
  int64_t b_position = 0;
  const engine::SlotId a_slot = model->steps.front().front().first;
  for (const auto& step : model->steps) {
    size_t total = 0;
    bool a_decodes = false;
    for (const auto& [slot, n] : step) {
      total += n;
      if (slot == a_slot) a_decodes = n == 1;
      if (slot != a_slot) {
        b_position += int64_t(n);
        b_positions.push_back(b_position);
      }
    }
    if (step.size() == 2 && a_decodes) ++shared_steps;
    if (step.size() == 2) {
      EXPECT_LE(total, 16u);
    }
  }
  EXPECT_GE(shared_steps, 300 / 16);
  EXPECT_NE(std::find(b_positions.begin(), b_positions.end(), 70), b_positions.end());
  EXPECT_NE(std::find(b_positions.begin(), b_positions.end(), 171), b_positions.end());
  EXPECT_EQ(b.outcome.checkpoints_saved, 3);  // 70, 171 and the prompt's end
  EXPECT_EQ(b.result.prefilled_tokens, 300);
  EXPECT_EQ(a.result.generated, alone(prompt_of(60, 10, 10), 100));
  EXPECT_EQ(b.result.generated, alone(prompt_of(5, 300, 100), 100));
}

TEST_F(SchedulerTest, FollowUpTurnResumesInItsConversationsSlot) {
  std::vector<Token> first = prompt_of(6, 40, 10);
  Job a("A", first, 100, log);
  Job other("O", prompt_of(6, 40, 600), 100, log);
  {
    Scheduler scheduler(*model, cache, {});
    scheduler.submit(a.job);
    scheduler.submit(other.job);
    a.wait();
    other.wait();
    std::vector<Token> second = first;
    second.insert(second.end(), a.result.generated.begin(), a.result.generated.end());
    second.insert(second.end(), {kEnd, 5, 6, 7});
    Job next("N", second, 100, log);
    scheduler.submit(next.job);
    next.wait();
    EXPECT_EQ(next.outcome.source, cache::ResumeSource::live_sequence);
    EXPECT_EQ(next.outcome.reused_tokens, int64_t(first.size() + a.result.generated.size()));
  }
}

TEST_F(SchedulerTest, FailingStepFailsItsSequencesAndTheSchedulerGoesOn) {
  Job bad("X", prompt_of(5, 10, 10), 100, log);
  bad.job->prompt.push_back(Token(kVocab + 5));  // outside the vocabulary: the model refuses the pass
  Job good("G", prompt_of(5, 10, 300), 100, log);
  {
    Scheduler scheduler(*model, cache, {});
    scheduler.submit(bad.job);
    EXPECT_THROW(bad.wait(), Error);
    scheduler.submit(good.job);
    good.wait();
  }
  EXPECT_EQ(good.result.generated, alone(prompt_of(5, 10, 300), 100));
}

}  // namespace
}  // namespace hearth::serve
