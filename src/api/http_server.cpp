#include "api/http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <mutex>
#include <regex>

#include <httplib.h>

#include "api/cors.h"
#include "util/error.h"

namespace hearth::api {
namespace {

std::string lowercase(std::string s) {
  for (char& c : s) c = char(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

// Parses a textual IPv4/IPv6 address (as httplib reports it) for comparison with a socket's peer.
bool same_endpoint(const sockaddr_storage& addr, const std::string& ip, int port) {
  if (addr.ss_family == AF_INET) {
    const auto& v4 = reinterpret_cast<const sockaddr_in&>(addr);
    in_addr parsed{};
    return ntohs(v4.sin_port) == port && inet_pton(AF_INET, ip.c_str(), &parsed) == 1 &&
           parsed.s_addr == v4.sin_addr.s_addr;
  }
  if (addr.ss_family == AF_INET6) {
    const auto& v6 = reinterpret_cast<const sockaddr_in6&>(addr);
    in6_addr parsed{};
    return ntohs(v6.sin6_port) == port && inet_pton(AF_INET6, ip.c_str(), &parsed) == 1 &&
           std::memcmp(&parsed, &v6.sin6_addr, sizeof(parsed)) == 0;
  }
  return false;
}

// httplib does not hand handlers their socket. The connection is found by its address pair among
// the process's open descriptors (unique while the handler runs: the socket stays open until it
// returns), so that a handler can notice a client that hung up while it generates.
int find_connection_socket(const httplib::Request& req) {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc/self/fd", ec)) {
    int fd = -1;
    try {
      fd = std::stoi(entry.path().filename().string());
    } catch (...) {
      continue;
    }
    sockaddr_storage local{}, peer{};
    socklen_t local_len = sizeof(local), peer_len = sizeof(peer);
    if (getsockname(fd, reinterpret_cast<sockaddr*>(&local), &local_len) != 0) continue;
    if (getpeername(fd, reinterpret_cast<sockaddr*>(&peer), &peer_len) != 0) continue;
    if (same_endpoint(peer, req.remote_addr, req.remote_port) && same_endpoint(local, req.local_addr, req.local_port)) {
      return fd;
    }
  }
  return -1;
}

// One client connection as httplib reads and writes it, served by HeaderDeadlineServer below. It is
// httplib's own socket stream (buffered reads, each read or write waiting at most its timeout) plus the
// one thing httplib lacks: a deadline for the request line and headers. httplib's read timeout is per
// read, so a client sending one header byte every few seconds would hold a thread forever (slowloris);
// here, once a request's first byte has arrived, every read of its header section fails after
// `header_deadline` (the request then gets 408 and the connection is closed). The body has its own
// deadline (read_body).
class ConnectionStream final : public httplib::Stream {
 public:
  using Clock = std::chrono::steady_clock;
  ConnectionStream(int sock, int read_timeout_s, int write_timeout_s, int header_deadline_s)
      : sock_(sock), read_timeout_ms_(read_timeout_s * 1000), write_timeout_ms_(write_timeout_s * 1000),
        header_deadline_(std::chrono::seconds(header_deadline_s)) {}

  // A request is about to be read: its header section must arrive within the deadline.
  void begin_request() {
    in_headers_ = true;
    header_timed_out_ = false;
    header_end_ = Clock::now() + header_deadline_;
  }
  // The headers were parsed (httplib reached routing).
  void end_headers() { in_headers_ = false; }
  bool header_timed_out() const { return header_timed_out_; }
  bool has_buffered() const { return offset_ < size_; }

  // Waits up to `timeout_ms` for the socket to have `events`; false on timeout or error.
  bool wait(short events, int timeout_ms) const {
    pollfd p{sock_, events, 0};
    int r;
    do {
      r = poll(&p, 1, timeout_ms);
    } while (r < 0 && errno == EINTR);
    return r > 0 && (p.revents & (events | POLLHUP | POLLERR)) != 0;
  }

  bool is_readable() const override { return has_buffered() || wait(POLLIN, read_wait_ms()); }
  bool is_writable() const override { return wait(POLLOUT, write_timeout_ms_); }

  ssize_t read(char* ptr, size_t size) override {
    if (!has_buffered()) {
      const int wait_ms = read_wait_ms();
      if (wait_ms == 0 && in_headers_) {
        header_timed_out_ = true;
        return -1;
      }
      if (!wait(POLLIN, wait_ms)) {
        // A wait the deadline shortened ran out: that is the deadline (the clock may read a hair
        // before it, as the wait is in whole milliseconds).
        if (in_headers_ && wait_ms < read_timeout_ms_) header_timed_out_ = true;
        return -1;
      }
      ssize_t n;
      do {
        n = recv(sock_, buffer_, sizeof buffer_, 0);
      } while (n < 0 && errno == EINTR);
      if (n <= 0) return n;
      offset_ = 0;
      size_ = static_cast<size_t>(n);
    }
    const size_t take = std::min(size, size_ - offset_);
    std::memcpy(ptr, buffer_ + offset_, take);
    offset_ += take;
    return static_cast<ssize_t>(take);
  }

  ssize_t write(const char* ptr, size_t size) override {
    if (!is_writable()) return -1;
    ssize_t n;
    do {
      n = send(sock_, ptr, size, MSG_NOSIGNAL);
    } while (n < 0 && errno == EINTR);
    return n;
  }

  void get_remote_ip_and_port(std::string& ip, int& port) const override { address(getpeername, ip, port); }
  void get_local_ip_and_port(std::string& ip, int& port) const override { address(getsockname, ip, port); }
  socket_t socket() const override { return sock_; }

 private:
  // The read timeout, shortened to what is left of the header deadline while headers are read.
  int read_wait_ms() const {
    if (!in_headers_) return read_timeout_ms_;
    const auto left = std::chrono::ceil<std::chrono::milliseconds>(header_end_ - Clock::now()).count();
    return static_cast<int>(std::clamp<int64_t>(left, 0, read_timeout_ms_));
  }
  void address(int (*query)(int, sockaddr*, socklen_t*), std::string& ip, int& port) const {
    sockaddr_storage addr{};
    socklen_t len = sizeof(addr);
    ip.clear();
    port = 0;
    if (query(sock_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return;
    char text[INET6_ADDRSTRLEN] = {};
    if (addr.ss_family == AF_INET) {
      const auto& v4 = reinterpret_cast<const sockaddr_in&>(addr);
      inet_ntop(AF_INET, &v4.sin_addr, text, sizeof text);
      port = ntohs(v4.sin_port);
    } else if (addr.ss_family == AF_INET6) {
      const auto& v6 = reinterpret_cast<const sockaddr_in6&>(addr);
      inet_ntop(AF_INET6, &v6.sin6_addr, text, sizeof text);
      port = ntohs(v6.sin6_port);
    }
    ip = text;
  }

  int sock_;
  int read_timeout_ms_;
  int write_timeout_ms_;
  std::chrono::seconds header_deadline_;
  bool in_headers_ = false;
  bool header_timed_out_ = false;
  Clock::time_point header_end_{};
  char buffer_[4096];
  size_t offset_ = 0;
  size_t size_ = 0;
};

// The connection the calling thread serves (set by HeaderDeadlineServer for the handlers it runs).
thread_local ConnectionStream* current_connection = nullptr;

// httplib::Server with its per-connection loop replaced (process_and_close_socket is the library's
// extension point, virtual for its TLS server): the same keep-alive loop over process_request, on a
// ConnectionStream, so that every request's header section has a deadline.
class HeaderDeadlineServer : public httplib::Server {
 public:
  explicit HeaderDeadlineServer(int header_deadline_seconds) : header_deadline_seconds_(header_deadline_seconds) {}

 private:
  bool process_and_close_socket(socket_t sock) override {
    ConnectionStream stream(sock, static_cast<int>(read_timeout_sec_), static_cast<int>(write_timeout_sec_),
                            header_deadline_seconds_);
    current_connection = &stream;
    bool ok = false;
    for (size_t left = keep_alive_max_count_; left > 0 && wait_for_request(stream); --left) {
      stream.begin_request();
      bool connection_closed = false;
      ok = process_request(stream, left == 1, connection_closed, nullptr);
      // After a header timeout the rest of that header section may still trickle in: never parse it as
      // the next request.
      if (!ok || connection_closed || stream.header_timed_out()) break;
    }
    current_connection = nullptr;
    shutdown(sock, SHUT_RDWR);
    close(sock);
    return ok;
  }

  // Like httplib's keep-alive wait: up to keep_alive_timeout_sec_ for the next request's first byte, in
  // short slices so that stop() is not held up.
  bool wait_for_request(const ConnectionStream& stream) const {
    if (stream.has_buffered()) return true;
    const auto end = std::chrono::steady_clock::now() + std::chrono::seconds(keep_alive_timeout_sec_);
    while (svr_sock_ != INVALID_SOCKET) {
      if (stream.wait(POLLIN, 50)) return true;
      if (std::chrono::steady_clock::now() >= end) return false;
    }
    return false;
  }

  int header_deadline_seconds_;
};

// Answers "has the client hung up?" without blocking. A peer that closed (FIN or RST) makes the
// socket report RDHUP/HUP/ERR; pipelined request bytes (POLLIN alone) do not count.
class DisconnectProbe {
 public:
  // `fd`: the connection's socket when known (served by HeaderDeadlineServer), else found on first use.
  DisconnectProbe(const httplib::Request& req, int fd) : req_(req), fd_(fd) {}
  bool gone() {
    std::call_once(found_, [&] {
      if (fd_ < 0) fd_ = find_connection_socket(req_);
    });
    if (fd_ < 0) return false;
    pollfd p{fd_, POLLRDHUP, 0};
    if (poll(&p, 1, 0) <= 0) return false;
    return (p.revents & (POLLRDHUP | POLLHUP | POLLERR | POLLNVAL)) != 0;
  }

 private:
  const httplib::Request& req_;
  std::once_flag found_;
  int fd_ = -1;
};

class SinkStream : public ResponseStream {
 public:
  SinkStream(httplib::DataSink& sink, std::shared_ptr<DisconnectProbe> probe) : sink_(sink), probe_(std::move(probe)) {}
  bool write(std::string_view bytes) override {
    if (failed_) return false;
    if (!sink_.write(bytes.data(), bytes.size())) failed_ = true;
    return !failed_;
  }
  bool client_gone() const override { return failed_ || probe_->gone(); }

 private:
  httplib::DataSink& sink_;
  std::shared_ptr<DisconnectProbe> probe_;
  bool failed_ = false;
};

enum class BodyProblem {
  none,
  too_large,          // read to its end and dropped: the connection can carry the next request
  too_large_unread,   // refused without reading it all
  too_slow,
  read_failed,
};

// Messages for the refusals httplib makes before a handler runs.
std::string boundary_error_message(int status) {
  switch (status) {
    case 400: return "malformed HTTP request";
    case 404: return "not found";
    case 405: return "method not allowed";
    case 413: return "request body too large";
    case 414: return "request URI too long";
    default: return "HTTP error " + std::to_string(status);
  }
}

}  // namespace

std::string HttpRequest::header(std::string_view lowercase_name) const {
  auto it = headers.find(std::string(lowercase_name));
  return it == headers.end() ? std::string() : it->second;
}

struct HttpServer::Impl {
  explicit Impl(HttpServerOptions o) : options(std::move(o)), server(options.header_deadline_seconds) {}
  HttpServerOptions options;
  HeaderDeadlineServer server;
  CorsPolicy cors;
  struct Route {
    std::string method;
    std::regex pattern;
  };
  std::vector<Route> routes;
  HttpErrorFormatter formatter = [](int status, const std::string& message, const std::string&) {
    HttpResponse r;
    r.status = status;
    r.content_type = "text/plain";
    r.body = message;
    return r;
  };

  // The methods the routes matching `path` answer (none when no route matches).
  std::vector<std::string> allowed_methods(const std::string& path) const {
    std::vector<std::string> methods;
    auto add = [&](const std::string& m) {
      if (std::find(methods.begin(), methods.end(), m) == methods.end()) methods.push_back(m);
    };
    for (const Route& r : routes) {
      if (!std::regex_match(path, r.pattern)) continue;
      add(r.method);
      if (r.method == "GET") add("HEAD");
    }
    if (!methods.empty() && cors.enabled()) add("OPTIONS");
    return methods;
  }

  // Before routing: CORS preflights and methods the path has no route for (httplib itself would answer
  // those 404 or 400, which tells a client nothing).
  httplib::Server::HandlerResponse screen_method(const httplib::Request& req, httplib::Response& res) {
    const std::vector<std::string> methods = allowed_methods(req.path);
    if (methods.empty()) {
      // Unknown path: answered here, before any body is read (httplib would read a POST's body, up to
      // the drain limit and with no deadline, before its own 404; for PUT, PATCH, DELETE, ... it would
      // wait for a body that a bodiless request never sends).
      return refuse(req, res, formatter(404, "not found", req.path));
    }
    std::string allow;  // as the `Allow` header lists them
    for (const std::string& m : methods) allow += (allow.empty() ? "" : ", ") + m;
    const std::string origin = req.get_header_value("Origin");
    if (req.method == "OPTIONS" && req.has_header("Access-Control-Request-Method") && cors.allows(origin)) {
      res.status = 204;
      for (const auto& [name, value] :
           cors.preflight_headers(origin, allow, req.get_header_value("Access-Control-Request-Headers"))) {
        res.set_header(name, value);
      }
      return httplib::Server::HandlerResponse::Handled;
    }
    // OPTIONS is listed for preflights only; a route handles every other method listed.
    const bool routed = req.method != "OPTIONS" && std::find(methods.begin(), methods.end(), req.method) != methods.end();
    if (routed) return httplib::Server::HandlerResponse::Unhandled;
    std::string message = "method " + req.method + " is not allowed on " + req.path + " (allowed: " + allow + ")";
    if (req.method == "OPTIONS" && !origin.empty()) {
      message += cors.enabled() ? "; origin " + origin + " is not in the server's CORS allow-list"
                                : "; cross-origin requests are off (hearth serve --cors-origin)";
    }
    HttpResponse refusal = formatter(405, message, req.path);
    refusal.headers.emplace_back("Allow", allow);
    return refuse(req, res, refusal);
  }

  // Answers before the body was read.
  httplib::Server::HandlerResponse refuse(const httplib::Request& req, httplib::Response& res, const HttpResponse& refusal) {
    apply(refusal, res, nullptr);
    // A body the handler never read may still be on the wire.
    if (req.has_header("Content-Length") || req.has_header("Transfer-Encoding")) res.set_header("Connection", "close");
    return httplib::Server::HandlerResponse::Handled;
  }

  void apply(const HttpResponse& from, httplib::Response& to, std::shared_ptr<DisconnectProbe> probe) {
    to.status = from.status;
    for (const auto& [name, value] : from.headers) to.set_header(name, value);
    if (from.stream) {
      auto producer = from.stream;
      to.set_chunked_content_provider(from.content_type, [producer, probe](size_t, httplib::DataSink& sink) {
        SinkStream stream(sink, probe);
        try {
          producer(stream);
        } catch (const std::exception& e) {
          std::fprintf(stderr, "hearth: streamed response failed: %s\n", e.what());
        }
        sink.done();
        return true;
      });
    } else {
      to.set_content(from.body, from.content_type);
    }
  }

  HttpRequest convert(const httplib::Request& req, std::string body, std::shared_ptr<DisconnectProbe> probe) {
    HttpRequest out;
    out.method = req.method;
    out.path = req.path;
    for (const auto& [name, value] : req.headers) out.headers.emplace(lowercase(name), value);
    for (const auto& [name, value] : req.params) out.query.emplace(name, value);
    for (size_t i = 1; i < req.matches.size(); ++i) out.path_params.push_back(req.matches[i].str());
    out.body = std::move(body);
    out.remote_addr = req.remote_addr;
    out.client_gone = [probe] { return probe->gone(); };
    return out;
  }

  void run_handler(const HttpHandler& handler, const httplib::Request& req, httplib::Response& res, std::string body) {
    auto probe = std::make_shared<DisconnectProbe>(req, current_connection ? current_connection->socket() : -1);
    HttpResponse response;
    try {
      response = handler(convert(req, std::move(body), probe));
    } catch (const std::exception& e) {
      response = formatter(500, std::string("internal error: ") + e.what(), req.path);
    }
    apply(response, res, probe);
  }

  // Reads the body with a size limit and an overall deadline (a trickled body cannot hold a thread
  // longer than body_deadline_seconds). A body over the limit is still read to its end (and dropped)
  // up to drain_limit(), so that the connection stays usable and the client, still sending, receives
  // the 413 instead of a reset.
  size_t drain_limit() const { return std::max<size_t>(options.max_body_bytes * 4, size_t(256) << 20); }

  BodyProblem read_body(const httplib::Request& req, const httplib::ContentReader& reader, std::string& body) {
    const uint64_t declared = req.get_header_value<uint64_t>("Content-Length");
    if (declared > drain_limit()) return BodyProblem::too_large_unread;
    const auto start = std::chrono::steady_clock::now();
    const auto deadline = start + std::chrono::seconds(options.body_deadline_seconds);
    BodyProblem problem = BodyProblem::none;
    size_t received = 0;
    bool ok = reader([&](const char* data, size_t length) {
      received += length;
      if (received > options.max_body_bytes) {
        problem = BodyProblem::too_large;
        body.clear();
        if (received > drain_limit()) return false;
      } else {
        body.append(data, length);
      }
      if (std::chrono::steady_clock::now() > deadline) {
        problem = BodyProblem::too_slow;
        return false;
      }
      return true;
    });
    if (!ok && problem == BodyProblem::none) {
      // A read that failed only after waiting the read timeout is a stalled client; sooner, the body
      // itself was unreadable (bad chunk framing, connection closed early).
      const bool waited = std::chrono::steady_clock::now() - start >= std::chrono::seconds(options.read_timeout_seconds);
      problem = waited ? BodyProblem::too_slow : BodyProblem::read_failed;
    }
    if (!ok && problem == BodyProblem::too_large) problem = BodyProblem::too_large_unread;
    return problem;
  }
};

HttpServer::HttpServer(HttpServerOptions options) : impl_(std::make_unique<Impl>(std::move(options))) {
  impl_->cors = CorsPolicy(impl_->options.cors_origins);
  Impl* impl = impl_.get();
  auto& server = impl->server;
  const size_t threads = std::max<size_t>(impl->options.threads, 4);
  server.new_task_queue = [threads] { return new httplib::ThreadPool(threads); };
  // The limit itself is enforced in read_body (also for chunked bodies, which httplib does not count).
  server.set_payload_max_length(impl->drain_limit());
  server.set_read_timeout(impl->options.read_timeout_seconds, 0);
  server.set_write_timeout(impl->options.read_timeout_seconds, 0);
  server.set_keep_alive_max_count(100);
  // Every response of status >= 400 passes here; fill in a body for the ones httplib made itself.
  server.set_error_handler(httplib::Server::HandlerWithResponse(
      [impl](const httplib::Request& req, httplib::Response& res) {
        if (current_connection && current_connection->header_timed_out()) {
          // httplib reports a header section cut off by the deadline as malformed (400).
          res.status = 408;
          res.set_header("Connection", "close");
          HttpResponse formatted = impl->formatter(408, "request headers were not received within " +
                                                            std::to_string(impl->options.header_deadline_seconds) + " seconds",
                                                        req.path);
          res.set_content(formatted.body, formatted.content_type);
          return httplib::Server::HandlerResponse::Handled;
        }
        if (!res.body.empty() || res.content_provider_) return httplib::Server::HandlerResponse::Unhandled;
        HttpResponse formatted = impl->formatter(res.status, boundary_error_message(res.status), req.path);
        res.set_content(formatted.body, formatted.content_type);
        return httplib::Server::HandlerResponse::Handled;
      }));
  server.set_exception_handler([impl](const httplib::Request& req, httplib::Response& res, std::exception_ptr) {
    HttpResponse formatted = impl->formatter(500, "internal error", req.path);
    res.status = 500;
    res.set_content(formatted.body, formatted.content_type);
  });
  server.set_pre_routing_handler(
      [impl](const httplib::Request& req, httplib::Response& res) {
        if (current_connection) current_connection->end_headers();
        return impl->screen_method(req, res);
      });
  // Every response, errors included, tells an allowed browser origin that it may read it.
  server.set_post_routing_handler([impl](const httplib::Request& req, httplib::Response& res) {
    for (const auto& [name, value] : impl->cors.response_headers(req.get_header_value("Origin"))) res.set_header(name, value);
  });
  if (impl->options.access_log) {
    server.set_logger([](const httplib::Request& req, const httplib::Response& res) {
      std::fprintf(stderr, "hearth: %s %s -> %d\n", req.method.c_str(), req.path.c_str(), res.status);
    });
  }
}

HttpServer::~HttpServer() { stop(); }

void HttpServer::route(const std::string& method, const std::string& path_pattern, HttpHandler handler) {
  Impl* impl = impl_.get();
  auto& server = impl->server;
  if (method == "GET" || method == "POST") impl->routes.push_back({method, std::regex(path_pattern)});
  if (method == "GET") {
    server.Get(path_pattern, [impl, handler](const httplib::Request& req, httplib::Response& res) {
      impl->run_handler(handler, req, res, {});
    });
  } else if (method == "POST") {
    server.Post(path_pattern, [impl, handler](const httplib::Request& req, httplib::Response& res,
                                              const httplib::ContentReader& reader) {
      std::string body;
      const BodyProblem problem = impl->read_body(req, reader, body);
      switch (problem) {
        case BodyProblem::none:
          impl->run_handler(handler, req, res, std::move(body));
          return;
        case BodyProblem::too_large:
        case BodyProblem::too_large_unread:
          impl->apply(impl->formatter(413, "request body is larger than " + std::to_string(impl->options.max_body_bytes) +
                                               " bytes", req.path),
                      res, nullptr);
          break;
        case BodyProblem::too_slow:
          impl->apply(impl->formatter(408, "request body was not received in time", req.path), res, nullptr);
          break;
        case BodyProblem::read_failed:
          impl->apply(impl->formatter(400, "request body could not be read (malformed chunked encoding or cut short)", req.path),
                      res, nullptr);
          break;
      }
      // Part of the body may still be on the wire: ask the client not to reuse the connection.
      if (problem != BodyProblem::too_large) res.set_header("Connection", "close");
    });
  } else {
    throw Error("HttpServer::route: unsupported method " + method, ErrorKind::internal);
  }
}

void HttpServer::set_error_formatter(HttpErrorFormatter formatter) { impl_->formatter = std::move(formatter); }

int HttpServer::bind() {
  auto& o = impl_->options;
  if (o.port == 0) {
    int port = impl_->server.bind_to_any_port(o.host);
    if (port <= 0) throw Error("cannot listen on " + o.host + " (any port)", ErrorKind::io);
    o.port = port;
    return port;
  }
  if (!impl_->server.bind_to_port(o.host, o.port)) {
    throw Error("cannot listen on " + o.host + ":" + std::to_string(o.port) + " (address in use or not available)",
                ErrorKind::io);
  }
  return o.port;
}

void HttpServer::run() { impl_->server.listen_after_bind(); }

void HttpServer::stop() {
  if (impl_->server.is_running()) impl_->server.stop();
}

}  // namespace hearth::api
