// Reclaim reaches the engines: an owner's admission that reclaims borrowed capacity queues one
// tenancy.reclaim job naming the reclaimed reservations (alone and through the group-commit
// batch), in the same transaction; the job requeues the Slurm jobs they name, skips refs no
// engine holds, and fails with the reason when Slurm cannot be run. The requeue against a real
// Slurm is in tenancy_slurm_test; here the Slurm tools are missing on purpose.
#include <chrono>
#include <thread>

#include "jobs/worker.h"
#include "tenancy/reclaim.h"
#include "tenancy/tests/test_util.h"

namespace gantry::tenancy {
namespace {

using namespace std::chrono_literals;
constexpr char kH100[] = "gpu/h100";

class ReclaimTest : public TenancyTest {
 protected:
  void SetUp() override {
    SlurmSyncConfig slurm;
    slurm.enabled = true;
    slurm.client.bin_dir = "/nonexistent/slurm/bin";  // Slurm cannot be run
    RegisterReclaimJobType(registry_, slurm, "requeue");
    jobs_ = std::make_unique<jobs::Service>(*db_, audit_, clock_, registry_);
    service_.SetReclaimHook(MakeReclaimTrigger(*jobs_));
    MakeTenant("a", "pool");
    MakeTenant("b", "pool");
    SetQuota("a", kH100, 4);
    SetQuota("b", kH100, 4, 8);
    EXPECT_TRUE(Reserve("b", {{kH100, 4}}, "slurm:101"));
    EXPECT_TRUE(Reserve("b", {{kH100, 4}}, "slurm:102"));  // borrows a's unused guarantee
  }
  void TearDown() override {
    if (workers_) workers_->Stop();
  }
  std::vector<jobs::Job> ReclaimJobs() {
    jobs::ListFilter f;
    f.type = kReclaimJobType;
    return jobs_->List(core::RequestContext::System(), f).value();
  }
  jobs::Job Run(core::json::object params) {
    if (!workers_) workers_ = StartWorkers(*jobs_);
    return RunJob(*jobs_, *workers_, kReclaimJobType, std::move(params));
  }

  jobs::Registry registry_;
  std::unique_ptr<jobs::Service> jobs_;
  std::unique_ptr<jobs::WorkerPool> workers_;
};

TEST_P(ReclaimTest, AnOwnersAdmissionQueuesTheReclaimOfTheBorrowersWork) {
  EXPECT_TRUE(ReclaimJobs().empty());  // b's admissions (borrowing included) reclaimed nothing
  EXPECT_FALSE(Reserve("b", {{kH100, 1}}, "slurm:103"));  // refused: nothing to tell either
  EXPECT_TRUE(ReclaimJobs().empty());

  ASSERT_OK(Reserve("a", {{kH100, 3}}, "slurm:201"));  // its own guarantee: reclaims slurm:102
  auto jobs = ReclaimJobs();
  ASSERT_EQ(1u, jobs.size());
  auto params = core::json::parse(jobs[0].params).as_object();
  const auto& list = params.at("reservations").as_array();
  ASSERT_EQ(1u, list.size());
  EXPECT_EQ("slurm:102", list[0].as_object().at("ref").as_string());
  EXPECT_EQ("b", list[0].as_object().at("tenant").as_string());
}

TEST_P(ReclaimTest, TheBatchedPathTellsTheEnginesToo) {
  service_.EnableAdmissionBatching({.lanes = 2, .max_batch = 8});
  ASSERT_OK(Reserve("a", {{kH100, 4}}, "slurm:300"));
  auto jobs = ReclaimJobs();
  ASSERT_EQ(1u, jobs.size());
  EXPECT_NE(std::string::npos, jobs[0].params.find("slurm:102"));
}

TEST_P(ReclaimTest, TheJobSkipsForeignRefsAndFailsWhenSlurmCannotBeRun) {
  auto skipped = Run({{"reservations", core::json::array{core::json::object{
                                           {"id", 7}, {"tenant", "b"}, {"ref", "k8s:train-1"}}}}});
  ASSERT_EQ(jobs::kSucceeded, skipped.state) << skipped.error.value_or("");
  EXPECT_NE(std::string::npos, skipped.result->find("\"skipped\""));

  auto failed = Run({{"reservations", core::json::array{core::json::object{
                                          {"id", 8}, {"tenant", "b"}, {"ref", "slurm:102"}}}}});
  ASSERT_EQ(jobs::kFailed, failed.state);
  EXPECT_NE(std::string::npos, failed.error->find("reclaim: scontrol")) << *failed.error;

  auto bad = jobs_->Enqueue(core::RequestContext::System(),
                            jobs::NewJob{kReclaimJobType, {{"reservations", 3}}, 1, std::nullopt});
  EXPECT_FALSE(bad);
}

GANTRY_INSTANTIATE_BACKENDS(ReclaimTest);

}  // namespace
}  // namespace gantry::tenancy
