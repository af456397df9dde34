#pragma once
// The OpenAI error shape, {"error":{"message","type","param","code"}}, for the same ApiErrors the
// Anthropic routes throw. The status follows the Anthropic mapping except where OpenAI clients expect
// another: a full queue is 503 (OpenAI's "overloaded"; 529 is Anthropic's own).
#include <string>

#include "api/errors.h"
#include "api/types.h"

namespace hearth::api {

struct OpenAiErrorShape {
  int status = 500;
  std::string type;  // invalid_request_error, authentication_error, not_found_error, server_error, ...
  std::string code;  // "" for null; e.g. invalid_api_key, model_not_found, context_length_exceeded
};

OpenAiErrorShape openai_error_shape(const ApiError& error);
// The `error` object (also what a failed stream carries).
Json openai_error_json(const ApiError& error);
// The whole body: {"error": openai_error_json(error)}.
std::string openai_error_body(const ApiError& error);

}  // namespace hearth::api
