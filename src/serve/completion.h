#pragma once
// The glue between an API request and the model: render (chat::Renderer) → tokenize → generate on the
// scheduler (serve/scheduler.h, continuous batching over the model's slots; serve/request_run.h) →
// parse (chat::OutputParser) → content events and usage. Implements the API layer's Backend seam, so
// api/ gets events and counts but never token ids. generate() may be called from several threads at
// once: up to the model's slot count generate together, more wait for a slot.
//
// Request semantics implemented here:
// - thinking: on when the server allows it and the request does not disable it; off renders the
//   template's closed empty think block and drops any <think> output.
// - tool_choice "tool": the forced call's opening ("<tool_call>\n<function=NAME>\n") is appended after
//   the generation prompt (rendered with thinking closed) and fed to the parser as model output.
//   "any": the opening up to the name is appended and the name tokens are constrained to the tokenized
//   tool names. "none": tools stay in the prompt (the prefix is shared with other turns) but calls are
//   not parsed as tool_use (they come out as text).
// - disable_parallel_tool_use: generation stops after the first complete call.
// - max_tokens is capped by the server's maximum and by the context left after the prompt.
#include <memory>
#include <vector>

#include "api/backend.h"
#include "cache/prompt_cache.h"
#include "chat/renderer.h"
#include "chat/tokenizer.h"
#include "engine/model.h"
#include "engine/sampling.h"
#include "serve/scheduler.h"

namespace hearth::serve {

struct CompletionSettings {
  chat::ChatFormat format = chat::ChatFormat::qwen3_5;
  bool enable_thinking = true;          // server switch; false: never think, whatever the request says
  bool preserve_thinking = false;       // Qwen3.6: keep past turns' reasoning in the prompt
  int64_t max_output_tokens = 32000;    // cap on a request's max_tokens
  int64_t max_context = 0;              // prompt + output positions; 0: the model's own limit
  // Prompt cache (cache/prompt_cache.h): reuses the live sequence and state checkpoints for prompts
  // that extend what was computed before. enabled = false: every request starts from a reset model.
  cache::PromptCacheConfig prompt_cache;
  engine::SamplingParams sampling;      // defaults for what a request leaves unset
  // Tokens one model step runs, all sequences together (SchedulerOptions::step_tokens): bounds how
  // long running streams wait behind a long prompt's prefill.
  int64_t step_tokens = 512;
};

class Completion : public api::Backend {
 public:
  Completion(std::shared_ptr<const chat::Tokenizer> tokenizer, std::unique_ptr<engine::Model> model,
             CompletionSettings settings);
  ~Completion() override;

  api::BackendStatus status() const override;
  int64_t count_tokens(const api::MessagesRequest& request) const override;
  std::unique_ptr<api::PreparedGeneration> prepare(const api::MessagesRequest& request) const override;
  api::GenerationOutcome generate(api::PreparedGeneration& prepared, const api::GenerationHooks& hooks) override;

  int64_t max_context() const { return max_context_; }
  // The cache belongs to the scheduler's thread: read it only while no request runs (start-up warnings,
  // tests between requests). cache_stats() may be read any time (the checkpoint store locks).
  const cache::PromptCache& prompt_cache() const { return *cache_; }
  cache::StoreStats cache_stats() const { return cache_->stats(); }
  const chat::Tokenizer& tokenizer() const { return *tokenizer_; }

 private:
  struct Rendered {
    std::vector<chat::Token> tokens;
    bool starts_in_thinking = false;
    cache::PromptLayout layout;  // boundaries for the prompt cache
  };
  Rendered render(const api::MessagesRequest& request) const;

  std::shared_ptr<const chat::Tokenizer> tokenizer_;
  std::unique_ptr<engine::Model> model_;
  std::unique_ptr<chat::Renderer> renderer_;
  CompletionSettings settings_;
  int64_t max_context_ = 0;
  std::vector<chat::Token> stop_tokens_;
  std::unique_ptr<cache::PromptCache> cache_;  // owns the knowledge of what the model's slots hold
  std::unique_ptr<Scheduler> scheduler_;       // last: its thread stops before the cache and model go
};

// Thinking is on for a request when the server allows it, the request does not disable it, and no tool
// call is forced (a forced call starts right after the generation prompt).
bool thinking_enabled(const api::MessagesRequest& request, const CompletionSettings& settings);

}  // namespace hearth::serve
