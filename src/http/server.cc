#include "http/server.h"

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <spdlog/spdlog.h>

#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include "core/crypto.h"
#include "http/problem.h"

namespace gantry::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;

namespace {

class ServerImpl;

// Common to plain and TLS sessions: read a request, dispatch it, write the response, repeat.
template <class Derived>
class SessionBase {
 public:
  SessionBase(ServerImpl* server, std::string remote) : server_(server), remote_(std::move(remote)) {}

 protected:
  Derived& self() { return static_cast<Derived&>(*this); }
  void DoRead();
  void ReadRequest();
  void OnRead(beast::error_code ec, size_t);
  void OnWrite(bool close, beast::error_code ec, size_t);
  void SendError(int status, std::string_view detail, bool close);

  ServerImpl* server_;
  std::string remote_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<bhttp::response<bhttp::string_body>> res_;
  bool tls_ = false;

 public:
  std::atomic<bool> busy_{false};
};

class ServerImpl final : public Server {
 public:
  ServerImpl(ServerOptions o, Dispatch d)
      : options_(std::move(o)), dispatch_(std::move(d)), ioc_(Threads()), acceptor_(ioc_),
        ssl_ctx_(asio::ssl::context::tls_server) {}

  int Threads() const {
    if (options_.threads > 0) return options_.threads;
    int n = static_cast<int>(std::thread::hardware_concurrency()) * 2;
    return n < 4 ? 4 : n;
  }

  core::Status Init() {
    auto colon = options_.listen.rfind(':');
    if (colon == std::string::npos) {
      return core::InvalidArgument("listen address must be HOST:PORT, got '" + options_.listen + "'");
    }
    std::string host = options_.listen.substr(0, colon);
    if (host.size() > 2 && host.front() == '[') host = host.substr(1, host.size() - 2);
    if (host.empty()) host = "0.0.0.0";
    int port = std::atoi(options_.listen.c_str() + colon + 1);
    beast::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (ec) return core::InvalidArgument("bad listen host '" + host + "': " + ec.message());
    if (!options_.tls_cert_file.empty() || !options_.tls_key_file.empty()) {
      ssl_ctx_.set_options(asio::ssl::context::default_workarounds | asio::ssl::context::no_sslv2 |
                           asio::ssl::context::no_sslv3 | asio::ssl::context::no_tlsv1 |
                           asio::ssl::context::no_tlsv1_1);
      ssl_ctx_.use_certificate_chain_file(options_.tls_cert_file, ec);
      if (ec) return core::InvalidArgument("TLS certificate '" + options_.tls_cert_file + "': " + ec.message());
      ssl_ctx_.use_private_key_file(options_.tls_key_file, asio::ssl::context::pem, ec);
      if (ec) return core::InvalidArgument("TLS key '" + options_.tls_key_file + "': " + ec.message());
      tls_ = true;
    }
    tcp::endpoint ep(addr, static_cast<unsigned short>(port));
    acceptor_.open(ep.protocol(), ec);
    if (!ec) acceptor_.set_option(asio::socket_base::reuse_address(true), ec);
    if (!ec) acceptor_.bind(ep, ec);
    if (!ec) acceptor_.listen(asio::socket_base::max_listen_connections, ec);
    if (ec) return core::Unavailable("cannot listen on " + options_.listen + ": " + ec.message());
    port_ = acceptor_.local_endpoint().port();
    DoAccept();
    return {};
  }

  int port() const override { return port_; }

  void Run() override {
    int n = Threads();
    std::vector<std::thread> threads;
    for (int i = 1; i < n; ++i) threads.emplace_back([this] { ioc_.run(); });
    ioc_.run();
    for (auto& t : threads) t.join();
  }

  void Shutdown() override {
    asio::post(ioc_, [this] {
      if (draining_) return;
      draining_ = true;
      beast::error_code ec;
      acceptor_.close(ec);
      spdlog::info("draining {} open connections", active_.load());
      CloseIdle();
      drain_timer_ = std::make_unique<asio::steady_timer>(ioc_, options_.drain_timeout);
      drain_timer_->async_wait([this](beast::error_code e) {
        if (!e) {
          spdlog::warn("drain deadline passed with {} connections open; stopping", active_.load());
          ioc_.stop();
        }
      });
      MaybeFinishDrain();
    });
  }

  int active_connections() const override { return active_.load(); }

  const ServerOptions& options() const { return options_; }
  Response Handle(Request& r) { return dispatch_(r); }
  bool draining() const { return draining_; }
  asio::io_context& ioc() { return ioc_; }

  void Register(std::function<void()> closer, void* key) {
    std::lock_guard lock(mu_);
    idle_closers_[key] = std::move(closer);
    ++active_;
  }
  void Unregister(void* key) {
    {
      std::lock_guard lock(mu_);
      idle_closers_.erase(key);
    }
    --active_;
    if (draining_) asio::post(ioc_, [this] { MaybeFinishDrain(); });
  }

