#include "metering/service.h"

#include <set>

#include "auth/policy.h"
#include "tenancy/store.h"

namespace gantry::metering {

bool SeesAll(const core::Principal& p) {
  return auth::SeesAllTenants(p) || p.auth_method == "system";
}

namespace {

core::Status Require(const core::RequestContext& rc, std::string_view action) {
  if (rc.principal.auth_method == "system" || auth::Allowed(rc.principal, action)) return {};
  return core::PermissionDenied("not allowed: " + std::string(action));
}

constexpr int64_t kMaxInterval = 31 * kNanosPerDay;

}  // namespace

Service::Service(store::Database& db, const audit::Service& audit, const core::Clock& clock,
                 core::MetricsRegistry* metrics, Options options)
    : db_(db), audit_(audit), clock_(clock), options_(std::move(options)) {
  if (metrics) {
    records_ = &metrics->Counter("gantry_metering_records_total",
                                 "Usage records received, by source and result "
                                 "(accepted, duplicate, quarantined).",
                                 {"source", "result"});
    quarantined_ = &metrics->Counter("gantry_metering_quarantined_total",
                                     "Usage records quarantined, by reason.", {"reason"});
    rejected_ = &metrics->Counter("gantry_metering_rejected_total",
                                  "Metering bodies refused before ingest (4xx), by source and "
                                  "reason.",
                                  {"source", "reason"});
    for (Reason r : AllReasons()) quarantined_->Inc({std::string(ReasonName(r))}, 0);
  }
}

core::Status Service::Init() {
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY_STATUS(Store::EnsureSkus(*tx, DefaultSkus(), clock_.Now()));
  GANTRY_TRY_STATUS(tx->Commit());
  std::lock_guard lock(sku_mu_);
  sku_names_.reset();
  return {};
}

core::Status Service::CheckWrite(const core::RequestContext& rc) const {
  return Require(rc, "metering.write");
}

void Service::CountResult(const std::string& source, const IngestResult& r) {
  if (!records_) return;
  records_->Inc({source, "accepted"}, static_cast<double>(r.accepted));
  records_->Inc({source, "duplicate"}, static_cast<double>(r.duplicates));
  records_->Inc({source, "quarantined"}, static_cast<double>(r.quarantined));
  for (const auto& [key, reason] : r.quarantine) quarantined_->Inc({reason});
}

void Service::CountRejected(const std::string& source, const std::string& reason) {
  if (rejected_) rejected_->Inc({source, reason});
}

core::Result<std::shared_ptr<const std::set<std::string, std::less<>>>> Service::SkuNames(
    store::Tx& tx, bool reload) {
  {
    std::lock_guard lock(sku_mu_);
    if (sku_names_ && !reload) return sku_names_;
  }
  GANTRY_TRY(auto skus, Store::ListSkus(tx));
  auto names = std::make_shared<std::set<std::string, std::less<>>>();
  for (const auto& s : skus) names->insert(s.name);
  std::lock_guard lock(sku_mu_);
  sku_names_ = names;
  return sku_names_;
}

core::Result<IngestResult> Service::IngestInTx(store::Tx& tx, const std::string& source,
                                               const std::vector<UsageRecord>& records,
                                               core::UnixNanos now, bool late_window) {
  IngestResult result;
  GANTRY_TRY(auto skus, SkuNames(tx, false));
  auto quarantine = [&](const UsageRecord& r, Reason reason, std::string detail) -> core::Status {
    // A replay of a record counted before (now late, or in an invoiced month) is a duplicate.
    GANTRY_TRY(auto known, tx.Exec("SELECT 1 FROM usage_records WHERE key = ?", {r.key}));
    if (!known.rows.empty()) {
      ++result.duplicates;
      return {};
    }
    ++result.quarantined;
    result.quarantine.emplace_back(r.key, std::string(ReasonName(reason)));
    return Store::InsertQuarantine(tx, r.key, source, ReasonName(reason), detail,
                                   core::ToJson(ToJson(r)), now);
  };

  // 1. Checks that need no lookups; the tenants, projects and months to look up.
  std::vector<const UsageRecord*> candidates;
  std::set<std::string> seen, tenant_refs;
  bool reloaded = false;
  for (const auto& r : records) {
    GANTRY_TRY_STATUS(ValidateKey(r.key));
    if (!seen.insert(r.key).second) {
      ++result.duplicates;
      continue;
    }
    if (r.quantity < 0 || r.quantity > kMaxQuantity) {
      GANTRY_TRY_STATUS(quarantine(r, Reason::kBadQuantity, "quantity must be 0..2^60"));
      continue;
    }
    if (r.end < r.start || r.end - r.start > kMaxInterval) {
      GANTRY_TRY_STATUS(quarantine(r, Reason::kBadInterval, "end before start or longer than 31 days"));
      continue;
    }
    if (r.kind != kAllocated && r.kind != kUsed) {
      GANTRY_TRY_STATUS(quarantine(r, Reason::kBadKind, "kind must be allocated or used"));
      continue;
    }
    if (r.start > now + options_.future_skew) {
      GANTRY_TRY_STATUS(quarantine(r, Reason::kClockSkew, "starts in the future (clock skew)"));
      continue;
    }
    if (!skus->count(r.sku) && !reloaded) {
      GANTRY_TRY(skus, SkuNames(tx, true));  // SKUs are only ever added
      reloaded = true;
    }
    if (!skus->count(r.sku)) {
      GANTRY_TRY_STATUS(quarantine(r, Reason::kUnknownSku, "no SKU '" + r.sku.substr(0, 64) + "'"));
      continue;
    }
    candidates.push_back(&r);
    tenant_refs.insert(r.tenant);
  }
  if (candidates.empty()) return result;

  // 2. Tenants, projects and invoiced months, one query each for the whole batch.
  GANTRY_TRY(auto tenants, Store::ResolveTenants(tx, tenant_refs));
  std::set<int64_t> with_projects;
  std::set<core::UnixNanos> months;
  for (const auto* r : candidates) {
    auto t = tenants.find(r->tenant);
    if (t == tenants.end()) continue;
    if (!r->project.empty()) with_projects.insert(t->second.first);
    months.insert(MonthOf(r->start).first);
    months.insert(MonthOf(r->end <= r->start ? r->start : r->end - 1).first);
  }
  std::map<std::pair<int64_t, std::string>, int64_t> projects;
  if (!with_projects.empty()) {
    GANTRY_TRY(projects, Store::ProjectsOf(tx, with_projects));
  }
  GANTRY_TRY(auto invoiced, Store::InvoicedMonths(tx, months));

  // 3. The rest of the rules, then one multi-row insert; the keys inserted now are counted.
  std::vector<StoredRecord> rows;
  rows.reserve(candidates.size());
  for (const auto* r : candidates) {
    auto t = tenants.find(r->tenant);
    if (t == tenants.end()) {
      GANTRY_TRY_STATUS(
          quarantine(*r, Reason::kUnknownTenant, "no tenant '" + r->tenant.substr(0, 64) + "'"));
      continue;
    }
    auto [tenant_id, slug] = t->second;
    int64_t project_id = 0;
    if (!r->project.empty()) {
      auto p = projects.find({tenant_id, r->project});
      if (p == projects.end()) {
        GANTRY_TRY_STATUS(quarantine(*r, Reason::kUnknownProject,
                                     "no project '" + r->project.substr(0, 64) + "' in tenant '" +
                                         slug + "'"));
        continue;
      }
      project_id = p->second;
    }
    if (invoiced.count({tenant_id, MonthOf(r->start).first}) ||
        invoiced.count({tenant_id, MonthOf(r->end <= r->start ? r->start : r->end - 1).first})) {
      GANTRY_TRY_STATUS(quarantine(*r, Reason::kPeriodInvoiced,
                                   "the month is invoiced; correct it with a credit note"));
      continue;
    }
    if (late_window && r->end < now - options_.late_window) {
      GANTRY_TRY_STATUS(quarantine(*r, Reason::kLate, "older than the late window"));
      continue;
    }
    rows.push_back(StoredRecord{r->key, tenant_id, project_id, r->sku, r->kind, r->quantity,
                                r->start, r->end, source});
  }
  GANTRY_TRY(auto inserted, Store::InsertRecords(tx, rows, now));
  Rollups hourly;
  std::set<std::pair<int64_t, int64_t>> grown;
  for (const auto& r : rows) {
    if (!inserted.count(r.key)) {
      ++result.duplicates;
      continue;
    }
    ++result.accepted;
    if (r.quantity > 0) grown.emplace(r.tenant_id, r.project_id);
    for (const auto& [hour, q] : SplitByHour(r.quantity, r.start, r.end)) {
      if (q) hourly[{r.tenant_id, r.project_id, r.sku, r.kind, hour}] += q;
    }
  }
  GANTRY_TRY_STATUS(Store::AddRollups(tx, hourly));
  if (usage_hook_ && !grown.empty()) GANTRY_TRY_STATUS(usage_hook_(tx, grown, now));
  return result;
}

core::Result<IngestResult> Service::IngestSystem(
    const std::string& source, const std::vector<UsageRecord>& records,
    const std::function<core::Status(store::Tx&)>& extra) {
  if (static_cast<int>(records.size()) > options_.max_records_per_batch) {
    return core::InvalidArgument("at most " + std::to_string(options_.max_records_per_batch) +
                                 " records per batch");
  }
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto result, IngestInTx(*tx, source, records, now));
  if (extra) GANTRY_TRY_STATUS(extra(*tx));
  if (before_commit_for_test) GANTRY_TRY_STATUS(before_commit_for_test());
  GANTRY_TRY_STATUS(tx->Commit());
  CountResult(source, result);
  return result;
}

