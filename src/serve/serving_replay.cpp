// N agent sessions at once through the scheduler (serve/serving_replay.h).
#include "serve/serving_replay.h"

#include <algorithm>
#include <barrier>
#include <chrono>
#include <cmath>
#include <exception>
#include <future>
#include <mutex>
#include <random>
#include <thread>

#include "serve/scheduler.h"
#include "util/error.h"

namespace hearth::serve {
namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point from, Clock::time_point to) { return std::chrono::duration<double>(to - from).count(); }

std::vector<engine::Token> random_tokens(std::mt19937_64& rng, int64_t n, int64_t vocab) {
  std::vector<engine::Token> out(static_cast<size_t>(n));
  for (auto& t : out) t = static_cast<engine::Token>(rng() % static_cast<uint64_t>(vocab));
  return out;
}

void check_options(const engine::Model& model, const ServingReplayOptions& o) {
  const engine::ModelInfo info = model.info();
  if (info.vocab_size <= 0) throw Error("bench-serve: the model reports no vocabulary size", ErrorKind::invalid_request);
  if (o.sessions < 1 || o.turns < 1 || o.new_tokens < 1 || o.output_tokens < 1 || o.shared_tokens < 0 || o.step_tokens < 1) {
    throw Error("bench-serve: sessions, turns, new tokens, output tokens and step tokens must be positive",
                ErrorKind::invalid_request);
  }
  if (o.sessions > std::max<int32_t>(1, info.slots)) {
    throw Error("bench-serve: " + std::to_string(o.sessions) + " sessions need as many slots; the model has " +
                    std::to_string(info.slots),
                ErrorKind::invalid_request);
  }
  const int64_t needed = o.shared_tokens + o.turns * (o.new_tokens + o.output_tokens) + 1;
  if (info.max_context > 0 && needed > info.max_context) {
    throw Error("bench-serve: a session grows to " + std::to_string(needed) + " positions, more than the model's context of " +
                    std::to_string(info.max_context),
                ErrorKind::invalid_request);
  }
}

// One turn through the scheduler; blocks until it finished.
ServedTurn run_turn(Scheduler& scheduler, const std::vector<engine::Token>& prompt, const cache::PromptLayout& layout,
                    int64_t output_tokens) {
  ServedTurn turn;
  turn.prompt_tokens = int64_t(prompt.size());
  Clock::time_point first{}, last{};
  std::promise<void> done;
  auto job = std::make_shared<SequenceJob>();
  job->prompt = prompt;
  job->layout = layout;
  job->sampling.temperature = 0;
  job->max_new_tokens = output_tokens;
  // The callbacks run on the scheduler's thread; this thread reads what they wrote after `done`.
  job->callbacks.on_admitted = [&](const cache::CacheOutcome& outcome) { turn.reused_tokens = outcome.reused_tokens; };
  job->callbacks.on_token = [&](engine::Token token) {
    last = Clock::now();
    if (turn.generated.empty()) first = last;
    turn.generated.push_back(token);
    return true;
  };
  // Every turn of an agent ends in a tool call whose result the next turn appends: keep the end state.
  job->callbacks.generation_end = [](const engine::GenerateResult&) {
    return cache::GenerationEnd{cache::GenerationStop::end_of_turn, 1, false};
  };
  job->callbacks.on_finished = [&](const engine::GenerateResult&, const cache::CacheOutcome&) { done.set_value(); };
  job->callbacks.on_failed = [&](std::exception_ptr error) { done.set_exception(error); };
  const Clock::time_point submitted = Clock::now();
  scheduler.submit(job);
  done.get_future().get();
  turn.generated_tokens = int64_t(turn.generated.size());
  if (!turn.generated.empty()) {
    turn.ttft_seconds = seconds(submitted, first);
    turn.decode_seconds = seconds(first, last);
  }
  return turn;
}

}  // namespace

double percentile(std::vector<double> values, double p) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const double rank = std::ceil(p / 100.0 * double(values.size()));
  const size_t index = size_t(std::clamp(rank, 1.0, double(values.size()))) - 1;
  return values[index];
}

