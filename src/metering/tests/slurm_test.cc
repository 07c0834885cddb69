// Metering against a real Slurm (tests/support/slurm_fixture.h: munge, MariaDB, slurmdbd,
// slurmctld, one slurmd with 8 fake H100s): metering.slurm_collect, run by a real job worker,
// turns sacct's job records into gpu-h100-hour, cpu-core-hour and memory-gib-hour usage of the
// right tenant and project, a second collection counts nothing twice, and a spent hard GPU-hour
// budget with hold_slurm refuses admission and holds the project's queued jobs (scontrol hold).
// SQLite only (the database side is covered on both backends by metering_test). Skipped when
// Slurm is not installed.
#include <gtest/gtest.h>

#include <iostream>

#include "auth/types.h"
#include "jobs/worker.h"
#include "metering/jobs.h"
#include "metering/tests/test_util.h"
#include "support/slurm_fixture.h"

namespace gantry::metering {
namespace {

using namespace std::chrono_literals;
using gantry::testing::SlurmFixture;

class MeteringSlurmTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    slurm_ = SlurmFixture::StartForSuite(testing::SlurmFixtureOptions{.nodes = 1}, &skip_, &start_error_);
  }
  static void TearDownTestSuite() {
    delete slurm_;
    slurm_ = nullptr;
  }

  void SetUp() override {
    if (skip_) GTEST_SKIP() << *skip_;
    ASSERT_NE(nullptr, slurm_) << *start_error_;
    db_ = OpenTestDatabase(store::Backend::kSqlite);
    audit_ = std::make_unique<audit::Service>(*db_, clock_);
    tenancy_ = std::make_unique<tenancy::Service>(*db_, *audit_, clock_);
    service_ = std::make_unique<Service>(*db_, *audit_, clock_, nullptr);
    billing_ = std::make_unique<Billing>(*service_, *audit_, nullptr);
    ASSERT_TRUE(service_->Init());
    tenancy_->SetAdmissionGuard([this](store::Tx& tx, int64_t t, int64_t p,
                                       const std::vector<std::string>& r) {
      return billing_->CheckAdmission(tx, t, p, r);
    });
    config_.client.env = slurm_->env();
    config_.client.timeout = 10s;
    RegisterJobTypes(registry_, *service_, *billing_, config_);
    jobs_ = std::make_unique<jobs::Service>(*db_, *audit_, clock_, registry_);
    jobs::WorkerOptions wo;
    wo.concurrency = 1;
    wo.poll_interval = 100ms;
    workers_ = std::make_unique<jobs::WorkerPool>(*jobs_, wo);
    workers_->Start();
    auto rs = db_->Exec("INSERT INTO users (username, roles, created_at, updated_at) VALUES "
                        "(?, ?, ?, ?) RETURNING id",
                        {std::string("root"), auth::RolesToString({core::Role::kAdmin}),
                         clock_.Now(), clock_.Now()});
    ASSERT_TRUE(rs);
    admin_.principal.user_id = rs->rows.at(0).Int(0);
    admin_.principal.username = "root";
    admin_.principal.roles = {core::Role::kAdmin};
    admin_.principal.auth_method = "token";
  }
  void TearDown() override {
    if (workers_) workers_->Stop();
    if (HasFailure() && slurm_) std::cerr << slurm_->Logs(40);
  }

  jobs::Job Run(const std::string& type, core::json::object params = {}) {
    auto j = jobs_->Enqueue(core::RequestContext::System(), jobs::NewJob{type, params, 1, {}});
    EXPECT_TRUE(j) << j.error().message;
    if (!j) return {};
    workers_->Poke();
    jobs::Job job;
    SlurmFixture::WaitFor(
        [&] {
          auto g = jobs_->Get(admin_, j->id);
          if (!g) return false;
          job = *g;
          return jobs::IsFinal(job.state);
        },
        60s, 100ms);
    for (const auto& l : job.log) std::cerr << "    [" << type << "] " << l.line << "\n";
    return job;
  }

  void Sacctmgr(std::vector<std::string> args) {
    args.insert(args.begin(), {"sacctmgr", "-i"});
    auto r = slurm_->Run(args);
    ASSERT_EQ(0, r.status) << r.output;
  }

  int64_t Total(const std::string& sku) {
    auto rs = db_->Query("SELECT COALESCE(SUM(quantity), 0) FROM usage_hourly WHERE sku = ?", {sku});
    return rs ? rs->rows.at(0).Int(0) : -1;
  }

  static SlurmFixture* slurm_;
  static std::string* skip_;
  static std::string* start_error_;
  const core::Clock& clock_ = core::SystemClock::Get();
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<audit::Service> audit_;
  std::unique_ptr<tenancy::Service> tenancy_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<Billing> billing_;
  SlurmSourceConfig config_;
  jobs::Registry registry_;
  std::unique_ptr<jobs::Service> jobs_;
  std::unique_ptr<jobs::WorkerPool> workers_;
  core::RequestContext admin_;
};
SlurmFixture* MeteringSlurmTest::slurm_ = nullptr;
std::string* MeteringSlurmTest::skip_ = nullptr;
std::string* MeteringSlurmTest::start_error_ = nullptr;