core::Result<std::vector<IngestResult>> Service::IngestGroup(
    const std::string& source, const std::vector<std::vector<UsageRecord>>& batches,
    const std::function<core::Status(store::Tx&)>& extra) {
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  std::vector<IngestResult> results;
  for (const auto& b : batches) {
    GANTRY_TRY(auto r, IngestInTx(*tx, source, b, now));
    results.push_back(std::move(r));
  }
  if (extra) GANTRY_TRY_STATUS(extra(*tx));
  if (before_commit_for_test) GANTRY_TRY_STATUS(before_commit_for_test());
  GANTRY_TRY_STATUS(tx->Commit());
  for (const auto& r : results) CountResult(source, r);
  return results;
}

core::Result<IngestResult> Service::Ingest(const core::RequestContext& rc,
                                           const std::string& source,
                                           const std::vector<UsageRecord>& records) {
  GANTRY_TRY_STATUS(CheckWrite(rc));
  if (records.empty() || static_cast<int>(records.size()) > options_.max_records_per_batch) {
    return core::InvalidArgument("a batch holds 1-" +
                                     std::to_string(options_.max_records_per_batch) + " records",
                                 "records");
  }
  return IngestSystem(source, records, [&](store::Tx& tx) -> core::Status {
    auto e = audit::Service::MakeEvent(rc, "usage.ingest", "usage", source,
                                       {{"records", static_cast<int64_t>(records.size())},
                                        {"first_key", records.front().key}});
    return audit_.Append(tx, std::move(e));
  });
}

