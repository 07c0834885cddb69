// Durable jobs: long work (provisioning, firmware rollouts, sweeps, roll-ups) as database rows
// with state, progress, log lines, attempts and a lease.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"

namespace gantry::jobs {

// queued → running → succeeded | failed | cancelled; running → queued again on a retry.
inline constexpr char kQueued[] = "queued";
inline constexpr char kRunning[] = "running";
inline constexpr char kSucceeded[] = "succeeded";
inline constexpr char kFailed[] = "failed";
inline constexpr char kCancelled[] = "cancelled";

bool IsValidState(std::string_view s);
bool IsFinal(std::string_view s);

struct LogLine {
  int64_t id = 0;
  core::UnixNanos time = 0;
  std::string line;
};

struct Job {
  int64_t id = 0;
  std::string type;
  std::string state = kQueued;
  int progress = 0;
  std::string message;
  std::string params = "{}";          // JSON object
  std::optional<std::string> result;  // JSON object
  std::optional<std::string> error;
  int attempts = 0;
  int max_attempts = 3;
  core::UnixNanos run_after = 0;
  std::optional<std::string> lease_owner;
  std::optional<core::UnixNanos> lease_expires;
  bool cancel_requested = false;
  std::string created_by;
  std::optional<std::string> tenant;
  core::UnixNanos created_at = 0;
  core::UnixNanos updated_at = 0;
  std::optional<core::UnixNanos> started_at;
  std::optional<core::UnixNanos> finished_at;
  std::vector<LogLine> log;  // filled by Get()
};

struct NewJob {
  std::string type;
  core::json::object params;
  int max_attempts = 3;
  std::optional<std::string> tenant;
};

struct ListFilter {
  std::optional<std::string> state, type, created_by;
  std::optional<int64_t> before_id;
  int limit = 100;
};

core::json::object ToJson(const Job& j);

}  // namespace gantry::jobs
