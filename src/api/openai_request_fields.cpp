#include "api/openai_request_fields.h"

#include <algorithm>
#include <set>

#include "api/json_fields.h"
#include "api/request_parser.h"

namespace hearth::api::openai {

using namespace json_fields;

std::vector<Tool> parse_function_tools(const Json& v, FunctionNesting nesting, OtherTools others) {
  expect_array(v, "tools");
  std::vector<Tool> tools;
  std::set<std::string> names;
  for (size_t i = 0; i < v.size(); ++i) {
    const std::string path = join("tools", i);
    expect_object(v[i], path);
    const std::string type = as_string(required_field(v[i], path, "type"), join(path, "type"));
    if (type != "function" && others == OtherTools::skip) continue;
    if (type != "function") {
      fail(join(path, "type"), "only 'function' tools are supported, got '" + type + "' (hearth runs no tools itself)");
    }
    const std::string fn_path = nesting == FunctionNesting::nested ? join(path, "function") : path;
    const Json& fn = nesting == FunctionNesting::nested ? required_field(v[i], path, "function") : v[i];
    expect_object(fn, fn_path);
    Tool tool;
    tool.name = as_string(required_field(fn, fn_path, "name"), join(fn_path, "name"));
    check_tool_name(tool.name, join(fn_path, "name"), names);
    if (const Json* description = optional_field(fn, "description")) {
      tool.description = as_string(*description, join(fn_path, "description"));
    }
    // OpenAI makes `parameters` optional: a function without it takes no arguments.
    tool.input_schema = Json{{"type", "object"}, {"properties", Json::object()}};
    if (const Json* parameters = optional_field(fn, "parameters")) {
      expect_object(*parameters, join(fn_path, "parameters"));
      tool.input_schema = *parameters;
    }
    // `strict` asks for schema-constrained decoding, which hearth does not do; a strict schema is still a
    // valid schema, and agents set it by default, so it is accepted (docs/OPENAI.md).
    if (const Json* strict = optional_field(fn, "strict")) as_bool(*strict, join(fn_path, "strict"));
    tools.push_back(std::move(tool));
  }
  return tools;
}

ToolChoice parse_tool_choice(const Json& v, const std::vector<Tool>& tools, FunctionNesting nesting) {
  ToolChoice choice;
  std::string type_as_sent;
  if (v.is_string()) {
    type_as_sent = v.get<std::string>();
    if (type_as_sent == "auto") {
      choice.type = ToolChoiceType::automatic;
    } else if (type_as_sent == "required") {
      choice.type = ToolChoiceType::any;
    } else if (type_as_sent == "none") {
      choice.type = ToolChoiceType::none;
    } else {
      fail("tool_choice", "must be 'none', 'auto', 'required' or a function, got '" + type_as_sent + "'");
    }
  } else if (v.is_object()) {
    type_as_sent = as_string(required_field(v, "tool_choice", "type"), "tool_choice.type");
    if (type_as_sent != "function") {
      fail("tool_choice.type", "only 'function' can be chosen, got '" + type_as_sent + "'");
    }
    const std::string fn_path = nesting == FunctionNesting::nested ? "tool_choice.function" : "tool_choice";
    const Json& fn = nesting == FunctionNesting::nested ? required_field(v, "tool_choice", "function") : v;
    expect_object(fn, fn_path);
    choice.type = ToolChoiceType::tool;
    choice.name = nonempty_string(required_field(fn, fn_path, "name"), join(fn_path, "name"));
  } else {
    fail_type("tool_choice", "a string or an object", v);
  }
  const std::string name_path = nesting == FunctionNesting::nested ? "tool_choice.function.name" : "tool_choice.name";
  check_tool_choice(choice, tools, "tool_choice", name_path, type_as_sent);
  return choice;
}

void parse_sampling(const Json& root, MessagesRequest& request) {
  if (const Json* t = optional_field(root, "temperature")) request.temperature = number_in_range(*t, "temperature", 0, 2);
  if (const Json* p = optional_field(root, "top_p")) request.top_p = number_in_range(*p, "top_p", 0, 1);
  if (const Json* k = optional_field(root, "top_k")) {
    int64_t top_k = as_integer(*k, "top_k");
    if (top_k < -1) fail("top_k", "must be -1 (off) or greater than or equal to 0");
    if (top_k > 0) request.top_k = top_k;
  }
  if (const Json* seed = optional_field(root, "seed")) request.seed = uint64_t(as_integer(*seed, "seed"));
}

void refuse_unsupported_sampling(const Json& root) {
  if (const Json* n = optional_field(root, "n")) {
    if (as_integer(*n, "n") != 1) fail("n", "only one choice per request is supported (n must be 1)");
  }
  if (const Json* logprobs = optional_field(root, "logprobs")) {
    if (as_bool(*logprobs, "logprobs")) fail("logprobs", "log probabilities are not supported");
  }
  if (const Json* top = optional_field(root, "top_logprobs")) {
    if (as_integer(*top, "top_logprobs") != 0) fail("top_logprobs", "log probabilities are not supported");
  }
  if (const Json* bias = optional_field(root, "logit_bias")) {
    expect_object(*bias, "logit_bias");
    if (!bias->empty()) fail("logit_bias", "logit_bias is not supported");
  }
  for (const char* penalty : {"presence_penalty", "frequency_penalty"}) {
    if (const Json* value = optional_field(root, penalty)) {
      if (as_number(*value, penalty) != 0) fail(penalty, "penalties are not supported (only 0)");
    }
  }
}

ThinkingMode thinking_for_effort(const Json& effort, const std::string& path) {
  const std::string value = as_string(effort, path);
  if (value == "none" || value == "minimal") return ThinkingMode::disabled;
  if (value == "low" || value == "medium" || value == "high" || value == "xhigh") return ThinkingMode::enabled;
  fail(path, "must be one of 'none', 'minimal', 'low', 'medium', 'high', 'xhigh', got '" + value + "'");
}

std::vector<std::string> parse_stop(const Json& stop, const std::string& path) {
  if (stop.is_string()) return parse_stop_sequences(Json::array({stop}), path);
  return parse_stop_sequences(stop, path);
}

Json parse_arguments(const Json& arguments, const std::string& path) {
  const std::string text = as_string(arguments, path);
  if (text.find_first_not_of(" \t\r\n") == std::string::npos) return Json::object();
  Json parsed = Json::parse(text, nullptr, false);
  if (parsed.is_discarded() || !parsed.is_object()) fail(path, "must be a JSON object encoded as a string");
  return parsed;
}

std::string text_of_parts(const Json& content, const std::string& path, const std::vector<std::string>& text_types) {
  if (content.is_string()) return content.get<std::string>();
  if (!content.is_array()) fail_type(path, "a string or an array of content parts", content);
  std::string text;
  for (size_t i = 0; i < content.size(); ++i) {
    const std::string part_path = join(path, i);
    expect_object(content[i], part_path);
    const std::string type = as_string(required_field(content[i], part_path, "type"), join(part_path, "type"));
    if (std::find(text_types.begin(), text_types.end(), type) == text_types.end()) {
      fail(join(part_path, "type"), "'" + type + "' parts are not supported here");
    }
    // A refusal part carries its text under `refusal`.
    const char* key = type == "refusal" ? "refusal" : "text";
    text += as_string(required_field(content[i], part_path, key), join(part_path, key));
  }
  return text;
}

ContentBlock text_block(std::string text) {
  ContentBlock block;
  block.text = std::move(text);
  return block;
}

namespace {

// "data:image/png;base64,..." → "image/png"; "" for a remote URL (hearth fetches nothing).
std::string media_type_of_data_url(const std::string& url) {
  if (!url.starts_with("data:")) return {};
  size_t end = url.find_first_of(";,", 5);
  return end == std::string::npos ? std::string() : url.substr(5, end - 5);
}

ContentBlock image_block(const Json& part, const std::string& path) {
  ContentBlock block;
  block.type = BlockType::image;
  const Json* url = optional_field(part, "image_url");
  const std::string url_path = join(path, "image_url");
  if (url && url->is_object()) {
    block.media_type = media_type_of_data_url(as_string(required_field(*url, url_path, "url"), join(url_path, "url")));
  } else if (url) {
    block.media_type = media_type_of_data_url(as_string(*url, url_path));
  }
  return block;
}

}  // namespace

std::vector<ContentBlock> parse_user_parts(const Json& content, const std::string& path, UserPartTypes types) {
  if (content.is_string()) return {text_block(content.get<std::string>())};
  if (!content.is_array()) fail_type(path, "a string or an array of content parts", content);
  std::vector<ContentBlock> blocks;
  for (size_t i = 0; i < content.size(); ++i) {
    const std::string part_path = join(path, i);
    const Json& part = content[i];
    expect_object(part, part_path);
    const std::string type = as_string(required_field(part, part_path, "type"), join(part_path, "type"));
    if (type == types.text) {
      blocks.push_back(text_block(as_string(required_field(part, part_path, "text"), join(part_path, "text"))));
    } else if (type == types.image) {
      blocks.push_back(image_block(part, part_path));
    } else {
      fail(join(part_path, "type"), "'" + type + "' content parts are not supported (" + types.text + " and " +
                                        types.image + " are)");
    }
  }
  return blocks;
}

}  // namespace hearth::api::openai
