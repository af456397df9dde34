#include "api/openai_responses_encoding.h"

#include "api/ids.h"
#include "api/openai_chat_encoding.h"
#include "api/openai_errors.h"

namespace hearth::api {

Json responses_usage_json(const Usage& usage) {
  const int64_t input = prompt_tokens_of(usage);
  return {
      {"input_tokens", input},
      {"input_tokens_details", {{"cached_tokens", usage.cache_read_input_tokens}}},
      {"output_tokens", usage.output_tokens},
      // The output parser does not count thinking tokens apart from the others.
      {"output_tokens_details", {{"reasoning_tokens", 0}}},
      {"total_tokens", input + usage.output_tokens},
  };
}

namespace {

Json content_part(BlockKind kind, const std::string& text) {
  if (kind == BlockKind::thinking) return {{"type", "reasoning_text"}, {"text", text}};
  return {{"type", "output_text"}, {"text", text}, {"annotations", Json::array()}};
}

}  // namespace

ResponsesWriter::ResponsesWriter(bool streaming, Json echo, int64_t created_at)
    : streaming_(streaming), created_at_(created_at) {
  response_ = {{"id", ""},
               {"object", "response"},
               {"created_at", created_at_},
               {"status", "in_progress"},
               {"error", nullptr},
               {"incomplete_details", nullptr},
               {"model", ""},
               {"output", Json::array()},
               {"parallel_tool_calls", true},
               {"tool_choice", "auto"},
               {"tools", Json::array()},
               {"usage", nullptr}};
  for (auto& [key, value] : echo.items()) response_[key] = value;
}

std::string ResponsesWriter::frame(std::string_view type, Json payload) const {
  if (!streaming_) return {};
  Json event = {{"type", type}, {"sequence_number", sequence_++}};
  for (auto& [key, value] : payload.items()) event[key] = std::move(value);
  // Text comes from the model; replace rather than throw on bytes that are not UTF-8.
  return "event: " + std::string(type) + "\ndata: " + event.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
}

std::string ResponsesWriter::open_item(const StreamEvent& start) {
  std::string out = close_item();  // the composer closes blocks first; this only guards
  open_block_ = start.index;
  text_.clear();
  Json new_item;
  switch (start.block) {
    case BlockKind::text:
      new_item = {{"id", new_id("msg_")}, {"type", "message"}, {"status", "in_progress"}, {"role", "assistant"}, {"content", Json::array()}};
      break;
    case BlockKind::thinking:
      new_item = {{"id", new_id("rs_")}, {"type", "reasoning"}, {"summary", Json::array()}, {"content", Json::array()}};
      break;
    case BlockKind::tool_use:
      new_item = {{"id", new_id("fc_")}, {"type", "function_call"}, {"status", "in_progress"},
                  {"call_id", start.tool_id}, {"name", start.tool_name},  {"arguments", ""}};
      break;
  }
  response_["output"].push_back(new_item);
  const size_t output_index = response_["output"].size() - 1;
  out += frame("response.output_item.added", {{"output_index", output_index}, {"item", new_item}});
  // Text and reasoning arrive as the deltas of one content part, announced before them.
  if (start.block != BlockKind::tool_use) {
    out += frame("response.content_part.added",
                 {{"item_id", new_item["id"]}, {"output_index", output_index}, {"content_index", 0}, {"part", content_part(start.block, "")}});
  }
  return out;
}

std::string ResponsesWriter::append_delta(const StreamEvent& delta) {
  if (delta.index != open_block_ || delta.delta == DeltaType::signature) return {};  // no signatures here
  text_ += delta.text;
  const size_t output_index = response_["output"].size() - 1;
  const Json id = item()["id"];
  switch (delta.delta) {
    case DeltaType::text:
      return frame("response.output_text.delta", {{"item_id", id}, {"output_index", output_index}, {"content_index", 0},
                                                  {"delta", delta.text}, {"logprobs", Json::array()}});
    case DeltaType::thinking:
      return frame("response.reasoning_text.delta",
                   {{"item_id", id}, {"output_index", output_index}, {"content_index", 0}, {"delta", delta.text}});
    case DeltaType::input_json:
      item()["arguments"] = text_;
      return frame("response.function_call_arguments.delta", {{"item_id", id}, {"output_index", output_index}, {"delta", delta.text}});
    case DeltaType::signature: break;
  }
  return {};
}

std::string ResponsesWriter::close_item() {
  if (open_block_ < 0) return {};
  open_block_ = -1;
  std::string out;
  const size_t output_index = response_["output"].size() - 1;
  Json& it = item();
  const Json id = it["id"];
  const std::string type = it["type"];
  if (type == "message" || type == "reasoning") {
    const bool message = type == "message";
    Json part = content_part(message ? BlockKind::text : BlockKind::thinking, text_);
    Json done = {{"item_id", id}, {"output_index", output_index}, {"content_index", 0}, {"text", text_}};
    if (message) done["logprobs"] = Json::array();
    out += frame(message ? "response.output_text.done" : "response.reasoning_text.done", std::move(done));
    out += frame("response.content_part.done", {{"item_id", id}, {"output_index", output_index}, {"content_index", 0}, {"part", part}});
    it["content"].push_back(part);
    if (message) it["status"] = "completed";
  } else {
    it["arguments"] = text_;
    out += frame("response.function_call_arguments.done", {{"item_id", id}, {"output_index", output_index}, {"arguments", text_}});
    it["status"] = "completed";
  }
  out += frame("response.output_item.done", {{"output_index", output_index}, {"item", it}});
  return out;
}

std::string ResponsesWriter::event(const StreamEvent& e) {
  switch (e.type) {
    case StreamEventType::message_start: {
      response_["id"] = e.message_id;
      response_["model"] = e.model;
      std::string out = frame("response.created", {{"response", response_}});
      return out + frame("response.in_progress", {{"response", response_}});
    }
    case StreamEventType::content_block_start: return open_item(e);
    case StreamEventType::content_block_delta: return append_delta(e);
    case StreamEventType::content_block_stop: return close_item();
    case StreamEventType::message_delta: {
      std::string out = close_item();
      response_["usage"] = responses_usage_json(e.usage);
      if (e.stop_reason == StopReason::max_tokens) {
        response_["status"] = "incomplete";
        response_["incomplete_details"] = {{"reason", "max_output_tokens"}};
        return out + frame("response.incomplete", {{"response", response_}});
      }
      response_["status"] = "completed";
      return out + frame("response.completed", {{"response", response_}});
    }
    case StreamEventType::message_stop:
    case StreamEventType::ping:
    case StreamEventType::error: break;
  }
  return {};
}

std::string ResponsesWriter::failure(const ApiError& error) const {
  const Json e = openai_error_json(error);
  std::string out = frame("error", {{"code", e["code"]}, {"message", e["message"]}, {"param", e["param"]}});
  Json failed = response_;
  failed["status"] = "failed";
  failed["error"] = {{"code", e["code"].is_null() ? e["type"] : e["code"]}, {"message", e["message"]}};
  return out + frame("response.failed", {{"response", failed}});
}

}  // namespace hearth::api
