#include "tenancy/store.h"

#include <charconv>

namespace gantry::tenancy {

namespace {

constexpr char kTenantColumns[] = "id, slug, name, cohort, disabled, created_at, updated_at";
constexpr char kReservationColumns[] =
    "r.id, r.tenant_id, t.slug, r.project_id, p.slug, r.ref, r.state, r.resources, r.borrowed, "
    "r.created_by, r.created_at, r.released_at";
constexpr char kReservationFrom[] =
    " FROM quota_reservations r JOIN tenants t ON t.id = r.tenant_id "
    "LEFT JOIN projects p ON p.id = r.project_id";

std::optional<int64_t> AsId(std::string_view ref) {
  int64_t id = 0;
  auto [end, ec] = std::from_chars(ref.data(), ref.data() + ref.size(), id);
  if (ref.empty() || ec != std::errc() || end != ref.data() + ref.size() || id <= 0) {
    return std::nullopt;
  }
  return id;
}

std::string LockSuffix(store::Backend backend) {
  return backend == store::Backend::kPostgres ? " FOR UPDATE" : "";
}

// "?, ?, ?" for n values.
std::string Marks(size_t n) {
  std::string s;
  for (size_t i = 0; i < n; ++i) s += i ? ", ?" : "?";
  return s;
}

Tenant TenantFromRow(const store::Row& r) {
  Tenant t;
  t.id = r.Int(0);
  t.slug = r.Str(1);
  t.name = r.Str(2);
  t.cohort = r.OptStr(3);
  t.disabled = r.Bool(4);
  t.created_at = r.Int(5);
  t.updated_at = r.Int(6);
  return t;
}

Reservation ReservationFromRow(const store::Row& r) {
  Reservation v;
  v.id = r.Int(0);
  v.tenant_id = r.Int(1);
  v.tenant = r.Str(2);
  v.project_id = r.Int(3);
  v.project = r.Str(4);
  v.ref = r.Str(5);
  v.state = r.Str(6);
  v.resources = AmountsFromJson(r.Str(7));
  v.borrowed = AmountsFromJson(r.Str(8));
  v.created_by = r.Str(9);
  v.created_at = r.Int(10);
  v.released_at = r.OptInt(11);
  return v;
}

// Appends " AND col IN (...)" for ids and " AND resource IN (...)" for resources.
void AddFilters(std::string& sql, store::Params& p, const std::vector<int64_t>& tenant_ids,
                std::optional<int64_t> project_id, const std::vector<std::string>& resources) {
  sql += " WHERE tenant_id IN (" + Marks(tenant_ids.size()) + ")";
  for (auto id : tenant_ids) p.emplace_back(id);
  if (project_id) {
    sql += " AND project_id = ?";
    p.emplace_back(*project_id);
  }
  if (!resources.empty()) {
    sql += " AND resource IN (" + Marks(resources.size()) + ")";
    for (const auto& r : resources) p.emplace_back(r);
  }
}

}  // namespace

// ---- tenants ------------------------------------------------------------------------------

core::Result<int64_t> Store::InsertTenant(store::Tx& tx, const NewTenant& t, core::UnixNanos now) {
  GANTRY_TRY(auto rs, tx.Exec("INSERT INTO tenants (slug, name, cohort, created_at, updated_at) "
                              "VALUES (?, ?, ?, ?, ?) RETURNING id",
                              {t.slug, t.name, store::Opt(t.cohort), now, now}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::optional<Tenant>> Store::FindTenant(store::Tx& tx, std::string_view ref) {
  std::string sql = std::string("SELECT ") + kTenantColumns + " FROM tenants WHERE ";
  store::Params p;
  if (auto id = AsId(ref)) {
    sql += "id = ?";
    p.emplace_back(*id);
  } else {
    sql += "slug = ?";
    p.emplace_back(std::string(ref));
  }
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  if (rs.rows.empty()) return std::optional<Tenant>{};
  return std::optional<Tenant>(TenantFromRow(rs.rows[0]));
}

core::Result<std::optional<Tenant>> Store::GetTenant(store::Tx& tx, int64_t id, bool for_update,
                                                     store::Backend backend) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kTenantColumns + " FROM tenants WHERE id = ?" +
                                  (for_update ? LockSuffix(backend) : ""),
                              {id}));
  if (rs.rows.empty()) return std::optional<Tenant>{};
  return std::optional<Tenant>(TenantFromRow(rs.rows[0]));
}

core::Result<std::vector<Tenant>> Store::AllTenants(store::Tx& tx) {
  std::vector<Tenant> tenants;
  std::optional<int64_t> after;
  for (;;) {
    GANTRY_TRY(auto page, ListTenants(tx, std::nullopt, after, 1000));
    for (auto& t : page) tenants.push_back(std::move(t));
    if (page.size() < 1000) break;
    after = tenants.back().id;
  }
  return tenants;
}

core::Result<std::vector<Tenant>> Store::ListTenants(
    store::Tx& tx, const std::optional<std::vector<int64_t>>& only_ids,
    std::optional<int64_t> after_id, int limit) {
  std::vector<Tenant> out;
  if (only_ids && only_ids->empty()) return out;
  std::string sql = std::string("SELECT ") + kTenantColumns + " FROM tenants WHERE id > ?";
  store::Params p{after_id.value_or(0)};
  if (only_ids) {
    sql += " AND id IN (" + Marks(only_ids->size()) + ")";
    for (auto id : *only_ids) p.emplace_back(id);
  }
  sql += " ORDER BY id LIMIT ?";
  p.emplace_back(int64_t{limit});
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  for (const auto& r : rs.rows) out.push_back(TenantFromRow(r));
  return out;
}

core::Status Store::UpdateTenant(store::Tx& tx, const Tenant& t, core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "UPDATE tenants SET name = ?, cohort = ?, disabled = ?, updated_at = ? WHERE id = ?",
      {t.name, store::Opt(t.cohort), int64_t{t.disabled ? 1 : 0}, now, t.id}));
  return {};
}

