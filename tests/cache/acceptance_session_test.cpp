// Acceptance test (issue 6): a recorded Claude Code session (testdata/chat/claude_session.jsonl: a Write
// → Bash tool loop, then a new query answered with two parallel tool calls) replayed against hearth's
// request path with the scripted model answering exactly what the recorded assistant turns say. The
// replaying client sends back hearth's own responses (with hearth's thinking signatures), as Claude
// Code does. From the metrics log: every turn after the first prefills only the tokens that are new in
// that turn, where "new" is measured against everything the server computed before (so tokens the chat
// format itself changes — the reasoning it drops once a new query arrives — count as new).
#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <iostream>
#include <map>

#include "api/request_parser.h"
#include "api/thinking_signature.h"
#include "chat/renderer.h"
#include "engine/scripted_model.h"
#include "metrics/session_stats.h"
#include "server_harness.h"

namespace hearth::cache {
namespace {

using testing::Json;
using Tokens = std::vector<engine::Token>;

std::vector<Json> recorded_requests() {
  std::ifstream in(std::string(HEARTH_TESTDATA_DIR) + "/chat/claude_session.jsonl");
  std::vector<Json> out;
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(Json::parse(line));
  }
  return out;
}

std::vector<Json> assistant_messages(const Json& request) {
  std::vector<Json> out;
  for (const Json& m : request["messages"])
    if (m["role"] == "assistant") out.push_back(m);
  return out;
}

// What the model generates for `message` after the generation prompt "<|im_start|>assistant\n<think>\n":
// the renderer's own text for that turn (shown with its reasoning), up to its <|im_end|>.
std::string raw_output(const Json& message) {
  Json request = {{"model", "m"}, {"max_tokens", 1}, {"messages", Json::array({{{"role", "user"}, {"content", "q"}}, message})}};
  api::MessagesRequest parsed = api::parse_messages_request(request.dump(), api::RequestKind::messages);
  chat::RenderOptions options;
  options.add_generation_prompt = false;
  std::string text = chat::Renderer::create(chat::ChatFormat::qwen3_5)->render(parsed, options).text;
  const std::string start = "<|im_start|>assistant\n<think>\n";
  size_t from = text.rfind(start);
  size_t to = text.rfind("<|im_end|>");
  return text.substr(from + start.size(), to - from - start.size());
}

size_t common_prefix(const Tokens& a, const Tokens& b) {
  size_t n = 0;
  while (n < a.size() && n < b.size() && a[n] == b[n]) ++n;
  return n;
}

// The prompt hearth renders for a request body (the server's parser, signature check and renderer).
Tokens prompt_tokens(const Json& body) {
  api::MessagesRequest parsed = api::parse_messages_request(body.dump(), api::RequestKind::messages);
  api::drop_unverified_thinking(parsed, api::ThinkingSigner(testing::kSigningKey));
  std::string text = chat::Renderer::create(chat::ChatFormat::qwen3_5)->render(parsed, {}).text;
  return testing::qwen_tokenizer()->encode(text);
}

// Replays the session; with `side_requests`, an unrelated request (another system prompt, like Claude
// Code's title and summary requests) runs between turns, so the model's live sequence is never the
// conversation's and every turn must resume from a checkpoint.
void replay_and_check(bool side_requests) {
  const std::vector<Json> recorded = recorded_requests();
  ASSERT_EQ(recorded.size(), 5u);
  // Replies: the recorded assistant turns, then a closing answer for the last request.
  std::vector<std::string> replies;
  for (const Json& m : assistant_messages(recorded.back())) replies.push_back(raw_output(m));
  replies.push_back("Both are listed.\n</think>\n\nhello.txt holds the greeting; the directory has one file.");
  ASSERT_EQ(replies.size(), recorded.size());

  auto tokenizer = testing::qwen_tokenizer();
  engine::ScriptedModelOptions options;
  options.vocab_size = tokenizer->vocab_size();
  options.max_context = 32768;
  options.end_token = *tokenizer->token_id("<|im_end|>");
  options.responder = [&](std::span<const engine::Token> sequence) {
    // Request j's prompt holds j assistant turns and the generation prompt.
    std::string text = tokenizer->decode(sequence);
    size_t turns = 0;
    for (size_t at = text.find("<|im_start|>assistant"); at != std::string::npos; at = text.find("<|im_start|>assistant", at + 1)) ++turns;
    engine::ScriptedReply reply;
    if (turns >= 1 && turns <= replies.size()) reply.tokens = tokenizer->encode(replies[turns - 1]);
    return reply;
  };
  testing::TempFile log("acc-session.jsonl");
  serve::CompletionSettings settings = testing::cache_settings(true);
  settings.max_context = 32768;
  testing::Server server(std::make_unique<engine::ScriptedModel>(options), settings, log.path());

  std::vector<Json> responses;
  std::vector<Tokens> computed;  // prompt + generated tokens of each turn: what the server has run
  std::vector<Tokens> prompts;
  for (size_t j = 0; j < recorded.size(); ++j) {
    Json body = recorded[j];
    body["stream"] = false;
    body["model"] = "hearth-test";
    // Hearth's own answers replace the recorded ones, and tool results follow hearth's tool_use ids.
    std::map<std::string, std::string> ids;
    size_t k = 0;
    for (Json& m : body["messages"]) {
      if (m["role"] == "assistant") {
        const Json& answer = responses.at(k++)["content"];
        std::vector<std::string> hearth_ids;
        for (const Json& b : answer)
          if (b["type"] == "tool_use") hearth_ids.push_back(b["id"]);
        size_t n = 0;
        for (const Json& b : m["content"])
          if (b["type"] == "tool_use" && n < hearth_ids.size()) ids[b["id"]] = hearth_ids[n++];
        m["content"] = answer;
      } else if (m["content"].is_array()) {
        for (Json& b : m["content"])
          if (b["type"] == "tool_result" && ids.count(b["tool_use_id"])) b["tool_use_id"] = ids[b["tool_use_id"]];
      }
    }
    responses.push_back(server.post(body, "claude-session"));
    if (side_requests) {
      Json side = {{"model", "hearth-test"}, {"max_tokens", 8}, {"system", "Write a five-word title for this chat."},
                   {"messages", Json::array({{{"role", "user"}, {"content", "request " + std::to_string(j)}}})}};
      server.post(side, "side-requests");
    }
    prompts.push_back(prompt_tokens(body));
    Tokens run = prompts.back();
    Tokens generated = tokenizer->encode(replies[j]);
    run.insert(run.end(), generated.begin(), generated.end());
    computed.push_back(run);
  }
  // The replies came back as scripted (the tool loop really ran through the parser).
  EXPECT_EQ(responses[0]["stop_reason"], "tool_use");
  EXPECT_EQ(responses[3]["content"].back()["type"], "tool_use");

  std::vector<metrics::RequestRecord> all = server.records();
  std::vector<metrics::RequestRecord> records;
  for (const auto& r : all)
    if (r.session_id == "claude-session") records.push_back(r);
  ASSERT_EQ(records.size(), recorded.size());
  EXPECT_FALSE(records[0].cache_hit);
  for (size_t j = 1; j < records.size(); ++j) {
    SCOPED_TRACE("request " + std::to_string(j));
    ASSERT_EQ(records[j].prompt_tokens, static_cast<int64_t>(prompts[j].size()));
    size_t known = 0;
    for (size_t k = 0; k < j; ++k) known = std::max(known, common_prefix(prompts[j], computed[k]));
    const int64_t new_tokens = static_cast<int64_t>(prompts[j].size() - known);
    EXPECT_TRUE(records[j].cache_hit);
    EXPECT_GE(records[j].prefilled_tokens, new_tokens);
    if (j == 3) {
      // A new query: the format dropped the tool loop's reasoning, so the prompt diverges inside the
      // first assistant turn; hearth resumes at the message end just before it, re-running only
      // "<|im_start|>assistant\n".
      EXPECT_LE(records[j].prefilled_tokens, new_tokens + 3);
      EXPECT_GT(new_tokens, 50);  // what the format drops is real work, not a rounding error
    } else {
      EXPECT_EQ(records[j].prefilled_tokens, new_tokens);  // a tool result: exactly the new tokens
    }
    // Interleaved, the turn after a tool call resumes from the end-of-generation checkpoint.
    if (side_requests && (j == 1 || j == 2 || j == 4)) {
      EXPECT_EQ(records[j].cache_source, "host");
      EXPECT_EQ(records[j].checkpoint_position, static_cast<int64_t>(computed[j - 1].size()));
    }
  }

  if (::testing::Test::HasFailure() || std::getenv("HEARTH_TEST_VERBOSE")) {
    std::ifstream again(log.path());
    std::cerr << metrics::format_summary(metrics::summarize_log(again));
    for (const auto& r : records) {
      std::cerr << "prompt " << r.prompt_tokens << " cached " << r.cached_tokens << " prefilled " << r.prefilled_tokens
                << " checkpoint " << r.checkpoint_position << " source " << r.cache_source << " stop " << r.stop_reason << "\n";
    }
  }
  // GET /metrics agrees with the log.
  const std::string text = server.metrics_text();
  int64_t prompt_total = 0, cached_total = 0;
  for (const auto& r : all) {
    prompt_total += r.prompt_tokens;
    cached_total += r.cached_tokens;
  }
  EXPECT_NE(text.find("hearth_requests_total{endpoint=\"messages\",status=\"200\"} " + std::to_string(all.size()) + "\n"),
            std::string::npos) << text;
  EXPECT_NE(text.find("hearth_prompt_tokens_total " + std::to_string(prompt_total) + "\n"), std::string::npos);
  EXPECT_NE(text.find("hearth_cached_tokens_total " + std::to_string(cached_total) + "\n"), std::string::npos);
  EXPECT_NE(text.find("hearth_cache_hit_ratio 0."), std::string::npos);
  EXPECT_NE(text.find("hearth_cache_checkpoints{tier=\"host\"} "), std::string::npos);
  EXPECT_NE(text.find("hearth_queue_depth 0\n"), std::string::npos);
  EXPECT_NE(text.find("hearth_time_to_first_token_seconds_count " + std::to_string(all.size()) + "\n"), std::string::npos);

  // hearth stats over the same log: the session's four hits out of five turns.
  std::ifstream in(log.path());
  metrics::LogSummary summary = metrics::summarize_log(in);
  ASSERT_EQ(summary.sessions.size(), side_requests ? 2u : 1u);
  EXPECT_EQ(summary.sessions[0].turns, 5);
  EXPECT_EQ(summary.sessions[0].hits, 4);
  EXPECT_GT(summary.sessions[0].reused_share(), 0.75);  // the first turn computes everything
}

TEST(PromptCacheAcceptance, ReplayedClaudeCodeSessionPrefillsOnlyTheTokensNewInEachTurn) { replay_and_check(false); }

TEST(PromptCacheAcceptance, ReplayWithSideRequestsBetweenTurnsResumesFromCheckpointsAndStillPrefillsOnlyNewTokens) {
  replay_and_check(true);
}

}  // namespace
}  // namespace hearth::cache
