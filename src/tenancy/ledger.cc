#include "tenancy/ledger.h"

#include <algorithm>

namespace gantry::tenancy {

std::string SumText(Sum v) {
  if (v == 0) return "0";
  bool negative = v < 0;
  std::string out;
  for (; v != 0; v /= 10) out.insert(out.begin(), static_cast<char>('0' + (negative ? -(v % 10) : v % 10)));
  return negative ? "-" + out : out;
}

core::Status Ledger::Load(const std::vector<int64_t>& tenant_ids, std::optional<int64_t> project_id,
                          const std::vector<std::string>& resources) {
  GANTRY_TRY(auto quotas, Store::LoadQuotas(tx_, tenant_ids, project_id, resources));
  for (auto& q : quotas) {
    quotas_.try_emplace(Key{q.tenant_id, q.project_id, q.resource}, q);
  }
  GANTRY_TRY(auto usage, Store::LoadUsage(tx_, tenant_ids, project_id, resources, lock_, backend_));
  for (auto& u : usage) {
    usage_.try_emplace(Key{u.tenant_id, u.project_id, u.resource}, u);
  }
  return {};
}

const Quota* Ledger::QuotaOf(int64_t tenant_id, int64_t project_id,
                             const std::string& resource) const {
  auto it = quotas_.find(Key{tenant_id, project_id, resource});
  return it == quotas_.end() ? nullptr : &it->second;
}

int64_t Ledger::Reserved(int64_t tenant_id, int64_t project_id, const std::string& resource) const {
  auto it = usage_.find(Key{tenant_id, project_id, resource});
  return it == usage_.end() ? 0 : it->second.reserved;
}

int64_t Ledger::Guaranteed(int64_t tenant_id, int64_t project_id,
                           const std::string& resource) const {
  const Quota* q = QuotaOf(tenant_id, project_id, resource);
  return q ? q->guaranteed : 0;
}

int64_t Ledger::Borrowed(int64_t tenant_id, int64_t project_id, const std::string& resource) const {
  const Quota* q = QuotaOf(tenant_id, project_id, resource);
  if (project_id != 0 && !q) return 0;
  return std::max<int64_t>(0, Reserved(tenant_id, project_id, resource) - (q ? q->guaranteed : 0));
}

std::vector<Quota> Ledger::ProjectQuotas(int64_t tenant_id, const std::string& resource) const {
  std::vector<Quota> out;
  for (const auto& [key, q] : quotas_) {
    if (q.tenant_id == tenant_id && q.project_id != 0 && q.resource == resource) out.push_back(q);
  }
  return out;
}

std::vector<std::pair<int64_t, std::string>> Ledger::Levels(int64_t tenant_id) const {
  std::set<std::pair<int64_t, std::string>> out;
  for (const auto& [key, q] : quotas_) {
    if (q.tenant_id == tenant_id) out.insert({q.project_id, q.resource});
  }
  for (const auto& [key, u] : usage_) {
    if (u.tenant_id == tenant_id) out.insert({u.project_id, u.resource});
  }
  return {out.begin(), out.end()};
}

std::set<std::string> Ledger::Resources() const {
  std::set<std::string> out;
  for (const auto& [key, q] : quotas_) out.insert(q.resource);
  for (const auto& [key, u] : usage_) out.insert(u.resource);
  return out;
}

std::optional<std::string> Ledger::Overcommitted(const std::vector<int64_t>& ids,
                                                 std::string* detail) const {
  for (const auto& r : Resources()) {
    Sum reserved = 0, guaranteed = 0;
    for (auto id : ids) {
      reserved += Reserved(id, 0, r);
      guaranteed += Guaranteed(id, 0, r);
    }
    if (reserved > guaranteed) {
      if (detail) {
        *detail = "reserved " + SumText(reserved) + ", guaranteed " + SumText(guaranteed);
      }
      return r;
    }
  }
  return std::nullopt;
}

void Ledger::Add(int64_t tenant_id, int64_t project_id, const std::string& resource,
                 int64_t delta) {
  Key key{tenant_id, project_id, resource};
  auto [it, _] = usage_.try_emplace(key, UsageRow{tenant_id, project_id, resource, 0, 0});
  // Never below zero, even if the counters were edited by hand.
  it->second.reserved = std::max<int64_t>(0, it->second.reserved + delta);
  dirty_.insert(key);
}

void Ledger::SetQuota(const Quota& q) {
  Key key{q.tenant_id, q.project_id, q.resource};
  quotas_[key] = q;
  usage_.try_emplace(key, UsageRow{q.tenant_id, q.project_id, q.resource, 0, 0});
  dirty_.insert(key);
}

core::Status Ledger::Flush(core::UnixNanos now) {
  // One statement for the counters and one for their history rows.
  std::vector<UsageRow> rows;
  std::vector<std::pair<Quota, UsageRow>> history;
  for (const auto& key : dirty_) {
    UsageRow& u = usage_.at(key);
    u.borrowed = Borrowed(u.tenant_id, u.project_id, u.resource);
    rows.push_back(u);
    const Quota* q = QuotaOf(u.tenant_id, u.project_id, u.resource);
    history.emplace_back(q ? *q : Quota{u.tenant_id, u.project_id, u.resource, 0, std::nullopt},
                         u);
  }
  GANTRY_TRY_STATUS(Store::UpsertUsage(tx_, rows, now));
  GANTRY_TRY_STATUS(Store::AppendHistory(tx_, history, now));
  dirty_.clear();
  return {};
}

}  // namespace gantry::tenancy
