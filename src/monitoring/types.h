// Monitoring domain types: incidents built from Alertmanager alerts, their alerts and timeline.
// Plain values; safe to copy between threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"

namespace gantry::monitoring {

inline constexpr char kOpen[] = "open";
inline constexpr char kAcknowledged[] = "acknowledged";
inline constexpr char kResolved[] = "resolved";

struct Incident {
  int64_t id = 0;
  std::string title;
  std::string state = kOpen;        // open | acknowledged | resolved
  std::string severity;             // highest severity label of its alerts
  bool unmapped = false;            // no alert label matched a CI
  std::optional<int64_t> ci_id;     // the CI the incident is about (a common cause when grouped)
  std::string ci;                   // "type/name" of ci_id, or ""
  std::optional<std::string> tenant;  // owner tenant of the CI (tenant users see only theirs)
  std::string alertname;            // the alertname that opened it
  std::optional<std::string> assignee;
  core::json::object context;       // CMDB context of ci_id when the incident opened
  int64_t alerts = 0, firing = 0;
  core::UnixNanos opened_at = 0, updated_at = 0;
  std::optional<core::UnixNanos> resolved_at;
};

struct AlertRecord {
  int64_t id = 0;
  int64_t incident_id = 0;
  std::string fingerprint;
  std::string alertname;
  std::string status;  // firing | resolved
  core::json::object labels, annotations;
  std::optional<int64_t> ci_id;
  std::string ci;
  std::string matched_by;  // the label that found the CI ("gantry_ci", "UUID", "instance", ...)
  core::UnixNanos starts_at = 0;
  std::optional<core::UnixNanos> ends_at;
  core::UnixNanos received_at = 0;
};

struct TimelineEntry {
  int64_t id = 0;
  int64_t incident_id = 0;
  core::UnixNanos at = 0;
  std::string actor;
  std::string kind;  // opened | alert | alert_resolved | acknowledged | assigned | note | resolved | reopened
  std::string text;
};

struct IncidentFilter {
  std::optional<std::string> state;
  std::optional<std::vector<std::string>> visible_tenants;  // nullopt: all
  std::optional<int64_t> before_id;  // cursor
  int limit = 100;
};

// What one webhook POST did.
struct IngestReport {
  int64_t alerts = 0, created = 0, updated = 0, unchanged = 0, unmapped = 0;
  std::vector<int64_t> incidents;  // touched, in order of first touch
};

core::json::object ToJson(const Incident& i);
core::json::object ToJson(const AlertRecord& a);
core::json::object ToJson(const TimelineEntry& t);
core::json::object ToJson(const IngestReport& r);

}  // namespace gantry::monitoring
