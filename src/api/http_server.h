#pragma once
// The HTTP boundary: plain request/response structs and a streaming writer, so that nothing else in
// hearth includes the HTTP library (cpp-httplib, used only in http_server.cpp).
#include <cstddef>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace hearth::api {

struct HttpRequest {
  std::string method;
  std::string path;                               // without the query string
  std::map<std::string, std::string> headers;     // names lower-cased
  std::map<std::string, std::string> query;
  std::vector<std::string> path_params;           // the route pattern's capture groups
  std::string body;
  std::string remote_addr;
  // True once the client has closed its connection (checked without blocking).
  std::function<bool()> client_gone;

  std::string header(std::string_view lowercase_name) const;
};

// Body writer of a streamed (chunked) response.
class ResponseStream {
 public:
  virtual ~ResponseStream() = default;
  virtual bool write(std::string_view bytes) = 0;  // false: the client is gone
  virtual bool client_gone() const = 0;
};

struct HttpResponse {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;
  // When set, the body is produced by this function after the status and headers went out.
  std::function<void(ResponseStream&)> stream;
};

using HttpHandler = std::function<HttpResponse(const HttpRequest&)>;
// Formats the boundary's own refusals (no route, body too large, body too slow, malformed HTTP); `path`
// is the request's path (empty when the request line itself could not be read), so that each API can
// answer in its own error shape.
using HttpErrorFormatter = std::function<HttpResponse(int status, const std::string& message, const std::string& path)>;

struct HttpServerOptions {
  std::string host = "127.0.0.1";
  int port = 8080;                       // 0: any free port (bind() reports it)
  size_t max_body_bytes = 32u << 20;     // larger bodies: 413
  int read_timeout_seconds = 30;         // one read of the request may wait this long
  int header_deadline_seconds = 10;      // a request's line and headers must arrive within this (then 408)
  int body_deadline_seconds = 120;       // the whole body must arrive within this (slow bodies: 408)
  size_t threads = 64;                   // connections served at once
  bool access_log = false;               // one line per request on stderr
  std::vector<std::string> cors_origins; // browser origins allowed to call (api/cors.h); empty: none
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // `path_pattern` is a regular expression matched against the whole path. GET routes answer HEAD too.
  // A method no route of a matching path has gets 405 with an `Allow` header; an allowed origin's CORS
  // preflight (OPTIONS) gets 204.
  void route(const std::string& method, const std::string& path_pattern, HttpHandler handler);
  void set_error_formatter(HttpErrorFormatter formatter);
  // Binds the socket; throws hearth::Error(io) naming host and port on failure. Returns the port.
  int bind();
  void run();   // serves until stop()
  void stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace hearth::api
