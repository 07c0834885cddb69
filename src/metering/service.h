// The metering service: ingest of usage records from every source, the roll-ups, the
// quarantine, the price book and the lifecycle allocations.
//
// Ingest contract (Ingest / IngestResolved):
//   - one write transaction per batch: every record's key, its roll-up increments, the
//     quarantine rows and (remote-write) the series counter state commit together or not at
//     all, so a crash or restart during ingest neither loses nor double-counts;
//   - a key already stored is a duplicate and counts nothing (a replayed batch counts once);
//   - records are accepted in any order as long as they end within `late_window` of now;
//     older ones, ones starting more than `future_skew` ahead, unknown tenants, projects or
//     SKUs, bad kinds, quantities and intervals, and records for a month already invoiced are
//     quarantined with the reason (usage_quarantine, gantry_metering_quarantined_total).
// Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "audit/service.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "core/principal.h"
#include "metering/store.h"
#include "metering/types.h"
#include "store/database.h"

namespace gantry::metering {

struct Options {
  int64_t late_window = 7 * kNanosPerDay;
  int64_t future_skew = 5 * 60 * core::kNanosPerSecond;
  std::string currency = "USD";
  int max_records_per_batch = 10000;
};

// A lifecycle event of a bare-metal lease or portal instance.
struct AllocationEvent {
  std::string key;       // idempotency key of the event
  std::string tenant;
  std::string project;
  std::string resource;  // the node or instance name
  std::string sku = "baremetal-node-hour";
  std::string event;     // start or stop
  int64_t quantity = 1;  // nodes or instances
  core::UnixNanos time = 0;
};

// Summed usage for the usage API.
struct UsageRow {
  std::string tenant, project, sku, kind;
  core::UnixNanos bucket = 0;
  int64_t quantity = 0;
};

struct UsageQuery {
  std::optional<std::string> tenant, project, sku, kind;
  core::UnixNanos since = 0, until = 0;
  bool daily = false;
};

class Service {
 public:
  Service(store::Database& db, const audit::Service& audit, const core::Clock& clock,
          core::MetricsRegistry* metrics, Options options = {});

  // Creates the default SKUs that are missing.
  core::Status Init();
  const Options& options() const { return options_; }
  store::Database& db() { return db_; }
  const core::Clock& clock() const { return clock_; }

  // Records posted through the API (metering.write); audited as one event per batch.
  core::Result<IngestResult> Ingest(const core::RequestContext& rc, const std::string& source,
                                    const std::vector<UsageRecord>& records);
  // The ingest core for machine sources (remote-write, Slurm, lifecycle): `extra` runs inside
  // the same transaction before commit (series state, allocation markers).
  core::Result<IngestResult> IngestSystem(const std::string& source,
                                          const std::vector<UsageRecord>& records,
                                          const std::function<core::Status(store::Tx&)>& extra = {});
  // Several batches in one transaction (group commit of concurrent remote-write requests): one
  // result per batch, all committed or none.
  core::Result<std::vector<IngestResult>> IngestGroup(
      const std::string& source, const std::vector<std::vector<UsageRecord>>& batches,
      const std::function<core::Status(store::Tx&)>& extra = {});
  // Runs the ingest of `records` inside an open transaction (the invoice closes allocations
  // this way). Metrics are added by the caller after commit through CountResult.
  // `late_window` false: records of any age are accepted (usage of lifecycle allocations, which
  // is emitted when the allocation stops or its month is invoiced, however long it ran).
  core::Result<IngestResult> IngestInTx(store::Tx& tx, const std::string& source,
                                        const std::vector<UsageRecord>& records,
                                        core::UnixNanos now, bool late_window = true);
  void CountResult(const std::string& source, const IngestResult& r);
  // A body refused before any record was looked at (4xx): counted per source and reason.
  void CountRejected(const std::string& source, const std::string& reason);

  core::Result<IngestResult> PostAllocationEvent(const core::RequestContext& rc,
                                                 const AllocationEvent& e);
  // Emits usage of the tenant's open allocations up to `until` (an invoice's period end).
  core::Status CloseAllocations(store::Tx& tx, int64_t tenant_id, core::UnixNanos until,
                                core::UnixNanos now, IngestResult* result);

  core::Result<std::vector<UsageRow>> Usage(const core::RequestContext& rc, const UsageQuery& q);
  core::Result<std::vector<Quarantined>> Quarantine(const core::RequestContext& rc,
                                                    std::optional<std::string> reason,
                                                    std::optional<int64_t> before, int limit);

  // ---- price book (prices.write to change; everyone reads) ----
  core::Result<std::vector<Sku>> Skus();
  core::Result<Sku> SetSkuPolicy(const core::RequestContext& rc, const std::string& sku,
                                 const std::string& policy);
  core::Result<Price> AddPrice(const core::RequestContext& rc, Price p);
  core::Result<std::vector<Price>> Prices(const std::string& sku);

  // Runs inside every ingest transaction whose records added usage, with the (tenant id,
  // project id; 0: none) pairs that grew: Billing raises budget alerts there, in the same
  // transaction. Set once before serving (not synchronised).
  using UsageHook = std::function<core::Status(
      store::Tx&, const std::set<std::pair<int64_t, int64_t>>&, core::UnixNanos now)>;
  void SetUsageHook(UsageHook hook) { usage_hook_ = std::move(hook); }

  // Test hook: runs just before a batch commits; an error aborts the batch (a simulated crash).
  std::function<core::Status()> before_commit_for_test;

 private:
  core::Status CheckWrite(const core::RequestContext& rc) const;
  // The SKU names (cached: SKUs are only ever added; `reload` refreshes after a miss).
  core::Result<std::shared_ptr<const std::set<std::string, std::less<>>>> SkuNames(store::Tx& tx,
                                                                                   bool reload);

  store::Database& db_;
  const audit::Service& audit_;
  const core::Clock& clock_;
  Options options_;
  core::CounterFamily* records_ = nullptr;
  core::CounterFamily* quarantined_ = nullptr;
  core::CounterFamily* rejected_ = nullptr;
  std::mutex sku_mu_;
  std::shared_ptr<const std::set<std::string, std::less<>>> sku_names_;
  UsageHook usage_hook_;
};

// True when the caller sees every tenant's usage and bills.
bool SeesAll(const core::Principal& p);

}  // namespace gantry::metering
