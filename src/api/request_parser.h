#pragma once
// JSON body → MessagesRequest, with Anthropic-style validation: wrong types, missing required fields and
// out-of-range values are 400 invalid_request_error naming the field's path ("messages.2.content.0.text");
// unknown fields are ignored (clients send beta features hearth does not implement).
#include <string_view>

#include "api/types.h"

namespace hearth::api {

enum class RequestKind {
  messages,      // POST /v1/messages: max_tokens required
  count_tokens,  // POST /v1/messages/count_tokens: max_tokens not needed
};

// Deeper JSON is refused before it is parsed: nothing legitimate nests this far, and deep nesting is a
// classic way to exhaust a recursive parser's stack.
inline constexpr int kMaxJsonDepth = 128;

// Throws ApiError(invalid_request_error) with a message naming the offending field.
MessagesRequest parse_messages_request(std::string_view body, RequestKind kind);

// Depth of the deepest array/object nesting in `text` (strings skipped), stopping early past `limit`.
int json_nesting_depth(std::string_view text, int limit);

}  // namespace hearth::api
