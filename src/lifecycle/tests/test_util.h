// Test fixture of the lifecycle module: a fresh database on each backend, the real audit, jobs
// and CMDB services, a worker pool, and a SimulatedFleet standing in for BMCs and machines (no
// BMC or machine can run inside a unit test; the e2e test drives real QEMU VMs instead).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "audit/service.h"
#include "cmdb/service.h"
#include "jobs/service.h"
#include "jobs/worker.h"
#include "lifecycle/service.h"
#include "lifecycle/simulator.h"
#include "support/test_db.h"

namespace gantry::lifecycle {

#define ASSERT_OK(expr)                                                             \
  do {                                                                              \
    auto _r = (expr);                                                               \
    ASSERT_TRUE(_r) << #expr << ": " << (_r ? std::string() : _r.error().message); \
  } while (0)

class LifecycleTest : public ::testing::TestWithParam<store::Backend> {
 protected:
  LifecycleTest();
  ~LifecycleTest() override;

  static core::RequestContext User(const std::string& name, core::Role role);
  Node MakeNode(const std::string& name, const std::string& mac);
  // Registers an image whose files hold `content` (kernel, initrd and rootfs).
  Image MakeImage(const std::string& name, const std::string& content = "kernel bytes");
  // Waits (up to 60 s) until the node is in `state` with no operation running.
  Node WaitFor(const std::string& node, const std::string& state);
  jobs::Job JobOf(int64_t id);
  int AuditCount(const std::string& action);

  std::unique_ptr<store::Database> db_;
  audit::Service audit_;
  jobs::Registry registry_;
  jobs::Service jobs_;
  cmdb::Service cmdb_;
  SimulatedFleet fleet_;
  std::string dir_;
  Options options_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<jobs::WorkerPool> pool_;
  core::RequestContext admin_, viewer_;
};

}  // namespace gantry::lifecycle