core::Status Store::DeleteTenant(store::Tx& tx, int64_t id) {
  for (const char* table : {"quota_history", "quota_reservations", "quota_usage", "quotas",
                            "tenant_members", "projects"}) {
    GANTRY_TRY_STATUS(tx.Exec(std::string("DELETE FROM ") + table + " WHERE tenant_id = ?", {id}));
  }
  GANTRY_TRY_STATUS(tx.Exec("DELETE FROM tenants WHERE id = ?", {id}));
  return {};
}

core::Result<std::vector<Tenant>> Store::CohortMembers(store::Tx& tx, const std::string& cohort) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kTenantColumns +
                                  " FROM tenants WHERE cohort = ? ORDER BY id",
                              {cohort}));
  std::vector<Tenant> out;
  for (const auto& r : rs.rows) out.push_back(TenantFromRow(r));
  return out;
}

core::Status Store::EnsureCohort(store::Tx& tx, const std::string& name, core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "INSERT INTO quota_cohorts (name, created_at) VALUES (?, ?) ON CONFLICT (name) DO NOTHING",
      {name, now}));
  return {};
}

core::Status Store::LockCohort(store::Tx& tx, const std::string& name, store::Backend backend) {
  GANTRY_TRY_STATUS(
      tx.Exec("SELECT name FROM quota_cohorts WHERE name = ?" + LockSuffix(backend), {name}));
  return {};
}

// ---- projects -----------------------------------------------------------------------------

