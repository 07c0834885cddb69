#include "jobs/types.h"

namespace gantry::jobs {

bool IsValidState(std::string_view s) {
  return s == kQueued || s == kRunning || s == kSucceeded || s == kFailed || s == kCancelled;
}

bool IsFinal(std::string_view s) { return s == kSucceeded || s == kFailed || s == kCancelled; }

namespace {
core::json::value OptTime(const std::optional<core::UnixNanos>& t) {
  return t ? core::json::value(core::FormatRfc3339(*t)) : core::json::value(nullptr);
}
core::json::value JsonOrNull(const std::optional<std::string>& s) {
  if (!s) return nullptr;
  auto v = core::ParseJson(*s);
  return v ? *v : core::json::value(*s);
}
}  // namespace

core::json::object ToJson(const Job& j) {
  core::json::object o{{"id", j.id},
                       {"type", j.type},
                       {"state", j.state},
                       {"progress", j.progress},
                       {"message", j.message},
                       {"attempts", j.attempts},
                       {"max_attempts", j.max_attempts},
                       {"cancel_requested", j.cancel_requested},
                       {"created_by", j.created_by},
                       {"created_at", core::FormatRfc3339(j.created_at)},
                       {"updated_at", core::FormatRfc3339(j.updated_at)},
                       {"started_at", OptTime(j.started_at)},
                       {"finished_at", OptTime(j.finished_at)}};
  o["params"] = JsonOrNull(j.params);
  o["result"] = JsonOrNull(j.result);
  o["error"] = core::OptValue(j.error);
  o["tenant"] = core::OptValue(j.tenant);
  if (!j.log.empty()) {
    core::json::array log;
    for (const auto& l : j.log) log.push_back({{"time", core::FormatRfc3339(l.time)}, {"line", l.line}});
    o["log"] = std::move(log);
  } else {
    o["log"] = core::json::array();
  }
  return o;
}

}  // namespace gantry::jobs
