// SQL for metering and billing (store_sql.cc is the only file with their SQL). Every function
// runs inside the caller's transaction.
#pragma once

#include <map>
#include <optional>
#include <set>
#include <string>
#include <tuple>
#include <vector>

#include "metering/types.h"
#include "store/database.h"

namespace gantry::metering {

// A record resolved to ids, as stored.
struct StoredRecord {
  std::string key;
  int64_t tenant_id = 0;
  int64_t project_id = 0;
  std::string sku;
  std::string kind;
  int64_t quantity = 0;
  core::UnixNanos start = 0, end = 0;
  std::string source;
};

// (tenant_id, project_id, sku, kind, bucket start) → quantity.
using RollupKey = std::tuple<int64_t, int64_t, std::string, std::string, core::UnixNanos>;
using Rollups = std::map<RollupKey, int64_t>;

struct RollupRow {
  int64_t tenant_id = 0;
  int64_t project_id = 0;
  std::string sku;
  std::string kind;
  core::UnixNanos bucket = 0;
  int64_t quantity = 0;
};

struct RollupQuery {
  std::vector<int64_t> tenant_ids;  // empty: every tenant
  std::optional<int64_t> project_id;
  std::optional<std::string> sku;
  std::optional<std::string> kind;
  core::UnixNanos since = 0, until = 0;  // bucket in [since, until)
  bool daily = false;
};

class Store {
 public:
  // ---- price book ----
  static core::Status EnsureSkus(store::Tx& tx, const std::vector<Sku>& skus, core::UnixNanos now);
  static core::Result<std::vector<Sku>> ListSkus(store::Tx& tx);
  static core::Status UpsertSku(store::Tx& tx, const Sku& s, core::UnixNanos now);
  static core::Result<int64_t> InsertPrice(store::Tx& tx, const Price& p, core::UnixNanos now);
  // Every price of `sku` (all SKUs when empty), by SKU then effective_from.
  static core::Result<std::vector<Price>> ListPrices(store::Tx& tx, const std::string& sku);

  // ---- usage ----
  // False when the key was already there (a replay).
  static core::Result<bool> InsertRecord(store::Tx& tx, const StoredRecord& r, core::UnixNanos now);
  // Inserts many records (multi-row statements); returns the keys inserted now (the others were
  // there already).
  static core::Result<std::set<std::string>> InsertRecords(store::Tx& tx,
                                                           const std::vector<StoredRecord>& records,
                                                           core::UnixNanos now);
  // Tenants by reference (id or slug): ref → (id, slug); unknown refs are absent.
  static core::Result<std::map<std::string, std::pair<int64_t, std::string>, std::less<>>>
  ResolveTenants(store::Tx& tx, const std::set<std::string>& refs);
  // Projects of these tenants: (tenant id, slug or id as text) → project id.
  static core::Result<std::map<std::pair<int64_t, std::string>, int64_t>> ProjectsOf(
      store::Tx& tx, const std::set<int64_t>& tenant_ids);
  // (tenant id, month start) of live invoices (see LiveInvoices) of these months.
  static core::Result<std::set<std::pair<int64_t, core::UnixNanos>>> InvoicedMonths(
      store::Tx& tx, const std::set<core::UnixNanos>& months);
  static core::Status InsertQuarantine(store::Tx& tx, const std::string& key,
                                       const std::string& source, std::string_view reason,
                                       const std::string& detail, const std::string& record,
                                       core::UnixNanos now);
  // Adds the increments to usage_hourly, and their day sums to usage_daily.
  static core::Status AddRollups(store::Tx& tx, const Rollups& hourly);
  static core::Result<std::vector<RollupRow>> QueryRollups(store::Tx& tx, const RollupQuery& q);
  // Sums of a tenant's hourly roll-ups in [since, until) per (project, SKU, kind), summed by the
  // database: quantity, first bucket (in `bucket`) and last bucket (in `last`).
  struct RollupSum {
    int64_t project_id = 0;
    std::string sku, kind;
    int64_t quantity = 0;
    core::UnixNanos first = 0, last = 0;
  };
  static core::Result<std::vector<RollupSum>> SumRollups(store::Tx& tx, int64_t tenant_id,
                                                         std::optional<int64_t> project_id,
                                                         core::UnixNanos since,
                                                         core::UnixNanos until);
  static core::Result<std::vector<Quarantined>> ListQuarantine(store::Tx& tx,
                                                               std::optional<std::string> reason,
                                                               std::optional<int64_t> before_id,
                                                               int limit);

