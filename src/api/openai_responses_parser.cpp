#include "api/openai_responses_parser.h"

#include "api/json_fields.h"
#include "api/openai_request_fields.h"

namespace hearth::api {
namespace {

using namespace json_fields;
using openai::text_block;

// Builds the internal conversation item by item.
class Conversation {
 public:
  explicit Conversation(MessagesRequest& request) : request_(request) {}

  void system_text(std::string text) {
    if (leading_) {
      if (!request_.system.empty()) request_.system.push_back(text_block("\n\n"));
      request_.system.push_back(text_block(std::move(text)));
    } else {
      push({Role::system, {text_block(std::move(text))}});
    }
  }
  void user(std::vector<ContentBlock> content) { push({Role::user, std::move(content)}); }
  // Blocks of the assistant's turn: consecutive assistant-side items share one message.
  void assistant(ContentBlock block) {
    if (kind_ != Kind::assistant) push({Role::assistant, {}});
    kind_ = Kind::assistant;
    request_.messages.back().content.push_back(std::move(block));
  }
  void tool_result(ContentBlock result, const std::string& path) {
    const Message* calls = kind_ == Kind::assistant     ? &request_.messages.back()
                           : kind_ == Kind::tool_results ? &request_.messages[request_.messages.size() - 2]
                                                         : nullptr;
    bool answered = false;
    for (const ContentBlock& b : calls ? calls->content : std::vector<ContentBlock>{}) {
      answered = answered || (b.type == BlockType::tool_use && b.id == result.tool_use_id);
    }
    if (!answered) {
      fail(path, "'" + result.tool_use_id + "' answers no function_call of the assistant items right before it");
    }
    if (kind_ != Kind::tool_results) push({Role::user, {}});
    kind_ = Kind::tool_results;
    request_.messages.back().content.push_back(std::move(result));
  }

 private:
  enum class Kind { none, other, assistant, tool_results };
  void push(Message message) {
    leading_ = false;
    kind_ = Kind::other;
    request_.messages.push_back(std::move(message));
  }

