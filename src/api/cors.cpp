#include "api/cors.h"

#include <algorithm>

namespace hearth::api {
namespace {

std::string_view without_trailing_slash(std::string_view origin) {
  while (!origin.empty() && origin.back() == '/') origin.remove_suffix(1);
  return origin;
}

}  // namespace

CorsPolicy::CorsPolicy(std::vector<std::string> allowed_origins) {
  for (const std::string& origin : allowed_origins) {
    const std::string_view trimmed = without_trailing_slash(origin);
    if (!trimmed.empty()) allowed_.emplace_back(trimmed);
  }
}

bool CorsPolicy::allows(std::string_view origin) const {
  origin = without_trailing_slash(origin);
  if (origin.empty()) return false;
  return std::any_of(allowed_.begin(), allowed_.end(),
                     [&](const std::string& allowed) { return allowed == "*" || allowed == origin; });
}

HeaderList CorsPolicy::response_headers(std::string_view origin) const {
  if (!allows(origin)) return {};
  // The origin itself rather than "*": the answer differs per origin, so caches must key on it (Vary).
  return {{"Access-Control-Allow-Origin", std::string(origin)},
          {"Vary", "Origin"},
          {"Access-Control-Expose-Headers", "request-id, x-should-retry"}};
}

HeaderList CorsPolicy::preflight_headers(std::string_view origin, std::string_view allow_methods,
                                         std::string_view requested_headers) const {
  if (!allows(origin)) return {};
  HeaderList headers;
  headers.emplace_back("Access-Control-Allow-Methods", std::string(allow_methods));
  if (!requested_headers.empty()) headers.emplace_back("Access-Control-Allow-Headers", std::string(requested_headers));
  headers.emplace_back("Access-Control-Max-Age", "600");
  return headers;
}

}  // namespace hearth::api
