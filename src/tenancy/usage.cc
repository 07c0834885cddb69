#include "tenancy/usage.h"

#include <spdlog/spdlog.h>

#include "http/params.h"
#include "integrations/slurm/tres.h"
#include "jobs/worker.h"
#include "tenancy/store.h"

namespace gantry::tenancy {

using core::Result;
using http::Context;
using http::Response;

namespace {

class SlurmUsage : public UsageSource {
 public:
  SlurmUsage(store::Database& db, SlurmSyncConfig config) : db_(db), config_(std::move(config)) {}
  std::string name() const override { return "slurm"; }

  Result<std::vector<EngineUse>> Used() override {
    GANTRY_TRY(auto plan, BuildDesiredAccounts(db_, config_));
    // Account name → (tenant, project), from the same mapping the sync job applies.
    std::map<std::string, std::pair<std::string, std::string>> owner;
    GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
    GANTRY_TRY(auto tenants, Store::AllTenants(*tx));
    for (const auto& t : tenants) {
      owner[SlurmTenantAccount(config_, t.slug)] = {t.slug, ""};
      GANTRY_TRY(auto projects, Store::ListProjects(*tx, t.id));
      for (const auto& p : projects) {
        owner[SlurmProjectAccount(config_, t.slug, p.slug)] = {t.slug, p.slug};
      }
    }
    std::vector<std::string> accounts;
    for (const auto& a : plan.accounts) accounts.push_back(a.name);
    std::vector<EngineUse> out;
    if (accounts.empty()) return out;
    slurm::SlurmClient client(config_.client);
    auto now = core::NowNanos();
    GANTRY_TRY(auto records, client.ListJobRecords({now, now, accounts}));
    std::map<std::pair<std::string, std::string>, Amounts> sums;
    for (const auto& r : records) {
      if (r.state != "RUNNING") continue;
      auto it = owner.find(r.account);
      if (it == owner.end()) continue;
      for (const auto& [res, amount] : slurm::FromSlurmTres(r.alloc_tres)) {
        sums[it->second][res] += amount;
      }
    }
    for (auto& [k, amounts] : sums) out.push_back({k.first, k.second, std::move(amounts)});
    return out;
  }

