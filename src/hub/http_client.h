#pragma once
// The hub client's view of HTTP: one GET at a time, redirects followed, the body streamed to a sink.
// The implementation (http_client.cpp) is cpp-httplib with OpenSSL, so https:// works; tests run it
// against a plain-HTTP fake hub. Nothing else in hub/ includes the HTTP library.
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hearth::hub {

struct HttpGet {
  std::string url;                                          // absolute: http(s)://host[:port]/path?query
  std::vector<std::pair<std::string, std::string>> headers; // sent to the first host only (as `requests` does,
                                                            // Authorization does not follow a redirect elsewhere)
  uint64_t range_start = 0;                                 // > 0: "Range: bytes=N-"
  // Called with the final (non-redirect) response's status and headers (names lower-cased) before
  // its first body byte.
  std::function<void(int status, const std::map<std::string, std::string>& headers)> on_response;
};

struct HttpResponse {
  int status = 0;                              // of the final response (after redirects)
  std::map<std::string, std::string> headers;  // final response, names lower-cased
  std::map<std::string, std::string> first_headers;  // the first response (the hub's own, before a CDN redirect)
  std::string body;                            // when no sink was given (or the status is not 2xx)
  std::string final_url;
};

// Receives body bytes of a 2xx response; false stops the transfer (the GET then throws Error(io)).
using BodySink = std::function<bool(std::string_view bytes)>;

class HttpClient {
 public:
  virtual ~HttpClient() = default;
  // Throws hearth::Error(io) when the host cannot be reached or the connection breaks mid-body (the
  // message says which, and how many body bytes had arrived); HTTP error statuses are returned.
  virtual HttpResponse get(const HttpGet& request, const BodySink& sink = nullptr) = 0;
};

struct HttpClientOptions {
  int connect_timeout_seconds = 10;
  int read_timeout_seconds = 60;
  int max_redirects = 10;
};

std::unique_ptr<HttpClient> make_http_client(const HttpClientOptions& options = {});

// "https://host:port/a/b?c" -> {"https://host:port", "/a/b?c"}; the origin is empty for a relative URL.
std::pair<std::string, std::string> split_url(std::string_view url);

}  // namespace hearth::hub
