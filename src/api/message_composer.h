#pragma once
// Turns the chat layer's content events into the Anthropic event sequence of one message: numbers the
// blocks, gives tool calls `toolu_` ids, signs thinking blocks, applies stop sequences to text, never
// opens an empty text or thinking block, and picks the stop_reason.
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "api/backend.h"
#include "api/stop_sequences.h"
#include "api/stream_events.h"
#include "api/thinking_signature.h"
#include "util/content_events.h"

namespace hearth::api {

struct ComposerOptions {
  std::string model;                        // echoed in message_start
  std::vector<std::string> stop_sequences;
  const ThinkingSigner* signer = nullptr;   // required when thinking blocks can occur
  std::string message_id_prefix = "msg_";   // ids in the caller's wire format (OpenAI: chatcmpl-, call_)
  std::string tool_id_prefix = "toolu_";
};

class MessageComposer {
 public:
  using Emit = std::function<void(const StreamEvent&)>;
  MessageComposer(ComposerOptions options, Emit emit);

  void start(const Usage& prompt_usage);                 // message_start
  // Returns false once a stop sequence matched: the caller should stop generating.
  bool push(const ContentEvent& event);
  // Closes the open block and sends message_delta + message_stop.
  void finish(GenerationEnd end, const Usage& usage);
  // Mid-stream failure: closes nothing (the message is abandoned) and sends an `error` event.
  void fail(ErrorType type, const std::string& message);

  const std::string& message_id() const { return message_id_; }
  int tool_calls() const { return tool_calls_; }

 private:
  void open_block(BlockKind kind, const std::string& tool_name = {});
  void close_block();
  void emit_delta(DeltaType type, std::string text);
  void emit_text(std::string text);

  ComposerOptions options_;
  Emit emit_;
  StopSequenceMatcher matcher_;
  std::string message_id_;
  int next_index_ = 0;
  bool started_ = false;
  bool finished_ = false;
  // The chat layer's current block, and whether its Anthropic block has been opened yet (text and
  // thinking blocks open lazily, on their first non-empty delta).
  std::optional<BlockKind> current_;
  bool current_open_ = false;
  std::string thinking_text_;                 // of the current thinking block, for its signature
  std::optional<size_t> matched_stop_;        // index into options_.stop_sequences
  int tool_calls_ = 0;
};

}  // namespace hearth::api
