// Maintenance silences: putting a CI into maintenance silences, in Alertmanager (v2 API), every
// alert about it and about everything the CMDB says depends on it (its impact set: a switch
// silences the servers behind it), and removing the silence expires them again. Alerts are
// matched by the gantry_ci target label Gantry's HTTP SD sets (GPU alerts carry their node's).
// The silence is created in Alertmanager first and recorded (with an audit event) only when that
// worked; an unreachable Alertmanager is a 503 naming it and nothing is recorded. Usable by hand
// (API, CLI) and by other domains (a firmware campaign) through Create/Remove. Thread-safe.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include "audit/service.h"
#include "cmdb/service.h"
#include "store/database.h"

namespace gantry::monitoring {

struct Silence {
  int64_t id = 0;
  int64_t ci_id = 0;
  std::string ci;                           // "type/name"
  std::vector<std::string> silence_ids;     // Alertmanager's ids (one per 500 CIs)
  std::vector<std::string> covered;         // gantry_ci values matched
  std::string created_by, comment;
  core::UnixNanos created_at = 0, ends_at = 0;
  std::optional<core::UnixNanos> removed_at;
  std::string origin = "manual";            // "manual" or "maintenance" (CMDB status, maintenance.h)
};
core::json::object ToJson(const Silence& s);

class SilenceManager {
 public:
  SilenceManager(store::Database& db, const audit::Service& audit, cmdb::Service& cmdb,
                 const core::Clock& clock, std::string alertmanager_url);

  core::Result<Silence> Create(const core::RequestContext& rc, std::string_view ci_ref,
                               std::chrono::minutes duration, std::string comment,
                               std::string origin = "manual");
  core::Result<Silence> Remove(const core::RequestContext& rc, int64_t id);
  core::Result<std::vector<Silence>> List(const core::RequestContext& rc, bool active_only);

 private:
  store::Database& db_;
  const audit::Service& audit_;
  cmdb::Service& cmdb_;
  const core::Clock& clock_;
  std::string url_;
};

}  // namespace gantry::monitoring
