#include "serve/completion.h"

#include <algorithm>
#include <chrono>
#include <random>

#include "chat/output_parser.h"
#include "chat/prompt_layout.h"
#include "engine/generator.h"
#include "util/error.h"

namespace hearth::serve {

using chat::ChatFormat;
using chat::OutputParser;
using chat::ParserOptions;
using chat::RenderedPrompt;
using chat::RenderOptions;
using chat::Token;
using chat::Tokenizer;

namespace {

bool forces_call(const api::MessagesRequest& request) {
  return request.tool_choice.type == api::ToolChoiceType::any || request.tool_choice.type == api::ToolChoiceType::tool;
}

// The opening of a forced call in the model's own format, up to where the model takes over.
std::string forced_call_prefix(ChatFormat format, const api::ToolChoice& choice) {
  const bool named = choice.type == api::ToolChoiceType::tool;
  if (format == ChatFormat::qwen3) {
    return named ? "<tool_call>\n{\"name\": \"" + choice.name + "\", \"arguments\": " : "<tool_call>\n{\"name\": \"";
  }
  // Qwen3.5 XML. For "any" the prefix stops before '=': the tokenizer's pre-tokeniser glues '=' to the
  // name's first letters, so "=NAME>\n" is tokenized as a unit, exactly as it appears in the model's text.
  return named ? "<tool_call>\n<function=" + choice.name + ">\n" : "<tool_call>\n<function";
}

std::string name_continuation(ChatFormat format, const std::string& name) {
  return format == ChatFormat::qwen3 ? name : "=" + name + ">\n";
}

api::Usage prompt_usage(int64_t prompt_tokens, int64_t reused) {
  api::Usage usage;
  usage.cache_read_input_tokens = std::min(reused, prompt_tokens);
  usage.input_tokens = prompt_tokens - usage.cache_read_input_tokens;
  return usage;
}

}  // namespace

bool thinking_enabled(const api::MessagesRequest& request, const CompletionSettings& settings) {
  return settings.enable_thinking && request.thinking.mode != api::ThinkingMode::disabled && !forces_call(request);
}

// A prepared request: the prompt and everything generate() needs, computed without the model.
struct Completion::Plan : api::PreparedGeneration {
  std::vector<Token> prompt;                   // rendered prompt
  cache::PromptLayout layout;                  // its boundaries, for the prompt cache
  std::vector<Token> forced;                   // forced call opening, appended after the prompt
  std::vector<std::vector<Token>> name_options;  // "any": the allowed continuations (one per tool)
  ParserOptions parser;
  engine::SamplingParams sampling;
  int64_t max_new_tokens = 0;
  bool single_call = false;
  int64_t prompt_tokens() const override { return int64_t(prompt.size()); }
};

Completion::Completion(std::shared_ptr<const Tokenizer> tokenizer, std::unique_ptr<engine::Model> model,
                       CompletionSettings settings)
    : tokenizer_(std::move(tokenizer)),
      model_(std::move(model)),
      renderer_(chat::Renderer::create(settings.format)),
      settings_(std::move(settings)) {
  if (!tokenizer_ || !model_) throw Error("completion: a tokenizer and a model are required", ErrorKind::internal);
  const int64_t model_limit = model_->info().max_context;
  max_context_ = settings_.max_context > 0 ? settings_.max_context : model_limit;
  if (model_limit > 0) max_context_ = std::min(max_context_, model_limit);
  if (max_context_ <= 1) throw Error("completion: the context must hold at least 2 tokens", ErrorKind::invalid_request);
  for (const char* stop : {"<|im_end|>", "<|endoftext|>"}) {
    if (auto id = tokenizer_->token_id(stop)) stop_tokens_.push_back(*id);
  }
  if (stop_tokens_.empty()) throw Error("completion: the tokenizer has no <|im_end|> token", ErrorKind::unsupported);
  // Token ids index the model's embedding table: a tokenizer larger than it would read past the end.
  if (model_->info().vocab_size > 0 && tokenizer_->vocab_size() > model_->info().vocab_size) {
    throw Error("the tokenizer has " + std::to_string(tokenizer_->vocab_size()) + " tokens but the model's vocabulary only " +
                    std::to_string(model_->info().vocab_size) + ": they do not belong together",
                ErrorKind::invalid_request);
  }
  cache_ = std::make_unique<cache::PromptCache>(*model_, settings_.prompt_cache);
}

Completion::~Completion() = default;

api::BackendStatus Completion::status() const {
  api::BackendStatus s;
  s.model_loaded = true;
  s.description = model_->info().description;
  s.max_context = max_context_;
  return s;
}

Completion::Rendered Completion::render(const api::MessagesRequest& request) const {
  RenderOptions options;
  options.enable_thinking = thinking_enabled(request, settings_);
  options.preserve_thinking = settings_.preserve_thinking;
  options.add_generation_prompt = true;
  RenderedPrompt prompt = renderer_->render(request, options);
  Rendered out;
  out.tokens = tokenizer_->encode(prompt.text);
  out.starts_in_thinking = prompt.generation_starts_in_thinking;
  out.layout = chat::prompt_layout(prompt, out.tokens, *tokenizer_);
  return out;
}

int64_t Completion::count_tokens(const api::MessagesRequest& request) const { return int64_t(render(request).tokens.size()); }

std::unique_ptr<api::PreparedGeneration> Completion::prepare(const api::MessagesRequest& request) const {
  auto plan = std::make_unique<Plan>();
  Rendered rendered = render(request);
  plan->prompt = std::move(rendered.tokens);
  plan->layout = std::move(rendered.layout);
  if (forces_call(request)) plan->forced = tokenizer_->encode(forced_call_prefix(settings_.format, request.tool_choice));
  if (request.tool_choice.type == api::ToolChoiceType::any) {
    for (const api::Tool& tool : request.tools) {
      plan->name_options.push_back(tokenizer_->encode(name_continuation(settings_.format, tool.name)));
    }
  }

  // One position must stay free for the first generated token.
  const int64_t needed = int64_t(plan->prompt.size() + plan->forced.size());
  if (needed >= max_context_) {
    throw Error("prompt is too long: " + std::to_string(plan->prompt.size()) + " tokens > " +
                    std::to_string(max_context_ - 1 - int64_t(plan->forced.size())) + " maximum",
                ErrorKind::prompt_too_long);
  }
  int64_t budget = request.max_tokens > 0 ? request.max_tokens : settings_.max_output_tokens;
  budget = std::min(budget, settings_.max_output_tokens);
  budget = std::min(budget, max_context_ - needed);
  plan->max_new_tokens = std::max<int64_t>(0, budget - int64_t(plan->forced.size()));

  if (request.tool_choice.type != api::ToolChoiceType::none) plan->parser.tools = request.tools;
  plan->parser.emit_thinking = thinking_enabled(request, settings_);
  plan->parser.starts_in_thinking = rendered.starts_in_thinking;
  plan->single_call = request.tool_choice.disable_parallel_tool_use;

  plan->sampling = settings_.sampling;
  if (request.temperature) plan->sampling.temperature = float(*request.temperature);
  if (request.top_p) plan->sampling.top_p = float(*request.top_p);
  if (request.top_k) plan->sampling.top_k = int32_t(std::min<int64_t>(*request.top_k, INT32_MAX));
  plan->sampling.seed = std::random_device{}() | (uint64_t(std::random_device{}()) << 32);
  return plan;
}

api::GenerationOutcome Completion::generate(api::PreparedGeneration& prepared, const api::GenerationHooks& hooks) {
  auto* plan = dynamic_cast<Plan*>(&prepared);
  if (!plan) throw Error("completion: prepared by another backend", ErrorKind::internal);
  std::lock_guard lock(model_mutex_);

  std::vector<Token> full = plan->prompt;
  full.insert(full.end(), plan->forced.begin(), plan->forced.end());

  // The prompt cache puts the model in the deepest state that is exactly a prefix of this prompt (the
  // live sequence or a checkpoint; a hybrid model's recurrent state cannot be rolled back) and plans
  // where prefill stops to save checkpoints.
  const auto started = std::chrono::steady_clock::now();
  cache::PromptLayout layout = plan->layout;
  layout.prompt_tokens = int64_t(full.size());
  cache::CachedRequest cached = cache_->begin(full, layout);
  const int64_t reused = cached.outcome().reused_tokens;

  api::GenerationOutcome outcome;
  outcome.usage = prompt_usage(int64_t(plan->prompt.size()), reused);
  if (hooks.on_start) hooks.on_start(outcome.usage);

  OutputParser parser(*tokenizer_, plan->parser);
  bool sink_stopped = false;
  auto deliver = [&](const std::vector<ContentEvent>& events) {
    for (const ContentEvent& e : events) {
      if (sink_stopped) return false;
      if (hooks.on_event && !hooks.on_event(e)) sink_stopped = true;
    }
    return !sink_stopped;
  };
  for (Token t : plan->forced) deliver(parser.push(t));

  bool single_call_done = false;
  engine::GenerateParams params;
  params.sampling = plan->sampling;
  params.max_new_tokens = plan->max_new_tokens;
  params.stop_tokens = stop_tokens_;
  params.prefill_chunk = settings_.prefill_chunk;
  params.cancel = hooks.cancel;
  params.checkpoint_positions = cached.checkpoint_positions();
  params.on_checkpoint = [&cached](int64_t position) { cached.at_checkpoint(position); };
  params.on_token = [&](Token t) {
    if (!deliver(parser.push(t))) return false;
    if (plan->single_call && parser.tool_calls() >= 1) {
      single_call_done = true;
      return false;
    }
    return true;
  };
  if (!plan->name_options.empty()) {
    // Constrain the tokens right after the forced prefix to spell one of the tool names.
    params.allowed_next = [plan](std::span<const Token> generated) {
      std::vector<Token> allowed;
      const size_t step = generated.size();
      for (const std::vector<Token>& option : plan->name_options) {
        if (option.size() > step && std::equal(generated.begin(), generated.end(), option.begin())) {
          allowed.push_back(option[step]);
        }
      }
      return allowed;  // empty once a name is complete: unconstrained from there on
    };
  }

  engine::GenerateResult result;
  const double before_generate = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
  if (plan->max_new_tokens > 0 && !sink_stopped) {
    result = engine::generate(*model_, full, params);
  } else {
    result.finish = sink_stopped ? engine::FinishReason::callback_stop : engine::FinishReason::max_tokens;
  }

  // Tell the cache how the turn ended: the end-of-generation state is kept only when the next request
  // will render this turn back exactly as generated (cache/checkpoint_planner.h).
  cache::GenerationEnd cache_end;
  switch (result.finish) {
    case engine::FinishReason::stop_token: cache_end.stop = cache::GenerationStop::end_of_turn; break;
    case engine::FinishReason::max_tokens:
    case engine::FinishReason::context_full: cache_end.stop = cache::GenerationStop::max_tokens; break;
    case engine::FinishReason::callback_stop:
      // A single-call limit ends the turn right after "</tool_call>", as the client will send it back.
      cache_end.stop = single_call_done && !sink_stopped ? cache::GenerationStop::end_of_turn : cache::GenerationStop::stop_sequence;
      break;
    case engine::FinishReason::cancelled: cache_end.stop = cache::GenerationStop::cancelled; break;
  }
  cache_end.tool_calls = parser.tool_calls();
  cache_end.format_keeps_reasoning = settings_.preserve_thinking;
  cached.finish(result.generated, cache_end);

  const cache::CacheOutcome& co = cached.outcome();
  api::GenerationStats& stats = outcome.stats;
  stats.prompt_tokens = int64_t(plan->prompt.size());
  stats.reused_tokens = co.reused_tokens;
  stats.prefilled_tokens = result.prefilled_tokens;
  stats.checkpoint_position = co.checkpoint_position;
  stats.cache_source = co.enabled ? std::string(cache::to_string(co.source)) : std::string();
  stats.checkpoints_saved = co.checkpoints_saved;
  stats.restore_seconds = co.restore_seconds;
  stats.checkpoint_save_seconds = co.save_seconds;
  stats.first_token_seconds = result.generated.empty() ? 0 : before_generate + result.first_token_seconds;
  stats.prefill_seconds = result.prefill_seconds;
  stats.decode_seconds = result.decode_seconds;
  stats.tool_calls = parser.tool_calls();
  stats.peak_device_bytes = int64_t(model_->peak_device_bytes());

  switch (result.finish) {
    case engine::FinishReason::stop_token: outcome.end = api::GenerationEnd::end_turn; break;
    case engine::FinishReason::max_tokens:
    case engine::FinishReason::context_full: outcome.end = api::GenerationEnd::max_tokens; break;
    case engine::FinishReason::callback_stop:
      outcome.end = single_call_done && !sink_stopped ? api::GenerationEnd::end_turn : api::GenerationEnd::stopped;
      break;
    case engine::FinishReason::cancelled: outcome.end = api::GenerationEnd::cancelled; break;
  }
  if (outcome.end != api::GenerationEnd::cancelled && !sink_stopped) deliver(parser.finish());
  outcome.usage.output_tokens = int64_t(plan->forced.size() + result.generated.size());
  return outcome;
}

}  // namespace hearth::serve
