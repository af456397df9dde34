// libFuzzer target for the Anthropic request parser and validator (api/request_parser.h), fed whole
// request bodies (seeded with recorded Claude Code requests). Checks, for every input:
//  - the parser either returns a request or throws ApiError with a 4xx type (a 500 would be a bug);
//  - the error body the server would send for it serialises (its message is valid UTF-8);
//  - every string and JSON value of an accepted request serialises as JSON (valid UTF-8), and every
//    accepted request has positive max_tokens when the endpoint needs it.
#include <cstdint>
#include <string>

#include "api/errors.h"
#include "api/request_parser.h"
#include "fuzz_util.h"

namespace {

using hearth::api::ApiError;
using hearth::api::ContentBlock;
using hearth::api::ErrorType;
using hearth::api::Json;
using hearth::fuzz::fail;

void check_text(const std::string& s, const char* what) {
  try {
    (void)Json(s).dump();
  } catch (const std::exception& e) {
    fail(std::string(what) + " is not valid UTF-8: " + e.what());
  }
}

void check_block(const ContentBlock& b) {
  for (const std::string* s : {&b.text, &b.signature, &b.id, &b.name, &b.tool_use_id, &b.media_type}) check_text(*s, "block field");
  try {
    (void)b.input.dump();
  } catch (const std::exception& e) {
    fail(std::string("tool_use input does not serialise: ") + e.what());
  }
  for (const ContentBlock& inner : b.content) check_block(inner);
}

void parse_one(std::string_view body, hearth::api::RequestKind kind) {
  try {
    hearth::api::MessagesRequest r = hearth::api::parse_messages_request(body, kind);
    check_text(r.model, "model");
    for (const auto& b : r.system) check_block(b);
    for (const auto& m : r.messages) {
      for (const auto& b : m.content) check_block(b);
    }
    for (const auto& t : r.tools) {
      check_text(t.name, "tool name");
      check_text(t.description, "tool description");
      (void)t.input_schema.dump();
    }
    for (const auto& s : r.stop_sequences) check_text(s, "stop sequence");
    if (kind == hearth::api::RequestKind::messages && r.max_tokens <= 0) fail("accepted max_tokens <= 0");
  } catch (const ApiError& e) {
    if (e.status() >= 500) fail(std::string("server error for a client's body: ") + e.what());
    try {
      (void)hearth::api::error_body(e.type(), e.what(), "req_x");
    } catch (const std::exception& x) {
      fail(std::string("error body does not serialise: ") + x.what());
    }
  } catch (const std::exception& e) {
    fail(std::string("unexpected exception: ") + e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view body = hearth::fuzz::as_text(data, size);
  parse_one(body, hearth::api::RequestKind::messages);
  parse_one(body, hearth::api::RequestKind::count_tokens);
  return 0;
}