// ---- lifecycle allocations -----------------------------------------------------------------

namespace {

// Usage of an allocation over [from, to), split at month boundaries (each month its own record,
// so an invoice closes exactly its month).
std::vector<UsageRecord> AllocationUsage(const Store::Allocation& a, const std::string& tenant,
                                         const std::string& project, core::UnixNanos from,
                                         core::UnixNanos to) {
  std::vector<UsageRecord> out;
  while (from < to) {
    auto month_end = MonthOf(from).second;
    core::UnixNanos upto = std::min(month_end, to);
    __int128 q = static_cast<__int128>(a.quantity) * (upto - from) / 1'000'000;  // milli-seconds
    out.push_back(UsageRecord{"alloc:" + std::to_string(a.id) + ":" + std::to_string(from),
                              tenant, project, a.sku, kAllocated, static_cast<int64_t>(q), from,
                              upto});
    from = upto;
  }
  return out;
}

}  // namespace

core::Result<IngestResult> Service::PostAllocationEvent(const core::RequestContext& rc,
                                                        const AllocationEvent& e) {
  GANTRY_TRY_STATUS(CheckWrite(rc));
  GANTRY_TRY_STATUS(ValidateKey(e.key));
  if (e.event != "start" && e.event != "stop") {
    return core::InvalidArgument("event must be start or stop", "event");
  }
  if (e.resource.empty() || e.resource.size() > 200) {
    return core::InvalidArgument("resource must be 1-200 characters", "resource");
  }
  if (e.quantity < 1 || e.quantity > 1'000'000) {
    return core::InvalidArgument("quantity must be 1-1000000", "quantity");
  }
  auto now = clock_.Now();
  if (e.time > now + options_.future_skew) {
    CountRejected("lifecycle", "clock_skew");
    return core::InvalidArgument("time is in the future (clock skew)", "time");
  }
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto tenant, tenancy::Store::FindTenant(*tx, e.tenant));
  if (!tenant) return core::NotFound("no tenant '" + e.tenant.substr(0, 64) + "'");
  int64_t project_id = 0;
  if (!e.project.empty()) {
    GANTRY_TRY(auto p, tenancy::Store::FindProject(*tx, tenant->id, e.project));
    if (!p) return core::NotFound("no project '" + e.project.substr(0, 64) + "'");
    project_id = p->id;
  }
  GANTRY_TRY(auto skus, Store::ListSkus(*tx));
  bool known = false;
  for (const auto& s : skus) known = known || s.name == e.sku;
  if (!known) return core::InvalidArgument("unknown SKU '" + e.sku.substr(0, 64) + "'", "sku");
  IngestResult result;
  if (e.event == "start") {
    GANTRY_TRY(auto open, Store::OpenAllocation(*tx, tenant->id, e.resource));
    if (open && open->key != e.key) {
      return core::Conflict("resource '" + e.resource + "' is already allocated (event " +
                            open->key + ")");
    }
    Store::Allocation a{0, e.key, tenant->id, project_id, e.sku, e.resource, e.quantity, e.time,
                        std::nullopt, e.time};
    GANTRY_TRY(bool inserted, Store::InsertAllocation(*tx, a));
    if (!inserted) ++result.duplicates;
  } else {
    GANTRY_TRY(auto open, Store::OpenAllocation(*tx, tenant->id, e.resource));
    if (!open) {
      // A replayed stop (already closed) is a duplicate; a stop without a start is an error.
      GANTRY_TRY(auto rs, tx->Exec("SELECT 1 FROM metering_allocations WHERE tenant_id = ? AND "
                                   "resource = ? AND stopped_at IS NOT NULL",
                                   {tenant->id, e.resource}));
      if (rs.rows.empty()) {
        return core::FailedPrecondition("resource '" + e.resource + "' has no open allocation");
      }
      ++result.duplicates;
    } else {
      core::UnixNanos stop = std::max(e.time, open->billed_until);
      auto records = AllocationUsage(*open, tenant->slug, e.project.empty() ? "" : e.project,
                                     open->billed_until, stop);
      GANTRY_TRY(auto r, IngestInTx(*tx, "lifecycle", records, now, false));
      result = r;
      GANTRY_TRY_STATUS(Store::AdvanceAllocation(*tx, open->id, stop, stop));
    }
  }
  auto ev = audit::Service::MakeEvent(rc, "usage.allocation." + e.event, "allocation",
                                      e.resource, {{"key", e.key}, {"sku", e.sku}});
  ev.tenant = tenant->slug;
  GANTRY_TRY_STATUS(audit_.Append(*tx, std::move(ev)));
  GANTRY_TRY_STATUS(tx->Commit());
  CountResult("lifecycle", result);
  return result;
}

