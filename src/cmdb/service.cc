#include "cmdb/service.h"

#include <spdlog/spdlog.h>

#include <charconv>

#include "cmdb/builtin.h"
#include "cmdb/validate.h"

namespace gantry::cmdb {

namespace {

bool Contains(const std::vector<std::string>& v, std::string_view s) {
  return v.empty() || std::find(v.begin(), v.end(), s) != v.end();
}

std::string Join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string CiJson(const Ci& ci) { return core::json::serialize(ToJson(ci)); }
std::string RelJson(const Relation& r) { return core::json::serialize(ToJson(r)); }

bool SeesAll(const core::Principal& p) {
  return p.auth_method == "system" || p.HasRole(core::Role::kAdmin) || p.HasRole(core::Role::kOperator) ||
         p.HasRole(core::Role::kAuditor) || p.HasRole(core::Role::kViewer);
}

bool ValidStatus(std::string_view s) { return s == "active" || s == "maintenance" || s == "retired"; }

}  // namespace

Service::Service(store::Database& db, const audit::Service& audit, const core::Clock& clock)
    : db_(db), audit_(audit), clock_(clock),
      graph_(std::make_unique<GraphIndex>(BuiltinRelationTypes())) {}

core::Status Service::Init() {
  auto now = clock_.Now();
  {
    GANTRY_TRY(auto tx, db_.Begin());
    for (const auto& t : BuiltinCiTypes()) GANTRY_TRY_STATUS(Store::UpsertType(*tx, t, now));
    for (const auto& t : BuiltinRelationTypes()) GANTRY_TRY_STATUS(Store::UpsertRelationType(*tx, t, now));
    GANTRY_TRY_STATUS(tx->Commit());
  }
  GANTRY_TRY_STATUS(ReloadTypes());
  GANTRY_TRY(auto rs, db_.Query("SELECT COALESCE(MAX(id), 0) FROM cmdb_history"));
  int64_t head = rs.rows[0].Int(0);
  GANTRY_TRY_STATUS(graph_->Load(db_));
  std::lock_guard lock(sync_mu_);
  synced_history_id_ = head;
  return {};
}

core::Status Service::ReloadTypes() {
  GANTRY_TRY(auto types, Store::LoadTypes(db_));
  GANTRY_TRY(auto rels, Store::LoadRelationTypes(db_));
  std::unique_lock lock(types_mu_);
  types_.clear();
  for (auto& t : types) types_[t.name] = std::move(t);
  relation_types_.clear();
  for (auto& r : rels) relation_types_[r.name] = r;
  graph_->SetRelationTypes(rels);
  return {};
}

std::vector<CiType> Service::Types() const {
  std::shared_lock lock(types_mu_);
  std::vector<CiType> out;
  for (const auto& [_, t] : types_) out.push_back(t);
  return out;
}

std::vector<RelationType> Service::RelationTypes() const {
  std::shared_lock lock(types_mu_);
  std::vector<RelationType> out;
  for (const auto& [_, t] : relation_types_) out.push_back(t);
  return out;
}

std::optional<CiType> Service::FindType(std::string_view name) const {
  std::shared_lock lock(types_mu_);
  auto it = types_.find(name);
  if (it == types_.end()) return std::nullopt;
  return it->second;
}

std::optional<RelationType> Service::FindRelationType(std::string_view name) const {
  std::shared_lock lock(types_mu_);
  auto it = relation_types_.find(name);
  if (it == relation_types_.end()) return std::nullopt;
  return it->second;
}

core::Result<CiType> Service::GetType(std::string_view name) const {
  auto t = FindType(name);
  if (!t) {
    std::vector<std::string> names;
    for (const auto& ty : Types()) names.push_back(ty.name);
    return core::InvalidArgument("unknown CI type '" + std::string(name) + "'; valid types: " + Join(names), "type");
  }
  return *t;
}

core::Result<CiType> Service::CreateType(const core::RequestContext& rc, CiType t) {
  GANTRY_TRY_STATUS(ValidateAttrDef(AttrDef{t.name}));  // same naming rule as attributes
  if (FindType(t.name)) return core::Conflict("CI type '" + t.name + "' already exists");
  for (const auto& a : t.attributes) GANTRY_TRY_STATUS(ValidateAttrDef(a));
  t.builtin = false;
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY_STATUS(Store::UpsertType(*tx, t, now));
  GANTRY_TRY_STATUS(audit_.Append(*tx, audit::Service::MakeEvent(rc, "cmdb.type.create", "cmdb_type", t.name,
                                                                 {{"attributes", ToJson(t)["attributes"]}})));
  GANTRY_TRY_STATUS(tx->Commit());
  GANTRY_TRY_STATUS(ReloadTypes());
  return t;
}

core::Result<CiType> Service::AddAttribute(const core::RequestContext& rc, const std::string& type, AttrDef def) {
  GANTRY_TRY(auto t, GetType(type));
  GANTRY_TRY_STATUS(ValidateAttrDef(def));
  if (t.Find(def.name)) return core::Conflict("type '" + type + "' already has an attribute '" + def.name + "'");
  if (def.required) {
    return core::InvalidArgument("a new attribute cannot be required: existing CIs do not have it", "required");
  }
  t.attributes.push_back(def);
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY_STATUS(Store::UpsertType(*tx, t, now));
  GANTRY_TRY_STATUS(audit_.Append(*tx, audit::Service::MakeEvent(rc, "cmdb.type.add_attribute", "cmdb_type", type,
                                                                 {{"attribute", ToJson(def)}})));
  GANTRY_TRY_STATUS(tx->Commit());
  GANTRY_TRY_STATUS(ReloadTypes());
  return t;
}

core::Result<RelationType> Service::CreateRelationType(const core::RequestContext& rc, RelationType t) {
  GANTRY_TRY_STATUS(ValidateAttrDef(AttrDef{t.name}));
  if (FindRelationType(t.name)) return core::Conflict("relation type '" + t.name + "' already exists");
  for (const auto& ty : t.from_types) GANTRY_TRY_STATUS(GetType(ty));
  for (const auto& ty : t.to_types) GANTRY_TRY_STATUS(GetType(ty));
  for (const auto& a : t.attributes) GANTRY_TRY_STATUS(ValidateAttrDef(a));
  t.builtin = false;
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY_STATUS(Store::UpsertRelationType(*tx, t, clock_.Now()));
  GANTRY_TRY_STATUS(audit_.Append(*tx, audit::Service::MakeEvent(rc, "cmdb.relation_type.create",
                                                                 "cmdb_relation_type", t.name, ToJson(t))));
  GANTRY_TRY_STATUS(tx->Commit());
  GANTRY_TRY_STATUS(ReloadTypes());
  return t;
}

// ---- visibility -------------------------------------------------------------------------

std::optional<std::vector<std::string>> Service::VisibleTenants(const core::RequestContext& rc) const {
  if (SeesAll(rc.principal)) return std::nullopt;
  std::vector<std::string> out;
  for (const auto& m : rc.principal.tenants) out.push_back(m.tenant);
  return out;
}

core::Status Service::CheckVisible(const core::RequestContext& rc, const Ci& ci) const {
  auto visible = VisibleTenants(rc);
  if (!visible) return {};
  auto owns = [&](const std::optional<std::string>& t) {
    return t && std::find(visible->begin(), visible->end(), *t) != visible->end();
  };
  if (owns(ci.tenant)) return {};
  // A part of something the tenant owns or leases (a GPU of a leased server).
  auto tx = db_.Begin(store::TxMode::kRead);
  if (tx) {
    auto rs = (*tx)->Exec(
        "SELECT o.tenant FROM cmdb_relations r JOIN cmdb_cis o ON o.id = r.from_id "
        "WHERE r.type = 'contains' AND r.to_id = ?", {ci.id});
    if (rs) {
      for (const auto& row : rs->rows) {
        if (owns(row.OptStr(0))) return {};
      }
    }
  }
  // Missing and forbidden look the same.
  return core::NotFound("no CI '" + Label(ci) + "'");
}

core::Status Service::CheckReferences(store::Tx& tx, const CiType& type, const core::json::object& attrs) {
  for (const auto& kv : attrs) {
    const AttrDef* def = type.Find(kv.key());
    if (!def || def->kind != AttrKind::kReference || kv.value().is_null()) continue;
    std::string ref = kv.value().is_int64() ? std::to_string(kv.value().as_int64())
                                            : std::string(kv.value().as_string());
    auto target = Resolve(tx, ref);
    if (!target) {
      return core::InvalidArgument("attribute '" + def->name + "' refers to '" + ref + "', which does not exist",
                                   def->name);
    }
    if (!def->ref_type.empty() && target->type != def->ref_type) {
      return core::InvalidArgument("attribute '" + def->name + "' must refer to a " + def->ref_type + ", not " +
                                       Label(*target), def->name);
    }
  }
  return {};
}

std::set<int64_t> Service::VisibleIds(const core::RequestContext& rc, const std::vector<Ci>& cis) {
  std::set<int64_t> out;
  auto visible = VisibleTenants(rc);
  std::vector<int64_t> parts;
  for (const auto& c : cis) {
    if (!visible || (c.tenant && std::find(visible->begin(), visible->end(), *c.tenant) != visible->end())) {
      out.insert(c.id);
    } else {
      parts.push_back(c.id);
    }
  }
  if (!visible || visible->empty() || parts.empty()) return out;
  // Parts (GPUs, NICs) of the CIs the tenant owns or leases.
  for (size_t start = 0; start < parts.size(); start += 400) {
    size_t n = std::min<size_t>(400, parts.size() - start);
    std::string sql =
        "SELECT r.to_id FROM cmdb_relations r JOIN cmdb_cis o ON o.id = r.from_id WHERE r.type = 'contains' "
        "AND r.to_id IN (";
    store::Params p;
    for (size_t i = 0; i < n; ++i) {
      sql += i ? ", ?" : "?";
      p.emplace_back(parts[start + i]);
    }
    sql += ") AND o.tenant IN (";
    for (size_t i = 0; i < visible->size(); ++i) {
      sql += i ? ", ?" : "?";
      p.emplace_back((*visible)[i]);
    }
    sql += ")";
    auto rs = db_.Query(sql, p);
    if (rs) {
      for (const auto& r : rs->rows) out.insert(r.Int(0));
    }
  }
  return out;
}

// ---- resolution ---------------------------------------------------------------------------

core::Result<Ci> Service::Resolve(store::Tx& tx, std::string_view ref) {
  if (ref.empty()) return core::InvalidArgument("empty CI reference");
  int64_t id = 0;
  auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), id);
  if (ec == std::errc() && end == ref.data() + ref.size()) {
    GANTRY_TRY(auto ci, Store::GetCi(tx, id, true, db_.backend()));
    if (!ci) return core::NotFound("no CI with id " + std::string(ref));
    return *ci;
  }
  std::optional<std::string> type;
  std::string name(ref);
  if (auto slash = ref.find('/'); slash != std::string_view::npos) {
    type = std::string(ref.substr(0, slash));
    name = std::string(ref.substr(slash + 1));
  }
  GANTRY_TRY(auto found, Store::FindByName(tx, type, name));
  if (found.empty()) return core::NotFound("no CI '" + std::string(ref) + "'");
  if (found.size() > 1) {
    std::vector<std::string> labels;
    for (const auto& c : found) labels.push_back(Label(c));
    return core::InvalidArgument("'" + std::string(ref) + "' is ambiguous; say which: " + Join(labels));
  }
  return found[0];
}

