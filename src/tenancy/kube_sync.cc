#include "tenancy/kube_sync.h"

#include <spdlog/spdlog.h>

#include <map>

#include "jobs/worker.h"
#include "tenancy/store.h"

namespace gantry::tenancy {

using core::Result;

Result<KubePlan> BuildKubeProjects(store::Database& db) {
  KubePlan plan;
  GANTRY_TRY(auto tx, db.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto tenants, Store::AllTenants(*tx));
  std::vector<int64_t> ids;
  for (const auto& t : tenants) ids.push_back(t.id);
  std::map<std::pair<int64_t, int64_t>, std::map<std::string, int64_t>> ceilings;
  if (!ids.empty()) {
    GANTRY_TRY(auto quotas, Store::LoadQuotas(*tx, ids, std::nullopt, {}));
    std::map<int64_t, bool> in_cohort;
    for (const auto& t : tenants) in_cohort[t.id] = t.cohort.has_value();
    for (const auto& q : quotas) {
      bool tenant_level = q.project_id == 0;
      ceilings[{q.tenant_id, q.project_id}][q.resource] =
          (tenant_level && !in_cohort[q.tenant_id]) ? q.guaranteed : q.Ceiling();
    }
  }
  for (const auto& t : tenants) {
    GANTRY_TRY(auto projects, Store::ListProjects(*tx, t.id));
    const auto& tenant_hard = ceilings[{t.id, 0}];
    for (const auto& p : projects) {
      std::string name = t.slug + "/" + p.slug;
      if (auto ns = kubernetes::NamespaceName(t.slug, p.slug); !ns) {
        plan.skipped.push_back(name + ": namespace name (" + ns.error().message + ")");
        continue;
      }
      kubernetes::ProjectQuota pq{.tenant = t.slug, .project = p.slug, .hard = tenant_hard};
      for (const auto& [resource, amount] : ceilings[{t.id, p.id}]) pq.hard[resource] = amount;
      if (t.disabled) pq.hard["instances"] = 0;
      plan.projects.push_back(std::move(pq));
    }
  }
  return plan;
}

void RegisterKubeSyncJobType(jobs::Registry& registry, store::Database& db, KubeSyncConfig config) {
  auto client = std::make_shared<kubernetes::KubeClient>(config.client, config.transport);
  registry.Add(jobs::JobType{
      kKubeSyncJobType,
      "Applies the Namespace, ResourceQuota and LimitRange of every project (from the quotas) to "
      "the Kubernetes API server with server-side apply.",
      [](const core::json::object& params) { return core::OnlyFields(params, {}); },
      [&db, config, client](jobs::JobContext& ctx) -> Result<core::json::object> {
        if (!config.enabled()) {
          return core::FailedPrecondition(
              "Kubernetes is not configured (gantry serve --kube-server)");
        }
        ctx.Progress(5, "reading projects and quotas");
        GANTRY_TRY(auto plan, BuildKubeProjects(db));
        for (const auto& s : plan.skipped) ctx.Log("skipped " + s);
        core::json::array applied, failed, skipped;
        for (const auto& s : plan.skipped) skipped.push_back(core::json::value(s));
        size_t done = 0;
        for (const auto& pq : plan.projects) {
          if (ctx.Cancelled()) return core::Unavailable("kubernetes sync: cancelled");
          std::string name = pq.tenant + "/" + pq.project;
          auto rendered = kubernetes::Render(pq);
          core::Status st = rendered ? client->ApplyAll(*rendered) : core::Status(rendered.error());
          ++done;
          ctx.Progress(5 + static_cast<int>(90 * done / plan.projects.size()),
                       "applied " + std::to_string(done) + " of " +
                           std::to_string(plan.projects.size()) + " project(s)");
          if (st) {
            core::json::object a{{"project", name}, {"namespace", rendered->namespace_name}};
            if (!rendered->skipped.empty()) {
              core::json::array not_enforced;
              for (const auto& s : rendered->skipped) not_enforced.push_back(core::json::value(s));
              a["not_enforced"] = std::move(not_enforced);
            }
            applied.push_back(std::move(a));
            continue;
          }
          // Unreachable: the whole run stops and is retried; nothing else would get through.
          if (st.error().code == core::Code::kUnavailable) {
            ctx.Log("kubernetes unreachable at " + name + ": " + st.error().message);
            return core::Unavailable("kubernetes sync: " + st.error().message);
          }
          ctx.Log("failed " + name + ": " + st.error().message);
          failed.push_back(core::json::object{{"project", name}, {"error", st.error().message}});
        }
        if (!failed.empty()) {
          std::string why = std::to_string(failed.size()) + " of " +
                            std::to_string(plan.projects.size()) + " project(s) failed: ";
          for (size_t i = 0; i < failed.size() && i < 5; ++i) {
            const auto& f = failed[i].as_object();
            why += (i ? "; " : "") + std::string(f.at("project").as_string()) + ": " +
                   std::string(f.at("error").as_string());
          }
          return core::FailedPrecondition("kubernetes sync: " + why);
        }
        ctx.Progress(100, std::to_string(applied.size()) + " project(s) applied");
        core::json::object counts{{"projects", static_cast<int64_t>(plan.projects.size())},
                                  {"applied", static_cast<int64_t>(applied.size())},
                                  {"skipped", static_cast<int64_t>(plan.skipped.size())}};
        return core::json::object{{"in_sync", true},
                                  {"server", config.client.server},
                                  {"counts", std::move(counts)},
                                  {"applied", std::move(applied)},
                                  {"skipped", std::move(skipped)},
                                  {"finished_at", core::FormatRfc3339(core::NowNanos())}};
      },
      true});
}

}  // namespace gantry::tenancy