TEST_F(MeteringSlurmTest, SacctRecordsBecomeUsageOnceAndSpentBudgetsHoldQueuedJobs) {
  ASSERT_TRUE(tenancy_->CreateTenant(admin_, {"acme", "ACME", std::nullopt}));
  ASSERT_TRUE(tenancy_->CreateProject(admin_, "acme", "p1", "P1"));
  ASSERT_TRUE(tenancy_->SetQuota(admin_, "acme", {"gpu/h100", 8, std::nullopt, std::nullopt, false}));
  // The accounts tenancy.slurm_sync would create; two H100s at most for the project.
  Sacctmgr({"add", "account", "g_acme", "parent=root"});
  Sacctmgr({"add", "account", "g_acme_p1", "parent=g_acme", "GrpTRES=gres/gpu:h100=2"});
  Sacctmgr({"add", "user", slurm_->user(), "account=g_acme_p1"});
  Sacctmgr({"add", "account", "other", "parent=root"});
  Sacctmgr({"add", "user", slurm_->user(), "account=other"});

  // 1. A job with 2 H100s runs and ends; another account's job is not Gantry's.
  std::string job = slurm_->Submit("g_acme_p1", "gpu:h100:2", "sleep 2");
  std::string foreign = slurm_->Submit("other", "gpu:h100:1", "sleep 1");
  slurm::SlurmClient client(config_.client);
  ASSERT_TRUE(SlurmFixture::WaitFor(
      [&] {
        auto recs = client.ListJobRecords({clock_.Now() - kNanosPerDay, clock_.Now() + kHour, {}});
        if (!recs) return false;
        int done = 0;
        for (const auto& r : *recs) done += (r.job_id == job || r.job_id == foreign) && r.end.has_value();
        return done == 2;
      },
      60s, 500ms));
  auto recs = client.ListJobRecords({clock_.Now() - kNanosPerDay, clock_.Now() + kHour, {}}).value();
  int64_t elapsed_ns = 0;
  for (const auto& r : recs) {
    if (r.job_id == job) elapsed_ns = *r.end - *r.start;
  }
  ASSERT_GT(elapsed_ns, 0);

  auto collected = Run(kSlurmCollectJobType);
  ASSERT_EQ(jobs::kSucceeded, collected.state) << collected.error.value_or("");
  // 2 GPUs × elapsed seconds, in milli-GPU-seconds (sacct times are whole seconds).
  EXPECT_EQ(2 * 1000 * (elapsed_ns / core::kNanosPerSecond), Total("gpu-h100-hour"));
  EXPECT_GT(Total("cpu-core-hour"), 0);
  auto rs = db_->Query("SELECT COUNT(DISTINCT project_id) FROM usage_hourly");
  EXPECT_EQ(1, rs->rows.at(0).Int(0));  // only acme/p1; `other` is not a Gantry account
  int64_t before = Total("gpu-h100-hour");
  auto again = Run(kSlurmCollectJobType);
  ASSERT_EQ(jobs::kSucceeded, again.state);
  EXPECT_EQ(before, Total("gpu-h100-hour"));
  EXPECT_EQ(0, core::json::parse(*again.result).as_object().at("accepted").as_int64());

  // 2. A hard GPU-hour budget of 1 for p1, spent by 2 GPU-hours of usage.
  Budget b;
  b.metric = "gpu_hours";
  b.limit = 1;
  b.hard = true;
  b.hold_slurm = true;
  ASSERT_TRUE(billing_->SetBudget(admin_, "acme", "p1", b));
  auto now = clock_.Now();
  ASSERT_TRUE(service_->Ingest(admin_, "api", {UsageRecord{"extra", "acme", "p1", "gpu-h100-hour",
                                                           kAllocated, 2 * 3'600'000,
                                                           now - kHour, now - 1}}));
  auto refused = tenancy_->Reserve(admin_, "acme", {std::string("p1"), {{"gpu/h100", 1}}, "slurm:next"});
  ASSERT_FALSE(refused);
  EXPECT_EQ(core::Code::kResourceExhausted, refused.error().code);

  // 3. Two jobs: the first takes the project's 2 GPUs, the second queues; the budget job holds it.
  std::string running = slurm_->Submit("g_acme_p1", "gpu:h100:2", "sleep 30");
  std::string queued = slurm_->Submit("g_acme_p1", "gpu:h100:2", "sleep 1");
  ASSERT_TRUE(SlurmFixture::WaitFor(
      [&] {
        auto q = client.ListJobs({"g_acme_p1"});
        if (!q) return false;
        bool run = false, pend = false;
        for (const auto& j : *q) {
          run = run || (j.job_id == running && j.state == "RUNNING");
          pend = pend || (j.job_id == queued && j.state == "PENDING");
        }
        return run && pend;
      },
      20s));
  auto held = Run(kBudgetsJobType);
  ASSERT_EQ(jobs::kSucceeded, held.state) << held.error.value_or("");
  auto result = core::json::parse(*held.result).as_object();
  ASSERT_EQ(1u, result.at("held").as_array().size());
  EXPECT_EQ(queued, result.at("held").as_array()[0].as_string());
  auto show = slurm_->Run({"scontrol", "show", "job", queued});
  EXPECT_NE(std::string::npos, show.output.find("Priority=0")) << show.output;
  EXPECT_NE(std::string::npos, show.output.find("Held")) << show.output;
  slurm_->Run({"scancel", running, queued});
}

}  // namespace
}  // namespace gantry::metering