core::Result<Ci> Service::GetCi(const core::RequestContext& rc, std::string_view ref) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto ci, Resolve(*tx, ref));
  tx.reset();
  GANTRY_TRY_STATUS(CheckVisible(rc, ci));
  return ci;
}

// ---- writes -------------------------------------------------------------------------------

core::Status Service::CommitTx(TxCtx& t) {
  GANTRY_TRY_STATUS(t.tx->Commit());
  if (auto st = Sync(); !st) spdlog::warn("cmdb graph sync failed: {}", st.error().message);
  return {};
}

core::Result<Ci> Service::CreateCiTx(TxCtx& t, NewCi in, std::optional<int64_t> cr) {
  GANTRY_TRY(auto type, GetType(in.type));
  GANTRY_TRY_STATUS(ValidateName(in.name, "CI name"));
  if (!ValidStatus(in.status)) return core::InvalidArgument("status must be active, maintenance or retired", "status");
  GANTRY_TRY(auto attrs, ValidateAttrs(type.attributes, in.attrs, in.type + "/" + in.name, false));
  GANTRY_TRY_STATUS(CheckReferences(*t.tx, type, attrs));
  GANTRY_TRY(auto existing, Store::FindByName(*t.tx, in.type, in.name));
  if (!existing.empty()) return core::Conflict("a " + in.type + " named '" + in.name + "' already exists");
  Ci ci;
  ci.type = in.type;
  ci.name = in.name;
  ci.attrs = std::move(attrs);
  ci.tenant = in.tenant;
  ci.status = in.status;
  ci.created_at = ci.updated_at = t.now;
  GANTRY_TRY(ci.id, Store::InsertCi(*t.tx, ci));
  // No cmdb_attr_sources rows: an attribute without one was set by hand (kManualPriority).
  GANTRY_TRY_STATUS(Store::InsertHistory(*t.tx, {0, t.now, t.rc.principal.username.empty() ? "system" : t.rc.principal.username,
                                                  "ci.create", ci.id, {}, ci.version, cr, {}, CiJson(ci)}));
  if (t.bulk) return ci;
  GANTRY_TRY_STATUS(audit_.Append(*t.tx, [&] {
    auto e = audit::Service::MakeEvent(t.rc, "cmdb.ci.create", ci.type, ci.name, {{"id", ci.id}, {"attributes", ci.attrs}});
    e.tenant = ci.tenant;
    return e;
  }()));
  return ci;
}

