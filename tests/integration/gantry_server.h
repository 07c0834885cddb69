// A real `gantry serve` process for integration tests, and a minimal blocking HTTP/1.1 client.
//
// GantryServer(backend, flags): makes a temp dir, a fresh database on the backend
// (NewTestDatabaseUrl), runs `$GANTRY_BIN admin init ... --password-stdin --token` and keeps the
// admin token, then starts `$GANTRY_BIN serve --listen 127.0.0.1:0 --port-file DIR/port FLAGS`
// (log in DIR/serve.log; the logs of earlier runs are kept as DIR/serve.N.log) and waits until
// GET /healthz answers 200 (30 s at most). Stop()/Kill()/Start()/Restart() control the process;
// a server outlives neither its GantryServer nor the test process.
//
// The HTTP client speaks HTTP/1.1 over a plain POSIX socket, so tests control every byte: slow
// clients, oversized headers, pipelining, keep-alive. Every read has a deadline; failures to
// connect, send or read throw HttpError.
#pragma once

#include <boost/json.hpp>

#include <chrono>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "store/database.h"
#include "support/process.h"

namespace gantry::testing {

using namespace std::chrono_literals;

// Connection refused/reset, closed before a whole response, or a deadline passed.
class HttpError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

struct HttpResponse {
  int status = 0;
  std::vector<std::pair<std::string, std::string>> headers;  // names lower-case, in order
  std::string body;

  // The first header of that (lower-case) name, or "".
  std::string Header(std::string_view lower_name) const;
  bool HasHeader(std::string_view lower_name) const;
  std::vector<std::string> HeaderValues(std::string_view lower_name) const;
  // The body as JSON; throws std::runtime_error (quoting the body) when it is not.
  boost::json::value Json() const;
  // The body as a JSON object, or an empty object when it is not one.
  boost::json::object Object() const;
  // "HTTP 400 {body...}" for assertion messages.
  std::string Describe() const;
};

struct HttpRequest {
  std::string method = "GET";
  std::string target = "/";
  std::string body;
  std::string content_type;  // empty with a body: application/json
  std::string bearer;        // non-empty: Authorization: Bearer <bearer>
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
  bool keep_alive = true;    // false: Connection: close
};

// The request as it goes on the wire (Host, Content-Length and the rest filled in).
std::string SerializeRequest(const HttpRequest& request);

class HttpConnection {
 public:
  explicit HttpConnection(int port, std::chrono::milliseconds connect_timeout = 5s);
  HttpConnection(HttpConnection&& o) noexcept;
  HttpConnection& operator=(HttpConnection&& o) noexcept;
  HttpConnection(const HttpConnection&) = delete;
  HttpConnection& operator=(const HttpConnection&) = delete;
  ~HttpConnection();

  // Writes all of `data` (no SIGPIPE); throws HttpError when the peer is gone.
  void Send(std::string_view data);
  // Reads one whole response; throws HttpError on timeout or when the connection closes first.
  HttpResponse Read(std::chrono::milliseconds timeout = 15s);
  HttpResponse RoundTrip(const HttpRequest& request, std::chrono::milliseconds timeout = 15s);
  // Waits until the server closes the connection (EOF or reset); false when still open at the
  // deadline. Bytes that arrive meanwhile are kept for Read().
  bool WaitClosed(std::chrono::milliseconds timeout);
  // False once the server has closed the connection (checked without blocking).
  bool IsOpen();
  void Close();
  int fd() const { return fd_; }

 private:
  // Reads more bytes into buf_ before `deadline`; 0 on EOF; throws HttpError on timeout/error.
  size_t Fill(std::chrono::steady_clock::time_point deadline);
  int fd_ = -1;
  std::string buf_;
};

// Path of the gantry binary: $GANTRY_BIN (the test fails loudly without it).
std::string GantryBin();

// Runs `$GANTRY_BIN args...` to completion (stdout and stderr together in output).
RunResult RunGantry(const std::vector<std::string>& args, const std::string& stdin_data = {},
                    std::chrono::seconds timeout = 60s);

class GantryServer {
 public:
  GantryServer(store::Backend backend, std::vector<std::string> serve_flags = {});
  ~GantryServer();  // SIGTERM, then SIGKILL after 10 s
  GantryServer(const GantryServer&) = delete;
  GantryServer& operator=(const GantryServer&) = delete;

  // Starts `gantry serve` and waits for /healthz (throws std::runtime_error with the log).
  // The server is killed when the calling thread exits (PR_SET_PDEATHSIG): call it from the
  // test's own thread.
  void Start();
  // SIGTERM and wait; the exit status (128+N for a signal), or nullopt if it did not exit in
  // time (it is then SIGKILLed).
  std::optional<int> Stop(std::chrono::milliseconds timeout = 15s);
  // Sends `sig`; for SIGKILL also waits for the process to be gone.
  void Kill(int sig);
  std::optional<int> WaitExit(std::chrono::milliseconds timeout);
  // Stop() (when running), then Start() with the same flags.
  void Restart();
  bool running();

  store::Backend backend() const { return backend_; }
  int port() const { return port_; }
  std::string url() const;  // http://127.0.0.1:PORT
  const std::string& token() const { return token_; }  // the admin's API token
  const std::string& admin_password() const { return admin_password_; }
  const std::string& db_url() const { return db_url_; }
  const std::string& dir() const { return dir_; }  // also the --data-dir
  std::string log() const;  // serve.log of the current (or last) run

  // One request on a new connection (Connection: close).
  HttpResponse Request(HttpRequest request, std::chrono::milliseconds timeout = 15s) const;
  HttpResponse Get(const std::string& target) const { return Get(target, token_); }
  HttpResponse Get(const std::string& target, const std::string& bearer) const;
  HttpResponse Post(const std::string& target, const std::string& body) const {
    return Post(target, body, token_);
  }
  HttpResponse Post(const std::string& target, const std::string& body,
                    const std::string& bearer) const;
  HttpResponse Delete(const std::string& target, const std::string& bearer) const;

  // `gantry admin ARGS... --db URL --data-dir DIR`.
  RunResult Admin(std::vector<std::string> args, const std::string& stdin_data = {}) const;

 private:
  store::Backend backend_;
  std::vector<std::string> flags_;
  std::string dir_;
  std::string db_url_;
  std::string token_;
  std::string admin_password_;
  int port_ = 0;
  int runs_ = 0;
  Process process_;
};

}  // namespace gantry::testing
