// One request's generation over the scheduler (serve/request_run.h).
#include "serve/request_run.h"

#include <algorithm>
#include <atomic>

#include "chat/output_parser.h"
#include "serve/generation_channel.h"
#include "util/error.h"

namespace hearth::serve {
namespace {

api::Usage prompt_usage(int64_t prompt_tokens, int64_t reused) {
  api::Usage usage;
  usage.cache_read_input_tokens = std::min(reused, prompt_tokens);
  usage.input_tokens = prompt_tokens - usage.cache_read_input_tokens;
  return usage;
}

// What the scheduler's thread keeps of one request. Shared by the job's callbacks; it outlives
// run_request() when the scheduler drops the job later.
struct SchedulerSide {
  SchedulerSide(const chat::Tokenizer& tokenizer, const chat::ParserOptions& options) : parser(tokenizer, options) {}
  chat::OutputParser parser;
  GenerationChannel channel;
  std::atomic<bool> sink_stopped{false};  // raised by the request's thread: a stop sequence matched
  int64_t tokens_parsed = 0;
  bool single_call_done = false;
};

cache::GenerationEnd cache_end_of(const engine::GenerateResult& result, const SchedulerSide& side,
                                  bool format_keeps_reasoning) {
  cache::GenerationEnd end;
  const bool sink_stopped = side.sink_stopped.load();
  switch (result.finish) {
    case engine::FinishReason::stop_token: end.stop = cache::GenerationStop::end_of_turn; break;
    case engine::FinishReason::max_tokens:
    case engine::FinishReason::context_full: end.stop = cache::GenerationStop::max_tokens; break;
    case engine::FinishReason::callback_stop:
      // A single-call limit ends the turn right after "</tool_call>", as the client will send it back.
      end.stop = side.single_call_done && !sink_stopped ? cache::GenerationStop::end_of_turn
                                                        : cache::GenerationStop::stop_sequence;
      break;
    case engine::FinishReason::cancelled: end.stop = cache::GenerationStop::cancelled; break;
  }
  // A stop sequence learnt after the scheduler had ended the turn another way: the client's text
  // stops at the sequence, so this end state will not be sent back.
  if (sink_stopped && end.stop != cache::GenerationStop::cancelled) end.stop = cache::GenerationStop::stop_sequence;
  end.tool_calls = side.parser.tool_calls();
  end.format_keeps_reasoning = format_keeps_reasoning;
  return end;
}

std::shared_ptr<SequenceJob> make_job(const RequestRunContext& context, const RequestPlan& plan,
                                      const api::GenerationHooks& hooks, const std::shared_ptr<SchedulerSide>& side) {
  auto job = std::make_shared<SequenceJob>();
  job->prompt = plan.prompt;
  job->prompt.insert(job->prompt.end(), plan.forced.begin(), plan.forced.end());
  job->layout = plan.layout;
  job->layout.prompt_tokens = int64_t(job->prompt.size());
  job->sampling = plan.sampling;
  job->max_new_tokens = plan.max_new_tokens;
  job->stop_tokens = context.stop_tokens;
  job->cancel = hooks.cancel;
  job->stop = &side->sink_stopped;
  if (!plan.name_options.empty()) {
    // Constrain the tokens right after the forced prefix to spell one of the tool names.
    job->allowed_next = [options = plan.name_options](std::span<const Token> generated) {
      std::vector<Token> allowed;
      const size_t step = generated.size();
      for (const std::vector<Token>& option : options) {
        if (option.size() > step && std::equal(generated.begin(), generated.end(), option.begin())) {
          allowed.push_back(option[step]);
        }
      }
      return allowed;  // empty once a name is complete: unconstrained from there on
    };
  }

  SequenceCallbacks& callbacks = job->callbacks;
  callbacks.on_admitted = [side, forced = plan.forced](const cache::CacheOutcome& outcome) {
    ChannelMessage admitted;
    admitted.kind = ChannelMessage::Kind::admitted;
    admitted.cache_outcome = outcome;
    side->channel.post(std::move(admitted));
    // The forced opening is model output the client must see, parsed like generated tokens.
    ChannelMessage opening;
    for (Token t : forced) {
      std::vector<ContentEvent> events = side->parser.push(t);
      opening.events.insert(opening.events.end(), events.begin(), events.end());
    }
    opening.tool_calls = side->parser.tool_calls();
    if (!opening.events.empty()) side->channel.post(std::move(opening));
  };
  callbacks.on_token = [side, single_call = plan.single_call](Token token) {
    ChannelMessage message;
    message.token_index = side->tokens_parsed++;
    message.events = side->parser.push(token);
    message.tool_calls = side->parser.tool_calls();
    if (!message.events.empty()) side->channel.post(std::move(message));
    if (single_call && side->parser.tool_calls() >= 1) {
      side->single_call_done = true;
      return false;
    }
    return true;
  };
  callbacks.generation_end = [side, keeps = context.format_keeps_reasoning](const engine::GenerateResult& result) {
    return cache_end_of(result, *side, keeps);
  };
  callbacks.on_finished = [side, model = context.model](const engine::GenerateResult& result,
                                                        const cache::CacheOutcome& outcome) {
    ChannelMessage finished;
    finished.kind = ChannelMessage::Kind::finished;
    finished.result = result;
    finished.cache_outcome = outcome;
    finished.tool_calls = side->parser.tool_calls();
    finished.single_call_done = side->single_call_done;
    finished.peak_device_bytes = int64_t(model->peak_device_bytes());
    if (result.finish != engine::FinishReason::cancelled) finished.events = side->parser.finish();
    side->channel.post(std::move(finished));
  };
  callbacks.on_failed = [side](std::exception_ptr error) {
    ChannelMessage failed;
    failed.kind = ChannelMessage::Kind::failed;
    failed.error = error;
    side->channel.post(std::move(failed));
  };
  return job;
}

api::GenerationEnd api_end_of(engine::FinishReason finish, bool single_call_done) {
  switch (finish) {
    case engine::FinishReason::stop_token: return api::GenerationEnd::end_turn;
    case engine::FinishReason::max_tokens:
    case engine::FinishReason::context_full: return api::GenerationEnd::max_tokens;
    case engine::FinishReason::callback_stop:
      return single_call_done ? api::GenerationEnd::end_turn : api::GenerationEnd::stopped;
    case engine::FinishReason::cancelled: return api::GenerationEnd::cancelled;
  }
  return api::GenerationEnd::stopped;
}

// Takes the channel's messages until the end (see run_request()); `ended`: the last message came.
api::GenerationOutcome take_messages(SchedulerSide& side, const RequestPlan& plan, const api::GenerationHooks& hooks,
                                     bool& ended) {
  api::GenerationOutcome outcome;
  const int64_t prompt_tokens = int64_t(plan.prompt.size());
  // Where the client's sink stopped (a stop sequence): generated tokens it took, and calls by then.
  bool sink_stopped = false;
  int64_t tokens_taken = 0;
  int tool_calls_taken = 0;
  for (;;) {
    ChannelMessage message = side.channel.take();
    switch (message.kind) {
      case ChannelMessage::Kind::admitted:
        outcome.usage = prompt_usage(prompt_tokens, message.cache_outcome.reused_tokens);
        if (hooks.on_start) hooks.on_start(outcome.usage);
        break;
      case ChannelMessage::Kind::events:
        for (const ContentEvent& event : message.events) {
          if (sink_stopped) break;
          if (hooks.on_event && !hooks.on_event(event)) {
            sink_stopped = true;
            side.sink_stopped.store(true);
            tokens_taken = message.token_index + 1;  // the forced opening (-1) leaves no generated token
            tool_calls_taken = message.tool_calls;
          }
        }
        break;
      case ChannelMessage::Kind::failed:
        ended = true;
        std::rethrow_exception(message.error);
      case ChannelMessage::Kind::finished: {
        ended = true;
        const engine::GenerateResult& result = message.result;
        const int64_t generated = sink_stopped ? tokens_taken : int64_t(result.generated.size());
        outcome.end = sink_stopped ? api::GenerationEnd::stopped : api_end_of(result.finish, message.single_call_done);
        if (outcome.end != api::GenerationEnd::cancelled && !sink_stopped && hooks.on_event) {
          for (const ContentEvent& event : message.events) {
            if (!hooks.on_event(event)) break;
          }
        }
        const cache::CacheOutcome& co = message.cache_outcome;
        api::GenerationStats& stats = outcome.stats;
        stats.prompt_tokens = prompt_tokens;
        stats.reused_tokens = co.reused_tokens;
        stats.prefilled_tokens = result.prefilled_tokens;
        stats.checkpoint_position = co.checkpoint_position;
        stats.cache_source = co.enabled ? std::string(cache::to_string(co.source)) : std::string();
        stats.checkpoints_saved = co.checkpoints_saved;
        stats.restore_seconds = co.restore_seconds;
        stats.checkpoint_save_seconds = co.save_seconds;
        stats.first_token_seconds = generated == 0 ? 0 : result.first_token_seconds;
        stats.prefill_seconds = result.prefill_seconds;
        stats.decode_seconds = result.decode_seconds;
        stats.tool_calls = sink_stopped ? tool_calls_taken : message.tool_calls;
        stats.peak_device_bytes = message.peak_device_bytes;
        outcome.usage.output_tokens = int64_t(plan.forced.size()) + generated;
        return outcome;
      }
    }
  }
}

}  // namespace

api::GenerationOutcome run_request(const RequestRunContext& context, const RequestPlan& plan,
                                   const api::GenerationHooks& hooks) {
  if (!context.scheduler || !context.tokenizer || !context.model) {
    throw Error("run_request: a scheduler, a tokenizer and a model are required", ErrorKind::internal);
  }
  auto side = std::make_shared<SchedulerSide>(*context.tokenizer, plan.parser);
  context.scheduler->submit(make_job(context, plan, hooks, side));
  bool ended = false;
  try {
    return take_messages(*side, plan, hooks, ended);
  } catch (...) {
    if (ended) throw;  // the job failed: the scheduler is done with it
    // A hook threw while the job runs. The job points at hooks.cancel, which lives in the caller's
    // frame: make the job end, and wait for its last message before leaving.
    side->sink_stopped.store(true);
    for (;;) {
      const ChannelMessage::Kind kind = side->channel.take().kind;
      if (kind == ChannelMessage::Kind::finished || kind == ChannelMessage::Kind::failed) break;
    }
    throw;
  }
}

}  // namespace hearth::serve
