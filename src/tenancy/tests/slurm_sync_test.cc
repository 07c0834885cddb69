// Tenancy quotas enforced in a real Slurm: the tenancy.slurm_sync job (run by a real job worker)
// creates the accounts of tenant acme and project p1 with GrpTRES from the quotas, jobs over the
// quota stay pending with Slurm's reason (seen through GET /api/v1/tenants/{t}/slurm-jobs), hand
// made drift is reported and repaired, and an unreachable slurmdbd fails the job with the reason
// while tenancy's state stays as it was. Slurm (munge, MariaDB, slurmdbd, slurmctld, one slurmd
// with 8 fake H100s) comes from tests/support/slurm_fixture.h; SQLite only (the database side of
// tenancy is covered on both backends by tenancy_test). Skipped when Slurm is not installed.
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include "auth/types.h"
#include "http/problem.h"
#include "http/router.h"
#include "integrations/slurm/client.h"
#include "jobs/worker.h"
#include "support/slurm_fixture.h"
#include "tenancy/slurm_sync.h"
#include "tenancy/reclaim.h"
#include "tenancy/sync.h"
#include "tenancy/usage.h"
#include "tenancy/tests/test_util.h"

namespace gantry::tenancy {
namespace {

using namespace std::chrono_literals;
using gantry::testing::SlurmFixture;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

class SlurmSyncTest : public ::testing::Test {
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
    db_ = OpenTestDatabase(store::Backend::kSqlite, 8);
    audit_ = std::make_unique<audit::Service>(*db_, clock_);
    service_ = std::make_unique<Service>(*db_, *audit_, clock_);
    config_.client.env = slurm_->env();
    config_.client.timeout = 5s;
    config_.enabled = true;
    RegisterSlurmSyncJobType(registry_, *db_, config_);
    RegisterReclaimJobType(registry_, config_, "requeue");
    jobs_ = std::make_unique<jobs::Service>(*db_, *audit_, clock_, registry_);
    RegisterSlurmRoutes(router_, *service_, config_);
    RegisterSyncRoutes(router_, *jobs_, {{"slurm", kSlurmSyncJobType, true, {}}});
    jobs::WorkerOptions wo;
    wo.concurrency = 1;
    wo.poll_interval = 100ms;
    wo.backoff_base_nanos = core::kNanosPerSecond / 2;
    workers_ = std::make_unique<jobs::WorkerPool>(*jobs_, wo);
    workers_->Start();
    int64_t admin_id = MakeUser("admin", {core::Role::kAdmin});
    admin_.principal.user_id = admin_id;
    admin_.principal.username = "admin";
    admin_.principal.roles = {core::Role::kAdmin};
    admin_.principal.auth_method = "token";
    admin_.request_id = "test";
  }
  void TearDown() override {
    if (workers_) workers_->Stop();
    if (HasFailure() && slurm_) std::cerr << slurm_->Logs(40);
  }

  int64_t MakeUser(const std::string& name, std::vector<core::Role> roles) {
    auto rs = db_->Exec(
        "INSERT INTO users (username, roles, created_at, updated_at) VALUES (?, ?, ?, ?) "
        "RETURNING id",
        {name, auth::RolesToString(roles), clock_.Now(), clock_.Now()});
    if (!rs) throw std::runtime_error("MakeUser: " + rs.error().message);
    return rs->rows.at(0).Int(0);
  }

  // Runs tenancy.slurm_sync through the worker and returns the finished job (with its log).
  jobs::Job Sync(const std::string& policy, int max_attempts = 3) {
    auto j = jobs_->Enqueue(core::RequestContext::System(),
                            jobs::NewJob{kSlurmSyncJobType, {{"policy", policy}}, max_attempts, {}});
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
        30s, 100ms);
    std::cerr << "[sync " << policy << "] job " << job.id << " " << job.state
              << (job.error ? " (" + *job.error + ")" : "") << "\n";
    for (const auto& l : job.log) std::cerr << "    log: " << l.line << "\n";
    return job;
  }
  static core::json::object Result(const jobs::Job& job) {
    if (!job.result) return {};
    return core::json::parse(*job.result).as_object();
  }

