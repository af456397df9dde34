#include "api/auth.h"

#include <arpa/inet.h>

#include "api/sha256.h"

namespace hearth::api {

std::string presented_key(const HttpRequest& request) {
  std::string key = request.header("x-api-key");
  if (!key.empty()) return key;
  std::string authorization = request.header("authorization");
  constexpr std::string_view kBearer = "bearer ";
  if (authorization.size() > kBearer.size()) {
    bool bearer = true;
    for (size_t i = 0; i < kBearer.size(); ++i) {
      bearer = bearer && char(std::tolower(static_cast<unsigned char>(authorization[i]))) == kBearer[i];
    }
    if (bearer) {
      size_t start = authorization.find_first_not_of(' ', kBearer.size());
      if (start != std::string::npos) return authorization.substr(start);
    }
  }
  return {};
}

bool is_authorized(const HttpRequest& request, std::string_view configured) {
  if (configured.empty()) return true;
  return constant_time_equal(presented_key(request), configured);
}

bool is_loopback_host(std::string_view host) {
  if (host == "localhost" || host == "::1" || host == "[::1]") return true;
  in_addr v4{};
  std::string text(host);
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  return false;
}

}  // namespace hearth::api
