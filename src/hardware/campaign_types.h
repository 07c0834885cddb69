// Firmware campaign records: the spec an operator writes, the campaign's state, and the state
// of each node in it. Plain values.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"

namespace gantry::hardware {

struct CampaignSpec {
  std::string component;       // firmware inventory Id, e.g. "BIOS"
  std::string target_version;  // what the component must report afterwards
  std::string image_uri;       // http(s)/ftp/... URI the BMC fetches
  std::string checksum;        // "sha256:<64 hex>"
  // Selection of CMDB servers: explicit names, or the servers located in `rack`, or with the
  // attribute values in `attrs`; then only those whose recorded version of `component` is
  // below `version_below` (when given). At least one of nodes, rack, attrs.
  std::vector<std::string> nodes;
  std::optional<std::string> rack;
  std::vector<std::pair<std::string, std::string>> attrs;
  std::optional<std::string> version_below;  // only nodes whose current version compares lower
  int batch_size = 10;
  int canary_size = 1;
  int failure_budget = 0;      // failed nodes tolerated; one more halts the campaign
  int soak_seconds = 0;        // after the canary batch
  std::optional<core::UnixNanos> window_start, window_end;  // maintenance window (optional)
  int task_timeout_seconds = 900;
  bool reboot = false;  // reset the node after its update task (firmware that applies on boot)
};

core::json::object ToJson(const CampaignSpec& s);
// Strict: unknown fields, wrong types and bad values are kInvalidArgument naming the field.
core::Result<CampaignSpec> CampaignSpecFromJson(const core::json::object& o);

struct Campaign {
  int64_t id = 0;
  std::string name;
  // pending | running | paused | succeeded | failed | halted | cancelled
  std::string state = "pending";
  CampaignSpec spec;
  core::json::object impact;
  std::optional<int64_t> job_id;
  int batch = 0;
  int failures = 0;
  std::string message;
  std::optional<core::UnixNanos> soak_until;
  std::string created_by;
  core::UnixNanos created_at = 0;
  core::UnixNanos updated_at = 0;
};

struct CampaignNode {
  std::string server;
  int batch = 0;
  std::string state = "pending";  // pending | updating | verifying | succeeded | failed
  std::string task;
  std::string version_before;
  std::string version_after;
  std::string message;
  core::UnixNanos updated_at = 0;
};

core::json::object ToJson(const Campaign& c);
core::json::object ToJson(const CampaignNode& n);

bool IsFinalCampaignState(std::string_view state);
// Compares dotted versions numerically where both parts are numbers ("2.10" > "2.9"),
// textually otherwise. <0, 0, >0.
int CompareVersions(std::string_view a, std::string_view b);

}  // namespace gantry::hardware
