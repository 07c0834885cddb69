#include "integration/gantry_server.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <sstream>
#include <thread>

#include "support/test_db.h"

namespace gantry::testing {

namespace {

using Clock = std::chrono::steady_clock;

std::string Lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r')) s.remove_suffix(1);
  return std::string(s);
}

int RemainingMs(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<int64_t>(left, 1 << 30));
}

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

}  // namespace

// ---- HttpResponse ----------------------------------------------------------------------------

std::string HttpResponse::Header(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return v;
  }
  return {};
}

bool HttpResponse::HasHeader(std::string_view name) const {
  for (const auto& [k, v] : headers) {
    if (k == name) return true;
  }
  return false;
}

std::vector<std::string> HttpResponse::HeaderValues(std::string_view name) const {
  std::vector<std::string> out;
  for (const auto& [k, v] : headers) {
    if (k == name) out.push_back(v);
  }
  return out;
}

boost::json::value HttpResponse::Json() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec) throw std::runtime_error("response body is not JSON (" + ec.message() + "): " + Describe());
  return v;
}

boost::json::object HttpResponse::Object() const {
  boost::system::error_code ec;
  auto v = boost::json::parse(body, ec);
  if (ec || !v.is_object()) return {};
  return v.as_object();
}

std::string HttpResponse::Describe() const {
  std::string b = body.size() > 2000 ? body.substr(0, 2000) + "..." : body;
  return "HTTP " + std::to_string(status) + " " + b;
}

// ---- HttpConnection --------------------------------------------------------------------------

std::string SerializeRequest(const HttpRequest& r) {
  std::string out = r.method + " " + r.target + " HTTP/1.1\r\nHost: 127.0.0.1\r\n";
  out += "User-Agent: gantry-integration-test\r\n";
  if (!r.bearer.empty()) out += "Authorization: Bearer " + r.bearer + "\r\n";
  for (const auto& [k, v] : r.headers) out += k + ": " + v + "\r\n";
  if (!r.body.empty() || r.method == "POST" || r.method == "PUT" || r.method == "PATCH") {
    if (!r.body.empty()) {
      out += "Content-Type: " + (r.content_type.empty() ? std::string("application/json") : r.content_type) +
             "\r\n";
    }
    out += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
  }
  if (!r.keep_alive) out += "Connection: close\r\n";
  out += "\r\n";
  out += r.body;
  return out;
}

HttpConnection::HttpConnection(int port, std::chrono::milliseconds connect_timeout) {
  auto deadline = Clock::now() + connect_timeout;
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) throw HttpError(Errno("socket"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  int rc = ::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  if (rc != 0 && errno == EINPROGRESS) {
    pollfd p{fd_, POLLOUT, 0};
    int n;
    do {
      n = ::poll(&p, 1, RemainingMs(deadline));
    } while (n < 0 && errno == EINTR);
    if (n == 0) {
      Close();
      throw HttpError("connect to port " + std::to_string(port) + ": timed out");
    }
    int err = 0;
    socklen_t len = sizeof err;
    ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len);
    rc = err == 0 ? 0 : -1;
    errno = err;
  }
  if (rc != 0) {
    std::string msg = Errno("connect to port " + std::to_string(port));
    Close();
    throw HttpError(msg);
  }
  int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

HttpConnection::HttpConnection(HttpConnection&& o) noexcept : fd_(o.fd_), buf_(std::move(o.buf_)) {
  o.fd_ = -1;
}

HttpConnection& HttpConnection::operator=(HttpConnection&& o) noexcept {
  if (this != &o) {
    Close();
    fd_ = o.fd_;
    buf_ = std::move(o.buf_);
    o.fd_ = -1;
  }
  return *this;
}

HttpConnection::~HttpConnection() { Close(); }

void HttpConnection::Close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
}

void HttpConnection::Send(std::string_view data) {
  if (fd_ < 0) throw HttpError("send on a closed connection");
  auto deadline = Clock::now() + 15s;
  while (!data.empty()) {
    ssize_t n = ::send(fd_, data.data(), data.size(), MSG_NOSIGNAL);
    if (n > 0) {
      data.remove_prefix(static_cast<size_t>(n));
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT, 0};
      if (::poll(&p, 1, RemainingMs(deadline)) == 0) throw HttpError("send: timed out");
      continue;
    }
    throw HttpError(Errno("send"));
  }
}

size_t HttpConnection::Fill(Clock::time_point deadline) {
  if (fd_ < 0) throw HttpError("read on a closed connection");
  char tmp[16384];
  while (true) {
    ssize_t n = ::recv(fd_, tmp, sizeof tmp, 0);
    if (n > 0) {
      buf_.append(tmp, static_cast<size_t>(n));
      return static_cast<size_t>(n);
    }
    if (n == 0) return 0;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      pollfd p{fd_, POLLIN, 0};
      int left = RemainingMs(deadline);
      if (left == 0) throw HttpError("read: timed out");
      int r = ::poll(&p, 1, left);
      if (r == 0) throw HttpError("read: timed out");
      continue;
    }
    throw HttpError(Errno("recv"));
  }
}

