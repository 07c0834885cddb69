// Usage ingest on SQLite and PostgreSQL: idempotency, late and out-of-order data, the quarantine
// and its counters, hourly and daily roll-ups, crash safety and lifecycle allocations.
#include "metering/tests/test_util.h"
#include "store/migrate.h"

namespace gantry::metering {
namespace {

using IngestTest = MeteringTest;

TEST_P(IngestTest, ReplayedBatchCountsOnce) {
  MakeTenant("acme", {"train"});
  std::vector<UsageRecord> batch = {Gpu("k1", "acme", "train", 2 * kGpuHour, kNov10),
                                    Gpu("k2", "acme", "", kGpuHour, kNov10 + kHour)};
  auto first = Ingest(batch);
  EXPECT_EQ(2, first.accepted);
  EXPECT_EQ(0, first.duplicates);
  auto replay = Ingest(batch);
  EXPECT_EQ(0, replay.accepted);
  EXPECT_EQ(2, replay.duplicates);
  EXPECT_EQ(3 * kGpuHour, Total("acme"));
  // A key repeated inside one batch counts once too.
  auto dup = Ingest({Gpu("k3", "acme", "", 5, kNov10), Gpu("k3", "acme", "", 5, kNov10)});
  EXPECT_EQ(1, dup.accepted);
  EXPECT_EQ(1, dup.duplicates);
  EXPECT_EQ(3 * kGpuHour + 5, Total("acme"));
  EXPECT_EQ(3, AuditCount("usage.ingest"));
  EXPECT_EQ(3, metrics_.Counter("gantry_metering_records_total", "", {}).Value({"api", "accepted"}));
  EXPECT_EQ(3, metrics_.Counter("gantry_metering_records_total", "", {}).Value({"api", "duplicate"}));
}

TEST_P(IngestTest, OutOfOrderWithinTheWindowIsAcceptedOlderIsQuarantined) {
  MakeTenant("acme");
  auto now = clock_.Now();
  auto r = Ingest({Gpu("new", "acme", "", 100, now - kHour),
                   Gpu("old", "acme", "", 200, now - 3 * kNanosPerDay),
                   Gpu("too-old", "acme", "", 300, now - 8 * kNanosPerDay),
                   Gpu("future", "acme", "", 400, now + kHour)});
  EXPECT_EQ(2, r.accepted);
  EXPECT_EQ(2, r.quarantined);
  EXPECT_EQ(300, Total("acme"));
  auto q = service_->Quarantine(admin_, std::nullopt, std::nullopt, 100);
  ASSERT_OK(q);
  ASSERT_EQ(2u, q->size());
  std::map<std::string, std::string> reasons;
  for (const auto& x : *q) reasons[x.key] = x.reason;
  EXPECT_EQ("late", reasons["too-old"]);
  EXPECT_EQ("clock_skew", reasons["future"]);
  EXPECT_EQ(1, metrics_.Counter("gantry_metering_quarantined_total", "", {}).Value({"late"}));
  EXPECT_EQ(1, metrics_.Counter("gantry_metering_quarantined_total", "", {}).Value({"clock_skew"}));
  EXPECT_NE(std::string::npos, metrics_.Render().find("gantry_metering_quarantined_total{reason=\"late\"} 1"));
}

TEST_P(IngestTest, BadRecordsAreQuarantinedWithTheirReason) {
  MakeTenant("acme", {"train"});
  auto now = clock_.Now();
  UsageRecord neg = Gpu("neg", "acme", "", -5, now - kHour);
  UsageRecord huge = Gpu("huge", "acme", "", kMaxQuantity + 1, now - kHour);
  UsageRecord kind = Gpu("kind", "acme", "", 5, now - kHour);
  kind.kind = "wished";
  UsageRecord backwards = Gpu("back", "acme", "", 5, now - kHour);
  backwards.end = backwards.start - 1;
  auto r = Ingest({Gpu("who", "nobody", "", 5, now - kHour), Gpu("proj", "acme", "nope", 5, now - kHour),
                   Gpu("sku", "acme", "", 5, now - kHour, kHour, "gpu-unobtainium-hour"), neg, huge,
                   kind, backwards, Gpu("ok", "acme", "train", 7, now - kHour)});
  EXPECT_EQ(1, r.accepted);
  EXPECT_EQ(7, r.quarantined);
  std::map<std::string, std::string> reasons(r.quarantine.begin(), r.quarantine.end());
  EXPECT_EQ("unknown_tenant", reasons["who"]);
  EXPECT_EQ("unknown_project", reasons["proj"]);
  EXPECT_EQ("unknown_sku", reasons["sku"]);
  EXPECT_EQ("bad_quantity", reasons["neg"]);
  EXPECT_EQ("bad_quantity", reasons["huge"]);
  EXPECT_EQ("bad_kind", reasons["kind"]);
  EXPECT_EQ("bad_interval", reasons["back"]);
  EXPECT_EQ(7, Total("acme"));
  // An invalid key refuses the whole batch: nothing is written.
  auto bad = service_->Ingest(admin_, "api", {Gpu("fine", "acme", "", 1, now - kHour), Gpu("has space", "acme", "", 1, now - kHour)});
  ASSERT_FALSE(bad);
  EXPECT_EQ(core::Code::kInvalidArgument, bad.error().code);
  EXPECT_EQ(7, Total("acme"));
}

TEST_P(IngestTest, RollupsSplitRecordsAcrossHoursAndDays) {
  MakeTenant("acme");
  // 3 hours from 22:30 on Nov 10 to 01:30 on Nov 11: 1000 units split 1/6, 2/6, 2/6, 1/6.
  auto start = kNov10 + 22 * kHour + kHour / 2;
  clock_.Advance(2 * kNanosPerDay);
  Ingest({Gpu("span", "acme", "", 1000, start, 3 * kHour)});
  UsageQuery q;
  q.tenant = "acme";
  q.since = kNov10;
  q.until = kNov10 + 2 * kNanosPerDay;
  auto hourly = service_->Usage(admin_, q);
  ASSERT_OK(hourly);
  ASSERT_EQ(4u, hourly->size());
  std::vector<int64_t> parts;
  int64_t sum = 0;
  for (const auto& r : *hourly) {
    parts.push_back(r.quantity);
    sum += r.quantity;
  }
  EXPECT_EQ(1000, sum);
  EXPECT_EQ((std::vector<int64_t>{166, 334, 333, 167}), parts);
  EXPECT_EQ(kNov10 + 22 * kHour, hourly->front().bucket);
  q.daily = true;
  auto daily = service_->Usage(admin_, q);
  ASSERT_OK(daily);
  ASSERT_EQ(2u, daily->size());
  EXPECT_EQ(500, (*daily)[0].quantity);
  EXPECT_EQ(500, (*daily)[1].quantity);
  EXPECT_EQ(kNov10 + kNanosPerDay, (*daily)[1].bucket);
}

TEST_P(IngestTest, CrashBeforeCommitLosesNothingAndRetryCountsOnce) {
  MakeTenant("acme");
  std::vector<UsageRecord> batch = {Gpu("a", "acme", "", 10, kNov10), Gpu("b", "acme", "", 20, kNov10)};
  service_->before_commit_for_test = [] { return core::Status(core::Unavailable("simulated crash")); };
  ASSERT_FALSE(service_->Ingest(admin_, "api", batch));
  EXPECT_EQ(0, Total("acme"));
  auto rs = db_->Query("SELECT COUNT(*) FROM usage_records");
  EXPECT_EQ(0, rs->rows.at(0).Int(0));
  Restart();  // the process comes back; the sender retries the batch
  EXPECT_EQ(2, Ingest(batch).accepted);
  EXPECT_EQ(2, Ingest(batch).duplicates);
  EXPECT_EQ(30, Total("acme"));
}

TEST_P(IngestTest, PermissionsAndVisibility) {
  MakeTenant("acme");
  MakeTenant("globex");
  Ingest({Gpu("a", "acme", "", 10, kNov10), Gpu("g", "globex", "", 20, kNov10)});
  core::RequestContext member;
  member.principal.username = "m";
  member.principal.user_id = 99;
  member.principal.roles = {core::Role::kTenantMember};
  member.principal.auth_method = "token";
  auto acme = tenancy_->GetTenant(admin_, "acme");
  member.principal.tenants = {{acme->id, "acme", core::Role::kTenantMember}};
  EXPECT_EQ(core::Code::kPermissionDenied,
            service_->Ingest(member, "api", {Gpu("x", "acme", "", 1, kNov10)}).error().code);
  UsageQuery q;
  q.since = kNov10;
  q.until = kNov10 + kNanosPerDay;
  auto rows = service_->Usage(member, q);
  ASSERT_OK(rows);
  ASSERT_EQ(1u, rows->size());
  EXPECT_EQ("acme", rows->front().tenant);
  q.tenant = "globex";
  EXPECT_EQ(core::Code::kNotFound, service_->Usage(member, q).error().code);
  EXPECT_EQ(core::Code::kPermissionDenied,
            service_->Quarantine(member, std::nullopt, std::nullopt, 10).error().code);
}

TEST_P(IngestTest, AllocationEventsMeterLeasesOnStopAndAtMonthEnd) {
  MakeTenant("acme", {"hpc"});
  AllocationEvent start{"lease-1-start", "acme", "hpc", "node-7", "baremetal-node-hour", "start", 1,
                        kNov10 + kHour};
  ASSERT_OK(service_->PostAllocationEvent(admin_, start));
  ASSERT_OK(service_->PostAllocationEvent(admin_, start));  // replay
  AllocationEvent stop = start;
  stop.key = "lease-1-stop";
  stop.event = "stop";
  stop.time = kNov10 + 3 * kHour;
  auto r = service_->PostAllocationEvent(admin_, stop);
  ASSERT_OK(r);
  EXPECT_EQ(1, r->accepted);
  auto again = service_->PostAllocationEvent(admin_, stop);
  ASSERT_OK(again);
  EXPECT_EQ(0, again->accepted);
  EXPECT_EQ(2 * 3'600'000, Total("acme", "baremetal-node-hour"));
  // A stop without a start is refused.
  stop.resource = "node-8";
  EXPECT_EQ(core::Code::kFailedPrecondition, service_->PostAllocationEvent(admin_, stop).error().code);
  EXPECT_EQ(2, AuditCount("usage.allocation.start"));
}

TEST_P(IngestTest, ALongLeaseIsMeteredInFullWhenItStopsAndPerMonthWhenInvoiced) {
  MakeTenant("acme");
  AllocationEvent start{"l2-start", "acme", "", "node-9", "baremetal-node-hour", "start", 2,
                        kNov10 - 40 * kNanosPerDay};  // Oct 1, 00:00
  ASSERT_OK(service_->PostAllocationEvent(admin_, start));
  // Invoicing October (on Nov 10) closes the lease's October: 31 days × 2 nodes.
  Price p;
  p.sku = "baremetal-node-hour";
  p.unit_price_micros = 1'000'000;
  ASSERT_OK(service_->AddPrice(admin_, p));
  auto inv = billing_->Issue(admin_, "acme", "2026-10");
  ASSERT_OK(inv);
  EXPECT_EQ(31 * 24 * 2 * 1'000'000, inv->total_micros);
  // The stop (Nov 10, 12:00) meters only November, though the lease began 40 days ago.
  AllocationEvent stop = start;
  stop.key = "l2-stop";
  stop.event = "stop";
  stop.time = clock_.Now();
  auto r = service_->PostAllocationEvent(admin_, stop);
  ASSERT_OK(r);
  EXPECT_EQ(0, r->quarantined);
  EXPECT_EQ((31 * 24 + 9 * 24 + 12) * 2 * 3'600'000LL, Total("acme", "baremetal-node-hour"));
}

GANTRY_INSTANTIATE_BACKENDS(IngestTest);

}  // namespace
}  // namespace gantry::metering