  MessagesRequest& request_;
  bool leading_ = true;
  Kind kind_ = Kind::none;
};

void parse_message_item(const Json& item, const std::string& path, Conversation& conversation) {
  const std::string role = as_string(required_field(item, path, "role"), join(path, "role"));
  const Json& content = required_field(item, path, "content");
  const std::string content_path = join(path, "content");
  if (role == "user") {
    conversation.user(openai::parse_user_parts(content, content_path, {"input_text", "input_image"}));
  } else if (role == "system" || role == "developer") {
    conversation.system_text(openai::text_of_parts(content, content_path, {"input_text"}));
  } else if (role == "assistant") {
    std::string text = openai::text_of_parts(content, content_path, {"output_text", "input_text", "refusal"});
    if (!text.empty()) conversation.assistant(text_block(std::move(text)));
  } else {
    fail(join(path, "role"), "must be 'user', 'assistant', 'system' or 'developer', got '" + role + "'");
  }
}

void parse_item(const Json& item, const std::string& path, Conversation& conversation) {
  expect_object(item, path);
  std::string type = "message";  // EasyInputMessage has no type
  if (const Json* t = optional_field(item, "type")) type = as_string(*t, join(path, "type"));
  if (type == "message") {
    parse_message_item(item, path, conversation);
  } else if (type == "function_call") {
    ContentBlock use;
    use.type = BlockType::tool_use;
    use.id = nonempty_string(required_field(item, path, "call_id"), join(path, "call_id"));
    use.name = nonempty_string(required_field(item, path, "name"), join(path, "name"));
    use.input = openai::parse_arguments(required_field(item, path, "arguments"), join(path, "arguments"));
    conversation.assistant(std::move(use));
  } else if (type == "function_call_output") {
    ContentBlock result;
    result.type = BlockType::tool_result;
    result.tool_use_id = nonempty_string(required_field(item, path, "call_id"), join(path, "call_id"));
    result.content.push_back(
        text_block(openai::text_of_parts(required_field(item, path, "output"), join(path, "output"), {"input_text"})));
    conversation.tool_result(std::move(result), join(path, "call_id"));
  } else if (type == "reasoning") {
    // The readable reasoning is `content` (reasoning_text) when the client kept it, else the summary.
    // encrypted_content is another server's sealed state: hearth cannot read it and ignores it.
    std::string text;
    for (const char* key : {"content", "summary"}) {
      const Json* parts = optional_field(item, key);
      if (!parts || !text.empty()) continue;
      text = openai::text_of_parts(*parts, join(path, key), {"reasoning_text", "summary_text"});
    }
    if (!text.empty()) {
      ContentBlock thinking;
      thinking.type = BlockType::thinking;
      thinking.text = std::move(text);
      conversation.assistant(std::move(thinking));
    }
  } else if (type == "item_reference") {
    fail(join(path, "type"), "hearth stores no items; send the item itself instead of a reference");
  } else {
    fail(join(path, "type"), "'" + type + "' items are not supported (message, function_call, function_call_output and reasoning are)");
  }
}

void refuse_unsupported_features(const Json& root) {
  openai::refuse_unsupported_sampling(root);
  if (optional_field(root, "previous_response_id")) {
    fail("previous_response_id", "hearth stores no responses; send the whole conversation in `input` (store: false)");
  }
  if (optional_field(root, "conversation")) fail("conversation", "hearth stores no conversations; send the whole conversation in `input`");
  if (optional_field(root, "prompt")) fail("prompt", "stored prompt templates are not supported");
  if (const Json* background = optional_field(root, "background")) {
    if (as_bool(*background, "background")) fail("background", "background responses are not supported");
  }
  if (const Json* text = optional_field(root, "text")) {
    expect_object(*text, "text");
    if (const Json* format = optional_field(*text, "format")) {
      expect_object(*format, "text.format");
      const std::string type = as_string(required_field(*format, "text.format", "type"), "text.format.type");
      if (type != "text") fail("text.format.type", "only 'text' is supported (no constrained JSON output), got '" + type + "'");
    }
  }
}

}  // namespace

ResponsesRequest parse_responses_request(std::string_view body) {
  const Json root = parse_object_body(body);
  ResponsesRequest parsed;
  MessagesRequest& request = parsed.request;
  request.model = nonempty_string(required_field(root, "", "model"), "model");
  refuse_unsupported_features(root);

  Conversation conversation(request);
  if (const Json* instructions = optional_field(root, "instructions")) {
    conversation.system_text(as_string(*instructions, "instructions"));
  }
  const Json& input = required_field(root, "", "input");
  if (input.is_string()) {
    conversation.user({text_block(input.get<std::string>())});
  } else {
    expect_array(input, "input");
    for (size_t i = 0; i < input.size(); ++i) parse_item(input[i], join("input", i), conversation);
  }
  if (request.messages.empty()) fail("input", "at least one user or assistant item is required");

  if (const Json* tools = optional_field(root, "tools")) {
    request.tools = openai::parse_function_tools(*tools, openai::FunctionNesting::flat, openai::OtherTools::skip);
  }
  if (const Json* choice = optional_field(root, "tool_choice")) {
    request.tool_choice = openai::parse_tool_choice(*choice, request.tools, openai::FunctionNesting::flat);
  }
  if (const Json* parallel = optional_field(root, "parallel_tool_calls")) {
    request.tool_choice.disable_parallel_tool_use = !as_bool(*parallel, "parallel_tool_calls");
  }
  if (const Json* reasoning = optional_field(root, "reasoning")) {
    expect_object(*reasoning, "reasoning");
    if (const Json* effort = optional_field(*reasoning, "effort")) {
      request.thinking.mode = openai::thinking_for_effort(*effort, "reasoning.effort");
    }
  }
  if (const Json* max = optional_field(root, "max_output_tokens")) {
    request.max_tokens = as_integer(*max, "max_output_tokens");
    if (request.max_tokens < 1) fail("max_output_tokens", "must be greater than or equal to 1");
  }
  openai::parse_sampling(root, request);
  if (const Json* stream = optional_field(root, "stream")) request.stream = as_bool(*stream, "stream");
  if (const Json* user = optional_field(root, "user")) request.metadata_user_id = as_string(*user, "user");
  // Groups a conversation's requests in the metrics log (Codex sends its conversation id here).
  if (const Json* key = optional_field(root, "prompt_cache_key")) request.session_id = as_string(*key, "prompt_cache_key");

  for (const char* key : {"instructions", "tools", "tool_choice", "parallel_tool_calls", "temperature", "top_p",
                          "max_output_tokens", "reasoning", "metadata", "text", "truncation", "store", "user"}) {
    if (const Json* value = optional_field(root, key)) parsed.echo[key] = *value;
  }
  return parsed;
}

}  // namespace hearth::api
