// The request pipeline: one explicit, ordered chain every request goes through.
//
//   request id → route match → content type → authentication → CSRF → authorisation
//   → rate limit → handler → problem+json mapping → security headers → metrics + access log
//
// Denied and failed authentications are reported to SecurityEvents, which the app wires to the
// audit trail. The authentication, policy and audit implementations live in the auth and audit
// modules; this file only declares the narrow interfaces it needs. Thread-safe once built.
#pragma once

#include <memory>
#include <string>

#include "core/metrics.h"
#include "http/router.h"
#include "http/static_files.h"
#include "http/types.h"

namespace gantry::http {

class Authenticator {
 public:
  virtual ~Authenticator() = default;
  // No credentials: a Principal with authenticated() == false. Bad credentials: kUnauthenticated
  // (or kResourceExhausted when the source is being rate-limited).
  virtual core::Result<core::Principal> Authenticate(const Request& request,
                                                     const core::RequestContext& rc) = 0;
};

class Authorizer {
 public:
  virtual ~Authorizer() = default;
  virtual bool Allowed(const core::Principal& principal, std::string_view action) const = 0;
};

class SecurityEvents {
 public:
  virtual ~SecurityEvents() = default;
  // kind: "auth.failed" (no or bad credentials) or "authz.denied" (not allowed).
  virtual void Record(const core::RequestContext& rc, std::string_view kind,
                      std::string_view action, std::string_view target,
                      std::string_view reason) = 0;
};

class RateLimiter {
 public:
  virtual ~RateLimiter() = default;
  virtual bool Allow(const core::RequestContext& rc) = 0;
};

struct PipelineDeps {
  const Router* router = nullptr;
  Authenticator* authenticator = nullptr;
  const Authorizer* authorizer = nullptr;
  SecurityEvents* security_events = nullptr;  // may be null in tests
  RateLimiter* rate_limiter = nullptr;        // may be null: no limit
  const StaticFiles* static_files = nullptr;  // may be null: no web portal
  core::MetricsRegistry* metrics = nullptr;   // may be null
  bool access_log = true;
};

class Pipeline {
 public:
  explicit Pipeline(PipelineDeps deps);
  Response Handle(Request& request);

 private:
  Response Dispatch(Request& request, Context& ctx, const Router::Match& match);
  PipelineDeps deps_;
  core::CounterFamily* requests_ = nullptr;
  core::HistogramFamily* latency_ = nullptr;
};

// A request id from the client's X-Request-Id when it is sane, or a new random one.
std::string RequestIdFor(const Request& request);

}  // namespace gantry::http
