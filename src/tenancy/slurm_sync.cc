#include "tenancy/slurm_sync.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <sstream>

#include "http/params.h"
#include "integrations/slurm/tres.h"
#include "jobs/worker.h"
#include "tenancy/store.h"

namespace gantry::tenancy {

using core::Result;
using http::Context;
using http::Response;

namespace {

bool MaySubmit(core::Role r) {
  return r == core::Role::kTenantAdmin || r == core::Role::kTenantMember;
}

core::json::array Strings(const std::vector<std::string>& v) {
  core::json::array a;
  for (const auto& s : v) a.push_back(core::json::value(s));
  return a;
}

core::json::value OptInt(const std::optional<int64_t>& v) {
  return v ? core::json::value(*v) : core::json::value(nullptr);
}

core::json::object DriftJson(const slurm::AccountDrift& d) {
  core::json::object o;
  o["account"] = d.account;
  o["kind"] = std::string(slurm::DriftKindName(d.kind));
  o["summary"] = d.ToString();
  if (!d.expected_parent.empty() || !d.actual_parent.empty()) {
    o["expected_parent"] = d.expected_parent;
    o["actual_parent"] = d.actual_parent;
  }
  core::json::array limits;
  for (const auto& l : d.limits) {
    limits.push_back(core::json::object{
        {"tres", l.tres}, {"expected", OptInt(l.expected)}, {"actual", OptInt(l.actual)}});
  }
  o["limits"] = std::move(limits);
  if (!d.expected_qos.empty()) {
    o["expected_qos"] = d.expected_qos;
    o["actual_qos"] = Strings(d.actual_qos);
  }
  o["missing_users"] = Strings(d.missing_users);
  o["extra_users"] = Strings(d.extra_users);
  return o;
}

}  // namespace

std::string SlurmTenantAccount(const SlurmSyncConfig& config, std::string_view tenant) {
  return config.prefix + std::string(tenant);
}

std::string SlurmProjectAccount(const SlurmSyncConfig& config, std::string_view tenant,
                                std::string_view project) {
  return config.prefix + std::string(tenant) + "_" + std::string(project);
}

Result<SlurmPlan> BuildDesiredAccounts(store::Database& db, const SlurmSyncConfig& config) {
  SlurmPlan plan;
  GANTRY_TRY(auto tx, db.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto tenants, Store::AllTenants(*tx));
  std::vector<int64_t> ids;
  for (const auto& t : tenants) ids.push_back(t.id);
  std::vector<Quota> quotas;
  if (!ids.empty()) {
    GANTRY_TRY(quotas, Store::LoadQuotas(*tx, ids, std::nullopt, {}));
  }

  // Maps the quotas of one level to GrpTRES; unmapped resources go to plan.skipped.
  auto limits = [&](const std::string& account, int64_t tenant_id, int64_t project_id,
                    bool tenant_level, bool in_cohort) -> slurm::TresMap {
    std::map<std::string, int64_t> amounts;
    for (const auto& q : quotas) {
      if (q.tenant_id != tenant_id || q.project_id != project_id) continue;
      amounts[q.resource] = (tenant_level && !in_cohort) ? q.guaranteed : q.Ceiling();
    }
    std::vector<std::string> unmapped;
    auto tres = slurm::ToSlurmTres(amounts, &unmapped);
    for (const auto& u : unmapped) plan.skipped.push_back(account + ": " + u + " (no Slurm TRES)");
    if (!tres) {  // negative amounts cannot come from the store; be safe anyway
      plan.skipped.push_back(account + ": limits (" + tres.error().message + ")");
      return {};
    }
    return *tres;
  };

  for (const auto& t : tenants) {
    std::string account = SlurmTenantAccount(config, t.slug);
    if (auto st = slurm::ValidateAccountName(account); !st) {
      plan.skipped.push_back(account + ": account name (" + st.error().message + ")");
      continue;
    }
    GANTRY_TRY(auto members, Store::ListMembers(*tx, t.id));
    std::vector<std::string> users;
    if (!t.disabled) {
      for (const auto& m : members) {
        if (!MaySubmit(m.role)) continue;
        if (auto st = slurm::ValidateUserName(m.username); !st) {
          plan.skipped.push_back(account + ": user " + m.username.substr(0, 64) + " (" +
                                 st.error().message + ")");
          continue;
        }
        users.push_back(m.username);
      }
      std::sort(users.begin(), users.end());
    }
    std::string desc = "gantry tenant " + t.slug;
    plan.accounts.push_back({.name = account,
                             .parent = "root",
                             .grp_tres = limits(account, t.id, 0, true, t.cohort.has_value()),
                             .qos = config.qos,
                             .users = users,
                             .description = desc});
    GANTRY_TRY(auto projects, Store::ListProjects(*tx, t.id));
    for (const auto& p : projects) {
      std::string pa = SlurmProjectAccount(config, t.slug, p.slug);
      if (auto st = slurm::ValidateAccountName(pa); !st) {
        plan.skipped.push_back(pa + ": account name (" + st.error().message + ")");
        continue;
      }
      plan.accounts.push_back({.name = pa,
                               .parent = account,
                               .grp_tres = limits(pa, t.id, p.id, false, false),
                               .qos = config.qos,
                               .users = users,
                               .description = "gantry project " + t.slug + "/" + p.slug});
    }
  }
  return plan;
}

Result<std::optional<slurm::DriftPolicy>> ParseSlurmSyncParams(const core::json::object& params) {
  GANTRY_TRY_STATUS(core::OnlyFields(params, {"policy"}));
  GANTRY_TRY(auto policy, core::OptString(params, "policy"));
  if (!policy) return std::optional<slurm::DriftPolicy>{};
  if (*policy == "report") return std::optional(slurm::DriftPolicy::kReport);
  if (*policy == "repair") return std::optional(slurm::DriftPolicy::kRepair);
  return core::InvalidArgument("policy must be 'report' or 'repair'", "policy");
}

core::json::object SlurmSyncResultJson(const slurm::DriftReport& report, const SlurmPlan& plan,
                                       core::UnixNanos finished_at) {
  core::json::object o;
  o["policy"] = report.policy == slurm::DriftPolicy::kRepair ? "repair" : "report";
  o["in_sync"] = report.in_sync();
  o["all_applied"] = report.all_applied();
  std::map<std::string, int64_t> kinds;
  for (const auto& d : report.accounts) ++kinds[std::string(slurm::DriftKindName(d.kind))];
  std::map<std::string, int64_t> states;
  for (const auto& a : report.actions) ++states[std::string(slurm::ActionStateName(a.state))];
  core::json::object counts;
  counts["desired_accounts"] = static_cast<int64_t>(plan.accounts.size());
  counts["drifted_accounts"] = static_cast<int64_t>(report.accounts.size());
  for (const char* k : {"missing", "extra", "changed", "unmanaged"}) counts[k] = kinds[k];
  counts["actions"] = static_cast<int64_t>(report.actions.size());
  for (const char* k : {"planned", "applied", "failed", "skipped"}) {
    counts["actions_" + std::string(k)] = states[k];
  }
  counts["skipped_resources"] = static_cast<int64_t>(plan.skipped.size());
  o["counts"] = std::move(counts);
  core::json::array accounts;
  for (const auto& d : report.accounts) accounts.push_back(DriftJson(d));
  o["accounts"] = std::move(accounts);
  core::json::array actions;
  for (const auto& a : report.actions) {
    core::json::object x{{"account", a.account},
                         {"summary", a.summary},
                         {"command", a.command.ToString()},
                         {"state", std::string(slurm::ActionStateName(a.state))}};
    if (!a.error.empty()) x["error"] = a.error;
    actions.push_back(std::move(x));
  }
  o["actions"] = std::move(actions);
  o["missing_qos"] = Strings(report.missing_qos);
  o["skipped"] = Strings(plan.skipped);
  o["finished_at"] = core::FormatRfc3339(finished_at);
  return o;
}

void RegisterSlurmSyncJobType(jobs::Registry& registry, store::Database& db,
                              SlurmSyncConfig config) {
  registry.Add(jobs::JobType{
      kSlurmSyncJobType,
      "Reconciles the Slurm accounts of every tenant and project (GrpTRES from the quotas, users "
      "from the members) with slurmdbd: `policy` report (drift only) or repair.",
      [](const core::json::object& params) -> core::Status {
        GANTRY_TRY_STATUS(ParseSlurmSyncParams(params));
        return {};
      },
      [&db, config](jobs::JobContext& ctx) -> Result<core::json::object> {
        GANTRY_TRY(auto policy, ParseSlurmSyncParams(ctx.params()));
        slurm::ReconcileOptions ro;
        ro.policy = policy.value_or(config.default_policy);
        ro.organization = config.organization;
        ro.managed_prefix = config.prefix;
        ro.delete_extra = config.delete_extra;
        ctx.Progress(10, "reading tenants and quotas");
        GANTRY_TRY(auto plan, BuildDesiredAccounts(db, config));
        for (const auto& s : plan.skipped) ctx.Log("skipped " + s);
        ctx.Progress(30, "reconciling " + std::to_string(plan.accounts.size()) +
                             " Slurm account(s), policy " +
                             (ro.policy == slurm::DriftPolicy::kRepair ? "repair" : "report"));
        slurm::SlurmClient client(config.client);
        auto report = slurm::Reconcile(client, plan.accounts, ro);
        if (!report) {
          ctx.Log("slurm sync failed: " + report.error().message);
          return core::Error{report.error().code, "slurm sync: " + report.error().message};
        }
        std::istringstream lines(report->ToString());
        for (std::string line; std::getline(lines, line);) {
          if (!line.empty()) ctx.Log(line);
        }
        ctx.Progress(100, report->in_sync() ? "in sync"
                                            : std::to_string(report->accounts.size()) +
                                                  " account(s) drifted");
        return SlurmSyncResultJson(*report, plan, core::NowNanos());
      },
      true});
}

void RegisterSlurmRoutes(http::Router& router, Service& service, SlurmSyncConfig config) {
  router.Add({"GET", "/api/v1/tenants/{tenant}/slurm-jobs", "tenants.read"},
             [&service, config](Context& c) -> Result<Response> {
               GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {}));
               GANTRY_TRY(auto t, service.GetTenant(c.rc, c.Param("tenant")));
               GANTRY_TRY(auto projects, service.ListProjects(c.rc, t.slug));
               std::vector<std::string> accounts{SlurmTenantAccount(config, t.slug)};
               std::map<std::string, std::string> project_of;
               for (const auto& p : projects) {
                 std::string a = SlurmProjectAccount(config, t.slug, p.slug);
                 if (!slurm::ValidateAccountName(a)) continue;
                 project_of[a] = p.slug;
                 accounts.push_back(a);
               }
               slurm::SlurmClient client(config.client);
               GANTRY_TRY(auto queued, client.ListJobs(accounts));
               core::json::array items;
               for (const auto& j : queued) {
                 auto it = project_of.find(j.account);
                 items.push_back(core::json::object{
                     {"job_id", j.job_id},
                     {"account", j.account},
                     {"project", it == project_of.end() ? core::json::value(nullptr)
                                                        : core::json::value(it->second)},
                     {"user", j.user},
                     {"state", j.state},
                     {"reason", j.reason},
                     {"tres_per_node", j.tres_per_node}});
               }
               return http::ListResponse(std::move(items), std::nullopt);
             });
}

}  // namespace gantry::tenancy
