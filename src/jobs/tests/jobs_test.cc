#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "jobs/http_api.h"
#include "jobs/service.h"
#include "jobs/worker.h"
#include "support/test_db.h"

namespace gantry::jobs {
namespace {

using namespace std::chrono_literals;

class JobsTest : public ::testing::TestWithParam<store::Backend> {
 protected:
  JobsTest()
      : db_(testing::NewTestDatabase(GetParam())),
        audit_(*db_, core::SystemClock::Get()),
        service_(*db_, audit_, core::SystemClock::Get(), registry_) {
    registry_.Add({"test.count", "counts runs",
                   [](const core::json::object& p) { return core::OnlyFields(p, {"fail", "permanent", "sleep_ms"}); },
                   [this](JobContext& ctx) -> core::Result<core::json::object> {
                     ++runs_;
                     int64_t fail = core::OptInt(ctx.params(), "fail").value().value_or(0);
                     int64_t sleep_ms = core::OptInt(ctx.params(), "sleep_ms").value().value_or(0);
                     if (core::OptBool(ctx.params(), "permanent").value().value_or(false)) {
                       return core::FailedPrecondition("cannot ever work");
                     }
                     if (ctx.job().attempts <= fail) return core::Unavailable("flaky");
                     if (sleep_ms && !ctx.Sleep(std::chrono::milliseconds(sleep_ms))) {
                       return core::json::object{{"interrupted", true}};
                     }
                     ctx.Progress(50, "half way");
                     ctx.Log("did the thing");
                     return core::json::object{{"ok", true}};
                   },
                   true});
    admin_.principal.user_id = 1;
    admin_.principal.username = "alice";
    admin_.principal.roles = {core::Role::kAdmin};
  }

  WorkerOptions FastOptions(std::string owner = "w1") {
    WorkerOptions o;
    o.concurrency = 2;
    o.poll_interval = 20ms;
    o.lease = 600ms;
    o.owner = std::move(owner);
    o.backoff_base_nanos = 10 * core::kNanosPerMilli;
    return o;
  }

  Job Enqueue(core::json::object params = {}, int max_attempts = 3) {
    auto j = service_.Enqueue(admin_, NewJob{"test.count", std::move(params), max_attempts, {}});
    EXPECT_TRUE(j) << (j ? "" : j.error().message);
    return *j;
  }

  Job WaitFinal(int64_t id, std::chrono::milliseconds timeout = 10s) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      auto j = service_.Get(admin_, id).value();
      if (IsFinal(j.state)) return j;
      std::this_thread::sleep_for(20ms);
    }
    ADD_FAILURE() << "job " << id << " did not finish";
    return service_.Get(admin_, id).value();
  }

  int AuditCount(const std::string& action) {
    return static_cast<int>(audit_.Search({.action = action, .limit = 1000})->size());
  }

  std::unique_ptr<store::Database> db_;
  audit::Service audit_;
  Registry registry_;
  Service service_;
  core::RequestContext admin_;
  std::atomic<int> runs_{0};
};

TEST_P(JobsTest, EnqueueIsAuditedAndValidated) {
  auto j = Enqueue();
  EXPECT_EQ(kQueued, j.state);
  EXPECT_EQ(1, AuditCount("job.create"));
  auto bad = service_.Enqueue(admin_, NewJob{"no.such", {}, 3, {}});
  ASSERT_FALSE(bad);
  EXPECT_EQ(core::Code::kInvalidArgument, bad.error().code);
  EXPECT_NE(std::string::npos, bad.error().message.find("test.count"));
  auto bad_params = service_.Enqueue(admin_, NewJob{"test.count", {{"colour", 1}}, 3, {}});
  ASSERT_FALSE(bad_params);
  EXPECT_EQ("colour", bad_params.error().field);
  EXPECT_EQ(1, AuditCount("job.create"));
}

TEST_P(JobsTest, WorkerRunsAJobToSuccess) {
  auto j = Enqueue();
  WorkerPool pool(service_, FastOptions());
  pool.Start();
  auto done = WaitFinal(j.id);
  pool.Stop();
  EXPECT_EQ(kSucceeded, done.state);
  EXPECT_EQ(100, done.progress);
  EXPECT_EQ(1, done.attempts);
  EXPECT_NE(std::string::npos, done.result->find("\"ok\":true"));
  bool logged = false;
  for (const auto& l : done.log) logged = logged || l.line == "did the thing";
  EXPECT_TRUE(logged);
  EXPECT_EQ(1, AuditCount("job.succeeded"));
}

TEST_P(JobsTest, TransientFailuresAreRetriedWithBackoff) {
  auto j = Enqueue({{"fail", 2}});
  WorkerPool pool(service_, FastOptions());
  pool.Start();
  auto done = WaitFinal(j.id);
  pool.Stop();
  EXPECT_EQ(kSucceeded, done.state);
  EXPECT_EQ(3, done.attempts);
  EXPECT_EQ(3, runs_.load());
}

