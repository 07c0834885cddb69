#include "tenancy/types.h"

#include <algorithm>

namespace gantry::tenancy {

namespace {

// The one table of GPU models and MIG profiles Gantry accepts. Operators will be able to extend
// it from configuration in a later issue; until then, add a model here.
const std::vector<std::string_view> kGpuModels = {"a10", "a100", "a30",  "b200", "gh200",
                                                  "h100", "h200", "l4",  "l40s", "v100"};
const std::vector<std::string_view> kMigProfiles = {
    "1g.5gb",  "1g.10gb", "1g.20gb", "2g.10gb", "2g.20gb", "3g.20gb",
    "3g.40gb", "4g.20gb", "4g.40gb", "7g.40gb", "7g.80gb"};

struct Plain {
  std::string_view name;
  Unit unit;
};
const Plain kPlain[] = {{"cpu", Unit::kCores},      {"memory", Unit::kBytes},
                        {"storage", Unit::kBytes},  {"nodes", Unit::kCount},
                        {"instances", Unit::kCount}};

bool Contains(const std::vector<std::string_view>& v, std::string_view s) {
  return std::find(v.begin(), v.end(), s) != v.end();
}

core::json::value OptInt(const std::optional<int64_t>& v) {
  return v ? core::json::value(*v) : core::json::value(nullptr);
}

}  // namespace

const std::vector<std::string_view>& GpuModels() { return kGpuModels; }
const std::vector<std::string_view>& MigProfiles() { return kMigProfiles; }

std::string ValidResourcesText() {
  std::string out;
  auto add = [&out](std::string_view s) { out += (out.empty() ? "" : ", ") + std::string(s); };
  for (auto m : kGpuModels) add("gpu/" + std::string(m));
  for (auto p : kMigProfiles) add("mig/" + std::string(p));
  for (const auto& p : kPlain) add(p.name);
  return out;
}

core::Status ValidateResource(std::string_view name, std::string_view field) {
  bool ok = false;
  if (name.starts_with("gpu/")) {
    ok = Contains(kGpuModels, name.substr(4));
  } else if (name.starts_with("mig/")) {
    ok = Contains(kMigProfiles, name.substr(4));
  } else {
    for (const auto& p : kPlain) ok = ok || p.name == name;
  }
  if (ok) return {};
  std::string shown(name.substr(0, 64));
  return core::InvalidArgument(
      "unknown resource '" + shown + "'; valid resources: " + ValidResourcesText(),
      std::string(field));
}

Unit UnitOf(std::string_view resource) {
  for (const auto& p : kPlain) {
    if (p.name == resource) return p.unit;
  }
  return Unit::kCount;
}

std::string_view UnitName(Unit u) {
  switch (u) {
    case Unit::kCount: return "count";
    case Unit::kCores: return "cores";
    case Unit::kBytes: return "bytes";
  }
  return "count";
}

core::Status ValidateSlug(std::string_view slug, std::string_view field) {
  bool ok = !slug.empty() && slug.size() <= 63 && slug.front() >= 'a' && slug.front() <= 'z' &&
            slug.back() != '-';
  for (char c : slug) ok = ok && ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-');
  if (ok) return {};
  return core::InvalidArgument(std::string(field) +
                                   " must be 1-63 characters of a-z, 0-9 and '-', starting with a "
                                   "letter and not ending with '-'",
                               std::string(field));
}

bool IsMemberRole(core::Role r) {
  return r == core::Role::kTenantAdmin || r == core::Role::kTenantMember ||
         r == core::Role::kViewer;
}

core::json::object ToJson(const Tenant& t) {
  return {{"id", t.id},
          {"slug", t.slug},
          {"name", t.name},
          {"cohort", core::OptValue(t.cohort)},
          {"disabled", t.disabled},
          {"created_at", core::FormatRfc3339(t.created_at)},
          {"updated_at", core::FormatRfc3339(t.updated_at)}};
}

core::json::object ToJson(const Project& p) {
  return {{"id", p.id},
          {"tenant", p.tenant},
          {"slug", p.slug},
          {"name", p.name},
          {"created_at", core::FormatRfc3339(p.created_at)},
          {"updated_at", core::FormatRfc3339(p.updated_at)}};
}

core::json::object ToJson(const Member& m) {
  return {{"user_id", m.user_id},
          {"username", m.username},
          {"role", core::RoleName(m.role)},
          {"created_at", core::FormatRfc3339(m.created_at)}};
}

core::json::object ToJson(const QuotaView& q) {
  return {{"project", q.project.empty() ? core::json::value(nullptr) : core::json::value(q.project)},
          {"resource", q.resource},
          {"unit", UnitName(UnitOf(q.resource))},
          {"guaranteed", OptInt(q.guaranteed)},
          {"burst", OptInt(q.burst)},
          {"reserved", q.reserved},
          {"borrowed", q.borrowed},
          {"lent", q.lent},
          {"used", OptInt(q.used)}};
}

core::json::object AmountsToJson(const Amounts& a) {
  core::json::object o;
  for (const auto& [k, v] : a) o[k] = v;
  return o;
}

Amounts AmountsFromJson(std::string_view text) {
  Amounts out;
  auto v = core::ParseObject(text);
  if (!v) return out;
  for (const auto& [k, val] : *v) {
    if (val.is_int64()) out[std::string(k)] = val.get_int64();
  }
  return out;
}

core::json::object ToJson(const Reservation& r) {
  return {{"id", r.id},
          {"tenant", r.tenant},
          {"project", r.project.empty() ? core::json::value(nullptr) : core::json::value(r.project)},
          {"ref", r.ref},
          {"state", r.state},
          {"resources", AmountsToJson(r.resources)},
          {"borrowed", AmountsToJson(r.borrowed)},
          {"created_by", r.created_by},
          {"created_at", core::FormatRfc3339(r.created_at)},
          {"released_at", r.released_at ? core::json::value(core::FormatRfc3339(*r.released_at))
                                        : core::json::value(nullptr)}};
}

core::json::object ToJson(const Snapshot& s) {
  return {{"time", core::FormatRfc3339(s.time)},
          {"project", s.project.empty() ? core::json::value(nullptr) : core::json::value(s.project)},
          {"resource", s.resource},
          {"guaranteed", OptInt(s.guaranteed)},
          {"burst", OptInt(s.burst)},
          {"reserved", s.reserved},
          {"borrowed", s.borrowed},
          {"lent", s.lent},
          {"used", OptInt(s.used)}};
}

core::json::object ToJson(const HistoryPoint& h) {
  return {{"time", core::FormatRfc3339(h.time)},
          {"project", h.project.empty() ? core::json::value(nullptr) : core::json::value(h.project)},
          {"resource", h.resource},
          {"guaranteed", h.guaranteed},
          {"burst", OptInt(h.burst)},
          {"reserved", h.reserved},
          {"borrowed", h.borrowed}};
}

}  // namespace gantry::tenancy
