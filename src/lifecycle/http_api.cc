#include "lifecycle/http_api.h"

#include "http/params.h"
#include "lifecycle/discovery.h"
#include "lifecycle/inventory.h"

namespace gantry::lifecycle {

using core::Result;
using http::Context;
using http::Response;

namespace {

constexpr char kNode[] = "/api/v1/nodes/{node}";

core::Result<OpRequest> ParseOpRequest(const std::string& body_text) {
  OpRequest r;
  if (body_text.empty()) return r;
  GANTRY_TRY(auto body, core::ParseObject(body_text));
  GANTRY_TRY_STATUS(core::OnlyFields(body, {"image", "template", "vars", "timeout_s"}));
  GANTRY_TRY(r.image, core::OptString(body, "image"));
  GANTRY_TRY(r.template_name, core::OptString(body, "template"));
  GANTRY_TRY(auto vars, core::OptObject(body, "vars"));
  if (vars) r.vars = *vars;
  GANTRY_TRY(r.timeout_s, core::OptInt(body, "timeout_s"));
  return r;
}

template <class T>
Response Items(const std::vector<T>& list) {
  core::json::array items;
  for (const auto& x : list) items.push_back(ToJson(x));
  return http::ListResponse(std::move(items), std::nullopt);
}

Response PlainText(std::string body) { return Response::Text(std::move(body), "text/plain; charset=utf-8"); }

void RegisterNodeRoutes(http::Router& router, Service& s) {
  router.Add({"GET", "/api/v1/nodes", "nodes.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"limit", "cursor", "state"}));
    NodeFilter f;
    GANTRY_TRY(f.limit, http::LimitParam(c.request));
    GANTRY_TRY(f.after_id, http::IntParam(c.request, "cursor"));
    f.state = c.request.Query("state");
    GANTRY_TRY(auto nodes, s.ListNodes(c.rc, f));
    core::json::array items;
    for (const auto& n : nodes) items.push_back(ToJson(n));
    std::optional<std::string> next;
    if (static_cast<int>(nodes.size()) == f.limit) next = std::to_string(nodes.back().id);
    return http::ListResponse(std::move(items), next);
  });

  router.Add({"POST", "/api/v1/nodes", "nodes.write"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"name", "mac", "ip", "bmc"}));
    NewNode n;
    GANTRY_TRY(n.mac, core::GetString(body, "mac"));
    GANTRY_TRY(auto name, core::OptString(body, "name"));
    n.name = name.value_or("");
    GANTRY_TRY(n.ip, core::OptString(body, "ip"));
    GANTRY_TRY(n.bmc, core::OptString(body, "bmc"));
    GANTRY_TRY(auto created, s.CreateNode(c.rc, std::move(n)));
    return Response::Json(ToJson(created), 201);
  });

  router.Add({"GET", kNode, "nodes.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto n, s.GetNode(c.rc, c.Param("node")));
    return Response::Json(ToJson(n));
  });

  router.Add({"DELETE", kNode, "nodes.write"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(s.DeleteNode(c.rc, c.Param("node")));
    return Response::NoContent();
  });

  for (const auto& rule : OpRules()) {
    Op op = rule.op;
    router.Add({"POST", std::string(kNode) + "/" + rule.name, "nodes.operate"},
               [&s, op](Context& c) -> Result<Response> {
                 GANTRY_TRY(auto req, ParseOpRequest(c.request.body));
                 GANTRY_TRY(auto n, s.StartOperation(c.rc, c.Param("node"), op, std::move(req)));
                 return Response::Json(ToJson(n), 202);
               });
  }

  router.Add({"POST", std::string(kNode) + "/maintenance", "nodes.operate"},
             [&s](Context& c) -> Result<Response> {
               GANTRY_TRY(auto body, core::ParseObject(c.request.body));
               GANTRY_TRY_STATUS(core::OnlyFields(body, {"on", "reason"}));
               GANTRY_TRY(auto on, core::OptBool(body, "on"));
               if (!on) return core::InvalidArgument("field 'on' (true or false) is required", "on");
               GANTRY_TRY(auto reason, core::OptString(body, "reason"));
               GANTRY_TRY(auto n, s.SetMaintenance(c.rc, c.Param("node"), *on, reason.value_or("")));
               return Response::Json(ToJson(n));
             });

  router.Add({"POST", std::string(kNode) + "/broken", "nodes.operate"},
             [&s](Context& c) -> Result<Response> {
               GANTRY_TRY(auto body, core::ParseObject(c.request.body));
               GANTRY_TRY_STATUS(core::OnlyFields(body, {"reason"}));
               GANTRY_TRY(auto reason, core::GetString(body, "reason"));
               GANTRY_TRY(auto n, s.MarkBroken(c.rc, c.Param("node"), reason));
               return Response::Json(ToJson(n));
             });
}

