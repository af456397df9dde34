#include "bench/transcript.h"

#include <gtest/gtest.h>

#include "util/error.h"

namespace hearth::bench {
namespace {

// Lines shaped like Claude Code's stream-json output: one "assistant" line per content block, all
// carrying the message id.
const char* kFinished = R"({"type":"system","subtype":"init","session_id":"sess-1","tools":["Bash"]}
{"type":"assistant","message":{"id":"msg_1","content":[{"type":"thinking","thinking":"plan"}]},"session_id":"sess-1"}
{"type":"assistant","message":{"id":"msg_1","content":[{"type":"tool_use","id":"toolu_a","name":"Bash","input":{}}]},"session_id":"sess-1"}
{"type":"user","message":{"role":"user","content":[{"type":"tool_result","tool_use_id":"toolu_a","content":"ok"}]}}
{"type":"assistant","message":{"id":"msg_2","content":[{"type":"tool_use","id":"toolu_b","name":"Write","input":{}},{"type":"tool_use","id":"toolu_c","name":"Bash","input":{}}]}}
{"type":"assistant","message":{"id":"msg_3","content":[{"type":"text","text":"done"}]}}
{"type":"result","subtype":"success","is_error":false,"num_turns":3,"duration_ms":1234.5,"session_id":"sess-1"}
)";

TEST(BenchTranscript, CountsTurnsFromResultAndDistinctToolCallsByName) {
  TranscriptSummary s = summarize_transcript_text(kFinished);
  EXPECT_EQ(s.session_id, "sess-1");
  EXPECT_TRUE(s.finished);
  EXPECT_FALSE(s.is_error);
  EXPECT_EQ(s.result_subtype, "success");
  EXPECT_EQ(s.turns, 3);
  EXPECT_EQ(s.tool_calls, 3);
  EXPECT_EQ(s.tools.at("Bash"), 2);
  EXPECT_EQ(s.tools.at("Write"), 1);
  EXPECT_DOUBLE_EQ(s.duration_ms, 1234.5);
}

TEST(BenchTranscript, ARepeatedToolUseIdIsCountedOnce) {
  const char* text = R"({"type":"assistant","message":{"id":"m","content":[{"type":"tool_use","id":"t1","name":"Read"}]}}
{"type":"assistant","message":{"id":"m","content":[{"type":"tool_use","id":"t1","name":"Read"}]}}
)";
  EXPECT_EQ(summarize_transcript_text(text).tool_calls, 1);
}

TEST(BenchTranscript, UnfinishedSessionCountsAssistantMessagesAndSkipsBrokenLines) {
  const char* text = R"({"type":"system","subtype":"init","session_id":"s"}
{"type":"assistant","message":{"id":"m1","content":[]}}
not json at all
{"type":"assistant","message":{"id":"m1","content":[]}}
{"type":"assistant","message":{"id":"m2","content":[{"type":"tool_use","id":"x","name":"Bash"}]}}
{"type":"assistant","message":{"id":"m3","con)";
  TranscriptSummary s = summarize_transcript_text(text);
  EXPECT_FALSE(s.finished);
  EXPECT_EQ(s.turns, 2);
  EXPECT_EQ(s.tool_calls, 1);
  EXPECT_EQ(s.malformed_lines, 2);
  EXPECT_EQ(s.session_id, "s");
}

TEST(BenchTranscript, ErrorResultIsReported) {
  TranscriptSummary s = summarize_transcript_text(
      R"({"type":"result","subtype":"error_max_turns","is_error":true,"num_turns":8,"session_id":"z"})");
  EXPECT_TRUE(s.is_error);
  EXPECT_EQ(s.result_subtype, "error_max_turns");
  EXPECT_EQ(s.turns, 8);
}

TEST(BenchTranscript, MissingFileIsAnIoError) {
  EXPECT_THROW(summarize_transcript("/nonexistent/transcript.jsonl"), Error);
}

}  // namespace
}  // namespace hearth::bench
