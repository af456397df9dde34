#pragma once
// A Messages request of one user turn, for the serve layer's tests.
#include <string>

#include "api/types.h"

namespace hearth::serve::testing {

inline api::MessagesRequest user_request(const std::string& text, int64_t max_tokens) {
  api::MessagesRequest r;
  r.model = "m";
  r.max_tokens = max_tokens;
  api::Message m;
  m.role = api::Role::user;
  api::ContentBlock b;
  b.text = text;
  m.content.push_back(b);
  r.messages.push_back(m);
  return r;
}

}  // namespace hearth::serve::testing
