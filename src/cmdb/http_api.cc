#include "cmdb/http_api.h"

#include "http/params.h"

namespace gantry::cmdb {

using core::Result;
using http::Context;
using http::Response;

namespace {

core::Result<int> IntOr(const http::Request& r, std::string_view name, int def, int min, int max) {
  GANTRY_TRY(auto v, http::IntParam(r, name));
  if (!v) return def;
  if (*v < min || *v > max) {
    return core::InvalidArgument(std::string(name) + " must be between " + std::to_string(min) + " and " +
                                     std::to_string(max), std::string(name));
  }
  return static_cast<int>(*v);
}

core::Result<CiPatch> PatchFromJson(const core::json::object& body) {
  GANTRY_TRY_STATUS(core::OnlyFields(body, {"name", "attributes", "status", "tenant", "version"}));
  CiPatch p;
  GANTRY_TRY(p.name, core::OptString(body, "name"));
  GANTRY_TRY(auto attrs, core::OptObject(body, "attributes"));
  if (attrs) p.attrs = *attrs;
  GANTRY_TRY(p.status, core::OptString(body, "status"));
  if (body.contains("tenant")) {
    GANTRY_TRY(auto t, core::OptString(body, "tenant"));
    p.tenant = t;
  }
  GANTRY_TRY(p.expected_version, core::OptInt(body, "version"));
  return p;
}

core::json::object CrJson(const ChangeRequest& c) {
  auto parse = [](const std::optional<std::string>& s) -> core::json::value {
    if (!s) return nullptr;
    auto v = core::ParseJson(*s);
    return v ? *v : core::json::value(nullptr);
  };
  core::json::object o{{"id", c.id},
                       {"title", c.title},
                       {"description", c.description},
                       {"state", c.state},
                       {"created_by", c.created_by},
                       {"created_at", core::FormatRfc3339(c.created_at)},
                       {"updated_at", core::FormatRfc3339(c.updated_at)}};
  o["edits"] = parse(c.edits);
  o["impact"] = parse(c.impact);
  o["reviewed_by"] = core::OptValue(c.reviewed_by);
  o["review_comment"] = core::OptValue(c.review_comment);
  o["applied_at"] = c.applied_at ? core::json::value(core::FormatRfc3339(*c.applied_at)) : core::json::value(nullptr);
  return o;
}

}  // namespace

void RegisterRoutes(http::Router& router, Service& s) {
  // Types.
  router.Add({"GET", "/api/v1/cmdb/types", "cmdb.read"}, [&s](Context&) -> Result<Response> {
    core::json::array items;
    for (const auto& t : s.Types()) items.push_back(ToJson(t));
    return http::ListResponse(std::move(items), std::nullopt);
  });
  router.Add({"GET", "/api/v1/cmdb/types/{name}", "cmdb.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto t, s.GetType(c.Param("name")));
    return Response::Json(ToJson(t));
  });
  router.Add({"POST", "/api/v1/cmdb/types", "cmdb.schema"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY(auto t, CiTypeFromJson(body));
    GANTRY_TRY(auto created, s.CreateType(c.rc, std::move(t)));
    return Response::Json(ToJson(created), 201);
  });
  router.Add({"POST", "/api/v1/cmdb/types/{name}/attributes", "cmdb.schema"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY(auto def, AttrDefFromJson(body));
    GANTRY_TRY(auto t, s.AddAttribute(c.rc, c.Param("name"), std::move(def)));
    return Response::Json(ToJson(t), 201);
  });
  router.Add({"GET", "/api/v1/cmdb/relation-types", "cmdb.read"}, [&s](Context&) -> Result<Response> {
    core::json::array items;
    for (const auto& t : s.RelationTypes()) items.push_back(ToJson(t));
    return http::ListResponse(std::move(items), std::nullopt);
  });
  router.Add({"POST", "/api/v1/cmdb/relation-types", "cmdb.schema"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY(auto t, RelationTypeFromJson(body));
    GANTRY_TRY(auto created, s.CreateRelationType(c.rc, std::move(t)));
    return Response::Json(ToJson(created), 201);
  });

  // CIs.
  router.Add({"GET", "/api/v1/cmdb/cis", "cmdb.read"}, [&s](Context& c) -> Result<Response> {
    const auto& r = c.request;
    CiFilter f;
    for (const auto& name : r.QueryNames()) {
      if (name.starts_with("attr.")) {
        f.attr_equals.emplace_back(name.substr(5), r.Query(name).value_or(""));
      } else if (name != "type" && name != "status" && name != "tenant" && name != "q" && name != "related_to" &&
                 name != "relation" && name != "stale" && name != "include" && name != "limit" && name != "cursor") {
        return core::InvalidArgument("unknown query parameter '" + name +
                                         "'; valid parameters: type, status, tenant, q, attr.NAME, related_to, "
                                         "relation, stale, include, limit, cursor",
                                     name);
      }
    }
    f.type = r.Query("type");
    f.status = r.Query("status");
    f.tenant = r.Query("tenant");
    f.q = r.Query("q");
    f.relation = r.Query("relation");
    if (r.Query("stale")) {
      GANTRY_TRY(f.stale, http::BoolParam(r, "stale"));
    }
    if (auto rel = r.Query("related_to")) {
      GANTRY_TRY(auto ci, s.GetCi(c.rc, *rel));
      f.related_to = ci.id;
    }
    GANTRY_TRY(f.limit, http::LimitParam(r, 100, 5000));
    GANTRY_TRY(f.after_id, http::IntParam(r, "cursor"));
    auto include = r.Query("include");
    if (include && *include != "relations") {
      return core::InvalidArgument("include must be 'relations'", "include");
    }
    GANTRY_TRY(auto cis, s.ListCis(c.rc, f));
    core::json::array items;
    std::map<int64_t, core::json::array> rels;
    if (include) {
      std::vector<int64_t> ids;
      for (const auto& ci : cis) ids.push_back(ci.id);
      GANTRY_TRY(auto all, s.RelationsOfMany(ids));
      for (const auto& rel : all) {
        auto j = ToJson(rel);
        rels[rel.from_id].push_back(j);
        if (rel.to_id != rel.from_id) rels[rel.to_id].push_back(j);
      }
    }
    for (const auto& ci : cis) {
      auto j = ToJson(ci);
      if (include) j["relations"] = rels[ci.id];
      items.push_back(std::move(j));
    }
    std::optional<std::string> next;
    if (static_cast<int>(cis.size()) == f.limit) next = std::to_string(cis.back().id);
    return http::ListResponse(std::move(items), next);
  });
  router.Add({"POST", "/api/v1/cmdb/cis", "cmdb.write"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"type", "name", "attributes", "tenant", "status"}));
    NewCi n;
    GANTRY_TRY(n.type, core::GetString(body, "type"));
    GANTRY_TRY(n.name, core::GetString(body, "name"));
    GANTRY_TRY(auto attrs, core::OptObject(body, "attributes"));
    if (attrs) n.attrs = *attrs;
    GANTRY_TRY(n.tenant, core::OptString(body, "tenant"));
    GANTRY_TRY(auto status, core::OptString(body, "status"));
    n.status = status.value_or("active");
    GANTRY_TRY(auto ci, s.CreateCi(c.rc, std::move(n)));
    return Response::Json(ToJson(ci), 201);
  });
  router.Add({"GET", "/api/v1/cmdb/cis/{ref}", "cmdb.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto ci, s.GetCi(c.rc, c.Param("ref")));
    return Response::Json(ToJson(ci));
  });
  router.Add({"PATCH", "/api/v1/cmdb/cis/{ref}", "cmdb.write"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY(auto patch, PatchFromJson(body));
    GANTRY_TRY(auto ci, s.UpdateCi(c.rc, c.Param("ref"), std::move(patch)));
    return Response::Json(ToJson(ci));
  });
  router.Add({"DELETE", "/api/v1/cmdb/cis/{ref}", "cmdb.write"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"cascade"}));
    GANTRY_TRY(auto cascade, http::BoolParam(c.request, "cascade"));
    GANTRY_TRY_STATUS(s.DeleteCi(c.rc, c.Param("ref"), cascade));
    return Response::NoContent();
  });
  router.Add({"GET", "/api/v1/cmdb/cis/{ref}/relations", "cmdb.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto rels, s.RelationsOf(c.rc, c.Param("ref")));
    core::json::array items;
    for (const auto& r : rels) items.push_back(ToJson(r));
    return http::ListResponse(std::move(items), std::nullopt);
  });
  router.Add({"GET", "/api/v1/cmdb/cis/{ref}/history", "cmdb.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"limit"}));
    GANTRY_TRY(auto limit, http::LimitParam(c.request, 200, 1000));
    GANTRY_TRY(auto h, s.History(c.rc, c.Param("ref"), limit));
    core::json::array items;
    for (const auto& e : h) items.push_back(ToJson(e));
    return http::ListResponse(std::move(items), std::nullopt);
  });
  router.Add({"GET", "/api/v1/cmdb/cis/{ref}/as-of", "cmdb.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"time"}));
    GANTRY_TRY(auto t, http::TimeParam(c.request, "time"));
    if (!t) return core::InvalidArgument("query parameter 'time' (RFC 3339) is required", "time");
    GANTRY_TRY(auto o, s.AsOf(c.rc, c.Param("ref"), *t));
    return Response::Json(o);
  });
  router.Add({"GET", "/api/v1/cmdb/cis/{ref}/diff", "cmdb.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"from", "to"}));
    GANTRY_TRY(auto from, http::TimeParam(c.request, "from"));
    GANTRY_TRY(auto to, http::TimeParam(c.request, "to"));
    if (!from) return core::InvalidArgument("query parameter 'from' (RFC 3339) is required", "from");
    GANTRY_TRY(auto o, s.Diff(c.rc, c.Param("ref"), *from, to.value_or(core::NowNanos())));
    return Response::Json(o);
  });
  router.Add({"GET", "/api/v1/cmdb/cis/{ref}/context", "cmdb.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto o, s.Context(c.rc, c.Param("ref")));
    return Response::Json(o);
  });
  // Impact and root cause: the same walk in opposite directions, the same parameters.
  using Walk = core::Result<core::json::object> (Service::*)(const core::RequestContext&, std::string_view, int, int);
  for (auto [suffix, walk] : {std::pair<const char*, Walk>{"impact", &Service::Impact},
                              std::pair<const char*, Walk>{"root-cause", &Service::RootCause}}) {
    router.Add({"GET", std::string("/api/v1/cmdb/cis/{ref}/") + suffix, "cmdb.read"},
               [&s, walk](Context& c) -> Result<Response> {
                 GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"depth", "limit"}));
                 GANTRY_TRY(auto depth, IntOr(c.request, "depth", 32, 1, 64));
                 GANTRY_TRY(auto limit, IntOr(c.request, "limit", 10000, 1, 1000000));
                 GANTRY_TRY(auto o, (s.*walk)(c.rc, c.Param("ref"), depth, limit));
                 return Response::Json(o);
               });
  }
  router.Add({"GET", "/api/v1/cmdb/cis/{ref}/neighbourhood", "cmdb.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"depth", "limit"}));
    GANTRY_TRY(auto depth, IntOr(c.request, "depth", 2, 1, 12));
    GANTRY_TRY(auto limit, IntOr(c.request, "limit", 500, 1, 100000));
    GANTRY_TRY(auto o, s.Neighbourhood(c.rc, c.Param("ref"), depth, limit));
    return Response::Json(o);
  });
  router.Add({"GET", "/api/v1/cmdb/path", "cmdb.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"from", "to"}));
    auto from = c.request.Query("from"), to = c.request.Query("to");
    if (!from || !to) return core::InvalidArgument("query parameters 'from' and 'to' are required", from ? "to" : "from");
    GANTRY_TRY(auto o, s.Path(c.rc, *from, *to));
    return Response::Json(o);
  });
  router.Add({"POST", "/api/v1/cmdb/common-cause", "cmdb.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"cis"}));
    GANTRY_TRY(auto refs, core::OptStringArray(body, "cis"));
    if (refs.size() < 1 || refs.size() > 1000) return core::InvalidArgument("'cis' needs 1-1000 CI references", "cis");
    GANTRY_TRY(auto o, s.CommonCause(c.rc, refs));
    return Response::Json(o);
  });

  // Relationships.
  router.Add({"POST", "/api/v1/cmdb/relations", "cmdb.write"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"type", "from", "to", "attributes"}));
    NewRelation n;
    GANTRY_TRY(n.type, core::GetString(body, "type"));
    GANTRY_TRY(n.from, core::GetString(body, "from"));
    GANTRY_TRY(n.to, core::GetString(body, "to"));
    GANTRY_TRY(auto attrs, core::OptObject(body, "attributes"));
    if (attrs) n.attrs = *attrs;
    GANTRY_TRY(auto r, s.Relate(c.rc, std::move(n)));
    return Response::Json(ToJson(r), 201);
  });
  router.Add({"DELETE", "/api/v1/cmdb/relations/{id}", "cmdb.write"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto id, http::IdParam(c));
    GANTRY_TRY_STATUS(s.Unrelate(c.rc, id));
    return Response::NoContent();
  });

  // Reconciliation.
  router.Add({"POST", "/api/v1/cmdb/observations", "cmdb.observe"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"source", "priority", "type", "name", "attributes", "seen_at"}));
    Observation o;
    GANTRY_TRY(o.source, core::GetString(body, "source"));
    GANTRY_TRY(auto prio, core::OptInt(body, "priority"));
    o.priority = static_cast<int>(prio.value_or(10));
    GANTRY_TRY(o.type, core::GetString(body, "type"));
    GANTRY_TRY(o.name, core::GetString(body, "name"));
    GANTRY_TRY(auto attrs, core::OptObject(body, "attributes"));
    if (attrs) o.attrs = *attrs;
    GANTRY_TRY(auto seen, core::OptString(body, "seen_at"));
    if (seen) {
      auto t = core::ParseRfc3339(*seen);
      if (!t) return core::InvalidArgument(t.error().message, "seen_at");
      o.seen_at = *t;
    }
    GANTRY_TRY(auto ci, s.Observe(c.rc, o));
    return Response::Json(ToJson(ci));
  });
  router.Add({"POST", "/api/v1/cmdb/stale", "cmdb.observe"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"not_seen_for_hours"}));
    GANTRY_TRY(auto hours, core::GetInt(body, "not_seen_for_hours"));
    if (hours < 1 || hours > 24 * 365 * 10) return core::InvalidArgument("not_seen_for_hours must be 1-87600", "not_seen_for_hours");
    GANTRY_TRY(auto n, s.MarkStale(c.rc, hours * 3600 * core::kNanosPerSecond));
    return Response::Json({{"marked_stale", n}});
  });

  // Change requests.
  router.Add({"GET", "/api/v1/cmdb/changes", "cmdb.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"state"}));
    GANTRY_TRY(auto list, s.ListChanges(c.rc, c.request.Query("state")));
    core::json::array items;
    for (const auto& cr : list) items.push_back(CrJson(cr));
    return http::ListResponse(std::move(items), std::nullopt);
  });
  router.Add({"POST", "/api/v1/cmdb/changes", "cmdb.change.propose"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"title", "description", "edits"}));
    GANTRY_TRY(auto title, core::GetString(body, "title"));
    GANTRY_TRY(auto desc, core::OptString(body, "description"));
    auto it = body.find("edits");
    if (it == body.end() || !it->value().is_array()) return core::InvalidArgument("'edits' must be an array", "edits");
    std::vector<Edit> edits;
    for (const auto& e : it->value().as_array()) {
      if (!e.is_object()) return core::InvalidArgument("each edit must be an object", "edits");
      auto op = core::GetString(e.as_object(), "op");
      edits.push_back(Edit{op ? *op : "", e.as_object()});
    }
    GANTRY_TRY(auto cr, s.ProposeChange(c.rc, title, desc.value_or(""), std::move(edits)));
    return Response::Json(CrJson(cr), 201);
  });
  router.Add({"GET", "/api/v1/cmdb/changes/{id}", "cmdb.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto id, http::IdParam(c));
    GANTRY_TRY(auto cr, s.GetChange(c.rc, id));
    return Response::Json(CrJson(cr));
  });
  for (bool approve : {true, false}) {
    router.Add({"POST", approve ? "/api/v1/cmdb/changes/{id}/approve" : "/api/v1/cmdb/changes/{id}/reject",
                "cmdb.change.approve"},
               [&s, approve](Context& c) -> Result<Response> {
                 std::string comment;
                 if (!c.request.body.empty()) {
                   GANTRY_TRY(auto body, core::ParseObject(c.request.body));
                   GANTRY_TRY_STATUS(core::OnlyFields(body, {"comment"}));
                   GANTRY_TRY(auto cm, core::OptString(body, "comment"));
                   comment = cm.value_or("");
                 }
                 GANTRY_TRY(auto id, http::IdParam(c));
                 GANTRY_TRY(auto cr, approve ? s.ApproveChange(c.rc, id, comment) : s.RejectChange(c.rc, id, comment));
                 return Response::Json(CrJson(cr));
               });
  }
}

}  // namespace gantry::cmdb
