#pragma once
// Stream events → Anthropic wire format: one SSE frame per event, or a whole message JSON assembled
// from the events (the non-streaming response).
#include <string>

#include "api/generation_writer.h"
#include "api/stream_events.h"
#include "api/types.h"

namespace hearth::api {

// "event: <type>\ndata: <json>\n\n"
std::string encode_sse(const StreamEvent& event);
// The `data` JSON of an event (exposed for tests).
Json event_json(const StreamEvent& event);
Json usage_json(const Usage& usage);

// Builds the non-streaming response body from the event sequence.
class MessageAccumulator {
 public:
  void apply(const StreamEvent& event);
  // The message; throws hearth::Error(internal) if a tool_use input did not assemble to a JSON object.
  Json message() const;

 private:
  Json message_ = Json::object();
  std::vector<std::string> partial_inputs_;  // per block index, tool_use input fragments
};

// The Anthropic Messages wire format as a GenerationWriter: SSE frames (a ping after message_start) when
// streaming, the accumulated message otherwise.
class AnthropicMessageWriter : public GenerationWriter {
 public:
  explicit AnthropicMessageWriter(bool streaming) : streaming_(streaming) {}
  std::string event(const StreamEvent& event) override;
  Json body() const override { return accumulator_.message(); }
  std::string keepalive() const override;
  std::string failure(const ApiError& error) const override;

 private:
  bool streaming_;
  MessageAccumulator accumulator_;  // only fed when not streaming
};

}  // namespace hearth::api
