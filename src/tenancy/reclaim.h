// Telling the engines about a reclaim. When an owner's admission reclaims borrowed capacity
// (Service::Reserve, README "Reclaim"), the capacity is free in Gantry in the same transaction;
// the borrower's work may still run in the engine. The ReclaimHook, called in that transaction
// with the reclaimed reservations, enqueues the durable job `tenancy.reclaim`, which acts on each
// reservation's `ref` in its engine:
//
//   ref "slurm:<job id>"   requeue (`scontrol requeue`: the job goes back to pending and waits
//                          for capacity under its account's limits) or cancel (`scancel`),
//                          per the configured action (gantry serve --reclaim-action)
//   any other ref          no engine Gantry drives holds it: listed as skipped
//
// A Slurm that cannot be reached fails the attempt (retried with back-off); a job Slurm refuses
// to requeue (finished, not requeueable) is listed as failed with Slurm's answer.
#pragma once

#include <string>
#include <vector>

#include "jobs/service.h"
#include "tenancy/service.h"
#include "tenancy/slurm_sync.h"

namespace gantry::tenancy {

inline constexpr char kReclaimJobType[] = "tenancy.reclaim";

// "requeue" (default), "cancel" or "none" (only record it).
core::Status ValidateReclaimAction(std::string_view action);

ReclaimHook MakeReclaimTrigger(jobs::Service& jobs);

// params: {"reservations": [{"id", "tenant", "ref"}...], "action"?: requeue|cancel|none}.
void RegisterReclaimJobType(jobs::Registry& registry, SlurmSyncConfig config,
                            std::string default_action);

}  // namespace gantry::tenancy
