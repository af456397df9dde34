#pragma once
// Stream events → OpenAI Responses: the `response` object (non-streaming), or its semantic SSE events
// (streaming): response.created / in_progress, then per output item output_item.added, its deltas
// (output_text, reasoning_text, function_call_arguments), its .done events and output_item.done, and
// finally response.completed (or response.incomplete when the output budget ran out). Text becomes a
// `message` item, thinking a `reasoning` item (reasoning_text content), each tool call a `function_call`.
#include <cstdint>
#include <string>

#include "api/generation_writer.h"

namespace hearth::api {

Json responses_usage_json(const Usage& usage);

class ResponsesWriter : public GenerationWriter {
 public:
  // `echo`: request fields the response repeats (ResponsesRequest::echo); `created_at`: Unix seconds.
  ResponsesWriter(bool streaming, Json echo, int64_t created_at);
  std::string event(const StreamEvent& event) override;
  Json body() const override { return response_; }
  std::string keepalive() const override { return ": keep-alive\n\n"; }  // an SSE comment
  std::string failure(const ApiError& error) const override;

 private:
  // One SSE event; `payload` gets its type and sequence number.
  std::string frame(std::string_view type, Json payload) const;
  std::string open_item(const StreamEvent& start);
  std::string append_delta(const StreamEvent& delta);
  std::string close_item();
  Json& item() { return response_["output"].back(); }

  bool streaming_;
  int64_t created_at_;
  Json response_ = Json::object();
  int open_block_ = -1;            // content block index of the open output item, -1: none
  std::string text_;               // of the open item (message text, reasoning, arguments)
  mutable int64_t sequence_ = 0;   // sequence_number of the next streamed event
};

}  // namespace hearth::api
