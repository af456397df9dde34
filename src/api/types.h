#pragma once
// Anthropic Messages API request, as plain structs (no wire format). api/request_parser.* fills them
// from JSON; chat/ reads them to render the prompt. Arbitrary JSON values (tool inputs, schemas) stay
// nlohmann::ordered_json so that key order survives: the model's template prints them in request order.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace hearth::api {

using Json = nlohmann::ordered_json;

enum class Role { user, assistant, system };

enum class BlockType {
  text,
  image,
  document,           // accepted, rendered as a placeholder like images
  tool_use,
  tool_result,
  thinking,
  redacted_thinking,
};

// One content block. A flat struct: only the fields of `type` are meaningful.
struct ContentBlock {
  BlockType type = BlockType::text;
  std::string text;                  // text; thinking: the reasoning text; redacted_thinking: data
  std::string signature;             // thinking
  std::string id;                    // tool_use
  std::string name;                  // tool_use
  Json input = Json::object();       // tool_use
  std::string tool_use_id;           // tool_result
  std::vector<ContentBlock> content; // tool_result (string content becomes one text block)
  bool is_error = false;             // tool_result
  std::string media_type;            // image / document
};

struct Message {
  Role role = Role::user;
  std::vector<ContentBlock> content;  // a string content becomes one text block
};

struct Tool {
  std::string name;
  std::string description;
  Json input_schema = Json::object();
  bool defer_loading = false;
};

enum class ToolChoiceType { automatic, any, tool, none };
struct ToolChoice {
  ToolChoiceType type = ToolChoiceType::automatic;
  std::string name;                  // for ToolChoiceType::tool
  bool disable_parallel_tool_use = false;
};

enum class ThinkingMode { unspecified, enabled, adaptive, disabled };
struct ThinkingConfig {
  ThinkingMode mode = ThinkingMode::unspecified;
  int64_t budget_tokens = 0;  // enabled
};

struct MessagesRequest {
  std::string model;
  std::vector<ContentBlock> system;   // text blocks; a string becomes one block
  std::vector<Message> messages;
  std::vector<Tool> tools;
  ToolChoice tool_choice;
  int64_t max_tokens = 0;
  std::vector<std::string> stop_sequences;
  bool stream = false;
  std::optional<double> temperature;
  std::optional<double> top_p;
  std::optional<int64_t> top_k;
  std::optional<uint64_t> seed;       // OpenAI's `seed`: the same seed samples the same tokens
  ThinkingConfig thinking;
  std::string metadata_user_id;
  // From headers, not the body.
  std::string session_id;             // X-Claude-Code-Session-Id
};

}  // namespace hearth::api
