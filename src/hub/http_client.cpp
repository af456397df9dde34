#include "hub/http_client.h"

#include <httplib.h>

#include <algorithm>
#include <cctype>

#include "util/error.h"

namespace hearth::hub {
namespace {

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

std::map<std::string, std::string> lowered(const httplib::Headers& headers) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : headers) out[lower(k)] = v;
  return out;
}

std::string describe(httplib::Error error) {
  switch (error) {
    case httplib::Error::Connection: return "could not connect";
    case httplib::Error::SSLConnection: return "TLS connection failed";
    case httplib::Error::SSLLoadingCerts: return "could not load the system's CA certificates";
    case httplib::Error::SSLServerVerification: return "the server's TLS certificate did not verify";
    case httplib::Error::Read: return "the connection broke while reading";
    case httplib::Error::Write: return "the connection broke while writing";
    case httplib::Error::Canceled: return "the transfer was stopped";
    case httplib::Error::ConnectionTimeout: return "the connection timed out";
    default: return "HTTP error (" + httplib::to_string(error) + ")";
  }
}

class HttplibClient final : public HttpClient {
 public:
  explicit HttplibClient(const HttpClientOptions& options) : options_(options) {}

  HttpResponse get(const HttpGet& request, const BodySink& sink) override {
    HttpResponse out;
    auto [origin, target] = split_url(request.url);
    if (origin.empty()) throw Error("not an absolute URL: " + request.url, ErrorKind::invalid_request);
    const std::string first_origin = origin;
    for (int hop = 0;; ++hop) {
      httplib::Client client(origin);
      client.set_connection_timeout(options_.connect_timeout_seconds);
      client.set_read_timeout(options_.read_timeout_seconds);
      client.set_follow_location(false);
      if (!client.is_valid()) throw Error("cannot use URL " + origin + target + " (unsupported scheme?)", ErrorKind::invalid_request);
      httplib::Headers headers;
      for (const auto& [k, v] : request.headers) {
        // Credentials stay with the host they were meant for.
        if (origin != first_origin && lower(k) == "authorization") continue;
        headers.emplace(k, v);
      }
      if (request.range_start > 0) headers.emplace("Range", "bytes=" + std::to_string(request.range_start) + "-");
      int status = 0;
      uint64_t received = 0;
      std::string body;
      auto result = client.Get(
          target, headers,
          [&](const httplib::Response& r) {
            status = r.status;
            const bool redirect = r.status >= 300 && r.status < 400 && r.has_header("Location");
            if (!redirect && request.on_response) request.on_response(r.status, lowered(r.headers));
            return true;
          },
          [&](const char* data, size_t n) {
            received += n;
            if (sink && status >= 200 && status < 300) return sink(std::string_view(data, n));
            if (body.size() < (8u << 20)) body.append(data, n);
            return true;
          });
      if (!result) {
        std::string what = origin + target + ": " + describe(result.error());
        if (status != 0) what += " after " + std::to_string(received) + " bytes of the body";
        throw Error(what, ErrorKind::io);
      }
      if (hop == 0) out.first_headers = lowered(result->headers);
      const int code = result->status;
      if (code >= 300 && code < 400 && result->has_header("Location")) {
        if (hop >= options_.max_redirects) throw Error(request.url + ": too many redirects", ErrorKind::io);
        const std::string location = result->get_header_value("Location");
        auto [next_origin, next_target] = split_url(location);
        if (next_origin.empty()) {
          next_target = location.empty() || location[0] != '/' ? target.substr(0, target.rfind('/') + 1) + location : location;
        } else {
          origin = next_origin;
        }
        target = next_target;
        continue;
      }
      out.status = code;
      out.headers = lowered(result->headers);
      out.body = std::move(body);
      out.final_url = origin + target;
      return out;
    }
  }

 private:
  HttpClientOptions options_;
};

}  // namespace

std::pair<std::string, std::string> split_url(std::string_view url) {
  const size_t scheme = url.find("://");
  if (scheme == std::string_view::npos) return {"", std::string(url)};
  const size_t path = url.find_first_of("/?", scheme + 3);
  if (path == std::string_view::npos) return {std::string(url), "/"};
  std::string target(url.substr(path));
  if (target[0] == '?') target = "/" + target;
  return {std::string(url.substr(0, path)), target};
}

std::unique_ptr<HttpClient> make_http_client(const HttpClientOptions& options) {
  return std::make_unique<HttplibClient>(options);
}

}  // namespace hearth::hub
