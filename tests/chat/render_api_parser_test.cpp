// The server's path: api::parse_messages_request (the validating parser of POST /v1/messages and
// count_tokens) in front of the renderer gives the golden prompts too. Goldens whose requests the API
// refuses on purpose (empty content, tool results without a matching tool call) are skipped.
#include <algorithm>

#include <gtest/gtest.h>

#include "api/errors.h"
#include "api/request_parser.h"
#include "render_goldens.h"
#include "util/error.h"

namespace hearth::chat {
namespace {

// The API requires a model; the golden cases leave it out where it does not matter for rendering.
std::string as_api_body(api::Json request) {
  if (!request.contains("model")) request["model"] = "qwen3.5-test";
  return request.dump();
}

TEST(RenderThroughApiParser, GoldenRequestsTheApiAcceptsRenderToTheGoldenText) {
  size_t compared = 0;
  std::vector<std::string> refused;
  for (const auto& file : testing::golden_files()) {
    const auto golden = api::Json::parse(testing::read_file(file.path));
    api::MessagesRequest request;
    try {
      request = api::parse_messages_request(as_api_body(testing::golden_request(golden)), api::RequestKind::count_tokens);
    } catch (const api::ApiError& e) {
      refused.push_back(file.test_name + ": " + e.what());
      continue;
    }
    const auto renderer = Renderer::create(testing::golden_format(golden));
    const auto options = testing::golden_options(golden);
    if (golden.contains("expected_error")) {
      EXPECT_THROW(renderer->render(request, options), Error) << file.path;
      continue;
    }
    const auto expected = golden["expected_text"].get<std::string>();
    const auto text = renderer->render(request, options).text;
    EXPECT_TRUE(text == expected) << file.path << "\n" << testing::first_difference(expected, text);
    ++compared;
  }
  // The API refuses, as Anthropic's does, empty message content and tool results that do not answer the
  // previous message's tool calls; the renderer still handles those shapes like the template (see the
  // golden test). Nothing else may be refused.
  const std::vector<std::string> refused_on_purpose = {
      "tool_results_only", "assistant_empty_content", "empty_user_content", "consecutive_tool_result_messages",
      "in_place_system_between_tool_results"};
  for (const auto& r : refused) {
    const bool expected = std::any_of(refused_on_purpose.begin(), refused_on_purpose.end(),
                                      [&](const std::string& name) { return r.find(name) != std::string::npos; });
    EXPECT_TRUE(expected) << "refused: " << r;
  }
  EXPECT_GE(compared, 200u);
}

}  // namespace
}  // namespace hearth::chat
