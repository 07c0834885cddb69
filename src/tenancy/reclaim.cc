#include "tenancy/reclaim.h"

#include "jobs/worker.h"

namespace gantry::tenancy {

using core::Result;

core::Status ValidateReclaimAction(std::string_view action) {
  if (action == "requeue" || action == "cancel" || action == "none") return {};
  return core::InvalidArgument("action must be requeue, cancel or none", "action");
}

ReclaimHook MakeReclaimTrigger(jobs::Service& jobs) {
  return [&jobs](store::Tx& tx, const std::vector<Reservation>& reclaimed) -> core::Status {
    if (reclaimed.empty()) return {};
    core::json::array list;
    for (const auto& r : reclaimed) {
      list.push_back(core::json::object{{"id", r.id}, {"tenant", r.tenant}, {"ref", r.ref}});
    }
    GANTRY_TRY_STATUS(jobs.EnqueueInTx(tx, core::RequestContext::System(),
                                       jobs::NewJob{kReclaimJobType,
                                                    {{"reservations", std::move(list)}}, 5, {}}));
    return {};
  };
}

namespace {

struct Item {
  int64_t id;
  std::string tenant, ref;
};

Result<std::vector<Item>> ParseItems(const core::json::object& params) {
  GANTRY_TRY_STATUS(core::OnlyFields(params, {"reservations", "action"}));
  GANTRY_TRY(auto action, core::OptString(params, "action"));
  if (action) GANTRY_TRY_STATUS(ValidateReclaimAction(*action));
  auto it = params.find("reservations");
  if (it == params.end() || !it->value().is_array() || it->value().as_array().size() > 10000) {
    return core::InvalidArgument("reservations must be an array (at most 10000)", "reservations");
  }
  std::vector<Item> out;
  for (const auto& v : it->value().as_array()) {
    const auto* o = v.if_object();
    if (!o || !o->contains("id") || !o->at("id").is_int64() || !o->contains("ref") ||
        !o->at("ref").is_string()) {
      return core::InvalidArgument("each reservation needs an integer id and a string ref",
                                   "reservations");
    }
    std::string tenant = o->contains("tenant") && o->at("tenant").is_string()
                             ? std::string(o->at("tenant").as_string())
                             : "";
    out.push_back({o->at("id").as_int64(), tenant, std::string(o->at("ref").as_string())});
  }
  return out;
}

}  // namespace

void RegisterReclaimJobType(jobs::Registry& registry, SlurmSyncConfig config,
                            std::string default_action) {
  registry.Add(jobs::JobType{
      kReclaimJobType,
      "Acts in the engines on reservations reclaimed for their cohort's owner: requeues (or "
      "cancels) the Slurm jobs named by refs 'slurm:<job id>'.",
      [](const core::json::object& params) -> core::Status {
        GANTRY_TRY_STATUS(ParseItems(params));
        return {};
      },
      [config, default_action](jobs::JobContext& ctx) -> Result<core::json::object> {
        GANTRY_TRY(auto items, ParseItems(ctx.params()));
        std::string action = core::OptString(ctx.params(), "action").value().value_or(default_action);
        slurm::SlurmClient client(config.client);
        core::json::array done;
        int failed = 0;
        for (const auto& it : items) {
          core::json::object o{{"id", it.id}, {"tenant", it.tenant}, {"ref", it.ref}};
          if (!it.ref.starts_with("slurm:")) {
            o["outcome"] = "skipped";
            o["why"] = "no engine Gantry drives holds this ref";
          } else if (action == "none" || !config.enabled) {
            o["outcome"] = "skipped";
            o["why"] = config.enabled ? "reclaim action is none" : "Slurm is not configured";
          } else {
            std::string job = it.ref.substr(6);
            auto st = action == "cancel" ? client.CancelJob(job) : client.RequeueJob(job);
            if (!st && st.error().code == core::Code::kUnavailable) {
              ctx.Log("slurm unreachable: " + st.error().message);
              return core::Unavailable("reclaim: " + st.error().message);
            }
            o["outcome"] = st ? (action == "cancel" ? "cancelled" : "requeued") : "failed";
            if (!st) {
              o["why"] = st.error().message;
              ++failed;
            }
          }
          ctx.Log("reservation " + std::to_string(it.id) + " (" + it.ref + "): " +
                  std::string(o["outcome"].as_string()));
          done.push_back(std::move(o));
        }
        ctx.Progress(100, std::to_string(done.size()) + " reclaimed reservation(s) handled");
        return core::json::object{{"action", action},
                                  {"failed", failed},
                                  {"reservations", std::move(done)}};
      },
      false});
}

}  // namespace gantry::tenancy