core::Result<Ci> Service::CreateCi(const core::RequestContext& rc, NewCi ci) {
  TxCtx t{rc, nullptr, clock_.Now()};
  GANTRY_TRY(t.tx, db_.Begin());
  GANTRY_TRY(auto created, CreateCiTx(t, std::move(ci), std::nullopt));
  GANTRY_TRY_STATUS(CommitTx(t));
  return created;
}

core::Result<Ci> Service::UpdateCiTx(TxCtx& t, Ci ci, CiPatch patch, std::optional<int64_t> cr) {
  if (patch.expected_version && *patch.expected_version != ci.version) {
    return core::Conflict(Label(ci) + " is at version " + std::to_string(ci.version) + ", not " +
                          std::to_string(*patch.expected_version) + "; reload and retry");
  }
  GANTRY_TRY(auto type, GetType(ci.type));
  GANTRY_TRY(auto attrs, ValidateAttrs(type.attributes, patch.attrs, Label(ci), true));
  GANTRY_TRY_STATUS(CheckReferences(*t.tx, type, attrs));
  Ci before = ci;
  for (const auto& kv : attrs) {
    if (kv.value().is_null()) {
      ci.attrs.erase(kv.key());
    } else {
      ci.attrs[kv.key()] = kv.value();
    }
  }
  if (!attrs.empty()) {
    // Set by hand now: forget which discovery source set them before.
    std::string sql = "DELETE FROM cmdb_attr_sources WHERE ci_id = ? AND attr IN (";
    store::Params p{ci.id};
    for (const auto& kv : attrs) {
      sql += p.size() > 1 ? ", ?" : "?";
      p.emplace_back(std::string(kv.key()));
    }
    GANTRY_TRY_STATUS(t.tx->Exec(sql + ")", p));
  }
  for (const auto& d : type.attributes) {
    if (d.required && !ci.attrs.contains(d.name)) {
      return core::InvalidArgument(Label(ci) + ": attribute '" + d.name + "' is required", d.name);
    }
  }
  if (patch.name) {
    GANTRY_TRY_STATUS(ValidateName(*patch.name, "CI name"));
    if (*patch.name != ci.name) {
      GANTRY_TRY(auto clash, Store::FindByName(*t.tx, ci.type, *patch.name));
      if (!clash.empty()) return core::Conflict("a " + ci.type + " named '" + *patch.name + "' already exists");
    }
    ci.name = *patch.name;
  }
  if (patch.status) {
    if (!ValidStatus(*patch.status)) return core::InvalidArgument("status must be active, maintenance or retired", "status");
    ci.status = *patch.status;
  }
  if (patch.tenant) ci.tenant = *patch.tenant;
  ci.version = before.version + 1;
  ci.updated_at = t.now;
  ci.stale = false;
  GANTRY_TRY(bool ok, Store::UpdateCi(*t.tx, ci, before.version));
  if (!ok) return core::Conflict(Label(before) + " was changed by someone else; reload and retry");
  core::json::object changed;
  for (const auto& kv : attrs) changed[kv.key()] = kv.value();
  GANTRY_TRY_STATUS(Store::InsertHistory(*t.tx, {0, t.now, t.rc.principal.username.empty() ? "system" : t.rc.principal.username,
                                                  "ci.update", ci.id, {}, ci.version, cr, CiJson(before), CiJson(ci)}));
  if (t.bulk) return ci;
  auto e = audit::Service::MakeEvent(t.rc, "cmdb.ci.update", ci.type, ci.name,
                                     {{"id", ci.id}, {"version", ci.version}, {"changed", changed},
                                      {"status", ci.status}});
  e.tenant = ci.tenant;
  GANTRY_TRY_STATUS(audit_.Append(*t.tx, e));
  return ci;
}

