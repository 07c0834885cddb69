#include "cmdb/store.h"

namespace gantry::cmdb {

namespace {

constexpr char kCiColumns[] =
    "id, type, name, attrs, tenant, status, version, stale, last_seen_at, created_at, updated_at";

core::json::object ParseObj(const std::string& s) {
  auto v = core::ParseObject(s);
  return v ? std::move(*v) : core::json::object{};
}

Ci CiFromRow(const store::Row& r) {
  Ci c;
  c.id = r.Int(0);
  c.type = r.Str(1);
  c.name = r.Str(2);
  c.attrs = ParseObj(r.Str(3));
  c.tenant = r.OptStr(4);
  c.status = r.Str(5);
  c.version = r.Int(6);
  c.stale = r.Bool(7);
  c.last_seen_at = r.OptInt(8);
  c.created_at = r.Int(9);
  c.updated_at = r.Int(10);
  return c;
}

constexpr char kRelColumns[] = "id, type, from_id, to_id, attrs, source, created_at";

Relation RelFromRow(const store::Row& r) {
  return Relation{r.Int(0), r.Str(1), r.Int(2), r.Int(3), ParseObj(r.Str(4)), r.Str(5), r.Int(6)};
}

constexpr char kHistColumns[] =
    "id, time, actor, op, ci_id, relation_id, version, before_state, after_state, change_request_id";

HistoryEntry HistFromRow(const store::Row& r) {
  HistoryEntry h;
  h.id = r.Int(0);
  h.time = r.Int(1);
  h.actor = r.Str(2);
  h.op = r.Str(3);
  h.ci_id = r.OptInt(4);
  h.relation_id = r.OptInt(5);
  h.version = r.OptInt(6);
  h.before = r.OptStr(7);
  h.after = r.OptStr(8);
  h.change_request_id = r.OptInt(9);
  return h;
}

constexpr char kCrColumns[] =
    "id, title, description, state, edits, impact, created_by, reviewed_by, review_comment, "
    "created_at, updated_at, applied_at";

ChangeRequest CrFromRow(const store::Row& r) {
  ChangeRequest c;
  c.id = r.Int(0);
  c.title = r.Str(1);
  c.description = r.Str(2);
  c.state = r.Str(3);
  c.edits = r.Str(4);
  c.impact = r.OptStr(5);
  c.created_by = r.Str(6);
  c.reviewed_by = r.OptStr(7);
  c.review_comment = r.OptStr(8);
  c.created_at = r.Int(9);
  c.updated_at = r.Int(10);
  c.applied_at = r.OptInt(11);
  return c;
}

std::string Placeholders(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ", ?" : "?";
  return s;
}

}  // namespace

core::Status Store::UpsertType(store::Tx& tx, const CiType& t, core::UnixNanos now) {
  core::json::array attrs;
  for (const auto& a : t.attributes) attrs.push_back(ToJson(a));
  GANTRY_TRY_STATUS(tx.Exec(
      "INSERT INTO cmdb_types (name, description, builtin, attributes, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET description = excluded.description, "
      "builtin = excluded.builtin, attributes = excluded.attributes, updated_at = excluded.updated_at",
      {t.name, t.description, int64_t{t.builtin}, core::json::serialize(attrs), now, now}));
  return {};
}

core::Status Store::UpsertRelationType(store::Tx& tx, const RelationType& t, core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "INSERT INTO cmdb_relation_types (name, description, builtin, rules, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO UPDATE SET description = excluded.description, "
      "builtin = excluded.builtin, rules = excluded.rules, updated_at = excluded.updated_at",
      {t.name, t.description, int64_t{t.builtin}, core::json::serialize(ToJson(t)), now, now}));
  return {};
}

core::Result<std::vector<CiType>> Store::LoadTypes(store::Database& db) {
  GANTRY_TRY(auto rs, db.Query("SELECT name, description, builtin, attributes FROM cmdb_types ORDER BY name"));
  std::vector<CiType> out;
  for (const auto& r : rs.rows) {
    core::json::object o{{"name", r.Str(0)}, {"description", r.Str(1)}, {"builtin", r.Bool(2)}};
    auto attrs = core::ParseJson(r.Str(3));
    if (attrs && attrs->is_array()) o["attributes"] = *attrs;
    GANTRY_TRY(auto t, CiTypeFromJson(o));
    out.push_back(std::move(t));
  }
  return out;
}

