#pragma once
// The per-format renderers behind Renderer (renderer.h): a mapped conversation (anthropic_mapping.h) to
// the prompt text its chat template produces. Internal to chat/; exposed for tests.
#include <string>
#include <string_view>

#include "chat/anthropic_mapping.h"
#include "chat/renderer.h"

namespace hearth::chat {

// Qwen3.5 / Qwen3.6 template (XML tool calls). preserve_thinking applies Qwen3.6's rule.
RenderedPrompt render_qwen3_5(const ChatConversation& conversation, const RenderOptions& options);
// Qwen3 template (JSON tool calls).
RenderedPrompt render_qwen3(const ChatConversation& conversation, const RenderOptions& options);

// Builds a prompt and records message boundaries.
class PromptWriter {
 public:
  PromptWriter& operator<<(std::string_view s) {
    prompt_.text += s;
    return *this;
  }
  // Records the current end as a boundary when the text ends a turn ("<|im_end|>\n") there and no
  // boundary was recorded at this offset yet.
  void mark_boundary();
  RenderedPrompt take() { return std::move(prompt_); }
  RenderedPrompt& prompt() { return prompt_; }

 private:
  RenderedPrompt prompt_;
};

inline constexpr std::string_view kImEnd = "<|im_end|>\n";

}  // namespace hearth::chat
