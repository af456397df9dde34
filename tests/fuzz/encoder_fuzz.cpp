// libFuzzer target for the response encoders: an arbitrary sequence of the chat layer's content events
// (blocks opened and closed in any order, deltas of any text, tool names, stop sequences that cut text)
// goes through MessageComposer into the SSE encoder and the non-streaming MessageAccumulator, as
// api_server does. Checks:
//  - nothing but hearth::Error escapes, and never from the SSE encoder;
//  - every SSE frame is "event: T\ndata: JSON\n\n" with JSON of that type, and valid UTF-8 (even when the
//    event text is not);
//  - the event sequence the composer makes is well formed: message_start first, blocks numbered from 0
//    and opened/closed in pairs with deltas only inside, message_delta then message_stop last;
//  - the accumulator accepts that sequence (its only permitted refusal: a tool input that is not a JSON
//    object), and its message serialises as api_server sends it (invalid UTF-8 replaced).
#include <cstdint>
#include <string>
#include <vector>

#include "api/message_composer.h"
#include "api/response_encoding.h"
#include "api/thinking_signature.h"
#include "fuzz_util.h"
#include "util/error.h"
#include "util/utf8.h"

namespace {

using hearth::BlockKind;
using hearth::ContentEvent;
using hearth::EventType;
using hearth::api::StreamEvent;
using hearth::api::StreamEventType;
using hearth::fuzz::fail;

const char* const kPieces[] = {"{", "}", "\"a\"", ":", "1", ",", "[", "]", "\"x\\\"y\"", "null", "STOP", "ST", "OP",
                               "\n", " ", "é", "\xC3", "\xA9", "😀", "\xF0\x9F", "</", "\\u00e9"};

std::string event_name(StreamEventType t) {
  switch (t) {
    case StreamEventType::message_start: return "message_start";
    case StreamEventType::content_block_start: return "content_block_start";
    case StreamEventType::content_block_delta: return "content_block_delta";
    case StreamEventType::content_block_stop: return "content_block_stop";
    case StreamEventType::message_delta: return "message_delta";
    case StreamEventType::message_stop: return "message_stop";
    case StreamEventType::ping: return "ping";
    case StreamEventType::error: return "error";
  }
  return "?";
}

// Order checks over the composer's output.
struct SequenceChecker {
  bool started = false, delta_sent = false, stopped = false, failed = false;
  int next_index = 0, open = -1;

  void check(const StreamEvent& e) {
    if (stopped) fail("event after message_stop");
    if (failed) fail("event after error");
    if (e.type != StreamEventType::message_start && e.type != StreamEventType::error && !started) fail("event before message_start");
    switch (e.type) {
      case StreamEventType::message_start:
        if (started) fail("second message_start");
        started = true;
        break;
      case StreamEventType::content_block_start:
        if (open >= 0) fail("block opened inside another");
        if (e.index != next_index) fail("block index out of order");
        open = next_index++;
        break;
      case StreamEventType::content_block_delta:
        if (open < 0 || e.index != open) fail("delta outside its block");
        break;
      case StreamEventType::content_block_stop:
        if (open < 0 || e.index != open) fail("stop of a block that is not open");
        open = -1;
        break;
      case StreamEventType::message_delta:
        if (open >= 0) fail("message_delta with a block open");
        delta_sent = true;
        break;
      case StreamEventType::message_stop:
        if (!delta_sent) fail("message_stop without message_delta");
        stopped = true;
        break;
      case StreamEventType::error: failed = true; break;
      case StreamEventType::ping: break;
    }
  }
};

void check_frame(const StreamEvent& e) {
  std::string frame;
  try {
    frame = hearth::api::encode_sse(e);
  } catch (const std::exception& x) {
    fail(std::string("encode_sse threw: ") + x.what());
  }
  const std::string head = "event: " + event_name(e.type) + "\ndata: ";
  if (frame.rfind(head, 0) != 0 || frame.size() < head.size() + 2 || frame.substr(frame.size() - 2) != "\n\n") {
    fail("malformed SSE frame: " + frame);
  }
  const std::string data = frame.substr(head.size(), frame.size() - head.size() - 2);
  if (data.find('\n') != std::string::npos) fail("newline inside an SSE data line");
  hearth::api::Json parsed;
  try {
    parsed = hearth::api::Json::parse(data);
  } catch (const std::exception& x) {
    fail("SSE data is not JSON: " + data);
  }
  if (!parsed.is_object() || parsed.value("type", "") != event_name(e.type)) fail("SSE data type differs: " + data);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const hearth::api::ThinkingSigner signer("fuzz-key");
  hearth::fuzz::ByteReader in(data, size);
  hearth::api::ComposerOptions options;
  options.model = hearth::utf8::sanitize(in.text(8));  // the request's model name: parsed JSON, valid UTF-8
  options.signer = &signer;
  for (int n = in.byte() % 3; n > 0; --n) {
    std::string stop = in.text(6);
    if (!stop.empty()) options.stop_sequences.push_back(stop);
  }
  std::vector<StreamEvent> events;
  SequenceChecker order;
  hearth::api::MessageComposer composer(options, [&](const StreamEvent& e) {
    order.check(e);
    check_frame(e);
    events.push_back(e);
  });
  try {
    composer.start({});
    bool more = true;
    while (more && !in.empty()) {
      const uint8_t op = in.byte();
      ContentEvent ev;
      ev.kind = static_cast<BlockKind>(op % 3);
      switch ((op >> 2) % 4) {
        case 0:
          ev.type = EventType::block_start;
          if (ev.kind == BlockKind::tool_use) ev.tool_name = in.text(12);
          break;
        case 1: ev.type = EventType::block_end; break;
        default: {
          ev.type = EventType::block_delta;
          const uint8_t piece = in.byte();
          ev.text = piece < sizeof(kPieces) / sizeof(kPieces[0]) ? std::string(kPieces[piece]) : in.text(16);
          break;
        }
      }
      more = composer.push(ev);
    }
    const uint8_t end = in.byte();
    if (end % 7 == 6) {
      composer.fail(hearth::api::ErrorType::overloaded_error, in.text(16));
      return 0;
    }
    composer.finish(static_cast<hearth::api::GenerationEnd>(end % 4), {});
  } catch (const hearth::Error&) {
    return 0;  // a sequence the chat layer never makes may be refused, as long as nothing breaks
  } catch (const std::exception& e) {
    fail(std::string("unexpected exception: ") + e.what());
  }
  if (!order.stopped) fail("finish() did not end with message_stop");
  hearth::api::MessageAccumulator accumulator;
  try {
    for (const StreamEvent& e : events) accumulator.apply(e);
    // As api_server sends it: text that is not UTF-8 is replaced, never a reason to fail the response.
    const std::string body = accumulator.message().dump(-1, ' ', false, hearth::api::Json::error_handler_t::replace);
    if (!hearth::utf8::is_valid(body)) fail("non-streaming body is not valid UTF-8");
  } catch (const hearth::Error& e) {
    if (std::string(e.what()).find("tool_use input") == std::string::npos) fail(std::string("accumulator refused: ") + e.what());
  } catch (const std::exception& e) {
    fail(std::string("accumulator threw: ") + e.what());
  }
  return 0;
}