core::Result<Ci> Service::UpdateCi(const core::RequestContext& rc, std::string_view ref, CiPatch patch) {
  TxCtx t{rc, nullptr, clock_.Now()};
  GANTRY_TRY(t.tx, db_.Begin());
  GANTRY_TRY(auto ci, Resolve(*t.tx, ref));
  GANTRY_TRY_STATUS(CheckVisible(rc, ci));
  GANTRY_TRY(auto updated, UpdateCiTx(t, std::move(ci), std::move(patch), std::nullopt));
  GANTRY_TRY_STATUS(CommitTx(t));
  return updated;
}

core::Status Service::DeleteCiTx(TxCtx& t, const Ci& ci, bool cascade, std::optional<int64_t> cr) {
  GANTRY_TRY(auto rels, Store::RelationsOf(*t.tx, ci.id));
  if (!rels.empty() && !cascade) {
    std::vector<int64_t> other;
    for (const auto& r : rels) other.push_back(r.from_id == ci.id ? r.to_id : r.from_id);
    std::vector<std::string> labels;
    for (size_t i = 0; i < rels.size() && i < 20; ++i) {
      auto o = Store::GetCi(*t.tx, other[i]);
      std::string peer = o && *o ? Label(**o) : std::to_string(other[i]);
      labels.push_back(rels[i].from_id == ci.id ? rels[i].type + " → " + peer : peer + " " + rels[i].type + " →");
    }
    return core::Conflict(Label(ci) + " has " + std::to_string(rels.size()) +
                          " relationships (" + Join(labels) + (rels.size() > 20 ? ", …" : "") +
                          "); remove them first or delete with cascade");
  }
  for (const auto& r : rels) GANTRY_TRY_STATUS(UnrelateTx(t, r, cr));
  GANTRY_TRY_STATUS(Store::DeleteCi(*t.tx, ci.id));
  GANTRY_TRY_STATUS(Store::InsertHistory(*t.tx, {0, t.now, t.rc.principal.username.empty() ? "system" : t.rc.principal.username,
                                                  "ci.delete", ci.id, {}, ci.version + 1, cr, CiJson(ci), {}}));
  auto e = audit::Service::MakeEvent(t.rc, "cmdb.ci.delete", ci.type, ci.name,
                                     {{"id", ci.id}, {"cascade", cascade}, {"relationships_removed", rels.size()}});
  e.tenant = ci.tenant;
  return audit_.Append(*t.tx, e);
}

