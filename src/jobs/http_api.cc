#include "jobs/http_api.h"

#include "http/params.h"
#include "jobs/worker.h"

namespace gantry::jobs {

using core::Result;
using http::Context;
using http::Response;

void RegisterRoutes(http::Router& router, Service& service, WorkerPool* pool) {
  router.Add({"GET", "/api/v1/jobs", "jobs.read"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"state", "type", "limit", "cursor"}));
    ListFilter f;
    f.state = c.request.Query("state");
    f.type = c.request.Query("type");
    GANTRY_TRY(f.limit, http::LimitParam(c.request));
    GANTRY_TRY(f.before_id, http::IntParam(c.request, "cursor"));
    GANTRY_TRY(auto jobs, service.List(c.rc, f));
    core::json::array items;
    for (const auto& j : jobs) items.push_back(ToJson(j));
    std::optional<std::string> next;
    if (static_cast<int>(jobs.size()) == f.limit) next = std::to_string(jobs.back().id);
    return http::ListResponse(std::move(items), next);
  });

  router.Add({"POST", "/api/v1/jobs", "jobs.write"}, [&service, pool](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"type", "params", "max_attempts"}));
    NewJob j;
    GANTRY_TRY(j.type, core::GetString(body, "type"));
    GANTRY_TRY(auto params, core::OptObject(body, "params"));
    if (params) j.params = std::move(*params);
    GANTRY_TRY(auto attempts, core::OptInt(body, "max_attempts"));
    if (attempts) j.max_attempts = static_cast<int>(*attempts);
    if (const JobType* t = service.registry().Find(j.type); t && !t->user_startable) {
      return core::InvalidArgument("job type '" + j.type + "' is started by Gantry itself", "type");
    }
    GANTRY_TRY(auto job, service.Enqueue(c.rc, std::move(j)));
    if (pool) pool->Poke();
    return Response::Json(ToJson(job), 201);
  });

  router.Add({"GET", "/api/v1/jobs/{id}", "jobs.read"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"log_lines"}));
    GANTRY_TRY(auto id, http::IdParam(c));
    GANTRY_TRY(auto lines, http::IntParam(c.request, "log_lines"));
    int n = static_cast<int>(std::clamp<int64_t>(lines.value_or(200), 0, 5000));
    GANTRY_TRY(auto job, service.Get(c.rc, id, n));
    return Response::Json(ToJson(job));
  });

  router.Add({"POST", "/api/v1/jobs/{id}/cancel", "jobs.cancel"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto id, http::IdParam(c));
    GANTRY_TRY(auto job, service.Cancel(c.rc, id));
    return Response::Json(ToJson(job), 202);
  });
}

}  // namespace gantry::jobs
