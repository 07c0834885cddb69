// Test fixture for the tenancy module: a fresh database on each backend, the services, and
// helpers that read like the rules they check.
#pragma once

#include <gtest/gtest.h>

#include <functional>
#include <memory>
#include <string>

#include "audit/service.h"
#include "auth/service.h"
#include "jobs/worker.h"
#include "support/test_db.h"
#include "tenancy/service.h"

namespace gantry::tenancy {

#define ASSERT_OK(expr)                                                         \
  do {                                                                          \
    auto _r = (expr);                                                           \
    ASSERT_TRUE(_r) << #expr << ": " << (_r ? std::string() : _r.error().message); \
  } while (0)

// A database with every migration applied and a pool of `pool_size` connections.
std::unique_ptr<store::Database> OpenTestDatabase(store::Backend backend, int pool_size);

// One started job worker polling every 20 ms.
std::unique_ptr<jobs::WorkerPool> StartWorkers(jobs::Service& jobs);
// Enqueues one job (a single attempt), wakes the workers and returns it once final (or as it is
// after 20 s).
jobs::Job RunJob(jobs::Service& jobs, jobs::WorkerPool& workers, const std::string& type,
                 core::json::object params = {});

// Outcome of ReserveConcurrently.
struct ConcurrentOutcome {
  int admitted = 0, exhausted = 0;
  std::vector<std::string> other;  // messages of any other error
};
// Runs `calls` threads that start together; call i runs reserve(i).
ConcurrentOutcome ReserveConcurrently(int calls,
                                      const std::function<core::Result<Reservation>(int)>& reserve);

class TenancyTest : public ::testing::TestWithParam<store::Backend> {
 protected:
  explicit TenancyTest(int pool_size = 8);

  // A user row (no password) with global roles; returns its id.
  int64_t MakeUser(const std::string& name, std::vector<core::Role> roles = {});
  // A request context for a user, with the memberships the tenancy service reports for it.
  core::RequestContext As(int64_t user_id, const std::string& name,
                          std::vector<core::Role> roles = {});
  // A tenant-member user of `tenant` (global role tenant-member).
  core::RequestContext MemberOf(const std::string& tenant, core::Role role = core::Role::kTenantMember);

  Tenant MakeTenant(const std::string& slug, std::optional<std::string> cohort = {});
  void SetQuota(const std::string& tenant, const std::string& resource, int64_t guaranteed,
                std::optional<int64_t> burst = {}, std::optional<std::string> project = {});
  core::Result<Reservation> Reserve(const std::string& tenant, Amounts amounts,
                                    const std::string& ref, std::optional<std::string> project = {});
  // The tenant-level view of one resource.
  QuotaView View(const std::string& tenant, const std::string& resource,
                 const std::string& project = "");
  int AuditCount(const std::string& action);

  std::unique_ptr<store::Database> db_;
  core::ManualClock clock_{1'700'000'000LL * core::kNanosPerSecond};
  audit::Service audit_;
  auth::Service auth_;
  Service service_;
  core::RequestContext admin_;
  int users_ = 0;
};

}  // namespace gantry::tenancy
