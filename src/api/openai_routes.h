#pragma once
// The OpenAI-compatible routes: POST /v1/chat/completions and POST /v1/responses. They parse OpenAI
// bodies into the internal request and write the reply with OpenAI writers; everything else (queue,
// backend, cancellation, metrics) is ApiRoutes::serve_generation, shared with the Anthropic route.
// GET /v1/models answers both APIs with one body (ApiRoutes::list_models).
#include "api/api_server.h"

namespace hearth::api {

class OpenAiRoutes {
 public:
  explicit OpenAiRoutes(ApiRoutes& routes) : routes_(routes) {}

  HttpResponse chat_completions(const HttpRequest& request);
  HttpResponse responses(const HttpRequest& request);

 private:
  // The model and output limit of a parsed request (OpenAI error wording and params).
  void admit(const MessagesRequest& request, const char* max_tokens_field) const;

  ApiRoutes& routes_;
};

}  // namespace hearth::api