core::Result<std::vector<RelationType>> Store::LoadRelationTypes(store::Database& db) {
  GANTRY_TRY(auto rs, db.Query("SELECT rules FROM cmdb_relation_types ORDER BY name"));
  std::vector<RelationType> out;
  for (const auto& r : rs.rows) {
    GANTRY_TRY(auto o, core::ParseObject(r.Str(0)));
    GANTRY_TRY(auto t, RelationTypeFromJson(o));
    out.push_back(std::move(t));
  }
  return out;
}

core::Result<int64_t> Store::InsertCi(store::Tx& tx, const Ci& ci) {
  auto rs = tx.Exec(
      "INSERT INTO cmdb_cis (type, name, attrs, tenant, status, version, stale, last_seen_at, "
      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {ci.type, ci.name, core::json::serialize(ci.attrs), store::Opt(ci.tenant), ci.status,
       ci.version, int64_t{ci.stale}, store::Opt(ci.last_seen_at), ci.created_at, ci.updated_at});
  if (!rs) {
    if (rs.error().code == core::Code::kConflict) {
      return core::Conflict("a " + ci.type + " named '" + ci.name + "' already exists");
    }
    return rs.error();
  }
  return rs->rows.at(0).Int(0);
}

core::Result<std::optional<Ci>> Store::GetCi(store::Tx& tx, int64_t id, bool lock,
                                             store::Backend backend) {
  std::string sql = std::string("SELECT ") + kCiColumns + " FROM cmdb_cis WHERE id = ?";
  if (lock && backend == store::Backend::kPostgres) sql += " FOR UPDATE";
  GANTRY_TRY(auto rs, tx.Exec(sql, {id}));
  if (rs.rows.empty()) return std::optional<Ci>{};
  return std::optional<Ci>(CiFromRow(rs.rows[0]));
}

core::Result<std::vector<Ci>> Store::FindByName(store::Tx& tx, std::optional<std::string> type,
                                                const std::string& name) {
  std::string sql = std::string("SELECT ") + kCiColumns + " FROM cmdb_cis WHERE name = ?";
  store::Params p{name};
  if (type) {
    sql += " AND type = ?";
    p.emplace_back(*type);
  }
  sql += " ORDER BY id LIMIT 20";
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  std::vector<Ci> out;
  for (const auto& r : rs.rows) out.push_back(CiFromRow(r));
  return out;
}

core::Result<bool> Store::UpdateCi(store::Tx& tx, const Ci& ci, int64_t expected_version) {
  GANTRY_TRY(auto rs, tx.Exec(
      "UPDATE cmdb_cis SET name = ?, attrs = ?, tenant = ?, status = ?, version = ?, stale = ?, "
      "last_seen_at = ?, updated_at = ? WHERE id = ? AND version = ?",
      {ci.name, core::json::serialize(ci.attrs), store::Opt(ci.tenant), ci.status, ci.version,
       int64_t{ci.stale}, store::Opt(ci.last_seen_at), ci.updated_at, ci.id, expected_version}));
  return rs.affected > 0;
}

core::Status Store::DeleteCi(store::Tx& tx, int64_t id) {
  GANTRY_TRY_STATUS(tx.Exec("DELETE FROM cmdb_cis WHERE id = ?", {id}));
  return {};
}

