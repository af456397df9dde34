#pragma once
// Anthropic error types, their HTTP statuses and the error JSON body. Code below api/ throws
// hearth::Error; api/ throws ApiError where it needs a status hearth::Error has no kind for (401, 529).
#include <stdexcept>
#include <string>
#include <string_view>

#include "util/error.h"

namespace hearth::api {

enum class ErrorType {
  invalid_request_error,  // 400
  authentication_error,   // 401
  permission_error,       // 403
  not_found_error,        // 404
  timeout_error,          // 408 (request body not received in time)
  request_too_large,      // 413
  rate_limit_error,       // 429
  api_error,              // 500
  overloaded_error,       // 529
};

int http_status(ErrorType type);
// What the `x-should-retry` header of an error response says, as the Anthropic API sends it: true where
// the same request may succeed later (408 timeout, 409, 429 rate limit, 5xx, 529 overloaded), false
// where only a different request can (400, 401, 403, 404, 405, 413, ...). Clients that honour it (the
// SDKs, Claude Code) stop at once on a wrong API key instead of retrying for minutes.
bool should_retry(int status);
std::string_view error_type_name(ErrorType type);

class ApiError : public std::runtime_error {
 public:
  // `param`: the request field at fault, where there is one (the OpenAI error shape reports it).
  ApiError(ErrorType type, std::string message, std::string param = {})
      : std::runtime_error(std::move(message)), type_(type), param_(std::move(param)) {}
  ErrorType type() const { return type_; }
  int status() const { return http_status(type_); }
  const std::string& param() const { return param_; }

 private:
  ErrorType type_;
  std::string param_;
};

// The Anthropic error type for a hearth::Error thrown below api/ (prompt_too_long stays a 400 with the
// error's own message, which Claude Code's auto-compaction parses).
ErrorType error_type_for(ErrorKind kind);
ApiError to_api_error(const Error& error);

// At most 2 KiB of the message (whole UTF-8 characters, the full length noted) and valid UTF-8.
std::string bounded_error_message(std::string_view message);

// {"type":"error","error":{"type":...,"message":...},"request_id":...} (request_id omitted when empty).
std::string error_body(ErrorType type, std::string_view message, std::string_view request_id = {});

}  // namespace hearth::api
