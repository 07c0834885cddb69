#include "cmdb/types.h"

namespace gantry::cmdb {

namespace {
constexpr std::pair<AttrKind, const char*> kKinds[] = {
    {AttrKind::kString, "string"}, {AttrKind::kInt, "int"},   {AttrKind::kBool, "bool"},
    {AttrKind::kEnum, "enum"},     {AttrKind::kIpv4, "ipv4"}, {AttrKind::kIpv6, "ipv6"},
    {AttrKind::kCidr, "cidr"},     {AttrKind::kMac, "mac"},   {AttrKind::kDate, "date"},
    {AttrKind::kReference, "reference"}};

core::json::array Strings(const std::vector<std::string>& v) {
  core::json::array a;
  for (const auto& s : v) a.push_back(core::json::string(s));
  return a;
}

core::json::value OptTime(const std::optional<core::UnixNanos>& t) {
  return t ? core::json::value(core::FormatRfc3339(*t)) : core::json::value(nullptr);
}

core::Result<std::vector<AttrDef>> AttrDefs(const core::json::object& o, std::string_view key) {
  std::vector<AttrDef> out;
  auto it = o.find(key);
  if (it == o.end() || it->value().is_null()) return out;
  if (!it->value().is_array()) return core::InvalidArgument("'" + std::string(key) + "' must be an array", std::string(key));
  for (const auto& e : it->value().as_array()) {
    if (!e.is_object()) return core::InvalidArgument("each attribute must be an object", std::string(key));
    GANTRY_TRY(auto d, AttrDefFromJson(e.as_object()));
    out.push_back(std::move(d));
  }
  return out;
}
}  // namespace

const char* AttrKindName(AttrKind k) {
  for (const auto& [kind, name] : kKinds) {
    if (kind == k) return name;
  }
  return "string";
}

std::optional<AttrKind> ParseAttrKind(std::string_view s) {
  for (const auto& [kind, name] : kKinds) {
    if (s == name) return kind;
  }
  return std::nullopt;
}

const AttrDef* CiType::Find(std::string_view attr) const {
  for (const auto& a : attributes) {
    if (a.name == attr) return &a;
  }
  return nullptr;
}

core::json::object ToJson(const AttrDef& a) {
  core::json::object o{{"name", a.name}, {"type", AttrKindName(a.kind)}, {"required", a.required}};
  if (!a.values.empty()) o["values"] = Strings(a.values);
  if (!a.ref_type.empty()) o["ref_type"] = a.ref_type;
  if (a.min) o["min"] = *a.min;
  if (a.max) o["max"] = *a.max;
  if (!a.description.empty()) o["description"] = a.description;
  return o;
}

core::json::object ToJson(const CiType& t) {
  core::json::array attrs;
  for (const auto& a : t.attributes) attrs.push_back(ToJson(a));
  return {{"name", t.name}, {"description", t.description}, {"builtin", t.builtin}, {"attributes", attrs}};
}

core::json::object ToJson(const RelationType& t) {
  core::json::array attrs;
  for (const auto& a : t.attributes) attrs.push_back(ToJson(a));
  core::json::object impact{{"forward", t.impact.forward}, {"reverse", t.impact.reverse},
                            {"forward_from_types", Strings(t.impact.forward_from_types)},
                            {"reverse_to_types", Strings(t.impact.reverse_to_types)}};
  return {{"name", t.name},           {"description", t.description},  {"builtin", t.builtin},
          {"from_types", Strings(t.from_types)}, {"to_types", Strings(t.to_types)},
          {"max_out", t.max_out},     {"max_in", t.max_in},            {"acyclic", t.acyclic},
          {"impact", impact},         {"attributes", attrs}};
}

core::json::object ToJson(const Ci& ci) {
  return {{"id", ci.id},
          {"type", ci.type},
          {"name", ci.name},
          {"attributes", ci.attrs},
          {"tenant", core::OptValue(ci.tenant)},
          {"status", ci.status},
          {"version", ci.version},
          {"stale", ci.stale},
          {"last_seen_at", OptTime(ci.last_seen_at)},
          {"created_at", core::FormatRfc3339(ci.created_at)},
          {"updated_at", core::FormatRfc3339(ci.updated_at)}};
}

core::json::object ToJson(const Relation& r) {
  return {{"id", r.id},         {"type", r.type},     {"from_id", r.from_id},
          {"to_id", r.to_id},   {"attributes", r.attrs}, {"source", r.source},
          {"created_at", core::FormatRfc3339(r.created_at)}};
}

core::json::object ToJson(const HistoryEntry& h) {
  auto parse = [](const std::optional<std::string>& s) -> core::json::value {
    if (!s) return nullptr;
    auto v = core::ParseJson(*s);
    return v ? *v : core::json::value(*s);
  };
  core::json::object o{{"id", h.id}, {"time", core::FormatRfc3339(h.time)}, {"actor", h.actor}, {"op", h.op}};
  o["ci_id"] = h.ci_id ? core::json::value(*h.ci_id) : core::json::value(nullptr);
  o["relation_id"] = h.relation_id ? core::json::value(*h.relation_id) : core::json::value(nullptr);
  o["version"] = h.version ? core::json::value(*h.version) : core::json::value(nullptr);
  o["change_request_id"] = h.change_request_id ? core::json::value(*h.change_request_id) : core::json::value(nullptr);
  o["before"] = parse(h.before);
  o["after"] = parse(h.after);
  return o;
}

core::Result<AttrDef> AttrDefFromJson(const core::json::object& o) {
  GANTRY_TRY_STATUS(core::OnlyFields(o, {"name", "type", "required", "values", "ref_type", "min", "max", "description"}));
  AttrDef d;
  GANTRY_TRY(d.name, core::GetString(o, "name"));
  GANTRY_TRY(auto kind, core::GetString(o, "type"));
  auto k = ParseAttrKind(kind);
  if (!k) {
    std::string valid;
    for (const auto& [_, n] : kKinds) valid += (valid.empty() ? "" : ", ") + std::string(n);
    return core::InvalidArgument("unknown attribute type '" + kind + "'; valid types: " + valid, "type");
  }
  d.kind = *k;
  GANTRY_TRY(auto req, core::OptBool(o, "required"));
  d.required = req.value_or(false);
  GANTRY_TRY(d.values, core::OptStringArray(o, "values"));
  GANTRY_TRY(auto ref, core::OptString(o, "ref_type"));
  d.ref_type = ref.value_or("");
  GANTRY_TRY(d.min, core::OptInt(o, "min"));
  GANTRY_TRY(d.max, core::OptInt(o, "max"));
  GANTRY_TRY(auto desc, core::OptString(o, "description"));
  d.description = desc.value_or("");
  return d;
}

core::Result<CiType> CiTypeFromJson(const core::json::object& o) {
  GANTRY_TRY_STATUS(core::OnlyFields(o, {"name", "description", "attributes", "builtin"}));
  CiType t;
  GANTRY_TRY(t.name, core::GetString(o, "name"));
  GANTRY_TRY(auto desc, core::OptString(o, "description"));
  t.description = desc.value_or("");
  GANTRY_TRY(auto b, core::OptBool(o, "builtin"));
  t.builtin = b.value_or(false);
  GANTRY_TRY(t.attributes, AttrDefs(o, "attributes"));
  return t;
}

core::Result<RelationType> RelationTypeFromJson(const core::json::object& o) {
  GANTRY_TRY_STATUS(core::OnlyFields(o, {"name", "description", "builtin", "from_types", "to_types", "max_out",
                                         "max_in", "acyclic", "impact", "attributes"}));
  RelationType t;
  GANTRY_TRY(t.name, core::GetString(o, "name"));
  GANTRY_TRY(auto desc, core::OptString(o, "description"));
  t.description = desc.value_or("");
  GANTRY_TRY(auto b, core::OptBool(o, "builtin"));
  t.builtin = b.value_or(false);
  GANTRY_TRY(t.from_types, core::OptStringArray(o, "from_types"));
  GANTRY_TRY(t.to_types, core::OptStringArray(o, "to_types"));
  GANTRY_TRY(auto mo, core::OptInt(o, "max_out"));
  GANTRY_TRY(auto mi, core::OptInt(o, "max_in"));
  if (mo.value_or(0) < 0 || mi.value_or(0) < 0 || mo.value_or(0) > 1'000'000 || mi.value_or(0) > 1'000'000) {
    return core::InvalidArgument("max_out and max_in must be between 0 (unbounded) and 1000000", "max_out");
  }
  t.max_out = static_cast<int>(mo.value_or(0));
  t.max_in = static_cast<int>(mi.value_or(0));
  GANTRY_TRY(auto ac, core::OptBool(o, "acyclic"));
  t.acyclic = ac.value_or(false);
  GANTRY_TRY(auto impact, core::OptObject(o, "impact"));
  if (impact) {
    GANTRY_TRY_STATUS(core::OnlyFields(*impact, {"forward", "reverse", "forward_from_types", "reverse_to_types"}));
    GANTRY_TRY(auto f, core::OptBool(*impact, "forward"));
    GANTRY_TRY(auto r, core::OptBool(*impact, "reverse"));
    t.impact.forward = f.value_or(false);
    t.impact.reverse = r.value_or(false);
    GANTRY_TRY(t.impact.forward_from_types, core::OptStringArray(*impact, "forward_from_types"));
    GANTRY_TRY(t.impact.reverse_to_types, core::OptStringArray(*impact, "reverse_to_types"));
  }
  GANTRY_TRY(t.attributes, AttrDefs(o, "attributes"));
  return t;
}

}  // namespace gantry::cmdb
