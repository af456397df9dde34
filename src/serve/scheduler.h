#pragma once
// Continuous batching over the model's sequence slots. One thread owns the Model and the PromptCache
// (neither is thread-safe); other threads only submit() jobs. Each step of that thread:
//   1. ends sequences whose cancel/stop flag went up, then admits waiting jobs into free slots (the
//      prompt cache picks the slot whose live sequence shares the longest prefix and restores state);
//   2. builds ONE forward() batch: every decoding sequence's last sampled token, then prompt chunks of
//      the prefilling sequences, oldest first, within `step_tokens` tokens per step (a long prefill
//      runs over several steps, interleaved with the others' decode steps, so running streams keep
//      flowing); a chunk also ends at the prompt cache's checkpoint positions;
//   3. after the pass: saves checkpoints that were reached, samples every sequence that finished its
//      prompt or decoded a token (its own sampling settings, history and seeded Rng: the same tokens
//      as engine::generate() alone), and ends those that are done.
// Per sequence it keeps engine::generate()'s behaviour exactly: stop tokens, max_new_tokens, a full
// context, on_token's stop, cancellation, checkpoints, timings (engine::GenerateResult).
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "cache/prompt_cache.h"
#include "engine/model.h"
#include "serve/sequence_job.h"

namespace hearth::serve {

struct SchedulerOptions {
  // Tokens one step runs, all sequences together: one per decoding sequence, the rest for prompt
  // chunks (at least one prompt token per step, so a prefill always progresses). It bounds how long a
  // running stream waits behind someone's long prompt: about one step's time per token it streams.
  int64_t step_tokens = 512;
};

class Scheduler {
 public:
  Scheduler(engine::Model& model, cache::PromptCache& cache, SchedulerOptions options);
  // Stops the thread; jobs still waiting or running get on_failed (the server is shutting down).
  ~Scheduler();
  Scheduler(const Scheduler&) = delete;
  Scheduler& operator=(const Scheduler&) = delete;

  // Queues a job; it starts at the next step boundary with a free slot. Thread-safe.
  void submit(std::shared_ptr<SequenceJob> job);

 private:
  struct Sequence;
  struct Waiting {
    std::shared_ptr<SequenceJob> job;
    std::chrono::steady_clock::time_point submitted;  // first-token times count from here
  };
  void run();
  bool has_free_slot() const;
  void admit_waiting();
  void end_flagged_sequences();
  void step();
  void sample(Sequence& sequence);
  void finish(Sequence& sequence, engine::FinishReason reason);
  void fail(Sequence& sequence, std::exception_ptr error);
  void remove_finished();

  engine::Model& model_;
  cache::PromptCache& cache_;
  const SchedulerOptions options_;

  std::mutex mutex_;                  // guards waiting_ and stopping_
  std::condition_variable wake_;
  std::deque<Waiting> waiting_;
  bool stopping_ = false;

  // Scheduler thread only.
  std::vector<std::unique_ptr<Sequence>> running_;  // admission order: prefill chunks go oldest first
  std::vector<bool> slot_busy_;

  std::thread thread_;  // last: starts after everything above is constructed
};

}  // namespace hearth::serve