void RegisterImageRoutes(http::Router& router, Service& s) {
  router.Add({"GET", "/api/v1/images", "images.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto list, s.ListImages(c.rc));
    return Items(list);
  });
  router.Add({"POST", "/api/v1/images", "images.write"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"name", "description", "files"}));
    GANTRY_TRY(auto name, core::GetString(body, "name"));
    GANTRY_TRY(auto description, core::OptString(body, "description"));
    GANTRY_TRY(auto files, core::OptObject(body, "files"));
    if (!files) return core::InvalidArgument("field 'files' is required: {kernel|initrd|rootfs: {path, sha256}}", "files");
    std::map<std::string, Service::ImageSource> sources;
    for (const auto& kv : *files) {
      std::string role(kv.key());
      if (!kv.value().is_object()) return core::InvalidArgument("files." + role + " must be an object {path, sha256}", "files." + role);
      const auto& f = kv.value().get_object();
      GANTRY_TRY_STATUS(core::OnlyFields(f, {"path", "sha256"}));
      Service::ImageSource src;
      GANTRY_TRY(src.path, core::GetString(f, "path"));
      GANTRY_TRY(src.sha256, core::GetString(f, "sha256"));
      sources[role] = src;
    }
    GANTRY_TRY(auto img, s.CreateImage(c.rc, name, description.value_or(""), sources));
    return Response::Json(ToJson(img), 201);
  });
  router.Add({"GET", "/api/v1/images/{image}", "images.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto img, s.GetImage(c.rc, c.Param("image")));
    return Response::Json(ToJson(img));
  });
  router.Add({"DELETE", "/api/v1/images/{image}", "images.write"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(s.DeleteImage(c.rc, c.Param("image")));
    return Response::NoContent();
  });
}

void RegisterTemplateRoutes(http::Router& router, Service& s) {
  router.Add({"GET", "/api/v1/templates", "templates.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto list, s.ListTemplates(c.rc));
    core::json::array items;
    for (const auto& t : list) items.push_back(ToJson(t, false));
    return http::ListResponse(std::move(items), std::nullopt);
  });
  router.Add({"GET", "/api/v1/templates/{template}", "templates.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto t, s.GetTemplate(c.rc, c.Param("template")));
    return Response::Json(ToJson(t, true));
  });
  router.Add({"PUT", "/api/v1/templates/{template}", "templates.write"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"kind", "body"}));
    GANTRY_TRY(auto kind, core::GetString(body, "kind"));
    GANTRY_TRY(auto text, core::GetString(body, "body"));
    GANTRY_TRY(auto t, s.PutTemplate(c.rc, c.Param("template"), kind, text));
    return Response::Json(ToJson(t, true));
  });
  router.Add({"DELETE", "/api/v1/templates/{template}", "templates.write"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(s.DeleteTemplate(c.rc, c.Param("template")));
    return Response::NoContent();
  });
  router.Add({"POST", "/api/v1/templates/{template}/render", "templates.read"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"node", "vars"}));
    GANTRY_TRY(auto node, core::GetString(body, "node"));
    GANTRY_TRY(auto vars, core::OptObject(body, "vars"));
    GANTRY_TRY(auto text, s.RenderFor(c.rc, c.Param("template"), node, vars.value_or(core::json::object())));
    return Response::Json({{"template", c.Param("template")}, {"node", node}, {"text", text}});
  });
}