core::Result<int64_t> Store::InsertProject(store::Tx& tx, int64_t tenant_id, const std::string& slug,
                                           const std::string& name, core::UnixNanos now) {
  GANTRY_TRY(auto rs, tx.Exec("INSERT INTO projects (tenant_id, slug, name, created_at, updated_at) "
                              "VALUES (?, ?, ?, ?, ?) RETURNING id",
                              {tenant_id, slug, name, now, now}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::optional<Project>> Store::FindProject(store::Tx& tx, int64_t tenant_id,
                                                        std::string_view ref) {
  std::string sql =
      "SELECT p.id, p.tenant_id, t.slug, p.slug, p.name, p.created_at, p.updated_at "
      "FROM projects p JOIN tenants t ON t.id = p.tenant_id WHERE p.tenant_id = ? AND ";
  store::Params p{tenant_id};
  if (auto id = AsId(ref)) {
    sql += "p.id = ?";
    p.emplace_back(*id);
  } else {
    sql += "p.slug = ?";
    p.emplace_back(std::string(ref));
  }
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  if (rs.rows.empty()) return std::optional<Project>{};
  const auto& r = rs.rows[0];
  return std::optional<Project>(
      Project{r.Int(0), r.Int(1), r.Str(2), r.Str(3), r.Str(4), r.Int(5), r.Int(6)});
}

core::Result<std::vector<Project>> Store::ListProjects(store::Tx& tx, int64_t tenant_id) {
  GANTRY_TRY(auto rs, tx.Exec(
      "SELECT p.id, p.tenant_id, t.slug, p.slug, p.name, p.created_at, p.updated_at "
      "FROM projects p JOIN tenants t ON t.id = p.tenant_id WHERE p.tenant_id = ? ORDER BY p.slug",
      {tenant_id}));
  std::vector<Project> out;
  for (const auto& r : rs.rows) {
    out.push_back({r.Int(0), r.Int(1), r.Str(2), r.Str(3), r.Str(4), r.Int(5), r.Int(6)});
  }
  return out;
}

core::Status Store::DeleteProject(store::Tx& tx, int64_t tenant_id, int64_t project_id) {
  for (const char* table : {"quota_history", "quota_reservations", "quota_usage", "quotas"}) {
    GANTRY_TRY_STATUS(tx.Exec(std::string("DELETE FROM ") + table +
                                  " WHERE tenant_id = ? AND project_id = ?",
                              {tenant_id, project_id}));
  }
  GANTRY_TRY_STATUS(
      tx.Exec("DELETE FROM projects WHERE tenant_id = ? AND id = ?", {tenant_id, project_id}));
  return {};
}

// ---- members ------------------------------------------------------------------------------

core::Result<std::optional<Member>> Store::GetMember(store::Tx& tx, int64_t tenant_id,
                                                     int64_t user_id) {
  GANTRY_TRY(auto rs, tx.Exec(
      "SELECT m.tenant_id, m.user_id, u.username, m.role, m.created_at FROM tenant_members m "
      "JOIN users u ON u.id = m.user_id WHERE m.tenant_id = ? AND m.user_id = ?",
      {tenant_id, user_id}));
  if (rs.rows.empty()) return std::optional<Member>{};
  const auto& r = rs.rows[0];
  return std::optional<Member>(Member{r.Int(0), r.Int(1), r.Str(2),
                                      core::ParseRole(r.Str(3)).value_or(core::Role::kViewer),
                                      r.Int(4)});
}

core::Status Store::UpsertMember(store::Tx& tx, int64_t tenant_id, int64_t user_id, core::Role role,
                                 core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "INSERT INTO tenant_members (tenant_id, user_id, role, created_at, updated_at) "
      "VALUES (?, ?, ?, ?, ?) ON CONFLICT (tenant_id, user_id) "
      "DO UPDATE SET role = excluded.role, updated_at = excluded.updated_at",
      {tenant_id, user_id, std::string(core::RoleName(role)), now, now}));
  return {};
}

core::Status Store::DeleteMember(store::Tx& tx, int64_t tenant_id, int64_t user_id) {
  GANTRY_TRY_STATUS(tx.Exec("DELETE FROM tenant_members WHERE tenant_id = ? AND user_id = ?",
                            {tenant_id, user_id}));
  return {};
}

core::Result<std::vector<Member>> Store::ListMembers(store::Tx& tx, int64_t tenant_id) {
  GANTRY_TRY(auto rs, tx.Exec(
      "SELECT m.tenant_id, m.user_id, u.username, m.role, m.created_at FROM tenant_members m "
      "JOIN users u ON u.id = m.user_id WHERE m.tenant_id = ? ORDER BY u.username",
      {tenant_id}));
  std::vector<Member> out;
  for (const auto& r : rs.rows) {
    out.push_back({r.Int(0), r.Int(1), r.Str(2),
                   core::ParseRole(r.Str(3)).value_or(core::Role::kViewer), r.Int(4)});
  }
  return out;
}

core::Result<std::vector<core::TenantMembership>> Store::MembershipsOf(store::Tx& tx,
                                                                       int64_t user_id) {
  GANTRY_TRY(auto rs, tx.Exec(
      "SELECT t.id, t.slug, m.role FROM tenant_members m JOIN tenants t ON t.id = m.tenant_id "
      "WHERE m.user_id = ? AND t.disabled = 0 ORDER BY t.slug",
      {user_id}));
  std::vector<core::TenantMembership> out;
  for (const auto& r : rs.rows) {
    out.push_back({r.Int(0), r.Str(1), core::ParseRole(r.Str(2)).value_or(core::Role::kViewer)});
  }
  return out;
}

// ---- quotas and usage ---------------------------------------------------------------------

core::Result<std::vector<Quota>> Store::LoadQuotas(store::Tx& tx,
                                                   const std::vector<int64_t>& tenant_ids,
                                                   std::optional<int64_t> project_id,
                                                   const std::vector<std::string>& resources) {
  std::vector<Quota> out;
  if (tenant_ids.empty()) return out;
  std::string sql = "SELECT tenant_id, project_id, resource, guaranteed, burst FROM quotas";
  store::Params p;
  AddFilters(sql, p, tenant_ids, project_id, resources);
  sql += " ORDER BY tenant_id, project_id, resource";
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  for (const auto& r : rs.rows) out.push_back({r.Int(0), r.Int(1), r.Str(2), r.Int(3), r.OptInt(4)});
  return out;
}

core::Status Store::UpsertQuota(store::Tx& tx, const Quota& q, core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "INSERT INTO quotas (tenant_id, project_id, resource, guaranteed, burst, updated_at) "
      "VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (tenant_id, project_id, resource) DO UPDATE SET "
      "guaranteed = excluded.guaranteed, burst = excluded.burst, updated_at = excluded.updated_at",
      {q.tenant_id, q.project_id, q.resource, q.guaranteed, store::Opt(q.burst), now}));
  return {};
}

