#pragma once
// How one wire format writes a generated message. The routes run every generation the same way (queue,
// backend, cancellation, metrics) and hand the message's events (stream_events.h, wire-free) to the
// request's writer, which turns them into that API's SSE frames or its JSON body. One writer per request.
#include <string>

#include "api/errors.h"
#include "api/stream_events.h"
#include "api/types.h"

namespace hearth::api {

enum class ErrorFormat { anthropic, openai };

class GenerationWriter {
 public:
  virtual ~GenerationWriter() = default;
  // Takes the next event; returns the stream bytes it becomes (possibly none). Non-streaming requests
  // ignore the bytes and read body() at the end.
  virtual std::string event(const StreamEvent& event) = 0;
  virtual Json body() const = 0;
  // Stream bytes that keep an otherwise silent stream open (waiting for the model, a long prefill).
  virtual std::string keepalive() const = 0;
  // Stream bytes that tell a failure after the response status went out.
  virtual std::string failure(const ApiError& error) const = 0;
  // Stream bytes after the last event of a completed message.
  virtual std::string end() const { return {}; }
};

}  // namespace hearth::api