HttpResponse HttpConnection::Read(std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  size_t end;
  while ((end = buf_.find("\r\n\r\n")) == std::string::npos) {
    if (Fill(deadline) == 0) {
      throw HttpError(buf_.empty() ? "connection closed before a response"
                                   : "connection closed inside the response headers: " + buf_);
    }
  }
  std::string head = buf_.substr(0, end);
  buf_.erase(0, end + 4);

  HttpResponse res;
  std::istringstream lines(head);
  std::string line;
  std::getline(lines, line);
  if (!line.starts_with("HTTP/1.")) throw HttpError("not an HTTP response: " + line);
  res.status = std::atoi(line.c_str() + 9);
  while (std::getline(lines, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    res.headers.emplace_back(Lower(Trim(std::string_view(line).substr(0, colon))),
                             Trim(std::string_view(line).substr(colon + 1)));
  }

  bool no_body = (res.status >= 100 && res.status < 200) || res.status == 204 || res.status == 304;
  std::string te = Lower(res.Header("transfer-encoding"));
  std::string cl = res.Header("content-length");
  if (no_body) {
    // nothing
  } else if (te.find("chunked") != std::string::npos) {
    while (true) {
      size_t eol;
      while ((eol = buf_.find("\r\n")) == std::string::npos) {
        if (Fill(deadline) == 0) throw HttpError("connection closed inside a chunked body");
      }
      size_t size = std::strtoul(buf_.substr(0, eol).c_str(), nullptr, 16);
      buf_.erase(0, eol + 2);
      while (buf_.size() < size + 2) {
        if (Fill(deadline) == 0) throw HttpError("connection closed inside a chunk");
      }
      res.body += buf_.substr(0, size);
      buf_.erase(0, size + 2);
      if (size == 0) break;  // (trailers are not supported; the server sends none)
    }
  } else if (!cl.empty()) {
    size_t n = std::strtoul(cl.c_str(), nullptr, 10);
    while (buf_.size() < n) {
      if (Fill(deadline) == 0) {
        throw HttpError("connection closed inside the body (" + std::to_string(buf_.size()) + " of " +
                        std::to_string(n) + " bytes)");
      }
    }
    res.body = buf_.substr(0, n);
    buf_.erase(0, n);
  } else {
    while (Fill(deadline) != 0) {
    }
    res.body = std::move(buf_);
    buf_.clear();
  }
  return res;
}

HttpResponse HttpConnection::RoundTrip(const HttpRequest& request, std::chrono::milliseconds timeout) {
  try {
    Send(SerializeRequest(request));
  } catch (const HttpError& send_error) {
    // The server may answer (413) and close before it has read the whole request; like real
    // clients, read that answer when it is there.
    try {
      return Read(std::min<std::chrono::milliseconds>(timeout, 2s));
    } catch (const HttpError&) {
      throw send_error;
    }
  }
  return Read(timeout);
}

bool HttpConnection::WaitClosed(std::chrono::milliseconds timeout) {
  if (fd_ < 0) return true;
  auto deadline = Clock::now() + timeout;
  while (true) {
    try {
      if (Fill(deadline) == 0) return true;
    } catch (const HttpError& e) {
      if (std::string_view(e.what()).find("timed out") != std::string_view::npos) return false;
      return true;  // reset by the peer
    }
  }
}

bool HttpConnection::IsOpen() {
  if (fd_ < 0) return false;
  char c;
  ssize_t n = ::recv(fd_, &c, 1, MSG_PEEK | MSG_DONTWAIT);
  if (n > 0) return true;
  if (n == 0) return false;
  return errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR;
}

// ---- gantry processes ------------------------------------------------------------------------

std::string GantryBin() {
  const char* bin = std::getenv("GANTRY_BIN");
  if (!bin || !*bin) {
    throw std::runtime_error("GANTRY_BIN is not set; run through ctest or export GANTRY_BIN=build/src/app/gantry");
  }
  return bin;
}

RunResult RunGantry(const std::vector<std::string>& args, const std::string& stdin_data,
                    std::chrono::seconds timeout) {
  std::vector<std::string> full{GantryBin()};
  full.insert(full.end(), args.begin(), args.end());
  return Run(full, stdin_data, timeout);
}

GantryServer::GantryServer(store::Backend backend, std::vector<std::string> serve_flags)
    : backend_(backend), flags_(std::move(serve_flags)) {
  dir_ = MakeTempDir("gantry-itest");
  db_url_ = NewTestDatabaseUrl(backend);
  admin_password_ = "itest-admin-password-" + std::to_string(::getpid());
  auto init = RunGantry({"admin", "init", "--db", db_url_, "--data-dir", dir_, "--admin-username",
                         "admin", "--password-stdin", "--token"},
                        admin_password_ + "\n");
  if (init.status != 0) {
    throw std::runtime_error("gantry admin init failed (exit " + std::to_string(init.status) +
                             "):\n" + init.output);
  }
  constexpr std::string_view kPrefix = "Admin API token (shown once): ";
  std::istringstream lines(init.output);
  std::string line;
  while (std::getline(lines, line)) {
    if (line.starts_with(kPrefix)) token_ = Trim(std::string_view(line).substr(kPrefix.size()));
  }
  if (!token_.starts_with("gty_")) {
    throw std::runtime_error("gantry admin init printed no API token:\n" + init.output);
  }
  Start();
}

GantryServer::~GantryServer() {
  if (process_.pid() > 0 && process_.Running()) {
    process_.Signal(SIGTERM);
    if (!process_.Wait(10s)) process_.Signal(SIGKILL);
    process_.Wait(10s);
  }
}

std::string GantryServer::url() const { return "http://127.0.0.1:" + std::to_string(port_); }

std::string GantryServer::log() const { return ReadFile(dir_ + "/serve.log"); }

bool GantryServer::running() { return process_.pid() > 0 && process_.Running(); }

void GantryServer::Start() {
  if (running()) throw std::runtime_error("GantryServer::Start: already running");
  std::string port_file = dir_ + "/port";
  std::string log_file = dir_ + "/serve.log";
  std::error_code ec;
  std::filesystem::remove(port_file, ec);
  if (runs_ > 0) std::filesystem::rename(log_file, dir_ + "/serve." + std::to_string(runs_) + ".log", ec);
  ++runs_;
  port_ = 0;

  SpawnOptions o;
  // setpriv (util-linux) execs gantry with PR_SET_PDEATHSIG: when the test process dies (a crash,
  // ctest's timeout) the server dies with it instead of running on as an orphan.
  if (::access("/usr/bin/setpriv", X_OK) == 0) o.args = {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"};
  o.args.insert(o.args.end(), {GantryBin(), "serve", "--db", db_url_, "--data-dir", dir_, "--listen",
                               "127.0.0.1:0", "--port-file", port_file});
  o.args.insert(o.args.end(), flags_.begin(), flags_.end());
  o.log_file = log_file;
  process_ = Process::Spawn(o);

  auto deadline = Clock::now() + 30s;
  std::string last_error = "no port file yet";
  while (Clock::now() < deadline) {
    if (auto st = process_.Wait(0ms)) {
      throw std::runtime_error("gantry serve exited with status " + std::to_string(*st) +
                               " while starting; log:\n" + log());
    }
    if (port_ == 0) {
      std::string p = ReadFile(port_file);
      if (!p.empty()) port_ = std::atoi(p.c_str());
    }
    if (port_ > 0) {
      try {
        auto r = Get("/healthz", "");
        if (r.status == 200) return;
        last_error = r.Describe();
      } catch (const HttpError& e) {
        last_error = e.what();
      }
    }
    std::this_thread::sleep_for(50ms);
  }
  process_.Signal(SIGKILL);
  process_.Wait(10s);
  throw std::runtime_error("gantry serve did not become healthy within 30 s (" + last_error +
                           "); log:\n" + log());
}

std::optional<int> GantryServer::Stop(std::chrono::milliseconds timeout) {
  if (process_.pid() <= 0) return std::nullopt;
  process_.Signal(SIGTERM);
  auto st = process_.Wait(timeout);
  if (!st) {
    process_.Signal(SIGKILL);
    process_.Wait(10s);
  }
  return st;
}

void GantryServer::Kill(int sig) {
  process_.Signal(sig);
  if (sig == SIGKILL) process_.Wait(10s);
}

std::optional<int> GantryServer::WaitExit(std::chrono::milliseconds timeout) {
  return process_.Wait(timeout);
}

void GantryServer::Restart() {
  if (running()) {
    auto st = Stop();
    if (!st || *st != 0) {
      throw std::runtime_error("gantry serve did not stop cleanly (status " +
                               (st ? std::to_string(*st) : std::string("timeout")) + "); log:\n" + log());
    }
  }
  Start();
}

HttpResponse GantryServer::Request(HttpRequest request, std::chrono::milliseconds timeout) const {
  if (port_ <= 0) throw HttpError("the server is not listening");
  request.keep_alive = false;
  HttpConnection c(port_);
  return c.RoundTrip(request, timeout);
}

HttpResponse GantryServer::Get(const std::string& target, const std::string& bearer) const {
  HttpRequest r;
  r.method = "GET";
  r.target = target;
  r.bearer = bearer;
  return Request(std::move(r));
}

HttpResponse GantryServer::Post(const std::string& target, const std::string& body,
                                const std::string& bearer) const {
  HttpRequest r;
  r.method = "POST";
  r.target = target;
  r.body = body;
  r.bearer = bearer;
  return Request(std::move(r));
}

HttpResponse GantryServer::Delete(const std::string& target, const std::string& bearer) const {
  HttpRequest r;
  r.method = "DELETE";
  r.target = target;
  r.bearer = bearer;
  return Request(std::move(r));
}

RunResult GantryServer::Admin(std::vector<std::string> args, const std::string& stdin_data) const {
  std::vector<std::string> full{"admin"};
  full.insert(full.end(), args.begin(), args.end());
  full.insert(full.end(), {"--db", db_url_, "--data-dir", dir_});
  return RunGantry(full, stdin_data);
}

}  // namespace gantry::testing
