#include "api/response_encoding.h"

#include "util/error.h"

namespace hearth::api {

std::string_view stop_reason_name(StopReason reason) {
  switch (reason) {
    case StopReason::end_turn: return "end_turn";
    case StopReason::max_tokens: return "max_tokens";
    case StopReason::stop_sequence: return "stop_sequence";
    case StopReason::tool_use: return "tool_use";
  }
  return "end_turn";
}

namespace {

std::string_view event_name(StreamEventType type) {
  switch (type) {
    case StreamEventType::message_start: return "message_start";
    case StreamEventType::content_block_start: return "content_block_start";
    case StreamEventType::content_block_delta: return "content_block_delta";
    case StreamEventType::content_block_stop: return "content_block_stop";
    case StreamEventType::message_delta: return "message_delta";
    case StreamEventType::message_stop: return "message_stop";
    case StreamEventType::ping: return "ping";
    case StreamEventType::error: return "error";
  }
  return "ping";
}

Json content_block_json(const StreamEvent& e) {
  switch (e.block) {
    case BlockKind::text: return {{"type", "text"}, {"text", ""}};
    case BlockKind::thinking: return {{"type", "thinking"}, {"thinking", ""}, {"signature", ""}};
    case BlockKind::tool_use:
      return {{"type", "tool_use"}, {"id", e.tool_id}, {"name", e.tool_name}, {"input", Json::object()}};
  }
  return Json::object();
}

Json delta_json(const StreamEvent& e) {
  switch (e.delta) {
    case DeltaType::text: return {{"type", "text_delta"}, {"text", e.text}};
    case DeltaType::thinking: return {{"type", "thinking_delta"}, {"thinking", e.text}};
    case DeltaType::signature: return {{"type", "signature_delta"}, {"signature", e.text}};
    case DeltaType::input_json: return {{"type", "input_json_delta"}, {"partial_json", e.text}};
  }
  return Json::object();
}

Json stop_sequence_json(const std::optional<std::string>& s) { return s ? Json(*s) : Json(nullptr); }

}  // namespace

Json usage_json(const Usage& usage) {
  return {
      {"input_tokens", usage.input_tokens},
      {"cache_creation_input_tokens", usage.cache_creation_input_tokens},
      {"cache_read_input_tokens", usage.cache_read_input_tokens},
      {"output_tokens", usage.output_tokens},
  };
}

Json event_json(const StreamEvent& e) {
  Json j = {{"type", event_name(e.type)}};
  switch (e.type) {
    case StreamEventType::message_start:
      j["message"] = {
          {"id", e.message_id},        {"type", "message"},       {"role", "assistant"},
          {"model", e.model},          {"content", Json::array()}, {"stop_reason", nullptr},
          {"stop_sequence", nullptr},  {"usage", usage_json(e.usage)},
      };
      break;
    case StreamEventType::content_block_start:
      j["index"] = e.index;
      j["content_block"] = content_block_json(e);
      break;
    case StreamEventType::content_block_delta:
      j["index"] = e.index;
      j["delta"] = delta_json(e);
      break;
    case StreamEventType::content_block_stop:
      j["index"] = e.index;
      break;
    case StreamEventType::message_delta:
      j["delta"] = {{"stop_reason", stop_reason_name(e.stop_reason)}, {"stop_sequence", stop_sequence_json(e.stop_sequence)}};
      j["usage"] = usage_json(e.usage);
      break;
    case StreamEventType::error:
      j["error"] = {{"type", error_type_name(e.error_type)}, {"message", e.error_message}};
      break;
    case StreamEventType::message_stop:
    case StreamEventType::ping:
      break;
  }
  return j;
}

std::string encode_sse(const StreamEvent& event) {
  std::string frame = "event: ";
  frame += event_name(event.type);
  frame += "\ndata: ";
  // Event text comes from the model; replace rather than throw on bytes that are not UTF-8.
  frame += event_json(event).dump(-1, ' ', false, Json::error_handler_t::replace);
  frame += "\n\n";
  return frame;
}

void MessageAccumulator::apply(const StreamEvent& e) {
  switch (e.type) {
    case StreamEventType::message_start: {
      Json start = event_json(e)["message"];
      message_ = start;
      break;
    }
    case StreamEventType::content_block_start: {
      Json& content = message_["content"];
      if (int(content.size()) != e.index) throw Error("content_block_start out of order", ErrorKind::internal);
      content.push_back(content_block_json(e));
      if (e.block != BlockKind::thinking) content.back().erase("signature");
      partial_inputs_.resize(content.size());
      break;
    }
    case StreamEventType::content_block_delta: {
      Json& content = message_["content"];
      if (e.index < 0 || e.index >= int(content.size())) throw Error("delta for an unknown block", ErrorKind::internal);
      Json& block = content[size_t(e.index)];
      switch (e.delta) {
        case DeltaType::text: block["text"].get_ref<std::string&>() += e.text; break;
        case DeltaType::thinking: block["thinking"].get_ref<std::string&>() += e.text; break;
        case DeltaType::signature: block["signature"].get_ref<std::string&>() += e.text; break;
        case DeltaType::input_json: partial_inputs_[size_t(e.index)] += e.text; break;
      }
      break;
    }
    case StreamEventType::content_block_stop: {
      Json& content = message_["content"];
      if (e.index < 0 || e.index >= int(content.size())) throw Error("stop for an unknown block", ErrorKind::internal);
      Json& block = content[size_t(e.index)];
      const std::string& input = partial_inputs_[size_t(e.index)];
      if (block["type"] == "tool_use" && !input.empty()) {
        Json parsed = Json::parse(input, nullptr, false);
        if (parsed.is_discarded() || !parsed.is_object()) {
          throw Error("tool_use input did not assemble to a JSON object: " + input, ErrorKind::internal);
        }
        block["input"] = std::move(parsed);
      }
      break;
    }
    case StreamEventType::message_delta:
      message_["stop_reason"] = stop_reason_name(e.stop_reason);
      message_["stop_sequence"] = stop_sequence_json(e.stop_sequence);
      message_["usage"] = usage_json(e.usage);
      break;
    case StreamEventType::message_stop:
    case StreamEventType::ping:
    case StreamEventType::error:
      break;
  }
}

Json MessageAccumulator::message() const { return message_; }

std::string AnthropicMessageWriter::event(const StreamEvent& event) {
  if (!streaming_) {
    accumulator_.apply(event);
    return {};
  }
  std::string bytes = encode_sse(event);
  // A ping right after message_start, as the Anthropic API sends one.
  if (event.type == StreamEventType::message_start) bytes += keepalive();
  return bytes;
}

std::string AnthropicMessageWriter::keepalive() const {
  StreamEvent ping;
  ping.type = StreamEventType::ping;
  return encode_sse(ping);
}

std::string AnthropicMessageWriter::failure(const ApiError& error) const {
  StreamEvent e;
  e.type = StreamEventType::error;
  e.error_type = error.type();
  e.error_message = error.what();
  return encode_sse(e);
}

}  // namespace hearth::api
