#pragma once
// POST /v1/chat/completions body → the internal MessagesRequest (the one the Anthropic parser fills), so
// that rendering, the prompt cache and the output parser are shared. OpenAI's shapes map as follows:
// leading system/developer messages → `system`, later ones stay in place as system messages; assistant
// `reasoning_content` → a thinking block, `tool_calls` → tool_use blocks; each run of `tool` messages →
// one user message of tool_result blocks (each must answer a call of the assistant message before it).
// Unknown fields are ignored; known features hearth cannot honour are refused (docs/OPENAI.md).
#include <string_view>

#include "api/types.h"

namespace hearth::api {

struct ChatCompletionRequest {
  MessagesRequest request;
  bool include_usage = false;  // stream_options.include_usage: a final chunk with the usage
};

// Throws ApiError(invalid_request_error) naming the field (param) at fault.
ChatCompletionRequest parse_chat_completion_request(std::string_view body);

}  // namespace hearth::api
