// SlurmClient and Reconcile against a real Slurm: munge, MariaDB, slurmdbd, slurmctld and two
// slurmd with 8 fake H100s each, started by tests/support/slurm_fixture.h in a temp dir.
// Skipped (not failed) when the Slurm packages are not installed (scripts/bootstrap installs them).
#include <gtest/gtest.h>

#include <chrono>
#include <iostream>

#include "integrations/slurm/client.h"
#include "integrations/slurm/reconcile.h"
#include "integrations/slurm/tres.h"
#include "support/slurm_fixture.h"

namespace gantry::slurm {
namespace {

using namespace std::chrono_literals;
using gantry::testing::SlurmFixture;
using Clock = std::chrono::steady_clock;

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

class SlurmIntegration : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    slurm_ = SlurmFixture::StartForSuite({}, &skip_, &start_error_);
  }
  static void TearDownTestSuite() {
    auto t0 = Clock::now();
    delete slurm_;
    slurm_ = nullptr;
    std::cerr << "[slurm] fixture stopped in " << Seconds(Clock::now() - t0) << " s\n";
  }
  void SetUp() override {
    if (skip_) GTEST_SKIP() << *skip_;
    ASSERT_NE(nullptr, slurm_) << *start_error_;
  }
  void TearDown() override {
    if (HasFailure() && slurm_) std::cerr << slurm_->Logs(40);
  }

  static SlurmClient Client(std::chrono::milliseconds timeout = 10s) {
    SlurmClientOptions o;
    o.env = slurm_->env();
    o.timeout = timeout;
    return SlurmClient(o);
  }
  static void Sacctmgr(std::vector<std::string> args) {
    args.insert(args.begin(), {"sacctmgr", "-i"});
    auto r = slurm_->Run(args);
    ASSERT_EQ(0, r.status) << r.output;
  }
  // slurmdbd pushes association changes to slurmctld asynchronously: wait until it has the limit.
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
};
SlurmFixture* SlurmIntegration::slurm_ = nullptr;
std::string* SlurmIntegration::skip_ = nullptr;
std::string* SlurmIntegration::start_error_ = nullptr;

const AccountInfo* Find(const std::vector<AccountInfo>& accounts, const std::string& name) {
  for (const auto& a : accounts) {
    if (a.name == name) return &a;
  }
  return nullptr;
}