 private:
  store::Database& db_;
  SlurmSyncConfig config_;
};

constexpr int64_t kNanosPerDay = 86400 * core::kNanosPerSecond;

}  // namespace

std::unique_ptr<UsageSource> MakeSlurmUsageSource(store::Database& db, SlurmSyncConfig config) {
  return std::make_unique<SlurmUsage>(db, std::move(config));
}

std::map<std::pair<std::string, std::string>, Amounts> RollUp(const std::vector<EngineUse>& use) {
  std::map<std::pair<std::string, std::string>, Amounts> out;
  for (const auto& u : use) {
    for (const auto& [r, a] : u.amounts) {
      out[{u.tenant, ""}][r] += a;
      if (!u.project.empty()) out[{u.tenant, u.project}][r] += a;
    }
  }
  return out;
}

void RegisterUsageSnapshotJobType(jobs::Registry& registry, Service& service,
                                  std::vector<std::shared_ptr<UsageSource>> sources) {
  auto validate = [](const core::json::object& params) -> core::Status {
    GANTRY_TRY_STATUS(core::OnlyFields(params, {"retention_days"}));
    GANTRY_TRY(auto days, core::OptInt(params, "retention_days"));
    if (days && (*days < 1 || *days > 3650)) {
      return core::InvalidArgument("retention_days must be between 1 and 3650", "retention_days");
    }
    return {};
  };
  registry.Add(jobs::JobType{
      kUsageSnapshotJobType,
      "Records every tenant's quota lines (guaranteed, burst, reserved, borrowed, lent) with the "
      "capacity the engines report in use, for the usage-over-time views.",
      validate,
      [&service, sources, validate](jobs::JobContext& ctx) -> Result<core::json::object> {
        GANTRY_TRY_STATUS(validate(ctx.params()));
        int64_t days = core::OptInt(ctx.params(), "retention_days").value().value_or(90);
        auto rc = core::RequestContext::System("usage-snapshot");
        // Engines first: one that cannot be asked leaves `used` unknown, not zero.
        std::map<std::pair<std::string, std::string>, Amounts> used;
        bool all_reported = true;
        core::json::array engines;
        for (const auto& s : sources) {
          auto u = s->Used();
          if (!u) {
            all_reported = false;
            ctx.Log(s->name() + ": " + u.error().message);
            engines.push_back(core::json::object{{"engine", s->name()}, {"error", u.error().message}});
            continue;
          }
          engines.push_back(core::json::object{{"engine", s->name()}, {"error", nullptr}});
          for (auto& [k, amounts] : RollUp(*u)) {
            for (const auto& [r, a] : amounts) used[k][r] += a;
          }
        }
        bool know_used = !sources.empty() && all_reported;
        auto now = core::NowNanos();
        int64_t tenants = 0, rows = 0;
        ListOptions o;
        o.limit = 500;
        for (;;) {
          GANTRY_TRY(auto page, service.ListTenants(rc, o));
          GANTRY_TRY(auto tx, service.db().Begin());
          for (const auto& t : page) {
            GANTRY_TRY(auto projects, service.ListProjects(rc, t.slug));
            std::map<std::string, int64_t> pid;
            for (const auto& p : projects) pid[p.slug] = p.id;
            GANTRY_TRY(auto views, service.Quotas(rc, t.slug));
            for (const auto& v : views) {
              Snapshot s{.time = now,
                         .tenant_id = t.id,
                         .project_id = v.project.empty() ? 0 : pid[v.project],
                         .project = v.project,
                         .resource = v.resource,
                         .guaranteed = v.guaranteed,
                         .burst = v.burst,
                         .reserved = v.reserved,
                         .borrowed = v.borrowed,
                         .lent = v.lent,
                         .used = std::nullopt};
              if (know_used) {
                auto it = used.find({t.slug, v.project});
                s.used = it == used.end() ? 0 : (it->second.count(v.resource)
                                                     ? it->second.at(v.resource)
                                                     : 0);
              }
              GANTRY_TRY_STATUS(Store::InsertSnapshot(*tx, s));
              ++rows;
            }
            ++tenants;
          }
          GANTRY_TRY_STATUS(tx->Commit());
          ctx.Progress(50, std::to_string(tenants) + " tenant(s) recorded");
          if (static_cast<int>(page.size()) < o.limit) break;
          o.cursor = page.back().id;
        }
        int64_t deleted = 0;
        {
          GANTRY_TRY(auto tx, service.db().Begin());
          GANTRY_TRY(deleted, Store::DeleteSnapshotsBefore(*tx, now - days * kNanosPerDay));
          GANTRY_TRY_STATUS(tx->Commit());
        }
        ctx.Progress(100, std::to_string(rows) + " line(s) of " + std::to_string(tenants) +
                              " tenant(s)");
        return core::json::object{{"time", core::FormatRfc3339(now)},
                                  {"tenants", tenants},
                                  {"lines", rows},
                                  {"used_known", know_used},
                                  {"engines", std::move(engines)},
                                  {"deleted_old", deleted}};
      },
      true});
}

void RegisterUsageRoutes(http::Router& router, Service& service) {
  router.Add(
      {"GET", "/api/v1/tenants/{tenant}/usage/series", "tenants.read"},
      [&service](Context& c) -> Result<Response> {
        GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"from", "to", "step", "resource", "project"}));
        GANTRY_TRY(auto t, service.GetTenant(c.rc, c.Param("tenant")));
        auto now = core::NowNanos();
        GANTRY_TRY(auto from, http::TimeParam(c.request, "from"));
        GANTRY_TRY(auto to, http::TimeParam(c.request, "to"));
        GANTRY_TRY(auto step_s, http::IntParam(c.request, "step"));
        core::UnixNanos t_to = to.value_or(now);
        core::UnixNanos t_from = from.value_or(t_to - 86400 * core::kNanosPerSecond);
        int64_t step = step_s.value_or(300);
        if (t_from >= t_to) return core::InvalidArgument("from must be before to", "from");
        if (step < 1 || step > 366 * 86400) {
          return core::InvalidArgument("step must be 1-31622400 seconds", "step");
        }
        int64_t steps = (t_to - t_from + step * core::kNanosPerSecond - 1) /
                        (step * core::kNanosPerSecond);
        if (steps > 2000) {
          return core::InvalidArgument("from/to/step give " + std::to_string(steps) +
                                           " points; at most 2000",
                                       "step");
        }
        auto resource = c.request.Query("resource");
        if (resource) GANTRY_TRY_STATUS(ValidateResource(*resource));
        auto project = c.request.Query("project");
        std::vector<Snapshot> rows;
        {
          GANTRY_TRY(auto tx, service.db().Begin(store::TxMode::kRead));
          GANTRY_TRY(rows, Store::Snapshots(*tx, t.id, t_from, t_to,
                                           resource ? std::optional<std::string>(*resource)
                                                    : std::nullopt));
        }
        // Each step's point per line: the newest snapshot at or before the step's end.
        core::json::array items;
        std::map<std::pair<std::string, std::string>, const Snapshot*> current;
        size_t i = 0;
        for (int64_t k = 1; k <= steps; ++k) {
          core::UnixNanos end = std::min(t_to, t_from + k * step * core::kNanosPerSecond);
          while (i < rows.size() && rows[i].time <= end) {
            current[{rows[i].project, rows[i].resource}] = &rows[i];
            ++i;
          }
          for (const auto& [key, s] : current) {
            if (project && key.first != *project) continue;
            auto o = ToJson(*s);
            o["time"] = core::FormatRfc3339(end);
            o["snapshot_at"] = core::FormatRfc3339(s->time);
            items.push_back(std::move(o));
          }
        }
        core::json::object out{{"tenant", t.slug},
                               {"from", core::FormatRfc3339(t_from)},
                               {"to", core::FormatRfc3339(t_to)},
                               {"step", step},
                               {"items", std::move(items)}};
        return Response::Json(out);
      });
}

}  // namespace gantry::tenancy
