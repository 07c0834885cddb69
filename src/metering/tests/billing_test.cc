// Rating, invoices, credit notes, exports, discounts and budgets on SQLite and PostgreSQL.
#include "metering/tests/test_util.h"

namespace gantry::metering {
namespace {

using BillingTest = MeteringTest;

constexpr int64_t kH100 = 2'500'000;  // $2.50 per GPU-hour

// The clock in December, so that November can be invoiced.
void ToDecember(core::ManualClock& clock) { clock.Advance(25 * kNanosPerDay); }

TEST_P(BillingTest, InvoiceLinesFollowTheEffectiveDatedPriceAndRoundHalfEven) {
  MakeTenant("acme", {"train", "infer"});
  SetPrice("gpu-h100-hour", kH100, 0);
  SetPrice("gpu-h100-hour", 3'000'000, kNov10 + 10 * kHour);  // from 10:00 on
  // 1 GPU-hour at 2.50 before the change, 2 at 3.00 after; 1 milli-GPU-second more in infer:
  // 2.50/3,600,000 = 0.694.. micro → rounds to 1.
  Ingest({Gpu("a", "acme", "train", kGpuHour, kNov10 + 9 * kHour),
          Gpu("b", "acme", "train", 2 * kGpuHour, kNov10 + 10 * kHour),
          Gpu("c", "acme", "infer", 1, kNov10 + 9 * kHour)});
  ToDecember(clock_);
  auto inv = billing_->Issue(admin_, "acme", "2026-11");
  ASSERT_OK(inv);
  ASSERT_EQ(3u, inv->lines.size());
  EXPECT_EQ("infer", inv->lines[0].project);
  EXPECT_EQ(1, inv->lines[0].amount_micros);
  EXPECT_EQ(2'500'000, inv->lines[1].amount_micros);
  EXPECT_EQ(6'000'000, inv->lines[2].amount_micros);
  EXPECT_EQ(8'500'001, inv->total_micros);
  EXPECT_EQ("allocated", inv->lines[1].policy);
  EXPECT_EQ(1, AuditCount("invoice.issue"));
  // Issued once: a second issue for the month is refused.
  EXPECT_EQ(core::Code::kFailedPrecondition, billing_->Issue(admin_, "acme", "2026-11").error().code);
}

TEST_P(BillingTest, IssuedInvoiceIsImmutableAndPriceChangesDoNotAlterIt) {
  MakeTenant("acme");
  SetPrice("gpu-h100-hour", kH100, 0);
  Ingest({Gpu("a", "acme", "", 4 * kGpuHour, kNov10)});
  ToDecember(clock_);
  auto inv = billing_->Issue(admin_, "acme", "2026-11");
  ASSERT_OK(inv);
  EXPECT_EQ(10'000'000, inv->total_micros);
  SetPrice("gpu-h100-hour", 9'000'000, kNov10 - kNanosPerDay);  // a retroactive price
  auto again = billing_->Get(admin_, inv->id);
  ASSERT_OK(again);
  EXPECT_EQ(10'000'000, again->total_micros);
  EXPECT_EQ(10'000'000, again->lines.at(0).amount_micros);
  // The database itself refuses changes.
  EXPECT_FALSE(db_->Exec("UPDATE invoices SET total_micros = 1 WHERE id = ?", {inv->id}));
  EXPECT_FALSE(db_->Exec("UPDATE invoice_lines SET amount_micros = 1 WHERE invoice_id = ?", {inv->id}));
  EXPECT_FALSE(db_->Exec("DELETE FROM invoice_lines WHERE invoice_id = ?", {inv->id}));
  EXPECT_FALSE(db_->Exec("DELETE FROM invoices WHERE id = ?", {inv->id}));
  EXPECT_EQ(10'000'000, billing_->Get(admin_, inv->id)->total_micros);
  // Late usage for the invoiced month is quarantined, not silently added.
  auto late = Ingest({Gpu("late", "acme", "", kGpuHour, kNov10 + kHour)});
  EXPECT_EQ(1, late.quarantined);
  EXPECT_EQ("period_invoiced", late.quarantine.at(0).second);
}

TEST_P(BillingTest, CreditNotesCorrectAndAFullCreditReopensTheMonth) {
  MakeTenant("acme");
  SetPrice("gpu-h100-hour", kH100, 0);
  Ingest({Gpu("a", "acme", "", 4 * kGpuHour, kNov10)});
  ToDecember(clock_);
  auto inv = billing_->Issue(admin_, "acme", "2026-11");
  ASSERT_OK(inv);
  auto partial = billing_->CreditNote(admin_, inv->id, "goodwill", 1'000'000);
  ASSERT_OK(partial);
  EXPECT_EQ("credit_note", partial->kind);
  EXPECT_EQ(-1'000'000, partial->total_micros);
  EXPECT_EQ(core::Code::kInvalidArgument,
            billing_->CreditNote(admin_, inv->id, "too much", 9'500'000).error().code);
  // Still invoiced: a partial credit does not reopen the month.
  EXPECT_EQ(core::Code::kFailedPrecondition, billing_->Issue(admin_, "acme", "2026-11").error().code);
  auto list = billing_->List(admin_, std::string("acme"), std::string("2026-11"));
  ASSERT_OK(list);
  EXPECT_EQ(2u, list->size());

  // A full credit note reverses every line and reopens the month for a corrected invoice.
  auto full = billing_->CreditNote(admin_, inv->id, "wrong price", std::nullopt);
  EXPECT_EQ(core::Code::kFailedPrecondition, full.error().code);  // partly credited already
  MakeTenant("globex");
  clock_.Advance(-25 * kNanosPerDay);
  Ingest({Gpu("g", "globex", "", kGpuHour, kNov10)});
  ToDecember(clock_);
  auto ginv = billing_->Issue(admin_, "globex", "2026-11");
  ASSERT_OK(ginv);
  auto gfull = billing_->CreditNote(admin_, ginv->id, "wrong price", std::nullopt);
  ASSERT_OK(gfull);
  EXPECT_EQ(-kH100, gfull->total_micros);
  ASSERT_EQ(1u, gfull->lines.size());
  EXPECT_EQ(-kGpuHour, gfull->lines[0].quantity);
  SetPrice("gpu-h100-hour", 2'000'000, kNov10 - kNanosPerDay);
  auto reissued = billing_->Issue(admin_, "globex", "2026-11");
  ASSERT_OK(reissued);
  EXPECT_EQ(2'000'000, reissued->total_micros);
  EXPECT_EQ(2, AuditCount("invoice.credit"));
}

TEST_P(BillingTest, DiscountsPercentageTierAndCommitment) {
  MakeTenant("acme", {"a", "b"});
  SetPrice("gpu-h100-hour", 1'000'000, 0);
  SetPrice("gpu-a100-hour", 1'000'000, 0);
  Discount pct{0, 0, kPercentage, "", 1000, 0, 0, std::nullopt};
  ASSERT_OK(billing_->AddDiscount(admin_, "acme", pct));
  Discount tier{0, 0, kTier, "gpu-h100-hour", 2000, 10 * kGpuHour, 0, std::nullopt};
  ASSERT_OK(billing_->AddDiscount(admin_, "acme", tier));
  Discount commit{0, 0, kCommitment, "gpu-a100-hour", 500, 100 * kGpuHour, 0, std::nullopt};
  ASSERT_OK(billing_->AddDiscount(admin_, "acme", commit));
  // 6 h in a + 6 h in b of H100: the first 10 at 10 %, the last 2 at 10 % + 20 %.
  std::vector<UsageRecord> recs;
  for (int i = 0; i < 6; ++i) {
    recs.push_back(Gpu("a" + std::to_string(i), "acme", "a", kGpuHour, kNov10 + i * kHour));
    recs.push_back(Gpu("b" + std::to_string(i), "acme", "b", kGpuHour, kNov10 + i * kHour));
  }
  recs.push_back(Gpu("x", "acme", "a", 40 * kGpuHour, kNov10, 10 * kHour, "gpu-a100-hour"));
  Ingest(recs);
  auto inv = billing_->Preview(admin_, "acme", "2026-11");
  ASSERT_OK(inv);
  int64_t h100 = 0, a100 = 0, shortfall = 0;
  for (const auto& l : inv->lines) {
    if (l.description.starts_with("Commitment")) shortfall += l.amount_micros;
    else if (l.sku == "gpu-h100-hour") h100 += l.amount_micros;
    else a100 += l.amount_micros;
  }
  EXPECT_EQ(10 * 900'000 + 2 * 700'000, h100);
  EXPECT_EQ(40 * 850'000, a100);             // 10 % + 5 % commitment
  EXPECT_EQ(60 * 950'000, shortfall);        // 60 committed hours unused, at the commitment rate
  EXPECT_EQ(h100 + a100 + shortfall, inv->total_micros);
}

TEST_P(BillingTest, UsedPolicyBillsMeasuredShareAndMigByProfile) {
  MakeTenant("acme");
  SetPrice("gpu-h100-shared-hour", 2'000'000, 0);
  SetPrice("mig-1g.10gb-hour", 400'000, 0);
  UsageRecord alloc = Gpu("alloc", "acme", "", kGpuHour, kNov10, kHour, "gpu-h100-shared-hour");
  UsageRecord used = alloc;
  used.key = "used";
  used.kind = kUsed;
  used.quantity = kGpuHour / 4;  // a quarter of the GPU's time
  Ingest({alloc, used, Gpu("mig", "acme", "", 3 * kGpuHour, kNov10, kHour, "mig-1g.10gb-hour")});
  auto inv = billing_->Preview(admin_, "acme", "2026-11");
  ASSERT_OK(inv);
  ASSERT_EQ(2u, inv->lines.size());
  EXPECT_EQ("used", inv->lines[0].policy);
  EXPECT_EQ(500'000, inv->lines[0].amount_micros);
  EXPECT_EQ(1'200'000, inv->lines[1].amount_micros);
  // Switching the SKU to allocated bills the allocation instead.
  ASSERT_OK(service_->SetSkuPolicy(admin_, "gpu-h100-shared-hour", "allocated"));
  EXPECT_EQ(2'000'000 + 1'200'000, billing_->Preview(admin_, "acme", "2026-11")->total_micros);
}

TEST_P(BillingTest, ExportsCsvJsonAndFocus) {
  MakeTenant("acme", {"train"});
  SetPrice("gpu-h100-hour", kH100, 0);
  Ingest({Gpu("a", "acme", "train", kGpuHour, kNov10)});
  ToDecember(clock_);
  auto inv = billing_->Issue(admin_, "acme", "2026-11");
  ASSERT_OK(inv);
  auto csv = ExportInvoice(*inv, "csv");
  ASSERT_OK(csv);
  EXPECT_NE(std::string::npos, csv->find("gpu-h100-hour"));
  EXPECT_NE(std::string::npos, csv->find("2.500000"));
  auto focus = ExportInvoice(*inv, "focus");
  ASSERT_OK(focus);
  auto header = focus->substr(0, focus->find("\r\n"));
  for (const char* col : {"BilledCost", "BillingAccountId", "BillingCurrency", "BillingPeriodStart",
                          "ChargeCategory", "ChargePeriodStart", "EffectiveCost", "ListCost",
                          "PricingQuantity", "PricingUnit", "ProviderName", "ServiceName", "SkuId",
                          "SubAccountId"}) {
    EXPECT_NE(std::string::npos, header.find(col)) << col;
  }
  EXPECT_NE(std::string::npos, focus->find("acme/train"));
  auto json = ExportInvoice(*inv, "json");
  ASSERT_OK(json);
  EXPECT_NE(std::string::npos, json->find("\"total_micros\":2500000"));
  EXPECT_FALSE(ExportInvoice(*inv, "xml"));
}

TEST_P(BillingTest, BudgetsAlertAtThresholdsAndHardGpuBudgetsRefuseAdmission) {
  MakeTenant("acme", {"train"});
  ASSERT_OK(tenancy_->SetQuota(admin_, "acme", {"gpu/h100", 64, {}, {}, false}));
  Budget b;
  b.metric = "gpu_hours";
  b.limit = 10;
  b.hard = true;
  ASSERT_OK(billing_->SetBudget(admin_, "acme", "train", b));
  auto now = clock_.Now();
  Ingest({Gpu("a", "acme", "train", 6 * kGpuHour, now - 6 * kHour, 6 * kHour)});
  auto st = billing_->Budgets(admin_, "acme");
  ASSERT_OK(st);
  ASSERT_EQ(1u, st->size());
  EXPECT_EQ(60, st->front().percent);
  EXPECT_EQ((std::vector<int64_t>{50}), st->front().alerts);
  // Admission still works below the limit.
  tenancy_->SetAdmissionGuard([this](store::Tx& tx, int64_t tenant, int64_t project,
                                     const std::vector<std::string>& resources) {
    return billing_->CheckAdmission(tx, tenant, project, resources);
  });
  ASSERT_OK(tenancy_->Reserve(admin_, "acme", {std::string("train"), {{"gpu/h100", 1}}, "job-1"}));
  Ingest({Gpu("b", "acme", "train", 4 * kGpuHour, now - 4 * kHour, 4 * kHour)});
  st = billing_->Budgets(admin_, "acme");
  EXPECT_EQ((std::vector<int64_t>{50, 80, 100}), st->front().alerts);
  EXPECT_TRUE(st->front().exhausted);
  auto refused = tenancy_->Reserve(admin_, "acme", {std::string("train"), {{"gpu/h100", 1}}, "job-2"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(core::Code::kResourceExhausted, refused.error().code);
  EXPECT_NE(std::string::npos, refused.error().message.find("10 of 10 GPU-hours"));
  // CPU-only work and other projects are not affected by a project's GPU-hour budget.
  ASSERT_OK(tenancy_->SetQuota(admin_, "acme", {"cpu", 64, {}, {}, false}));
  ASSERT_OK(tenancy_->Reserve(admin_, "acme", {std::string("train"), {{"cpu", 4}}, "job-3"}));
  ASSERT_OK(tenancy_->Reserve(admin_, "acme", {std::nullopt, {{"gpu/h100", 1}}, "job-4"}));
  // Alerts are raised once per period.
  EXPECT_EQ(3, AuditCount("budget.alert"));
  billing_->Budgets(admin_, "acme");
  EXPECT_EQ(3, AuditCount("budget.alert"));
}

TEST_P(BillingTest, IngestRaisesBudgetAlertsOncePerThresholdWithoutAnyRead) {
  MakeTenant("acme", {"train", "infer"});
  MakeTenant("globex");
  Budget b;
  b.metric = "gpu_hours";
  b.limit = 10;
  auto set = billing_->SetBudget(admin_, "acme", "train", b);
  ASSERT_OK(set);
  auto now = clock_.Now();
  auto alerts = [this](const char* threshold) {
    std::string m = metrics_.Render();
    std::string line = std::string("gantry_metering_budget_alerts_total{threshold=\"") +
                       threshold + "\",trigger=\"ingest\"} 1\n";
    return m.find(line) != std::string::npos;
  };
  // Usage of other projects and tenants does not touch train's budget.
  Ingest({Gpu("x", "acme", "infer", 9 * kGpuHour, now - 9 * kHour, 9 * kHour),
          Gpu("y", "globex", "", 9 * kGpuHour, now - 9 * kHour, 9 * kHour)});
  EXPECT_EQ(0, AuditCount("budget.alert"));
  // 6 of 10 GPU-hours: the 50 % alert is raised by the ingest itself (nobody read the budget).
  Ingest({Gpu("a", "acme", "train", 6 * kGpuHour, now - 6 * kHour, 6 * kHour)});
  EXPECT_EQ(1, AuditCount("budget.alert"));
  EXPECT_TRUE(alerts("50"));
  {
    auto tx = db_->Begin(store::TxMode::kRead);
    ASSERT_TRUE(tx);
    auto raised = Store::BudgetAlerts(**tx, set->budget.id, MonthOf(now).first);
    ASSERT_OK(raised);
    EXPECT_EQ((std::vector<int64_t>{50}), *raised);
  }
  // A replay adds nothing and raises nothing; more usage raises 80 and 100 % once each.
  Ingest({Gpu("a", "acme", "train", 6 * kGpuHour, now - 6 * kHour, 6 * kHour)});
  EXPECT_EQ(1, AuditCount("budget.alert"));
  Ingest({Gpu("b", "acme", "train", 2 * kGpuHour, now - 2 * kHour, 2 * kHour)});
  EXPECT_EQ(2, AuditCount("budget.alert"));
  Ingest({Gpu("c", "acme", "train", 3 * kGpuHour, now - 3 * kHour, 3 * kHour)});
  Ingest({Gpu("d", "acme", "train", 1 * kGpuHour, now - 1 * kHour, 1 * kHour)});
  EXPECT_EQ(3, AuditCount("budget.alert"));
  EXPECT_TRUE(alerts("80"));
  EXPECT_TRUE(alerts("100"));
  // The API shows them; reading raises nothing new.
  auto st = billing_->Budgets(admin_, "acme");
  ASSERT_OK(st);
  EXPECT_EQ((std::vector<int64_t>{50, 80, 100}), st->front().alerts);
  EXPECT_EQ(3, AuditCount("budget.alert"));
  // A tenant-wide budget is touched by any of the tenant's projects.
  Budget tb;
  tb.metric = "gpu_hours";
  tb.limit = 100;
  ASSERT_OK(billing_->SetBudget(admin_, "acme", "", tb));  // 21 of 100: nothing yet
  EXPECT_EQ(3, AuditCount("budget.alert"));
  Ingest({Gpu("e", "acme", "infer", 30 * kGpuHour, now - 8 * kHour, 8 * kHour)});
  EXPECT_EQ(4, AuditCount("budget.alert"));
}

TEST_P(BillingTest, OnlyTheTenantsOwnTenantAdminsSetItsBudgets) {
  MakeTenant("acme");
  MakeTenant("globex");
  auto acme = tenancy_->GetTenant(admin_, "acme").value();
  auto globex = tenancy_->GetTenant(admin_, "globex").value();
  core::RequestContext rc;
  rc.principal.username = "mallory";
  rc.principal.user_id = 77;
  rc.principal.roles = {core::Role::kTenantMember};
  rc.principal.auth_method = "token";
  // tenant-admin of globex, only a member of acme.
  rc.principal.tenants = {{globex.id, "globex", core::Role::kTenantAdmin},
                          {acme.id, "acme", core::Role::kTenantMember}};
  Budget b;
  b.metric = "cost";
  b.limit = 1'000'000;
  EXPECT_EQ(core::Code::kPermissionDenied, billing_->SetBudget(rc, "acme", "", b).error().code);
  ASSERT_OK(billing_->SetBudget(rc, "globex", "", b));
  // Members read their tenant's budgets and invoices but issue nothing.
  EXPECT_TRUE(billing_->Budgets(rc, "acme"));
  EXPECT_EQ(core::Code::kPermissionDenied, billing_->Issue(rc, "acme", "2026-10").error().code);
}

GANTRY_INSTANTIATE_BACKENDS(BillingTest);

}  // namespace
}  // namespace gantry::metering
