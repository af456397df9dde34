// Continuous batching over the model's slots (serve/scheduler.h).
#include "serve/scheduler.h"

#ifdef __GLIBC__
#include <malloc.h>
#endif

#include <algorithm>
#include <chrono>

#include "util/error.h"

namespace hearth::serve {
namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) { return std::chrono::duration<double>(Clock::now() - start).count(); }

bool raised(const std::atomic<bool>* flag) { return flag && flag->load(std::memory_order_relaxed); }

}  // namespace

// A job in a slot: where its prompt stands, what it generated, its sampler.
struct Scheduler::Sequence {
  Sequence(std::shared_ptr<SequenceJob> j, Clock::time_point submitted_at)
      : job(std::move(j)), rng(job->sampling.seed), submitted(submitted_at) {}

  std::shared_ptr<SequenceJob> job;
  cache::CachedRequest cached;
  engine::SlotId slot = -1;
  int64_t position = 0;          // prompt tokens the slot holds (prefill phase)
  size_t next_checkpoint = 0;    // index into cached.checkpoint_positions()
  bool decoding = false;         // the prompt is done; pending_token is the next token to run
  Token pending_token = 0;
  bool sampled = false;
  bool done = false;
  std::vector<Token> history;    // prompt + generated, for the sampler's penalties
  engine::Rng rng;
  engine::GenerateResult result;
  Clock::time_point submitted;
  Clock::time_point admitted;
  Clock::time_point decode_started;
};

Scheduler::Scheduler(engine::Model& model, cache::PromptCache& cache, SchedulerOptions options)
    : model_(model),
      cache_(cache),
      options_(options),
      slot_busy_(size_t(std::max<int32_t>(1, model.info().slots)), false),
      thread_([this] { run(); }) {}

Scheduler::~Scheduler() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  thread_.join();
  // The thread is gone: what is left belongs to this one now.
  const auto shutdown = std::make_exception_ptr(Error("the server is shutting down", ErrorKind::internal));
  for (auto& sequence : running_) {
    if (!sequence->done) fail(*sequence, shutdown);
  }
  for (auto& job : waiting_) {
    if (job.job->callbacks.on_failed) job.job->callbacks.on_failed(shutdown);
  }
}

void Scheduler::submit(std::shared_ptr<SequenceJob> job) {
  if (!job) throw Error("scheduler: no job", ErrorKind::internal);
  {
    std::lock_guard lock(mutex_);
    if (stopping_) throw Error("the server is shutting down", ErrorKind::internal);
    waiting_.push_back({std::move(job), Clock::now()});
  }
  wake_.notify_all();
}

bool Scheduler::has_free_slot() const {
  return std::find(slot_busy_.begin(), slot_busy_.end(), false) != slot_busy_.end();
}

void Scheduler::run() {
  for (;;) {
    {
      std::unique_lock lock(mutex_);
      wake_.wait(lock, [this] { return stopping_ || !running_.empty() || (!waiting_.empty() && has_free_slot()); });
      if (stopping_) return;
    }
    end_flagged_sequences();
    admit_waiting();
    step();
    remove_finished();
  }
}

// Cancellation and a consumer's stop take effect at step boundaries, as in engine::generate().
void Scheduler::end_flagged_sequences() {
  for (auto& sequence : running_) {
    if (sequence->done) continue;
    if (raised(sequence->job->cancel)) {
      finish(*sequence, engine::FinishReason::cancelled);
    } else if (raised(sequence->job->stop)) {
      finish(*sequence, engine::FinishReason::callback_stop);
    }
  }
  remove_finished();
}

