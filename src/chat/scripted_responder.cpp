#include "chat/scripted_responder.h"

#include <fstream>
#include <sstream>

#include <nlohmann/json.hpp>

#include "util/error.h"

namespace hearth::chat {
namespace {

constexpr std::string_view kUserStart = "<|im_start|>user\n";
constexpr std::string_view kAssistantStart = "<|im_start|>assistant\n";
constexpr std::string_view kTurnEnd = "<|im_end|>";

[[noreturn]] void fail(std::string_view origin, const std::string& problem) {
  throw Error("script " + std::string(origin) + ": " + problem, ErrorKind::invalid_request);
}

// Length of the longest suffix of `text` that is a prefix of `reply`.
size_t overlap(std::string_view text, std::string_view reply) {
  for (size_t k = std::min(text.size(), reply.size()); k > 0; --k) {
    if (text.substr(text.size() - k) == reply.substr(0, k)) return k;
  }
  return 0;
}

}  // namespace

Script parse_script(std::string_view json_text, std::string_view origin) {
  nlohmann::json root = nlohmann::json::parse(json_text, nullptr, false);
  if (root.is_discarded()) fail(origin, "not valid JSON");
  if (!root.is_object() || !root.contains("rules") || !root["rules"].is_array()) {
    fail(origin, "expected an object with a \"rules\" array");
  }
  Script script;
  for (size_t i = 0; i < root["rules"].size(); ++i) {
    const nlohmann::json& r = root["rules"][i];
    const std::string where = "rule " + std::to_string(i);
    if (!r.is_object()) fail(origin, where + " is not an object");
    ScriptRule rule;
    if (r.contains("when_last_user_contains")) {
      rule.match = ScriptMatch::last_user_contains;
      if (!r["when_last_user_contains"].is_string()) fail(origin, where + ": when_last_user_contains must be a string");
      rule.needle = r["when_last_user_contains"].get<std::string>();
    } else if (r.contains("when_prompt_contains")) {
      rule.match = ScriptMatch::prompt_contains;
      if (!r["when_prompt_contains"].is_string()) fail(origin, where + ": when_prompt_contains must be a string");
      rule.needle = r["when_prompt_contains"].get<std::string>();
    } else if (r.value("otherwise", false)) {
      rule.match = ScriptMatch::always;
    } else {
      fail(origin, where + ": needs when_last_user_contains, when_prompt_contains or \"otherwise\": true");
    }
    if (r.contains("fail")) {
      if (!r["fail"].is_string() || r["fail"].get<std::string>().empty()) fail(origin, where + ": \"fail\" must be a non-empty string");
      rule.fail = r["fail"].get<std::string>();
    } else {
      if (!r.contains("respond") || !r["respond"].is_string()) fail(origin, where + ": \"respond\" must be a string");
      rule.respond = r["respond"].get<std::string>();
    }
    if (r.contains("token_delay_ms")) {
      if (!r["token_delay_ms"].is_number_integer() || r["token_delay_ms"].get<int64_t>() < 0) {
        fail(origin, where + ": token_delay_ms must be a non-negative integer");
      }
      rule.token_delay = std::chrono::milliseconds(r["token_delay_ms"].get<int64_t>());
    }
    script.rules.push_back(std::move(rule));
  }
  return script;
}

Script load_script(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read script " + path.string(), ErrorKind::io);
  std::ostringstream text;
  text << in.rdbuf();
  return parse_script(text.str(), path.string());
}

std::string last_user_turn(std::string_view prompt_text) {
  size_t start = prompt_text.rfind(kUserStart);
  if (start == std::string_view::npos) return {};
  start += kUserStart.size();
  size_t end = prompt_text.find(kTurnEnd, start);
  return std::string(prompt_text.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
}

engine::ScriptResponder make_script_responder(std::shared_ptr<const Tokenizer> tokenizer, Script script) {
  return [tokenizer, script = std::move(script)](std::span<const Token> sequence) {
    const std::string prompt = tokenizer->decode(sequence);
    const std::string last_user = last_user_turn(prompt);
    const ScriptRule* chosen = nullptr;
    for (const ScriptRule& rule : script.rules) {
      const bool hit = rule.match == ScriptMatch::always ||
                       (rule.match == ScriptMatch::last_user_contains && last_user.find(rule.needle) != std::string::npos) ||
                       (rule.match == ScriptMatch::prompt_contains && prompt.find(rule.needle) != std::string::npos);
      if (hit) {
        chosen = &rule;
        break;
      }
    }
    if (chosen && !chosen->fail.empty()) throw Error(chosen->fail, ErrorKind::internal);
    engine::ScriptedReply reply;
    std::string text = chosen ? chosen->respond : "(hearth scripted model: no rule of the script matches this prompt)";
    if (chosen) reply.token_delay = chosen->token_delay;
    // What the assistant turn already holds (generation prompt, forced call opening) is not repeated.
    size_t turn = prompt.rfind(kAssistantStart);
    if (turn != std::string::npos) {
      std::string_view already = std::string_view(prompt).substr(turn + kAssistantStart.size());
      // A reply written without reasoning, for a prompt that opened <think>: reason about nothing, so
      // one script serves with thinking on and off.
      if (already.ends_with("<think>\n") && !text.starts_with("<think>")) text = "</think>\n\n" + text;
      text.erase(0, overlap(already, text));
    }
    reply.tokens = tokenizer->encode(text);
    return reply;
  };
}

std::unique_ptr<engine::Model> make_scripted_model(std::shared_ptr<const Tokenizer> tokenizer, Script script,
                                                   int64_t max_context, int32_t slots) {
  engine::ScriptedModelOptions options;
  options.vocab_size = tokenizer->vocab_size();
  options.max_context = max_context;
  options.slots = slots;
  auto end = tokenizer->token_id("<|im_end|>");
  if (!end) throw Error("scripted model: the tokenizer has no <|im_end|> token", ErrorKind::unsupported);
  options.end_token = *end;
  options.responder = make_script_responder(tokenizer, std::move(script));
  return std::make_unique<engine::ScriptedModel>(std::move(options));
}

}  // namespace hearth::chat