core::Status Service::DeleteCi(const core::RequestContext& rc, std::string_view ref, bool cascade) {
  TxCtx t{rc, nullptr, clock_.Now()};
  GANTRY_TRY(t.tx, db_.Begin());
  GANTRY_TRY(auto ci, Resolve(*t.tx, ref));
  GANTRY_TRY_STATUS(CheckVisible(rc, ci));
  GANTRY_TRY_STATUS(DeleteCiTx(t, ci, cascade, std::nullopt));
  return CommitTx(t);
}

core::Result<std::vector<Ci>> Service::ListCis(const core::RequestContext& rc, CiFilter f) {
  if (f.type) GANTRY_TRY_STATUS(GetType(*f.type));
  if (f.status && !ValidStatus(*f.status)) {
    return core::InvalidArgument("status must be active, maintenance or retired", "status");
  }
  for (const auto& [attr, _] : f.attr_equals) {
    if (!f.type) return core::InvalidArgument("filtering on attribute '" + attr + "' needs a type", "type");
    GANTRY_TRY(auto t, GetType(*f.type));
    if (!t.Find(attr)) {
      std::vector<std::string> names;
      for (const auto& a : t.attributes) names.push_back(a.name);
      return core::InvalidArgument("unknown attribute '" + attr + "' of " + *f.type + "; valid attributes: " + Join(names), attr);
    }
  }
  if (f.relation && !FindRelationType(*f.relation)) {
    std::vector<std::string> names;
    for (const auto& r : RelationTypes()) names.push_back(r.name);
    return core::InvalidArgument("unknown relation type '" + *f.relation + "'; valid types: " + Join(names), "relation");
  }
  f.visible_tenants = VisibleTenants(rc);
  return Store::ListCis(db_, f);
}

core::Result<std::vector<Relation>> Service::RelationsOfMany(const std::vector<int64_t>& ids) {
  return Store::RelationsOfMany(db_, ids);
}

