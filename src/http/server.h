// The HTTP/1.1 server (Boost.Beast + Asio; the only file in the tree that includes them).
//
// Keep-alive; limits on header and body size (413); a deadline for reading each request, so a
// slow client holds a socket but never a worker thread; optional TLS from PEM files; graceful
// drain: Shutdown() stops accepting, lets in-flight requests finish (closing their connections
// afterwards), closes idle keep-alive connections and returns from Run() once all are done
// or the drain deadline passes. Handlers run on the server's thread pool and may block.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include "core/error.h"
#include "http/types.h"

namespace gantry::http {

struct ServerOptions {
  std::string listen = "127.0.0.1:8080";  // host:port; port 0 picks a free one
  int threads = 0;                         // 0: max(4, 2 × cores)
  size_t header_limit = 16 * 1024;
  size_t body_limit = 1024 * 1024;
  std::chrono::milliseconds read_timeout{30'000};   // to read one whole request
  std::chrono::milliseconds idle_timeout{60'000};   // keep-alive connection with no request
  std::chrono::milliseconds drain_timeout{20'000};
  std::string tls_cert_file;  // both set: HTTPS
  std::string tls_key_file;
};

class Server {
 public:
  using Dispatch = std::function<Response(Request&)>;
  // Binds and listens; errors (address in use, bad TLS files) come back as values.
  static core::Result<std::unique_ptr<Server>> Start(ServerOptions options, Dispatch dispatch);
  virtual ~Server() = default;
  virtual int port() const = 0;
  // Runs the thread pool until Shutdown() has drained every connection. Call once.
  virtual void Run() = 0;
  // Thread-safe and async-signal-safe enough to call from a signal watcher thread.
  virtual void Shutdown() = 0;
  virtual int active_connections() const = 0;
};

}  // namespace gantry::http
