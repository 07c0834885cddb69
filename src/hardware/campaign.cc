#include "hardware/campaign.h"

#include <algorithm>
#include <map>
#include <set>

#include "auth/policy.h"
#include "hardware/inventory.h"
#include "http/params.h"
#include "jobs/worker.h"

namespace gantry::hardware {

namespace json = core::json;

namespace {

constexpr auto kPoll = std::chrono::milliseconds(500);

core::Status Require(const core::RequestContext& rc, std::string_view action) {
  if (rc.principal.auth_method == "system" || auth::Allowed(rc.principal, action)) return {};
  return core::PermissionDenied("not allowed: " + std::string(action));
}

bool Finished(const CampaignNode& n) { return n.state == "succeeded" || n.state == "failed"; }

core::RequestContext JobCaller(const jobs::JobContext& ctx) {
  auto rc = core::RequestContext::System(ctx.job().created_by);
  rc.request_id = "job-" + std::to_string(ctx.job().id);
  return rc;
}

}  // namespace

void CampaignService::SetAlertGate(AlertGate gate) {
  std::lock_guard lock(gate_mu_);
  alert_gate_ = std::move(gate);
}

core::Result<std::vector<std::string>> CampaignService::Select(const core::RequestContext& rc,
                                                               const CampaignSpec& spec) {
  std::set<std::string> picked(spec.nodes.begin(), spec.nodes.end());
  if (spec.rack || !spec.attrs.empty()) {
    cmdb::CiFilter f;
    f.type = "server";
    f.attr_equals = spec.attrs;
    if (spec.rack) {
      GANTRY_TRY(auto rack, cmdb_.GetCi(rc, "rack/" + *spec.rack));
      f.related_to = rack.id;
      f.relation = "located_in";
    }
    f.limit = 1000;
    for (;;) {
      GANTRY_TRY(auto page, cmdb_.ListCis(rc, f));
      for (const auto& ci : page) picked.insert(ci.name);
      if (page.size() < 1000) break;
      f.after_id = page.back().id;
    }
  }
  std::vector<std::string> out;
  for (const auto& server : picked) {
    GANTRY_TRY_STATUS(ValidateName(server, "selection"));
    if (spec.version_below) {
      auto fw = cmdb_.GetCi(rc, "firmware/" + server + ":fw-" + spec.component);
      if (fw) {
        const auto* v = fw->attrs.if_contains("version");
        if (v && v->is_string() && CompareVersions(v->get_string(), *spec.version_below) >= 0) continue;
      }
    }
    out.push_back(server);
  }
  return out;
}

core::Result<Campaign> CampaignService::Create(const core::RequestContext& rc, const std::string& name,
                                               CampaignSpec spec) {
  GANTRY_TRY_STATUS(Require(rc, "firmware.write"));
  GANTRY_TRY_STATUS(ValidateName(name, "name"));
  GANTRY_TRY(auto servers, Select(rc, spec));
  if (servers.empty()) return core::InvalidArgument("the selection matches no server", "selection");
  std::vector<std::string> missing;
  for (const auto& s : servers) {
    if (!hw_.GetBmc(core::RequestContext::System(), s)) missing.push_back(s);
  }
  if (!missing.empty()) {
    std::string list;
    for (size_t i = 0; i < missing.size() && i < 5; ++i) list += (i ? ", " : "") + missing[i];
    return core::InvalidArgument(std::to_string(missing.size()) + " selected server(s) have no BMC: " + list +
                                     (missing.size() > 5 ? ", ..." : ""),
                                 "selection");
  }
  // The CMDB impact of taking these servers through an update (reboots included).
  std::set<std::string> tenants, services;
  int64_t without_ci = 0;
  for (const auto& s : servers) {
    auto impact = cmdb_.Impact(rc, "server/" + s, 8, 5000);
    if (!impact) {
      ++without_ci;
      continue;
    }
    for (const char* key : {"tenants", "services"}) {
      const auto* list = impact->if_contains(key);
      if (!list || !list->is_array()) continue;
      for (const auto& v : list->get_array()) {
        if (v.is_string()) (std::string_view(key) == "tenants" ? tenants : services).insert(std::string(v.get_string()));
      }
    }
  }
  json::array tj, sj;
  for (const auto& t : tenants) tj.push_back(json::string(t));
  for (const auto& s : services) sj.push_back(json::string(s));
  Campaign c;
  c.name = name;
  c.state = "pending";
  c.spec = spec;
  c.impact = {{"servers", static_cast<int64_t>(servers.size())}, {"tenants", tj}, {"services", sj},
              {"servers_without_ci", without_ci}};
  c.created_by = rc.principal.username.empty() ? "system" : rc.principal.username;
  c.created_at = c.updated_at = hw_.clock().Now();
  GANTRY_TRY(auto tx, hw_.db().Begin(store::TxMode::kWrite));
  GANTRY_TRY(auto clash, Store::FindCampaign(*tx, name, false, hw_.db().backend()));
  if (clash) return core::Conflict("a campaign named '" + name + "' exists");
  GANTRY_TRY(c.id, Store::InsertCampaign(*tx, c));
  for (size_t i = 0; i < servers.size(); ++i) {
    CampaignNode n;
    n.server = servers[i];
    int canary = spec.canary_size;
    n.batch = static_cast<int>(i) < canary ? 0 : 1 + (static_cast<int>(i) - canary) / spec.batch_size;
    GANTRY_TRY_STATUS(Store::InsertCampaignNode(*tx, c.id, n, c.created_at));
  }
  auto e = audit::Service::MakeEvent(rc, "firmware.campaign.create", "firmware_campaign", name,
                                     {{"spec", ToJson(spec)}, {"impact", c.impact}});
  GANTRY_TRY_STATUS(hw_.audit().Append(*tx, std::move(e)));
  GANTRY_TRY_STATUS(tx->Commit());
  return c;
}

core::Result<Campaign> CampaignService::Get(const core::RequestContext& rc, std::string_view ref) {
  GANTRY_TRY_STATUS(Require(rc, "firmware.read"));
  GANTRY_TRY(auto tx, hw_.db().Begin(store::TxMode::kRead));
  GANTRY_TRY(auto c, Store::FindCampaign(*tx, ref, false, hw_.db().backend()));
  if (!c) return core::NotFound("no firmware campaign '" + std::string(ref.substr(0, 100)) + "'");
  return *c;
}

core::Result<std::vector<CampaignNode>> CampaignService::Nodes(const core::RequestContext& rc, int64_t id) {
  GANTRY_TRY_STATUS(Require(rc, "firmware.read"));
  GANTRY_TRY(auto tx, hw_.db().Begin(store::TxMode::kRead));
  return Store::CampaignNodes(*tx, id);
}

core::Result<std::vector<Campaign>> CampaignService::List(const core::RequestContext& rc, int limit) {
  GANTRY_TRY_STATUS(Require(rc, "firmware.read"));
  GANTRY_TRY(auto tx, hw_.db().Begin(store::TxMode::kRead));
  return Store::ListCampaigns(*tx, limit);
}

core::Result<Campaign> CampaignService::Transition(const core::RequestContext& rc, std::string_view ref,
                                                   const std::vector<std::string>& from, const std::string& to,
                                                   bool enqueue) {
  GANTRY_TRY_STATUS(Require(rc, "firmware.write"));
  GANTRY_TRY(auto tx, hw_.db().Begin(store::TxMode::kWrite));
  GANTRY_TRY(auto c, Store::FindCampaign(*tx, ref, true, hw_.db().backend()));
  if (!c) return core::NotFound("no firmware campaign '" + std::string(ref.substr(0, 100)) + "'");
  if (std::find(from.begin(), from.end(), c->state) == from.end()) {
    return core::FailedPrecondition("campaign '" + c->name + "' is " + c->state + "; cannot make it " + to);
  }
  std::string before = c->state;
  c->state = to;
  c->message = to + " by " + (rc.principal.username.empty() ? "system" : rc.principal.username);
  if (enqueue) {
    GANTRY_TRY(auto job_id, jobs_.EnqueueInTx(*tx, rc, jobs::NewJob{kCampaignJobType, {{"campaign_id", c->id}}, 5, std::nullopt}));
    c->job_id = job_id;
  }
  GANTRY_TRY_STATUS(Store::UpdateCampaign(*tx, *c, hw_.clock().Now()));
  auto e = audit::Service::MakeEvent(rc, "firmware.campaign." + to, "firmware_campaign", c->name,
                                     {{"from", before}, {"job_id", c->job_id ? json::value(*c->job_id) : json::value(nullptr)}});
  GANTRY_TRY_STATUS(hw_.audit().Append(*tx, std::move(e)));
  GANTRY_TRY_STATUS(tx->Commit());
  return *c;
}

core::Result<Campaign> CampaignService::Start(const core::RequestContext& rc, std::string_view ref) {
  return Transition(rc, ref, {"pending"}, "running", true);
}
core::Result<Campaign> CampaignService::Pause(const core::RequestContext& rc, std::string_view ref) {
  return Transition(rc, ref, {"running"}, "paused", false);
}
core::Result<Campaign> CampaignService::Resume(const core::RequestContext& rc, std::string_view ref) {
  return Transition(rc, ref, {"paused"}, "running", true);
}
core::Result<Campaign> CampaignService::Cancel(const core::RequestContext& rc, std::string_view ref) {
  GANTRY_TRY(auto c, Transition(rc, ref, {"pending", "running", "paused"}, "cancelled", false));
  if (c.job_id) (void)jobs_.Cancel(core::RequestContext::System(rc.principal.username), *c.job_id);
  return c;
}

core::Result<Campaign> CampaignService::Load(int64_t id) {
  GANTRY_TRY(auto tx, hw_.db().Begin(store::TxMode::kRead));
  GANTRY_TRY(auto c, Store::FindCampaign(*tx, std::to_string(id), false, hw_.db().backend()));
  if (!c) return core::NotFound("no firmware campaign " + std::to_string(id));
  return *c;
}

core::Status CampaignService::SaveNode(const core::RequestContext& rc, const Campaign& c, const CampaignNode& n,
                                       jobs::JobContext* ctx) {
  GANTRY_TRY(auto tx, hw_.db().Begin(store::TxMode::kWrite));
  GANTRY_TRY_STATUS(Store::UpdateCampaignNode(*tx, c.id, n, hw_.clock().Now()));
  auto e = audit::Service::MakeEvent(rc, "firmware.node." + n.state, "firmware_campaign", c.name,
                                     {{"server", n.server}, {"batch", n.batch}, {"message", n.message},
                                      {"version_before", n.version_before}, {"version_after", n.version_after}},
                                     n.state == "failed" ? audit::kFailure : audit::kSuccess);
  GANTRY_TRY_STATUS(hw_.audit().Append(*tx, std::move(e)));
  GANTRY_TRY_STATUS(tx->Commit());
  if (ctx) ctx->Log("batch " + std::to_string(n.batch) + " " + n.server + ": " + n.state +
                    (n.message.empty() ? "" : " (" + n.message + ")"));
  return {};
}

core::Status CampaignService::SaveCampaign(const core::RequestContext& rc, const Campaign& c,
                                           const std::string& audit_action) {
  GANTRY_TRY(auto tx, hw_.db().Begin(store::TxMode::kWrite));
  GANTRY_TRY_STATUS(Store::UpdateCampaign(*tx, c, hw_.clock().Now()));
  auto e = audit::Service::MakeEvent(rc, audit_action, "firmware_campaign", c.name,
                                     {{"state", c.state}, {"batch", c.batch}, {"failures", c.failures},
                                      {"message", c.message}});
  GANTRY_TRY_STATUS(hw_.audit().Append(*tx, std::move(e)));
  return tx->Commit();
}

core::Status CampaignService::RecordVersion(const core::RequestContext& rc, const Campaign& c,
                                            const std::string& server) {
  cmdb::Observation obs;
  obs.source = "bmc";
  obs.priority = kBmcPriority;
  obs.type = "firmware";
  obs.name = server + ":fw-" + c.spec.component;
  obs.attrs = {{"component", c.spec.component}, {"version", c.spec.target_version}};
  GANTRY_TRY(auto ci, cmdb_.Observe(rc, obs));
  (void)ci;
  if (c.spec.component == "BIOS") {
    cmdb::Observation s{"bmc", kBmcPriority, "server", server, {{"bios_version", c.spec.target_version}}, std::nullopt};
    GANTRY_TRY(auto sci, cmdb_.Observe(rc, s));
    (void)sci;
  }
  cmdb::NewRelation r{kHasPart, "server/" + server, "firmware/" + obs.name, {}, "bmc", true};
  auto rel = cmdb_.Relate(rc, r);
  if (!rel && rel.error().code != core::Code::kConflict) return rel.error();
  return {};
}

CampaignNode CampaignService::Drive(const core::RequestContext& rc, const Campaign& c, CampaignNode n,
                                    Driver& d, jobs::JobContext& ctx) {
  const auto& spec = c.spec;
  auto fail = [&](std::string why) {
    n.state = "failed";
    n.message = std::move(why);
    (void)SaveNode(rc, c, n, &ctx);
    return n;
  };
  if (n.state == "pending") {
    auto versions = d.FirmwareVersions();
    if (!versions) return fail("cannot read firmware versions: " + versions.error().message);
    auto it = versions->find(spec.component);
    if (it == versions->end()) return fail("the BMC reports no firmware component '" + spec.component + "'");
    n.version_before = it->second;
    if (it->second == spec.target_version) {
      n.state = "succeeded";
      n.version_after = it->second;
      n.message = "already at the target version";
      if (auto st = RecordVersion(rc, c, n.server); !st) n.message += "; CMDB not updated: " + st.error().message;
      (void)SaveNode(rc, c, n, &ctx);
      return n;
    }
    auto task = d.StartUpdate(UpdateRequest{spec.component, spec.image_uri, spec.checksum});
    if (!task) return fail("update refused: " + task.error().message);
    n.state = "updating";
    n.task = *task;
    n.message = task->empty() ? "update finished at once" : "update started, task " + *task;
    (void)SaveNode(rc, c, n, &ctx);
  }
  if (n.state == "updating") {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(spec.task_timeout_seconds);
    int errors = 0;
    for (;;) {
      auto st = d.PollTask(n.task);
      if (!st) {
        if (++errors >= 5) return fail("task monitor keeps failing: " + st.error().message);
      } else {
        errors = 0;
        if (st->done) {
          if (!st->ok) {
            return fail("update task ended " + st->state + (st->message.empty() ? "" : ": " + st->message));
          }
          n.state = "verifying";
          n.message = "update task completed";
          if (spec.reboot) {
            // Firmware that applies on the next boot: a hard reset, then the version is read.
            if (auto st = d.Power(PowerAction::kReset); !st) return fail("reset after the update failed: " + st.error().message);
            n.message += "; node reset";
          }
          (void)SaveNode(rc, c, n, &ctx);
          break;
        }
      }
      if (std::chrono::steady_clock::now() > deadline) {
        return fail("the update task did not finish within " + std::to_string(spec.task_timeout_seconds) + " s");
      }
      auto now = Load(c.id);
      if (!now || now->state != "running" || ctx.Cancelled()) return n;  // paused, cancelled, stopping
      if (!ctx.Sleep(kPoll)) return n;
    }
  }
  if (n.state == "verifying") {
    auto versions = d.FirmwareVersions();
    if (!versions) return fail("cannot read the version after the update: " + versions.error().message);
    auto it = versions->find(spec.component);
    n.version_after = it == versions->end() ? "" : it->second;
    if (n.version_after != spec.target_version) {
      return fail("reports version '" + n.version_after + "' after the update, expected '" + spec.target_version + "'");
    }
    n.state = "succeeded";
    n.message = "verified " + spec.target_version;
    if (auto st = RecordVersion(rc, c, n.server); !st) n.message += "; CMDB not updated: " + st.error().message;
    (void)SaveNode(rc, c, n, &ctx);
  }
  return n;
}

core::Result<json::object> CampaignService::Run(jobs::JobContext& ctx) {
  GANTRY_TRY(auto id, core::GetInt(ctx.params(), "campaign_id"));
  auto rc = JobCaller(ctx);
  std::map<int, core::UnixNanos> batch_started;
  for (;;) {
    if (ctx.Cancelled()) return core::Unavailable("interrupted; the campaign continues when its job runs again");
    GANTRY_TRY(auto c, Load(id));
    if (c.state != "running") return json::object{{"campaign", c.name}, {"state", c.state}, {"message", c.message}};
    auto now = hw_.clock().Now();
    if (c.spec.window_start && now < *c.spec.window_start) {
      ctx.Progress(0, "waiting for the maintenance window at " + core::FormatRfc3339(*c.spec.window_start));
      ctx.Sleep(std::chrono::milliseconds(1000));
      continue;
    }
    if (c.spec.window_end && now > *c.spec.window_end) {
      c.state = "halted";
      c.message = "the maintenance window ended before the campaign did";
      GANTRY_TRY_STATUS(SaveCampaign(rc, c, "firmware.campaign.halted"));
      ctx.Log(c.message);
      continue;
    }
    if (c.soak_until && now < *c.soak_until) {
      ctx.Progress(ctx.job().progress, "soaking after the canary until " + core::FormatRfc3339(*c.soak_until));
      ctx.Sleep(std::chrono::milliseconds(std::min<int64_t>(1000, (*c.soak_until - now) / core::kNanosPerMilli + 1)));
      continue;
    }
    GANTRY_TRY(auto nodes, Nodes(rc, c.id));
    int max_batch = 0, done = 0;
    for (const auto& n : nodes) {
      max_batch = std::max(max_batch, n.batch);
      if (Finished(n)) ++done;
    }
    if (c.batch > max_batch) {
      int failed = 0;
      for (const auto& n : nodes) failed += n.state == "failed";
      c.state = "succeeded";
      c.message = std::to_string(nodes.size() - failed) + " of " + std::to_string(nodes.size()) +
                  " nodes at " + c.spec.target_version + ", " + std::to_string(failed) + " failed (budget " +
                  std::to_string(c.spec.failure_budget) + ")";
      GANTRY_TRY_STATUS(SaveCampaign(rc, c, "firmware.campaign.succeeded"));
      ctx.Progress(100, c.message);
      ctx.Log(c.message);
      return json::object{{"campaign", c.name}, {"state", c.state}, {"message", c.message}};
    }
    std::vector<CampaignNode> batch;
    for (const auto& n : nodes) {
      if (n.batch == c.batch) batch.push_back(n);
    }
    std::string label = c.batch == 0 ? "canary batch" : "batch " + std::to_string(c.batch);
    ctx.Progress(static_cast<int>(done * 100 / std::max<size_t>(1, nodes.size())),
                 label + " of " + std::to_string(max_batch) + ": " + std::to_string(batch.size()) + " nodes");
    // When this job first saw the batch (after a restart: when it resumed it).
    auto batch_start = batch_started.emplace(c.batch, hw_.clock().Now()).first->second;
    std::vector<std::string> todo;
    std::map<std::string, CampaignNode> by_server;
    for (const auto& n : batch) {
      by_server[n.server] = n;
      if (!Finished(n)) todo.push_back(n.server);
    }
    if (!todo.empty()) {
      ctx.Log(label + ": updating " + std::to_string(todo.size()) + " node(s)");
      FanOutOptions o;
      o.concurrency = static_cast<int>(todo.size());
      auto results = hw_.ForEach(rc, todo, [&](Driver& d, const Bmc& b) -> core::Result<json::object> {
        const std::string& server = b.server.value_or(b.name);
        auto out = Drive(rc, c, by_server.at(server), d, ctx);
        return json::object{{"state", out.state}};
      }, o);
      for (const auto& r : results) {
        if (!r.ok) {  // the driver could not even be made (credentials that do not open)
          CampaignNode n = by_server[r.node];
          n.state = "failed";
          n.message = r.message;
          (void)SaveNode(rc, c, n, &ctx);
        }
      }
      if (ctx.Cancelled()) return core::Unavailable("interrupted; the campaign continues when its job runs again");
      continue;  // re-read: the campaign may have been paused or cancelled meanwhile
    }
    // The batch is finished: failure budget, then health gates.
    int failed = 0;
    for (const auto& n : nodes) failed += n.state == "failed";
    c.failures = failed;
    if (failed > c.spec.failure_budget) {
      c.state = "halted";
      c.message = "failure budget exceeded: " + std::to_string(failed) + " node(s) failed, budget " +
                  std::to_string(c.spec.failure_budget);
      GANTRY_TRY_STATUS(SaveCampaign(rc, c, "firmware.campaign.halted"));
      ctx.Log(c.message);
      continue;
    }
    std::vector<std::string> passed;
    for (const auto& n : batch) {
      if (n.state == "succeeded") passed.push_back(n.server);
    }
    std::string gate_failure;
    if (!passed.empty()) {
      FanOutOptions o;
      o.concurrency = static_cast<int>(passed.size());
      std::string component = c.spec.component, target = c.spec.target_version;
      auto gates = hw_.ForEach(rc, passed, [&](Driver& d, const Bmc&) -> core::Result<json::object> {
        GANTRY_TRY(auto power, d.PowerState());
        GANTRY_TRY(auto versions, d.FirmwareVersions());
        auto it = versions.find(component);
        if (it == versions.end() || it->second != target) {
          return core::Conflict("reports " + (it == versions.end() ? std::string("no version") : it->second) +
                                " instead of " + target);
        }
        return json::object{{"power_state", power}};
      }, o);
      for (const auto& g : gates) {
        if (!g.ok && gate_failure.empty()) gate_failure = "node " + g.node + ": " + g.message;
      }
      AlertGate gate;
      {
        std::lock_guard lock(gate_mu_);
        gate = alert_gate_;
      }
      if (gate_failure.empty() && gate) {
        if (auto st = gate(passed, batch_start); !st) gate_failure = "alert gate: " + st.error().message;
      }
    }
    if (!gate_failure.empty()) {
      c.state = "halted";
      c.message = "health gate failed after " + label + ": " + gate_failure;
      GANTRY_TRY_STATUS(SaveCampaign(rc, c, "firmware.campaign.halted"));
      ctx.Log(c.message);
      continue;
    }
    ctx.Log(label + " passed its health gates (" + std::to_string(passed.size()) + " node(s))");
    if (c.batch == 0 && c.spec.soak_seconds > 0) {
      c.soak_until = hw_.clock().Now() + int64_t{c.spec.soak_seconds} * core::kNanosPerSecond;
    }
    c.batch += 1;
    c.message = label + " done";
    GANTRY_TRY_STATUS(SaveCampaign(rc, c, "firmware.campaign.batch"));
  }
}

void CampaignService::RegisterJobType(jobs::Registry& registry) {
  registry.Add(jobs::JobType{
      kCampaignJobType, "Runs a firmware campaign batch by batch (started by POST /api/v1/firmware/campaigns/{c}/start)",
      [](const json::object& p) -> core::Status {
        GANTRY_TRY_STATUS(core::OnlyFields(p, {"campaign_id"}));
        GANTRY_TRY(auto id, core::GetInt(p, "campaign_id"));
        if (id <= 0) return core::InvalidArgument("campaign_id must be positive", "campaign_id");
        return {};
      },
      [this](jobs::JobContext& ctx) { return Run(ctx); }, false});
}

// ---- routes -------------------------------------------------------------------------------

void RegisterCampaignRoutes(http::Router& router, CampaignService& campaigns, std::function<void()> poke) {
  using http::Context;
  using http::Response;
  const std::string base = "/api/v1/firmware/campaigns";
  router.Add({"GET", base, "firmware.read"}, [&campaigns](Context& c) -> core::Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"limit"}));
    GANTRY_TRY(auto limit, http::LimitParam(c.request));
    GANTRY_TRY(auto list, campaigns.List(c.rc, limit));
    json::array items;
    for (const auto& x : list) items.push_back(ToJson(x));
    return http::ListResponse(std::move(items), std::nullopt);
  });
  router.Add({"POST", base, "firmware.write"}, [&campaigns](Context& c) -> core::Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY(auto name, core::GetString(body, "name"));
    body.erase("name");
    GANTRY_TRY(auto spec, CampaignSpecFromJson(body));
    GANTRY_TRY(auto created, campaigns.Create(c.rc, name, std::move(spec)));
    return Response::Json(ToJson(created), 201);
  });
  router.Add({"GET", base + "/{campaign}", "firmware.read"}, [&campaigns](Context& c) -> core::Result<Response> {
    GANTRY_TRY(auto camp, campaigns.Get(c.rc, c.Param("campaign")));
    GANTRY_TRY(auto nodes, campaigns.Nodes(c.rc, camp.id));
    auto o = ToJson(camp);
    json::array items;
    for (const auto& n : nodes) items.push_back(ToJson(n));
    o["nodes"] = std::move(items);
    return Response::Json(o);
  });
  struct Verb {
    const char* name;
    core::Result<Campaign> (CampaignService::*fn)(const core::RequestContext&, std::string_view);
  };
  static const Verb verbs[] = {{"start", &CampaignService::Start},
                               {"pause", &CampaignService::Pause},
                               {"resume", &CampaignService::Resume},
                               {"cancel", &CampaignService::Cancel}};
  for (const auto& v : verbs) {
    auto fn = v.fn;
    router.Add({"POST", base + "/{campaign}/" + v.name, "firmware.write"},
               [&campaigns, fn, poke](Context& c) -> core::Result<Response> {
                 GANTRY_TRY(auto camp, (campaigns.*fn)(c.rc, c.Param("campaign")));
                 if (poke) poke();
                 return Response::Json(ToJson(camp));
               });
  }
}

}  // namespace gantry::hardware
