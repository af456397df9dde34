#include "api/message_composer.h"

#include "api/ids.h"
#include "util/error.h"

namespace hearth::api {

MessageComposer::MessageComposer(ComposerOptions options, Emit emit)
    : options_(std::move(options)),
      emit_(std::move(emit)),
      matcher_(options_.stop_sequences),
      message_id_(new_id(options_.message_id_prefix)) {}

void MessageComposer::start(const Usage& prompt_usage) {
  if (started_) return;  // one message_start per message, whatever the caller does
  started_ = true;
  StreamEvent e;
  e.type = StreamEventType::message_start;
  e.message_id = message_id_;
  e.model = options_.model;
  e.usage = prompt_usage;
  e.usage.output_tokens = 0;
  emit_(e);
}

void MessageComposer::open_block(BlockKind kind, const std::string& tool_name) {
  StreamEvent e;
  e.type = StreamEventType::content_block_start;
  e.index = next_index_;
  e.block = kind;
  if (kind == BlockKind::tool_use) {
    e.tool_id = new_id(options_.tool_id_prefix);
    e.tool_name = tool_name;
    ++tool_calls_;
  }
  emit_(e);
  current_open_ = true;
}

void MessageComposer::emit_delta(DeltaType type, std::string text) {
  StreamEvent e;
  e.type = StreamEventType::content_block_delta;
  e.index = next_index_;
  e.delta = type;
  e.text = std::move(text);
  emit_(e);
}

void MessageComposer::emit_text(std::string text) {
  if (text.empty()) return;
  if (!current_open_) open_block(BlockKind::text);
  emit_delta(DeltaType::text, std::move(text));
}

void MessageComposer::close_block() {
  if (!current_) return;
  if (*current_ == BlockKind::text) emit_text(matcher_.flush());
  if (*current_ == BlockKind::thinking && current_open_) {
    if (!options_.signer) throw Error("thinking block without a signer", ErrorKind::internal);
    emit_delta(DeltaType::signature, options_.signer->sign(thinking_text_));
  }
  if (current_open_) {
    StreamEvent e;
    e.type = StreamEventType::content_block_stop;
    e.index = next_index_++;
    emit_(e);
  }
  current_.reset();
  current_open_ = false;
  thinking_text_.clear();
}

bool MessageComposer::push(const ContentEvent& event) {
  if (finished_ || matched_stop_) return false;
  switch (event.type) {
    case EventType::block_start:
      close_block();  // a well-behaved parser has closed it already
      current_ = event.kind;
      if (event.kind == BlockKind::tool_use) open_block(event.kind, event.tool_name);
      break;
    case EventType::block_delta:
      if (!current_ || *current_ != event.kind) {  // a delta with no start: treat it as opening one
        close_block();
        current_ = event.kind;
        if (event.kind == BlockKind::tool_use) open_block(event.kind, event.tool_name);
      }
      if (event.text.empty()) break;
      if (event.kind == BlockKind::text) {
        StopSequenceMatcher::Result r = matcher_.push(event.text);
        emit_text(std::move(r.text));
        if (r.matched) {
          matched_stop_ = r.matched;
          close_block();
          return false;
        }
      } else if (event.kind == BlockKind::thinking) {
        if (!current_open_) open_block(BlockKind::thinking);
        thinking_text_ += event.text;
        emit_delta(DeltaType::thinking, event.text);
      } else {
        emit_delta(DeltaType::input_json, event.text);
      }
      break;
    case EventType::block_end:
      close_block();
      break;
  }
  return true;
}

void MessageComposer::finish(GenerationEnd end, const Usage& usage) {
  if (finished_) return;
  start(usage);
  close_block();
  finished_ = true;
  StreamEvent delta;
  delta.type = StreamEventType::message_delta;
  delta.usage = usage;
  if (matched_stop_) {
    delta.stop_reason = StopReason::stop_sequence;
    delta.stop_sequence = options_.stop_sequences[*matched_stop_];
  } else if (end == GenerationEnd::max_tokens) {
    delta.stop_reason = StopReason::max_tokens;
  } else if (tool_calls_ > 0) {
    delta.stop_reason = StopReason::tool_use;
  } else {
    delta.stop_reason = StopReason::end_turn;
  }
  emit_(delta);
  StreamEvent stop;
  stop.type = StreamEventType::message_stop;
  emit_(stop);
}

void MessageComposer::fail(ErrorType type, const std::string& message) {
  if (finished_) return;
  finished_ = true;
  StreamEvent e;
  e.type = StreamEventType::error;
  e.error_type = type;
  e.error_message = message;
  emit_(e);
}

}  // namespace hearth::api
