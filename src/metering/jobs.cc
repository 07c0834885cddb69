#include "metering/jobs.h"

#include <spdlog/spdlog.h>

#include "jobs/worker.h"
#include "tenancy/store.h"

namespace gantry::metering {

namespace {

struct TresSku {
  std::string sku;
  int64_t per_second;  // base units per second per unit of the TRES
};

// "gres/gpu:h100" → gpu-h100-hour (milli-GPU-seconds); cpu → cpu-core-hour; mem (bytes) →
// memory-gib-hour (MiB-seconds, handled apart).
std::optional<TresSku> SkuOfTres(const std::string& tres) {
  if (tres.starts_with("gres/gpu:")) {
    std::string model = tres.substr(9);
    if (model.empty() || model.find(':') != std::string::npos) return std::nullopt;
    return TresSku{"gpu-" + model + "-hour", 1000};
  }
  if (tres == "cpu") return TresSku{"cpu-core-hour", 1000};
  if (tres == "mem") return TresSku{"memory-gib-hour", 0};
  return std::nullopt;
}

}  // namespace

std::vector<UsageRecord> SlurmUsage(const std::vector<slurm::JobRecord>& jobs,
                                    const SlurmSourceConfig& config, const std::string& cluster,
                                    core::UnixNanos now, std::vector<std::string>* skipped) {
  std::vector<UsageRecord> out;
  for (const auto& j : jobs) {
    if (!j.start || !j.account.starts_with(config.prefix)) continue;
    std::string rest = j.account.substr(config.prefix.size());
    auto us = rest.find('_');
    std::string tenant = rest.substr(0, us);
    std::string project = us == std::string::npos ? "" : rest.substr(us + 1);
    core::UnixNanos start = *j.start;
    core::UnixNanos end = j.end ? *j.end : now;
    bool running = !j.end;
    bool typed_gpu = false;
    for (const auto& [tres, n] : j.alloc_tres) typed_gpu = typed_gpu || tres.starts_with("gres/gpu:");
    for (const auto& [tres, amount] : j.alloc_tres) {
      auto sku = SkuOfTres(tres);
      if (!sku) {
        if (skipped && !(tres == "gres/gpu" && typed_gpu) && tres != "billing" && tres != "node") {
          skipped->push_back(j.job_id + ": " + tres);
        }
        continue;
      }
      for (core::UnixNanos h = start / kNanosPerHour * kNanosPerHour; h < end; h += kNanosPerHour) {
        core::UnixNanos a = std::max(h, start), b = std::min(h + kNanosPerHour, end);
        if (running && h + kNanosPerHour > now) break;  // the ongoing hour: later
        __int128 ns = b - a;
        int64_t q = sku->per_second
                        ? static_cast<int64_t>(static_cast<__int128>(amount) * sku->per_second * ns /
                                               core::kNanosPerSecond)
                        : static_cast<int64_t>(static_cast<__int128>(amount) / (1 << 20) * ns /
                                               core::kNanosPerSecond);
        out.push_back(UsageRecord{"slurm:" + cluster + ":" + j.job_id + ":" + tres + ":" +
                                      std::to_string(h / core::kNanosPerSecond),
                                  tenant, project, sku->sku, kAllocated, q, a, b});
      }
    }
  }
  return out;
}

void RegisterJobTypes(jobs::Registry& registry, Service& service, Billing& billing,
                      SlurmSourceConfig config) {
  registry.Add(jobs::JobType{
      kSlurmCollectJobType,
      "Records the TRES of Slurm job allocations (sacct) as allocated usage: GPUs by type, CPU "
      "cores, memory. Params: since, until (RFC 3339; default the last day).",
      [](const core::json::object& params) -> core::Status {
        GANTRY_TRY_STATUS(core::OnlyFields(params, {"since", "until"}));
        for (const char* k : {"since", "until"}) {
          GANTRY_TRY(auto s, core::OptString(params, k));
          if (s && !core::ParseRfc3339(*s)) {
            return core::InvalidArgument(std::string(k) + " must be an RFC 3339 time", k);
          }
        }
        return {};
      },
      [&service, config](jobs::JobContext& ctx) -> core::Result<core::json::object> {
        auto now = service.clock().Now();
        auto since_s = core::OptString(ctx.params(), "since").value();
        auto until_s = core::OptString(ctx.params(), "until").value();
        core::UnixNanos until = until_s ? *core::ParseRfc3339(*until_s) : now;
        core::UnixNanos since = since_s ? *core::ParseRfc3339(*since_s) : until - config.default_lookback;
        ctx.Progress(10, "reading Slurm job records");
        slurm::SlurmClient client(config.client);
        auto jobs = client.ListJobRecords({since, until, {}});
        if (!jobs) {
          ctx.Log("sacct failed: " + jobs.error().message);
          return core::Error{jobs.error().code, "slurm collect: " + jobs.error().message};
        }
        std::vector<std::string> skipped;
        auto records = SlurmUsage(*jobs, config, client.options().cluster.empty() ? "default" : client.options().cluster,
                                  now, &skipped);
        for (const auto& s : skipped) ctx.Log("skipped TRES " + s);
        ctx.Progress(50, std::to_string(jobs->size()) + " job(s), " + std::to_string(records.size()) +
                             " record(s)");
        IngestResult total;
        const size_t kBatch = 2000;
        for (size_t i = 0; i < records.size(); i += kBatch) {
          std::vector<UsageRecord> batch(records.begin() + i,
                                         records.begin() + std::min(records.size(), i + kBatch));
          GANTRY_TRY(auto r, service.IngestSystem("slurm", batch));
          total.accepted += r.accepted;
          total.duplicates += r.duplicates;
          total.quarantined += r.quarantined;
          ctx.Progress(50 + static_cast<int>(50 * (i + batch.size()) / records.size()),
                       "ingested " + std::to_string(i + batch.size()) + " record(s)");
        }
        ctx.Progress(100, "done");
        return core::json::object{{"jobs", static_cast<int64_t>(jobs->size())},
                                  {"records", static_cast<int64_t>(records.size())},
                                  {"accepted", total.accepted},
                                  {"duplicates", total.duplicates},
                                  {"quarantined", total.quarantined},
                                  {"since", core::FormatRfc3339(since)},
                                  {"until", core::FormatRfc3339(until)}};
      },
      true});

  registry.Add(jobs::JobType{
      kBudgetsJobType,
      "Evaluates every budget (alerts at 50/80/100 %) and holds the queued Slurm jobs of spent "
      "hard budgets whose policy says hold_slurm.",
      [](const core::json::object& params) { return core::OnlyFields(params, {}); },
      [&service, &billing, config](jobs::JobContext& ctx) -> core::Result<core::json::object> {
        ctx.Progress(10, "evaluating budgets");
        GANTRY_TRY(auto list, billing.EvaluateAll());
        core::json::array held;
        int64_t exhausted = 0;
        slurm::SlurmClient client(config.client);
        for (const auto& st : list) {
          if (!st.exhausted) continue;
          ++exhausted;
          if (!st.budget.hard || !st.budget.hold_slurm) continue;
          std::vector<std::string> accounts;
          if (!st.budget.project.empty()) {
            accounts.push_back(config.prefix + st.budget.tenant + "_" + st.budget.project);
          } else {
            accounts.push_back(config.prefix + st.budget.tenant);
            GANTRY_TRY(auto tx, service.db().Begin(store::TxMode::kRead));
            GANTRY_TRY(auto projects, tenancy::Store::ListProjects(*tx, st.budget.tenant_id));
            for (const auto& p : projects) accounts.push_back(config.prefix + st.budget.tenant + "_" + p.slug);
          }
          GANTRY_TRY(auto queued, client.ListJobs(accounts));
          std::vector<std::string> ids;
          for (const auto& j : queued) {
            if (j.state == "PENDING" && j.reason.find("Held") == std::string::npos) ids.push_back(j.job_id);
          }
          if (ids.empty()) continue;
          GANTRY_TRY_STATUS(client.HoldJobs(ids));
          for (const auto& id : ids) {
            held.push_back(core::json::value(id));
            ctx.Log("held Slurm job " + id + " (" + st.budget.metric + " budget of " +
                    st.budget.tenant + (st.budget.project.empty() ? "" : "/" + st.budget.project) +
                    " spent)");
          }
          spdlog::warn("held {} queued Slurm job(s) of {}: budget spent", ids.size(), accounts.front());
        }
        ctx.Progress(100, std::to_string(exhausted) + " budget(s) spent, " +
                              std::to_string(held.size()) + " job(s) held");
        return core::json::object{{"budgets", static_cast<int64_t>(list.size())},
                                  {"exhausted", exhausted},
                                  {"held", std::move(held)}};
      },
      true});
}

}  // namespace gantry::metering
