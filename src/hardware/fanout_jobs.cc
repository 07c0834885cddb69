#include "hardware/fanout_jobs.h"

#include <map>

#include "hardware/inventory.h"
#include "jobs/worker.h"

namespace gantry::hardware {

namespace json = core::json;

namespace {

core::Result<std::vector<std::string>> Targets(Service& hw, const json::object& p) {
  GANTRY_TRY(auto all, core::OptBool(p, "all"));
  GANTRY_TRY(auto nodes, core::OptStringArray(p, "nodes"));
  if (all.value_or(false)) return hw.AllTargets();
  return nodes;
}

FanOutOptions Options(jobs::JobContext& ctx, const json::object& p, const std::string& verb) {
  FanOutOptions o;
  o.concurrency = static_cast<int>(core::OptInt(p, "concurrency").value().value_or(128));
  // Progress at most every 1% (and at the end), so a sweep over thousands writes few rows.
  auto last = std::make_shared<std::atomic<int>>(-1);
  o.progress = [&ctx, last, verb](int done, int failed, int total) {
    int pct = total ? done * 100 / total : 100;
    int prev = last->load();
    if (pct == prev && done != total) return;
    if (!last->compare_exchange_strong(prev, pct) && done != total) return;
    ctx.Progress(pct, verb + ": " + std::to_string(done) + "/" + std::to_string(total) + " done, " +
                          std::to_string(failed) + " failed");
  };
  return o;
}

core::Result<json::object> Finish(jobs::JobContext& ctx, const std::vector<NodeResult>& results) {
  for (const auto& r : results) {
    if (!r.ok) ctx.Log(r.node + ": " + r.fault + ": " + r.message.substr(0, 300));
  }
  return ResultsJson(results);
}

core::RequestContext JobCaller(const jobs::JobContext& ctx) {
  auto rc = core::RequestContext::System(ctx.job().created_by);
  rc.request_id = "job-" + std::to_string(ctx.job().id);
  return rc;
}

}  // namespace

core::Status ValidateFanOutParams(const std::string& type, const json::object& p) {
  if (type == "hardware.power") {
    GANTRY_TRY_STATUS(core::OnlyFields(p, {"nodes", "all", "action", "concurrency"}));
    GANTRY_TRY(auto action, core::GetString(p, "action"));
    if (action != "status") {
      GANTRY_TRY(auto a, ParsePowerAction(action));
      (void)a;
    }
  } else if (type == "hardware.boot") {
    GANTRY_TRY_STATUS(core::OnlyFields(p, {"nodes", "all", "device", "once", "concurrency"}));
    GANTRY_TRY(auto device, core::GetString(p, "device"));
    GANTRY_TRY(auto d, ParseBootDevice(device));
    (void)d;
    GANTRY_TRY(auto once, core::OptBool(p, "once"));
    (void)once;
  } else {
    GANTRY_TRY_STATUS(core::OnlyFields(p, {"nodes", "all", "concurrency"}));
  }
  GANTRY_TRY(auto all, core::OptBool(p, "all"));
  GANTRY_TRY(auto nodes, core::OptStringArray(p, "nodes"));
  if (all.value_or(false) == !nodes.empty()) {
    return core::InvalidArgument("give either nodes (a non-empty list) or all: true", "nodes");
  }
  if (nodes.size() > 100000) return core::InvalidArgument("at most 100000 nodes at once", "nodes");
  for (const auto& n : nodes) GANTRY_TRY_STATUS(ValidateName(n, "nodes"));
  GANTRY_TRY(auto conc, core::OptInt(p, "concurrency"));
  if (conc && (*conc < 1 || *conc > 1024)) {
    return core::InvalidArgument("concurrency must be between 1 and 1024", "concurrency");
  }
  return {};
}

json::object ResultsJson(const std::vector<NodeResult>& results) {
  json::array items;
  int64_t ok = 0;
  std::map<std::string, int64_t> by_fault;
  for (const auto& r : results) {
    items.push_back(ToJson(r));
    if (r.ok) ++ok;
    else ++by_fault[r.fault];
  }
  json::object faults;
  for (const auto& [k, v] : by_fault) faults[k] = v;
  json::object summary{{"total", static_cast<int64_t>(results.size())}, {"ok", ok},
                       {"failed", static_cast<int64_t>(results.size()) - ok}, {"by_fault", faults}};
  return json::object{{"results", std::move(items)}, {"summary", std::move(summary)}};
}

void RegisterFanOutJobTypes(jobs::Registry& registry, Service& hw, cmdb::Service& cmdb) {
  auto validator = [](std::string type) {
    return [type](const json::object& p) { return ValidateFanOutParams(type, p); };
  };
  registry.Add(jobs::JobType{
      "hardware.power", "Power status or a power action on many nodes through their BMCs",
      validator("hardware.power"),
      [&hw](jobs::JobContext& ctx) -> core::Result<json::object> {
        const auto& p = ctx.params();
        GANTRY_TRY(auto targets, Targets(hw, p));
        std::string action = core::GetString(p, "action").value();
        std::optional<PowerAction> a;
        if (action != "status") a = ParsePowerAction(action).value();
        auto o = Options(ctx, p, "power " + action);
        return Finish(ctx, hw.PowerMany(JobCaller(ctx), targets, a, o));
      },
      false});
  registry.Add(jobs::JobType{
      "hardware.boot", "Sets the boot device of many nodes through their BMCs",
      validator("hardware.boot"),
      [&hw](jobs::JobContext& ctx) -> core::Result<json::object> {
        const auto& p = ctx.params();
        GANTRY_TRY(auto targets, Targets(hw, p));
        auto device = ParseBootDevice(core::GetString(p, "device").value()).value();
        bool once = core::OptBool(p, "once").value().value_or(true);
        auto o = Options(ctx, p, "boot " + std::string(Name(device)));
        return Finish(ctx, hw.BootMany(JobCaller(ctx), targets, device, once, o));
      },
      false});
  registry.Add(jobs::JobType{
      "hardware.check", "Reachability and health of many BMCs", validator("hardware.check"),
      [&hw](jobs::JobContext& ctx) -> core::Result<json::object> {
        GANTRY_TRY(auto targets, Targets(hw, ctx.params()));
        auto o = Options(ctx, ctx.params(), "check");
        return Finish(ctx, hw.CheckMany(JobCaller(ctx), targets, o));
      },
      false});
  registry.Add(jobs::JobType{
      "hardware.inventory", "Reads the hardware inventory of many nodes into the CMDB",
      validator("hardware.inventory"),
      [&hw, &cmdb](jobs::JobContext& ctx) -> core::Result<json::object> {
        GANTRY_TRY(auto targets, Targets(hw, ctx.params()));
        auto o = Options(ctx, ctx.params(), "inventory");
        return Finish(ctx, RefreshInventory(hw, cmdb, JobCaller(ctx), targets, o));
      },
      false});
}

}  // namespace gantry::hardware
