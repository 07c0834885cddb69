// Quotas and admission on SQLite and PostgreSQL: limits, all-or-nothing reservations, cohorts
// (borrow and reclaim), quotas below usage, project quotas inside their tenant's, and the
// concurrency proof (100 concurrent reservations never over-commit a quota).
#include <atomic>
#include <thread>

#include "tenancy/tests/test_util.h"

namespace gantry::tenancy {
namespace {

constexpr char kH100[] = "gpu/h100";

using AdmissionTest = TenancyTest;

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST_P(AdmissionTest, ReservesWithinTheQuotaAndReleases) {
  MakeTenant("acme");
  SetQuota("acme", kH100, 8);
  SetQuota("acme", "cpu", 64);
  auto r1 = Reserve("acme", {{kH100, 5}, {"cpu", 32}}, "slurm:1001");
  ASSERT_OK(r1);
  EXPECT_EQ(kActive, r1->state);
  EXPECT_TRUE(r1->borrowed.empty());
  EXPECT_EQ(5, View("acme", kH100).reserved);
  EXPECT_EQ(32, View("acme", "cpu").reserved);

  auto over = Reserve("acme", {{kH100, 4}}, "slurm:1002");
  ASSERT_FALSE(over);
  EXPECT_EQ(core::Code::kResourceExhausted, over.error().code);
  const std::string& m = over.error().message;
  EXPECT_TRUE(Contains(m, "gpu/h100") && Contains(m, "requested 4") && Contains(m, "reserved 5") &&
              Contains(m, "limit 8"))
      << m;

  // All or nothing: the GPUs fit, the CPUs do not, so neither is reserved.
  auto mixed = Reserve("acme", {{kH100, 1}, {"cpu", 33}}, "slurm:1003");
  EXPECT_EQ(core::Code::kResourceExhausted, mixed.error().code);
  EXPECT_TRUE(Contains(mixed.error().message, "cpu: requested 33, reserved 32, limit 64"))
      << mixed.error().message;
  EXPECT_EQ(5, View("acme", kH100).reserved);

  // A resource without a quota cannot be reserved at all.
  auto none = Reserve("acme", {{"memory", 1}}, "slurm:1004");
  EXPECT_EQ(core::Code::kResourceExhausted, none.error().code);
  EXPECT_TRUE(Contains(none.error().message, "no quota")) << none.error().message;

  auto released = service_.Release(admin_, "acme", r1->id);
  ASSERT_OK(released);
  EXPECT_EQ(kReleased, released->state);
  EXPECT_TRUE(released->released_at);
  EXPECT_EQ(0, View("acme", kH100).reserved);
  EXPECT_EQ(0, View("acme", "cpu").reserved);
  EXPECT_EQ(core::Code::kFailedPrecondition, service_.Release(admin_, "acme", r1->id).error().code);
  EXPECT_EQ(1, AuditCount("quota.reserve"));
  EXPECT_EQ(1, AuditCount("quota.release"));
}

TEST_P(AdmissionTest, RefsAreUniqueWhileActiveAndDisabledTenantsAdmitNothing) {
  MakeTenant("acme");
  SetQuota("acme", kH100, 8);
  auto r = Reserve("acme", {{kH100, 1}}, "job-1");
  ASSERT_OK(r);
  EXPECT_EQ(core::Code::kConflict, Reserve("acme", {{kH100, 1}}, "job-1").error().code);
  ASSERT_OK(service_.Release(admin_, "acme", r->id));
  ASSERT_OK(Reserve("acme", {{kH100, 1}}, "job-1"));

  EXPECT_EQ(core::Code::kInvalidArgument, Reserve("acme", {{kH100, 0}}, "job-2").error().code);
  EXPECT_EQ(core::Code::kInvalidArgument, Reserve("acme", {}, "job-2").error().code);
  EXPECT_EQ(core::Code::kInvalidArgument, Reserve("acme", {{kH100, 1}}, "").error().code);

  TenantPatch p;
  p.disabled = true;
  ASSERT_OK(service_.UpdateTenant(admin_, "acme", p));
  EXPECT_EQ(core::Code::kFailedPrecondition, Reserve("acme", {{kH100, 1}}, "job-3").error().code);
}

TEST_P(AdmissionTest, TenantUsersReserveOnlyForTheirOwnTenant) {
  MakeTenant("acme");
  MakeTenant("globex");
  SetQuota("acme", kH100, 8);
  SetQuota("globex", kH100, 8);
  auto member = MemberOf("acme");
  auto viewer = MemberOf("acme", core::Role::kViewer);
  ReserveRequest req{std::nullopt, {{kH100, 1}}, "job-1"};
  auto mine = service_.Reserve(member, "acme", req);
  ASSERT_OK(mine);
  EXPECT_EQ(member.principal.username, mine->created_by);
  EXPECT_EQ(core::Code::kNotFound, service_.Reserve(member, "globex", req).error().code);
  EXPECT_EQ(core::Code::kPermissionDenied, service_.Reserve(viewer, "acme", req).error().code);
  EXPECT_EQ(core::Code::kPermissionDenied,
            service_.SetQuota(member, "acme", {kH100, 100, {}, {}, false}).error().code);
  ASSERT_OK(service_.Release(member, "acme", mine->id));
}

TEST_P(AdmissionTest, CohortMembersBorrowUpToTheirBurstAndOwnersReclaim) {
  MakeTenant("alpha", "research");
  MakeTenant("beta", "research");
  SetQuota("alpha", kH100, 10, 20);  // may borrow up to 10 more
  SetQuota("beta", kH100, 10);       // no burst: never borrows

  auto a1 = Reserve("alpha", {{kH100, 8}}, "a1");
  ASSERT_OK(a1);
  auto a2 = Reserve("alpha", {{kH100, 6}}, "a2");  // 14: 4 of them borrowed from beta
  ASSERT_OK(a2);
  EXPECT_EQ(4, a2->borrowed.at(kH100));
  EXPECT_EQ(14, View("alpha", kH100).reserved);
  EXPECT_EQ(4, View("alpha", kH100).borrowed);
  EXPECT_EQ(4, View("beta", kH100).lent);
  EXPECT_EQ(0, View("beta", kH100).borrowed);

  // Without a burst beta stays within its own guarantee.
  auto b_over = Reserve("beta", {{kH100, 11}}, "b0");
  EXPECT_EQ(core::Code::kResourceExhausted, b_over.error().code);

  // Beta needs 7 of its own 10, but alpha holds 4 of them: alpha's newest borrowing
  // reservation is reclaimed and beta is admitted.
  auto b1 = Reserve("beta", {{kH100, 7}}, "b1");
  ASSERT_OK(b1);
  EXPECT_TRUE(b1->borrowed.empty());
  EXPECT_EQ(kReclaimed, service_.GetReservation(admin_, "alpha", a2->id)->state);
  EXPECT_EQ(kActive, service_.GetReservation(admin_, "alpha", a1->id)->state);
  auto events = audit_.Search({.action = "quota.reclaim", .limit = 10}).value();
  ASSERT_EQ(1u, events.size());
  EXPECT_EQ("alpha", events[0].tenant.value_or(""));
  EXPECT_EQ(std::to_string(a2->id), events[0].target);
  EXPECT_TRUE(Contains(events[0].details, "\"for_tenant\":\"beta\"")) << events[0].details;
  EXPECT_EQ(8, View("alpha", kH100).reserved);
  EXPECT_EQ(0, View("alpha", kH100).borrowed);
  EXPECT_EQ(7, View("beta", kH100).reserved);
  EXPECT_EQ(core::Code::kFailedPrecondition, service_.Release(admin_, "alpha", a2->id).error().code);

  // A borrower never reclaims: alpha wants 18 of a cohort with 5 left.
  auto a3 = Reserve("alpha", {{kH100, 10}}, "a3");
  ASSERT_FALSE(a3);
  EXPECT_EQ(core::Code::kResourceExhausted, a3.error().code);
  EXPECT_TRUE(Contains(a3.error().message, "cohort 'research'")) << a3.error().message;
  EXPECT_TRUE(Contains(a3.error().message, "reserved 15, limit 20")) << a3.error().message;
  // But it borrows what is free.
  ASSERT_OK(Reserve("alpha", {{kH100, 5}}, "a4"));
  EXPECT_EQ(3, View("alpha", kH100).borrowed);
  EXPECT_EQ(3, View("beta", kH100).lent);
}

TEST_P(AdmissionTest, BurstWithoutACohortBorrowsNothing) {
  MakeTenant("solo");
  SetQuota("solo", kH100, 4, 8);
  ASSERT_OK(Reserve("solo", {{kH100, 4}}, "s1"));
  auto over = Reserve("solo", {{kH100, 1}}, "s2");
  EXPECT_EQ(core::Code::kResourceExhausted, over.error().code);
  EXPECT_TRUE(Contains(over.error().message, "no cohort")) << over.error().message;
}

TEST_P(AdmissionTest, AQuotaBelowUsageNeedsForceAndThenOnlyBlocksNewWork) {
  MakeTenant("acme");
  SetQuota("acme", kH100, 10);
  auto running = Reserve("acme", {{kH100, 8}}, "running");
  ASSERT_OK(running);

  auto refused = service_.SetQuota(admin_, "acme", {kH100, 6, {}, {}, false});
  ASSERT_FALSE(refused);
  EXPECT_EQ(core::Code::kFailedPrecondition, refused.error().code);
  EXPECT_TRUE(Contains(refused.error().message, "reserves 8") &&
              Contains(refused.error().message, "force"))
      << refused.error().message;
  EXPECT_EQ(10, View("acme", kH100).guaranteed.value_or(-1));

  auto forced = service_.SetQuota(admin_, "acme", {kH100, 6, {}, {}, true});
  ASSERT_OK(forced);
  EXPECT_EQ(6, forced->guaranteed.value_or(-1));
  EXPECT_EQ(8, forced->reserved);
  EXPECT_EQ(2, forced->borrowed);
  // Running work is untouched; new work is refused.
  EXPECT_EQ(kActive, service_.GetReservation(admin_, "acme", running->id)->state);
  EXPECT_EQ(core::Code::kResourceExhausted, Reserve("acme", {{kH100, 1}}, "new").error().code);
  // Raising a quota that is still below usage needs no force.
  ASSERT_OK(service_.SetQuota(admin_, "acme", {kH100, 7, {}, {}, false}));
  ASSERT_OK(service_.Release(admin_, "acme", running->id));
  ASSERT_OK(Reserve("acme", {{kH100, 1}}, "new"));
}

TEST_P(AdmissionTest, ProjectQuotasFitInsideTheTenants) {
  MakeTenant("acme");
  ASSERT_OK(service_.CreateProject(admin_, "acme", "train", ""));
  ASSERT_OK(service_.CreateProject(admin_, "acme", "serve", ""));
  SetQuota("acme", kH100, 10, 12);

  auto too_big = service_.SetQuota(admin_, "acme", {kH100, 12, {}, "train", false});
  ASSERT_FALSE(too_big);
  EXPECT_EQ(core::Code::kInvalidArgument, too_big.error().code);
  EXPECT_TRUE(Contains(too_big.error().message, "guaranteed 12") &&
              Contains(too_big.error().message, "guaranteed 10"))
      << too_big.error().message;

  SetQuota("acme", kH100, 6, 8, "train");
  auto sum = service_.SetQuota(admin_, "acme", {kH100, 6, {}, "serve", false});
  EXPECT_EQ(core::Code::kInvalidArgument, sum.error().code);
  EXPECT_TRUE(Contains(sum.error().message, "12")) << sum.error().message;
  auto burst = service_.SetQuota(admin_, "acme", {kH100, 4, 13, "serve", false});
  EXPECT_EQ(core::Code::kInvalidArgument, burst.error().code);
  EXPECT_TRUE(Contains(burst.error().message, "13") && Contains(burst.error().message, "12"))
      << burst.error().message;
  SetQuota("acme", kH100, 4, {}, "serve");
  // The tenant's quota cannot drop below what its projects guarantee.
  auto lower = service_.SetQuota(admin_, "acme", {kH100, 8, 12, {}, true});
  EXPECT_EQ(core::Code::kInvalidArgument, lower.error().code);
  // A project quota needs a tenant quota for the resource.
  EXPECT_EQ(core::Code::kFailedPrecondition,
            service_.SetQuota(admin_, "acme", {"cpu", 4, {}, "train", false}).error().code);

  // train: 6 guaranteed, bursts to 8 into the tenant's unused guarantee.
  ASSERT_OK(Reserve("acme", {{kH100, 6}}, "t1", "train"));
  ASSERT_OK(Reserve("acme", {{kH100, 2}}, "t2", "train"));
  auto t3 = Reserve("acme", {{kH100, 1}}, "t3", "train");
  EXPECT_EQ(core::Code::kResourceExhausted, t3.error().code);
  EXPECT_TRUE(Contains(t3.error().message, "reserved 8, limit 8 (project 'train')"))
      << t3.error().message;
  ASSERT_OK(Reserve("acme", {{kH100, 2}}, "s1", "serve"));
  EXPECT_EQ(8, View("acme", kH100, "train").reserved);
  EXPECT_EQ(2, View("acme", kH100, "train").borrowed);
  EXPECT_EQ(2, View("acme", kH100, "serve").reserved);
  EXPECT_EQ(10, View("acme", kH100).reserved);
  // Projects cannot be deleted while they hold reservations.
  EXPECT_EQ(core::Code::kConflict, service_.DeleteProject(admin_, "acme", "train").error().code);
}

TEST_P(AdmissionTest, CohortChangesWaitUntilNothingIsBorrowed) {
  MakeTenant("alpha", "research");
  MakeTenant("beta", "research");
  SetQuota("alpha", kH100, 10, 20);
  SetQuota("beta", kH100, 10);
  auto a = Reserve("alpha", {{kH100, 15}}, "a1");
  ASSERT_OK(a);
  TenantPatch leave;
  leave.cohort = std::optional<std::string>();
  EXPECT_EQ(core::Code::kFailedPrecondition, service_.UpdateTenant(admin_, "beta", leave).error().code);
  EXPECT_EQ(core::Code::kFailedPrecondition, service_.UpdateTenant(admin_, "alpha", leave).error().code);
  EXPECT_EQ(core::Code::kConflict, service_.DeleteTenant(admin_, "alpha").error().code);
  EXPECT_EQ(core::Code::kFailedPrecondition, service_.DeleteTenant(admin_, "beta").error().code);
  ASSERT_OK(service_.Release(admin_, "alpha", a->id));
  ASSERT_OK(service_.UpdateTenant(admin_, "beta", leave));
  ASSERT_OK(service_.DeleteTenant(admin_, "alpha"));
}

TEST_P(AdmissionTest, HistoryRecordsEveryChangeOverTime) {
  MakeTenant("acme");
  SetQuota("acme", kH100, 10);
  core::UnixNanos t0 = clock_.Now();
  clock_.Advance(60 * core::kNanosPerSecond);
  auto r = Reserve("acme", {{kH100, 3}}, "j1");
  ASSERT_OK(r);
  clock_.Advance(60 * core::kNanosPerSecond);
  ASSERT_OK(service_.Release(admin_, "acme", r->id));

  auto all = service_.Usage(admin_, "acme", {});
  ASSERT_OK(all);
  ASSERT_EQ(3u, all->size());
  EXPECT_EQ(0, (*all)[0].reserved);
  EXPECT_EQ(10, (*all)[0].guaranteed);
  EXPECT_EQ(3, (*all)[1].reserved);
  EXPECT_EQ(0, (*all)[2].reserved);

  HistoryFilter f;
  f.since = t0 + 1;
  f.until = t0 + 90 * core::kNanosPerSecond;
  auto window = service_.Usage(admin_, "acme", f);
  ASSERT_EQ(1u, window->size());
  EXPECT_EQ(3, (*window)[0].reserved);
  f = {};
  f.resource = "cpu";
  EXPECT_TRUE(service_.Usage(admin_, "acme", f)->empty());
}

GANTRY_INSTANTIATE_BACKENDS(AdmissionTest);

// 100 threads each reserve one GPU against a quota of 50: exactly 50 succeed.
class ConcurrentAdmissionTest : public TenancyTest {
 protected:
  ConcurrentAdmissionTest() : TenancyTest(32) {}
};

TEST_P(ConcurrentAdmissionTest, HundredConcurrentReservationsNeverOvercommit) {
  MakeTenant("acme");
  SetQuota("acme", kH100, 50);
  auto out = ReserveConcurrently(100, [&](int i) {
    return service_.Reserve(admin_, "acme", {std::nullopt, {{kH100, 1}}, "job-" + std::to_string(i)});
  });
  for (const auto& e : out.other) ADD_FAILURE() << e;
  EXPECT_EQ(50, out.admitted);
  EXPECT_EQ(50, out.exhausted);
  EXPECT_EQ(50, View("acme", kH100).reserved);
  ListOptions o;
  o.limit = 1000;
  EXPECT_EQ(50u, service_.ListReservations(admin_, "acme", std::string(kActive), o)->size());
}

GANTRY_INSTANTIATE_BACKENDS(ConcurrentAdmissionTest);

}  // namespace
}  // namespace gantry::tenancy
