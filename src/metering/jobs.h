// Metering's durable jobs:
//   metering.slurm_collect  reads job allocations from Slurm accounting (`sacct`) and records
//                           their TRES (GPUs by type, CPU cores, memory) as allocated usage;
//   metering.budgets        evaluates every budget (alerts at 50/80/100 %) and, for spent hard
//                           budgets with hold_slurm, holds the queued Slurm jobs of the tenant's
//                           or project's accounts (`scontrol hold`).
//
// Slurm accounts map to tenants and projects as tenancy.slurm_sync creates them:
// `<prefix><tenant>` and `<prefix><tenant>_<project>`; jobs of other accounts are skipped.
// Usage is cut into hours; a running job's hours are recorded once complete, an ended job's all
// of them, each under the key slurm:<cluster>:<job>:<tres>:<hour>, so collecting the same window
// again (or overlapping windows) counts nothing twice.
#pragma once

#include <string>
#include <vector>

#include "integrations/slurm/client.h"
#include "jobs/service.h"
#include "metering/billing.h"

namespace gantry::metering {

inline constexpr char kSlurmCollectJobType[] = "metering.slurm_collect";
inline constexpr char kBudgetsJobType[] = "metering.budgets";

struct SlurmSourceConfig {
  slurm::SlurmClientOptions client;
  std::string prefix = "g_";       // account prefix (tenancy.slurm_sync's)
  int64_t default_lookback = kNanosPerDay;  // when params give no `since`
};

// The usage records of Slurm job records, as of `now` (see the top of this file). Jobs of
// accounts without the prefix are skipped; TRES without a SKU (billing, energy, untyped GPUs)
// are listed in *skipped.
std::vector<UsageRecord> SlurmUsage(const std::vector<slurm::JobRecord>& jobs,
                                    const SlurmSourceConfig& config, const std::string& cluster,
                                    core::UnixNanos now, std::vector<std::string>* skipped);

void RegisterJobTypes(jobs::Registry& registry, Service& service, Billing& billing,
                      SlurmSourceConfig config);

}  // namespace gantry::metering
