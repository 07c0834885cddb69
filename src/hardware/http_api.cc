#include "hardware/http_api.h"

#include "auth/policy.h"
#include "hardware/fanout_jobs.h"
#include "hardware/inventory.h"
#include "http/params.h"

namespace gantry::hardware {

using core::Result;
using http::Context;
using http::Response;
namespace json = core::json;

namespace {

constexpr char kNode[] = "/api/v1/nodes/{node}";

json::object SelJson(const SelEntry& e) {
  return {{"id", e.id}, {"created", e.created}, {"severity", e.severity}, {"message", e.message}};
}

void RegisterBmcRoutes(http::Router& router, Service& hw) {
  router.Add({"GET", "/api/v1/bmcs", "bmcs.read"}, [&hw](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"limit", "cursor"}));
    GANTRY_TRY(auto limit, http::LimitParam(c.request));
    GANTRY_TRY(auto cursor, http::IntParam(c.request, "cursor"));
    GANTRY_TRY(auto list, hw.ListBmcs(c.rc, cursor, limit));
    json::array items;
    for (const auto& b : list) items.push_back(ToJson(b));
    std::optional<std::string> next;
    if (static_cast<int>(list.size()) == limit) next = std::to_string(list.back().id);
    return http::ListResponse(std::move(items), next);
  });

  router.Add({"POST", "/api/v1/bmcs", "bmcs.write"}, [&hw](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"name", "address", "protocol", "server", "system_id",
                                              "username", "password", "auth", "tls_verify", "ca_file"}));
    NewBmc b;
    GANTRY_TRY(b.name, core::GetString(body, "name"));
    GANTRY_TRY(b.address, core::GetString(body, "address"));
    GANTRY_TRY(auto protocol, core::GetString(body, "protocol"));
    GANTRY_TRY(b.protocol, ParseProtocol(protocol));
    GANTRY_TRY(b.server, core::OptString(body, "server"));
    GANTRY_TRY(b.system_id, core::OptString(body, "system_id"));
    GANTRY_TRY(b.credentials.username, core::GetString(body, "username"));
    GANTRY_TRY(b.credentials.password, core::GetString(body, "password"));
    GANTRY_TRY(auto auth, core::OptString(body, "auth"));
    b.auth = auth.value_or("basic");
    GANTRY_TRY(auto verify, core::OptBool(body, "tls_verify"));
    b.tls_verify = verify.value_or(true);
    GANTRY_TRY(b.ca_file, core::OptString(body, "ca_file"));
    GANTRY_TRY(auto created, hw.AddBmc(c.rc, std::move(b)));
    return Response::Json(ToJson(created), 201);
  });

  router.Add({"GET", "/api/v1/bmcs/{bmc}", "bmcs.read"}, [&hw](Context& c) -> Result<Response> {
    GANTRY_TRY(auto b, hw.GetBmc(c.rc, c.Param("bmc")));
    return Response::Json(ToJson(b));
  });

  router.Add({"DELETE", "/api/v1/bmcs/{bmc}", "bmcs.write"}, [&hw](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(hw.RemoveBmc(c.rc, c.Param("bmc")));
    return Response::NoContent();
  });
}

