#pragma once
// Native chat renderers: an Anthropic request to the exact prompt text the model's own chat template
// produces (checked byte for byte against the Jinja templates in tests/chat/). One renderer per chat
// format; the format is chosen from the model's config.json model_type. How Anthropic content maps onto
// the template's messages is documented at the top of chat/anthropic_mapping.h.
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "api/types.h"

namespace hearth::chat {

enum class ChatFormat {
  qwen3_5,  // Qwen3.5 / Qwen3.6 (model_type qwen3_5, qwen3_5_moe): XML tool calls
  qwen3,    // Qwen3 (model_type qwen3, qwen3_moe): JSON tool calls
};

// Throws hearth::Error(unsupported) naming the supported types for anything else.
ChatFormat chat_format_for_model_type(std::string_view model_type);

struct RenderOptions {
  bool enable_thinking = true;       // generation prompt opens <think> (false: empty think block)
  bool preserve_thinking = false;    // Qwen3.6: keep reasoning of past assistant turns (qwen3: ignored)
  bool add_generation_prompt = true;
};

struct RenderedPrompt {
  std::string text;
  // Byte offsets in `text` where a message (or the static tools+system prefix) ends, ascending. Each is
  // also a token boundary (it follows "<|im_end|>\n"), so the prompt cache can checkpoint there.
  std::vector<size_t> boundaries;
  // True when the generation prompt leaves the model inside <think> (the parser starts there).
  bool generation_starts_in_thinking = false;
};

class Renderer {
 public:
  static std::unique_ptr<Renderer> create(ChatFormat format);
  virtual ~Renderer() = default;
  // Throws hearth::Error(invalid_request) for conversations the format cannot express (e.g. no user
  // message at all).
  virtual RenderedPrompt render(const api::MessagesRequest& request, const RenderOptions& options) const = 0;
};

}  // namespace hearth::chat
