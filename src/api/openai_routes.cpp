#include "api/openai_routes.h"

#include <ctime>

#include "api/openai_chat_encoding.h"
#include "api/openai_chat_parser.h"
#include "api/openai_responses_encoding.h"
#include "api/openai_responses_parser.h"

namespace hearth::api {

void OpenAiRoutes::admit(const MessagesRequest& request, const char* max_tokens_field) const {
  const ServedModels& served = routes_.served();
  if (!served.accepts(request.model)) {
    throw ApiError(ErrorType::not_found_error,
                   "The model '" + request.model + "' does not exist; this server serves " + served.describe(), "model");
  }
  const int64_t limit = routes_.config().max_output_tokens;
  if (limit > 0 && request.max_tokens > limit) {
    throw ApiError(ErrorType::invalid_request_error,
                   std::string(max_tokens_field) + ": " + std::to_string(request.max_tokens) + " > " + std::to_string(limit) +
                       ", which is the maximum allowed number of output tokens for " + request.model,
                   max_tokens_field);
  }
}

HttpResponse OpenAiRoutes::chat_completions(const HttpRequest& http) {
  return routes_.serve_generation(http, "chat_completions", ErrorFormat::openai, [&] {
    // Auth before the body is read, so that a wrong key is told as such whatever the body holds.
    routes_.check_authorized(http, "send it as `Authorization: Bearer KEY`");
    ChatCompletionRequest parsed = parse_chat_completion_request(http.body);
    admit(parsed.request, "max_completion_tokens");
    RoutedGeneration routed;
    routed.writer = std::make_unique<ChatCompletionWriter>(parsed.request.stream, parsed.include_usage, int64_t(std::time(nullptr)));
    routed.request = std::move(parsed.request);
    routed.message_id_prefix = "chatcmpl-";
    routed.tool_id_prefix = "call_";
    return routed;
  });
}

HttpResponse OpenAiRoutes::responses(const HttpRequest& http) {
  return routes_.serve_generation(http, "responses", ErrorFormat::openai, [&] {
    routes_.check_authorized(http, "send it as `Authorization: Bearer KEY`");
    ResponsesRequest parsed = parse_responses_request(http.body);
    admit(parsed.request, "max_output_tokens");
    RoutedGeneration routed;
    routed.writer = std::make_unique<ResponsesWriter>(parsed.request.stream, std::move(parsed.echo), int64_t(std::time(nullptr)));
    routed.request = std::move(parsed.request);
    routed.message_id_prefix = "resp_";
    routed.tool_id_prefix = "call_";
    return routed;
  });
}

}  // namespace hearth::api