TEST_P(JobsTest, ExhaustedAttemptsFailTheJob) {
  auto j = Enqueue({{"fail", 5}}, 2);
  WorkerPool pool(service_, FastOptions());
  pool.Start();
  auto done = WaitFinal(j.id);
  pool.Stop();
  EXPECT_EQ(kFailed, done.state);
  EXPECT_EQ(2, done.attempts);
  EXPECT_EQ("flaky", done.error.value_or(""));
  EXPECT_EQ(1, AuditCount("job.failed"));
}

TEST_P(JobsTest, PermanentErrorsAreNotRetried) {
  auto j = Enqueue({{"permanent", true}});
  WorkerPool pool(service_, FastOptions());
  pool.Start();
  auto done = WaitFinal(j.id);
  pool.Stop();
  EXPECT_EQ(kFailed, done.state);
  EXPECT_EQ(1, done.attempts);
}

TEST_P(JobsTest, CancelQueuedJobAtOnce) {
  auto j = Enqueue();
  auto c = service_.Cancel(admin_, j.id).value();
  EXPECT_EQ(kCancelled, c.state);
  EXPECT_EQ(1, AuditCount("job.cancel"));
  auto again = service_.Cancel(admin_, j.id);
  ASSERT_FALSE(again);
  EXPECT_EQ(core::Code::kFailedPrecondition, again.error().code);
  WorkerPool pool(service_, FastOptions());
  pool.Start();
  std::this_thread::sleep_for(200ms);
  pool.Stop();
  EXPECT_EQ(0, runs_.load());
}

TEST_P(JobsTest, CancelRunningJobReachesTheHandler) {
  auto j = Enqueue({{"sleep_ms", 20000}});
  WorkerPool pool(service_, FastOptions());
  pool.Start();
  while (service_.Get(admin_, j.id)->state != kRunning) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(service_.Cancel(admin_, j.id));
  auto done = WaitFinal(j.id, 5s);
  pool.Stop();
  EXPECT_EQ(kCancelled, done.state);
}

TEST_P(JobsTest, DeadWorkersJobIsReclaimedAfterItsLease) {
  auto j = Enqueue();
  // A worker that claims the job and dies (never heartbeats, never finishes).
  auto claimed = Store::Claim(*db_, "dead-worker", core::NowNanos(), 300 * core::kNanosPerMilli);
  ASSERT_TRUE(claimed && *claimed);
  EXPECT_EQ(j.id, (*claimed)->id);
  WorkerPool pool(service_, FastOptions("survivor"));
  pool.Start();
  auto done = WaitFinal(j.id);
  pool.Stop();
  EXPECT_EQ(kSucceeded, done.state);
  EXPECT_EQ(2, done.attempts);
}

TEST_P(JobsTest, ShutdownRequeuesWithoutSpendingAnAttempt) {
  auto j = Enqueue({{"sleep_ms", 300000}}, 1);
  {
    WorkerPool pool(service_, FastOptions("first"));
    pool.Start();
    while (service_.Get(admin_, j.id)->state != kRunning) std::this_thread::sleep_for(10ms);
    pool.Stop();
  }
  auto after = service_.Get(admin_, j.id).value();
  EXPECT_EQ(kQueued, after.state);
  EXPECT_EQ(0, after.attempts);
  // The next process picks it up again (and this time we cancel it to end the test).
  WorkerPool pool(service_, FastOptions("second"));
  pool.Start();
  while (service_.Get(admin_, j.id)->state != kRunning) std::this_thread::sleep_for(10ms);
  ASSERT_TRUE(service_.Cancel(admin_, j.id));
  EXPECT_EQ(kCancelled, WaitFinal(j.id).state);
  pool.Stop();
}

TEST_P(JobsTest, TwoReplicasRunEachJobExactlyOnce) {
  constexpr int kJobs = 30;
  for (int i = 0; i < kJobs; ++i) Enqueue();
  WorkerPool a(service_, FastOptions("replica-a"));
  WorkerPool b(service_, FastOptions("replica-b"));
  a.Start();
  b.Start();
  auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto rs = db_->Query("SELECT COUNT(*) FROM jobs WHERE state = 'succeeded'").value();
    if (rs.rows[0].Int(0) == kJobs) break;
    std::this_thread::sleep_for(20ms);
  }
  a.Stop();
  b.Stop();
  EXPECT_EQ(kJobs, runs_.load());
  EXPECT_EQ(kJobs, AuditCount("job.succeeded"));
  EXPECT_TRUE(audit_.Verify()->ok);
}

TEST_P(JobsTest, TenantUsersSeeOnlyTheirOwnJobs) {
  auto j = Enqueue();
  core::RequestContext member;
  member.principal.user_id = 9;
  member.principal.username = "tina";
  member.principal.roles = {core::Role::kTenantMember};
  auto got = service_.Get(member, j.id);
  ASSERT_FALSE(got);
  EXPECT_EQ(core::Code::kNotFound, got.error().code);
  EXPECT_TRUE(service_.List(member, {})->empty());
  EXPECT_EQ(1u, service_.List(admin_, {})->size());
  auto bad = service_.List(admin_, {.state = "sleeping"});
  ASSERT_FALSE(bad);
  EXPECT_EQ("state", bad.error().field);
}

GANTRY_INSTANTIATE_BACKENDS(JobsTest);

}  // namespace
}  // namespace gantry::jobs