core::Result<std::vector<Ci>> Store::ListCis(store::Database& db, const CiFilter& f) {
  std::string sql = std::string("SELECT ") + kCiColumns + " FROM cmdb_cis WHERE id > ?";
  store::Params p{f.after_id.value_or(0)};
  bool pg = db.backend() == store::Backend::kPostgres;
  if (f.type) { sql += " AND type = ?"; p.emplace_back(*f.type); }
  if (f.status) { sql += " AND status = ?"; p.emplace_back(*f.status); }
  if (f.tenant) { sql += " AND tenant = ?"; p.emplace_back(*f.tenant); }
  if (f.stale) { sql += " AND stale = ?"; p.emplace_back(int64_t{*f.stale}); }
  if (f.q) {
    sql += " AND (LOWER(name) LIKE ? ESCAPE '\\' OR LOWER(attrs) LIKE ? ESCAPE '\\')";
    std::string like = "%";
    for (char c : store::EscapeLike(*f.q)) like += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    like += "%";
    p.emplace_back(like);
    p.emplace_back(like);
  }
  for (const auto& [attr, value] : f.attr_equals) {
    // The attribute name was checked against the type's definitions by the service.
    if (pg) {
      sql += " AND (attrs::jsonb ->> '" + attr + "') = ?";
    } else {
      sql += " AND (CASE json_type(attrs, '$." + attr + "') WHEN 'true' THEN 'true' WHEN 'false' "
             "THEN 'false' ELSE CAST(json_extract(attrs, '$." + attr + "') AS TEXT) END) = ?";
    }
    p.emplace_back(value);
  }
  if (f.related_to) {
    std::string rel = f.relation ? " AND type = ?" : "";
    sql += " AND id IN (SELECT to_id FROM cmdb_relations WHERE from_id = ?" + rel +
           " UNION SELECT from_id FROM cmdb_relations WHERE to_id = ?" + rel + ")";
    p.emplace_back(*f.related_to);
    if (f.relation) p.emplace_back(*f.relation);
    p.emplace_back(*f.related_to);
    if (f.relation) p.emplace_back(*f.relation);
  }
  if (f.visible_tenants) {
    if (f.visible_tenants->empty()) return std::vector<Ci>{};
    std::string in = Placeholders(f.visible_tenants->size());
    sql += " AND (tenant IN (" + in + ") OR id IN (SELECT r.to_id FROM cmdb_relations r JOIN cmdb_cis o "
           "ON o.id = r.from_id WHERE r.type = 'contains' AND o.tenant IN (" + in + ")))";
    for (int k = 0; k < 2; ++k) {
      for (const auto& t : *f.visible_tenants) p.emplace_back(t);
    }
  }
  sql += " ORDER BY id LIMIT ?";
  p.emplace_back(int64_t{f.limit});
  GANTRY_TRY(auto rs, db.Query(sql, p));
  std::vector<Ci> out;
  out.reserve(rs.rows.size());
  for (const auto& r : rs.rows) out.push_back(CiFromRow(r));
  return out;
}

core::Result<std::vector<Ci>> Store::GetCis(store::Database& db, const std::vector<int64_t>& ids) {
  std::vector<Ci> out;
  for (size_t start = 0; start < ids.size(); start += 500) {
    size_t n = std::min<size_t>(500, ids.size() - start);
    store::Params p(ids.begin() + start, ids.begin() + start + n);
    GANTRY_TRY(auto rs, db.Query(std::string("SELECT ") + kCiColumns + " FROM cmdb_cis WHERE id IN (" +
                                     Placeholders(n) + ")", p));
    for (const auto& r : rs.rows) out.push_back(CiFromRow(r));
  }
  return out;
}

core::Result<int64_t> Store::MarkStale(store::Tx& tx, core::UnixNanos seen_before, core::UnixNanos now) {
  GANTRY_TRY(auto rs, tx.Exec(
      "UPDATE cmdb_cis SET stale = 1, updated_at = ? WHERE stale = 0 AND last_seen_at IS NOT NULL "
      "AND last_seen_at < ? RETURNING id",
      {now, seen_before}));
  return static_cast<int64_t>(rs.rows.size());
}

core::Result<int64_t> Store::InsertRelation(store::Tx& tx, const Relation& r) {
  auto rs = tx.Exec(
      "INSERT INTO cmdb_relations (type, from_id, to_id, attrs, source, created_at) "
      "VALUES (?, ?, ?, ?, ?, ?) RETURNING id",
      {r.type, r.from_id, r.to_id, core::json::serialize(r.attrs), r.source, r.created_at});
  if (!rs) {
    if (rs.error().code == core::Code::kConflict) return core::Conflict("this relationship already exists");
    return rs.error();
  }
  return rs->rows.at(0).Int(0);
}

