#include "bench/server.h"

#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <fstream>
#include <regex>
#include <thread>

#include "util/error.h"

namespace hearth::bench {
namespace fs = std::filesystem;

int pick_free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw Error("socket() failed", ErrorKind::io);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw Error("cannot find a free TCP port", ErrorKind::io);
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

bool server_healthy(const std::string& base_url) {
  static const std::regex url_re(R"(^http://([^/:]+)(?::(\d+))?/?$)");
  std::smatch m;
  if (!std::regex_match(base_url, m, url_re)) {
    throw Error("server URL must look like http://HOST:PORT, got '" + base_url + "'", ErrorKind::invalid_request);
  }
  const std::string host = m[1].str();
  const std::string port = m[2].matched ? m[2].str() : "80";
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo* found = nullptr;
  if (::getaddrinfo(host.c_str(), port.c_str(), &hints, &found) != 0) return false;
  bool healthy = false;
  for (addrinfo* a = found; a && !healthy; a = a->ai_next) {
    int fd = ::socket(a->ai_family, a->ai_socktype, a->ai_protocol);
    if (fd < 0) continue;
    timeval tv{2, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    if (::connect(fd, a->ai_addr, a->ai_addrlen) == 0) {
      std::string request = "GET /health HTTP/1.0\r\nHost: " + host + "\r\n\r\n";
      if (::send(fd, request.data(), request.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(request.size())) {
        char buf[64] = {};
        ssize_t n = ::recv(fd, buf, sizeof buf - 1, 0);
        // "HTTP/1.1 200 ..." or "HTTP/1.0 200 ..."
        healthy = n >= 12 && std::string(buf, n).compare(8, 4, " 200") == 0;
      }
    }
    ::close(fd);
  }
  ::freeaddrinfo(found);
  return healthy;
}

std::vector<std::string> substitute(const std::vector<std::string>& args,
                                    const std::vector<std::pair<std::string, std::string>>& values) {
  std::vector<std::string> out;
  for (std::string arg : args) {
    for (const auto& [name, value] : values) {
      const std::string placeholder = "{" + name + "}";
      for (size_t pos = arg.find(placeholder); pos != std::string::npos; pos = arg.find(placeholder, pos + value.size())) {
        arg.replace(pos, placeholder.size(), value);
      }
    }
    out.push_back(std::move(arg));
  }
  return out;
}

namespace {

std::string log_tail(const fs::path& path, size_t max_bytes = 4000) {
  std::ifstream in(path, std::ios::binary);
  std::string text(std::istreambuf_iterator<char>(in), {});
  return text.size() > max_bytes ? "..." + text.substr(text.size() - max_bytes) : text;
}

}  // namespace

StartedServer::StartedServer(const ServeSpec& spec) : base_url_(spec.base_url) {
  ProcessSpec p;
  p.argv = spec.argv;
  p.env = current_environment();
  p.stdout_path = spec.log_path;
  p.stderr_path = spec.log_path;
  process_ = std::make_unique<BackgroundProcess>(p);
  const auto deadline = std::chrono::steady_clock::now() + spec.startup_timeout;
  while (!server_healthy(base_url_)) {
    if (!process_->running()) {
      throw Error("the hearth server exited before it was ready; its log (" + spec.log_path.string() + "):\n" +
                      log_tail(spec.log_path),
                  ErrorKind::io);
    }
    if (std::chrono::steady_clock::now() > deadline) {
      process_->stop();
      throw Error("the hearth server was not ready after " + std::to_string(spec.startup_timeout.count()) +
                      " s; its log:\n" + log_tail(spec.log_path),
                  ErrorKind::io);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(200));
  }
}

StartedServer::~StartedServer() {
  if (process_) process_->stop();
}

}  // namespace hearth::bench