  http::Response Get(const std::string& path) {
    http::Request r;
    r.method = "GET";
    r.target = r.path = path;
    auto m = router_.Find("GET", path);
    if (!m.route) return http::Response{.status = 404};
    http::Context c{r, m.params, admin_};
    auto resp = m.route->handler(c);
    if (!resp) {
      http::Response e;
      e.status = http::StatusFor(resp.error().code);  // what the pipeline would answer
      e.body = resp.error().message;
      return e;
    }
    return *resp;
  }

  // Everything tenancy holds about acme, as JSON text (to prove nothing changed).
  std::string TenancyState() {
    core::json::array a;
    a.push_back(ToJson(service_->GetTenant(admin_, "acme").value()));
    for (const auto& p : service_->ListProjects(admin_, "acme").value()) a.push_back(ToJson(p));
    for (const auto& m : service_->ListMembers(admin_, "acme").value()) a.push_back(ToJson(m));
    for (const auto& q : service_->Quotas(admin_, "acme").value()) a.push_back(ToJson(q));
    return core::ToJson(a);
  }

  static bool ControllerHasLimit(const std::string& account, const std::string& tres) {
    return SlurmFixture::WaitFor(
        [&] {
          auto r =
              slurm_->Run({"scontrol", "show", "assoc_mgr", "accounts=" + account, "flags=assoc"});
          return r.status == 0 && r.output.find(tres + "(") != std::string::npos;
        },
        10s);
  }

  static SlurmFixture* slurm_;
  static std::string* skip_;
  static std::string* start_error_;

  const core::Clock& clock_ = core::SystemClock::Get();
  std::unique_ptr<store::Database> db_;
  std::unique_ptr<audit::Service> audit_;
  std::unique_ptr<Service> service_;
  SlurmSyncConfig config_;
  jobs::Registry registry_;
  std::unique_ptr<jobs::Service> jobs_;
  std::unique_ptr<jobs::WorkerPool> workers_;
  http::Router router_;
  core::RequestContext admin_;
};
SlurmFixture* SlurmSyncTest::slurm_ = nullptr;
std::string* SlurmSyncTest::skip_ = nullptr;
std::string* SlurmSyncTest::start_error_ = nullptr;

