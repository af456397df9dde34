#pragma once
// API-key checks and the bind-address safety rule.
#include <string>
#include <string_view>

#include "api/http_server.h"

namespace hearth::api {

// The key a client sent: `x-api-key`, else `Authorization: Bearer <key>` (Claude Code sends the
// first for ANTHROPIC_API_KEY and the second for ANTHROPIC_AUTH_TOKEN). Empty if neither.
std::string presented_key(const HttpRequest& request);

// True when `configured` is empty (auth disabled) or the presented key equals it (constant time).
bool is_authorized(const HttpRequest& request, std::string_view configured);

// Loopback addresses and names: 127.0.0.0/8, ::1, localhost.
bool is_loopback_host(std::string_view host);

}  // namespace hearth::api