core::Result<std::vector<UsageRow>> Store::LoadUsage(store::Tx& tx,
                                                     const std::vector<int64_t>& tenant_ids,
                                                     std::optional<int64_t> project_id,
                                                     const std::vector<std::string>& resources,
                                                     bool lock, store::Backend backend) {
  std::vector<UsageRow> out;
  if (tenant_ids.empty()) return out;
  std::string sql = "SELECT tenant_id, project_id, resource, reserved, borrowed FROM quota_usage";
  store::Params p;
  AddFilters(sql, p, tenant_ids, project_id, resources);
  // A fixed order, so that row locks are always taken in the same order.
  sql += " ORDER BY tenant_id, project_id, resource";
  if (lock) sql += LockSuffix(backend);
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  for (const auto& r : rs.rows) out.push_back({r.Int(0), r.Int(1), r.Str(2), r.Int(3), r.Int(4)});
  return out;
}

core::Status Store::UpsertUsage(store::Tx& tx, const std::vector<UsageRow>& rows,
                                core::UnixNanos now) {
  if (rows.empty()) return {};
  std::string sql =
      "INSERT INTO quota_usage (tenant_id, project_id, resource, reserved, borrowed, updated_at) "
      "VALUES ";
  store::Params p;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& u = rows[i];
    sql += i ? ", (?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?)";
    for (store::Value v : {store::Value(u.tenant_id), store::Value(u.project_id),
                           store::Value(u.resource), store::Value(u.reserved),
                           store::Value(u.borrowed), store::Value(now)}) {
      p.push_back(std::move(v));
    }
  }
  sql += " ON CONFLICT (tenant_id, project_id, resource) DO UPDATE SET "
         "reserved = excluded.reserved, borrowed = excluded.borrowed, "
         "updated_at = excluded.updated_at";
  GANTRY_TRY_STATUS(tx.Exec(sql, p));
  return {};
}

// ---- reservations -------------------------------------------------------------------------

core::Result<int64_t> Store::InsertReservation(store::Tx& tx, const Reservation& r) {
  GANTRY_TRY(auto rs, tx.Exec(
      "INSERT INTO quota_reservations (tenant_id, project_id, ref, state, resources, borrowed, "
      "created_by, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
      {r.tenant_id, r.project_id, r.ref, r.state, core::ToJson(AmountsToJson(r.resources)),
       core::ToJson(AmountsToJson(r.borrowed)), r.created_by, r.created_at}));
  return rs.rows.at(0).Int(0);
}

core::Result<std::optional<Reservation>> Store::GetReservation(store::Tx& tx, int64_t id) {
  GANTRY_TRY(auto rs, tx.Exec(std::string("SELECT ") + kReservationColumns + kReservationFrom +
                                  " WHERE r.id = ?",
                              {id}));
  if (rs.rows.empty()) return std::optional<Reservation>{};
  return std::optional<Reservation>(ReservationFromRow(rs.rows[0]));
}

