#include "http/pipeline.h"

#include <spdlog/spdlog.h>

#include <chrono>

#include "core/crypto.h"
#include "http/problem.h"

namespace gantry::http {

namespace {

bool SafeRequestId(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  for (char c : id) {
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.')) {
      return false;
    }
  }
  return true;
}

bool IsUnsafeMethod(std::string_view m) {
  return m == "POST" || m == "PUT" || m == "PATCH" || m == "DELETE";
}

bool IsJsonContentType(std::string_view ct) {
  auto semi = ct.find(';');
  std::string_view base = ct.substr(0, semi);
  while (!base.empty() && base.back() == ' ') base.remove_suffix(1);
  std::string lower;
  for (char c : base) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return lower == "application/json" || (lower.starts_with("application/") && lower.ends_with("+json"));
}

}  // namespace

std::string RequestIdFor(const Request& request) {
  std::string_view given = request.Header("x-request-id");
  if (SafeRequestId(given)) return std::string(given);
  // A random per-thread prefix and a counter: unique, unguessable enough for correlation, and
  // no CSPRNG call per request.
  thread_local const std::string prefix = core::HexEncode(core::RandomBytes(6));
  thread_local uint64_t counter = 0;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%012llx", static_cast<unsigned long long>(++counter & 0xffffffffffffULL));
  return prefix + buf;
}

Pipeline::Pipeline(PipelineDeps deps) : deps_(deps) {
  if (deps_.metrics) {
    requests_ = &deps_.metrics->Counter("gantry_http_requests_total",
                                        "HTTP requests by route, method and status",
                                        {"route", "method", "status"});
    latency_ = &deps_.metrics->Histogram(
        "gantry_http_request_duration_seconds", "HTTP request latency by route", {"route"},
        {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10});
  }
}

Response Pipeline::Handle(Request& request) {
  auto start = std::chrono::steady_clock::now();
  Context ctx{request, {}, {}, {}};
  ctx.rc.request_id = RequestIdFor(request);
  ctx.rc.source_ip = request.remote_addr;
  ctx.rc.user_agent = std::string(request.Header("user-agent").substr(0, 256));

  auto match = deps_.router->Find(request.method, request.path);
  std::string route_label = match.route ? match.route->spec.pattern : "unmatched";
  Response resp;
  try {
    resp = Dispatch(request, ctx, match);
  } catch (const std::exception& e) {
    spdlog::error("request {} {} {} failed: {}", ctx.rc.request_id, request.method, request.path,
                  e.what());
    resp = ProblemResponse(core::Internal(e.what()), request.path, ctx.rc.request_id);
  }
  if (!match.route && resp.status != 404 && resp.status != 405) route_label = "static";

  resp.SetHeader("x-request-id", ctx.rc.request_id);
  resp.SetHeader("x-content-type-options", "nosniff");
  if (request.path.starts_with("/api/")) {
    resp.SetHeader("cache-control", "no-store");
  } else if (resp.Header("content-type").starts_with("text/html")) {
    resp.SetHeader("x-frame-options", "DENY");
    resp.SetHeader("content-security-policy",
                   "default-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:");
  }
  for (auto& c : ctx.set_cookies) resp.headers.emplace_back("set-cookie", std::move(c));

  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  if (requests_) requests_->Inc({route_label, request.method, std::to_string(resp.status)});
  if (latency_) latency_->Observe({route_label}, secs);
  if (deps_.access_log) {
    spdlog::info("access {} {} {} {} {}B {:.2f}ms user={} ip={}", ctx.rc.request_id,
                 request.method, request.path, resp.status, resp.body.size(), secs * 1000,
                 ctx.rc.principal.username.empty() ? "-" : ctx.rc.principal.username,
                 ctx.rc.source_ip);
  }
  return resp;
}

