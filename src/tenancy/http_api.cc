#include "tenancy/http_api.h"

#include "http/params.h"

namespace gantry::tenancy {

using core::Result;
using http::Context;
using http::Response;

namespace {

constexpr char kTenant[] = "/api/v1/tenants/{tenant}";

template <class T>
Response Items(const std::vector<T>& list) {
  core::json::array items;
  for (const auto& x : list) items.push_back(ToJson(x));
  return http::ListResponse(std::move(items), std::nullopt);
}

Result<core::Role> ParseMemberRole(const std::string& name) {
  auto r = core::ParseRole(name);
  if (!r || !IsMemberRole(*r)) {
    return core::InvalidArgument(
        "unknown role '" + name.substr(0, 64) + "'; valid roles: tenant-admin, tenant-member, viewer",
        "role");
  }
  return *r;
}

// {"gpu/h100": 4, "cpu": 64}
Result<Amounts> ParseAmounts(const core::json::object& body) {
  auto it = body.find("resources");
  if (it == body.end() || !it->value().is_object()) {
    return core::InvalidArgument("field 'resources' must be an object {\"resource\": amount}",
                                 "resources");
  }
  Amounts out;
  for (const auto& [k, v] : it->value().as_object()) {
    if (!v.is_int64()) {
      return core::InvalidArgument("resources." + std::string(k) + " must be an integer",
                                   "resources");
    }
    out[std::string(k)] = v.as_int64();
  }
  return out;
}

void RegisterTenantRoutes(http::Router& router, Service& service) {
  router.Add({"GET", "/api/v1/tenants", "tenants.read"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"limit", "cursor"}));
    ListOptions o;
    GANTRY_TRY(o.limit, http::LimitParam(c.request));
    GANTRY_TRY(o.cursor, http::IntParam(c.request, "cursor"));
    GANTRY_TRY(auto tenants, service.ListTenants(c.rc, o));
    core::json::array items;
    for (const auto& t : tenants) items.push_back(ToJson(t));
    std::optional<std::string> next;
    if (static_cast<int>(tenants.size()) == o.limit) next = std::to_string(tenants.back().id);
    return http::ListResponse(std::move(items), next);
  });

  router.Add({"POST", "/api/v1/tenants", "tenants.write"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"slug", "name", "cohort"}));
    NewTenant t;
    GANTRY_TRY(t.slug, core::GetString(body, "slug"));
    GANTRY_TRY(auto name, core::OptString(body, "name"));
    t.name = name.value_or("");
    GANTRY_TRY(t.cohort, core::OptString(body, "cohort"));
    GANTRY_TRY(auto created, service.CreateTenant(c.rc, std::move(t)));
    return Response::Json(ToJson(created), 201);
  });

  router.Add({"GET", kTenant, "tenants.read"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto t, service.GetTenant(c.rc, c.Param("tenant")));
    return Response::Json(ToJson(t));
  });

  router.Add({"PATCH", kTenant, "tenants.write"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"name", "cohort", "disabled"}));
    TenantPatch p;
    GANTRY_TRY(p.name, core::OptString(body, "name"));
    if (body.contains("cohort")) {
      GANTRY_TRY(auto cohort, core::OptString(body, "cohort"));
      p.cohort = cohort;
    }
    GANTRY_TRY(p.disabled, core::OptBool(body, "disabled"));
    GANTRY_TRY(auto t, service.UpdateTenant(c.rc, c.Param("tenant"), p));
    return Response::Json(ToJson(t));
  });

  router.Add({"DELETE", kTenant, "tenants.write"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(service.DeleteTenant(c.rc, c.Param("tenant")));
    return Response::NoContent();
  });
}

void RegisterProjectRoutes(http::Router& router, Service& service) {
  std::string base = std::string(kTenant) + "/projects";
  router.Add({"GET", base, "tenants.read"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto list, service.ListProjects(c.rc, c.Param("tenant")));
    return Items(list);
  });

  router.Add({"POST", base, "tenants.write"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"slug", "name"}));
    GANTRY_TRY(auto slug, core::GetString(body, "slug"));
    GANTRY_TRY(auto name, core::OptString(body, "name"));
    GANTRY_TRY(auto p, service.CreateProject(c.rc, c.Param("tenant"), slug, name.value_or("")));
    return Response::Json(ToJson(p), 201);
  });

  router.Add({"GET", base + "/{project}", "tenants.read"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto p, service.GetProject(c.rc, c.Param("tenant"), c.Param("project")));
    return Response::Json(ToJson(p));
  });

  router.Add({"DELETE", base + "/{project}", "tenants.write"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY_STATUS(service.DeleteProject(c.rc, c.Param("tenant"), c.Param("project")));
               return Response::NoContent();
             });
}

