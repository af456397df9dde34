#pragma once
// hearth's one exception type. Code that rejects input throws hearth::Error with a message a user can act
// on (naming the file, tensor, field or token involved); the API layer maps it to an Anthropic error.
#include <stdexcept>
#include <string>

namespace hearth {

enum class ErrorKind {
  invalid_request,   // the caller sent something wrong (400)
  not_found,         // unknown model or path (404)
  too_large,         // body over the limit (413)
  prompt_too_long,   // prompt over the context limit (400, Claude Code's compaction text)
  unsupported,       // a model/format hearth does not handle
  io,                // files, sockets
  out_of_memory,     // the engine's memory for sequences (KV pages) is exhausted for now (529)
  internal,          // a bug
};

class Error : public std::runtime_error {
 public:
  explicit Error(std::string message, ErrorKind kind = ErrorKind::internal)
      : std::runtime_error(std::move(message)), kind_(kind) {}
  ErrorKind kind() const { return kind_; }

 private:
  ErrorKind kind_;
};

}  // namespace hearth
