#pragma once
// A request made ready to run (serve/completion.h prepare()): everything generation needs, computed
// on the request's thread without the model, so that a prompt that is too long is refused at once.
#include <cstdint>
#include <vector>

#include "api/backend.h"
#include "cache/checkpoint_planner.h"
#include "chat/output_parser.h"
#include "engine/sampling.h"

namespace hearth::serve {

struct RequestPlan : api::PreparedGeneration {
  std::vector<chat::Token> prompt;                    // rendered prompt
  cache::PromptLayout layout;                         // its boundaries, for the prompt cache
  std::vector<chat::Token> forced;                    // forced call opening, appended after the prompt
  std::vector<std::vector<chat::Token>> name_options; // "any": the allowed continuations (one per tool)
  chat::ParserOptions parser;
  engine::SamplingParams sampling;
  int64_t max_new_tokens = 0;
  bool single_call = false;                           // stop after the first complete tool call
  int64_t prompt_tokens() const override { return int64_t(prompt.size()); }
};

}  // namespace hearth::serve
