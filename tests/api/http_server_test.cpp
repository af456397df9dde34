// The HTTP boundary over real sockets: body limits (Content-Length and chunked), slow bodies, the
// boundary's own errors as formatted bodies, streaming, HEAD, and noticing a client that hung up.
#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "api/http_server.h"

namespace hearth::api {
namespace {

class Server {
 public:
  explicit Server(HttpServerOptions o, std::function<void(HttpServer&)> setup) : http_(o) {
    http_.set_error_formatter([](int status, const std::string& message, const std::string&) {
      HttpResponse r;
      r.status = status;
      r.body = "{\"formatted\":" + std::to_string(status) + ",\"message\":\"" + message + "\"}";
      return r;
    });
    setup(http_);
    port_ = http_.bind();
    thread_ = std::thread([this] { http_.run(); });
  }
  ~Server() {
    http_.stop();
    thread_.join();
  }
  int port() const { return port_; }

 private:
  HttpServer http_;
  int port_ = 0;
  std::thread thread_;
};

int connect_to(int port) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(uint16_t(port));
  inet_pton(AF_INET, "127.0.0.1", &addr.sin_addr);
  if (connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) ADD_FAILURE() << "connect failed";
  timeval tv{5, 0};
  setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

void send_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = send(fd, data.data(), data.size(), MSG_NOSIGNAL);
    if (n <= 0) return;
    data.remove_prefix(size_t(n));
  }
}

// Reads until the peer closes or `until` appears.
std::string read_response(int fd, std::string_view until = {}) {
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, size_t(n));
    if (!until.empty() && out.find(until) != std::string::npos) break;
  }
  return out;
}

std::string exchange(int port, std::string_view request, std::string_view until = {}) {
  int fd = connect_to(port);
  send_all(fd, request);
  std::string r = read_response(fd, until);
  close(fd);
  return r;
}

HttpServerOptions small_limits() {
  HttpServerOptions o;
  o.port = 0;
  o.max_body_bytes = 1000;
  o.read_timeout_seconds = 1;
  o.body_deadline_seconds = 2;
  o.threads = 8;
  return o;
}

void echo_routes(HttpServer& s) {
  s.route("POST", "/echo", [](const HttpRequest& r) {
    HttpResponse out;
    out.body = "got " + std::to_string(r.body.size()) + " " + r.header("x-test") + " " + (r.query.count("q") ? r.query.at("q") : std::string());
    return out;
  });
  s.route("GET", "/item/([^/]+)", [](const HttpRequest& r) {
    HttpResponse out;
    out.body = "item " + r.path_params.at(0);
    return out;
  });
}

