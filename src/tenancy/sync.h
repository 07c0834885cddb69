// Keeping the engines (Slurm, Kubernetes) in step with tenancy: the trigger that enqueues their
// sync jobs when tenancy changes, and the sync status each engine's route and the CLI show.
//
// Trigger: MakeSyncTrigger returns the Service's EngineSyncHook. Inside the transaction of the
// change it enqueues each sync job type unless one of that type is already queued and not yet
// started (coalescing: a burst of quota changes leaves one pending sync, which reads the latest
// state when it runs). A sync that is running when a change commits may have read the old state,
// so it does not count: another one is queued. The jobs are created by "system" and audited
// (`job.create`) in the same transaction as the change.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/json.h"
#include "http/router.h"
#include "jobs/service.h"
#include "tenancy/service.h"

namespace gantry::tenancy {

EngineSyncHook MakeSyncTrigger(jobs::Service& jobs, std::vector<std::string> job_types);

// What an engine's sync route reports (extra fields such as `policy` go into `config`).
struct SyncEngine {
  std::string name;      // "slurm", "kubernetes"
  std::string job_type;  // kSlurmSyncJobType, kKubeSyncJobType
  bool enabled = false;  // configured in this gantry serve
  core::json::object config;
};

// The sync status of one engine:
//   {"engine", "enabled", "config", "state": "never"|"pending"|"in_sync"|"drift"|"failing",
//    "reason": string|null, "job": {id, state}|null (the newest), "last": the newest finished
//    job {id, state, finished_at, error, in_sync, result}|null}
// "failing" when the newest finished job failed (reason: its error, e.g. the API server or
// slurmdbd cannot be reached); "drift" when it succeeded with in_sync false (Slurm, policy
// report); "pending" when none finished yet but one is queued or running.
core::Result<core::json::object> SyncStatus(jobs::Service& jobs, const SyncEngine& engine);

// GET /api/v1/tenancy/sync: {"items": [slurm status, kubernetes status]}, and the per-engine
// routes GET /api/v1/slurm/sync and GET /api/v1/kubernetes/sync. Operators and admins only.
void RegisterSyncRoutes(http::Router& router, jobs::Service& jobs,
                        std::vector<SyncEngine> engines);

}  // namespace gantry::tenancy