ServingReport replay_concurrent_sessions(engine::Model& model, cache::PromptCache& cache, const ServingReplayOptions& options,
                                         const std::function<void(const ServedTurn&)>& on_turn) {
  check_options(model, options);
  const int64_t vocab = model.info().vocab_size;
  std::mt19937_64 shared_rng(options.seed);
  const std::vector<engine::Token> shared = random_tokens(shared_rng, options.shared_tokens, vocab);

  ServingReport report;
  report.sessions = options.sessions;
  std::mutex report_mutex;
  std::exception_ptr failure;
  SchedulerOptions scheduler_options;
  scheduler_options.step_tokens = options.step_tokens;
  const Clock::time_point start = Clock::now();
  {
    Scheduler scheduler(model, cache, scheduler_options);
    // Turn 1 prefills each session's whole prompt from cold; later turns start together once every
    // session has had its turn 1, so that their times measure the steady state, not a queue of cold starts.
    std::barrier warmed_up(options.sessions);
    std::vector<std::thread> sessions;
    for (int s = 0; s < options.sessions; ++s) {
      sessions.emplace_back([&, s] {
        try {
          std::mt19937_64 rng(options.seed * 1000003 + uint64_t(s) + 1);
          std::vector<engine::Token> conversation = shared;
          cache::PromptLayout layout;
          if (options.shared_tokens > 0) {
            layout.boundaries.push_back({options.shared_tokens, cache::CheckpointKind::static_prefix});
          }
          for (int t = 0; t < options.turns; ++t) {
            if (t == 1) warmed_up.arrive_and_wait();
            std::vector<engine::Token> message = random_tokens(rng, options.new_tokens, vocab);
            conversation.insert(conversation.end(), message.begin(), message.end());
            layout.boundaries.push_back({int64_t(conversation.size()),
                                         t == 0 ? cache::CheckpointKind::user_query_end : cache::CheckpointKind::message_end});
            layout.prompt_tokens = int64_t(conversation.size());
            ServedTurn turn = run_turn(scheduler, conversation, layout, options.output_tokens);
            turn.session = s;
            turn.turn = t;
            conversation.insert(conversation.end(), turn.generated.begin(), turn.generated.end());
            std::lock_guard lock(report_mutex);
            if (on_turn) on_turn(turn);
            report.turns.push_back(std::move(turn));
          }
        } catch (...) {
          {
            std::lock_guard lock(report_mutex);
            if (!failure) failure = std::current_exception();
          }
          if (options.turns > 1) warmed_up.arrive_and_drop();  // never leave the others waiting
        }
      });
    }
    for (std::thread& session : sessions) session.join();
  }
  report.wall_seconds = seconds(start, Clock::now());
  if (failure) std::rethrow_exception(failure);

  std::vector<double> later_ttft;
  std::vector<double> rate_sum(size_t(options.sessions), 0.0);
  std::vector<int> rate_count(size_t(options.sessions), 0);
  for (const ServedTurn& turn : report.turns) {
    report.generated_tokens += turn.generated_tokens;
    if (turn.turn == 0) {
      report.first_turn_ttft_max_seconds = std::max(report.first_turn_ttft_max_seconds, turn.ttft_seconds);
    } else {
      later_ttft.push_back(turn.ttft_seconds);
    }
    if (turn.generated_tokens > 1) {
      rate_sum[size_t(turn.session)] += turn.decode_tokens_per_second();
      rate_count[size_t(turn.session)] += 1;
    }
  }
  for (int s = 0; s < options.sessions; ++s) {
    const double rate = rate_count[size_t(s)] ? rate_sum[size_t(s)] / rate_count[size_t(s)] : 0;
    report.session_decode_tokens_per_second.push_back(rate);
    report.aggregate_decode_tokens_per_second += rate;
  }
  report.ttft_p50_seconds = percentile(later_ttft, 50);
  report.ttft_p99_seconds = percentile(later_ttft, 99);
  return report;
}

}  // namespace hearth::serve