const slurm::AccountInfo* Find(const std::vector<slurm::AccountInfo>& accounts,
                               const std::string& name) {
  for (const auto& a : accounts) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

TEST_F(SlurmSyncTest, QuotasBecomeAccountsJobsPendDriftIsRepairedAndOutagesChangeNothing) {
  const auto t0 = Clock::now();
  // Tenancy: acme with 1 H100 (and a MIG quota Slurm cannot express), project p1 with 1 H100,
  // the fixture's Slurm user as a tenant-member and a viewer who may not submit.
  MakeUser(slurm_->user(), {core::Role::kTenantMember});
  MakeUser("watcher", {});
  ASSERT_OK(service_->CreateTenant(admin_, {"acme", "ACME", std::nullopt}));
  ASSERT_OK(service_->CreateProject(admin_, "acme", "p1", "P1"));
  ASSERT_OK(service_->AddMember(admin_, "acme", slurm_->user(), core::Role::kTenantMember));
  ASSERT_OK(service_->AddMember(admin_, "acme", "watcher", core::Role::kViewer));
  ASSERT_OK(service_->SetQuota(admin_, "acme", {"gpu/h100", 1, std::nullopt, std::nullopt, false}));
  ASSERT_OK(service_->SetQuota(admin_, "acme", {"mig/1g.10gb", 4, std::nullopt, std::nullopt, false}));
  ASSERT_OK(service_->SetQuota(admin_, "acme", {"gpu/h100", 1, std::nullopt, "p1", false}));

  // 1. Repair creates both accounts; the MIG quota is skipped and said so.
  jobs::Job job = Sync("repair");
  ASSERT_EQ(jobs::kSucceeded, job.state) << job.error.value_or("");
  auto res = Result(job);
  EXPECT_FALSE(res.at("in_sync").as_bool());  // the accounts were missing before this run
  EXPECT_TRUE(res.at("all_applied").as_bool());
  EXPECT_EQ(2, res.at("counts").as_object().at("missing").as_int64());
  EXPECT_EQ(1u, res.at("skipped").as_array().size());
  EXPECT_NE(std::string::npos, core::ToJson(res.at("skipped")).find("g_acme: mig/1g.10gb"));
  EXPECT_FALSE(job.log.empty());
  slurm::SlurmClient client(config_.client);
  auto accounts = client.ListAccounts();
  ASSERT_TRUE(accounts) << accounts.error().message;
  const auto* tenant = Find(*accounts, "g_acme");
  const auto* project = Find(*accounts, "g_acme_p1");
  ASSERT_NE(nullptr, tenant);
  ASSERT_NE(nullptr, project);
  EXPECT_EQ("root", tenant->parent);
  EXPECT_EQ("g_acme", project->parent);
  EXPECT_EQ((slurm::TresMap{{"gres/gpu:h100", 1}}), tenant->grp_tres);
  EXPECT_EQ((slurm::TresMap{{"gres/gpu:h100", 1}}), project->grp_tres);
  EXPECT_EQ(std::vector<std::string>{slurm_->user()}, project->users);  // not the viewer
  EXPECT_EQ(std::vector<std::string>{slurm_->user()}, tenant->users);
  EXPECT_TRUE(Result(Sync("report")).at("in_sync").as_bool());
  std::cerr << "[slurm] accounts in sync after " << Seconds(Clock::now() - t0) << " s\n";

  // 2. Two 1-GPU jobs on p1: one runs, the other pends with AssocGrpGRES, shown by slurm-jobs.
  ASSERT_TRUE(ControllerHasLimit("g_acme_p1", "gres/gpu:h100=1"));
  slurm_->Submit("g_acme_p1", "gpu:h100:1", "sleep 30");
  slurm_->Submit("g_acme_p1", "gpu:h100:1", "sleep 30");
  std::string seen;
  bool held = SlurmFixture::WaitFor(
      [&] {
        auto r = Get("/api/v1/tenants/acme/slurm-jobs");
        seen = r.body;
        if (r.status != 200) return false;
        int running = 0, pending = 0;
        auto body = core::json::parse(r.body);
        for (const auto& j : body.as_object().at("items").as_array()) {
          const auto& o = j.as_object();
          EXPECT_EQ("p1", o.at("project").as_string());
          running += o.at("state").as_string() == "RUNNING";
          pending += o.at("state").as_string() == "PENDING" &&
                     o.at("reason").as_string() == "AssocGrpGRES";
        }
        return running == 1 && pending == 1;
      },
      20s);
  ASSERT_TRUE(held) << seen;
  std::cerr << "[slurm] slurm-jobs: " << seen << "\n";
  std::string running_id;
  auto queue_now = core::json::parse(seen);
  for (const auto& j : queue_now.as_object().at("items").as_array()) {
    if (j.as_object().at("state").as_string() == "RUNNING") {
      running_id = std::string(j.as_object().at("job_id").as_string());
    }
  }

  // 2b. Used, as Slurm reports it (sacct: the running job's AllocTRES), counts in p1 and acme.
  auto usage = MakeSlurmUsageSource(*db_, config_);
  std::map<std::pair<std::string, std::string>, Amounts> rolled;
  bool reported = SlurmFixture::WaitFor(
      [&] {
        auto u = usage->Used();
        if (!u) return false;
        rolled = RollUp(*u);
        return rolled[{"acme", "p1"}]["gpu/h100"] == 1;
      },
      20s);
  ASSERT_TRUE(reported);
  EXPECT_EQ(1, (rolled[{"acme", ""}]["gpu/h100"]));

  // 2c. Reclaim reaches Slurm: tenancy.reclaim requeues the job a reclaimed reservation names.
  auto rj = jobs_->Enqueue(
      core::RequestContext::System(),
      jobs::NewJob{kReclaimJobType,
                   {{"reservations", core::json::array{core::json::object{
                                         {"id", 1}, {"tenant", "acme"},
                                         {"ref", "slurm:" + running_id}}}}},
                   1,
                   {}});
  ASSERT_TRUE(rj) << rj.error().message;
  workers_->Poke();
  jobs::Job reclaim;
  SlurmFixture::WaitFor(
      [&] {
        reclaim = jobs_->Get(admin_, rj->id).value();
        return jobs::IsFinal(reclaim.state);
      },
      20s, 100ms);
  ASSERT_EQ(jobs::kSucceeded, reclaim.state) << reclaim.error.value_or("");
  EXPECT_NE(std::string::npos, reclaim.result->find("\"requeued\"")) << *reclaim.result;
  EXPECT_TRUE(SlurmFixture::WaitFor(
      [&] {
        auto r = slurm_->Run({"scontrol", "show", "job", running_id});
        return r.output.find("Restarts=1") != std::string::npos;
      },
      10s));
  EXPECT_EQ(404, Get("/api/v1/tenants/nobody/slurm-jobs").status);

  // 3. A hand-made change is drift under report (nothing changed), and repair puts it back.
  auto hand = slurm_->Run({"sacctmgr", "-i", "modify", "account", "where", "name=g_acme", "set",
                           "GrpTRES=gres/gpu:h100=5"});
  ASSERT_EQ(0, hand.status) << hand.output;
  job = Sync("report");
  ASSERT_EQ(jobs::kSucceeded, job.state) << job.error.value_or("");
  res = Result(job);
  EXPECT_FALSE(res.at("in_sync").as_bool());
  ASSERT_EQ(1u, res.at("accounts").as_array().size());
  const auto& drift = res.at("accounts").as_array()[0].as_object();
  EXPECT_EQ("g_acme", drift.at("account").as_string());
  EXPECT_EQ("changed", drift.at("kind").as_string());
  const auto& limit = drift.at("limits").as_array().at(0).as_object();
  EXPECT_EQ("gres/gpu:h100", limit.at("tres").as_string());
  EXPECT_EQ(1, limit.at("expected").as_int64());
  EXPECT_EQ(5, limit.at("actual").as_int64());
  EXPECT_EQ("planned", res.at("actions").as_array().at(0).as_object().at("state").as_string());
  EXPECT_EQ(1, res.at("counts").as_object().at("actions_planned").as_int64());
  job = Sync("repair");
  ASSERT_EQ(jobs::kSucceeded, job.state) << job.error.value_or("");
  EXPECT_EQ(1, Result(job).at("counts").as_object().at("actions_applied").as_int64());
  job = Sync("report");
  EXPECT_TRUE(Result(job).at("in_sync").as_bool()) << *job.result;
  auto status = Get("/api/v1/slurm/sync");
  ASSERT_EQ(200, status.status) << status.body;
  auto last = core::json::parse(status.body).as_object().at("last").as_object();
  EXPECT_EQ(job.id, last.at("id").as_int64());
  EXPECT_TRUE(last.at("in_sync").as_bool());

  // 4. slurmctld down: the queue cannot be read (503) and the answer says why.
  slurm_->StopController();
  auto queue = Get("/api/v1/tenants/acme/slurm-jobs");
  slurm_->StartController();
  EXPECT_EQ(503, queue.status);
  EXPECT_NE(std::string::npos, queue.body.find("squeue")) << queue.body;

  // 5. slurmdbd down: the job fails with the reason, tenancy is unchanged, the status says so.
  std::string before = TenancyState();
  slurm_->StopDatabase();
  auto t1 = Clock::now();
  job = Sync("repair", /*max_attempts=*/2);  // the worker retries once after its back-off
  auto took = Clock::now() - t1;
  slurm_->StartDatabase();
  EXPECT_EQ(jobs::kFailed, job.state);
  EXPECT_EQ(2, job.attempts);
  ASSERT_TRUE(job.error.has_value());
  EXPECT_NE(std::string::npos, job.error->find("slurm sync: ")) << *job.error;
  EXPECT_LT(took, 20s);
  EXPECT_EQ(before, TenancyState());
  status = Get("/api/v1/slurm/sync");
  last = core::json::parse(status.body).as_object().at("last").as_object();
  EXPECT_EQ("failed", last.at("state").as_string());
  EXPECT_FALSE(last.at("in_sync").as_bool());
  EXPECT_EQ(*job.error, last.at("error").as_string());
  std::cerr << "[slurm] scenario took " << Seconds(Clock::now() - t0) << " s\n";
}

}  // namespace
}  // namespace gantry::tenancy
