#pragma once
// Prompt lookup (serve/prompt_lookup.h) as the engine's Drafter (engine/speculative.h): the drafter
// library knows token ids only, the engine knows nothing of serve/; this adapter joins them for
// `hearth generate` and the server.
#include "engine/speculative.h"
#include "serve/prompt_lookup.h"

namespace hearth::serve {

class LookupDrafter final : public engine::Drafter {
 public:
  explicit LookupDrafter(PromptLookupOptions options = {}) : lookup_(options) {}
  void append(std::span<const engine::Token> tokens) override { lookup_.append(tokens); }
  std::vector<engine::Token> propose(int32_t limit) override { return lookup_.propose(limit); }
  void feedback(int32_t proposed, int32_t accepted) override { lookup_.feedback(proposed, accepted); }
  PromptLookupDrafter& lookup() { return lookup_; }

 private:
  PromptLookupDrafter lookup_;
};

}  // namespace hearth::serve
