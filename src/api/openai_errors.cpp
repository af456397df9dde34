#include "api/openai_errors.h"

#include "util/utf8.h"

namespace hearth::api {

OpenAiErrorShape openai_error_shape(const ApiError& error) {
  OpenAiErrorShape shape;
  shape.status = error.status();
  shape.type = std::string(error_type_name(error.type()));
  switch (error.type()) {
    case ErrorType::invalid_request_error:
      // The serve layer's prompt-length refusal; OpenAI clients (Codex) recognise this code.
      if (std::string_view(error.what()).starts_with("prompt is too long")) shape.code = "context_length_exceeded";
      break;
    case ErrorType::authentication_error: shape.code = "invalid_api_key"; break;
    case ErrorType::not_found_error:
      if (error.param() == "model") shape.code = "model_not_found";
      break;
    case ErrorType::request_too_large: shape.type = "invalid_request_error"; break;
    case ErrorType::api_error: shape.type = "server_error"; break;
    case ErrorType::overloaded_error:
      shape.status = 503;
      shape.type = "server_error";
      shape.code = "overloaded";
      break;
    default: break;
  }
  return shape;
}

Json openai_error_json(const ApiError& error) {
  const OpenAiErrorShape shape = openai_error_shape(error);
  return {
      {"message", bounded_error_message(error.what())},
      {"type", shape.type},
      {"param", error.param().empty() ? Json(nullptr) : Json(utf8::sanitize(error.param()))},
      {"code", shape.code.empty() ? Json(nullptr) : Json(shape.code)},
  };
}

std::string openai_error_body(const ApiError& error) { return Json{{"error", openai_error_json(error)}}.dump(); }

}  // namespace hearth::api
