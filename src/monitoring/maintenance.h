// Maintenance follows the CMDB: a CI whose status is `maintenance` (set by hand, through the API
// or CLI, a change request, another replica, or Enter() below) gets an Alertmanager silence for
// itself and everything the CMDB says depends on it (SilenceManager, origin "maintenance"), and
// that silence is expired when the status changes back (or the CI is deleted). The CMDB status is
// the desired state and mon_silences the recorded one, so the work is a reconciliation:
// Reconcile() creates and removes what differs, each step audited (monitoring.silence.create /
// .remove) with the silence ids stored for the expiry. It runs as the durable job
// `monitoring.maintenance_sync` (retried with back-off while Alertmanager is unreachable);
// `gantry serve` enqueues it whenever Pending() says the two differ (checked every few seconds),
// and Enter()/Leave() run it at once. A silence lasts 14 days (Alertmanager's usual limit here)
// and is renewed by the next reconcile after it ended while the CI is still in maintenance.
//
// For other domains (the firmware campaign's batches and its health gate):
//   Enter(rc, {"server/node-01", ...}, "firmware 1.2.3")  → status maintenance + silences
//   Leave(rc, {...})                                       → status active + silences expired
//   NewCriticalAlertsSince(rc, ci_ids, t)                  → critical alerts that started after t
// Thread-safe; one reconcile at a time per process.
#pragma once

#include <mutex>
#include <string>
#include <vector>

#include "cmdb/service.h"
#include "jobs/service.h"
#include "monitoring/silences.h"
#include "store/database.h"

namespace gantry::monitoring {

inline constexpr char kMaintenanceJobType[] = "monitoring.maintenance_sync";

struct MaintenanceReport {
  int64_t in_maintenance = 0;            // CIs whose CMDB status is maintenance
  std::vector<std::string> created;      // CIs ("type/name") that got a silence
  std::vector<std::string> removed;      // CIs whose silence was expired
  std::vector<std::string> errors;       // steps that failed (Alertmanager down...); retried later
  bool pending() const { return !errors.empty(); }
};
core::json::object ToJson(const MaintenanceReport& r);

struct CriticalAlert {
  std::string alertname, ci, fingerprint;
  int64_t ci_id = 0;
  core::UnixNanos starts_at = 0;
  std::string source;  // "gantry" (received by the webhook) or "alertmanager" (silenced ones too)
};

class Maintenance {
 public:
  Maintenance(store::Database& db, cmdb::Service& cmdb, SilenceManager& silences,
              const core::Clock& clock, std::string alertmanager_url);

  bool configured() const { return !url_.empty(); }
  // Whether the CMDB's maintenance CIs and the active maintenance silences differ.
  core::Result<bool> Pending();
  // Creates the missing silences and expires the ones no longer wanted. Every step is tried;
  // kUnavailable (naming the first failure) when any failed, so the job is retried.
  core::Result<MaintenanceReport> Reconcile(const core::RequestContext& rc);

  // Sets the CMDB status of each CI (references as in the CMDB: id, "type/name", unique name) to
  // maintenance (Enter) or active (Leave), then reconciles. The status changes are committed
  // first; when Alertmanager cannot be reached the report lists the errors (pending()) and the
  // background job finishes the work.
  core::Result<MaintenanceReport> Enter(const core::RequestContext& rc, const std::vector<std::string>& refs);
  core::Result<MaintenanceReport> Leave(const core::RequestContext& rc, const std::vector<std::string>& refs);

  // Critical alerts (label severity="critical") about these CIs that started at or after
  // `since`: the ones Gantry received (mon_alerts) and, when an Alertmanager is configured, the
  // ones it holds now, silenced or not (maintenance silences keep them from the webhook).
  // kUnavailable when Alertmanager is configured but unreachable: a health gate must not pass
  // on missing data.
  core::Result<std::vector<CriticalAlert>> NewCriticalAlertsSince(const core::RequestContext& rc,
                                                                  const std::vector<int64_t>& ci_ids,
                                                                  core::UnixNanos since);

  // The firmware campaign's alert gate (hardware::CampaignService::SetAlertGate): servers by CMDB
  // name; kFailedPrecondition naming the first new critical alert, kUnavailable when it cannot
  // tell. Servers without a CI are skipped.
  core::Status ServersQuietSince(const std::vector<std::string>& server_names, core::UnixNanos since);

 private:
  core::Result<MaintenanceReport> SetStatus(const core::RequestContext& rc, const std::vector<std::string>& refs,
                                            const std::string& status);
  store::Database& db_;
  cmdb::Service& cmdb_;
  SilenceManager& silences_;
  const core::Clock& clock_;
  std::string url_;
  std::mutex mu_;
};

// Registers monitoring.maintenance_sync (no parameters).
void RegisterMaintenanceJobType(jobs::Registry& registry, Maintenance& maintenance);
// Enqueues monitoring.maintenance_sync when Pending() and none is queued or running; whether it did.
core::Result<bool> EnqueueMaintenanceSyncIfPending(Maintenance& maintenance, jobs::Service& jobs);

}  // namespace gantry::monitoring