core::Result<std::vector<Reservation>> Store::ListReservations(store::Tx& tx, int64_t tenant_id,
                                                               std::optional<std::string> state,
                                                               std::optional<int64_t> before_id,
                                                               int limit) {
  std::string sql =
      std::string("SELECT ") + kReservationColumns + kReservationFrom + " WHERE r.tenant_id = ?";
  store::Params p{tenant_id};
  if (state) {
    sql += " AND r.state = ?";
    p.emplace_back(*state);
  }
  if (before_id) {
    sql += " AND r.id < ?";
    p.emplace_back(*before_id);
  }
  sql += " ORDER BY r.id DESC LIMIT ?";
  p.emplace_back(int64_t{limit});
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  std::vector<Reservation> out;
  for (const auto& r : rs.rows) out.push_back(ReservationFromRow(r));
  return out;
}

core::Result<std::vector<Reservation>> Store::ActiveReservations(
    store::Tx& tx, const std::vector<int64_t>& tenant_ids) {
  std::vector<Reservation> out;
  if (tenant_ids.empty()) return out;
  std::string sql = std::string("SELECT ") + kReservationColumns + kReservationFrom +
                    " WHERE r.state = 'active' AND r.tenant_id IN (" + Marks(tenant_ids.size()) +
                    ") ORDER BY r.id DESC";
  store::Params p;
  for (auto id : tenant_ids) p.emplace_back(id);
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  for (const auto& r : rs.rows) out.push_back(ReservationFromRow(r));
  return out;
}

core::Result<std::optional<int64_t>> Store::ActiveByRef(store::Tx& tx, int64_t tenant_id,
                                                        const std::string& ref) {
  GANTRY_TRY(auto rs, tx.Exec("SELECT id FROM quota_reservations WHERE tenant_id = ? AND ref = ? "
                              "AND state = 'active' LIMIT 1",
                              {tenant_id, ref}));
  if (rs.rows.empty()) return std::optional<int64_t>{};
  return std::optional<int64_t>(rs.rows[0].Int(0));
}

core::Result<int64_t> Store::CountActive(store::Tx& tx, int64_t tenant_id,
                                         std::optional<int64_t> project_id) {
  std::string sql =
      "SELECT COUNT(*) FROM quota_reservations WHERE tenant_id = ? AND state = 'active'";
  store::Params p{tenant_id};
  if (project_id) {
    sql += " AND project_id = ?";
    p.emplace_back(*project_id);
  }
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  return rs.rows.at(0).Int(0);
}

core::Status Store::FinishReservation(store::Tx& tx, int64_t id, const std::string& state,
                                      core::UnixNanos now) {
  GANTRY_TRY_STATUS(tx.Exec(
      "UPDATE quota_reservations SET state = ?, released_at = ? WHERE id = ? AND state = 'active'",
      {state, now, id}));
  return {};
}

// ---- history ------------------------------------------------------------------------------

core::Status Store::AppendHistory(store::Tx& tx,
                                  const std::vector<std::pair<Quota, UsageRow>>& rows,
                                  core::UnixNanos now) {
  if (rows.empty()) return {};
  std::string sql =
      "INSERT INTO quota_history (time, tenant_id, project_id, resource, guaranteed, burst, "
      "reserved, borrowed) VALUES ";
  store::Params p;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto& [q, u] = rows[i];
    sql += i ? ", (?, ?, ?, ?, ?, ?, ?, ?)" : "(?, ?, ?, ?, ?, ?, ?, ?)";
    for (store::Value v : {store::Value(now), store::Value(u.tenant_id),
                           store::Value(u.project_id), store::Value(u.resource),
                           store::Value(q.guaranteed), store::Opt(q.burst),
                           store::Value(u.reserved), store::Value(u.borrowed)}) {
      p.push_back(std::move(v));
    }
  }
  GANTRY_TRY_STATUS(tx.Exec(sql, p));
  return {};
}

core::Status Store::InsertSnapshot(store::Tx& tx, const Snapshot& s) {
  GANTRY_TRY_STATUS(tx.Exec(
      "INSERT INTO quota_snapshots (time, tenant_id, project_id, resource, guaranteed, burst, "
      "reserved, borrowed, lent, used) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
      {s.time, s.tenant_id, s.project_id, s.resource, store::Opt(s.guaranteed),
       store::Opt(s.burst), s.reserved, s.borrowed, s.lent, store::Opt(s.used)}));
  return {};
}

