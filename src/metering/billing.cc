#include "metering/billing.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <set>

#include "auth/policy.h"
#include "tenancy/store.h"

namespace gantry::metering {

namespace {

core::Status Require(const core::RequestContext& rc, std::string_view action) {
  if (rc.principal.auth_method == "system" || auth::Allowed(rc.principal, action)) return {};
  return core::PermissionDenied("not allowed: " + std::string(action));
}

bool IsMember(const core::Principal& p, int64_t tenant_id) {
  return std::any_of(p.tenants.begin(), p.tenants.end(),
                     [&](const auto& m) { return m.tenant_id == tenant_id; });
}

core::Result<tenancy::Tenant> VisibleTenant(store::Tx& tx, const core::RequestContext& rc,
                                            const std::string& ref) {
  if (ref.empty()) return core::InvalidArgument("empty tenant reference", "tenant");
  GANTRY_TRY(auto t, tenancy::Store::FindTenant(tx, ref));
  if (!t || (!SeesAll(rc.principal) && !IsMember(rc.principal, t->id))) {
    return core::NotFound("no tenant '" + ref.substr(0, 64) + "'");
  }
  return *t;
}

// Budgets of a tenant are changed by admins and by that tenant's own tenant-admins (a
// tenant-admin elsewhere who is only a member here may not).
core::Status CheckBudgetsWrite(const core::RequestContext& rc, const tenancy::Tenant& t) {
  const auto& p = rc.principal;
  if (p.auth_method == "system" || p.HasRole(core::Role::kAdmin)) return {};
  for (const auto& m : p.tenants) {
    if (m.tenant_id == t.id && m.role == core::Role::kTenantAdmin) return {};
  }
  return core::PermissionDenied("only admins and tenant-admins of tenant '" + t.slug +
                                "' change its budgets");
}

core::Status Audit(const audit::Service& audit, store::Tx& tx, const core::RequestContext& rc,
                   const std::string& action, const std::string& type, const std::string& target,
                   const std::string& tenant, const core::json::object& details) {
  auto e = audit::Service::MakeEvent(rc, action, type, target, details);
  e.tenant = tenant;
  return audit.Append(tx, std::move(e));
}

bool Overlaps(const Discount& d, core::UnixNanos start, core::UnixNanos end) {
  return d.effective_from < end && (!d.effective_until || *d.effective_until > start);
}

struct Group {
  int64_t quantity = 0;
  core::UnixNanos first = 0, last = 0;
};

}  // namespace

Billing::Billing(Service& metering, const audit::Service& audit, core::MetricsRegistry* metrics)
    : metering_(metering), audit_(audit) {
  if (metrics) {
    alerts_ = &metrics->Counter("gantry_metering_budget_alerts_total",
                                "Budget alerts raised, by threshold (percent) and what raised "
                                "them (ingest, read, set, job).",
                                {"threshold", "trigger"});
  }
  metering_.SetUsageHook(
      [this](store::Tx& tx, const std::set<std::pair<int64_t, int64_t>>& grown,
             core::UnixNanos now) { return OnUsage(tx, grown, now); });
}

Billing::~Billing() { metering_.SetUsageHook({}); }

void Billing::MarkBudgetsChanged() {
  std::lock_guard lock(budgeted_mu_);
  budgeted_stale_ = true;
}

// ---- rating ---------------------------------------------------------------------------------

core::Result<Invoice> Billing::RateMonth(store::Tx& tx, int64_t tenant_id, core::UnixNanos month,
                                         std::optional<int64_t> project_id,
                                         std::string* unpriced) {
  auto [start, end] = MonthOf(month);
  Invoice inv;
  inv.tenant_id = tenant_id;
  inv.period_start = start;
  inv.period_end = end;
  inv.currency = metering_.options().currency;
  GANTRY_TRY(auto tenant, tenancy::Store::GetTenant(tx, tenant_id, false, metering_.db().backend()));
  if (tenant) inv.tenant = tenant->slug;

  GANTRY_TRY(auto sku_list, Store::ListSkus(tx));
  std::map<std::string, Sku> skus;
  for (auto& s : sku_list) skus.emplace(s.name, std::move(s));
  GANTRY_TRY(auto price_list, Store::ListPrices(tx, ""));
  std::map<std::string, std::vector<Price>> prices;  // by effective_from ascending
  for (auto& p : price_list) prices[p.sku].push_back(std::move(p));
  auto price_at = [&](const std::string& sku, core::UnixNanos t) -> const Price* {
    auto it = prices.find(sku);
    if (it == prices.end()) return nullptr;
    const Price* found = nullptr;
    for (const auto& p : it->second) {
      if (p.effective_from <= t) found = &p;
    }
    return found;
  };

  // Price segments of the month: a new segment wherever any price takes effect; within one, each
  // SKU's price is constant, so the database sums the hours of each segment.
  std::set<core::UnixNanos> cuts{start, end};
  for (const auto& [sku, list] : prices) {
    for (const auto& p : list) {
      if (p.effective_from > start && p.effective_from < end) {
        // Prices apply per hour (the price at the hour's start): cut at the next hour boundary.
        cuts.insert((p.effective_from + kNanosPerHour - 1) / kNanosPerHour * kNanosPerHour);
      }
    }
  }
  std::map<int64_t, std::string> project_slugs{{0, ""}};
  std::map<std::tuple<std::string, std::string, int64_t>, Group> groups;
  std::map<int64_t, const Price*> price_by_id;
  std::map<std::string, int64_t> sku_totals;
  for (auto it = cuts.begin(); std::next(it) != cuts.end(); ++it) {
    core::UnixNanos seg_start = *it, seg_end = *std::next(it);
    GANTRY_TRY(auto sums, Store::SumRollups(tx, tenant_id, project_id, seg_start, seg_end));
    for (const auto& r : sums) {
      auto sku = skus.find(r.sku);
      if (sku == skus.end() || sku->second.policy != r.kind || r.quantity == 0) continue;
      if (!project_slugs.count(r.project_id)) {
        GANTRY_TRY(auto p, tenancy::Store::FindProject(tx, tenant_id, std::to_string(r.project_id)));
        project_slugs[r.project_id] = p ? p->slug : std::to_string(r.project_id);
      }
      const Price* price = price_at(r.sku, seg_start);
      int64_t pid = price ? price->id : 0;
      if (price) price_by_id[pid] = price;
      auto [git, fresh] = groups.try_emplace({project_slugs[r.project_id], r.sku, pid});
      Group& g = git->second;
      g.first = fresh ? r.first : std::min(g.first, r.first);
      g.last = std::max(g.last, r.last + kNanosPerHour);
      g.quantity += r.quantity;
      sku_totals[r.sku] += r.quantity;
    }
  }

  GANTRY_TRY(auto all_discounts, Store::ListDiscounts(tx, tenant_id));
  std::vector<Discount> discounts;
  for (const auto& d : all_discounts) {
    if (Overlaps(d, start, end)) discounts.push_back(d);
  }
  auto base_bp = [&](const std::string& sku) {
    int64_t bp = 0;
    for (const auto& d : discounts) {
      if (d.kind == kPercentage && (d.sku.empty() || d.sku == sku)) bp += d.basis_points;
      if (d.kind == kCommitment && d.sku == sku) bp += d.basis_points;
    }
    return bp;
  };
  // Tier thresholds of a SKU, ascending: (from quantity, bp).
  auto tiers_of = [&](const std::string& sku) {
    std::vector<std::pair<int64_t, int64_t>> t;
    for (const auto& d : discounts) {
      if (d.kind == kTier && d.sku == sku) t.emplace_back(d.quantity, d.basis_points);
    }
    std::sort(t.begin(), t.end());
    return t;
  };

  std::map<std::string, int64_t> filled;  // per SKU: quantity already placed in tiers
  int64_t line_no = 0;
  for (const auto& [key, g] : groups) {
    const auto& [project, sku_name, pid] = key;
    const Sku& sku = skus.at(sku_name);
    const Price* price = pid ? price_by_id.at(pid) : nullptr;
    if (!price && unpriced && unpriced->empty()) *unpriced = sku_name;
    auto tiers = tiers_of(sku_name);
    // Split the group at tier thresholds.
    int64_t remaining = g.quantity;
    int64_t& done = filled[sku_name];
    while (remaining > 0) {
      int64_t tier_bp = 0;
      int64_t next_threshold = INT64_MAX;
      for (const auto& [from, bp] : tiers) {
        if (done >= from) tier_bp = bp;
        else {
          next_threshold = from;
          break;
        }
      }
      int64_t part = std::min(remaining, next_threshold - done);
      InvoiceLine l;
      l.line_no = ++line_no;
      l.project = project;
      l.sku = sku_name;
      l.policy = sku.policy;
      l.description = sku.description + " (" + sku.policy + ")";
      if (tier_bp) l.description += ", volume tier";
      if (!price) l.description += " — no price";
      l.quantity = part;
      l.base_unit = sku.base_unit;
      l.price_unit = sku.price_unit;
      l.base_per_price_unit = sku.base_per_price_unit;
      l.unit_price_micros = price ? price->unit_price_micros : 0;
      l.discount_bp = std::min<int64_t>(10000, base_bp(sku_name) + tier_bp);
      GANTRY_TRY(l.amount_micros, RateAmount(l.quantity, l.unit_price_micros,
                                             l.base_per_price_unit, l.discount_bp));
      l.charge_start = g.first;
      l.charge_end = g.last;
      inv.total_micros += l.amount_micros;
      inv.lines.push_back(std::move(l));
      remaining -= part;
      done += part;
    }
  }
  // Commitment shortfalls (tenant-level bills only).
  if (!project_id) {
    for (const auto& d : discounts) {
      if (d.kind != kCommitment || !skus.count(d.sku)) continue;
      int64_t used = sku_totals[d.sku];
      if (used >= d.quantity) continue;
      const Sku& sku = skus.at(d.sku);
      const Price* price = price_at(d.sku, start);
      InvoiceLine l;
      l.line_no = ++line_no;
      l.sku = d.sku;
      l.policy = sku.policy;
      l.description = "Commitment shortfall: " + PriceUnits(d.quantity, sku.base_per_price_unit) +
                      " " + sku.price_unit + " committed";
      l.quantity = d.quantity - used;
      l.base_unit = sku.base_unit;
      l.price_unit = sku.price_unit;
      l.base_per_price_unit = sku.base_per_price_unit;
      l.unit_price_micros = price ? price->unit_price_micros : 0;
      l.discount_bp = d.basis_points;
      GANTRY_TRY(l.amount_micros, RateAmount(l.quantity, l.unit_price_micros,
                                             l.base_per_price_unit, l.discount_bp));
      l.charge_start = start;
      l.charge_end = end;
      inv.total_micros += l.amount_micros;
      inv.lines.push_back(std::move(l));
    }
  }
  return inv;
}

// ---- invoices --------------------------------------------------------------------------------

core::Result<Invoice> Billing::Preview(const core::RequestContext& rc, const std::string& tenant,
                                       const std::string& month) {
  GANTRY_TRY_STATUS(Require(rc, "invoices.read"));
  GANTRY_TRY(auto period, ParseMonth(month));
  GANTRY_TRY(auto tx, metering_.db().Begin(store::TxMode::kRead));
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  return RateMonth(*tx, t.id, period.first);
}

core::Result<Invoice> Billing::Issue(const core::RequestContext& rc, const std::string& tenant,
                                     const std::string& month) {
  GANTRY_TRY_STATUS(Require(rc, "invoices.write"));
  GANTRY_TRY(auto period, ParseMonth(month));
  auto now = metering_.clock().Now();
  if (period.second > now) {
    return core::FailedPrecondition("month " + month + " has not ended yet");
  }
  GANTRY_TRY(auto tx, metering_.db().Begin());
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  GANTRY_TRY(auto live, Store::LiveInvoices(*tx, t.id, period.first));
  if (live > 0) {
    return core::FailedPrecondition("tenant '" + t.slug + "' is already invoiced for " + month +
                                    "; correct it with a credit note");
  }
  IngestResult closed;
  GANTRY_TRY_STATUS(metering_.CloseAllocations(*tx, t.id, period.second, now, &closed));
  std::string unpriced;
  GANTRY_TRY(auto inv, RateMonth(*tx, t.id, period.first, std::nullopt, &unpriced));
  if (!unpriced.empty()) {
    return core::FailedPrecondition("SKU " + unpriced + " has usage in " + month +
                                    " but no price; add one with `gantry price set`");
  }
  GANTRY_TRY(auto seq, Store::NextInvoiceSeq(*tx));
  char number[64];
  std::snprintf(number, sizeof number, "INV-%s-%06lld", FormatMonth(period.first).c_str(),
                static_cast<long long>(seq));
  inv.number = number;
  inv.issued_by = rc.principal.username;
  inv.issued_at = now;
  GANTRY_TRY(inv.id, Store::InsertInvoice(*tx, inv));
  GANTRY_TRY_STATUS(Audit(audit_, *tx, rc, "invoice.issue", "invoice", inv.number, t.slug,
                          {{"total_micros", inv.total_micros},
                           {"lines", static_cast<int64_t>(inv.lines.size())},
                           {"period", month}}));
  GANTRY_TRY_STATUS(tx->Commit());
  metering_.CountResult("lifecycle", closed);
  return inv;
}

core::Result<Invoice> Billing::CreditNote(const core::RequestContext& rc, int64_t invoice_id,
                                          const std::string& reason,
                                          std::optional<int64_t> amount_micros) {
  GANTRY_TRY_STATUS(Require(rc, "invoices.write"));
  if (reason.empty() || reason.size() > 500) {
    return core::InvalidArgument("reason must be 1-500 characters", "reason");
  }
  GANTRY_TRY(auto tx, metering_.db().Begin());
  GANTRY_TRY(auto orig, Store::GetInvoice(*tx, invoice_id));
  if (!orig || (!SeesAll(rc.principal) && !IsMember(rc.principal, orig->tenant_id))) {
    return core::NotFound("no invoice " + std::to_string(invoice_id));
  }
  if (orig->kind != "invoice") return core::FailedPrecondition("only invoices are credited");
  GANTRY_TRY(auto existing, Store::ListInvoices(*tx, orig->tenant_id, orig->period_start));
  int64_t credited = 0;
  for (const auto& e : existing) {
    if (e.kind == "credit_note" && e.corrects == orig->id) credited += -e.total_micros;
  }
  Invoice cn;
  cn.kind = "credit_note";
  cn.tenant_id = orig->tenant_id;
  cn.tenant = orig->tenant;
  cn.period_start = orig->period_start;
  cn.period_end = orig->period_end;
  cn.currency = orig->currency;
  cn.corrects = orig->id;
  cn.reason = reason;
  cn.issued_by = rc.principal.username;
  cn.issued_at = metering_.clock().Now();
  if (!amount_micros) {
    if (credited != 0) {
      return core::FailedPrecondition("invoice " + orig->number +
                                      " has credit notes already; credit an amount instead");
    }
    for (auto l : orig->lines) {
      l.amount_micros = -l.amount_micros;
      l.quantity = -l.quantity;
      l.description = "Credit: " + l.description;
      cn.total_micros += l.amount_micros;
      cn.lines.push_back(std::move(l));
    }
  } else {
    if (*amount_micros <= 0 || *amount_micros > orig->total_micros - credited) {
      return core::InvalidArgument("amount_micros must be 1.." +
                                       std::to_string(orig->total_micros - credited) +
                                       " (what is left to credit)",
                                   "amount_micros");
    }
    InvoiceLine l;
    l.line_no = 1;
    l.sku = "";
    l.policy = "";
    l.description = "Credit: " + reason;
    l.amount_micros = -*amount_micros;
    l.charge_start = orig->period_start;
    l.charge_end = orig->period_end;
    cn.total_micros = l.amount_micros;
    cn.lines.push_back(std::move(l));
  }
  GANTRY_TRY(auto seq, Store::NextInvoiceSeq(*tx));
  char number[64];
  std::snprintf(number, sizeof number, "CN-%s-%06lld", FormatMonth(cn.period_start).c_str(),
                static_cast<long long>(seq));
  cn.number = number;
  GANTRY_TRY(cn.id, Store::InsertInvoice(*tx, cn));
  GANTRY_TRY_STATUS(Audit(audit_, *tx, rc, "invoice.credit", "invoice", cn.number, cn.tenant,
                          {{"corrects", orig->number},
                           {"total_micros", cn.total_micros},
                           {"reason", reason}}));
  GANTRY_TRY_STATUS(tx->Commit());
  return cn;
}

core::Result<Invoice> Billing::Get(const core::RequestContext& rc, int64_t id) {
  GANTRY_TRY_STATUS(Require(rc, "invoices.read"));
  GANTRY_TRY(auto tx, metering_.db().Begin(store::TxMode::kRead));
  GANTRY_TRY(auto inv, Store::GetInvoice(*tx, id));
  if (!inv || (!SeesAll(rc.principal) && !IsMember(rc.principal, inv->tenant_id))) {
    return core::NotFound("no invoice " + std::to_string(id));
  }
  return *inv;
}

core::Result<std::vector<Invoice>> Billing::List(const core::RequestContext& rc,
                                                 std::optional<std::string> tenant,
                                                 std::optional<std::string> month) {
  GANTRY_TRY_STATUS(Require(rc, "invoices.read"));
  std::optional<core::UnixNanos> period;
  if (month) {
    GANTRY_TRY(auto p, ParseMonth(*month));
    period = p.first;
  }
  GANTRY_TRY(auto tx, metering_.db().Begin(store::TxMode::kRead));
  std::optional<int64_t> tenant_id;
  if (tenant) {
    GANTRY_TRY(auto t, VisibleTenant(*tx, rc, *tenant));
    tenant_id = t.id;
  }
  GANTRY_TRY(auto list, Store::ListInvoices(*tx, tenant_id, period));
  if (!tenant_id && !SeesAll(rc.principal)) {
    std::erase_if(list, [&](const Invoice& i) { return !IsMember(rc.principal, i.tenant_id); });
  }
  return list;
}

// ---- discounts -------------------------------------------------------------------------------

core::Result<Discount> Billing::AddDiscount(const core::RequestContext& rc,
                                            const std::string& tenant, Discount d) {
  GANTRY_TRY_STATUS(Require(rc, "prices.write"));
  if (d.kind != kPercentage && d.kind != kTier && d.kind != kCommitment) {
    return core::InvalidArgument("kind must be percentage, tier or commitment", "kind");
  }
  if (d.basis_points < 0 || d.basis_points > 10000) {
    return core::InvalidArgument("basis_points must be 0-10000", "basis_points");
  }
  if (d.kind != kPercentage && d.sku.empty()) {
    return core::InvalidArgument(d.kind + " discounts name a SKU", "sku");
  }
  if (d.quantity < 0 || d.quantity > kMaxQuantity) {
    return core::InvalidArgument("quantity must be 0..2^60 base units", "quantity");
  }
  if (d.effective_until && *d.effective_until <= d.effective_from) {
    return core::InvalidArgument("effective_until must be after effective_from", "effective_until");
  }
  GANTRY_TRY(auto tx, metering_.db().Begin());
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  if (!d.sku.empty()) {
    GANTRY_TRY(auto skus, Store::ListSkus(*tx));
    if (std::none_of(skus.begin(), skus.end(), [&](const Sku& s) { return s.name == d.sku; })) {
      return core::NotFound("no SKU '" + d.sku.substr(0, 64) + "'");
    }
  }
  d.tenant_id = t.id;
  GANTRY_TRY(d.id, Store::InsertDiscount(*tx, d, rc.principal.username, metering_.clock().Now()));
  GANTRY_TRY_STATUS(Audit(audit_, *tx, rc, "discount.create", "tenant", t.slug, t.slug, ToJson(d)));
  GANTRY_TRY_STATUS(tx->Commit());
  return d;
}

core::Result<std::vector<Discount>> Billing::Discounts(const core::RequestContext& rc,
                                                       const std::string& tenant) {
  GANTRY_TRY_STATUS(Require(rc, "invoices.read"));
  GANTRY_TRY(auto tx, metering_.db().Begin(store::TxMode::kRead));
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  return Store::ListDiscounts(*tx, t.id);
}

core::Status Billing::DeleteDiscount(const core::RequestContext& rc, const std::string& tenant,
                                     int64_t id) {
  GANTRY_TRY_STATUS(Require(rc, "prices.write"));
  GANTRY_TRY(auto tx, metering_.db().Begin());
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  GANTRY_TRY_STATUS(Store::DeleteDiscount(*tx, t.id, id));
  GANTRY_TRY_STATUS(Audit(audit_, *tx, rc, "discount.delete", "tenant", t.slug, t.slug,
                          {{"id", id}}));
  return tx->Commit();
}

// ---- budgets ---------------------------------------------------------------------------------

core::Result<BudgetStatus> Billing::Evaluate(store::Tx& tx, const Budget& b, core::UnixNanos now) {
  BudgetStatus st;
  st.budget = b;
  auto [start, end] = MonthOf(now);
  st.period_start = start;
  st.period_end = end;
  std::optional<int64_t> project;
  if (b.project_id) project = b.project_id;
  if (b.metric == "cost") {
    GANTRY_TRY(auto inv, RateMonth(tx, b.tenant_id, start, project));
    st.spent = inv.total_micros;
    st.spent_base = inv.total_micros;
    st.exhausted = st.spent >= b.limit;
  } else {
    GANTRY_TRY(auto skus, Store::ListSkus(tx));
    RollupQuery q;
    q.tenant_ids = {b.tenant_id};
    q.project_id = project;
    q.since = start;
    q.until = end;
    GANTRY_TRY(auto rows, Store::QueryRollups(tx, q));
    __int128 milli_gpu_s = 0;
    for (const auto& r : rows) {
      for (const auto& s : skus) {
        if (s.name == r.sku && s.gpu_permille > 0 && s.policy == r.kind) {
          milli_gpu_s += static_cast<__int128>(r.quantity) * s.gpu_permille / 1000;
        }
      }
    }
    st.spent_base = static_cast<int64_t>(milli_gpu_s);
    st.spent = static_cast<int64_t>(milli_gpu_s / 3'600'000);
    st.exhausted = milli_gpu_s >= static_cast<__int128>(b.limit) * 3'600'000;
  }
  __int128 pct = b.metric == "cost" ? static_cast<__int128>(st.spent) * 100 / b.limit
                                    : static_cast<__int128>(st.spent_base) * 100 /
                                          (static_cast<__int128>(b.limit) * 3'600'000);
  st.percent = static_cast<int64_t>(pct);
  GANTRY_TRY(st.alerts, Store::BudgetAlerts(tx, b.id, start));
  return st;
}

core::Status Billing::OnUsage(store::Tx& tx, const std::set<std::pair<int64_t, int64_t>>& grown,
                             core::UnixNanos now) {
  constexpr core::UnixNanos kBudgetedTtl = 10 * core::kNanosPerSecond;
  std::set<int64_t> tenants;
  {
    std::lock_guard lock(budgeted_mu_);
    if (budgeted_stale_ || now - budgeted_at_ > kBudgetedTtl || now < budgeted_at_) {
      GANTRY_TRY(budgeted_, Store::BudgetedTenants(tx));
      budgeted_stale_ = false;
      budgeted_at_ = now;
    }
    for (const auto& [tenant, project] : grown) {
      if (budgeted_.count(tenant)) tenants.insert(tenant);
    }
  }
  if (tenants.empty()) return {};
  GANTRY_TRY(auto budgets, Store::BudgetsOfTenants(tx, tenants));
  auto period = MonthOf(now).first;
  for (const auto& b : budgets) {
    if (b.project_id && !grown.count({b.tenant_id, b.project_id})) continue;
    GANTRY_TRY(auto raised, Store::BudgetAlerts(tx, b.id, period));
    if (raised.size() >= 3) continue;  // 50, 80 and 100 % raised already this period
    GANTRY_TRY(auto st, Evaluate(tx, b, now));
    GANTRY_TRY_STATUS(RaiseAlerts(tx, st, now, "ingest"));
  }
  return {};
}

core::Status Billing::RaiseAlerts(store::Tx& tx, BudgetStatus& st, core::UnixNanos now,
                                  const char* trigger) {
  for (int64_t threshold : {50, 80, 100}) {
    if (st.percent < threshold) continue;
    GANTRY_TRY(bool fresh, Store::InsertBudgetAlert(tx, st.budget.id, st.period_start, threshold,
                                                    st.spent, st.budget.limit, now));
    if (!fresh) continue;
    st.alerts.push_back(threshold);
    std::string target = st.budget.tenant + (st.budget.project.empty() ? "" : "/" + st.budget.project);
    auto e = audit::Service::MakeEvent(core::RequestContext::System(), "budget.alert", "budget",
                                       target,
                                       {{"metric", st.budget.metric},
                                        {"threshold", threshold},
                                        {"spent", st.spent},
                                        {"limit", st.budget.limit},
                                        {"trigger", trigger}});
    e.tenant = st.budget.tenant;
    GANTRY_TRY_STATUS(audit_.Append(tx, std::move(e)));
    spdlog::warn("budget {} ({}) of {} reached {}%: {} of {}", st.budget.id, st.budget.metric,
                 target, threshold, st.spent, st.budget.limit);
    if (alerts_) alerts_->Inc({std::to_string(threshold), trigger});
  }
  std::sort(st.alerts.begin(), st.alerts.end());
  st.alerts.erase(std::unique(st.alerts.begin(), st.alerts.end()), st.alerts.end());
  return {};
}

core::Result<BudgetStatus> Billing::SetBudget(const core::RequestContext& rc,
                                              const std::string& tenant,
                                              const std::string& project, Budget b) {
  GANTRY_TRY_STATUS(Require(rc, "budgets.write"));
  if (b.metric != "cost" && b.metric != "gpu_hours") {
    return core::InvalidArgument("metric must be cost or gpu_hours", "metric");
  }
  if (b.limit <= 0 || b.limit > kMaxQuantity) {
    return core::InvalidArgument("limit must be 1..2^60", "limit");
  }
  GANTRY_TRY(auto tx, metering_.db().Begin());
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  GANTRY_TRY_STATUS(CheckBudgetsWrite(rc, t));
  b.tenant_id = t.id;
  b.tenant = t.slug;
  b.project_id = 0;
  b.project.clear();
  if (!project.empty()) {
    GANTRY_TRY(auto p, tenancy::Store::FindProject(*tx, t.id, project));
    if (!p) return core::NotFound("no project '" + project.substr(0, 64) + "'");
    b.project_id = p->id;
    b.project = p->slug;
  }
  auto now = metering_.clock().Now();
  GANTRY_TRY(b.id, Store::UpsertBudget(*tx, b, now));
  GANTRY_TRY(auto st, Evaluate(*tx, b, now));
  GANTRY_TRY_STATUS(Audit(audit_, *tx, rc, "budget.set", "budget",
                          t.slug + (b.project.empty() ? "" : "/" + b.project), t.slug,
                          {{"metric", b.metric}, {"limit", b.limit}, {"hard", b.hard},
                           {"hold_slurm", b.hold_slurm}}));
  GANTRY_TRY_STATUS(RaiseAlerts(*tx, st, now, "set"));
  GANTRY_TRY_STATUS(tx->Commit());
  MarkBudgetsChanged();  // after the commit, so that no reload can miss it
  return st;
}

core::Status Billing::DeleteBudget(const core::RequestContext& rc, const std::string& tenant,
                                   int64_t id) {
  GANTRY_TRY_STATUS(Require(rc, "budgets.write"));
  GANTRY_TRY(auto tx, metering_.db().Begin());
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  GANTRY_TRY_STATUS(CheckBudgetsWrite(rc, t));
  GANTRY_TRY(auto list, Store::ListBudgets(*tx, t.id));
  if (std::none_of(list.begin(), list.end(), [&](const Budget& b) { return b.id == id; })) {
    return core::NotFound("no budget " + std::to_string(id) + " in tenant '" + t.slug + "'");
  }
  GANTRY_TRY_STATUS(Store::DeleteBudget(*tx, id));
  GANTRY_TRY_STATUS(Audit(audit_, *tx, rc, "budget.delete", "budget", std::to_string(id), t.slug, {}));
  GANTRY_TRY_STATUS(tx->Commit());
  MarkBudgetsChanged();
  return {};
}

core::Result<std::vector<BudgetStatus>> Billing::Budgets(const core::RequestContext& rc,
                                                         const std::string& tenant) {
  GANTRY_TRY_STATUS(Require(rc, "invoices.read"));
  GANTRY_TRY(auto tx, metering_.db().Begin());
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  GANTRY_TRY(auto list, Store::ListBudgets(*tx, t.id));
  auto now = metering_.clock().Now();
  std::vector<BudgetStatus> out;
  for (const auto& b : list) {
    GANTRY_TRY(auto st, Evaluate(*tx, b, now));
    GANTRY_TRY_STATUS(RaiseAlerts(*tx, st, now, "read"));
    out.push_back(std::move(st));
  }
  GANTRY_TRY_STATUS(tx->Commit());
  return out;
}

core::Result<std::vector<BudgetStatus>> Billing::EvaluateAll() {
  GANTRY_TRY(auto tx, metering_.db().Begin());
  GANTRY_TRY(auto list, Store::ListBudgets(*tx, std::nullopt));
  auto now = metering_.clock().Now();
  std::vector<BudgetStatus> out;
  for (const auto& b : list) {
    GANTRY_TRY(auto st, Evaluate(*tx, b, now));
    GANTRY_TRY_STATUS(RaiseAlerts(*tx, st, now, "job"));
    out.push_back(std::move(st));
  }
  GANTRY_TRY_STATUS(tx->Commit());
  return out;
}

core::Status Billing::CheckAdmission(store::Tx& tx, int64_t tenant_id, int64_t project_id,
                                     const std::vector<std::string>& resources) {
  bool gpu = std::any_of(resources.begin(), resources.end(), [](const std::string& r) {
    return r.starts_with("gpu/") || r.starts_with("mig/");
  });
  GANTRY_TRY(auto list, Store::ListBudgets(tx, tenant_id));
  auto now = metering_.clock().Now();
  for (const auto& b : list) {
    if (!b.hard) continue;
    if (b.project_id != 0 && b.project_id != project_id) continue;
    if (b.metric == "gpu_hours" && !gpu) continue;
    GANTRY_TRY(auto st, Evaluate(tx, b, now));
    if (!st.exhausted) continue;
    std::string who = b.project.empty() ? "tenant '" + b.tenant + "'" : "project '" + b.project + "'";
    std::string what = b.metric == "gpu_hours"
                           ? std::to_string(st.spent) + " of " + std::to_string(b.limit) + " GPU-hours"
                           : Money(st.spent) + " of " + Money(b.limit);
    return core::Error{core::Code::kResourceExhausted,
                       "the " + b.metric + " budget of " + who + " is spent: " + what + " in " +
                           FormatMonth(st.period_start)};
  }
  return {};
}

}  // namespace gantry::metering
