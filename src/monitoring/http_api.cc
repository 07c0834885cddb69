#include "monitoring/http_api.h"

#include <charconv>
#include <map>

#include "http/params.h"

namespace gantry::monitoring {

using core::Result;
using http::Context;
using http::Response;

namespace {

Result<int64_t> IncidentId(Context& c) {
  const std::string& s = c.Param("id");
  int64_t id = 0;
  auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), id);
  if (s.empty() || ec != std::errc() || end != s.data() + s.size() || id <= 0) {
    return core::InvalidArgument("id must be a positive integer", "id");
  }
  return id;
}

Result<core::json::object> Body(Context& c) {
  if (c.request.body.empty()) return core::json::object{};
  return core::ParseObject(c.request.body);
}

}  // namespace

void RegisterRoutes(http::Router& router, Service& service) {
  // Alertmanager webhook_config target (authorization: a Gantry API token with monitoring.ingest).
  router.Add({"POST", "/api/v1/monitoring/alertmanager", "monitoring.ingest"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY(auto report, service.IngestAlertmanager(c.rc, c.request.body));
               return Response::Json(ToJson(report));
             });

  // Prometheus http_sd_configs target.
  router.Add({"GET", "/api/v1/monitoring/targets", "monitoring.targets"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"kind"}));
               auto kind = c.request.Query("kind");
               GANTRY_TRY(auto body, service.Targets(c.rc, kind ? *kind : "agent"));
               return Response::Text(std::move(body), "application/json");
             });

  router.Add({"GET", "/api/v1/monitoring/status", "monitoring.status"}, [&service](Context&) -> Result<Response> {
    PeerStatus p = service.Peers();
    return Response::Json(core::json::object{{"prometheus", p.prometheus}, {"alertmanager", p.alertmanager}});
  });

  // Tenant-safe PromQL: query and query_range with Prometheus' parameters.
  for (const char* kind : {"query", "query_range"}) {
    router.Add({"GET", std::string("/api/v1/metrics/") + kind, "metrics.query"},
               [&service, kind](Context& c) -> Result<Response> {
                 std::map<std::string, std::string> params;
                 for (const char* name : {"query", "time", "start", "end", "step", "timeout"}) {
                   if (auto v = c.request.Query(name)) params[name] = *v;
                 }
                 GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"query", "time", "start", "end", "step", "timeout"}));
                 GANTRY_TRY(auto answer, service.metrics().Query(c.rc, kind, params));
                 return Response::Text(std::move(answer.body), "application/json");
               });
  }

  router.Add({"GET", "/api/v1/monitoring/silences", "monitoring.silences"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"all"}));
    bool all = c.request.Query("all").value_or("") == "true";
    GANTRY_TRY(auto list, service.silences().List(c.rc, !all));
    core::json::array items;
    for (const auto& s : list) items.push_back(ToJson(s));
    return http::ListResponse(std::move(items), std::nullopt);
  });
  router.Add({"POST", "/api/v1/monitoring/silences", "monitoring.silences"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"ci", "minutes", "comment"}));
    GANTRY_TRY(auto ci, core::GetString(body, "ci"));
    GANTRY_TRY(auto minutes, core::OptInt(body, "minutes"));
    GANTRY_TRY(auto comment, core::OptString(body, "comment"));
    GANTRY_TRY(auto s, service.silences().Create(c.rc, ci, std::chrono::minutes(minutes.value_or(60)),
                                                 comment.value_or("")));
    return Response::Json(ToJson(s), 201);
  });
  router.Add({"DELETE", "/api/v1/monitoring/silences/{id}", "monitoring.silences"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY(auto id, IncidentId(c));
               GANTRY_TRY(auto s, service.silences().Remove(c.rc, id));
               return Response::Json(ToJson(s));
             });

  router.Add({"GET", "/api/v1/incidents", "incidents.read"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"state", "limit", "cursor"}));
    IncidentFilter f;
    f.state = c.request.Query("state");
    GANTRY_TRY(f.limit, http::LimitParam(c.request));
    GANTRY_TRY(f.before_id, http::IntParam(c.request, "cursor"));
    GANTRY_TRY(auto list, service.ListIncidents(c.rc, f));
    core::json::array items;
    for (const auto& i : list) items.push_back(ToJson(i));
    std::optional<std::string> next;
    if (static_cast<int>(list.size()) == f.limit) next = std::to_string(list.back().id);
    return http::ListResponse(std::move(items), next);
  });

  router.Add({"GET", "/api/v1/incidents/{id}", "incidents.read"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto id, IncidentId(c));
    GANTRY_TRY(auto o, service.GetIncident(c.rc, id));
    return Response::Json(o);
  });

  router.Add({"POST", "/api/v1/incidents/{id}/ack", "incidents.write"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY(auto id, IncidentId(c));
               GANTRY_TRY(auto body, Body(c));
               GANTRY_TRY_STATUS(core::OnlyFields(body, {"assignee", "note"}));
               GANTRY_TRY(auto assignee, core::OptString(body, "assignee"));
               GANTRY_TRY(auto note, core::OptString(body, "note"));
               GANTRY_TRY(auto i, service.Acknowledge(c.rc, id, assignee, note));
               return Response::Json(ToJson(i));
             });

  router.Add({"POST", "/api/v1/incidents/{id}/resolve", "incidents.write"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY(auto id, IncidentId(c));
               GANTRY_TRY(auto body, Body(c));
               GANTRY_TRY_STATUS(core::OnlyFields(body, {"note"}));
               GANTRY_TRY(auto note, core::OptString(body, "note"));
               GANTRY_TRY(auto i, service.Resolve(c.rc, id, note));
               return Response::Json(ToJson(i));
             });

  router.Add({"POST", "/api/v1/incidents/{id}/assign", "incidents.write"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY(auto id, IncidentId(c));
               GANTRY_TRY(auto body, core::ParseObject(c.request.body));
               GANTRY_TRY_STATUS(core::OnlyFields(body, {"assignee"}));
               GANTRY_TRY(auto assignee, core::GetString(body, "assignee"));
               GANTRY_TRY(auto i, service.Assign(c.rc, id, assignee));
               return Response::Json(ToJson(i));
             });

  router.Add({"POST", "/api/v1/incidents/{id}/notes", "incidents.write"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY(auto id, IncidentId(c));
               GANTRY_TRY(auto body, core::ParseObject(c.request.body));
               GANTRY_TRY_STATUS(core::OnlyFields(body, {"text"}));
               GANTRY_TRY(auto text, core::GetString(body, "text"));
               GANTRY_TRY(auto i, service.AddNote(c.rc, id, text));
               return Response::Json(ToJson(i), 201);
             });
}

}  // namespace gantry::monitoring
