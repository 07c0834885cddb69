// The monitoring service: Alertmanager webhook ingest (validated, deduplicated by fingerprint and
// start time, replays refused), alert → CI resolution and CMDB enrichment, grouping into
// incidents (an alert joins an active incident whose CI is itself or upstream of the alert's CI;
// new alerts of one alertname on several CIs become one incident about their closest common
// cause, so one switch down is one incident), the incident life cycle (open → acknowledged →
// resolved, assignee, notes, timeline; resolved automatically when its last alert resolves),
// notifications, and Prometheus HTTP SD targets. Every change appends an audit event in the same
// transaction. Thread-safe.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "audit/service.h"
#include "cmdb/service.h"
#include "monitoring/maintenance.h"
#include "monitoring/metrics_proxy.h"
#include "monitoring/notifier.h"
#include "monitoring/resolver.h"
#include "monitoring/silences.h"
#include "monitoring/targets.h"
#include "monitoring/types.h"
#include "store/database.h"

namespace gantry::monitoring {

struct MonitoringConfig {
  std::vector<std::string> notify_webhooks;  // enriched incident notifications go here
  TargetsOptions targets;
  size_t max_alerts_per_body = 5000;
  std::chrono::seconds resolver_refresh{60};
  std::string prometheus_url;    // for /api/v1/metrics/query; empty: metrics unavailable (503)
  std::string alertmanager_url;  // for maintenance silences; empty: silences unavailable (503)
};

// Reachability of the peers, for GET /api/v1/monitoring/status.
struct PeerStatus {
  std::string prometheus, alertmanager;  // "ok", "not configured" or "unreachable: ..."
};

class Service {
 public:
  Service(store::Database& db, const audit::Service& audit, cmdb::Service& cmdb,
          const core::Clock& clock, MonitoringConfig config = {});

  // One Alertmanager webhook body (version 4). InvalidArgument for a malformed body (nothing
  // written), Conflict for a body already received.
  core::Result<IngestReport> IngestAlertmanager(const core::RequestContext& rc, std::string_view body);

  core::Result<std::string> Targets(const core::RequestContext& rc, std::string_view kind);

  core::Result<std::vector<Incident>> ListIncidents(const core::RequestContext& rc, IncidentFilter f);
  // The incident with its alerts and timeline.
  core::Result<core::json::object> GetIncident(const core::RequestContext& rc, int64_t id);
  core::Result<Incident> Acknowledge(const core::RequestContext& rc, int64_t id,
                                     std::optional<std::string> assignee, std::optional<std::string> note);
  core::Result<Incident> Resolve(const core::RequestContext& rc, int64_t id, std::optional<std::string> note);
  core::Result<Incident> Assign(const core::RequestContext& rc, int64_t id, std::string assignee);
  core::Result<Incident> AddNote(const core::RequestContext& rc, int64_t id, std::string text);

  // Probes Prometheus and Alertmanager (GET /-/ready, 2 s timeout each).
  PeerStatus Peers() const;

  CiResolver& resolver() { return resolver_; }
  MetricsProxy& metrics() { return metrics_; }
  SilenceManager& silences() { return silences_; }
  Maintenance& maintenance() { return maintenance_; }
  Notifier& notifier() { return notifier_; }
  TargetDirectory& targets() { return targets_; }

 private:
  struct Parsed;
  core::Result<std::vector<Parsed>> Parse(std::string_view body) const;
  core::Result<Incident> Visible(store::Tx& tx, const core::RequestContext& rc, int64_t id,
                                 bool for_update) const;
  core::Result<Incident> Change(const core::RequestContext& rc, int64_t id, const std::string& action,
                                const std::function<core::Status(Incident&, std::vector<TimelineEntry>&)>& edit);
  void Notify(const std::string& event, const Incident& i);

  store::Database& db_;
  const audit::Service& audit_;
  cmdb::Service& cmdb_;
  const core::Clock& clock_;
  MonitoringConfig config_;
  CiResolver resolver_;
  TargetDirectory targets_;
  Notifier notifier_;
  MetricsProxy metrics_;
  SilenceManager silences_;
  Maintenance maintenance_;
};

}  // namespace gantry::monitoring