void RegisterDiscoveryRoutes(http::Router& router, Service& s, cmdb::Service& cmdb) {
  router.Add({"POST", "/api/v1/discovery/dhcp", "discovery.write"}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"mac", "ip", "hostname"}));
    DhcpSighting d;
    GANTRY_TRY(d.mac, core::GetString(body, "mac"));
    GANTRY_TRY(auto ip, core::OptString(body, "ip"));
    GANTRY_TRY(auto host, core::OptString(body, "hostname"));
    d.ip = ip.value_or("");
    d.hostname = host.value_or("");
    GANTRY_TRY(auto n, s.ObserveDhcp(c.rc, d));
    return Response::Json(ToJson(n));
  });
  router.Add({"POST", "/api/v1/discovery/lldp", "discovery.write"}, [&cmdb](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"server", "neighbors"}));
    GANTRY_TRY(auto server, core::GetString(body, "server"));
    const auto* n = body.if_contains("neighbors");
    if (!n || !n->is_object()) {
      return core::InvalidArgument("field 'neighbors' must be the output of lldpcli -f json show neighbors", "neighbors");
    }
    GANTRY_TRY(auto links, ParseLldpNeighbors(core::ToJson(*n)));
    GANTRY_TRY(auto report, ApplyLldp(cmdb, c.rc, server, links));
    core::json::array errors;
    for (const auto& e : report.errors) errors.push_back(core::json::value(e));
    return Response::Json({{"links", report.links}, {"errors", errors}});
  });
  router.Add({"GET", "/api/v1/inventory", "inventory.read"}, [&cmdb](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"host"}));
    GANTRY_TRY(auto inv, BuildInventory(cmdb, c.rc, c.request.Query("host")));
    return Response::Json(inv);
  });
}

void RegisterBootRoutes(http::Router& router, Service& s) {
  router.Add({"GET", "/boot/ipxe", "", http::Auth::kPublic}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"mac"}));
    auto mac = c.request.Query("mac");
    if (!mac) return core::InvalidArgument("query parameter 'mac' is required", "mac");
    GANTRY_TRY(auto script, s.BootScript(*mac, c.request.remote_addr));
    return PlainText(std::move(script));
  });
  router.Add({"GET", "/boot/config", "", http::Auth::kPublic}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"token"}));
    GANTRY_TRY(auto text, s.FetchConfig(c.request.Query("token").value_or("")));
    Response r = PlainText(std::move(text));
    r.SetHeader("cache-control", "no-store");
    return r;
  });
  // The installer posts JSON; busybox wget labels it form data, so any content type is read.
  router.Add({"POST", "/boot/callback", "", http::Auth::kPublic, true}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"token"}));
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"status", "message", "log", "inventory"}));
    Report r;
    GANTRY_TRY(auto status, core::GetString(body, "status"));
    if (status != "ok" && status != "failed") return core::InvalidArgument("status must be ok or failed", "status");
    r.ok = status == "ok";
    GANTRY_TRY(auto message, core::OptString(body, "message"));
    r.message = message.value_or("").substr(0, 1000);
    GANTRY_TRY(r.log, core::OptStringArray(body, "log"));
    if (r.log.size() > 200) r.log.erase(r.log.begin(), r.log.end() - 200);
    GANTRY_TRY(r.inventory, core::OptObject(body, "inventory"));
    GANTRY_TRY_STATUS(s.Callback(c.request.Query("token").value_or(""), r));
    return Response::Json({{"status", "recorded"}});
  });
  router.Add({"GET", "/boot/images/{image}/{file}", "", http::Auth::kPublic}, [&s](Context& c) -> Result<Response> {
    GANTRY_TRY(auto bytes, s.ReadImageFile(c.Param("image"), c.Param("file")));
    return Response::Text(std::move(bytes), "application/octet-stream");
  });
}

}  // namespace

void RegisterRoutes(http::Router& router, Service& service, cmdb::Service& cmdb) {
  RegisterNodeRoutes(router, service);
  RegisterImageRoutes(router, service);
  RegisterTemplateRoutes(router, service);
  RegisterDiscoveryRoutes(router, service, cmdb);
  RegisterBootRoutes(router, service);
}

}  // namespace gantry::lifecycle
