#include "api/errors.h"

#include <nlohmann/json.hpp>

#include "util/utf8.h"

namespace hearth::api {

int http_status(ErrorType type) {
  switch (type) {
    case ErrorType::invalid_request_error: return 400;
    case ErrorType::authentication_error: return 401;
    case ErrorType::permission_error: return 403;
    case ErrorType::not_found_error: return 404;
    case ErrorType::timeout_error: return 408;
    case ErrorType::request_too_large: return 413;
    case ErrorType::rate_limit_error: return 429;
    case ErrorType::api_error: return 500;
    case ErrorType::overloaded_error: return 529;
  }
  return 500;
}

bool should_retry(int status) { return status == 408 || status == 409 || status == 429 || status >= 500; }

std::string_view error_type_name(ErrorType type) {
  switch (type) {
    case ErrorType::invalid_request_error: return "invalid_request_error";
    case ErrorType::authentication_error: return "authentication_error";
    case ErrorType::permission_error: return "permission_error";
    case ErrorType::not_found_error: return "not_found_error";
    case ErrorType::timeout_error: return "timeout_error";
    case ErrorType::request_too_large: return "request_too_large";
    case ErrorType::rate_limit_error: return "rate_limit_error";
    case ErrorType::api_error: return "api_error";
    case ErrorType::overloaded_error: return "overloaded_error";
  }
  return "api_error";
}

ErrorType error_type_for(ErrorKind kind) {
  switch (kind) {
    case ErrorKind::invalid_request:
    case ErrorKind::prompt_too_long:
    case ErrorKind::unsupported: return ErrorType::invalid_request_error;
    case ErrorKind::not_found: return ErrorType::not_found_error;
    case ErrorKind::too_large: return ErrorType::request_too_large;
    case ErrorKind::out_of_memory: return ErrorType::overloaded_error;
    case ErrorKind::io:
    case ErrorKind::internal: return ErrorType::api_error;
  }
  return ErrorType::api_error;
}

ApiError to_api_error(const Error& error) { return ApiError(error_type_for(error.kind()), error.what()); }

std::string bounded_error_message(std::string_view message) {
  // Messages can quote request values (a model name, an id); a hostile 10 MB value stays out of the reply.
  constexpr size_t kMaxMessageBytes = 2048;
  if (message.size() <= kMaxMessageBytes) return utf8::sanitize(message);
  std::string_view head = message.substr(0, kMaxMessageBytes);
  // Messages may quote request bytes; keep the JSON valid whatever they held.
  return utf8::sanitize(head.substr(0, utf8::complete_prefix_length(head))) + "... (" + std::to_string(message.size()) +
         " bytes)";
}

std::string error_body(ErrorType type, std::string_view message, std::string_view request_id) {
  nlohmann::ordered_json body = {
      {"type", "error"},
      {"error", {{"type", error_type_name(type)}, {"message", bounded_error_message(message)}}},
  };
  if (!request_id.empty()) body["request_id"] = request_id;
  return body.dump();
}

}  // namespace hearth::api