Response Pipeline::Dispatch(Request& request, Context& ctx, const Router::Match& match) {
  const std::string& rid = ctx.rc.request_id;
  auto problem = [&](const core::Error& e) { return ProblemResponse(e, request.path, rid); };

  if (!match.route) {
    if (!match.allowed_methods.empty()) {
      std::string allow;
      for (const auto& m : match.allowed_methods) allow += (allow.empty() ? "" : ", ") + m;
      Response r = problem({core::Code::kMethodNotAllowed,
                            "method " + request.method + " is not allowed here; use " + allow});
      r.SetHeader("allow", allow);
      return r;
    }
    if (deps_.static_files && (request.method == "GET" || request.method == "HEAD")) {
      if (auto r = deps_.static_files->Serve(request.path)) return *r;
    }
    return problem(core::NotFound("no route for " + request.method + " " + request.path));
  }
  const Route& route = *match.route;
  ctx.params = match.params;

  if (!route.spec.raw_body && !request.body.empty() &&
      !IsJsonContentType(request.Header("content-type"))) {
    return problem({core::Code::kUnsupportedMedia,
                    "content type '" + std::string(request.Header("content-type")) +
                        "' is not supported; send application/json"});
  }

  if (route.spec.auth != Auth::kPublic) {
    auto principal = deps_.authenticator->Authenticate(request, ctx.rc);
    if (!principal) {
      if (deps_.security_events) {
        deps_.security_events->Record(ctx.rc, "auth.failed", route.spec.action, request.path,
                                      principal.error().message);
      }
      Response r = problem(principal.error());
      if (r.status == 401) r.SetHeader("www-authenticate", "Bearer realm=\"gantry\"");
      return r;
    }
    ctx.rc.principal = std::move(*principal);
    if (route.spec.auth == Auth::kRequired && !ctx.rc.principal.authenticated()) {
      if (deps_.security_events) {
        deps_.security_events->Record(ctx.rc, "auth.failed", route.spec.action, request.path,
                                      "no credentials");
      }
      Response r = problem(core::Unauthenticated(
          "authentication required: send 'Authorization: Bearer <token>' or log in"));
      r.SetHeader("www-authenticate", "Bearer realm=\"gantry\"");
      return r;
    }
    if (ctx.rc.principal.auth_method == "session" && IsUnsafeMethod(request.method)) {
      std::string_view sent = request.Header("x-csrf-token");
      if (sent.empty() || !core::ConstantTimeEqual(sent, ctx.rc.principal.csrf_token)) {
        if (deps_.security_events) {
          deps_.security_events->Record(ctx.rc, "authz.denied", route.spec.action, request.path,
                                        "missing or wrong CSRF token");
        }
        return problem(core::PermissionDenied("missing or wrong X-CSRF-Token header"));
      }
    }
    if (!route.spec.action.empty() && ctx.rc.principal.authenticated() &&
        !deps_.authorizer->Allowed(ctx.rc.principal, route.spec.action)) {
      if (deps_.security_events) {
        deps_.security_events->Record(ctx.rc, "authz.denied", route.spec.action, request.path,
                                      "role does not allow " + route.spec.action);
      }
      return problem(core::PermissionDenied("your roles do not allow '" + route.spec.action + "'"));
    }
  }

  if (deps_.rate_limiter && !deps_.rate_limiter->Allow(ctx.rc)) {
    Response r = problem({core::Code::kResourceExhausted, "too many requests; slow down"});
    r.SetHeader("retry-after", "1");
    return r;
  }

  auto result = route.handler(ctx);
  if (!result) {
    const auto& e = result.error();
    if (e.code == core::Code::kInternal) {
      spdlog::error("request {} {} {}: {}", rid, request.method, request.path, e.message);
    }
    if (e.code == core::Code::kPermissionDenied && deps_.security_events) {
      deps_.security_events->Record(ctx.rc, "authz.denied", route.spec.action, request.path,
                                    e.message);
    }
    Response r = problem(e);
    if (r.status == 429) r.SetHeader("retry-after", "60");
    return r;
  }
  return std::move(*result);
}

}  // namespace gantry::http
