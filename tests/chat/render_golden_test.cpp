// Byte-for-byte equality of the native renderers with the models' real Jinja templates, over every
// golden file in testdata/render/<template>/ (made by tools/render/make_goldens.py; see the README
// there). One test per golden file.
#include <gtest/gtest.h>

#include "render_goldens.h"
#include "util/error.h"

namespace hearth::chat {
namespace {

using testing::first_difference;
using testing::GoldenFile;
using testing::golden_files;

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
  const RenderOptions options = testing::golden_options(golden);
  const ChatFormat format = testing::golden_format(golden);
  const api::Json request = testing::golden_request(golden);

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
