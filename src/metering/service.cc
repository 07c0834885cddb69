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

// Caches of one batch: tenants, projects, SKUs and invoiced months looked up once.
struct Resolver {
  store::Tx& tx;
  std::map<std::string, std::optional<tenancy::Tenant>, std::less<>> tenants;
  std::map<std::pair<int64_t, std::string>, std::optional<int64_t>> projects;
  std::map<std::string, Sku, std::less<>> skus;
  std::map<std::pair<int64_t, core::UnixNanos>, bool> invoiced;

  core::Result<std::optional<tenancy::Tenant>> Tenant(const std::string& ref) {
    auto it = tenants.find(ref);
    if (it != tenants.end()) return it->second;
    GANTRY_TRY(auto t, tenancy::Store::FindTenant(tx, ref));
    tenants[ref] = t;
    return t;
  }
  core::Result<std::optional<int64_t>> Project(int64_t tenant_id, const std::string& ref) {
    auto key = std::make_pair(tenant_id, ref);
    auto it = projects.find(key);
    if (it != projects.end()) return it->second;
    GANTRY_TRY(auto p, tenancy::Store::FindProject(tx, tenant_id, ref));
    std::optional<int64_t> id;
    if (p) id = p->id;
    projects[key] = id;
    return id;
  }
  core::Result<bool> Invoiced(int64_t tenant_id, core::UnixNanos t) {
    auto month = MonthOf(t).first;
    auto key = std::make_pair(tenant_id, month);
    auto it = invoiced.find(key);
    if (it != invoiced.end()) return it->second;
    GANTRY_TRY(auto n, Store::LiveInvoices(tx, tenant_id, month));
    invoiced[key] = n > 0;
    return n > 0;
  }
};

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
  return tx->Commit();
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

core::Result<IngestResult> Service::IngestInTx(store::Tx& tx, const std::string& source,
                                               const std::vector<UsageRecord>& records,
                                               core::UnixNanos now) {
  IngestResult result;
  Resolver res{tx};
  if (res.skus.empty()) {
    GANTRY_TRY(auto skus, Store::ListSkus(tx));
    for (auto& s : skus) res.skus.emplace(s.name, std::move(s));
  }
  Rollups hourly;
  std::set<std::string> seen;
  for (const auto& r : records) {
    GANTRY_TRY_STATUS(ValidateKey(r.key));
    if (!seen.insert(r.key).second) {
      ++result.duplicates;
      continue;
    }
    auto quarantine = [&](Reason reason, std::string detail) -> core::Status {
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
    if (r.quantity < 0 || r.quantity > kMaxQuantity) {
      GANTRY_TRY_STATUS(quarantine(Reason::kBadQuantity, "quantity must be 0..2^60"));
      continue;
    }
    if (r.end < r.start || r.end - r.start > kMaxInterval) {
      GANTRY_TRY_STATUS(quarantine(Reason::kBadInterval, "end before start or longer than 31 days"));
      continue;
    }
    if (r.kind != kAllocated && r.kind != kUsed) {
      GANTRY_TRY_STATUS(quarantine(Reason::kBadKind, "kind must be allocated or used"));
      continue;
    }
    if (r.start > now + options_.future_skew) {
      GANTRY_TRY_STATUS(quarantine(Reason::kClockSkew, "starts in the future (clock skew)"));
      continue;
    }
    auto sku = res.skus.find(r.sku);
    if (sku == res.skus.end()) {
      GANTRY_TRY_STATUS(quarantine(Reason::kUnknownSku, "no SKU '" + r.sku.substr(0, 64) + "'"));
      continue;
    }
    GANTRY_TRY(auto tenant, res.Tenant(r.tenant));
    if (!tenant) {
      GANTRY_TRY_STATUS(
          quarantine(Reason::kUnknownTenant, "no tenant '" + r.tenant.substr(0, 64) + "'"));
      continue;
    }
    int64_t project_id = 0;
    if (!r.project.empty()) {
      GANTRY_TRY(auto pid, res.Project(tenant->id, r.project));
      if (!pid) {
        GANTRY_TRY_STATUS(quarantine(Reason::kUnknownProject,
                                     "no project '" + r.project.substr(0, 64) + "' in tenant '" +
                                         tenant->slug + "'"));
        continue;
      }
      project_id = *pid;
    }
    auto parts = SplitByHour(r.quantity, r.start, r.end);
    bool invoiced = false;
    for (const auto& [hour, q] : parts) {
      GANTRY_TRY(bool inv, res.Invoiced(tenant->id, hour));
      invoiced = invoiced || inv;
    }
    if (invoiced) {
      GANTRY_TRY_STATUS(quarantine(Reason::kPeriodInvoiced,
                                   "the month is invoiced; correct it with a credit note"));
      continue;
    }
    if (r.end < now - options_.late_window) {
      GANTRY_TRY_STATUS(quarantine(Reason::kLate, "older than the late window"));
      continue;
    }
    StoredRecord sr{r.key, tenant->id, project_id, r.sku, r.kind, r.quantity, r.start, r.end,
                    source};
    GANTRY_TRY(bool inserted, Store::InsertRecord(tx, sr, now));
    if (!inserted) {
      ++result.duplicates;
      continue;
    }
    ++result.accepted;
    for (const auto& [hour, q] : parts) {
      if (q) hourly[{tenant->id, project_id, r.sku, r.kind, hour}] += q;
    }
  }
  GANTRY_TRY_STATUS(Store::AddRollups(tx, hourly));
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
      GANTRY_TRY(auto r, IngestInTx(*tx, "lifecycle", records, now));
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
    GANTRY_TRY(auto r, IngestInTx(tx, "lifecycle", records, now));
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
