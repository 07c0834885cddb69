#include "agent/cgroup.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "support/process.h"

namespace gantry::agent {
namespace {

TEST(Cgroup, RecordedH100ProcessHasNoWorkload) {
  // /proc/445/cgroup of the bf16 loop on the H100 machine (tests/data/nvml-h100/proc-cgroup.txt).
  std::string recorded = gantry::testing::ReadFile(std::string(std::getenv("GANTRY_SOURCE_DIR")) +
                                                   "/tests/data/nvml-h100/proc-cgroup.txt");
  Workload w = ClassifyCgroup(recorded);
  EXPECT_EQ(w.cgroup, "/process_api/c562925ddc427387bfa686cd764a1b10");
  EXPECT_EQ(w.slurm_job, "");
  EXPECT_EQ(w.container, "");  // 32 hex digits under process_api: not a container runtime
  EXPECT_EQ(w.pod_uid, "");
}

TEST(Cgroup, SlurmJobsV2AndV1) {
  EXPECT_EQ(ClassifyCgroup("0::/system.slice/slurmstepd.scope/job_4711/step_0/user/task_0\n").slurm_job,
            "4711");
  EXPECT_EQ(ClassifyCgroup("12:pids:/slurm/uid_1000/job_88/step_batch\n"
                           "4:memory:/slurm/uid_1000/job_88/step_batch/task_0\n")
                .slurm_job,
            "88");
  EXPECT_EQ(ClassifyCgroup("0::/user.slice/job_abc\n").slurm_job, "");
}

TEST(Cgroup, ContainersAndPods) {
  const std::string id(64, 'a');
  EXPECT_EQ(ClassifyCgroup("0::/system.slice/docker-" + id + ".scope\n").container, id);
  EXPECT_EQ(ClassifyCgroup("0::/docker/" + id + "\n").container, id);
  Workload k = ClassifyCgroup(
      "0::/kubepods.slice/kubepods-burstable.slice/"
      "kubepods-burstable-pod0d6a5a4f_2c1e_4b8e_9f3a_1234567890ab.slice/cri-containerd-" +
      id + ".scope\n");
  EXPECT_EQ(k.container, id);
  EXPECT_EQ(k.pod_uid, "0d6a5a4f-2c1e-4b8e-9f3a-1234567890ab");
  Workload c = ClassifyCgroup("0::/kubepods/besteffort/pod0d6a5a4f-2c1e-4b8e-9f3a-1234567890ab/" + id + "\n");
  EXPECT_EQ(c.pod_uid, "0d6a5a4f-2c1e-4b8e-9f3a-1234567890ab");
  EXPECT_EQ(c.container, id);
}

TEST(Cgroup, MissingProcessGivesNothing) {
  Workload w = WorkloadOfPid("/nonexistent-procfs", 1);
  EXPECT_EQ(w.cgroup, "");
}

}  // namespace
}  // namespace gantry::agent