core::Status Service::CloseAllocations(store::Tx& tx, int64_t tenant_id, core::UnixNanos until,
                                       core::UnixNanos now, IngestResult* result) {
  GANTRY_TRY(auto open, Store::OpenAllocations(tx, tenant_id, until));
  GANTRY_TRY(auto tenant, tenancy::Store::GetTenant(tx, tenant_id, false, db_.backend()));
  if (!tenant) return {};
  for (const auto& a : open) {
    if (a.billed_until >= until) continue;
    std::string project;
    if (a.project_id) {
      GANTRY_TRY(auto p, tenancy::Store::FindProject(tx, tenant_id, std::to_string(a.project_id)));
      if (p) project = p->slug;
    }
    auto records = AllocationUsage(a, tenant->slug, project, a.billed_until, until);
    GANTRY_TRY(auto r, IngestInTx(tx, "lifecycle", records, now, false));
    result->accepted += r.accepted;
    result->duplicates += r.duplicates;
    result->quarantined += r.quarantined;
    GANTRY_TRY_STATUS(Store::AdvanceAllocation(tx, a.id, until, std::nullopt));
  }
  return {};
}

// ---- queries ------------------------------------------------------------------------------

core::Result<std::vector<UsageRow>> Service::Usage(const core::RequestContext& rc,
                                                   const UsageQuery& q) {
  GANTRY_TRY_STATUS(Require(rc, "usage.read"));
  if (q.until <= q.since) return core::InvalidArgument("until must be after since", "until");
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  RollupQuery rq;
  rq.since = q.since;
  rq.until = q.until;
  rq.daily = q.daily;
  rq.sku = q.sku;
  rq.kind = q.kind;
  std::map<int64_t, std::string> tenant_slugs;
  if (q.tenant) {
    GANTRY_TRY(auto t, tenancy::Store::FindTenant(*tx, *q.tenant));
    bool visible = t && (SeesAll(rc.principal) ||
                         std::any_of(rc.principal.tenants.begin(), rc.principal.tenants.end(),
                                     [&](const auto& m) { return m.tenant_id == t->id; }));
    if (!visible) return core::NotFound("no tenant '" + q.tenant->substr(0, 64) + "'");
    rq.tenant_ids.push_back(t->id);
    if (q.project) {
      GANTRY_TRY(auto p, tenancy::Store::FindProject(*tx, t->id, *q.project));
      if (!p) return core::NotFound("no project '" + q.project->substr(0, 64) + "'");
      rq.project_id = p->id;
    }
  } else if (!SeesAll(rc.principal)) {
    for (const auto& m : rc.principal.tenants) rq.tenant_ids.push_back(m.tenant_id);
    if (rq.tenant_ids.empty()) return std::vector<UsageRow>{};
  }
  GANTRY_TRY(auto rows, Store::QueryRollups(*tx, rq));
  std::map<std::pair<int64_t, int64_t>, std::pair<std::string, std::string>> names;
  std::vector<UsageRow> out;
  out.reserve(rows.size());
  for (const auto& r : rows) {
    auto key = std::make_pair(r.tenant_id, r.project_id);
    auto it = names.find(key);
    if (it == names.end()) {
      GANTRY_TRY(auto t, tenancy::Store::GetTenant(*tx, r.tenant_id, false, db_.backend()));
      std::string project;
      if (r.project_id) {
        GANTRY_TRY(auto p, tenancy::Store::FindProject(*tx, r.tenant_id,
                                                       std::to_string(r.project_id)));
        if (p) project = p->slug;
      }
      it = names.emplace(key, std::make_pair(t ? t->slug : std::to_string(r.tenant_id), project))
               .first;
    }
    out.push_back({it->second.first, it->second.second, r.sku, r.kind, r.bucket, r.quantity});
  }
  return out;
}

