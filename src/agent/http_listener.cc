#include "agent/http_listener.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <strings.h>
#include <zlib.h>

namespace gantry::agent {

namespace {

constexpr size_t kMaxRequest = 8192;

const char* Reason(int status) {
  switch (status) {
    case 200: return "OK";
    case 400: return "Bad Request";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 431: return "Request Header Fields Too Large";
    default: return "Error";
  }
}

bool WriteAll(int fd, const char* p, size_t n) {
  while (n > 0) {
    ssize_t w = ::send(fd, p, n, MSG_NOSIGNAL);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) return false;
    p += w;
    n -= static_cast<size_t>(w);
  }
  return true;
}

void Answer(int fd, int status, std::string_view content_type, std::string_view body,
            bool head = false, bool gzipped = false) {
  std::string h = "HTTP/1.1 " + std::to_string(status) + " " + Reason(status) +
                  "\r\nContent-Type: " + std::string(content_type) +
                  (gzipped ? "\r\nContent-Encoding: gzip\r\nVary: Accept-Encoding" : "") +
                  "\r\nContent-Length: " + std::to_string(body.size()) +
                  "\r\nConnection: close\r\n";
  if (status == 405) h += "Allow: GET, HEAD\r\n";
  h += "\r\n";
  if (WriteAll(fd, h.data(), h.size()) && !head) WriteAll(fd, body.data(), body.size());
}

std::string_view Trim(std::string_view v) {
  while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
  while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
  return v;
}

}  // namespace

bool AcceptsGzip(std::string_view value) {
  while (!value.empty()) {
    size_t comma = value.find(',');
    std::string_view item = value.substr(0, comma);
    value = comma == std::string_view::npos ? "" : value.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view coding = Trim(item.substr(0, semi));
    bool match = (coding.size() == 4 && strncasecmp(coding.data(), "gzip", 4) == 0) ||
                 (coding.size() == 6 && strncasecmp(coding.data(), "x-gzip", 6) == 0) || coding == "*";
    if (!match) continue;
    if (semi == std::string_view::npos) return true;
    std::string_view param = Trim(item.substr(semi + 1));
    if (param.size() < 2 || (param[0] != 'q' && param[0] != 'Q') || param[1] != '=') return true;
    std::string_view q = Trim(param.substr(2));
    // q=0, q=0.0, q=0.00...: refused; anything else allows it.
    bool zero = !q.empty() && q[0] == '0';
    for (size_t i = 1; zero && i < q.size(); ++i) zero = q[i] == '.' || q[i] == '0';
    if (!zero) return true;
  }
  return false;
}

std::string Gzip(std::string_view data, int level) {
  z_stream z{};
  if (deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&z, static_cast<uLong>(data.size())) + 32, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int r = deflate(&z, Z_FINISH);
  size_t n = out.size() - z.avail_out;
  deflateEnd(&z);
  if (r != Z_STREAM_END) return {};
  out.resize(n);
  return out;
}

core::Result<std::unique_ptr<HttpListener>> HttpListener::Bind(const std::string& host, int port) {
  if (port < 0 || port > 65535) return core::InvalidArgument("port out of range", "listen");
  std::unique_ptr<HttpListener> l(new HttpListener());
  l->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (l->fd_ < 0) return core::Unavailable(std::string("socket: ") + std::strerror(errno));
  int one = 1;
  ::setsockopt(l->fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string h = host.empty() ? "0.0.0.0" : host;
  if (::inet_pton(AF_INET, h.c_str(), &addr.sin_addr) != 1) {
    return core::InvalidArgument("listen address must be an IPv4 address: " + h, "listen");
  }
  if (::bind(l->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    return core::Unavailable("bind " + h + ":" + std::to_string(port) + ": " + std::strerror(errno));
  }
  if (::listen(l->fd_, 64) != 0) return core::Unavailable(std::string("listen: ") + std::strerror(errno));
  socklen_t len = sizeof addr;
  ::getsockname(l->fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  l->port_ = ntohs(addr.sin_port);
  return l;
}

HttpListener::~HttpListener() {
  if (fd_ >= 0) ::close(fd_);
}

void HttpListener::Serve(const Handler& handler, const std::atomic<bool>& stop) {
  while (!stop) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, 200);
    if (r <= 0) continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    timeval tv{5, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    timeval wtv{10, 0};
    ::setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &wtv, sizeof wtv);
    HandleConnection(c, handler);
    ::shutdown(c, SHUT_WR);
    // Drain what the client still sends (an oversized head) so close() does not reset the
    // connection before it has read our answer.
    timeval drain{1, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &drain, sizeof drain);
    char sink[4096];
    for (size_t total = 0; total < (64u << 10);) {
      ssize_t n = ::recv(c, sink, sizeof sink, 0);
      if (n <= 0) break;
      total += static_cast<size_t>(n);
    }
    ::close(c);
  }
}

void HttpListener::HandleConnection(int fd, const Handler& handler) {
  char buf[kMaxRequest];
  size_t have = 0;
  size_t end = std::string_view::npos;
  while (have < sizeof buf) {
    ssize_t n = ::recv(fd, buf + have, sizeof buf - have, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) Answer(fd, 408, "text/plain", "timeout\n");
      return;
    }
    have += static_cast<size_t>(n);
    end = std::string_view(buf, have).find("\r\n\r\n");
    if (end != std::string_view::npos) break;
  }
  if (end == std::string_view::npos) {
    Answer(fd, 431, "text/plain", "request head larger than 8 KiB\n");
    return;
  }
  std::string_view head(buf, end);
  size_t eol = head.find("\r\n");
  std::string_view line = head.substr(0, eol);
  size_t sp1 = line.find(' ');
  size_t sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || !line.substr(sp2 + 1).starts_with("HTTP/1.")) {
    Answer(fd, 400, "text/plain", "malformed request line\n");
    return;
  }
  std::string_view method = line.substr(0, sp1);
  std::string_view target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  bool is_head = method == "HEAD";
  if (method != "GET" && !is_head) {
    Answer(fd, 405, "text/plain", "only GET and HEAD\n");
    return;
  }
  std::string_view accept, encoding;
  std::string_view rest = eol == std::string_view::npos ? "" : head.substr(eol + 2);
  while (!rest.empty()) {
    size_t e = rest.find("\r\n");
    std::string_view h = rest.substr(0, e);
    rest = e == std::string_view::npos ? "" : rest.substr(e + 2);
    if (h.size() > 7 && strncasecmp(h.data(), "accept:", 7) == 0) {
      accept = h.substr(7);
      while (!accept.empty() && accept.front() == ' ') accept.remove_prefix(1);
    } else if (h.size() > 16 && strncasecmp(h.data(), "accept-encoding:", 16) == 0) {
      encoding = Trim(h.substr(16));
    }
  }
  std::string_view path = target.substr(0, target.find('?'));
  HttpAnswer a;
  handler(path, accept, a);
  std::string_view body = a.body.empty() ? std::string_view(a.owned) : a.body;
  if (a.status == 200 && !body.empty() && AcceptsGzip(encoding)) {
    std::string zipped = Gzip(body);
    if (!zipped.empty()) {
      Answer(fd, a.status, a.content_type, zipped, is_head, true);
      return;
    }
  }
  Answer(fd, a.status, a.content_type, body, is_head);
}

}  // namespace gantry::agent
