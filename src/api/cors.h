#pragma once
// Cross-origin access for browser clients (the Anthropic SDK in a browser sends
// `anthropic-dangerous-direct-browser-access: true` and a CORS preflight before each POST). Off unless
// origins are listed (hearth serve --cors-origin): a local model server must not be usable by any web
// page the user happens to open. Pure decisions over header values; the HTTP boundary applies them.
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hearth::api {

using HeaderList = std::vector<std::pair<std::string, std::string>>;

class CorsPolicy {
 public:
  // Origins as browsers send them ("https://app.example.com", "http://localhost:5173"), compared
  // exactly after dropping a trailing '/'; "*" allows every origin. Empty: CORS off.
  explicit CorsPolicy(std::vector<std::string> allowed_origins = {});

  bool enabled() const { return !allowed_.empty(); }
  bool allows(std::string_view origin) const;

  // Headers that let the page at `origin` read a response (none when the origin is absent or not allowed).
  HeaderList response_headers(std::string_view origin) const;
  // The extra headers of the answer to an allowed origin's preflight (OPTIONS with
  // Access-Control-Request-Method), on top of response_headers(): the route's methods, and the request
  // headers the browser asked for (the SDK's x-api-key, anthropic-version, x-stainless-*, ... vary by
  // version, so they are echoed rather than listed). None when the origin is not allowed.
  HeaderList preflight_headers(std::string_view origin, std::string_view allow_methods,
                               std::string_view requested_headers) const;

 private:
  std::vector<std::string> allowed_;
};

}  // namespace hearth::api
