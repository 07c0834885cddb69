// Ledger: the quota and usage rows of one locked scope (a cohort, or a tenant without one),
// held in memory for the length of one write transaction. Rows are loaded once (usage rows with
// FOR UPDATE on PostgreSQL), changed in memory, and written back by Flush() — each changed
// usage row with its `borrowed` recomputed and one quota_history row.
//
// Only use a Ledger while holding the scope lock (Service::LockScope): the rows it reads must
// not change under it. Not thread-safe; one per transaction.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "tenancy/store.h"

namespace gantry::tenancy {

// Sums over a cohort are computed in 128 bits (every amount is at most kMaxAmount = 2^60).
using Sum = __int128;
std::string SumText(Sum v);

class Ledger {
 public:
  // `lock`: read usage rows with FOR UPDATE (PostgreSQL); false for read-only views.
  Ledger(store::Tx& tx, store::Backend backend, bool lock = true)
      : tx_(tx), backend_(backend), lock_(lock) {}

  // Loads the rows of these tenants (one level when `project_id` is set, else every level) for
  // these resources (empty: all). Rows already in memory keep their in-memory values.
  core::Status Load(const std::vector<int64_t>& tenant_ids, std::optional<int64_t> project_id,
                    const std::vector<std::string>& resources);

  // The quota row, or null when there is none.
  const Quota* QuotaOf(int64_t tenant_id, int64_t project_id, const std::string& resource) const;
  int64_t Reserved(int64_t tenant_id, int64_t project_id, const std::string& resource) const;
  // Guaranteed at that level, 0 without a quota row.
  int64_t Guaranteed(int64_t tenant_id, int64_t project_id, const std::string& resource) const;
  // reserved - guaranteed when positive (project level without quota: 0).
  int64_t Borrowed(int64_t tenant_id, int64_t project_id, const std::string& resource) const;
  // Project-level quota rows of a tenant for one resource.
  std::vector<Quota> ProjectQuotas(int64_t tenant_id, const std::string& resource) const;
  // (project id, resource) of every quota or usage row of a tenant, ordered.
  std::vector<std::pair<int64_t, std::string>> Levels(int64_t tenant_id) const;
  // Every resource with a quota or usage row in memory.
  std::set<std::string> Resources() const;
  // The first resource for which the tenants `ids` together reserve more than they guarantee,
  // with "reserved R, guaranteed G" in `detail`.
  std::optional<std::string> Overcommitted(const std::vector<int64_t>& ids,
                                           std::string* detail) const;

  void Add(int64_t tenant_id, int64_t project_id, const std::string& resource, int64_t delta);
  void SetQuota(const Quota& q);

  // Writes every changed row back, with a history row each.
  core::Status Flush(core::UnixNanos now);

 private:
  using Key = std::tuple<int64_t, int64_t, std::string>;
  store::Tx& tx_;
  store::Backend backend_;
  bool lock_;
  std::map<Key, Quota> quotas_;
  std::map<Key, UsageRow> usage_;
  std::set<Key> dirty_;
};

}  // namespace gantry::tenancy