  // ---- remote-write counter state ----
  // The series log's rows (packed states, base64url), oldest first.
  static core::Result<std::vector<std::string>> LoadSeriesLog(store::Tx& tx);
  static core::Status AppendSeriesLog(store::Tx& tx, const std::string& blob, core::UnixNanos now);
  // Replaces the whole log with these rows (a snapshot).
  static core::Status ReplaceSeriesLog(store::Tx& tx, const std::vector<std::string>& blobs,
                                       core::UnixNanos now);

  // ---- allocations (lifecycle events) ----
  struct Allocation {
    int64_t id = 0;
    std::string key;
    int64_t tenant_id = 0, project_id = 0;
    std::string sku, resource;
    int64_t quantity = 0;
    core::UnixNanos started_at = 0;
    std::optional<core::UnixNanos> stopped_at;
    core::UnixNanos billed_until = 0;
  };
  static core::Result<bool> InsertAllocation(store::Tx& tx, const Allocation& a);
  // The open allocation of `resource` in the tenant (none when stopped or unknown).
  static core::Result<std::optional<Allocation>> OpenAllocation(store::Tx& tx, int64_t tenant_id,
                                                                const std::string& resource);
  static core::Result<std::vector<Allocation>> OpenAllocations(store::Tx& tx, int64_t tenant_id,
                                                               core::UnixNanos started_before);
  static core::Status AdvanceAllocation(store::Tx& tx, int64_t id, core::UnixNanos billed_until,
                                        std::optional<core::UnixNanos> stopped_at);

  // ---- discounts ----
  static core::Result<int64_t> InsertDiscount(store::Tx& tx, const Discount& d,
                                              const std::string& by, core::UnixNanos now);
  static core::Result<std::vector<Discount>> ListDiscounts(store::Tx& tx, int64_t tenant_id);
  static core::Status DeleteDiscount(store::Tx& tx, int64_t tenant_id, int64_t id);

  // ---- invoices ----
  static core::Result<int64_t> InsertInvoice(store::Tx& tx, const Invoice& inv);
  static core::Result<std::optional<Invoice>> GetInvoice(store::Tx& tx, int64_t id);
  static core::Result<std::vector<Invoice>> ListInvoices(store::Tx& tx,
                                                         std::optional<int64_t> tenant_id,
                                                         std::optional<core::UnixNanos> period);
  // Invoices of the tenant's period that no full credit note (total = −invoice total) reverses.
  static core::Result<int64_t> LiveInvoices(store::Tx& tx, int64_t tenant_id,
                                            core::UnixNanos period_start);
  static core::Result<int64_t> NextInvoiceSeq(store::Tx& tx);

  // ---- budgets ----
  static core::Result<int64_t> UpsertBudget(store::Tx& tx, const Budget& b, core::UnixNanos now);
  static core::Result<std::vector<Budget>> ListBudgets(store::Tx& tx,
                                                       std::optional<int64_t> tenant_id);
  static core::Status DeleteBudget(store::Tx& tx, int64_t id);
  // The tenants with at least one budget (their own or a project's).
  static core::Result<std::set<int64_t>> BudgetedTenants(store::Tx& tx);
  // The budgets of these tenants (and of their projects), one query per 500 tenants.
  static core::Result<std::vector<Budget>> BudgetsOfTenants(store::Tx& tx,
                                                           const std::set<int64_t>& tenant_ids);
  static core::Result<std::vector<int64_t>> BudgetAlerts(store::Tx& tx, int64_t budget_id,
                                                         core::UnixNanos period_start);
  // False when that alert was raised already.
  static core::Result<bool> InsertBudgetAlert(store::Tx& tx, int64_t budget_id,
                                              core::UnixNanos period_start, int64_t threshold,
                                              int64_t spent, int64_t limit, core::UnixNanos now);
};

}  // namespace gantry::metering