 private:
  void DoAccept();
  void CloseIdle() {
    std::map<void*, std::function<void()>> closers;
    {
      std::lock_guard lock(mu_);
      closers = idle_closers_;
    }
    for (auto& [_, c] : closers) c();
  }
  void MaybeFinishDrain() {
    if (draining_ && active_.load() == 0) {
      if (drain_timer_) drain_timer_->cancel();
      ioc_.stop();
    }
  }

  ServerOptions options_;
  Dispatch dispatch_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  asio::ssl::context ssl_ctx_;
  bool tls_ = false;
  int port_ = 0;
  std::atomic<bool> draining_{false};
  std::atomic<int> active_{0};
  std::mutex mu_;
  std::map<void*, std::function<void()>> idle_closers_;
  std::unique_ptr<asio::steady_timer> drain_timer_;
};

class PlainSession : public SessionBase<PlainSession>,
                     public std::enable_shared_from_this<PlainSession> {
 public:
  PlainSession(ServerImpl* server, tcp::socket&& socket, std::string remote)
      : SessionBase(server, std::move(remote)), stream_(std::move(socket)) {}
  ~PlainSession() { server_->Unregister(this); }
  void Start() {
    auto weak = weak_from_this();
    server_->Register([weak] {
      if (auto s = weak.lock()) asio::post(s->stream_.get_executor(), [s] { s->CloseIfIdle(); });
    }, this);
    DoRead();
  }
  void CloseIfIdle() {
    if (!busy_) {
      beast::error_code ec;
      stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
      stream_.socket().close(ec);
    }
  }
  beast::tcp_stream& stream() { return stream_; }
  beast::tcp_stream& lowest() { return stream_; }
  void Close() {
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_send, ec);
  }

 private:
  beast::tcp_stream stream_;
};

class TlsSession : public SessionBase<TlsSession>, public std::enable_shared_from_this<TlsSession> {
 public:
  TlsSession(ServerImpl* server, tcp::socket&& socket, asio::ssl::context& ctx, std::string remote)
      : SessionBase(server, std::move(remote)), stream_(std::move(socket), ctx) {
    tls_ = true;
  }
  ~TlsSession() { server_->Unregister(this); }
  void Start() {
    auto weak = weak_from_this();
    server_->Register([weak] {
      if (auto s = weak.lock()) asio::post(s->stream_.get_executor(), [s] { s->CloseIfIdle(); });
    }, this);
    beast::get_lowest_layer(stream_).expires_after(server_->options().read_timeout);
    stream_.async_handshake(asio::ssl::stream_base::server,
                            [self = shared_from_this()](beast::error_code ec) {
                              if (ec) return;
                              self->DoRead();
                            });
  }
  void CloseIfIdle() {
    if (!busy_) {
      beast::error_code ec;
      beast::get_lowest_layer(stream_).socket().shutdown(tcp::socket::shutdown_both, ec);
      beast::get_lowest_layer(stream_).socket().close(ec);
    }
  }
  beast::ssl_stream<beast::tcp_stream>& stream() { return stream_; }
  beast::tcp_stream& lowest() { return beast::get_lowest_layer(stream_); }
  void Close() {
    stream_.async_shutdown([self = shared_from_this()](beast::error_code) {});
  }

 private:
  beast::ssl_stream<beast::tcp_stream> stream_;
};

template <class Derived>
void SessionBase<Derived>::DoRead() {
  parser_.emplace();
  parser_->header_limit(static_cast<uint32_t>(server_->options().header_limit));
  parser_->body_limit(server_->options().body_limit);
  busy_ = false;
  if (server_->draining()) {
    self().Close();
    return;
  }
  if (buffer_.size() > 0) {  // a pipelined request has already begun
    ReadRequest();
    return;
  }
  // Wait for the first bytes of the next request under the idle deadline...
  self().lowest().expires_after(server_->options().idle_timeout);
  self().stream().async_read_some(
      buffer_.prepare(4096), [s = self().shared_from_this()](beast::error_code ec, size_t n) {
        if (ec) {
          s->OnRead(ec, n);
          return;
        }
        s->buffer_.commit(n);
        s->ReadRequest();
      });
}

template <class Derived>
void SessionBase<Derived>::ReadRequest() {
  // ...then the whole request, headers and body, must arrive within the read deadline.
  self().lowest().expires_after(server_->options().read_timeout);
  bhttp::async_read_header(
      self().stream(), buffer_, *parser_,
      [s = self().shared_from_this()](beast::error_code ec, size_t n) {
        if (ec) {
          s->OnRead(ec, n);
          return;
        }
        s->busy_ = true;
        bhttp::async_read(s->stream(), s->buffer_, *s->parser_,
                          [s](beast::error_code ec2, size_t n2) { s->OnRead(ec2, n2); });
      });
}

