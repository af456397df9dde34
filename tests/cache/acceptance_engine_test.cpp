// Acceptance tests of the prompt cache (issue 6) on the real CPU engine: a tiny Qwen3.5-shaped model with
// random weights and the test tokenizer's vocabulary, behind the real API routes, completion glue,
// renderer, tokenizer and parser. The conversation is scripted (the requests do not depend on the
// model's gibberish output), so runs with the cache on and off see the same prompts; figures are read
// back from the metrics log, as an operator would.
#include <gtest/gtest.h>

#include "api/request_parser.h"
#include "cache/checkpoint_planner.h"
#include "chat/prompt_layout.h"
#include "chat/renderer.h"
#include "server_harness.h"

namespace hearth::cache {
namespace {

using testing::Json;
using testing::Server;
using testing::TempFile;

Json tools() {
  return Json::parse(R"([
    {"name":"Bash","description":"Run a shell command and return its output.",
     "input_schema":{"type":"object","properties":{"command":{"type":"string"}},"required":["command"]}},
    {"name":"Read","description":"Read a file from the working directory.",
     "input_schema":{"type":"object","properties":{"path":{"type":"string"}},"required":["path"]}}])");
}

Json thinking(const std::string& text) {
  static const api::ThinkingSigner signer(testing::kSigningKey);
  return {{"type", "thinking"}, {"thinking", text}, {"signature", signer.sign(text)}};
}

Json text(const std::string& t) { return {{"type", "text"}, {"text", t}}; }

Json tool_use(int id, const std::string& command) {
  return {{"type", "tool_use"}, {"id", "toolu_" + std::to_string(id)}, {"name", "Bash"}, {"input", {{"command", command}}}};
}

Json tool_result(int id, const std::string& output) {
  return {{"type", "tool_result"}, {"tool_use_id", "toolu_" + std::to_string(id)}, {"content", output}};
}

// The requests of a 10-turn agent conversation: a query, tool loops with thinking and tool calls, a
// second query (the format then drops the earlier turns' reasoning), more tool loops, a last query.
std::vector<Json> agent_conversation(const std::string& system_prompt, const std::string& first_query) {
  Json body = {{"model", "hearth-test"}, {"max_tokens", 6}, {"system", system_prompt}, {"tools", tools()},
               {"thinking", {{"type", "adaptive"}}}, {"messages", Json::array()}};
  std::vector<Json> requests;
  auto user = [&](Json content) { body["messages"].push_back({{"role", "user"}, {"content", std::move(content)}}); };
  auto assistant = [&](Json content) { body["messages"].push_back({{"role", "assistant"}, {"content", std::move(content)}}); };
  user(first_query);
  requests.push_back(body);
  for (int turn = 2; turn <= 10; ++turn) {
    if (turn == 6 || turn == 10) {
      assistant(Json::array({thinking("Summarise for the user."), text("Step " + std::to_string(turn - 1) + " is done.")}));
      user("Good. Next, part " + std::to_string(turn) + ": check the tests directory as well.");
    } else {
      std::string command = "ls -la src/part" + std::to_string(turn);
      assistant(Json::array({thinking("I should look at part " + std::to_string(turn) + " first."),
                             text("Looking at part " + std::to_string(turn) + "."), tool_use(turn, command)}));
      std::string output;
      for (int line = 0; line < 8 + turn; ++line) output += "-rw-r--r-- 1 dev dev " + std::to_string(100 * line + turn) + " file" + std::to_string(line) + ".c\n";
      user(Json::array({tool_result(turn, output)}));
    }
    requests.push_back(body);
  }
  return requests;
}

const std::string kSystem = "You are a careful coding agent working in a C repository. Answer briefly.";

std::vector<Json> run_session(Server& server, const std::vector<Json>& requests, const std::string& session) {
  std::vector<Json> responses;
  for (const Json& r : requests) responses.push_back(server.post(r, session));
  return responses;
}

TEST(PromptCacheAcceptance, GreedyOutputIsIdenticalWithTheCacheOnAndOffOverATenTurnAgentSession) {
  TempFile on_log("acc-on.jsonl"), off_log("acc-off.jsonl");
  Server on(testing::tiny_qwen_vocab_model(), testing::cache_settings(true), on_log.path());
  Server off(testing::tiny_qwen_vocab_model(), testing::cache_settings(false), off_log.path());
  auto requests = agent_conversation(kSystem, "Find where the parser allocates memory.");
  auto with_cache = run_session(on, requests, "s-on");
  auto without = run_session(off, requests, "s-off");
  for (size_t i = 0; i < requests.size(); ++i) {
    SCOPED_TRACE("turn " + std::to_string(i + 1));
    EXPECT_EQ(with_cache[i]["content"], without[i]["content"]);
    EXPECT_EQ(with_cache[i]["stop_reason"], without[i]["stop_reason"]);
    EXPECT_EQ(without[i]["usage"]["cache_read_input_tokens"], 0);
  }
  auto on_records = on.records();
  auto off_records = off.records();
  ASSERT_EQ(on_records.size(), 10u);
  int64_t prefilled_on = 0, prefilled_off = 0;
  for (size_t i = 0; i < on_records.size(); ++i) {
    prefilled_on += on_records[i].prefilled_tokens;
    prefilled_off += off_records[i].prefilled_tokens;
    EXPECT_EQ(on_records[i].cached_tokens, with_cache[i]["usage"]["cache_read_input_tokens"]);
    EXPECT_EQ(on_records[i].cached_tokens + on_records[i].prefilled_tokens, on_records[i].prompt_tokens);
    if (i > 0) {
      EXPECT_TRUE(on_records[i].cache_hit) << "turn " << i + 1;
    }
  }
  EXPECT_LT(prefilled_on * 3, prefilled_off);
}

TEST(PromptCacheAcceptance, SecondSessionReusesTheSharedSystemPromptOnItsFirstRequest) {
  TempFile log("acc-shared.jsonl");
  Server server(testing::tiny_qwen_vocab_model(), testing::cache_settings(true), log.path());
  auto first = agent_conversation(kSystem, "Find where the parser allocates memory.");
  run_session(server, {first[0], first[1], first[2]}, "session-A");
  auto second = agent_conversation(kSystem, "Why does the build print a warning about unused variables?");
  server.post(second[0], "session-B");

  // The static prefix (tools + system) in tokens, from the renderer and tokenizer directly.
  api::MessagesRequest parsed = api::parse_messages_request(second[0].dump(), api::RequestKind::messages);
  chat::RenderedPrompt rendered = chat::Renderer::create(chat::ChatFormat::qwen3_5)->render(parsed, {});
  auto tokens = testing::qwen_tokenizer()->encode(rendered.text);
  PromptLayout layout = chat::prompt_layout(rendered, tokens, *testing::qwen_tokenizer());
  ASSERT_EQ(layout.boundaries.front().kind, CheckpointKind::static_prefix);
  const int64_t static_prefix = layout.boundaries.front().position;

  auto records = server.records();
  ASSERT_EQ(records.size(), 4u);
  const auto& b = records.back();
  EXPECT_EQ(b.session_id, "session-B");
  EXPECT_TRUE(b.cache_hit);
  EXPECT_EQ(b.checkpoint_position, static_prefix);
  EXPECT_EQ(b.cached_tokens, static_prefix);
  EXPECT_EQ(b.prefilled_tokens, b.prompt_tokens - static_prefix);
}

TEST(PromptCacheAcceptance, TinyBudgetEvictsYetKeepsOutputsIdenticalAndStaysWithinIt) {
  // One checkpoint of this model (linear state + logits over the 151k vocabulary; its KV pages are
  // shared, not counted) is about 0.6 MiB whatever its position: room for five, fewer than the two
  // interleaved sessions save (up to six a request).
  auto probe = testing::tiny_qwen_vocab_model();
  std::vector<engine::Token> tokens(1500, 100);
  probe->prefill(tokens);
  const size_t budget = 5 * probe->save_state()->host_bytes();

  TempFile tight_log("acc-tight.jsonl"), off_log("acc-tight-off.jsonl");
  Server tight(testing::tiny_qwen_vocab_model(), testing::cache_settings(true, budget), tight_log.path());
  Server off(testing::tiny_qwen_vocab_model(), testing::cache_settings(false), off_log.path());
  auto main = agent_conversation(kSystem, "Find where the parser allocates memory.");
  auto other = agent_conversation("You review pull requests. Be strict.", "Review the last commit.");
  for (size_t i = 0; i < 6; ++i) {
    SCOPED_TRACE("turn " + std::to_string(i + 1));
    // A second session interleaves, competing for the two slots.
    Json a = tight.post(main[i], "main");
    Json b = tight.post(other[i], "other");
    EXPECT_EQ(a["content"], off.post(main[i], "main")["content"]);
    EXPECT_EQ(b["content"], off.post(other[i], "other")["content"]);
    StoreStats s = tight.backend().cache_stats();
    EXPECT_LE(s.host_bytes, budget);
    EXPECT_LE(s.device_bytes, tight.backend().prompt_cache().config().store.device_budget_bytes);
  }
  StoreStats s = tight.backend().cache_stats();
  EXPECT_GT(s.evicted, 0u);
  int64_t reused = 0;
  for (const auto& r : tight.records()) reused += r.cached_tokens;
  EXPECT_GT(reused, 0);
}

TEST(PromptCacheAcceptance, RestartedServerKeepsTheCachedSystemPromptFromTheCacheDirectory) {
  const auto dir = std::filesystem::temp_directory_path() / ("hearth-cache-dir-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  serve::CompletionSettings settings = testing::cache_settings(true);
  settings.prompt_cache.store.persist.dir = dir;
  settings.prompt_cache.store.persist.model_identity = "tiny-test-weights seed 1";
  auto requests = agent_conversation(kSystem, "Find where the parser allocates memory.");
  Json before;
  {
    TempFile log("acc-persist-1.jsonl");
    Server first(testing::tiny_qwen_vocab_model(), settings, log.path());
    before = first.post(requests[0], "before-restart");
    EXPECT_EQ(first.backend().cache_stats().disk_writes, 1u);  // the static prefix only
  }
  TempFile log("acc-persist-2.jsonl");
  Server restarted(testing::tiny_qwen_vocab_model(), settings, log.path());
  Json after = restarted.post(requests[0], "after-restart");
  EXPECT_EQ(after["content"], before["content"]);
  auto records = restarted.records();
  ASSERT_EQ(records.size(), 1u);
  EXPECT_EQ(records[0].cache_source, "disk");
  EXPECT_GT(records[0].cached_tokens, 100);
  EXPECT_EQ(records[0].checkpoint_position, records[0].cached_tokens);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace hearth::cache