core::Result<std::optional<Relation>> Store::GetRelation(store::Tx& tx, int64_t id) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kRelColumns + " FROM cmdb_relations WHERE id = ?", {id}));
  if (rs.rows.empty()) return std::optional<Relation>{};
  return std::optional<Relation>(RelFromRow(rs.rows[0]));
}

core::Result<std::optional<Relation>> Store::FindRelation(store::Tx& tx, const std::string& type,
                                                          int64_t from, int64_t to) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kRelColumns +
                                  " FROM cmdb_relations WHERE type = ? AND from_id = ? AND to_id = ?",
                              {type, from, to}));
  if (rs.rows.empty()) return std::optional<Relation>{};
  return std::optional<Relation>(RelFromRow(rs.rows[0]));
}

core::Status Store::DeleteRelation(store::Tx& tx, int64_t id) {
  GANTRY_TRY_STATUS(tx.Exec("DELETE FROM cmdb_relations WHERE id = ?", {id}));
  return {};
}

core::Result<std::vector<Relation>> Store::RelationsOf(store::Tx& tx, int64_t ci_id) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kRelColumns +
                                  " FROM cmdb_relations WHERE from_id = ? OR to_id = ? ORDER BY id",
                              {ci_id, ci_id}));
  std::vector<Relation> out;
  for (const auto& r : rs.rows) out.push_back(RelFromRow(r));
  return out;
}

core::Result<std::vector<Relation>> Store::RelationsOfMany(store::Database& db,
                                                           const std::vector<int64_t>& ids) {
  std::vector<Relation> out;
  for (size_t start = 0; start < ids.size(); start += 400) {
    size_t n = std::min<size_t>(400, ids.size() - start);
    store::Params p(ids.begin() + start, ids.begin() + start + n);
    p.insert(p.end(), ids.begin() + start, ids.begin() + start + n);
    std::string in = Placeholders(n);
    GANTRY_TRY(auto rs, db.Query(std::string("SELECT ") + kRelColumns + " FROM cmdb_relations WHERE from_id IN (" +
                                     in + ") UNION SELECT " + kRelColumns +
                                     " FROM cmdb_relations WHERE to_id IN (" + in + ")",
                                 p));
    for (const auto& r : rs.rows) out.push_back(RelFromRow(r));
  }
  return out;
}

core::Result<int64_t> Store::CountOut(store::Tx& tx, const std::string& type, int64_t from) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT COUNT(*) FROM cmdb_relations WHERE type = ? AND from_id = ?", {type, from}));
  return rs.rows.at(0).Int(0);
}

core::Result<int64_t> Store::CountIn(store::Tx& tx, const std::string& type, int64_t to) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT COUNT(*) FROM cmdb_relations WHERE type = ? AND to_id = ?", {type, to}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::map<std::string, AttrSource>> Store::Sources(store::Tx& tx, int64_t ci_id) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT attr, source, priority, last_seen_at FROM cmdb_attr_sources WHERE ci_id = ?", {ci_id}));
  std::map<std::string, AttrSource> out;
  for (const auto& r : rs.rows) out[r.Str(0)] = AttrSource{r.Str(1), static_cast<int>(r.Int(2)), r.Int(3)};
  return out;
}

core::Status Store::SetSource(store::Tx& tx, int64_t ci_id, const std::string& attr, const AttrSource& s) {
  GANTRY_TRY_STATUS(tx.Exec(
      "INSERT INTO cmdb_attr_sources (ci_id, attr, source, priority, last_seen_at) VALUES (?, ?, ?, ?, ?) "
      "ON CONFLICT (ci_id, attr) DO UPDATE SET source = excluded.source, priority = excluded.priority, "
      "last_seen_at = excluded.last_seen_at",
      {ci_id, attr, s.source, int64_t{s.priority}, s.last_seen_at}));
  return {};
}

