// Billing: rating of rolled-up usage against the effective-dated price book and the tenant's
// discounts, monthly invoices and credit notes, exports, and budgets (alerts at 50/80/100 %,
// hard GPU-hour budgets that admission consults).
//
// Rating (RateMonth), one rounding point:
//   1. the hourly roll-ups of the tenant's month, of the kind each SKU's policy bills
//      (allocated or used), are summed per (project, SKU, price in effect at the hour);
//   2. tier discounts split a SKU's monthly quantity at the tier thresholds (projects in slug
//      order fill the tiers), each part its own line;
//   3. a line's discount is the sum of the tenant's percentage, commitment and tier basis points
//      (at most 10000);
//   4. amount = quantity × unit price × (10000 − discount) / (base units per price unit × 10000),
//      rounded half to even to whole micro-units — once, per line; the invoice total is the exact
//      sum of its lines;
//   5. a commitment whose SKU used less than committed adds a shortfall line at the committed
//      discount.
// Issued invoices are immutable (database triggers refuse UPDATE/DELETE); a correction is a
// credit note. Thread-safe.
#pragma once

#include <optional>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "metering/service.h"

namespace gantry::metering {

class Billing {
 public:
  // Installs itself as `metering`'s usage hook (budget alerts on ingest); removes it again.
  Billing(Service& metering, const audit::Service& audit, core::MetricsRegistry* metrics);
  ~Billing();
  Billing(const Billing&) = delete;
  Billing& operator=(const Billing&) = delete;

  // The rated lines of a tenant's month as they stand (not stored). `project_id` set: only that
  // project's usage (budgets). Usage without a price rates at 0 with "no price" in the
  // description and sets *unpriced.
  core::Result<Invoice> RateMonth(store::Tx& tx, int64_t tenant_id, core::UnixNanos month,
                                  std::optional<int64_t> project_id = {},
                                  std::string* unpriced = nullptr);

  core::Result<Invoice> Preview(const core::RequestContext& rc, const std::string& tenant,
                                const std::string& month);
  // Closes the tenant's open allocations up to the month's end, rates the month and stores the
  // invoice, in one transaction. kFailedPrecondition when the month has not ended, is invoiced
  // already (and not fully credited), or holds usage of a SKU without a price.
  core::Result<Invoice> Issue(const core::RequestContext& rc, const std::string& tenant,
                              const std::string& month);
  // A credit note reversing the invoice: every line (`amount_micros` none), or one amount.
  core::Result<Invoice> CreditNote(const core::RequestContext& rc, int64_t invoice_id,
                                   const std::string& reason,
                                   std::optional<int64_t> amount_micros);
  core::Result<Invoice> Get(const core::RequestContext& rc, int64_t id);
  core::Result<std::vector<Invoice>> List(const core::RequestContext& rc,
                                          std::optional<std::string> tenant,
                                          std::optional<std::string> month);

  // ---- discounts (prices.write) ----
  core::Result<Discount> AddDiscount(const core::RequestContext& rc, const std::string& tenant,
                                     Discount d);
  core::Result<std::vector<Discount>> Discounts(const core::RequestContext& rc,
                                                const std::string& tenant);
  core::Status DeleteDiscount(const core::RequestContext& rc, const std::string& tenant,
                              int64_t id);

  // ---- budgets (budgets.write) ----
  core::Result<BudgetStatus> SetBudget(const core::RequestContext& rc, const std::string& tenant,
                                       const std::string& project, Budget b);
  core::Status DeleteBudget(const core::RequestContext& rc, const std::string& tenant, int64_t id);
  // Status of the tenant's budgets in the current month; raises (stores, audits, counts) the
  // alerts of thresholds crossed.
  core::Result<std::vector<BudgetStatus>> Budgets(const core::RequestContext& rc,
                                                  const std::string& tenant);
  // Every budget of every tenant (the metering.budgets job).
  core::Result<std::vector<BudgetStatus>> EvaluateAll();

  // The admission guard tenancy calls inside Reserve's transaction: kResourceExhausted when a
  // hard budget of the tenant or the project is spent (gpu_hours: for GPU and MIG resources;
  // cost: for everything).
  core::Status CheckAdmission(store::Tx& tx, int64_t tenant_id, int64_t project_id,
                              const std::vector<std::string>& resources);

 private:
  core::Result<BudgetStatus> Evaluate(store::Tx& tx, const Budget& b, core::UnixNanos now);
  // `trigger` (ingest, read, set, job) goes into the audit event and the metric.
  core::Status RaiseAlerts(store::Tx& tx, BudgetStatus& st, core::UnixNanos now,
                           const char* trigger);
  // Service's usage hook: the budgets of the tenants/projects whose usage grew, evaluated in the
  // ingest transaction unless every threshold of the period is raised already.
  void MarkBudgetsChanged();
  core::Status OnUsage(store::Tx& tx, const std::set<std::pair<int64_t, int64_t>>& grown,
                       core::UnixNanos now);

  Service& metering_;
  const audit::Service& audit_;
  core::CounterFamily* alerts_ = nullptr;
  // Tenants with a budget, so that ingest of everyone else costs no query: reloaded after a
  // budget changes here and at most kBudgetedTtl after it changed on another replica.
  std::mutex budgeted_mu_;
  std::set<int64_t> budgeted_;
  bool budgeted_stale_ = true;
  core::UnixNanos budgeted_at_ = 0;
};

// Exports of an invoice: "csv", "json" or "focus" (FinOps FOCUS 1.0 columns, CSV).
core::Result<std::string> ExportInvoice(const Invoice& inv, const std::string& format);

}  // namespace gantry::metering
