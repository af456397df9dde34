// Chat-layer events → the Anthropic event sequence: block numbering, ids, signatures, stop sequences,
// stop reasons, and the JSON/SSE encodings of the result.
#include <gtest/gtest.h>

#include "api/message_composer.h"
#include "api/response_encoding.h"

namespace hearth::api {
namespace {

ContentEvent start(BlockKind k, std::string tool = {}) { return {EventType::block_start, k, "", std::move(tool)}; }
ContentEvent delta(BlockKind k, std::string text) { return {EventType::block_delta, k, std::move(text), ""}; }
ContentEvent end(BlockKind k) { return {EventType::block_end, k, "", ""}; }

struct Recorder {
  std::vector<StreamEvent> events;
  ThinkingSigner signer{"test-key"};
  MessageComposer composer;
  explicit Recorder(std::vector<std::string> stops = {})
      : composer(ComposerOptions{"m", std::move(stops), &signer}, [this](const StreamEvent& e) { events.push_back(e); }) {}
  std::vector<std::string> types() const {
    std::vector<std::string> out;
    for (const auto& e : events) out.push_back(event_json(e)["type"].get<std::string>());
    return out;
  }
  Json message() const {
    MessageAccumulator acc;
    for (const auto& e : events) acc.apply(e);
    return acc.message();
  }
};

TEST(MessageComposer, FullSequenceForThinkingTextAndToolUse) {
  Recorder r;
  r.composer.start(Usage{.input_tokens = 7});
  r.composer.push(start(BlockKind::thinking));
  r.composer.push(delta(BlockKind::thinking, "plan"));
  r.composer.push(end(BlockKind::thinking));
  r.composer.push(start(BlockKind::text));
  r.composer.push(delta(BlockKind::text, "Let me check."));
  r.composer.push(end(BlockKind::text));
  r.composer.push(start(BlockKind::tool_use, "Bash"));
  r.composer.push(delta(BlockKind::tool_use, "{\"command\":"));
  r.composer.push(delta(BlockKind::tool_use, "\"ls\"}"));
  r.composer.push(end(BlockKind::tool_use));
  r.composer.finish(GenerationEnd::end_turn, Usage{.input_tokens = 7, .output_tokens = 12});

  EXPECT_EQ(r.types(), (std::vector<std::string>{
                           "message_start", "content_block_start", "content_block_delta", "content_block_delta",
                           "content_block_stop", "content_block_start", "content_block_delta", "content_block_stop",
                           "content_block_start", "content_block_delta", "content_block_delta", "content_block_stop",
                           "message_delta", "message_stop"}));
  Json m = r.message();
  ASSERT_EQ(m["content"].size(), 3u);
  EXPECT_EQ(m["content"][0]["thinking"], "plan");
  EXPECT_TRUE(r.signer.verify("plan", m["content"][0]["signature"].get<std::string>()));
  EXPECT_EQ(m["content"][1]["text"], "Let me check.");
  EXPECT_FALSE(m["content"][1].contains("signature"));
  EXPECT_EQ(m["content"][2]["name"], "Bash");
  EXPECT_TRUE(m["content"][2]["id"].get<std::string>().starts_with("toolu_"));
  EXPECT_EQ(m["content"][2]["input"]["command"], "ls");
  EXPECT_EQ(m["stop_reason"], "tool_use");
  EXPECT_EQ(m["usage"]["output_tokens"], 12);
  EXPECT_EQ(m["usage"]["input_tokens"], 7);
}

TEST(MessageComposer, EmptyTextAndThinkingBlocksAreNeverOpened) {
  Recorder r;
  r.composer.start({});
  r.composer.push(start(BlockKind::thinking));
  r.composer.push(end(BlockKind::thinking));
  r.composer.push(start(BlockKind::text));
  r.composer.push(delta(BlockKind::text, ""));
  r.composer.push(end(BlockKind::text));
  r.composer.finish(GenerationEnd::end_turn, {});
  EXPECT_EQ(r.types(), (std::vector<std::string>{"message_start", "message_delta", "message_stop"}));
  EXPECT_EQ(r.message()["stop_reason"], "end_turn");
}

TEST(MessageComposer, StopSequenceSplitOverDeltasEndsTheMessageAndIsNamed) {
  Recorder r({"</answer>"});
  r.composer.start({});
  r.composer.push(start(BlockKind::text));
  EXPECT_TRUE(r.composer.push(delta(BlockKind::text, "42</ans")));
  EXPECT_FALSE(r.composer.push(delta(BlockKind::text, "wer> and more")));
  EXPECT_FALSE(r.composer.push(delta(BlockKind::text, "ignored")));
  r.composer.finish(GenerationEnd::stopped, {});
  Json m = r.message();
  EXPECT_EQ(m["content"][0]["text"], "42");
  EXPECT_EQ(m["stop_reason"], "stop_sequence");
  EXPECT_EQ(m["stop_sequence"], "</answer>");
}

TEST(MessageComposer, HeldBackTextIsFlushedAtBlockEnd) {
  Recorder r({"STOP"});
  r.composer.start({});
  r.composer.push(start(BlockKind::text));
  r.composer.push(delta(BlockKind::text, "ends with ST"));
  r.composer.push(end(BlockKind::text));
  r.composer.finish(GenerationEnd::end_turn, {});
  EXPECT_EQ(r.message()["content"][0]["text"], "ends with ST");
  EXPECT_EQ(r.message()["stop_sequence"], nullptr);
}

TEST(MessageComposer, MaxTokensWinsOverToolUseAndOpenBlocksAreClosed) {
  Recorder r;
  r.composer.start({});
  r.composer.push(start(BlockKind::text));
  r.composer.push(delta(BlockKind::text, "partial"));
  r.composer.finish(GenerationEnd::max_tokens, {});
  EXPECT_EQ(r.types().back(), "message_stop");
  EXPECT_EQ(r.types()[r.types().size() - 3], "content_block_stop");
  EXPECT_EQ(r.message()["stop_reason"], "max_tokens");
}

TEST(MessageComposer, ParallelToolCallsGetDistinctIds) {
  Recorder r;
  r.composer.start({});
  for (int i = 0; i < 2; ++i) {
    r.composer.push(start(BlockKind::tool_use, "Read"));
    r.composer.push(delta(BlockKind::tool_use, "{}"));
    r.composer.push(end(BlockKind::tool_use));
  }
  r.composer.finish(GenerationEnd::end_turn, {});
  Json m = r.message();
  ASSERT_EQ(m["content"].size(), 2u);
  EXPECT_NE(m["content"][0]["id"], m["content"][1]["id"]);
  EXPECT_EQ(m["content"][1]["input"], Json::object());
  EXPECT_EQ(r.composer.tool_calls(), 2);
}

TEST(MessageComposer, OnlyOneMessageStart) {
  Recorder r;
  r.composer.start({});
  r.composer.start({});
  r.composer.finish(GenerationEnd::end_turn, {});
  const std::vector<std::string> types = r.types();
  EXPECT_EQ(std::count(types.begin(), types.end(), "message_start"), 1);
}

TEST(SseEncoding, FramesCarryEventNameAndOneLineOfJson) {
  StreamEvent e;
  e.type = StreamEventType::content_block_delta;
  e.index = 2;
  e.delta = DeltaType::text;
  e.text = "line1\nline2";
  EXPECT_EQ(encode_sse(e),
            "event: content_block_delta\n"
            "data: {\"type\":\"content_block_delta\",\"index\":2,\"delta\":{\"type\":\"text_delta\",\"text\":\"line1\\nline2\"}}\n\n");
  StreamEvent err;
  err.type = StreamEventType::error;
  err.error_type = ErrorType::overloaded_error;
  err.error_message = "busy";
  EXPECT_EQ(encode_sse(err),
            "event: error\ndata: {\"type\":\"error\",\"error\":{\"type\":\"overloaded_error\",\"message\":\"busy\"}}\n\n");
}

TEST(SseEncoding, MessageDeltaCarriesStopSequenceAndFullUsage) {
  StreamEvent e;
  e.type = StreamEventType::message_delta;
  e.stop_reason = StopReason::stop_sequence;
  e.stop_sequence = "END";
  e.usage = {.input_tokens = 1, .output_tokens = 2, .cache_creation_input_tokens = 3, .cache_read_input_tokens = 4};
  Json j = event_json(e);
  EXPECT_EQ(j["delta"]["stop_reason"], "stop_sequence");
  EXPECT_EQ(j["delta"]["stop_sequence"], "END");
  EXPECT_EQ(j["usage"]["cache_read_input_tokens"], 4);
  EXPECT_EQ(j["usage"]["cache_creation_input_tokens"], 3);
}

TEST(SseEncoding, InvalidUtf8FromTheModelIsReplacedNotThrown) {
  StreamEvent e;
  e.type = StreamEventType::content_block_delta;
  e.text = "bad \xff byte";
  EXPECT_NE(encode_sse(e).find("bad \xEF\xBF\xBD byte"), std::string::npos);
}

TEST(ErrorBody, HasAnthropicShape) {
  Json j = Json::parse(error_body(ErrorType::not_found_error, "model: unknown", "req_1"));
  EXPECT_EQ(j["type"], "error");
  EXPECT_EQ(j["error"]["type"], "not_found_error");
  EXPECT_EQ(j["error"]["message"], "model: unknown");
  EXPECT_EQ(j["request_id"], "req_1");
  EXPECT_EQ(http_status(ErrorType::overloaded_error), 529);
  EXPECT_EQ(http_status(ErrorType::request_too_large), 413);
  EXPECT_EQ(error_type_for(ErrorKind::prompt_too_long), ErrorType::invalid_request_error);
}

TEST(ErrorBody, HugeMessagesAreShortenedOnACharacterBoundary) {
  std::string message = "model: unknown model '" + std::string(3000, 'x') + "\xC3\xA9" + std::string(10'000'000, 'y') + "'";
  Json j = Json::parse(error_body(ErrorType::not_found_error, message));
  std::string shown = j["error"]["message"];
  EXPECT_LT(shown.size(), 2200u);
  EXPECT_NE(shown.find("bytes)"), std::string::npos);
}

}  // namespace
}  // namespace hearth::api
