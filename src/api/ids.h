#pragma once
// Random identifiers in Anthropic's shapes (msg_..., toolu_..., req_...) and random secrets.
#include <string>
#include <string_view>

namespace hearth::api {

// `prefix` followed by 24 random base62 characters, e.g. new_id("toolu_").
std::string new_id(std::string_view prefix);
// `count` bytes from the system's entropy source (std::random_device).
std::string random_bytes(size_t count);

}  // namespace hearth::api
