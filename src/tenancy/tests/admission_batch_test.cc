// Group commit of admission decisions (admission.h): a batch decided in one transaction gives
// every call the result it would get alone, in order; refusals change nothing; every decision
// has its own audit event and the chain stays valid. And under 100 concurrent callers through
// the combiner, a quota is never over-committed (both databases).
#include "tenancy/tests/test_util.h"

namespace gantry::tenancy {
namespace {

constexpr char kH100[] = "gpu/h100";

class AdmissionBatchTest : public TenancyTest {
 protected:
  AdmissionBatchTest() : TenancyTest(32) {}

  // Runs these calls as one batch and returns their results in the given order.
  std::vector<core::Result<Reservation>> Batch(
      std::vector<std::pair<std::string, ReserveRequest>> calls) {
    std::vector<PendingReserve> pending(calls.size());
    std::vector<PendingReserve*> ptrs;
    for (size_t i = 0; i < calls.size(); ++i) {
      pending[i] = {&admin_, calls[i].first, &calls[i].second, std::nullopt};
      ptrs.push_back(&pending[i]);
    }
    service_.DecideBatch(ptrs);
    std::vector<core::Result<Reservation>> out;
    for (auto& p : pending) {
      EXPECT_TRUE(p.result.has_value());
      out.push_back(p.result ? std::move(*p.result) : core::Internal("no result"));
    }
    return out;
  }
  static ReserveRequest Req(int64_t gpus, std::string ref) {
    return {std::nullopt, {{kH100, gpus}}, std::move(ref)};
  }
};

TEST_P(AdmissionBatchTest, EachCallIsDecidedOnTheStateLeftByTheOnesBefore) {
  MakeTenant("acme");
  MakeTenant("beta");
  SetQuota("acme", kH100, 4);
  SetQuota("beta", kH100, 1);
  int reserves_before = AuditCount("quota.reserve");

  auto r = Batch({{"acme", Req(2, "j1")},
                  {"acme", Req(1, "j1")},    // same ref as the first: conflict
                  {"beta", Req(2, "b1")},    // over beta's quota
                  {"nobody", Req(1, "x")},   // no such tenant
                  {"acme", Req(2, "j2")},    // fits: 2 + 2 = 4
                  {"acme", Req(1, "j3")}});  // acme is full now
  ASSERT_OK(r[0]);
  EXPECT_EQ(core::Code::kConflict, r[1].error().code);
  EXPECT_EQ(core::Code::kResourceExhausted, r[2].error().code);
  EXPECT_EQ(core::Code::kNotFound, r[3].error().code);
  ASSERT_OK(r[4]);
  EXPECT_EQ(core::Code::kResourceExhausted, r[5].error().code);
  EXPECT_NE(std::string::npos, r[5].error().message.find("reserved 4, limit 4"))
      << r[5].error().message;

  EXPECT_EQ(4, View("acme", kH100).reserved);
  EXPECT_EQ(0, View("beta", kH100).reserved);
  EXPECT_EQ(reserves_before + 2, AuditCount("quota.reserve"));
  auto verify = audit_.Verify();
  ASSERT_OK(verify);
  EXPECT_TRUE(verify->ok) << verify->problem;
}

TEST_P(AdmissionBatchTest, ReclaimInsideABatch) {
  MakeTenant("a", "pool");
  MakeTenant("b", "pool");
  SetQuota("a", kH100, 4);
  SetQuota("b", kH100, 4, 8);
  ASSERT_OK(Reserve("b", {{kH100, 4}}, "own"));
  ASSERT_OK(Reserve("b", {{kH100, 4}}, "borrowing"));  // a's unused guarantee

  auto r = Batch({{"a", Req(3, "mine")},   // a's own guarantee: reclaims b's borrowing
                  {"b", Req(2, "more")}});  // b would borrow 2, the cohort has 1
  ASSERT_OK(r[0]);
  EXPECT_EQ(core::Code::kResourceExhausted, r[1].error().code);
  EXPECT_EQ(3, View("a", kH100).reserved);
  EXPECT_EQ(4, View("b", kH100).reserved);
  EXPECT_EQ(1, AuditCount("quota.reclaim"));
  ListOptions o;
  auto reclaimed = service_.ListReservations(admin_, "b", std::string(kReclaimed), o);
  ASSERT_OK(reclaimed);
  ASSERT_EQ(1u, reclaimed->size());
  EXPECT_EQ("borrowing", (*reclaimed)[0].ref);
}

// 100 threads through the combiner: tenants a and b share cohort "pool" (guaranteed 30 each, b
// may burst to 50), c has 20 alone. Whatever the interleaving and batching, no level and no
// cohort is ever above its limit, the counters equal the active reservations, and every
// admission has its audit event.
TEST_P(AdmissionBatchTest, HundredConcurrentCallersThroughTheCombinerNeverOvercommit) {
  MakeTenant("a", "pool");
  MakeTenant("b", "pool");
  MakeTenant("c");
  SetQuota("a", kH100, 30);
  SetQuota("b", kH100, 30, 50);
  SetQuota("c", kH100, 20);
  service_.EnableAdmissionBatching({.lanes = 4, .max_batch = 16});
  int reserves_before = AuditCount("quota.reserve");

  const char* tenants[] = {"a", "b", "b", "c"};
  auto out = ReserveConcurrently(100, [&](int i) {
    return service_.Reserve(admin_, tenants[i % 4], Req(2, "job-" + std::to_string(i)));
  });
  for (const auto& e : out.other) ADD_FAILURE() << e;
  EXPECT_EQ(100, out.admitted + out.exhausted);
  EXPECT_EQ(100, service_.AdmissionStats().calls);

  int64_t ra = View("a", kH100).reserved, rb = View("b", kH100).reserved,
          rc = View("c", kH100).reserved;
  EXPECT_LE(ra, 30);
  EXPECT_LE(rb, 50);
  EXPECT_LE(ra + rb, 60);  // the cohort never exceeds its members' guarantees
  EXPECT_EQ(20, rc);       // c: 25 callers asking 2 each, 10 fit
  ListOptions o;
  o.limit = 1000;
  int64_t active = 0;
  for (const char* t : {"a", "b", "c"}) {
    for (const auto& res : *service_.ListReservations(admin_, t, std::string(kActive), o)) {
      active += res.resources.at(kH100);
    }
  }
  EXPECT_EQ(ra + rb + rc, active);
  EXPECT_EQ(reserves_before + out.admitted, AuditCount("quota.reserve"));
  auto verify = audit_.Verify();
  ASSERT_OK(verify);
  EXPECT_TRUE(verify->ok) << verify->problem;
}

GANTRY_INSTANTIATE_BACKENDS(AdmissionBatchTest);

}  // namespace
}  // namespace gantry::tenancy
