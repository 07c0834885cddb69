#include "app/tests/fake_http_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cctype>
#include <stdexcept>

namespace gantry::app::testing {

namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string JsonQuote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

bool ReadMore(int fd, std::string& buf) {
  char chunk[4096];
  ssize_t n = ::recv(fd, chunk, sizeof(chunk), 0);
  if (n <= 0) return false;
  buf.append(chunk, static_cast<size_t>(n));
  return true;
}

}  // namespace

HttpReply Problem(int status, const std::string& detail, const std::string& field) {
  HttpReply r;
  r.status = status;
  r.content_type = "application/problem+json";
  r.body = "{\"type\":\"https://gantry.dev/problems/x\",\"title\":\"t\",\"status\":" +
           std::to_string(status) + ",\"detail\":" + JsonQuote(detail) +
           ",\"instance\":\"/x\",\"request_id\":\"req-42\"" +
           (field.empty() ? "" : ",\"field\":" + JsonQuote(field)) + "}";
  return r;
}

FakeHttpServer::FakeHttpServer(Handler handler) : handler_(std::move(handler)) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof(addr);
  if (listen_fd_ < 0 || ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0 ||
      ::listen(listen_fd_, 16) != 0 ||
      ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    throw std::runtime_error("FakeHttpServer: cannot listen on 127.0.0.1");
  }
  port_ = ntohs(addr.sin_port);
  thread_ = std::thread([this] { Loop(); });
}

FakeHttpServer::~FakeHttpServer() {
  stop_ = true;
  thread_.join();
  ::close(listen_fd_);
}

std::vector<HttpRequest> FakeHttpServer::requests() const {
  std::lock_guard lock(mu_);
  return requests_;
}

void FakeHttpServer::Loop() {
  while (!stop_) {
    pollfd p = {listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 20) <= 0) continue;
    int fd = ::accept(listen_fd_, nullptr, nullptr);
    if (fd < 0) continue;
    Serve(fd);
    ::close(fd);
  }
}

void FakeHttpServer::Serve(int fd) {
  std::string buf;
  size_t end;
  while ((end = buf.find("\r\n\r\n")) == std::string::npos) {
    if (!ReadMore(fd, buf)) return;
  }
  HttpRequest req;
  std::string head = buf.substr(0, end);
  size_t line_end = head.find("\r\n");
  std::string request_line = head.substr(0, line_end);
  size_t sp1 = request_line.find(' ');
  size_t sp2 = request_line.rfind(' ');
  req.method = request_line.substr(0, sp1);
  req.target = request_line.substr(sp1 + 1, sp2 - sp1 - 1);
  size_t pos = line_end == std::string::npos ? head.size() : line_end + 2;
  while (pos < head.size()) {
    size_t next = head.find("\r\n", pos);
    if (next == std::string::npos) next = head.size();
    std::string line = head.substr(pos, next - pos);
    size_t colon = line.find(':');
    if (colon != std::string::npos) {
      std::string value = line.substr(colon + 1);
      while (!value.empty() && value.front() == ' ') value.erase(0, 1);
      req.headers[Lower(line.substr(0, colon))] = value;
    }
    pos = next + 2;
  }
  size_t length =
      req.headers.count("content-length") ? std::stoul(req.headers["content-length"]) : 0;
  std::string rest = buf.substr(end + 4);
  while (rest.size() < length) {
    if (!ReadMore(fd, rest)) return;
  }
  req.body = rest.substr(0, length);
  {
    std::lock_guard lock(mu_);
    requests_.push_back(req);
  }
  HttpReply reply = handler_(req);
  std::string out = "HTTP/1.1 " + std::to_string(reply.status) + " X\r\n";
  if (reply.status != 204) {
    out += "Content-Type: " + reply.content_type + "\r\n";
    out += "Content-Length: " + std::to_string(reply.body.size()) + "\r\n";
  }
  for (const auto& [k, v] : reply.headers) out += k + ": " + v + "\r\n";
  out += "Connection: close\r\n\r\n";
  if (reply.status != 204) out += reply.body;
  for (size_t done = 0; done < out.size();) {
    ssize_t n = ::send(fd, out.data() + done, out.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return;
    done += static_cast<size_t>(n);
  }
}

}  // namespace gantry::app::testing