core::Result<Relation> Service::RelateTx(TxCtx& t, NewRelation in, std::optional<int64_t> cr) {
  auto rt = FindRelationType(in.type);
  if (!rt) {
    std::vector<std::string> names;
    for (const auto& r : RelationTypes()) names.push_back(r.name);
    return core::InvalidArgument("unknown relation type '" + in.type + "'; valid types: " + Join(names), "type");
  }
  auto end = [&](const std::string& ref, const char* field) -> core::Result<Ci> {
    auto ci = Resolve(*t.tx, ref);
    if (ci) {
      auto st = CheckVisible(t.rc, *ci);
      if (!st) return core::Error(st.error().code, st.error().message, field);
      return ci;
    }
    return core::Error(ci.error().code, std::string(field) + ": " + ci.error().message, field);
  };
  GANTRY_TRY(auto from, end(in.from, "from"));
  GANTRY_TRY(auto to, end(in.to, "to"));
  if (from.id == to.id) return core::InvalidArgument("a CI cannot be related to itself", "to");
  if (!Contains(rt->from_types, from.type) || !Contains(rt->to_types, to.type)) {
    return core::InvalidArgument("rule " + rt->name + ": a " + from.type + " cannot be " + rt->name + " a " + to.type +
                                     " (allowed: " + Join(rt->from_types) + " → " + Join(rt->to_types) + ")",
                                 "type");
  }
  GANTRY_TRY(auto attrs, ValidateAttrs(rt->attributes, in.attrs, rt->name, false));
  GANTRY_TRY(auto dup, Store::FindRelation(*t.tx, rt->name, from.id, to.id));
  if (dup && in.if_missing) return *dup;
  if (dup) return core::Conflict(Label(from) + " " + rt->name + " " + Label(to) + " already exists");
  if (rt->max_out > 0) {
    GANTRY_TRY(auto n, Store::CountOut(*t.tx, rt->name, from.id));
    if (n >= rt->max_out) {
      return core::Conflict("rule " + rt->name + ": " + Label(from) + " already has " + std::to_string(n) + " " +
                            rt->name + " relationship(s); at most " + std::to_string(rt->max_out) + " allowed");
    }
  }
  if (rt->max_in > 0) {
    GANTRY_TRY(auto n, Store::CountIn(*t.tx, rt->name, to.id));
    if (n >= rt->max_in) {
      return core::Conflict("rule " + rt->name + ": " + Label(to) + " already has " + std::to_string(n) +
                            " incoming " + rt->name + " relationship(s); at most " + std::to_string(rt->max_in) +
                            " allowed");
    }
  }
  if (rt->acyclic) {
    // Does `to` already reach `from` over this relation type? Checked in the transaction.
    GANTRY_TRY(auto rs, t.tx->Exec(
        "WITH RECURSIVE up(id) AS (SELECT CAST(? AS BIGINT) UNION SELECT r.to_id FROM cmdb_relations r "
        "JOIN up ON r.from_id = up.id WHERE r.type = ?) SELECT 1 FROM up WHERE id = ? LIMIT 1",
        {to.id, rt->name, from.id}));
    if (!rs.rows.empty()) {
      return core::Conflict("rule " + rt->name + ": " + Label(from) + " → " + Label(to) +
                            " would create a cycle (" + Label(to) + " already reaches " + Label(from) + ")");
    }
  }
  Relation r{0, rt->name, from.id, to.id, std::move(attrs), in.source, t.now};
  GANTRY_TRY(r.id, Store::InsertRelation(*t.tx, r));
  std::string actor = t.rc.principal.username.empty() ? "system" : t.rc.principal.username;
  core::json::object after = ToJson(r);
  after["from"] = Label(from);
  after["to"] = Label(to);
  std::string after_s = core::json::serialize(after);
  GANTRY_TRY_STATUS(Store::InsertHistory(*t.tx, {0, t.now, actor, "relation.create", from.id, r.id, {}, cr, {}, after_s}));
  GANTRY_TRY_STATUS(Store::InsertHistory(*t.tx, {0, t.now, actor, "relation.create", to.id, r.id, {}, cr, {}, after_s}));
  if (t.bulk) return r;
  GANTRY_TRY_STATUS(audit_.Append(*t.tx, audit::Service::MakeEvent(
                                             t.rc, "cmdb.relation.create", "relation", Label(from) + " " + r.type + " " + Label(to),
                                             {{"id", r.id}, {"attributes", r.attrs}})));
  return r;
}

core::Result<Relation> Service::Relate(const core::RequestContext& rc, NewRelation r) {
  TxCtx t{rc, nullptr, clock_.Now()};
  GANTRY_TRY(t.tx, db_.Begin());
  GANTRY_TRY(auto rel, RelateTx(t, std::move(r), std::nullopt));
  GANTRY_TRY_STATUS(CommitTx(t));
  return rel;
}

core::Status Service::UnrelateTx(TxCtx& t, const Relation& r, std::optional<int64_t> cr) {
  GANTRY_TRY_STATUS(Store::DeleteRelation(*t.tx, r.id));
  std::string actor = t.rc.principal.username.empty() ? "system" : t.rc.principal.username;
  std::string before = RelJson(r);
  GANTRY_TRY_STATUS(Store::InsertHistory(*t.tx, {0, t.now, actor, "relation.delete", r.from_id, r.id, {}, cr, before, {}}));
  GANTRY_TRY_STATUS(Store::InsertHistory(*t.tx, {0, t.now, actor, "relation.delete", r.to_id, r.id, {}, cr, before, {}}));
  return audit_.Append(*t.tx, audit::Service::MakeEvent(
                                  t.rc, "cmdb.relation.delete", "relation", std::to_string(r.id),
                                  {{"type", r.type}, {"from_id", r.from_id}, {"to_id", r.to_id}}));
}

core::Status Service::Unrelate(const core::RequestContext& rc, int64_t relation_id) {
  TxCtx t{rc, nullptr, clock_.Now()};
  GANTRY_TRY(t.tx, db_.Begin());
  GANTRY_TRY(auto r, Store::GetRelation(*t.tx, relation_id));
  if (!r) return core::NotFound("no relationship " + std::to_string(relation_id));
  GANTRY_TRY(auto from, Store::GetCi(*t.tx, r->from_id));
  if (from) GANTRY_TRY_STATUS(CheckVisible(rc, *from));
  GANTRY_TRY_STATUS(UnrelateTx(t, *r, std::nullopt));
  return CommitTx(t);
}