TEST(HttpServer, PassesBodyHeadersQueryAndPathParams) {
  Server server(small_limits(), echo_routes);
  std::string r = exchange(server.port(), "POST /echo?q=1 HTTP/1.1\r\nHost: x\r\nX-Test: yes\r\nContent-Length: 3\r\n"
                                          "Connection: close\r\n\r\nabc");
  EXPECT_NE(r.find("200 OK"), std::string::npos);
  EXPECT_NE(r.find("got 3 yes 1"), std::string::npos);
  r = exchange(server.port(), "GET /item/abc HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("item abc"), std::string::npos);
}

TEST(HttpServer, BodyOverLimitIs413ByContentLengthAndByChunks) {
  Server server(small_limits(), echo_routes);
  std::string r = exchange(server.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5000\r\nConnection: close\r\n\r\n" + std::string(5000, 'a'));
  EXPECT_NE(r.find("413"), std::string::npos);
  EXPECT_NE(r.find("\"formatted\":413"), std::string::npos);
  std::string chunked = "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n";
  for (int i = 0; i < 5; ++i) chunked += "3e8\r\n" + std::string(1000, 'b') + "\r\n";
  chunked += "0\r\n\r\n";
  r = exchange(server.port(), chunked);
  EXPECT_NE(r.find("413"), std::string::npos);
  EXPECT_NE(r.find("\"formatted\":413"), std::string::npos);
  // A declared length far past what the server would drain is refused without reading the body.
  r = exchange(server.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999999\r\n\r\nabc", "}");
  EXPECT_NE(r.find("413"), std::string::npos);
}

TEST(HttpServer, ConnectionStaysUsableAfterA413) {
  // The oversized body is read to its end, so the same keep-alive connection serves the next request.
  Server server(small_limits(), echo_routes);
  int fd = connect_to(server.port());
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3000\r\n\r\n" + std::string(3000, 'a'));
  std::string first = read_response(fd, "}");
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok");
  std::string second = read_response(fd);
  close(fd);
  EXPECT_NE(first.find("413"), std::string::npos);
  EXPECT_NE(second.find("got 2"), std::string::npos) << second;
}

TEST(HttpServer, StalledBodyIs408) {
  Server server(small_limits(), echo_routes);
  std::string r = exchange(server.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nonly-a-bit", "}");
  EXPECT_NE(r.find("408"), std::string::npos);
  EXPECT_NE(r.find("\"formatted\":408"), std::string::npos);
}

TEST(HttpServer, MalformedChunkedBodyIs400) {
  Server server(small_limits(), echo_routes);
  std::string r = exchange(server.port(),
                           "POST /echo HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\nabc\r\n0\r\n\r\n", "}");
  EXPECT_NE(r.find("400"), std::string::npos) << r;
  EXPECT_NE(r.find("\"formatted\":400"), std::string::npos);
}

TEST(HttpServer, TrickledBodyHitsTheDeadline) {
  Server server(small_limits(), echo_routes);
  int fd = connect_to(server.port());
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 900\r\n\r\n");
  auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < 40; ++i) {  // a byte every 100 ms: never idle long enough for the read timeout
    send_all(fd, "a");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  std::string r = read_response(fd, "}");
  close(fd);
  EXPECT_NE(r.find("408"), std::string::npos) << r;
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
}

TEST(HttpServer, UnknownPathAndMalformedRequestLineAreFormatted) {
  Server server(small_limits(), echo_routes);
  std::string r = exchange(server.port(), "GET /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("404"), std::string::npos);
  EXPECT_NE(r.find("\"formatted\":404"), std::string::npos);
  r = exchange(server.port(), "BLAH\r\n\r\n", "}");
  EXPECT_NE(r.find("400"), std::string::npos);
}

TEST(HttpServer, GetRoutesAnswerHead) {
  Server server(small_limits(), echo_routes);
  std::string r = exchange(server.port(), "HEAD /item/x HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("200 OK"), std::string::npos);
  EXPECT_EQ(r.find("item x"), std::string::npos);
}

TEST(HttpServer, StreamsChunkedBody) {
  Server server(small_limits(), [](HttpServer& s) {
    s.route("GET", "/s", [](const HttpRequest&) {
      HttpResponse r;
      r.content_type = "text/event-stream";
      r.stream = [](ResponseStream& out) {
        for (int i = 0; i < 3; ++i) out.write("data: " + std::to_string(i) + "\n\n");
      };
      return r;
    });
  });
  std::string r = exchange(server.port(), "GET /s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("Transfer-Encoding: chunked"), std::string::npos);
  EXPECT_NE(r.find("text/event-stream"), std::string::npos);
  EXPECT_NE(r.find("data: 2"), std::string::npos);
}

TEST(HttpServer, HandlerNoticesAClientThatHungUp) {
  std::atomic<int> noticed{-1};
  Server server(small_limits(), [&](HttpServer& s) {
    s.route("POST", "/wait", [&](const HttpRequest& r) {
      EXPECT_FALSE(r.client_gone());
      auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
      while (!r.client_gone() && std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(std::chrono::milliseconds(5));
      }
      noticed = r.client_gone() ? 1 : 0;
      return HttpResponse{};
    });
  });
  int fd = connect_to(server.port());
  send_all(fd, "POST /wait HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi");
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  close(fd);
  for (int i = 0; i < 200 && noticed.load() < 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(noticed.load(), 1);
}

TEST(HttpServer, HandlerExceptionBecomesFormatted500) {
  Server server(small_limits(), [](HttpServer& s) {
    s.route("GET", "/boom", [](const HttpRequest&) -> HttpResponse { throw std::runtime_error("kaboom"); });
  });
  std::string r = exchange(server.port(), "GET /boom HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("500"), std::string::npos);
  EXPECT_NE(r.find("kaboom"), std::string::npos);
}

// The value of header `name` in a raw response ("" when absent); names compared case-insensitively.
std::string header_value(const std::string& response, std::string name) {
  std::string lower = response;
  for (char& c : lower) c = char(std::tolower(static_cast<unsigned char>(c)));
  for (char& c : name) c = char(std::tolower(static_cast<unsigned char>(c)));
  const size_t head_end = lower.find("\r\n\r\n");
  const size_t at = lower.find("\r\n" + name + ":");
  if (at == std::string::npos || at > head_end) return {};
  size_t start = at + 2 + name.size() + 1;
  while (response[start] == ' ') ++start;
  return response.substr(start, response.find("\r\n", start) - start);
}

TEST(HttpServer, MethodWithoutARouteIs405WithAllow) {
  Server server(small_limits(), echo_routes);
  std::string r = exchange(server.port(), "PUT /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n\r\nhi", "}");
  EXPECT_NE(r.find("405"), std::string::npos) << r;
  EXPECT_EQ(header_value(r, "Allow"), "POST");
  EXPECT_NE(r.find("\"formatted\":405"), std::string::npos);
  EXPECT_EQ(header_value(r, "Connection"), "close");  // the unread body must not be taken for a request
  r = exchange(server.port(), "DELETE /item/3 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("405"), std::string::npos) << r;
  EXPECT_EQ(header_value(r, "Allow"), "GET, HEAD");
  // Without an allow-list, a preflight is one more method the route lacks.
  r = exchange(server.port(), "OPTIONS /echo HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:5173\r\n"
                              "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("405"), std::string::npos) << r;
  EXPECT_NE(r.find("--cors-origin"), std::string::npos) << r;
  EXPECT_EQ(header_value(r, "Access-Control-Allow-Origin"), "");
  // An unknown path stays 404 whatever the method.
  r = exchange(server.port(), "PUT /nope HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("404"), std::string::npos) << r;
}

HttpServerOptions with_cors(std::vector<std::string> origins) {
  HttpServerOptions o = small_limits();
  o.cors_origins = std::move(origins);
  return o;
}

TEST(HttpServer, PreflightFromAnAllowedOriginIs204WithTheCorsHeaders) {
  Server server(with_cors({"http://localhost:5173"}), echo_routes);
  std::string r = exchange(server.port(),
                           "OPTIONS /echo HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:5173\r\n"
                           "Access-Control-Request-Method: POST\r\n"
                           "Access-Control-Request-Headers: x-api-key,anthropic-dangerous-direct-browser-access\r\n"
                           "Connection: close\r\n\r\n");
  EXPECT_NE(r.find("204"), std::string::npos) << r;
  EXPECT_EQ(header_value(r, "Access-Control-Allow-Origin"), "http://localhost:5173");
  EXPECT_EQ(header_value(r, "Access-Control-Allow-Methods"), "POST, OPTIONS");
  EXPECT_EQ(header_value(r, "Access-Control-Allow-Headers"), "x-api-key,anthropic-dangerous-direct-browser-access");
  // Another origin gets no permission.
  r = exchange(server.port(), "OPTIONS /echo HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\n"
                              "Access-Control-Request-Method: POST\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("405"), std::string::npos) << r;
  EXPECT_EQ(header_value(r, "Access-Control-Allow-Origin"), "");
  EXPECT_NE(r.find("not in the server's CORS allow-list"), std::string::npos) << r;
}

TEST(HttpServer, ResponsesToAnAllowedOriginCarryAllowOriginErrorsIncluded) {
  Server server(with_cors({"http://localhost:5173"}), echo_routes);
  std::string r = exchange(server.port(), "POST /echo HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:5173\r\n"
                                          "Content-Length: 3\r\nConnection: close\r\n\r\nabc");
  EXPECT_NE(r.find("got 3"), std::string::npos) << r;
  EXPECT_EQ(header_value(r, "Access-Control-Allow-Origin"), "http://localhost:5173");
  r = exchange(server.port(), "GET /nope HTTP/1.1\r\nHost: x\r\nOrigin: http://localhost:5173\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("404"), std::string::npos) << r;
  EXPECT_EQ(header_value(r, "Access-Control-Allow-Origin"), "http://localhost:5173");
  // No Origin (curl, Claude Code) or another origin: no CORS headers.
  r = exchange(server.port(), "GET /item/1 HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(header_value(r, "Access-Control-Allow-Origin"), "");
  r = exchange(server.port(), "GET /item/1 HTTP/1.1\r\nHost: x\r\nOrigin: https://evil.example\r\nConnection: close\r\n\r\n");
  EXPECT_NE(r.find("item 1"), std::string::npos) << r;
  EXPECT_EQ(header_value(r, "Access-Control-Allow-Origin"), "");
}

}  // namespace
}  // namespace hearth::api

namespace hearth::api {
namespace {

HttpServerOptions header_limits() {
  HttpServerOptions o = small_limits();
  o.read_timeout_seconds = 1;
  o.header_deadline_seconds = 2;
  return o;
}

// True once the server answered or closed the connection (without blocking).
bool answered(int fd, std::string& got) {
  char buf[4096];
  ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
  if (n > 0) got.append(buf, size_t(n));
  return n >= 0;  // data, or 0: closed
}

TEST(HttpServer, TrickledHeadersGet408AtTheHeaderDeadline) {
  // A header byte every 100 ms never leaves a read idle for the 1 s read timeout, so only the header
  // deadline (2 s) can end it; we keep trickling for up to 8 s and expect the 408 before we stop.
  Server server(header_limits(), echo_routes);
  int fd = connect_to(server.port());
  send_all(fd, "POST /echo HTTP/1.1\r\nHost: x\r\nX-Slow: ");
  std::string got;
  bool cut_off = false;
  for (int i = 0; i < 80 && !cut_off; ++i) {
    send_all(fd, "a");
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
    cut_off = answered(fd, got);
  }
  got += read_response(fd);
  close(fd);
  EXPECT_TRUE(cut_off) << "the server kept reading trickled headers for 8 s";
  EXPECT_NE(got.find("408"), std::string::npos) << got;
  EXPECT_NE(got.find("\"formatted\":408"), std::string::npos) << got;
}

TEST(HttpServer, HeaderDeadlineIsPerRequestOnAKeepAliveConnection) {
  // Three requests on one connection, 1.2 s apart: the connection lives past the 2 s header deadline,
  // but each request's headers arrive at once, so each is served.
  Server server(header_limits(), echo_routes);
  int fd = connect_to(server.port());
  for (int i = 0; i < 3; ++i) {
    if (i > 0) std::this_thread::sleep_for(std::chrono::milliseconds(1200));
    const bool last = i == 2;
    send_all(fd, std::string("POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 2\r\n") + (last ? "Connection: close\r\n" : "") +
                     "\r\nok");
    std::string r = last ? read_response(fd) : read_response(fd, "got 2");
    EXPECT_NE(r.find("got 2"), std::string::npos) << "request " << i << ": " << r;
  }
  close(fd);
}

TEST(HttpServer, PostToAnUnknownPathIsRefusedWithoutReadingItsBody) {
  Server server(header_limits(), echo_routes);
  // The body never comes: the 404 must not wait for it.
  std::string r = exchange(server.port(), "POST /nope HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n", "}");
  EXPECT_NE(r.find("404"), std::string::npos) << r;
  EXPECT_NE(r.find("Connection: close"), std::string::npos) << r;
}

TEST(HttpServer, StalledStreamReaderIsDroppedWhileOthersStreamOn) {
  // One client stops reading a large stream; another reads the same stream in full meanwhile. The
  // stalled one's writes fail once the socket buffers are full and the write timeout (1 s) passes, which
  // the handler sees as write() == false (the server then cancels its generation).
  HttpServerOptions o = header_limits();
  std::atomic<int> finished{0}, dropped{0};
  Server server(o, [&](HttpServer& s) {
    s.route("GET", "/big", [&](const HttpRequest&) {
      HttpResponse r;
      r.content_type = "text/event-stream";
      r.stream = [&](ResponseStream& out) {
        const std::string event = "data: " + std::string(1000, 'x') + "\n\n";
        for (int i = 0; i < 20000; ++i) {  // 20 MB: far more than the socket buffers hold
          if (!out.write(event)) {
            ++dropped;
            return;
          }
        }
        ++finished;
      };
      return r;
    });
  });
  int stalled = connect_to(server.port());
  send_all(stalled, "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  int reader = connect_to(server.port());
  send_all(reader, "GET /big HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  std::string all = read_response(reader);
  close(reader);
  EXPECT_NE(all.find("0\r\n\r\n"), std::string::npos) << "the reading client's stream did not complete";
  for (int i = 0; i < 1000 && dropped.load() == 0; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(finished.load(), 1);
  EXPECT_EQ(dropped.load(), 1);
  close(stalled);
}

}  // namespace
}  // namespace hearth::api
