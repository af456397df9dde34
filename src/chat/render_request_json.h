#pragma once
// Anthropic request JSON → api::MessagesRequest, reading only what rendering needs (system, messages,
// tools, thinking, model). Used by `hearth render` and the renderer's golden tests, so that they run on
// request files as clients send them. The API server uses api/'s full request parser (validation of
// every field, limits); this one checks only the shapes it reads, with errors naming the JSON path.
#include "api/types.h"

namespace hearth::chat {

// Throws hearth::Error(invalid_request) naming the offending path (e.g. "messages[3].content[1]").
// Unknown top-level keys are ignored; unknown content block types are errors.
api::MessagesRequest request_for_render_from_json(const api::Json& body);

}  // namespace hearth::chat
