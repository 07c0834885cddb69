// Usage over time: engines' reports roll up to the tenant, the tenancy.usage_snapshot job (run by
// a real job worker) records every quota line with `used`, the quota view shows the newest
// `used`, an engine that cannot be asked leaves `used` unknown (not zero), and the series route
// samples the snapshots in fixed steps, carrying the last state forward.
#include <chrono>
#include <thread>

#include "http/problem.h"
#include "jobs/worker.h"
#include "tenancy/store.h"
#include "tenancy/tests/test_util.h"
#include "tenancy/usage.h"

namespace gantry::tenancy {
namespace {

using namespace std::chrono_literals;

// An engine that reports fixed use, or fails like an unreachable one. No engine runs here for
// this unit test: the Slurm source is exercised against a real Slurm in tenancy_slurm_test.
class FakeEngine : public UsageSource {
 public:
  std::string name() const override { return "fake"; }
  core::Result<std::vector<EngineUse>> Used() override {
    if (down) return core::Unavailable("sacct: cannot reach slurmdbd");
    return use;
  }
  std::vector<EngineUse> use;
  bool down = false;
};

class UsageTest : public TenancyTest {
 protected:
  void SetUp() override {
    RegisterUsageSnapshotJobType(registry_, service_, {engine_});
    RegisterUsageRoutes(router_, service_);
    jobs_ = std::make_unique<jobs::Service>(*db_, audit_, clock_, registry_);
    workers_ = StartWorkers(*jobs_);
  }
  void TearDown() override { workers_->Stop(); }

  jobs::Job Snapshot() { return RunJob(*jobs_, *workers_, kUsageSnapshotJobType); }

  http::Response Get(const std::string& target) {
    http::Request r;
    r.method = "GET";
    r.target = target;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    auto m = router_.Find("GET", r.path);
    if (!m.route) return http::Response{.status = 404};
    http::Context c{r, m.params, admin_};
    auto resp = m.route->handler(c);
    if (!resp) return http::Response{.status = http::StatusFor(resp.error().code),
                                     .body = resp.error().message};
    return *resp;
  }

  std::shared_ptr<FakeEngine> engine_ = std::make_shared<FakeEngine>();
  jobs::Registry registry_;
  http::Router router_;
  std::unique_ptr<jobs::Service> jobs_;
  std::unique_ptr<jobs::WorkerPool> workers_;
};

TEST(UsageRollUp, ProjectsCountInTheirTenant) {
  auto r = RollUp({{"acme", "", {{"gpu/h100", 1}}},
                   {"acme", "vision", {{"gpu/h100", 2}, {"cpu", 8}}},
                   {"beta", "x", {{"cpu", 4}}}});
  EXPECT_EQ((Amounts{{"cpu", 8}, {"gpu/h100", 3}}), (r[{"acme", ""}]));
  EXPECT_EQ((Amounts{{"cpu", 8}, {"gpu/h100", 2}}), (r[{"acme", "vision"}]));
  EXPECT_EQ((Amounts{{"cpu", 4}}), (r[{"beta", ""}]));
}

TEST_P(UsageTest, SnapshotRecordsEveryLineWithWhatTheEnginesRun) {
  MakeTenant("acme");
  ASSERT_OK(service_.CreateProject(admin_, "acme", "vision", "Vision"));
  SetQuota("acme", "gpu/h100", 8);
  SetQuota("acme", "cpu", 64);
  SetQuota("acme", "gpu/h100", 4, std::nullopt, "vision");
  ASSERT_OK(Reserve("acme", {{"gpu/h100", 3}}, "job-1", "vision"));
  engine_->use = {{"acme", "", {{"gpu/h100", 1}}}, {"acme", "vision", {{"gpu/h100", 2}}}};

  auto job = Snapshot();
  ASSERT_EQ(jobs::kSucceeded, job.state) << job.error.value_or("");
  auto result = core::json::parse(*job.result).as_object();
  EXPECT_EQ(3, result.at("lines").as_int64());
  EXPECT_TRUE(result.at("used_known").as_bool());

  EXPECT_EQ(3, View("acme", "gpu/h100").used.value_or(-1));          // 1 + the project's 2
  EXPECT_EQ(2, View("acme", "gpu/h100", "vision").used.value_or(-1));
  EXPECT_EQ(0, View("acme", "cpu").used.value_or(-1));                // reported: nothing runs
  EXPECT_EQ(3, View("acme", "gpu/h100").reserved);

  // Slurm down: the next snapshot records `used` as unknown and the view says so.
  engine_->down = true;
  job = Snapshot();
  ASSERT_EQ(jobs::kSucceeded, job.state);
  EXPECT_FALSE(core::json::parse(*job.result).as_object().at("used_known").as_bool());
  bool logged = false;
  for (const auto& l : job.log) logged = logged || l.line.find("cannot reach slurmdbd") != std::string::npos;
  EXPECT_TRUE(logged);
  EXPECT_FALSE(View("acme", "gpu/h100").used.has_value());
}

TEST_P(UsageTest, SeriesSamplesSnapshotsInStepsAndCarriesTheStateForward) {
  auto t = MakeTenant("acme");
  const core::UnixNanos base = 1'800'000'000LL * core::kNanosPerSecond;
  auto at = [&](int s) { return base + s * core::kNanosPerSecond; };
  {
    auto tx = db_->Begin().value();
    auto put = [&](int s, int64_t reserved, std::optional<int64_t> used) {
      ASSERT_OK(Store::InsertSnapshot(*tx, {.time = at(s), .tenant_id = t.id, .resource = "gpu/h100",
                                           .guaranteed = 8, .reserved = reserved, .used = used}));
    };
    put(-100, 1, 1);  // before the window: the state at `from`
    put(25, 5, 4);
    put(35, 7, std::nullopt);
    ASSERT_OK(tx->Commit());
  }
  auto iso = [&](int s) { return core::FormatRfc3339(at(s)); };
  auto r = Get("/api/v1/tenants/acme/usage/series?from=" + iso(0) + "&to=" + iso(40) + "&step=10");
  ASSERT_EQ(200, r.status) << r.body;
  auto items = core::json::parse(r.body).as_object().at("items").as_array();
  ASSERT_EQ(4u, items.size());
  std::vector<int64_t> reserved;
  for (const auto& i : items) reserved.push_back(i.as_object().at("reserved").as_int64());
  EXPECT_EQ((std::vector<int64_t>{1, 1, 5, 7}), reserved);
  EXPECT_EQ(iso(10), items[0].as_object().at("time").as_string());
  EXPECT_EQ(4, items[2].as_object().at("used").as_int64());
  EXPECT_TRUE(items[3].as_object().at("used").is_null());

  EXPECT_EQ(400, Get("/api/v1/tenants/acme/usage/series?step=0").status);
  EXPECT_EQ(400, Get("/api/v1/tenants/acme/usage/series?from=" + iso(40) + "&to=" + iso(0)).status);
  EXPECT_EQ(400, Get("/api/v1/tenants/acme/usage/series?from=" + iso(0) + "&to=" + iso(100000) +
                     "&step=1").status);
  EXPECT_EQ(400, Get("/api/v1/tenants/acme/usage/series?resource=gpus").status);
  EXPECT_EQ(400, Get("/api/v1/tenants/acme/usage/series?colour=red").status);
  EXPECT_EQ(404, Get("/api/v1/tenants/nobody/usage/series").status);
}

GANTRY_INSTANTIATE_BACKENDS(UsageTest);

}  // namespace
}  // namespace gantry::tenancy
