#include "chat/renderer.h"

#include "chat/anthropic_mapping.h"
#include "chat/render_formats.h"
#include "util/error.h"

namespace hearth::chat {

ChatFormat chat_format_for_model_type(std::string_view model_type) {
  if (model_type == "qwen3_5" || model_type == "qwen3_5_moe") return ChatFormat::qwen3_5;
  if (model_type == "qwen3" || model_type == "qwen3_moe") return ChatFormat::qwen3;
  throw Error("model_type '" + std::string(model_type) +
                  "' has no chat renderer (supported: qwen3_5, qwen3_5_moe, qwen3, qwen3_moe)",
              ErrorKind::unsupported);
}

void PromptWriter::mark_boundary() {
  const std::string& text = prompt_.text;
  if (!text.ends_with(kImEnd)) return;
  if (!prompt_.boundaries.empty() && prompt_.boundaries.back() == text.size()) return;
  prompt_.boundaries.push_back(text.size());
}

namespace {

using FormatFn = RenderedPrompt (*)(const ChatConversation&, const RenderOptions&);

class TemplateRenderer final : public Renderer {
 public:
  explicit TemplateRenderer(FormatFn format) : format_(format) {}
  RenderedPrompt render(const api::MessagesRequest& request, const RenderOptions& options) const override {
    return format_(map_anthropic_request(request), options);
  }

 private:
  FormatFn format_;
};

}  // namespace

std::unique_ptr<Renderer> Renderer::create(ChatFormat format) {
  switch (format) {
    case ChatFormat::qwen3_5: return std::make_unique<TemplateRenderer>(render_qwen3_5);
    case ChatFormat::qwen3: return std::make_unique<TemplateRenderer>(render_qwen3);
  }
  throw Error("Renderer::create: unknown chat format", ErrorKind::internal);
}

}  // namespace hearth::chat
