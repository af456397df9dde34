#include "api/openai_chat_parser.h"

#include "api/json_fields.h"
#include "api/openai_request_fields.h"

namespace hearth::api {
namespace {

using namespace json_fields;
using openai::text_block;

Message parse_assistant(const Json& m, const std::string& path) {
  Message message;
  message.role = Role::assistant;
  // vLLM returns the reasoning as `reasoning`, llama-server and DeepSeek as `reasoning_content`.
  for (const char* key : {"reasoning_content", "reasoning"}) {
    if (const Json* reasoning = optional_field(m, key)) {
      ContentBlock thinking;
      thinking.type = BlockType::thinking;
      thinking.text = as_string(*reasoning, join(path, key));
      if (!thinking.text.empty()) message.content.push_back(std::move(thinking));
      break;
    }
  }
  if (const Json* content = optional_field(m, "content")) {
    std::string text = openai::text_of_parts(*content, join(path, "content"), {"text", "refusal"});
    if (!text.empty()) message.content.push_back(text_block(std::move(text)));
  }
  if (optional_field(m, "function_call")) fail(join(path, "function_call"), "the legacy function_call is not supported; use tool_calls");
  if (const Json* calls = optional_field(m, "tool_calls")) {
    const std::string calls_path = join(path, "tool_calls");
    expect_array(*calls, calls_path);
    for (size_t i = 0; i < calls->size(); ++i) {
      const std::string call_path = join(calls_path, i);
      const Json& call = (*calls)[i];
      expect_object(call, call_path);
      if (const Json* type = optional_field(call, "type")) {
        if (as_string(*type, join(call_path, "type")) != "function") fail(join(call_path, "type"), "must be 'function'");
      }
      const Json& fn = required_field(call, call_path, "function");
      const std::string fn_path = join(call_path, "function");
      expect_object(fn, fn_path);
      ContentBlock use;
      use.type = BlockType::tool_use;
      use.id = nonempty_string(required_field(call, call_path, "id"), join(call_path, "id"));
      use.name = nonempty_string(required_field(fn, fn_path, "name"), join(fn_path, "name"));
      use.input = openai::parse_arguments(required_field(fn, fn_path, "arguments"), join(fn_path, "arguments"));
      message.content.push_back(std::move(use));
    }
  }
  return message;
}

bool answers_call(const Message* assistant, const std::string& id) {
  if (!assistant) return false;
  for (const ContentBlock& block : assistant->content) {
    if (block.type == BlockType::tool_use && block.id == id) return true;
  }
  return false;
}

void parse_messages(const Json& v, MessagesRequest& request) {
  expect_array(v, "messages");
  if (v.empty()) fail("messages", "at least one message is required");
  bool leading = true;                       // still in the leading run of system/developer messages
  // The assistant message whose calls the next tool messages answer (null after anything else). The
  // reserve keeps it valid: there are never more internal messages than OpenAI ones.
  const Message* calls_to_answer = nullptr;
  bool in_tool_run = false;  // the last internal message is a user message of tool results
  request.messages.reserve(v.size());
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string path = join("messages", i);
    const Json& m = v[i];
    expect_object(m, path);
    const std::string role = as_string(required_field(m, path, "role"), join(path, "role"));
    const bool is_tool = role == "tool";
    if (role == "system" || role == "developer") {
      std::string text = openai::text_of_parts(required_field(m, path, "content"), join(path, "content"), {"text"});
      if (leading) {
        // Separate system messages stay separate paragraphs of the one system prompt.
        if (!request.system.empty()) request.system.push_back(text_block("\n\n"));
        request.system.push_back(text_block(std::move(text)));
      } else {
        request.messages.push_back({Role::system, {text_block(std::move(text))}});
      }
    } else if (role == "user") {
      leading = false;
      const Json& content = required_field(m, path, "content");
      request.messages.push_back({Role::user, openai::parse_user_parts(content, join(path, "content"), {"text", "image_url"})});
    } else if (role == "assistant") {
      leading = false;
      request.messages.push_back(parse_assistant(m, path));
      calls_to_answer = &request.messages.back();
    } else if (is_tool) {
      leading = false;
      ContentBlock result;
      result.type = BlockType::tool_result;
      result.tool_use_id = nonempty_string(required_field(m, path, "tool_call_id"), join(path, "tool_call_id"));
      if (!answers_call(calls_to_answer, result.tool_use_id)) {
        fail(join(path, "tool_call_id"), "'" + result.tool_use_id +
                                              "' answers no tool call of the assistant message right before the tool messages");
      }
      result.content.push_back(
          text_block(openai::text_of_parts(required_field(m, path, "content"), join(path, "content"), {"text"})));
      if (!in_tool_run) request.messages.push_back({Role::user, {}});
      request.messages.back().content.push_back(std::move(result));
    } else if (role == "function") {
      fail(join(path, "role"), "the legacy 'function' role is not supported; use 'tool' messages");
    } else {
      fail(join(path, "role"), "must be 'system', 'developer', 'user', 'assistant' or 'tool', got '" + role + "'");
    }
    in_tool_run = is_tool;
    if (role != "assistant" && !is_tool) calls_to_answer = nullptr;
  }
  if (request.messages.empty()) fail("messages", "at least one user or assistant message is required");
}

void refuse_unsupported_features(const Json& root) {
  openai::refuse_unsupported_sampling(root);
  if (const Json* format = optional_field(root, "response_format")) {
    expect_object(*format, "response_format");
    const std::string type = as_string(required_field(*format, "response_format", "type"), "response_format.type");
    if (type != "text") fail("response_format.type", "only 'text' is supported (no constrained JSON output), got '" + type + "'");
  }
  if (const Json* modalities = optional_field(root, "modalities")) {
    expect_array(*modalities, "modalities");
    for (size_t i = 0; i < modalities->size(); ++i) {
      if (as_string((*modalities)[i], join("modalities", i)) != "text") fail(join("modalities", i), "only 'text' output is supported");
    }
  }
  for (const char* field : {"audio", "prediction", "web_search_options", "functions", "function_call"}) {
    if (optional_field(root, field)) {
      fail(field, std::string("`") + field + "` is not supported" +
                      (std::string_view(field).starts_with("function") ? "; use tools and tool_choice" : ""));
    }
  }
}

}  // namespace

