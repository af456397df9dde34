#pragma once
// Builds the scripted model's responder from a JSON script, so that tests and demos can make "the
// model" answer with exact raw output (thinking, XML tool calls) while everything around it is real.
//
// Script file:
//   {"rules": [
//     {"when_last_user_contains": "hello.py", "respond": "<think>\nplan\n</think>\n\nDone.", "token_delay_ms": 0},
//     {"when_prompt_contains": "...", "respond": "..."},
//     {"when_last_user_contains": "explode", "fail": "simulated engine failure"},
//     {"otherwise": true, "respond": "..."}
//   ]}
// Rules are tried in order against the decoded prompt; the first match answers. "respond" is the raw
// text the model generates after the generation prompt; "fail" makes the model throw
// hearth::Error(internal) with that message instead (tests of the server's 500 / mid-stream error). Where the prompt already ends with the start
// of that text (the template's "<think>\n", a forced tool-call opening), the overlap is not repeated;
// a reply without "<think>" given to a prompt that opened one first closes it ("</think>\n\n").
#include <chrono>
#include <filesystem>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "chat/tokenizer.h"
#include "engine/scripted_model.h"

namespace hearth::chat {

enum class ScriptMatch { last_user_contains, prompt_contains, always };

struct ScriptRule {
  ScriptMatch match = ScriptMatch::always;
  std::string needle;
  std::string respond;
  std::string fail;                              // non-empty: the model fails with this message
  std::chrono::milliseconds token_delay{0};
};

struct Script {
  std::vector<ScriptRule> rules;
};

// Throws hearth::Error(invalid_request) naming `origin` and the offending rule.
Script parse_script(std::string_view json_text, std::string_view origin);
Script load_script(const std::filesystem::path& path);

// The text of the last user turn of a rendered ChatML prompt (after the last "<|im_start|>user\n").
std::string last_user_turn(std::string_view prompt_text);

engine::ScriptResponder make_script_responder(std::shared_ptr<const Tokenizer> tokenizer, Script script);

// A scripted model answering by `script` with `tokenizer`'s vocabulary, ending replies with <|im_end|>.
// `slots`: sequences the model holds at once (each follows the script on its own).
std::unique_ptr<engine::Model> make_scripted_model(std::shared_ptr<const Tokenizer> tokenizer, Script script,
                                                   int64_t max_context, int32_t slots = 1);

}  // namespace hearth::chat
