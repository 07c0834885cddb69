// CiResolver: finds the CI an alert is about from its labels, and caches the CMDB context of
// CIs for alert enrichment. Alert labels tried in order:
//   UUID (a GPU's uuid attribute: the most specific), gantry_ci ("server/node-01", set on every
//   target by Gantry's HTTP SD), node / Hostname / hostname / host / nodename (a server, switch or PDU name),
//   instance (host part: a name, or a primary_ip / mgmt_ip / BMC address).
// The lookup table covers servers, switches, PDUs, BMCs and GPUs; it is built from the CMDB on
// first use and rebuilt when a lookup misses and the table is older than `refresh` (so a burst
// of unmapped alerts costs at most one rebuild per period). Contexts are cached for `ttl`.
// Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <unordered_map>

#include "cmdb/service.h"
#include "core/clock.h"
#include "core/json.h"

namespace gantry::monitoring {

struct CiMatch {
  int64_t id = 0;
  std::string ci;          // "type/name"
  std::string matched_by;  // the label used
};

class CiResolver {
 public:
  CiResolver(cmdb::Service& cmdb, std::chrono::seconds refresh = std::chrono::seconds(60),
             std::chrono::seconds ttl = std::chrono::seconds(60));

  std::optional<CiMatch> Resolve(const core::json::object& labels);
  // The CMDB context of a CI (cmdb::Service::Context), cached; an empty object when unknown.
  core::json::object Context(int64_t ci_id);
  // Forgets the table and the contexts (tests; after bulk CMDB changes).
  void Invalidate();
  size_t size() const;

 private:
  std::optional<CiMatch> Lookup(const core::json::object& labels) const;
  void Rebuild();

  cmdb::Service& cmdb_;
  std::chrono::seconds refresh_, ttl_;
  mutable std::shared_mutex mu_;
  std::unordered_map<std::string, int64_t> keys_;  // "ref:server/n1", "name:n1", "ip:10.0.0.1", "uuid:GPU-…"
  std::unordered_map<int64_t, std::string> refs_;  // id → "type/name"
  std::chrono::steady_clock::time_point built_{};
  bool built_once_ = false;
  std::mutex rebuild_mu_;
  struct Cached {
    core::json::object context;
    std::chrono::steady_clock::time_point at;
  };
  std::mutex ctx_mu_;
  std::unordered_map<int64_t, Cached> contexts_;
};

}  // namespace gantry::monitoring
