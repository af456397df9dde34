#include "api/openai_chat_encoding.h"

#include "api/openai_errors.h"

namespace hearth::api {

int64_t prompt_tokens_of(const Usage& usage) {
  return usage.input_tokens + usage.cache_read_input_tokens + usage.cache_creation_input_tokens;
}

Json chat_usage_json(const Usage& usage) {
  const int64_t prompt = prompt_tokens_of(usage);
  return {
      {"prompt_tokens", prompt},
      {"completion_tokens", usage.output_tokens},
      {"total_tokens", prompt + usage.output_tokens},
      {"prompt_tokens_details", {{"cached_tokens", usage.cache_read_input_tokens}}},
  };
}

std::string_view chat_finish_reason(StopReason reason) {
  switch (reason) {
    case StopReason::end_turn:
    case StopReason::stop_sequence: return "stop";
    case StopReason::max_tokens: return "length";
    case StopReason::tool_use: return "tool_calls";
  }
  return "stop";
}

ChatCompletionWriter::ChatCompletionWriter(bool streaming, bool include_usage, int64_t created)
    : streaming_(streaming), include_usage_(include_usage), created_(created) {}

Json ChatCompletionWriter::chunk(Json delta, Json finish_reason) const {
  Json choice = {{"index", 0}, {"delta", std::move(delta)}, {"logprobs", nullptr}, {"finish_reason", std::move(finish_reason)}};
  Json c = {{"id", id_}, {"object", "chat.completion.chunk"}, {"created", created_}, {"model", model_},
            {"choices", Json::array({std::move(choice)})}};
  // With include_usage every chunk carries `usage`, null until the last one (OpenAI's shape).
  if (include_usage_) c["usage"] = nullptr;
  return c;
}

std::string ChatCompletionWriter::frame(const Json& chunk) const {
  // Text comes from the model; replace rather than throw on bytes that are not UTF-8.
  return "data: " + chunk.dump(-1, ' ', false, Json::error_handler_t::replace) + "\n\n";
}

std::string ChatCompletionWriter::event(const StreamEvent& e) {
  std::string out;
  auto send = [&](Json delta, Json finish = nullptr) {
    if (streaming_) out += frame(chunk(std::move(delta), std::move(finish)));
  };
  switch (e.type) {
    case StreamEventType::message_start:
      id_ = e.message_id;
      model_ = e.model;
      send({{"role", "assistant"}, {"content", ""}});
      break;
    case StreamEventType::content_block_start:
      if (e.block == BlockKind::tool_use) {
        tool_block_ = e.index;
        Json call = {{"index", tool_calls_.size()}, {"id", e.tool_id}, {"type", "function"},
                     {"function", {{"name", e.tool_name}, {"arguments", ""}}}};
        tool_calls_.push_back(call);
        tool_calls_.back().erase("index");
        send({{"tool_calls", Json::array({call})}});
      }
      break;
    case StreamEventType::content_block_delta:
      switch (e.delta) {
        case DeltaType::text:
          content_ += e.text;
          send({{"content", e.text}});
          break;
        case DeltaType::thinking:
          reasoning_ += e.text;
          send({{"reasoning_content", e.text}});
          break;
        case DeltaType::input_json:
          if (e.index != tool_block_ || tool_calls_.empty()) break;
          tool_calls_.back()["function"]["arguments"].get_ref<std::string&>() += e.text;
          send({{"tool_calls", Json::array({{{"index", tool_calls_.size() - 1}, {"function", {{"arguments", e.text}}}}})}});
          break;
        case DeltaType::signature:  // Anthropic's proof of thinking; OpenAI has no such field
          break;
      }
      break;
    case StreamEventType::message_delta:
      finish_reason_ = chat_finish_reason(e.stop_reason);
      usage_ = e.usage;
      send(Json::object(), finish_reason_);
      if (streaming_ && include_usage_) {
        Json last = chunk(Json::object(), nullptr);
        last["choices"] = Json::array();
        last["usage"] = chat_usage_json(usage_);
        out += frame(last);
      }
      break;
    case StreamEventType::content_block_stop:
    case StreamEventType::message_stop:
    case StreamEventType::ping:
    case StreamEventType::error:
      break;
  }
  return out;
}

Json ChatCompletionWriter::body() const {
  Json message = {{"role", "assistant"}, {"content", content_.empty() && !tool_calls_.empty() ? Json(nullptr) : Json(content_)}};
  if (!reasoning_.empty()) message["reasoning_content"] = reasoning_;
  if (!tool_calls_.empty()) message["tool_calls"] = tool_calls_;
  message["refusal"] = nullptr;
  Json choice = {{"index", 0}, {"message", std::move(message)}, {"logprobs", nullptr}, {"finish_reason", finish_reason_}};
  return {{"id", id_},       {"object", "chat.completion"},          {"created", created_},
          {"model", model_}, {"choices", Json::array({std::move(choice)})}, {"usage", chat_usage_json(usage_)}};
}

std::string ChatCompletionWriter::failure(const ApiError& error) const {
  // The OpenAI SDKs throw on a streamed `data:` whose object has an `error`.
  return frame(Json{{"error", openai_error_json(error)}});
}

}  // namespace hearth::api
