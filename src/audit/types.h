// Audit events: who did what, to what, from where, when, with what result.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "core/clock.h"
#include "core/json.h"

namespace gantry::audit {

inline constexpr char kSuccess[] = "success";
inline constexpr char kDenied[] = "denied";
inline constexpr char kFailure[] = "failure";

struct Event {
  int64_t seq = 0;  // position in the chain, from 1, contiguous
  core::UnixNanos time = 0;
  std::string actor;  // user name, or "anonymous" / "system"
  std::optional<int64_t> actor_id;
  std::string source_ip;
  std::string user_agent;
  std::string action;       // "user.create", "auth.login", "authz.denied", ...
  std::string target_type;  // "user", "token", "job", "route", ...
  std::string target;       // name or id of the target
  std::optional<std::string> tenant;
  std::string request_id;
  std::string result = kSuccess;  // success | denied | failure
  std::string details = "{}";     // JSON object, already redacted
  std::string prev_hash;
  std::string hash;
};

struct SearchFilter {
  std::optional<std::string> actor, action, target, tenant, result;
  std::optional<core::UnixNanos> since, until;
  std::optional<int64_t> before_seq;  // cursor: events with seq < this
  int limit = 100;
};

struct VerifyReport {
  bool ok = true;
  int64_t events = 0;
  int64_t checkpoints = 0;
  int64_t bytes_hashed = 0;
  std::optional<int64_t> first_bad_seq;
  std::string problem;
};

core::json::object ToJson(const Event& e);

}  // namespace gantry::audit
