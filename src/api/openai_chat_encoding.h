#pragma once
// Stream events → OpenAI Chat Completions: `chat.completion.chunk` SSE frames ("data: {...}", ending with
// "data: [DONE]") when streaming, one `chat.completion` object otherwise. Text is `content`, thinking
// `reasoning_content`, tool calls `tool_calls` (numbered in order, arguments streamed as they come).
#include <cstdint>
#include <string>
#include <vector>

#include "api/generation_writer.h"

namespace hearth::api {

// The whole prompt as OpenAI counts it, and the part of it read from the prompt cache.
int64_t prompt_tokens_of(const Usage& usage);

class ChatCompletionWriter : public GenerationWriter {
 public:
  // `created`: Unix seconds, the same on every chunk.
  ChatCompletionWriter(bool streaming, bool include_usage, int64_t created);
  std::string event(const StreamEvent& event) override;
  Json body() const override;
  std::string keepalive() const override { return ": keep-alive\n\n"; }  // an SSE comment
  std::string failure(const ApiError& error) const override;
  std::string end() const override { return "data: [DONE]\n\n"; }

 private:
  Json chunk(Json delta, Json finish_reason) const;
  std::string frame(const Json& chunk) const;

  bool streaming_;
  bool include_usage_;
  int64_t created_;
  std::string id_;
  std::string model_;
  int tool_block_ = -1;  // content block index of the tool call being streamed
  std::string content_;
  std::string reasoning_;
  Json tool_calls_ = Json::array();  // arguments accumulate in place
  std::string finish_reason_;
  Usage usage_;
};

Json chat_usage_json(const Usage& usage);
std::string_view chat_finish_reason(StopReason reason);

}  // namespace hearth::api
