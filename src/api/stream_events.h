#pragma once
// The Anthropic streaming events of one message, as plain structs. The same sequence feeds the SSE
// encoder (stream: true) and the message accumulator (stream: false), so both paths agree.
#include <optional>
#include <string>

#include "api/backend.h"
#include "api/errors.h"
#include "util/content_events.h"

namespace hearth::api {

enum class StopReason { end_turn, max_tokens, stop_sequence, tool_use };
std::string_view stop_reason_name(StopReason reason);

enum class StreamEventType {
  message_start,
  content_block_start,
  content_block_delta,
  content_block_stop,
  message_delta,
  message_stop,
  ping,
  error,
};

enum class DeltaType { text, thinking, signature, input_json };

// A flat struct: only the fields of `type` are meaningful.
struct StreamEvent {
  StreamEventType type = StreamEventType::ping;
  std::string message_id;                     // message_start
  std::string model;                          // message_start
  Usage usage;                                // message_start (prompt side), message_delta (final)
  int index = 0;                              // content_block_*
  BlockKind block = BlockKind::text;  // content_block_start
  std::string tool_id;                        // content_block_start of tool_use
  std::string tool_name;                      // content_block_start of tool_use
  DeltaType delta = DeltaType::text;          // content_block_delta
  std::string text;                           // content_block_delta: the text / fragment / signature
  StopReason stop_reason = StopReason::end_turn;  // message_delta
  std::optional<std::string> stop_sequence;   // message_delta
  ErrorType error_type = ErrorType::api_error;    // error
  std::string error_message;                  // error
};

}  // namespace hearth::api