core::Result<std::vector<Quarantined>> Service::Quarantine(const core::RequestContext& rc,
                                                           std::optional<std::string> reason,
                                                           std::optional<int64_t> before,
                                                           int limit) {
  GANTRY_TRY_STATUS(Require(rc, "usage.read"));
  if (!SeesAll(rc.principal)) {
    return core::PermissionDenied("the quarantine is for operators");
  }
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  return Store::ListQuarantine(*tx, reason, before, limit);
}

// ---- price book ---------------------------------------------------------------------------

core::Result<std::vector<Sku>> Service::Skus() {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  return Store::ListSkus(*tx);
}

core::Result<Sku> Service::SetSkuPolicy(const core::RequestContext& rc, const std::string& sku,
                                        const std::string& policy) {
  GANTRY_TRY_STATUS(Require(rc, "prices.write"));
  if (policy != kAllocated && policy != kUsed) {
    return core::InvalidArgument("policy must be allocated or used", "policy");
  }
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto skus, Store::ListSkus(*tx));
  for (auto s : skus) {
    if (s.name != sku) continue;
    std::string before = s.policy;
    s.policy = policy;
    GANTRY_TRY_STATUS(Store::UpsertSku(*tx, s, clock_.Now()));
    GANTRY_TRY_STATUS(audit_.Append(
        *tx, audit::Service::MakeEvent(rc, "price.sku.policy", "sku", sku,
                                       {{"before", before}, {"after", policy}})));
    GANTRY_TRY_STATUS(tx->Commit());
    return s;
  }
  return core::NotFound("no SKU '" + sku.substr(0, 64) + "'");
}

