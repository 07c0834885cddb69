// SQL for tenancy (store_sql.cc is the only file with tenancy SQL). Every function runs inside
// the caller's transaction; locking functions add `FOR UPDATE` on PostgreSQL only (SQLite's
// write transaction is already exclusive).
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "store/database.h"
#include "tenancy/types.h"

namespace gantry::tenancy {

struct UsageRow {
  int64_t tenant_id = 0;
  int64_t project_id = 0;
  std::string resource;
  int64_t reserved = 0;
  int64_t borrowed = 0;
};

class Store {
 public:
  // Tenants. `ref` is an id or a slug.
  static core::Result<int64_t> InsertTenant(store::Tx& tx, const NewTenant& t, core::UnixNanos now);
  static core::Result<std::optional<Tenant>> FindTenant(store::Tx& tx, std::string_view ref);
  static core::Result<std::optional<Tenant>> GetTenant(store::Tx& tx, int64_t id, bool for_update,
                                                       store::Backend backend);
  // `only_ids` set: just those tenants. Ordered by id, after `after_id`.
  static core::Result<std::vector<Tenant>> ListTenants(store::Tx& tx,
                                                       const std::optional<std::vector<int64_t>>& only_ids,
                                                       std::optional<int64_t> after_id, int limit);
  // Every tenant, ordered by id (read in pages of 1000).
  static core::Result<std::vector<Tenant>> AllTenants(store::Tx& tx);
  static core::Status UpdateTenant(store::Tx& tx, const Tenant& t, core::UnixNanos now);
  // Removes the tenant and every tenancy row that belongs to it.
  static core::Status DeleteTenant(store::Tx& tx, int64_t id);
  // Tenants of a cohort, ordered by id.
  static core::Result<std::vector<Tenant>> CohortMembers(store::Tx& tx, const std::string& cohort);

  // The per-cohort lock row: created when missing, then locked.
  static core::Status EnsureCohort(store::Tx& tx, const std::string& name, core::UnixNanos now);
  static core::Status LockCohort(store::Tx& tx, const std::string& name, store::Backend backend);

  // Projects.
  static core::Result<int64_t> InsertProject(store::Tx& tx, int64_t tenant_id,
                                             const std::string& slug, const std::string& name,
                                             core::UnixNanos now);
  static core::Result<std::optional<Project>> FindProject(store::Tx& tx, int64_t tenant_id,
                                                          std::string_view ref);
  static core::Result<std::vector<Project>> ListProjects(store::Tx& tx, int64_t tenant_id);
  static core::Status DeleteProject(store::Tx& tx, int64_t tenant_id, int64_t project_id);

  // Members.
  static core::Result<std::optional<Member>> GetMember(store::Tx& tx, int64_t tenant_id,
                                                       int64_t user_id);
  static core::Status UpsertMember(store::Tx& tx, int64_t tenant_id, int64_t user_id,
                                   core::Role role, core::UnixNanos now);
  static core::Status DeleteMember(store::Tx& tx, int64_t tenant_id, int64_t user_id);
  static core::Result<std::vector<Member>> ListMembers(store::Tx& tx, int64_t tenant_id);
  // Memberships of a user in tenants that are not disabled.
  static core::Result<std::vector<core::TenantMembership>> MembershipsOf(store::Tx& tx,
                                                                         int64_t user_id);

  // Quotas. `resources` empty: all of them; `project_id` none: every level.
  static core::Result<std::vector<Quota>> LoadQuotas(store::Tx& tx,
                                                     const std::vector<int64_t>& tenant_ids,
                                                     std::optional<int64_t> project_id,
                                                     const std::vector<std::string>& resources);
  static core::Status UpsertQuota(store::Tx& tx, const Quota& q, core::UnixNanos now);

  // Usage counters, same filters as LoadQuotas; `lock` adds FOR UPDATE on PostgreSQL.
  static core::Result<std::vector<UsageRow>> LoadUsage(store::Tx& tx,
                                                       const std::vector<int64_t>& tenant_ids,
                                                       std::optional<int64_t> project_id,
                                                       const std::vector<std::string>& resources,
                                                       bool lock, store::Backend backend);
  // Writes these counters (distinct keys) in one statement.
  static core::Status UpsertUsage(store::Tx& tx, const std::vector<UsageRow>& rows,
                                  core::UnixNanos now);

  // Reservations.
  static core::Result<int64_t> InsertReservation(store::Tx& tx, const Reservation& r);
  static core::Result<std::optional<Reservation>> GetReservation(store::Tx& tx, int64_t id);
  static core::Result<std::vector<Reservation>> ListReservations(
      store::Tx& tx, int64_t tenant_id, std::optional<std::string> state,
      std::optional<int64_t> before_id, int limit);
  // Active reservations of these tenants, newest first.
  static core::Result<std::vector<Reservation>> ActiveReservations(
      store::Tx& tx, const std::vector<int64_t>& tenant_ids);
  static core::Result<std::optional<int64_t>> ActiveByRef(store::Tx& tx, int64_t tenant_id,
                                                          const std::string& ref);
  // Active reservations of a tenant (project_id set: of one project).
  static core::Result<int64_t> CountActive(store::Tx& tx, int64_t tenant_id,
                                           std::optional<int64_t> project_id);
  static core::Status FinishReservation(store::Tx& tx, int64_t id, const std::string& state,
                                        core::UnixNanos now);

  // Usage snapshots.
  static core::Status InsertSnapshot(store::Tx& tx, const Snapshot& s);
  // Snapshots of a tenant with from <= time <= to, plus the newest ones before `from` (the state
  // at `from`), ordered by time; `resource` set: only that one.
  static core::Result<std::vector<Snapshot>> Snapshots(store::Tx& tx, int64_t tenant_id,
                                                       core::UnixNanos from, core::UnixNanos to,
                                                       const std::optional<std::string>& resource);
  // `used` of the tenant's newest snapshot, by (project id, resource).
  static core::Result<std::map<std::pair<int64_t, std::string>, int64_t>> LatestUsed(
      store::Tx& tx, int64_t tenant_id);
  static core::Result<int64_t> DeleteSnapshotsBefore(store::Tx& tx, core::UnixNanos before);

  // History.
  // One history row per (quota, counter) pair, in one statement.
  static core::Status AppendHistory(store::Tx& tx,
                                    const std::vector<std::pair<Quota, UsageRow>>& rows,
                                    core::UnixNanos now);
  static core::Result<std::vector<HistoryPoint>> History(store::Tx& tx, int64_t tenant_id,
                                                         std::optional<int64_t> project_id,
                                                         const HistoryFilter& f);
};

}  // namespace gantry::tenancy