TEST_F(SlurmIntegration, QuotaHoldsJobsPendingDriftIsRepairedAndJobsAreMetered) {
  const auto t0 = Clock::now();
  const core::UnixNanos began = core::NowNanos() - 60 * core::kNanosPerSecond;
  SlurmClient client = Client();
  auto gpu1 = ToSlurmTres({{"gpu/h100", 1}});
  ASSERT_TRUE(gpu1);
  std::vector<DesiredAccount> desired = {
      {.name = "acme", .grp_tres = *gpu1},
      {.name = "acme_proj", .parent = "acme", .grp_tres = *gpu1, .users = {{slurm_->user()}}},
  };

  // 1. Report: both missing, nothing changed in Slurm.
  auto report = Reconcile(client, desired, DriftPolicy::kReport);
  ASSERT_TRUE(report) << report.error().message;
  std::cerr << "[slurm] " << report->ToString() << "\n";
  ASSERT_EQ(2u, report->accounts.size());
  EXPECT_EQ(DriftKind::kMissing, report->accounts[0].kind);
  EXPECT_EQ(3u, report->actions.size());
  auto before = client.ListAccounts();
  ASSERT_TRUE(before) << before.error().message;
  EXPECT_EQ(nullptr, Find(*before, "acme"));

  // 2. Repair creates them; afterwards Slurm has exactly what was asked.
  auto repaired = Reconcile(client, desired, DriftPolicy::kRepair);
  ASSERT_TRUE(repaired) << repaired.error().message;
  std::cerr << "[slurm] " << repaired->ToString() << "\n";
  EXPECT_TRUE(repaired->all_applied());
  auto accounts = client.ListAccounts();
  ASSERT_TRUE(accounts) << accounts.error().message;
  const AccountInfo* proj = Find(*accounts, "acme_proj");
  ASSERT_NE(nullptr, proj);
  EXPECT_EQ("acme", proj->parent);
  EXPECT_EQ("gantry", proj->organization);
  EXPECT_EQ((TresMap{{"gres/gpu:h100", 1}}), proj->grp_tres);
  EXPECT_EQ(std::vector<std::string>{slurm_->user()}, proj->users);
  auto again = Reconcile(client, desired, DriftPolicy::kReport);
  ASSERT_TRUE(again) << again.error().message;
  EXPECT_TRUE(again->in_sync()) << again->ToString();
  std::cerr << "[slurm] accounts created and in sync after " << Seconds(Clock::now() - t0)
            << " s\n";

  // 3. Two 1-GPU jobs against a 1-GPU quota: one runs, the other pends with Slurm's reason.
  ASSERT_TRUE(ControllerHasLimit("acme_proj", "gres/gpu:h100=1"));
  std::string job1 = slurm_->Submit("acme_proj", "gpu:h100:1", "sleep 3");
  std::string job2 = slurm_->Submit("acme_proj", "gpu:h100:1", "sleep 3");
  std::vector<QueuedJob> jobs;
  bool held = SlurmFixture::WaitFor(
      [&] {
        auto r = client.ListJobs({"acme_proj"});
        if (!r) return false;
        jobs = *r;
        int running = 0, pending = 0;
        for (const auto& j : jobs) {
          running += j.state == "RUNNING";
          pending += j.state == "PENDING" && j.reason == "AssocGrpGRES";
        }
        return running == 1 && pending == 1;
      },
      20s);
  std::string seen;
  for (const auto& j : jobs)
    seen += j.job_id + " " + j.state + " " + j.reason + " " + j.tres_per_node + "; ";
  ASSERT_TRUE(held) << "queue: " << seen;
  std::cerr << "[slurm] queue: " << seen << "(" << Seconds(Clock::now() - t0) << " s)\n";
  for (const auto& j : jobs) {
    EXPECT_EQ("acme_proj", j.account);
    EXPECT_EQ(slurm_->user(), j.user);
    EXPECT_EQ("gres:gpu:h100:1", j.tres_per_node);
  }

  // 4. Someone raises the tenant's limit by hand: drift, with expected and actual values.
  Sacctmgr({"modify", "account", "where", "name=acme", "set", "GrpTRES=gres/gpu:h100=5"});
  auto drift = Reconcile(client, desired, DriftPolicy::kReport);
  ASSERT_TRUE(drift) << drift.error().message;
  std::cerr << "[slurm] " << drift->ToString() << "\n";
  ASSERT_EQ(1u, drift->accounts.size());
  EXPECT_EQ("acme", drift->accounts[0].account);
  EXPECT_EQ(DriftKind::kChanged, drift->accounts[0].kind);
  EXPECT_EQ((std::vector<LimitDrift>{{"gres/gpu:h100", 1, 5}}), drift->accounts[0].limits);
  ASSERT_EQ(1u, drift->actions.size());
  EXPECT_EQ(RepairAction::State::kPlanned, drift->actions[0].state);
  EXPECT_EQ("sacctmgr -i modify account where name=acme set GrpTRES=gres/gpu:h100=1",
            drift->actions[0].command.ToString());

  // 5. Repair puts it back and says what it did.
  auto fix = Reconcile(client, desired, DriftPolicy::kRepair);
  ASSERT_TRUE(fix) << fix.error().message;
  std::cerr << "[slurm] " << fix->ToString() << "\n";
  ASSERT_EQ(1u, fix->actions.size());
  EXPECT_EQ(RepairAction::State::kApplied, fix->actions[0].state);
  EXPECT_EQ("set limits of acme", fix->actions[0].summary);
  auto after = Reconcile(client, desired, DriftPolicy::kReport);
  ASSERT_TRUE(after) << after.error().message;
  EXPECT_TRUE(after->in_sync()) << after->ToString();

  // 6. Both jobs finish (one after the other: the quota serialises them), and sacct has their
  //    allocations with the GPU TRES.
  ASSERT_TRUE(SlurmFixture::WaitFor(
      [&] {
        auto r = client.ListJobs({"acme_proj"});
        return r && r->empty();
      },
      30s));
  std::vector<JobRecord> records;
  ASSERT_TRUE(SlurmFixture::WaitFor(
      [&] {
        auto r = client.ListJobRecords({.start = began,
                                        .end = core::NowNanos() + 60 * core::kNanosPerSecond,
                                        .accounts = {"acme_proj"}});
        if (!r) return false;
        records = *r;
        int done = 0;
        for (const auto& rec : records) done += rec.state == "COMPLETED" && rec.end.has_value();
        return done == 2;
      },
      15s));
  ASSERT_EQ(2u, records.size());
  std::map<std::string, JobRecord> by_id;
  for (const auto& rec : records) by_id[rec.job_id] = rec;
  ASSERT_TRUE(by_id.count(job1) && by_id.count(job2));
  for (const auto& rec : records) {
    std::cerr << "[slurm] sacct: " << rec.job_id << " " << rec.state << " " << rec.elapsed_seconds
              << " s " << FormatTres(rec.alloc_tres) << "\n";
    EXPECT_EQ("acme_proj", rec.account);
    EXPECT_EQ(slurm_->user(), rec.user);
    EXPECT_EQ(1, rec.alloc_tres.at("gres/gpu:h100"));
    EXPECT_EQ(1, rec.alloc_tres.at("gres/gpu"));
    EXPECT_GE(rec.elapsed_seconds, 2);
    EXPECT_EQ(FromSlurmTres(rec.alloc_tres).at("gpu/h100"), 1);
  }
  const JobRecord& first = *by_id[job1].start <= *by_id[job2].start ? by_id[job1] : by_id[job2];
  const JobRecord& second = &first == &by_id[job1] ? by_id[job2] : by_id[job1];
  EXPECT_GE(*second.start, *first.end) << "the 1-GPU quota let both run at once";
  std::cerr << "[slurm] scenario took " << Seconds(Clock::now() - t0) << " s\n";
}

