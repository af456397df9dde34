#pragma once
// Request fields that OpenAI's Chat Completions and Responses APIs share (function tools, tool_choice,
// sampling, reasoning effort, refused features), read into the internal MessagesRequest. Every failure
// is a 400 invalid_request_error naming the field (api/json_fields.h).
#include <string>
#include <vector>

#include "api/types.h"

namespace hearth::api::openai {

// How a format spells a function tool: Chat nests it ({"type":"function","function":{name,...}}),
// Responses does not ({"type":"function","name":...}).
enum class FunctionNesting { nested, flat };

// What to do with tools of other types than "function" (hosted tools such as web_search, Codex's
// namespace and custom tools): Chat clients send none, so there they are refused; Codex sends them with
// every Responses request, so there they are left out of the prompt (the model cannot call them).
enum class OtherTools { refuse, skip };

std::vector<Tool> parse_function_tools(const Json& tools, FunctionNesting nesting, OtherTools others);
// "none" | "auto" | "required" | {"type":"function", ...name...}.
ToolChoice parse_tool_choice(const Json& choice, const std::vector<Tool>& tools, FunctionNesting nesting);

// temperature (0-2), top_p (0-1), top_k (vLLM's extension; -1 = off), seed.
void parse_sampling(const Json& root, MessagesRequest& request);
// Fields hearth cannot honour and refuses rather than silently ignore, when set to anything but their
// neutral value: n > 1, logprobs, top_logprobs, logit_bias, presence/frequency penalties.
void refuse_unsupported_sampling(const Json& root);

// `reasoning_effort` / `reasoning.effort`: "none" and "minimal" turn thinking off, the others leave it on.
ThinkingMode thinking_for_effort(const Json& effort, const std::string& path);

// `stop`: a string or an array of strings.
std::vector<std::string> parse_stop(const Json& stop, const std::string& path);

// A function call's `arguments`: a JSON object encoded as a string ("" means {}).
Json parse_arguments(const Json& arguments, const std::string& path);

// Text of a content given as a string or as an array of parts whose types are in `text_types`
// (concatenated); any other part type is refused with `unsupported`.
std::string text_of_parts(const Json& content, const std::string& path, const std::vector<std::string>& text_types);

// Content of a user message: a string, or text and image parts, whose type names differ by API (Chat:
// "text" / "image_url", Responses: "input_text" / "input_image"). An image's `image_url` may be a URL
// string or {"url": ...}; it renders as the model's image placeholder (hearth reads no pixels).
struct UserPartTypes {
  const char* text;
  const char* image;
};
std::vector<ContentBlock> parse_user_parts(const Json& content, const std::string& path, UserPartTypes types);

ContentBlock text_block(std::string text);

}  // namespace hearth::api::openai
