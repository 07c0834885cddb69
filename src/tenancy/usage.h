// Used capacity and usage over time: what the engines report in use (UsageSource; Slurm's is
// running jobs' allocated TRES through sacct), the durable job `tenancy.usage_snapshot` that
// writes every tenant's quota lines — guaranteed, burst, reserved, borrowed, lent, used — to
// `quota_snapshots`, and the series read back in fixed steps
// (GET /api/v1/tenants/{tenant}/usage/series?from&to&step).
//
// `used` is what runs, `reserved` what was admitted: used above reserved means work the
// engines run without a Gantry reservation; reserved above used, admitted work not (yet)
// running. The quota view shows the `used` of the newest snapshot.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "http/router.h"
#include "jobs/service.h"
#include "tenancy/service.h"
#include "tenancy/slurm_sync.h"

namespace gantry::tenancy {

inline constexpr char kUsageSnapshotJobType[] = "tenancy.usage_snapshot";

// Capacity in use at one level: project "" is the tenant's own account, without its projects.
struct EngineUse {
  std::string tenant, project;  // slugs
  Amounts amounts;
};

// One engine's report. kUnavailable when the engine cannot be asked (the snapshot then records
// `used` as unknown, null, and says why in the job log).
class UsageSource {
 public:
  virtual ~UsageSource() = default;
  virtual std::string name() const = 0;
  virtual core::Result<std::vector<EngineUse>> Used() = 0;
};

// Slurm: running jobs (sacct -X, state RUNNING now) of Gantry's accounts, their AllocTRES
// mapped back to Gantry resources (gres/gpu:h100 → gpu/h100, cpu, mem → memory).
std::unique_ptr<UsageSource> MakeSlurmUsageSource(store::Database& db, SlurmSyncConfig config);

// {(tenant, project): amounts} with the tenant level ("") the sum over the tenant and all of its
// projects, as the quota lines count it.
std::map<std::pair<std::string, std::string>, Amounts> RollUp(const std::vector<EngineUse>& use);

// Registers `tenancy.usage_snapshot` (params: {"retention_days": 1..3650, default 90}).
void RegisterUsageSnapshotJobType(jobs::Registry& registry, Service& service,
                                  std::vector<std::shared_ptr<UsageSource>> sources);

// GET /api/v1/tenants/{tenant}/usage/series
void RegisterUsageRoutes(http::Router& router, Service& service);

}  // namespace gantry::tenancy