ChatCompletionRequest parse_chat_completion_request(std::string_view body) {
  const Json root = parse_object_body(body);
  ChatCompletionRequest parsed;
  MessagesRequest& request = parsed.request;
  request.model = nonempty_string(required_field(root, "", "model"), "model");
  parse_messages(required_field(root, "", "messages"), request);
  refuse_unsupported_features(root);

  if (const Json* tools = optional_field(root, "tools")) {
    request.tools = openai::parse_function_tools(*tools, openai::FunctionNesting::nested, openai::OtherTools::refuse);
  }
  if (const Json* choice = optional_field(root, "tool_choice")) {
    request.tool_choice = openai::parse_tool_choice(*choice, request.tools, openai::FunctionNesting::nested);
  }
  if (const Json* parallel = optional_field(root, "parallel_tool_calls")) {
    request.tool_choice.disable_parallel_tool_use = !as_bool(*parallel, "parallel_tool_calls");
  }
  if (const Json* effort = optional_field(root, "reasoning_effort")) {
    request.thinking.mode = openai::thinking_for_effort(*effort, "reasoning_effort");
  }
  // The switch vLLM and llama-server read for Qwen's template; it wins over reasoning_effort.
  if (const Json* kwargs = optional_field(root, "chat_template_kwargs")) {
    expect_object(*kwargs, "chat_template_kwargs");
    if (const Json* enable = optional_field(*kwargs, "enable_thinking")) {
      request.thinking.mode =
          as_bool(*enable, "chat_template_kwargs.enable_thinking") ? ThinkingMode::enabled : ThinkingMode::disabled;
    }
  }

  // max_completion_tokens replaced max_tokens; either may come, the newer wins. Absent: the server's limit.
  for (const char* key : {"max_tokens", "max_completion_tokens"}) {
    if (const Json* max = optional_field(root, key)) {
      request.max_tokens = as_integer(*max, key);
      if (request.max_tokens < 1) fail(key, "must be greater than or equal to 1");
    }
  }
  if (const Json* stop = optional_field(root, "stop")) request.stop_sequences = openai::parse_stop(*stop, "stop");
  openai::parse_sampling(root, request);
  if (const Json* stream = optional_field(root, "stream")) request.stream = as_bool(*stream, "stream");
  if (const Json* options = optional_field(root, "stream_options")) {
    expect_object(*options, "stream_options");
    if (const Json* usage = optional_field(*options, "include_usage")) {
      parsed.include_usage = as_bool(*usage, "stream_options.include_usage");
    }
  }
  if (const Json* user = optional_field(root, "user")) request.metadata_user_id = as_string(*user, "user");
  // Groups a conversation's requests in the metrics log, as Claude Code's session header does.
  if (const Json* key = optional_field(root, "prompt_cache_key")) request.session_id = as_string(*key, "prompt_cache_key");
  return parsed;
}

}  // namespace hearth::api
