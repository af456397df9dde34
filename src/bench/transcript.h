#pragma once
// Reads the stream-json transcript that Claude Code writes with `-p --output-format stream-json --verbose`:
// one JSON object per line ("system" init, "assistant" and "user" messages, a final "result").
#include <filesystem>
#include <map>
#include <string>

namespace hearth::bench {

struct TranscriptSummary {
  std::string session_id;               // Claude Code's session id (init or result line)
  int turns = 0;                        // the result's num_turns; assistant messages if it never finished
  int tool_calls = 0;                   // distinct tool_use blocks the model emitted
  std::map<std::string, int> tools;     // tool_use blocks by tool name
  bool finished = false;                // a "result" line was written
  bool is_error = false;                // the result says the session failed
  std::string result_subtype;           // "success", "error_max_turns", ...
  double duration_ms = 0;               // the result's duration_ms
  int malformed_lines = 0;              // lines that were not JSON objects (counted, not fatal)
};

// Throws hearth::Error (io) only when the file cannot be read; bad lines are counted and skipped.
TranscriptSummary summarize_transcript(const std::filesystem::path& path);
TranscriptSummary summarize_transcript_text(const std::string& text);

}  // namespace hearth::bench
