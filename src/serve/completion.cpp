#include "serve/completion.h"

#include <algorithm>
#include <random>

#include "chat/output_parser.h"
#include "chat/prompt_layout.h"
#include "serve/request_plan.h"
#include "serve/request_run.h"
#include "util/error.h"

namespace hearth::serve {

using chat::ChatFormat;
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

}  // namespace

bool thinking_enabled(const api::MessagesRequest& request, const CompletionSettings& settings) {
  return settings.enable_thinking && request.thinking.mode != api::ThinkingMode::disabled && !forces_call(request);
}

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
  SchedulerOptions scheduling;
  scheduling.step_tokens = settings_.step_tokens;
  scheduler_ = std::make_unique<Scheduler>(*model_, *cache_, scheduling);
}

Completion::~Completion() = default;

api::BackendStatus Completion::status() const {
  api::BackendStatus s;
  s.model_loaded = true;
  s.description = model_->info().description;
  s.max_context = max_context_;
  s.parallel = std::max<int32_t>(1, model_->info().slots);
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
  auto plan = std::make_unique<RequestPlan>();
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
  plan->sampling.seed = request.seed ? *request.seed : std::random_device{}() | (uint64_t(std::random_device{}()) << 32);
  plan->sampling.vocab_limit = tokenizer_->vocab_size();  // a padded embedding's extra ids have no text
  return plan;
}

api::GenerationOutcome Completion::generate(api::PreparedGeneration& prepared, const api::GenerationHooks& hooks) {
  const auto* plan = dynamic_cast<const RequestPlan*>(&prepared);
  if (!plan) throw Error("completion: prepared by another backend", ErrorKind::internal);
  RequestRunContext context;
  context.scheduler = scheduler_.get();
  context.tokenizer = tokenizer_.get();
  context.model = model_.get();
  context.stop_tokens = stop_tokens_;
  context.format_keeps_reasoning = settings_.preserve_thinking;
  return run_request(context, *plan, hooks);
}

}  // namespace hearth::serve