void Scheduler::admit_waiting() {
  for (;;) {
    std::vector<engine::SlotId> free_slots;
    for (size_t slot = 0; slot < slot_busy_.size(); ++slot) {
      if (!slot_busy_[slot]) free_slots.push_back(engine::SlotId(slot));
    }
    if (free_slots.empty()) return;
    Waiting next;
    {
      std::lock_guard lock(mutex_);
      if (waiting_.empty()) return;
      next = std::move(waiting_.front());
      waiting_.pop_front();
    }
    auto sequence = std::make_unique<Sequence>(std::move(next.job), next.submitted);
    Sequence& s = *sequence;
    const SequenceJob& job = *s.job;
    try {
      if (job.prompt.empty()) throw Error("generate: the prompt is empty", ErrorKind::invalid_request);
      s.slot = cache_.choose_slot(job.prompt, free_slots);
      slot_busy_[size_t(s.slot)] = true;
      running_.push_back(std::move(sequence));
      s.admitted = Clock::now();
      // The cache restores the deepest state that is exactly a prefix of the prompt into the slot.
      s.cached = cache_.begin(s.slot, job.prompt, job.layout);
      s.position = model_.slot_position(s.slot);
      if (s.position >= int64_t(job.prompt.size())) {
        throw Error("scheduler: the slot's state already covers the whole prompt (" + std::to_string(s.position) +
                        " tokens); leave at least one token to prefill",
                    ErrorKind::internal);
      }
      s.history = job.prompt;
      s.result.prompt_tokens = int64_t(job.prompt.size());
      if (job.callbacks.on_admitted) job.callbacks.on_admitted(s.cached.outcome());
    } catch (...) {
      fail(s, std::current_exception());
      remove_finished();
      continue;
    }
    const int64_t max_context = model_.info().max_context;
    if (job.max_new_tokens <= 0) {
      finish(s, engine::FinishReason::max_tokens);
    } else if (max_context > 0 && int64_t(job.prompt.size()) > max_context) {
      finish(s, engine::FinishReason::context_full);
    }
  }
}

void Scheduler::step() {
  remove_finished();
  std::vector<engine::SlotTokens> batch;
  std::vector<Sequence*> decoders;
  struct Chunk {
    Sequence* sequence;
    int64_t end;  // prompt position after this chunk
  };
  std::vector<Chunk> chunks;
  int64_t budget = options_.step_tokens;
  for (auto& sequence : running_) {
    if (!sequence->decoding) continue;
    batch.push_back({sequence->slot, std::span<const Token>(&sequence->pending_token, 1)});
    decoders.push_back(sequence.get());
    --budget;
  }
  for (auto& sequence : running_) {
    if (sequence->decoding) continue;
    // The oldest prefill always advances, even when the decoders used up the budget.
    const int64_t allowance = chunks.empty() ? std::max<int64_t>(budget, 1) : budget;
    if (allowance <= 0) break;
    Sequence& s = *sequence;
    const std::vector<int64_t>& checkpoints = s.cached.checkpoint_positions();
    while (s.next_checkpoint < checkpoints.size() && checkpoints[s.next_checkpoint] <= s.position) ++s.next_checkpoint;
    int64_t end = std::min<int64_t>(s.position + allowance, int64_t(s.job->prompt.size()));
    if (s.next_checkpoint < checkpoints.size()) end = std::min(end, checkpoints[s.next_checkpoint]);
    batch.push_back({s.slot, std::span<const Token>(s.job->prompt).subspan(size_t(s.position), size_t(end - s.position))});
    chunks.push_back({&s, end});
    budget -= end - s.position;
  }
  if (batch.empty()) return;

  try {
    model_.forward(batch);
  } catch (...) {
    // The pass may have left any of its slots half-updated: every sequence in it fails.
    const auto error = std::current_exception();
    for (Sequence* s : decoders) fail(*s, error);
    for (const Chunk& c : chunks) fail(*c.sequence, error);
    return;
  }

  for (const Chunk& c : chunks) {
    Sequence& s = *c.sequence;
    s.result.prefilled_tokens += c.end - s.position;
    s.position = c.end;
    try {
      const std::vector<int64_t>& checkpoints = s.cached.checkpoint_positions();
      if (s.next_checkpoint < checkpoints.size() && checkpoints[s.next_checkpoint] == s.position) {
        s.cached.at_checkpoint(s.position);
      }
    } catch (...) {
      fail(s, std::current_exception());
      continue;
    }
    if (s.position < int64_t(s.job->prompt.size())) continue;
    s.result.prefill_seconds = seconds_since(s.admitted);
    s.decode_started = Clock::now();
    s.decoding = true;
    sample(s);
  }
  for (Sequence* s : decoders) sample(*s);
}