core::Result<std::vector<Snapshot>> Store::Snapshots(store::Tx& tx, int64_t tenant_id,
                                                     core::UnixNanos from, core::UnixNanos to,
                                                     const std::optional<std::string>& resource) {
  std::string sql =
      "SELECT s.time, s.project_id, p.slug, s.resource, s.guaranteed, s.burst, s.reserved, "
      "s.borrowed, s.lent, s.used FROM quota_snapshots s "
      "LEFT JOIN projects p ON p.id = s.project_id WHERE s.tenant_id = ? AND s.time <= ? "
      "AND s.time >= COALESCE((SELECT MAX(time) FROM quota_snapshots "
      "WHERE tenant_id = ? AND time <= ?), ?)";
  store::Params p{tenant_id, to, tenant_id, from, from};
  if (resource) {
    sql += " AND s.resource = ?";
    p.emplace_back(*resource);
  }
  sql += " ORDER BY s.time, s.id LIMIT 200000";
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  std::vector<Snapshot> out;
  for (const auto& r : rs.rows) {
    Snapshot s;
    s.time = r.Int(0);
    s.tenant_id = tenant_id;
    s.project_id = r.Int(1);
    s.project = s.project_id ? r.Str(2) : "";
    s.resource = r.Str(3);
    s.guaranteed = r.OptInt(4);
    s.burst = r.OptInt(5);
    s.reserved = r.Int(6);
    s.borrowed = r.Int(7);
    s.lent = r.Int(8);
    s.used = r.OptInt(9);
    out.push_back(std::move(s));
  }
  return out;
}

core::Result<std::map<std::pair<int64_t, std::string>, int64_t>> Store::LatestUsed(
    store::Tx& tx, int64_t tenant_id) {
  GANTRY_TRY(auto rs, tx.Exec(
      "SELECT project_id, resource, used FROM quota_snapshots WHERE tenant_id = ? AND used IS NOT "
      "NULL AND time = (SELECT MAX(time) FROM quota_snapshots WHERE tenant_id = ?)",
      {tenant_id, tenant_id}));
  std::map<std::pair<int64_t, std::string>, int64_t> out;
  for (const auto& r : rs.rows) out[{r.Int(0), r.Str(1)}] = r.Int(2);
  return out;
}

core::Result<int64_t> Store::DeleteSnapshotsBefore(store::Tx& tx, core::UnixNanos before) {
  GANTRY_TRY(auto rs, tx.Exec("DELETE FROM quota_snapshots WHERE time < ?", {before}));
  return rs.affected;
}

core::Result<std::vector<HistoryPoint>> Store::History(store::Tx& tx, int64_t tenant_id,
                                                       std::optional<int64_t> project_id,
                                                       const HistoryFilter& f) {
  std::string sql =
      "SELECT h.id, h.time, p.slug, h.resource, h.guaranteed, h.burst, h.reserved, h.borrowed "
      "FROM quota_history h LEFT JOIN projects p ON p.id = h.project_id WHERE h.tenant_id = ?";
  store::Params p{tenant_id};
  if (project_id) {
    sql += " AND h.project_id = ?";
    p.emplace_back(*project_id);
  }
  if (f.resource) {
    sql += " AND h.resource = ?";
    p.emplace_back(*f.resource);
  }
  if (f.since) {
    sql += " AND h.time >= ?";
    p.emplace_back(*f.since);
  }
  if (f.until) {
    sql += " AND h.time < ?";
    p.emplace_back(*f.until);
  }
  if (f.after_id) {
    sql += " AND h.id > ?";
    p.emplace_back(*f.after_id);
  }
  sql += " ORDER BY h.id LIMIT ?";
  p.emplace_back(int64_t{f.limit});
  GANTRY_TRY(auto rs, tx.Exec(sql, p));
  std::vector<HistoryPoint> out;
  for (const auto& r : rs.rows) {
    out.push_back({r.Int(0), r.Int(1), r.Str(2), r.Str(3), r.Int(4), r.OptInt(5), r.Int(6), r.Int(7)});
  }
  return out;
}

}  // namespace gantry::tenancy