TEST_F(SlurmIntegration, UnmanagedAccountsAreNeverTouchedAndExtraManagedOnesAreDeleted) {
  SlurmClient client = Client();
  Sacctmgr({"add", "account", "name=physics", "organization=physics", "GrpTRES=cpu=100"});
  Sacctmgr({"add", "account", "name=t2_stale", "organization=gantry-t2"});
  ReconcileOptions o;
  o.organization = "gantry-t2";  // acme and acme_proj of the other test are not ours here
  o.policy = DriftPolicy::kRepair;
  std::vector<DesiredAccount> desired = {
      {.name = "t2_team",
       .grp_tres = {{"gres/gpu:h100", 2}, {"cpu", 16}, {"mem", int64_t{64} << 30}},
       .qos = "t2gold"},
      {.name = "physics", .grp_tres = {{"cpu", 1}}},
  };
  auto r = Reconcile(client, desired, o);
  ASSERT_TRUE(r) << r.error().message;
  std::cerr << "[slurm] " << r->ToString() << "\n";
  EXPECT_EQ(std::vector<std::string>{"t2gold"}, r->missing_qos);
  std::map<std::string, DriftKind> kinds;
  for (const auto& d : r->accounts) kinds[d.account] = d.kind;
  EXPECT_EQ((std::map<std::string, DriftKind>{{"physics", DriftKind::kUnmanaged},
                                              {"t2_stale", DriftKind::kExtra},
                                              {"t2_team", DriftKind::kMissing}}),
            kinds);
  EXPECT_TRUE(r->all_applied()) << r->ToString();
  auto accounts = client.ListAccounts();
  ASSERT_TRUE(accounts) << accounts.error().message;
  EXPECT_EQ(nullptr, Find(*accounts, "t2_stale"));
  ASSERT_NE(nullptr, Find(*accounts, "physics"));
  EXPECT_EQ((TresMap{{"cpu", 100}}), Find(*accounts, "physics")->grp_tres);
  EXPECT_EQ("physics", Find(*accounts, "physics")->organization);
  const AccountInfo* team = Find(*accounts, "t2_team");
  ASSERT_NE(nullptr, team);
  EXPECT_EQ((TresMap{{"cpu", 16}, {"gres/gpu:h100", 2}, {"mem", int64_t{64} << 30}}),
            team->grp_tres);
  EXPECT_EQ(std::vector<std::string>{"t2gold"}, team->qos);
  EXPECT_EQ("t2gold", team->default_qos);
  ASSERT_NE(nullptr, Find(*accounts, "acme"));  // another organization's: untouched
  // Only the unmanaged conflict remains.
  o.policy = DriftPolicy::kReport;
  auto again = Reconcile(client, desired, o);
  ASSERT_TRUE(again) << again.error().message;
  ASSERT_EQ(1u, again->accounts.size());
  EXPECT_EQ(DriftKind::kUnmanaged, again->accounts[0].kind);
  EXPECT_TRUE(again->actions.empty());
}

