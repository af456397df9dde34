#pragma once
// JSON body → MessagesRequest, with Anthropic-style validation: wrong types, missing required fields and
// out-of-range values are 400 invalid_request_error naming the field's path ("messages.2.content.0.text");
// unknown fields are ignored (clients send beta features hearth does not implement).
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "api/json_fields.h"
#include "api/types.h"

namespace hearth::api {

enum class RequestKind {
  messages,      // POST /v1/messages: max_tokens required
  count_tokens,  // POST /v1/messages/count_tokens: max_tokens not needed
};

using json_fields::kMaxJsonDepth;

// Throws ApiError(invalid_request_error) with a message naming the offending field.
MessagesRequest parse_messages_request(std::string_view body, RequestKind kind);

// Rules every wire format's parser applies the same way (the OpenAI parsers use them too).
// Up to 64 non-empty strings of at most 1024 bytes.
std::vector<std::string> parse_stop_sequences(const Json& value, const std::string& path);
// A valid name (json_fields::valid_tool_name) not in `seen`, which it joins.
void check_tool_name(const std::string& name, const std::string& path, std::set<std::string>& seen);
// A choice that forces a call needs tools, and a named one a tool of that name.
void check_tool_choice(const ToolChoice& choice, const std::vector<Tool>& tools, const std::string& path,
                       const std::string& name_path, std::string_view type_as_sent);

inline int json_nesting_depth(std::string_view text, int limit) { return json_fields::nesting_depth(text, limit); }

}  // namespace hearth::api