void RegisterMemberRoutes(http::Router& router, Service& service) {
  std::string base = std::string(kTenant) + "/members";
  router.Add({"GET", base, "tenants.read"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto list, service.ListMembers(c.rc, c.Param("tenant")));
    return Items(list);
  });

  router.Add({"POST", base, "tenants.members"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"user", "role"}));
    GANTRY_TRY(auto user, core::GetString(body, "user"));
    GANTRY_TRY(auto role_name, core::GetString(body, "role"));
    GANTRY_TRY(auto role, ParseMemberRole(role_name));
    GANTRY_TRY(auto m, service.AddMember(c.rc, c.Param("tenant"), user, role));
    return Response::Json(ToJson(m));
  });

  router.Add({"DELETE", base + "/{user}", "tenants.members"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY_STATUS(service.RemoveMember(c.rc, c.Param("tenant"), c.Param("user")));
               return Response::NoContent();
             });
}

void RegisterQuotaRoutes(http::Router& router, Service& service) {
  std::string base = std::string(kTenant) + "/quotas";
  router.Add({"GET", base, "tenants.read"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"project"}));
    GANTRY_TRY(auto list, service.Quotas(c.rc, c.Param("tenant"), c.request.Query("project")));
    return Items(list);
  });

  router.Add({"PUT", base, "quotas.write"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"resource", "guaranteed", "burst", "project", "force"}));
    SetQuotaRequest req;
    GANTRY_TRY(req.resource, core::GetString(body, "resource"));
    GANTRY_TRY(req.guaranteed, core::GetInt(body, "guaranteed"));
    GANTRY_TRY(req.burst, core::OptInt(body, "burst"));
    GANTRY_TRY(req.project, core::OptString(body, "project"));
    GANTRY_TRY(auto force, core::OptBool(body, "force"));
    req.force = force.value_or(false);
    GANTRY_TRY(auto view, service.SetQuota(c.rc, c.Param("tenant"), req));
    return Response::Json(ToJson(view));
  });

  std::string res = std::string(kTenant) + "/reservations";
  router.Add({"GET", res, "tenants.read"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"state", "limit", "cursor"}));
    ListOptions o;
    GANTRY_TRY(o.limit, http::LimitParam(c.request));
    GANTRY_TRY(o.cursor, http::IntParam(c.request, "cursor"));
    GANTRY_TRY(auto list,
               service.ListReservations(c.rc, c.Param("tenant"), c.request.Query("state"), o));
    core::json::array items;
    for (const auto& r : list) items.push_back(ToJson(r));
    std::optional<std::string> next;
    if (static_cast<int>(list.size()) == o.limit) next = std::to_string(list.back().id);
    return http::ListResponse(std::move(items), next);
  });

  router.Add({"POST", res, "quotas.reserve"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"project", "resources", "ref"}));
    ReserveRequest req;
    GANTRY_TRY(req.project, core::OptString(body, "project"));
    GANTRY_TRY(req.ref, core::GetString(body, "ref"));
    GANTRY_TRY(req.resources, ParseAmounts(body));
    GANTRY_TRY(auto r, service.Reserve(c.rc, c.Param("tenant"), req));
    return Response::Json(ToJson(r), 201);
  });

  router.Add({"GET", res + "/{id}", "tenants.read"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto id, http::IdParam(c));
    GANTRY_TRY(auto r, service.GetReservation(c.rc, c.Param("tenant"), id));
    return Response::Json(ToJson(r));
  });

  router.Add({"DELETE", res + "/{id}", "quotas.reserve"}, [&service](Context& c) -> Result<Response> {
    GANTRY_TRY(auto id, http::IdParam(c));
    GANTRY_TRY(auto r, service.Release(c.rc, c.Param("tenant"), id));
    return Response::Json(ToJson(r));
  });

  router.Add({"GET", std::string(kTenant) + "/usage", "tenants.read"},
             [&service](Context& c) -> Result<Response> {
               GANTRY_TRY_STATUS(http::OnlyQuery(
                   c.request, {"since", "until", "resource", "project", "limit", "cursor"}));
               HistoryFilter f;
               GANTRY_TRY(f.since, http::TimeParam(c.request, "since"));
               GANTRY_TRY(f.until, http::TimeParam(c.request, "until"));
               f.resource = c.request.Query("resource");
               f.project = c.request.Query("project");
               GANTRY_TRY(f.limit, http::LimitParam(c.request, 1000, 10000));
               GANTRY_TRY(f.after_id, http::IntParam(c.request, "cursor"));
               GANTRY_TRY(auto points, service.Usage(c.rc, c.Param("tenant"), f));
               core::json::array items;
               for (const auto& p : points) items.push_back(ToJson(p));
               std::optional<std::string> next;
               if (static_cast<int>(points.size()) == f.limit) next = std::to_string(points.back().id);
               return http::ListResponse(std::move(items), next);
             });
}

}  // namespace

void RegisterRoutes(http::Router& router, Service& service) {
  RegisterTenantRoutes(router, service);
  RegisterProjectRoutes(router, service);
  RegisterMemberRoutes(router, service);
  RegisterQuotaRoutes(router, service);
}

}  // namespace gantry::tenancy