template <class Derived>
void SessionBase<Derived>::SendError(int status, std::string_view detail, bool close) {
  core::Error err(status == 413 ? core::Code::kTooLarge : core::Code::kInvalidArgument,
                  std::string(detail));
  // These requests never reach the pipeline; they still get a request id and an instance.
  std::string rid = core::HexEncode(core::RandomBytes(12));
  std::string instance;
  if (parser_) {  // the request line may have been read even when the headers were not
    std::string_view target = parser_->get().target();
    instance = std::string(target.substr(0, target.find('?')));
  }
  Response r = ProblemResponse(err, instance, rid);
  res_ = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(status), 11);
  res_->set(bhttp::field::server, "gantry");
  res_->set(bhttp::field::content_type, "application/problem+json");
  res_->set("x-request-id", rid);
  res_->set("x-content-type-options", "nosniff");
  res_->body() = r.body;
  res_->keep_alive(!close);
  res_->prepare_payload();
  self().lowest().expires_after(server_->options().read_timeout);
  bhttp::async_write(self().stream(), *res_,
                     [s = self().shared_from_this(), close](beast::error_code ec, size_t n) {
                       s->OnWrite(close, ec, n);
                     });
}

template <class Derived>
void SessionBase<Derived>::OnRead(beast::error_code ec, size_t) {
  if (ec == bhttp::error::end_of_stream || ec == asio::error::operation_aborted ||
      ec == beast::error::timeout || ec == asio::error::eof ||
      ec == asio::error::connection_reset || ec == asio::error::bad_descriptor) {
    self().Close();
    return;
  }
  if (ec == bhttp::error::body_limit) {
    SendError(413, "request body larger than " + std::to_string(server_->options().body_limit) +
                       " bytes", true);
    return;
  }
  if (ec == bhttp::error::header_limit) {
    SendError(413, "request headers larger than " +
                       std::to_string(server_->options().header_limit) + " bytes", true);
    return;
  }
  if (ec) {
    SendError(400, "malformed HTTP request: " + ec.message(), true);
    return;
  }
  busy_ = true;
  auto& breq = parser_->get();
  Request req;
  req.method = std::string(breq.method_string());
  req.target = std::string(breq.target());
  auto q = req.target.find('?');
  req.path = req.target.substr(0, q);
  if (q != std::string::npos) req.query = req.target.substr(q + 1);
  for (const auto& f : breq) {
    std::string name(f.name_string());
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    req.headers.emplace_back(std::move(name), std::string(f.value()));
  }
  req.body = std::move(breq.body());
  req.remote_addr = remote_;
  req.tls = tls_;
  bool keep_alive = breq.keep_alive();
  unsigned version = breq.version();
  bool head = breq.method() == bhttp::verb::head;

  Response r = server_->Handle(req);

  res_ = std::make_shared<bhttp::response<bhttp::string_body>>(static_cast<bhttp::status>(r.status), version);
  res_->set(bhttp::field::server, "gantry");
  for (auto& [k, v] : r.headers) res_->insert(k, v);
  res_->body() = std::move(r.body);
  bool close = !keep_alive || server_->draining();
  res_->keep_alive(!close);
  res_->prepare_payload();
  if (head) res_->body().clear();
  self().lowest().expires_after(server_->options().read_timeout);
  bhttp::async_write(self().stream(), *res_,
                     [s = self().shared_from_this(), close](beast::error_code e, size_t n) {
                       s->OnWrite(close, e, n);
                     });
}

template <class Derived>
void SessionBase<Derived>::OnWrite(bool close, beast::error_code ec, size_t) {
  res_.reset();
  if (ec || close) {
    self().Close();
    return;
  }
  DoRead();
}

void ServerImpl::DoAccept() {
  acceptor_.async_accept(asio::make_strand(ioc_), [this](beast::error_code ec, tcp::socket socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || draining_) return;
      spdlog::warn("accept failed: {}", ec.message());
    } else {
      beast::error_code e2;
      auto ep = socket.remote_endpoint(e2);
      std::string remote = e2 ? "unknown" : ep.address().to_string();
      socket.set_option(tcp::no_delay(true), e2);
      if (tls_) {
        std::make_shared<TlsSession>(this, std::move(socket), ssl_ctx_, remote)->Start();
      } else {
        std::make_shared<PlainSession>(this, std::move(socket), remote)->Start();
      }
    }
    if (!draining_) DoAccept();
  });
}

}  // namespace

core::Result<std::unique_ptr<Server>> Server::Start(ServerOptions options, Dispatch dispatch) {
  auto s = std::make_unique<ServerImpl>(std::move(options), std::move(dispatch));
  GANTRY_TRY_STATUS(s->Init());
  return std::unique_ptr<Server>(std::move(s));
}

}  // namespace gantry::http