core::Result<std::vector<Relation>> Service::RelationsOf(const core::RequestContext& rc, std::string_view ref) {
  GANTRY_TRY(auto ci, GetCi(rc, ref));
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  return Store::RelationsOf(*tx, ci.id);
}

// ---- history ------------------------------------------------------------------------------

core::Result<std::vector<HistoryEntry>> Service::History(const core::RequestContext& rc, std::string_view ref, int limit) {
  GANTRY_TRY(auto ci, GetCi(rc, ref));
  return Store::History(db_, ci.id, limit);
}

core::Result<core::json::object> Service::AsOf(const core::RequestContext& rc, std::string_view ref, core::UnixNanos t) {
  GANTRY_TRY(auto ci, GetCi(rc, ref));
  GANTRY_TRY(auto h, Store::StateAt(db_, ci.id, t));
  core::json::object o{{"time", core::FormatRfc3339(t)}};
  if (!h || h->op == "ci.delete" || !h->after) {
    o["exists"] = false;
    o["ci"] = nullptr;
    return o;
  }
  o["exists"] = true;
  GANTRY_TRY(o["ci"], core::ParseJson(*h->after));
  o["version"] = h->version ? core::json::value(*h->version) : core::json::value(nullptr);
  return o;
}

core::Result<core::json::object> Service::Diff(const core::RequestContext& rc, std::string_view ref,
                                               core::UnixNanos from, core::UnixNanos to) {
  if (to < from) return core::InvalidArgument("'to' is before 'from'", "to");
  GANTRY_TRY(auto a, AsOf(rc, ref, from));
  GANTRY_TRY(auto b, AsOf(rc, ref, to));
  auto fields = [](const core::json::object& state) {
    core::json::object f;
    if (!state.at("exists").as_bool()) return f;
    const auto& ci = state.at("ci").as_object();
    for (const char* k : {"name", "status", "tenant"}) f[k] = ci.at(k);
    for (const auto& kv : ci.at("attributes").as_object()) f["attributes." + std::string(kv.key())] = kv.value();
    return f;
  };
  auto fa = fields(a), fb = fields(b);
  core::json::array changes;
  for (const auto& kv : fa) {
    auto it = fb.find(kv.key());
    if (it == fb.end()) {
      changes.push_back({{"field", kv.key()}, {"from", kv.value()}, {"to", nullptr}, {"change", "removed"}});
    } else if (it->value() != kv.value()) {
      changes.push_back({{"field", kv.key()}, {"from", kv.value()}, {"to", it->value()}, {"change", "changed"}});
    }
  }
  for (const auto& kv : fb) {
    if (!fa.contains(kv.key())) {
      changes.push_back({{"field", kv.key()}, {"from", nullptr}, {"to", kv.value()}, {"change", "added"}});
    }
  }
  return core::json::object{{"from", a}, {"to", b}, {"changes", changes}};
}

// ---- reconciliation -----------------------------------------------------------------------

core::Result<Ci> Service::Observe(const core::RequestContext& rc, const Observation& obs) {
  if (obs.source.empty() || obs.source == "manual") {
    return core::InvalidArgument("an observation needs a source other than 'manual'", "source");
  }
  if (obs.priority < 0 || obs.priority >= kManualPriority) {
    return core::InvalidArgument("source priority must be between 0 and " + std::to_string(kManualPriority - 1), "priority");
  }
  TxCtx t{rc, nullptr, clock_.Now()};
  auto seen = obs.seen_at.value_or(t.now);
  GANTRY_TRY(auto type, GetType(obs.type));
  GANTRY_TRY(auto attrs, ValidateAttrs(type.attributes, obs.attrs, obs.type + "/" + obs.name, true));
  GANTRY_TRY(t.tx, db_.Begin());
  GANTRY_TRY(auto found, Store::FindByName(*t.tx, obs.type, obs.name));
  Ci ci;
  if (found.empty()) {
    core::json::object clean;
    for (const auto& kv : attrs) if (!kv.value().is_null()) clean[kv.key()] = kv.value();
    GANTRY_TRY(ci, CreateCiTx(t, NewCi{obs.type, obs.name, clean, std::nullopt, "active"}, std::nullopt));
    for (const auto& kv : clean) {
      GANTRY_TRY_STATUS(Store::SetSource(*t.tx, ci.id, std::string(kv.key()), {obs.source, obs.priority, seen}));
    }
    ci.last_seen_at = seen;
    GANTRY_TRY_STATUS(Store::UpdateCi(*t.tx, ci, ci.version));
  } else {
    ci = found[0];
    GANTRY_TRY(auto sources, Store::Sources(*t.tx, ci.id));
    // The priority of whoever set each attribute: its source row, or by hand when the attribute
    // has a value but no source row; -1 when it has no value yet.
    auto owner_priority = [&](std::string_view key) {
      auto it = sources.find(std::string(key));
      if (it != sources.end()) return it->second.priority;
      return ci.attrs.contains(key) ? kManualPriority : -1;
    };
    std::map<std::string, int> priority_of;
    for (const auto& kv : attrs) priority_of[std::string(kv.key())] = owner_priority(kv.key());
    core::json::object accepted;
    for (const auto& kv : attrs) {
      // A value set by a higher-priority source (or by hand) is kept; equal priority: newest wins.
      if (priority_of[std::string(kv.key())] > obs.priority) continue;
      const core::json::value* cur = ci.attrs.if_contains(kv.key());
      if (!cur || *cur != kv.value()) accepted[kv.key()] = kv.value();
    }
    if (!accepted.empty()) {
      CiPatch patch;
      patch.attrs = accepted;
      GANTRY_TRY(ci, UpdateCiTx(t, ci, patch, std::nullopt));
    }
    for (const auto& kv : attrs) {
      if (priority_of[std::string(kv.key())] <= obs.priority) {
        GANTRY_TRY_STATUS(Store::SetSource(*t.tx, ci.id, std::string(kv.key()), {obs.source, obs.priority, seen}));
      }
    }
    ci.last_seen_at = seen;
    ci.stale = false;
    GANTRY_TRY_STATUS(t.tx->Exec("UPDATE cmdb_cis SET last_seen_at = ?, stale = 0 WHERE id = ?", {seen, ci.id}));
  }
  GANTRY_TRY_STATUS(CommitTx(t));
  return ci;
}