TEST_F(SlurmIntegration, StoppedControllerIsUnavailableWithinTheTimeout) {
  SlurmClient client = Client(3s);
  ASSERT_TRUE(client.PingController());
  slurm_->StopController();
  auto t0 = Clock::now();
  auto jobs = client.ListJobs({"acme_proj"});
  auto took = Clock::now() - t0;
  auto ping = client.PingController();
  // sacctmgr talks to slurmdbd only: reconciling still works while the controller is down.
  auto report = Reconcile(client, {}, ReconcileOptions{.organization = "nobody"});
  slurm_->StartController();
  ASSERT_FALSE(jobs);
  EXPECT_EQ(core::Code::kUnavailable, jobs.error().code);
  EXPECT_NE(std::string::npos, jobs.error().message.find("squeue")) << jobs.error().message;
  EXPECT_LT(took, 4s);
  std::cerr << "[slurm] controller down: " << jobs.error().message << " (after " << Seconds(took)
            << " s)\n";
  ASSERT_FALSE(ping);
  EXPECT_EQ(core::Code::kUnavailable, ping.error().code);
  EXPECT_TRUE(report) << report.error().message;
  EXPECT_TRUE(client.ListJobs({"acme_proj"})) << "controller back";
}

TEST_F(SlurmIntegration, StoppedDatabaseIsUnavailableAndNothingIsApplied) {
  SlurmClient client = Client(5s);
  slurm_->StopDatabase();
  auto t0 = Clock::now();
  auto r = Reconcile(client, {{.name = "never_made"}}, DriftPolicy::kRepair);
  auto took = Clock::now() - t0;
  auto records = client.ListJobRecords({.start = 0, .end = core::NowNanos()});
  auto ping = client.PingDatabase();
  slurm_->StartDatabase();
  ASSERT_FALSE(r);
  EXPECT_EQ(core::Code::kUnavailable, r.error().code);
  std::cerr << "[slurm] database down: " << r.error().message << " (after " << Seconds(took)
            << " s)\n";
  EXPECT_LT(took, 6s);
  ASSERT_FALSE(records);
  EXPECT_EQ(core::Code::kUnavailable, records.error().code) << records.error().message;
  EXPECT_FALSE(ping);
  auto accounts = client.ListAccounts();
  ASSERT_TRUE(accounts) << accounts.error().message;
  EXPECT_EQ(nullptr, Find(*accounts, "never_made"));
}

}  // namespace
}  // namespace gantry::slurm
