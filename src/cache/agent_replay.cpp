#include "cache/agent_replay.h"

#include <chrono>
#include <random>

#include "engine/generator.h"
#include "util/error.h"

namespace hearth::cache {
namespace {

using Clock = std::chrono::steady_clock;

double seconds(Clock::time_point from, Clock::time_point to) { return std::chrono::duration<double>(to - from).count(); }

std::vector<engine::Token> random_tokens(std::mt19937_64& rng, int64_t n, int64_t vocab) {
  std::vector<engine::Token> out(static_cast<size_t>(n));
  for (auto& t : out) t = static_cast<engine::Token>(rng() % static_cast<uint64_t>(vocab));
  return out;
}

ReplayTurn run_turn(engine::Model& model, PromptCache& cache, const std::vector<engine::Token>& prompt,
                    const PromptLayout& layout, int64_t output_tokens, int64_t chunk, bool tool_turn) {
  ReplayTurn turn;
  turn.prompt_tokens = static_cast<int64_t>(prompt.size());
  const auto start = Clock::now();
  // Like the server: the slot whose live sequence this prompt extends, else the least recently used.
  std::vector<engine::SlotId> slots(static_cast<size_t>(std::max<int32_t>(1, model.info().slots)));
  for (size_t i = 0; i < slots.size(); ++i) slots[i] = static_cast<engine::SlotId>(i);
  const engine::SlotId slot = cache.choose_slot(prompt, slots);
  CachedRequest request = cache.begin(slot, prompt, layout);
  engine::GenerateParams params;
  params.slot = slot;
  params.sampling.temperature = 0;
  // One more token than the turn keeps: it stands for the end-of-turn token, sampled but never run
  // (like <|im_end|>), so the state after generation covers exactly the kept output.
  params.max_new_tokens = output_tokens + 1;
  params.prefill_chunk = chunk;
  params.checkpoint_positions = request.checkpoint_positions();
  params.on_checkpoint = [&](int64_t position) { request.at_checkpoint(position); };
  bool first = true;
  params.on_token = [&](engine::Token) {
    if (first) turn.ttft_seconds = seconds(start, Clock::now());
    first = false;
    return true;
  };
  engine::GenerateResult result = engine::generate(model, prompt, params);
  if (static_cast<int64_t>(result.generated.size()) > output_tokens) result.generated.resize(static_cast<size_t>(output_tokens));
  // The replay's "model" always ends its turn with a tool call, so the end of generation is kept.
  request.finish(result.generated, {GenerationStop::end_of_turn, tool_turn ? 1 : 0, false});
  const CacheOutcome& outcome = request.outcome();
  turn.reused_tokens = outcome.reused_tokens;
  turn.prefilled_tokens = result.prefilled_tokens;
  turn.source = outcome.source;
  turn.restore_seconds = outcome.restore_seconds;
  turn.save_seconds = outcome.save_seconds;
  turn.checkpoints_saved = outcome.checkpoints_saved;
  turn.generated = std::move(result.generated);
  return turn;
}

}  // namespace

ReplayReport replay_agent_session(engine::Model& model, PromptCache& cache, const ReplayOptions& options,
                                  const std::function<void(int, const ReplayTurn&)>& on_turn) {
  const int64_t vocab = model.info().vocab_size;
  if (vocab <= 0) throw Error("bench-cache: the model reports no vocabulary size", ErrorKind::invalid_request);
  if (options.turns < 1 || options.new_tokens < 1 || options.output_tokens < 1 || options.static_tokens < 0) {
    throw Error("bench-cache: turns, new tokens and output tokens must be positive", ErrorKind::invalid_request);
  }
  const int64_t needed = options.static_tokens + options.turns * (options.new_tokens + options.output_tokens) + 2;
  if (model.info().max_context > 0 && needed > model.info().max_context) {
    throw Error("bench-cache: the session grows to " + std::to_string(needed) + " positions, more than the model's context of " +
                    std::to_string(model.info().max_context),
                ErrorKind::invalid_request);
  }
  std::mt19937_64 rng(options.seed);
  ReplayReport report;

  // Conversation so far, and its layout: a static prefix, then one message per turn.
  std::vector<engine::Token> conversation = random_tokens(rng, options.static_tokens, vocab);
  PromptLayout layout;
  if (options.static_tokens > 0) layout.boundaries.push_back({options.static_tokens, CheckpointKind::static_prefix});
  const std::vector<engine::Token> side_prefix = random_tokens(rng, 64, vocab);

  for (int t = 0; t < options.turns; ++t) {
    std::vector<engine::Token> message = random_tokens(rng, options.new_tokens, vocab);
    conversation.insert(conversation.end(), message.begin(), message.end());
    // The first message is the user's query; later ones are tool results.
    layout.boundaries.push_back({static_cast<int64_t>(conversation.size()),
                                 t == 0 ? CheckpointKind::user_query_end : CheckpointKind::message_end});
    layout.prompt_tokens = static_cast<int64_t>(conversation.size());

    ReplayTurn turn = run_turn(model, cache, conversation, layout, options.output_tokens, options.prefill_chunk, true);
    report.total_prompt_tokens += turn.prompt_tokens;
    report.total_prefilled_tokens += turn.prefilled_tokens;
    report.total_reused_tokens += turn.reused_tokens;
    conversation.insert(conversation.end(), turn.generated.begin(), turn.generated.end());
    if (on_turn) on_turn(t, turn);
    report.turns.push_back(std::move(turn));

    if (options.interleave_side_requests) {
      std::vector<engine::Token> side = side_prefix;
      std::vector<engine::Token> ask = random_tokens(rng, 16, vocab);
      side.insert(side.end(), ask.begin(), ask.end());
      run_turn(model, cache, side, PromptLayout{static_cast<int64_t>(side.size()), {}}, 1, options.prefill_chunk, false);
    }
  }

  // Snapshot cost at the final length: save the live state of the whole conversation, then restore it.
  model.reset();
  engine::GenerateParams prefill_only;
  prefill_only.max_new_tokens = 0;
  prefill_only.prefill_chunk = options.prefill_chunk;
  engine::generate(model, conversation, prefill_only);
  cache.forget_live_sequence(0);
  auto t0 = Clock::now();
  std::unique_ptr<engine::StateSnapshot> snapshot = model.save_state();
  auto t1 = Clock::now();
  model.restore_state(*snapshot);
  auto t2 = Clock::now();
  report.snapshot_position = snapshot->position();
  report.snapshot_device_bytes = snapshot->device_bytes();
  report.snapshot_host_bytes = snapshot->host_bytes();
  report.save_seconds = seconds(t0, t1);
  report.restore_seconds = seconds(t1, t2);
  report.cache = cache.stats();
  return report;
}

}  // namespace hearth::cache
