#include "monitoring/metrics_proxy.h"

#include <curl/curl.h>

#include "auth/policy.h"
#include "core/json.h"
#include "monitoring/outbound.h"
#include "monitoring/promql_scope.h"

namespace gantry::monitoring {

namespace {

std::string FormEncode(const std::map<std::string, std::string>& params) {
  std::string out;
  for (const auto& [k, v] : params) {
    char* e = curl_easy_escape(nullptr, v.c_str(), static_cast<int>(v.size()));
    out += (out.empty() ? "" : "&") + k + "=" + (e ? e : "");
    curl_free(e);
  }
  return out;
}

core::Status CheckParam(const std::string& name, const std::string& v) {
  if (v.empty() || v.size() > 64) return core::InvalidArgument(name + " must be 1 to 64 characters", name);
  for (char c : v) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != ':' && c != '.' && c != '+' && c != '-') {
      return core::InvalidArgument(name + " must be a number, an RFC 3339 time or a duration", name);
    }
  }
  return {};
}

}  // namespace

core::Result<MetricsAnswer> MetricsProxy::Query(const core::RequestContext& rc, const std::string& kind,
                                                const std::map<std::string, std::string>& in) const {
  if (kind != "query" && kind != "query_range") return core::NotFound("no such metrics call");
  auto q = in.find("query");
  if (q == in.end()) return core::InvalidArgument("query is required", "query");
  std::map<std::string, std::string> params;
  for (const auto& [k, v] : in) {
    if (k == "query") continue;
    bool allowed = k == "timeout" || (kind == "query" ? k == "time" : (k == "start" || k == "end" || k == "step"));
    if (!allowed) return core::InvalidArgument("unknown parameter '" + k.substr(0, 32) + "'", k);
    GANTRY_TRY_STATUS(CheckParam(k, v));
    params[k] = v;
  }
  if (kind == "query_range") {
    for (const char* k : {"start", "end", "step"}) {
      if (!params.contains(k)) return core::InvalidArgument(std::string(k) + " is required", k);
    }
  }
  if (auth::SeesAllTenants(rc.principal)) {
    params["query"] = q->second;
  } else {
    std::vector<std::string> tenants;
    for (const auto& m : rc.principal.tenants) tenants.push_back(m.tenant);
    GANTRY_TRY(params["query"], ScopeToTenants(q->second, tenants));
  }
  if (url_.empty()) {
    return core::Unavailable("metrics are not available: no Prometheus configured (gantry serve --prometheus-url)");
  }
  OutboundRequest r;
  r.method = "POST";
  r.url = url_ + "/api/v1/" + kind;
  r.body = FormEncode(params);
  r.headers = {"Content-Type: application/x-www-form-urlencoded"};
  r.timeout = std::chrono::seconds(30);
  r.max_answer = 16 << 20;
  auto a = Send(r);
  if (!a) return core::Unavailable("Prometheus unreachable: " + a.error().message);
  if (a->status == 400 || a->status == 422) {
    // Prometheus' own error for a bad query: {"status":"error","errorType":"bad_data","error":"..."}
    auto parsed = core::ParseObject(a->body);
    std::string msg = "Prometheus refused the query";
    if (parsed) {
      if (auto* e = parsed->if_contains("error"); e && e->is_string()) msg += ": " + std::string(e->as_string());
    }
    return core::InvalidArgument(msg, "query");
  }
  if (a->status != 200) {
    return core::Unavailable("Prometheus answered HTTP " + std::to_string(a->status));
  }
  return MetricsAnswer{200, std::move(a->body)};
}

}  // namespace gantry::monitoring