core::Status Store::InsertHistory(store::Tx& tx, const HistoryEntry& h) {
  GANTRY_TRY_STATUS(tx.Exec(
      "INSERT INTO cmdb_history (time, actor, op, ci_id, relation_id, version, before_state, "
      "after_state, change_request_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {h.time, h.actor, h.op, store::Opt(h.ci_id), store::Opt(h.relation_id), store::Opt(h.version),
       store::Opt(h.before), store::Opt(h.after), store::Opt(h.change_request_id)}));
  return {};
}

core::Result<std::vector<HistoryEntry>> Store::History(store::Database& db, int64_t ci_id, int limit) {
  GANTRY_TRY(auto rs, db.Query(std::string("SELECT ") + kHistColumns +
                                   " FROM cmdb_history WHERE ci_id = ? ORDER BY id DESC LIMIT ?",
                               {ci_id, int64_t{limit}}));
  std::vector<HistoryEntry> out;
  for (const auto& r : rs.rows) out.push_back(HistFromRow(r));
  return out;
}

core::Result<std::optional<HistoryEntry>> Store::StateAt(store::Database& db, int64_t ci_id, core::UnixNanos t) {
  GANTRY_TRY(auto rs, db.Query(std::string("SELECT ") + kHistColumns +
                                   " FROM cmdb_history WHERE ci_id = ? AND time <= ? AND op LIKE 'ci.%' "
                                   "ORDER BY id DESC LIMIT 1",
                               {ci_id, t}));
  if (rs.rows.empty()) return std::optional<HistoryEntry>{};
  return std::optional<HistoryEntry>(HistFromRow(rs.rows[0]));
}

core::Result<int64_t> Store::InsertChangeRequest(store::Tx& tx, const ChangeRequest& cr) {
  GANTRY_TRY(auto rs, tx.Exec(
      "INSERT INTO cmdb_change_requests (title, description, state, edits, impact, created_by, "
      "created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {cr.title, cr.description, cr.state, cr.edits, store::Opt(cr.impact), cr.created_by, cr.created_at,
       cr.updated_at}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::optional<ChangeRequest>> Store::GetChangeRequest(store::Tx& tx, int64_t id, bool lock,
                                                                   store::Backend b) {
  std::string sql = std::string("SELECT ") + kCrColumns + " FROM cmdb_change_requests WHERE id = ?";
  if (lock && b == store::Backend::kPostgres) sql += " FOR UPDATE";
  GANTRY_TRY(auto rs, tx.Exec(sql, {id}));
  if (rs.rows.empty()) return std::optional<ChangeRequest>{};
  return std::optional<ChangeRequest>(CrFromRow(rs.rows[0]));
}

core::Status Store::UpdateChangeRequest(store::Tx& tx, const ChangeRequest& cr) {
  GANTRY_TRY_STATUS(tx.Exec(
      "UPDATE cmdb_change_requests SET state = ?, impact = ?, reviewed_by = ?, review_comment = ?, "
      "updated_at = ?, applied_at = ? WHERE id = ?",
      {cr.state, store::Opt(cr.impact), store::Opt(cr.reviewed_by), store::Opt(cr.review_comment),
       cr.updated_at, store::Opt(cr.applied_at), cr.id}));
  return {};
}

core::Result<std::vector<ChangeRequest>> Store::ListChangeRequests(store::Database& db,
                                                                   std::optional<std::string> state, int limit) {
  std::string sql = std::string("SELECT ") + kCrColumns + " FROM cmdb_change_requests";
  store::Params p;
  if (state) {
    sql += " WHERE state = ?";
    p.emplace_back(*state);
  }
  sql += " ORDER BY id DESC LIMIT ?";
  p.emplace_back(int64_t{limit});
  GANTRY_TRY(auto rs, db.Query(sql, p));
  std::vector<ChangeRequest> out;
  for (const auto& r : rs.rows) out.push_back(CrFromRow(r));
  return out;
}

}  // namespace gantry::cmdb
