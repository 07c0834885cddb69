// Tenant-safe PromQL: /api/v1/metrics/query and query_range proxied to Prometheus. Callers who
// see every tenant (admin, operator, auditor, viewer) query unchanged; everybody else gets every
// selector scoped to their tenants (promql_scope.h), or a 400 when that cannot be done safely.
// An unconfigured or unreachable Prometheus is a 503 naming it; the API itself is unaffected.
// Thread-safe.
#pragma once

#include <map>
#include <string>

#include "core/principal.h"
#include "core/error.h"

namespace gantry::monitoring {

struct MetricsAnswer {
  int status = 200;
  std::string body;  // Prometheus' JSON
};

class MetricsProxy {
 public:
  explicit MetricsProxy(std::string prometheus_url) : url_(std::move(prometheus_url)) {}
  // kind: "query" or "query_range"; params: query, time | start, end, step; timeout.
  core::Result<MetricsAnswer> Query(const core::RequestContext& rc, const std::string& kind,
                                    const std::map<std::string, std::string>& params) const;
  bool configured() const { return !url_.empty(); }

 private:
  std::string url_;
};

}  // namespace gantry::monitoring