core::Result<Price> Service::AddPrice(const core::RequestContext& rc, Price p) {
  GANTRY_TRY_STATUS(Require(rc, "prices.write"));
  GANTRY_TRY_STATUS(ValidateSkuName(p.sku));
  if (p.unit_price_micros < 0 || p.unit_price_micros > (int64_t{1} << 50)) {
    return core::InvalidArgument("unit_price_micros must be 0..2^50", "unit_price_micros");
  }
  if (p.currency.empty()) p.currency = options_.currency;
  if (p.currency != options_.currency) {
    return core::InvalidArgument("the price book's currency is " + options_.currency, "currency");
  }
  p.created_by = rc.principal.username;
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto skus, Store::ListSkus(*tx));
  if (std::none_of(skus.begin(), skus.end(), [&](const Sku& s) { return s.name == p.sku; })) {
    return core::NotFound("no SKU '" + p.sku + "'");
  }
  GANTRY_TRY(auto existing, Store::ListPrices(*tx, p.sku));
  for (const auto& e : existing) {
    if (e.effective_from == p.effective_from) {
      return core::Conflict("SKU " + p.sku + " already has a price effective from " +
                            core::FormatRfc3339(p.effective_from));
    }
  }
  GANTRY_TRY(p.id, Store::InsertPrice(*tx, p, clock_.Now()));
  GANTRY_TRY_STATUS(audit_.Append(*tx, audit::Service::MakeEvent(rc, "price.create", "sku", p.sku,
                                                                 ToJson(p))));
  GANTRY_TRY_STATUS(tx->Commit());
  return p;
}

core::Result<std::vector<Price>> Service::Prices(const std::string& sku) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  return Store::ListPrices(*tx, sku);
}

}  // namespace gantry::metering
