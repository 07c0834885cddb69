#include "tenancy/sync.h"

#include "http/params.h"
#include "jobs/store.h"

namespace gantry::tenancy {

using core::Result;
using http::Context;
using http::Response;

EngineSyncHook MakeSyncTrigger(jobs::Service& jobs, std::vector<std::string> job_types) {
  return [&jobs, job_types = std::move(job_types)](store::Tx& tx) -> core::Status {
    for (const auto& type : job_types) {
      GANTRY_TRY(bool queued, jobs::Store::HasQueued(tx, type));
      if (queued) continue;
      GANTRY_TRY_STATUS(
          jobs.EnqueueInTx(tx, core::RequestContext::System(), jobs::NewJob{type, {}, 5, {}}));
    }
    return {};
  };
}

Result<core::json::object> SyncStatus(jobs::Service& jobs, const SyncEngine& engine) {
  jobs::ListFilter f;
  f.type = engine.job_type;
  f.limit = 20;
  GANTRY_TRY(auto list, jobs.List(core::RequestContext::System(), f));
  core::json::object o{{"engine", engine.name},
                       {"enabled", engine.enabled},
                       {"config", engine.config},
                       {"job", nullptr},
                       {"last", nullptr},
                       {"reason", nullptr}};
  if (list.empty()) {
    o["state"] = "never";
    return o;
  }
  // The newest job (perhaps still queued or running) and the newest finished one.
  const jobs::Job& newest = list.front();
  o["job"] = core::json::object{{"id", newest.id}, {"state", newest.state}};
  const jobs::Job* last = nullptr;
  for (const auto& j : list) {
    if (jobs::IsFinal(j.state)) {
      last = &j;
      break;
    }
  }
  if (!last) {
    o["state"] = "pending";
    return o;
  }
  core::json::value result = nullptr;
  if (last->result) {
    auto parsed = core::ParseObject(*last->result);
    if (parsed) result = std::move(*parsed);
  }
  bool in_sync = last->state == jobs::kSucceeded && result.is_object() &&
                 result.as_object().contains("in_sync") &&
                 result.as_object().at("in_sync").is_bool() &&
                 result.as_object().at("in_sync").as_bool();
  core::json::object l{
      {"id", last->id},
      {"state", last->state},
      {"finished_at", last->finished_at ? core::json::value(core::FormatRfc3339(*last->finished_at))
                                        : core::json::value(nullptr)},
      {"error", last->error ? core::json::value(*last->error) : core::json::value(nullptr)},
      {"in_sync", in_sync},
      {"result", std::move(result)}};
  if (last->state == jobs::kSucceeded) {
    o["state"] = in_sync ? "in_sync" : "drift";
    if (!in_sync) o["reason"] = "drift reported (policy report): see last.result.accounts";
  } else {
    o["state"] = "failing";
    o["reason"] = last->error ? *last->error : std::string("job ") + last->state;
  }
  o["last"] = std::move(l);
  return o;
}

void RegisterSyncRoutes(http::Router& router, jobs::Service& jobs,
                        std::vector<SyncEngine> engines) {
  auto operators_only = [](const Context& c) -> core::Status {
    if (!SeesAllTenants(c.rc.principal)) {
      return core::PermissionDenied("the engine sync status is for operators");
    }
    return http::OnlyQuery(c.request, {});
  };
  router.Add({"GET", "/api/v1/tenancy/sync", "tenants.read"},
             [&jobs, engines, operators_only](Context& c) -> Result<Response> {
               GANTRY_TRY_STATUS(operators_only(c));
               core::json::array items;
               for (const auto& e : engines) {
                 GANTRY_TRY(auto s, SyncStatus(jobs, e));
                 items.push_back(std::move(s));
               }
               return http::ListResponse(std::move(items), std::nullopt);
             });
  for (const auto& e : engines) {
    router.Add({"GET", "/api/v1/" + e.name + "/sync", "tenants.read"},
               [&jobs, e, operators_only](Context& c) -> Result<Response> {
                 GANTRY_TRY_STATUS(operators_only(c));
                 GANTRY_TRY(auto s, SyncStatus(jobs, e));
                 return Response::Json(s);
               });
  }
}

}  // namespace gantry::tenancy
