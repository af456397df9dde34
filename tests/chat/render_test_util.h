#pragma once
// Helpers shared by the renderer tests: request JSON → render, and readable text diffs.
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "api/types.h"
#include "render_request_json.h"
#include "chat/renderer.h"

namespace hearth::chat::testing {

inline std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot open " + path);
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

inline std::string testdata(std::string_view relative) {
  return std::string(HEARTH_TESTDATA_DIR) + "/" + std::string(relative);
}

// The requests of a JSONL file, one per line.
inline std::vector<api::Json> read_jsonl(const std::string& path) {
  std::vector<api::Json> out;
  std::istringstream lines(read_file(path));
  for (std::string line; std::getline(lines, line);) {
    if (!line.empty()) out.push_back(api::Json::parse(line));
  }
  return out;
}

inline RenderedPrompt render_parsed(ChatFormat format, const api::Json& request, RenderOptions options = {}) {
  return Renderer::create(format)->render(request_for_render_from_json(request), options);
}

inline RenderedPrompt render_json(ChatFormat format, std::string_view request_json, RenderOptions options = {}) {
  return render_parsed(format, api::Json::parse(request_json), options);
}

// Where two texts first differ, with some context from each: gtest's own diff of 20 KB prompts is
// unreadable.
inline std::string first_difference(std::string_view expected, std::string_view actual) {
  size_t i = 0;
  while (i < expected.size() && i < actual.size() && expected[i] == actual[i]) ++i;
  if (i == expected.size() && i == actual.size()) return "identical";
  const size_t from = i > 80 ? i - 80 : 0;
  std::ostringstream ss;
  ss << "first difference at byte " << i << " (expected " << expected.size() << " bytes, got " << actual.size()
     << ")\n--- expected from byte " << from << ":\n" << expected.substr(from, 200)
     << "\n--- actual from byte " << from << ":\n" << actual.substr(from, 200);
  return ss.str();
}

}  // namespace hearth::chat::testing
