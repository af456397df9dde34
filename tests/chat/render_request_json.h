#pragma once
// Test-only: Anthropic request JSON → api::MessagesRequest, reading only what rendering needs (system,
// messages, tools, thinking). The renderer's tests use it so that they can render shapes the server's
// validating parser (api/request_parser.h) refuses, such as tool results without a matching tool call,
// which the renderer must still handle like the template. render_api_parser_test.cpp checks that the
// server's parser leads to the same prompts wherever it accepts a golden request.
#include "api/types.h"

namespace hearth::chat {

// Throws hearth::Error(invalid_request) naming the offending path (e.g. "messages[3].content[1]").
// Unknown top-level keys are ignored; unknown content block types are errors.
api::MessagesRequest request_for_render_from_json(const api::Json& body);

}  // namespace hearth::chat
