// Byte-for-byte equality of the native renderers with the models' real Jinja templates, over every
// golden file in testdata/render/<template>/ (made by tools/render/make_goldens.py; see the README
// there). One test per golden file.
#include <algorithm>
#include <filesystem>

#include <gtest/gtest.h>

#include "render_test_util.h"
#include "util/error.h"

namespace hearth::chat {
namespace {

namespace fs = std::filesystem;
using testing::first_difference;

struct GoldenFile {
  std::string path;
  std::string test_name;
};

void PrintTo(const GoldenFile& g, std::ostream* os) { *os << g.path; }

std::vector<GoldenFile> golden_files() {
  std::vector<GoldenFile> out;
  const fs::path root = testing::testdata("render");
  for (const auto& dir : fs::directory_iterator(root)) {
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

api::Json golden_request(const api::Json& golden) {
  if (golden.contains("request")) return golden["request"];
  const auto requests = testing::read_jsonl(testing::testdata(golden["request_file"].get<std::string>()));
  return requests.at(golden["request_index"].get<size_t>());
}

ChatFormat golden_format(const std::string& template_name) {
  if (template_name == "qwen3_5" || template_name == "qwen3_6") return ChatFormat::qwen3_5;
  if (template_name == "qwen3") return ChatFormat::qwen3;
  throw std::runtime_error("golden file names unknown template " + template_name);
}

// Every boundary ends a turn, they ascend, and everything after the last one is the generation prompt.
void expect_boundaries_are_turn_ends(const RenderedPrompt& p, bool add_generation_prompt) {
  std::vector<size_t> turn_ends;
  constexpr std::string_view im_end = "<|im_end|>\n";
  for (size_t at = p.text.find(im_end); at != std::string::npos; at = p.text.find(im_end, at + 1)) {
    turn_ends.push_back(at + im_end.size());
  }
  EXPECT_EQ(p.boundaries, turn_ends) << "boundaries must be exactly the ends of the rendered turns";
  const size_t last = p.boundaries.empty() ? 0 : p.boundaries.back();
  const std::string_view tail = std::string_view(p.text).substr(last);
  if (add_generation_prompt) {
    EXPECT_TRUE(tail.starts_with("<|im_start|>assistant\n")) << "after the last boundary: " << tail;
  } else {
    EXPECT_EQ(tail, "") << "without a generation prompt the text ends at the last boundary";
  }
}

class RenderGolden : public ::testing::TestWithParam<GoldenFile> {};

TEST_P(RenderGolden, NativeRendererMatchesTheJinjaTemplateByteForByte) {
  const auto golden = api::Json::parse(testing::read_file(GetParam().path));
  const auto& opts = golden["options"];
  RenderOptions options;
  options.enable_thinking = opts["enable_thinking"].get<bool>();
  options.preserve_thinking = opts["preserve_thinking"].get<bool>();
  options.add_generation_prompt = opts["add_generation_prompt"].get<bool>();
  const ChatFormat format = golden_format(golden["template"].get<std::string>());
  const api::Json request = golden_request(golden);

  if (golden.contains("expected_error")) {
    try {
      testing::render_parsed(format, request, options);
      FAIL() << "the template raises '" << golden["expected_error"].get<std::string>()
             << "' but the renderer did not throw";
    } catch (const Error& e) {
      EXPECT_EQ(e.kind(), ErrorKind::invalid_request) << e.what();
    }
    return;
  }
  const auto expected = golden["expected_text"].get<std::string>();
  const RenderedPrompt prompt = testing::render_parsed(format, request, options);
  ASSERT_TRUE(prompt.text == expected) << first_difference(expected, prompt.text);
  expect_boundaries_are_turn_ends(prompt, options.add_generation_prompt);
}

INSTANTIATE_TEST_SUITE_P(Goldens, RenderGolden, ::testing::ValuesIn(golden_files()),
                         [](const auto& info) { return info.param.test_name; });

TEST(RenderGoldenSet, EveryTemplateHasGoldens) {
  size_t qwen3_5 = 0, qwen3_6 = 0, qwen3 = 0;
  for (const auto& g : golden_files()) {
    qwen3_5 += g.test_name.starts_with("qwen3_5__");
    qwen3_6 += g.test_name.starts_with("qwen3_6__");
    qwen3 += g.test_name.starts_with("qwen3__");
  }
  EXPECT_GE(qwen3_5, 50u);
  EXPECT_GE(qwen3_6, 50u);
  EXPECT_GE(qwen3, 50u);
}

}  // namespace
}  // namespace hearth::chat
