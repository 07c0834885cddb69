#include "monitoring/types.h"

namespace gantry::monitoring {

namespace {

core::json::value Time(std::optional<core::UnixNanos> t) {
  return t ? core::json::value(core::FormatRfc3339(*t)) : core::json::value(nullptr);
}

}  // namespace

core::json::object ToJson(const Incident& i) {
  return {{"id", i.id},
          {"title", i.title},
          {"state", i.state},
          {"severity", i.severity},
          {"unmapped", i.unmapped},
          {"ci_id", i.ci_id ? core::json::value(*i.ci_id) : core::json::value(nullptr)},
          {"ci", i.ci},
          {"tenant", core::OptValue(i.tenant)},
          {"alertname", i.alertname},
          {"assignee", core::OptValue(i.assignee)},
          {"context", i.context},
          {"alerts", i.alerts},
          {"firing", i.firing},
          {"opened_at", core::FormatRfc3339(i.opened_at)},
          {"updated_at", core::FormatRfc3339(i.updated_at)},
          {"resolved_at", Time(i.resolved_at)}};
}

core::json::object ToJson(const AlertRecord& a) {
  return {{"id", a.id},
          {"incident_id", a.incident_id},
          {"fingerprint", a.fingerprint},
          {"alertname", a.alertname},
          {"status", a.status},
          {"labels", a.labels},
          {"annotations", a.annotations},
          {"ci_id", a.ci_id ? core::json::value(*a.ci_id) : core::json::value(nullptr)},
          {"ci", a.ci},
          {"matched_by", a.matched_by},
          {"starts_at", core::FormatRfc3339(a.starts_at)},
          {"ends_at", Time(a.ends_at)},
          {"received_at", core::FormatRfc3339(a.received_at)}};
}

core::json::object ToJson(const TimelineEntry& t) {
  return {{"id", t.id}, {"at", core::FormatRfc3339(t.at)}, {"actor", t.actor}, {"kind", t.kind}, {"text", t.text}};
}

core::json::object ToJson(const IngestReport& r) {
  core::json::array ids;
  for (int64_t id : r.incidents) ids.push_back(id);
  return {{"alerts", r.alerts},       {"created", r.created},     {"updated", r.updated},
          {"unchanged", r.unchanged}, {"unmapped", r.unmapped}, {"incidents", ids}};
}

}  // namespace gantry::monitoring
