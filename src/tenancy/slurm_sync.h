// Tenancy → Slurm: the Slurm accounts that tenants, projects, quotas and members call for, the
// durable job `tenancy.slurm_sync` that reconciles them with slurmdbd (its status: sync.h), and
// the route that shows a tenant's queued Slurm jobs with Slurm's own pending reason
// (`GET /api/v1/tenants/{tenant}/slurm-jobs`). User guide: docs/slurm.md.
//
// Mapping (BuildDesiredAccounts):
//   tenant  acme            → account `<prefix>acme` under root (prefix "g_" by default)
//   project acme/p1         → account `<prefix>acme_p1` under `<prefix>acme` (slugs have no '_',
//                             so the names cannot collide)
//   quota                   → GrpTRES through slurm::ToSlurmTres. The tenant account's limit is
//                             the tenant's admission ceiling: `burst` when the tenant is in a
//                             cohort and has one, else `guaranteed` (a tenant without a cohort
//                             never goes above its guarantee). A project's limit is its own
//                             ceiling (burst when set, else guaranteed); a resource without a
//                             project quota has no project limit (the tenant's applies). Slurm
//                             does not know cohorts: the cohort's shared total is enforced by
//                             Gantry's admission (Reserve), not by Slurm.
//   members                 → user associations. Slurm user names are Gantry user names (the
//                             cluster's login names must match). tenant-admin and tenant-member
//                             members are added to the tenant account and to every project
//                             account (Gantry has no per-project membership); viewers are not
//                             (they cannot submit). A disabled tenant keeps its accounts and
//                             limits with no users.
// Resources Slurm cannot express (mig/*, storage, instances) and names Slurm would reject (an
// account name over 64 characters, a user name Slurm does not accept) are skipped and listed in
// SlurmPlan::skipped — never an error.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/json.h"
#include "http/router.h"
#include "integrations/slurm/client.h"
#include "integrations/slurm/reconcile.h"
#include "jobs/service.h"
#include "tenancy/service.h"

namespace gantry::tenancy {

inline constexpr char kSlurmSyncJobType[] = "tenancy.slurm_sync";

struct SlurmSyncConfig {
  // Slurm enforces the quotas here (gantry serve: --slurm-conf or --slurm-sync-interval given):
  // tenancy changes enqueue tenancy.slurm_sync (sync.h).
  bool enabled = false;
  slurm::SlurmClientOptions client;  // SLURM_CONF in env, timeout, cluster, bin_dir
  slurm::DriftPolicy default_policy = slurm::DriftPolicy::kReport;  // when params omit it
  std::string prefix = "g_";         // account name prefix; also marks Gantry's accounts
  std::string organization = "gantry";
  std::string qos;                   // if set: every account's only QOS and its default
  bool delete_extra = true;          // repair deletes managed accounts of deleted tenants
};

struct SlurmPlan {
  std::vector<slurm::DesiredAccount> accounts;  // tenants first, each followed by its projects
  std::vector<std::string> skipped;  // "g_acme: mig/1g.10gb (no Slurm TRES)", ...
};

// Reads every tenant, project, quota and member (one read transaction, no principal: this is the
// system's view) and builds the desired accounts.
core::Result<SlurmPlan> BuildDesiredAccounts(store::Database& db, const SlurmSyncConfig& config);

std::string SlurmTenantAccount(const SlurmSyncConfig& config, std::string_view tenant);
std::string SlurmProjectAccount(const SlurmSyncConfig& config, std::string_view tenant,
                                std::string_view project);

// Parses {"policy": "report"|"repair"} (both optional).
core::Result<std::optional<slurm::DriftPolicy>> ParseSlurmSyncParams(
    const core::json::object& params);

// The job's result: policy, in_sync, all_applied, counts, accounts (per-account drift), actions,
// missing_qos, skipped, finished_at.
core::json::object SlurmSyncResultJson(const slurm::DriftReport& report, const SlurmPlan& plan,
                                       core::UnixNanos finished_at);

// Registers `tenancy.slurm_sync`. Slurm unreachable (kUnavailable) fails the attempt and the
// worker retries with back-off; nothing in Gantry's database is written by the handler.
void RegisterSlurmSyncJobType(jobs::Registry& registry, store::Database& db,
                              SlurmSyncConfig config);

// GET /api/v1/tenants/{tenant}/slurm-jobs (squeue for the tenant's accounts, with Slurm's own
// pending reason). The sync status (GET /api/v1/slurm/sync) is sync.h's RegisterSyncRoutes.
void RegisterSlurmRoutes(http::Router& router, Service& service, SlurmSyncConfig config);

}  // namespace gantry::tenancy