// engine::generate()'s decode-loop body for one sequence: the logits of its last token are in its slot.
void Scheduler::sample(Sequence& s) {
  const SequenceJob& job = *s.job;
  try {
    if (raised(job.cancel)) return finish(s, engine::FinishReason::cancelled);
    std::vector<Token> allowed;
    if (job.allowed_next) allowed = job.allowed_next(s.result.generated);
    const Token token = engine::sample_next(model_, s.slot, job.sampling, s.history, allowed, s.rng);
    if (!s.sampled) s.result.first_token_seconds = seconds_since(s.submitted);
    s.sampled = true;
    if (std::find(job.stop_tokens.begin(), job.stop_tokens.end(), token) != job.stop_tokens.end()) {
      return finish(s, engine::FinishReason::stop_token);
    }
    s.result.generated.push_back(token);
    s.history.push_back(token);
    if (job.callbacks.on_token && !job.callbacks.on_token(token)) return finish(s, engine::FinishReason::callback_stop);
    // Budget spent: no need to run the last token.
    if (int64_t(s.result.generated.size()) >= job.max_new_tokens) return finish(s, engine::FinishReason::max_tokens);
    const int64_t max_context = model_.info().max_context;
    if (max_context > 0 && model_.slot_position(s.slot) + 1 > max_context) {
      return finish(s, engine::FinishReason::context_full);
    }
    s.pending_token = token;
  } catch (...) {
    fail(s, std::current_exception());
  }
}

void Scheduler::finish(Sequence& s, engine::FinishReason reason) {
  s.done = true;
  slot_busy_[size_t(s.slot)] = false;
  s.result.finish = reason;
  if (s.decoding) {
    s.result.decode_seconds = seconds_since(s.decode_started);
  } else {
    s.result.prefill_seconds = seconds_since(s.admitted);
  }
  const SequenceCallbacks& callbacks = s.job->callbacks;
  try {
    const cache::GenerationEnd end = callbacks.generation_end ? callbacks.generation_end(s.result) : cache::GenerationEnd{};
    // Tells the cache what the slot holds now, and keeps the end state when the next turn will extend it.
    s.cached.finish(s.result.generated, end);
  } catch (...) {
    fail(s, std::current_exception());
    return;
  }
  if (callbacks.on_finished) callbacks.on_finished(s.result, s.cached.outcome());
}

void Scheduler::fail(Sequence& s, std::exception_ptr error) {
  s.done = true;
  if (s.slot >= 0) {
    slot_busy_[size_t(s.slot)] = false;
    cache_.forget_live_sequence(s.slot);  // its state is whatever the failure left
  }
  if (s.job->callbacks.on_failed) s.job->callbacks.on_failed(error);
}

void Scheduler::remove_finished() {
  const size_t removed = std::erase_if(running_, [](const std::unique_ptr<Sequence>& s) { return s->done; });
#ifdef __GLIBC__
  // The engine just went idle: give malloc's free memory back to the system. glibc keeps freed blocks of
  // every arena (request bodies, prompts, checkpoint states of evicted entries), so without this resident
  // memory drifts up after every cache is at its budget (docs/RELIABILITY.md). Only when idle: a trim
  // takes milliseconds that a decode step should not wait for.
  if (removed > 0 && running_.empty()) malloc_trim(0);
#else
  (void)removed;
#endif
}

}  // namespace hearth::serve
