#pragma once
// Reading the golden files of testdata/render/<template>/*.json (tools/render/make_goldens.py).
#include <algorithm>
#include <cctype>
#include <filesystem>
#include <ostream>
#include <string>
#include <vector>

#include "render_test_util.h"

namespace hearth::chat::testing {

struct GoldenFile {
  std::string path;
  std::string test_name;  // "<template>__<case>_<variant>", characters gtest accepts
};

inline void PrintTo(const GoldenFile& g, std::ostream* os) { *os << g.path; }

inline std::vector<GoldenFile> golden_files() {
  namespace fs = std::filesystem;
  std::vector<GoldenFile> out;
  for (const auto& dir : fs::directory_iterator(testdata("render"))) {
    if (!dir.is_directory()) continue;
    for (const auto& file : fs::directory_iterator(dir.path())) {
      if (file.path().extension() != ".json") continue;
      std::string name = dir.path().filename().string() + "__" + file.path().stem().string();
      std::replace_if(name.begin(), name.end(), [](char c) { return !std::isalnum(static_cast<unsigned char>(c)); }, '_');
      out.push_back({file.path().string(), name});
    }
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.test_name < b.test_name; });
  return out;
}

// The golden's request: embedded, or one line of a recorded session file.
inline api::Json golden_request(const api::Json& golden) {
  if (golden.contains("request")) return golden["request"];
  const auto requests = read_jsonl(testdata(golden["request_file"].get<std::string>()));
  return requests.at(golden["request_index"].get<size_t>());
}

inline ChatFormat golden_format(const api::Json& golden) {
  const auto name = golden["template"].get<std::string>();
  if (name == "qwen3_5" || name == "qwen3_6") return ChatFormat::qwen3_5;
  if (name == "qwen3") return ChatFormat::qwen3;
  throw std::runtime_error("golden file names unknown template " + name);
}

inline RenderOptions golden_options(const api::Json& golden) {
  const auto& o = golden["options"];
  RenderOptions options;
  options.enable_thinking = o["enable_thinking"].get<bool>();
  options.preserve_thinking = o["preserve_thinking"].get<bool>();
  options.add_generation_prompt = o["add_generation_prompt"].get<bool>();
  return options;
}

}  // namespace hearth::chat::testing