void RegisterNodeRoutes(http::Router& router, Service& hw, cmdb::Service& cmdb) {
  std::string base = kNode;
  router.Add({"GET", base + "/power", "nodes.read"}, [&hw](Context& c) -> Result<Response> {
    GANTRY_TRY(auto s, hw.PowerStatus(c.rc, c.Param("node")));
    return Response::Json(json::object{{"node", c.Param("node")}, {"power_state", s}});
  });

  router.Add({"POST", base + "/power", "nodes.control"}, [&hw](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"action", "force"}));
    GANTRY_TRY(auto action, core::GetString(body, "action"));
    GANTRY_TRY(auto force, core::OptBool(body, "force"));
    GANTRY_TRY(auto a, ParsePowerAction(action, force.value_or(false)));
    GANTRY_TRY_STATUS(hw.Power(c.rc, c.Param("node"), a));
    return Response::Json(json::object{{"node", c.Param("node")}, {"action", std::string(Name(a))}, {"ok", true}});
  });

  router.Add({"POST", base + "/boot", "nodes.control"}, [&hw](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"device", "once"}));
    GANTRY_TRY(auto device, core::GetString(body, "device"));
    GANTRY_TRY(auto d, ParseBootDevice(device));
    GANTRY_TRY(auto once, core::OptBool(body, "once"));
    GANTRY_TRY_STATUS(hw.SetBootDevice(c.rc, c.Param("node"), d, once.value_or(true)));
    return Response::Json(json::object{{"node", c.Param("node")}, {"device", device},
                                       {"once", once.value_or(true)}, {"ok", true}});
  });

  router.Add({"GET", base + "/sel", "nodes.read"}, [&hw](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(http::OnlyQuery(c.request, {"limit"}));
    GANTRY_TRY(auto limit, http::LimitParam(c.request, 200, 5000));
    GANTRY_TRY(auto entries, hw.ReadSel(c.rc, c.Param("node"), limit));
    json::array items;
    for (const auto& e : entries) items.push_back(SelJson(e));
    return http::ListResponse(std::move(items), std::nullopt);
  });

  router.Add({"DELETE", base + "/sel", "nodes.control"}, [&hw](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(hw.ClearSel(c.rc, c.Param("node")));
    return Response::NoContent();
  });

  router.Add({"POST", base + "/virtual-media", "nodes.control"}, [&hw](Context& c) -> Result<Response> {
    GANTRY_TRY(auto body, core::ParseObject(c.request.body));
    GANTRY_TRY_STATUS(core::OnlyFields(body, {"image"}));
    GANTRY_TRY(auto image, core::GetString(body, "image"));
    GANTRY_TRY_STATUS(hw.InsertMedia(c.rc, c.Param("node"), image));
    return Response::Json(json::object{{"node", c.Param("node")}, {"image", image}, {"inserted", true}});
  });

  router.Add({"DELETE", base + "/virtual-media", "nodes.control"}, [&hw](Context& c) -> Result<Response> {
    GANTRY_TRY_STATUS(hw.EjectMedia(c.rc, c.Param("node")));
    return Response::NoContent();
  });

  router.Add({"GET", base + "/health", "nodes.read"}, [&hw](Context& c) -> Result<Response> {
    FanOutOptions o;
    o.concurrency = 1;
    auto r = hw.CheckMany(c.rc, {std::string(c.Param("node"))}, o).at(0);
    if (r.fault == "not_found" || r.fault == "denied") return Service::PublicError(r);
    return Response::Json(ToJson(r));
  });

  router.Add({"POST", base + "/inventory", "nodes.control"}, [&hw, &cmdb](Context& c) -> Result<Response> {
    FanOutOptions o;
    o.concurrency = 1;
    auto r = RefreshInventory(hw, cmdb, c.rc, {std::string(c.Param("node"))}, o).at(0);
    if (!r.ok) return Service::PublicError(r);
    return Response::Json(ToJson(r));
  });
}

void RegisterFanOutRoutes(http::Router& router, jobs::Service& jobs, std::function<void()> poke) {
  struct Kind {
    const char* path;
    const char* type;
    const char* action;
  };
  static const Kind kinds[] = {
      {"/api/v1/hardware/power", "hardware.power", "nodes.read"},
      {"/api/v1/hardware/boot", "hardware.boot", "nodes.control"},
      {"/api/v1/hardware/check", "hardware.check", "nodes.read"},
      {"/api/v1/hardware/inventory", "hardware.inventory", "nodes.control"},
  };
  for (const auto& k : kinds) {
    std::string type = k.type;
    router.Add({"POST", k.path, k.action}, [&jobs, poke, type](Context& c) -> Result<Response> {
      GANTRY_TRY(auto body, core::ParseObject(c.request.body));
      // Power status is a read: allowed to nodes.read holders; actions need nodes.control.
      if (type == "hardware.power") {
        auto a = core::GetString(body, "action");
        if (a && *a != "status" && !auth::Allowed(c.rc.principal, "nodes.control")) {
          return core::PermissionDenied("not allowed: nodes.control");
        }
      }
      GANTRY_TRY_STATUS(ValidateFanOutParams(type, body));
      GANTRY_TRY(auto job, jobs.Enqueue(c.rc, jobs::NewJob{type, body, 1, std::nullopt}));
      if (poke) poke();
      return Response::Json(json::object{{"job_id", job.id}, {"type", type}, {"state", job.state}}, 202);
    });
  }
}

}  // namespace

void RegisterRoutes(http::Router& router, Service& hw, cmdb::Service& cmdb, jobs::Service& jobs,
                    CampaignService& campaigns, std::function<void()> poke) {
  RegisterBmcRoutes(router, hw);
  RegisterNodeRoutes(router, hw, cmdb);
  RegisterFanOutRoutes(router, jobs, poke);
  RegisterCampaignRoutes(router, campaigns, poke);
}

}  // namespace gantry::hardware
