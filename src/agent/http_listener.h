// A minimal HTTP/1.1 listener for the agent: one thread, one connection at a time, GET and HEAD
// only, requests up to 8 KiB with a 5 s read deadline, "Connection: close" on every answer.
// Answers of 200 are gzip-compressed (zlib, level 1) when the request's Accept-Encoding allows
// gzip, as Prometheus' scrapes do by default.
// Enough for Prometheus scrapes without pulling the control plane's HTTP stack into the agent.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "core/error.h"

namespace gantry::agent {

struct HttpAnswer {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string_view body;  // must stay valid until the handler is called again
  std::string owned;      // used when body is empty
};

// Whether an Accept-Encoding value allows gzip ("gzip", "x-gzip" or "*" with a q above 0).
bool AcceptsGzip(std::string_view accept_encoding);
// gzip (RFC 1952) of `data` at zlib `level`; empty on a zlib failure.
std::string Gzip(std::string_view data, int level = 1);

class HttpListener {
 public:
  // path, Accept header -> answer
  using Handler = std::function<void(std::string_view path, std::string_view accept, HttpAnswer&)>;

  // Binds host:port (port 0 picks a free one). host "" or "0.0.0.0" listens on every address.
  static core::Result<std::unique_ptr<HttpListener>> Bind(const std::string& host, int port);
  ~HttpListener();
  int port() const { return port_; }
  // Serves until `stop` becomes true (checked at least every 200 ms).
  void Serve(const Handler& handler, const std::atomic<bool>& stop);

 private:
  HttpListener() = default;
  void HandleConnection(int fd, const Handler& handler);
  int fd_ = -1;
  int port_ = 0;
};

}  // namespace gantry::agent
