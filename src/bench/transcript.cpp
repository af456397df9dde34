#include "bench/transcript.h"

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>

#include "util/error.h"

namespace hearth::bench {

TranscriptSummary summarize_transcript_text(const std::string& text) {
  TranscriptSummary s;
  std::set<std::string> message_ids;
  std::set<std::string> tool_use_ids;
  int anonymous_messages = 0;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
    if (!j.is_object()) {
      ++s.malformed_lines;
      continue;
    }
    const std::string type = j.value("type", "");
    if (s.session_id.empty() && j.contains("session_id") && j["session_id"].is_string()) {
      s.session_id = j["session_id"].get<std::string>();
    }
    if (type == "assistant" && j.contains("message") && j["message"].is_object()) {
      const auto& message = j["message"];
      // Claude Code writes one line per content block of a message, all with the message's id.
      if (message.contains("id") && message["id"].is_string()) {
        message_ids.insert(message["id"].get<std::string>());
      } else {
        ++anonymous_messages;
      }
      if (message.contains("content") && message["content"].is_array()) {
        for (const auto& block : message["content"]) {
          if (!block.is_object() || block.value("type", "") != "tool_use") continue;
          std::string id = block.value("id", "");
          if (!id.empty() && !tool_use_ids.insert(id).second) continue;
          ++s.tool_calls;
          ++s.tools[block.value("name", "?")];
        }
      }
    } else if (type == "result") {
      s.finished = true;
      s.is_error = j.value("is_error", false);
      s.result_subtype = j.value("subtype", "");
      if (j.contains("num_turns") && j["num_turns"].is_number()) s.turns = j["num_turns"].get<int>();
      if (j.contains("duration_ms") && j["duration_ms"].is_number()) s.duration_ms = j["duration_ms"].get<double>();
      if (j.contains("session_id") && j["session_id"].is_string()) s.session_id = j["session_id"].get<std::string>();
    }
  }
  if (!s.finished) s.turns = static_cast<int>(message_ids.size()) + anonymous_messages;
  return s;
}

TranscriptSummary summarize_transcript(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw Error("cannot read transcript '" + path.string() + "'", ErrorKind::io);
  std::stringstream buffer;
  buffer << in.rdbuf();
  return summarize_transcript_text(buffer.str());
}

}  // namespace hearth::bench