core::Result<int64_t> Service::MarkStale(const core::RequestContext& rc, int64_t not_seen_for) {
  if (not_seen_for <= 0) return core::InvalidArgument("the staleness window must be positive", "older_than");
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto n, Store::MarkStale(*tx, now - not_seen_for, now));
  if (n > 0) {
    GANTRY_TRY_STATUS(audit_.Append(*tx, audit::Service::MakeEvent(rc, "cmdb.mark_stale", "cmdb", "cis",
                                                                   {{"count", n}, {"window_s", not_seen_for / core::kNanosPerSecond}})));
  }
  GANTRY_TRY_STATUS(tx->Commit());
  return n;
}

// ---- graph sync ---------------------------------------------------------------------------

core::Status Service::Sync() {
  std::lock_guard lock(sync_mu_);
  // On PostgreSQL a later id can commit before an earlier one: re-read a window and skip
  // what was applied already. SQLite commits in id order.
  int64_t window = db_.backend() == store::Backend::kPostgres ? 256 : 0;
  int64_t from = std::max<int64_t>(0, synced_history_id_ - window);
  while (true) {
    GANTRY_TRY(auto rs, db_.Query(
        "SELECT id, op, ci_id, relation_id, before_state, after_state FROM cmdb_history "
        "WHERE id > ? ORDER BY id LIMIT 5000", {from}));
    for (const auto& r : rs.rows) {
      int64_t id = r.Int(0);
      from = id;
      if (id <= synced_history_id_ - window) continue;
      if (id <= synced_history_id_ && recent_applied_.count(id)) continue;
      std::string op = r.Str(1);
      auto state = core::ParseObject(op.ends_with("delete") ? r.Str(4) : r.Str(5));
      if (op == "ci.create" || op == "ci.update") {
        if (state) {
          (void)graph_->UpsertNode(r.Int(2), std::string(state->at("type").as_string()),
                                   std::string(state->at("name").as_string()));
        }
      } else if (op == "ci.delete") {
        graph_->RemoveNode(r.Int(2));
      } else if (op == "relation.create" || op == "relation.delete") {
        // Two history rows per relationship (one per end): apply it once, at the `from` row.
        if (state && state->at("from_id").as_int64() == r.Int(2)) {
          std::string type(state->at("type").as_string());
          int64_t from_id = state->at("from_id").as_int64(), to_id = state->at("to_id").as_int64();
          if (op == "relation.create") {
            if (auto st = graph_->AddEdge(type, from_id, to_id); !st) {
              spdlog::warn("cmdb graph: cannot add {} {}→{}: {}", type, from_id, to_id, st.error().message);
            }
          } else {
            graph_->RemoveEdge(type, from_id, to_id);
          }
        }
      }
      recent_applied_.insert(id);
      synced_history_id_ = std::max(synced_history_id_, id);
    }
    if (rs.rows.size() < 5000) break;
  }
  while (!recent_applied_.empty() && *recent_applied_.begin() < synced_history_id_ - 1024) {
    recent_applied_.erase(recent_applied_.begin());
  }
  return {};
}

}  // namespace gantry::cmdb
