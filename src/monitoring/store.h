// SQL of the monitoring domain (the only place with it). Functions take the caller's Tx, so a
// change and its audit event commit together.
#pragma once

#include <optional>
#include <vector>

#include "monitoring/types.h"
#include "store/database.h"

namespace gantry::monitoring::Store {

// Records a webhook body hash; false when it was already there (a replay).
core::Result<bool> RecordReceipt(store::Tx& tx, const std::string& sha256, core::UnixNanos now);
core::Status PruneReceipts(store::Tx& tx, core::UnixNanos older_than);

core::Result<std::optional<AlertRecord>> FindAlert(store::Tx& tx, const std::string& fingerprint,
                                                   core::UnixNanos starts_at);
core::Result<int64_t> InsertAlert(store::Tx& tx, const AlertRecord& a);
core::Status UpdateAlertStatus(store::Tx& tx, int64_t id, const std::string& status,
                               std::optional<core::UnixNanos> ends_at);
core::Result<std::vector<AlertRecord>> AlertsOf(store::Tx& tx, int64_t incident_id, int limit);

core::Result<int64_t> InsertIncident(store::Tx& tx, const Incident& i);
core::Result<std::optional<Incident>> GetIncident(store::Tx& tx, int64_t id, bool for_update,
                                                  store::Backend backend);
core::Status UpdateIncident(store::Tx& tx, const Incident& i);
// Open or acknowledged incidents, newest first (at most `limit`), without their context.
core::Result<std::vector<Incident>> ActiveIncidents(store::Tx& tx, int limit);
core::Result<std::vector<Incident>> ListIncidents(store::Tx& tx, const IncidentFilter& f);
// Recounts alerts/firing of an incident from its alert rows.
core::Status Recount(store::Tx& tx, int64_t incident_id);

core::Status AddTimeline(store::Tx& tx, const TimelineEntry& e);
core::Result<std::vector<TimelineEntry>> TimelineOf(store::Tx& tx, int64_t incident_id, int limit);

}  // namespace gantry::monitoring::Store
