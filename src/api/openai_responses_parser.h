#pragma once
// POST /v1/responses body (OpenAI's Responses API, what Codex CLI speaks) → the internal MessagesRequest.
// `instructions` and leading system/developer messages → `system`; the `input` items map onto messages:
// user/system/developer/assistant messages as such, consecutive assistant-side items (assistant message,
// `reasoning`, `function_call`) into one assistant message (thinking, text, tool_use blocks), and each
// run of `function_call_output` items into one user message of tool results. hearth stores nothing, so
// `previous_response_id` and `conversation` are refused: the client sends the whole conversation
// (Codex does, with store: false). Unknown fields are ignored; unsupported ones refused (docs/OPENAI.md).
#include <string_view>

#include "api/types.h"

namespace hearth::api {

struct ResponsesRequest {
  MessagesRequest request;
  // Request fields a Response object echoes back (tools, tool_choice, parallel_tool_calls, ...).
  Json echo = Json::object();
};

// Throws ApiError(invalid_request_error) naming the field (param) at fault.
ResponsesRequest parse_responses_request(std::string_view body);

}  // namespace hearth::api
