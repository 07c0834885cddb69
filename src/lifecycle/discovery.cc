#include "lifecycle/discovery.h"

#include <spdlog/spdlog.h>

#include <sstream>

namespace gantry::lifecycle {

namespace {

std::string Str(const core::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

const core::json::object* Obj(const core::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

core::Result<LldpLink> ParseOne(const std::string& ifname, const core::json::object& body) {
  LldpLink l;
  l.local_port = ifname;
  const auto* chassis = Obj(body, "chassis");
  if (!chassis) return core::InvalidArgument("interface " + ifname + ": no chassis", "lldp");
  // {"chassis": {"leaf-01": {"id": ...}}} or, without a system name, {"chassis": {"id": ...}}.
  const core::json::object* c = chassis;
  if (!chassis->contains("id") && chassis->size() == 1 && chassis->begin()->value().is_object()) {
    l.chassis_name = chassis->begin()->key();
    c = &chassis->begin()->value().get_object();
  }
  if (const auto* id = Obj(*c, "id")) l.chassis_id = Str(*id, "value");
  const auto* mgmt = c->if_contains("mgmt-ip");
  if (mgmt && mgmt->is_string()) l.mgmt_ip = mgmt->get_string();
  if (mgmt && mgmt->is_array() && !mgmt->get_array().empty() && mgmt->get_array()[0].is_string()) {
    l.mgmt_ip = mgmt->get_array()[0].get_string();
  }
  if (l.chassis_name.empty()) l.chassis_name = l.chassis_id;
  const auto* port = Obj(body, "port");
  if (!port) return core::InvalidArgument("interface " + ifname + ": no port", "lldp");
  if (const auto* id = Obj(*port, "id")) l.port_id = Str(*id, "value");
  l.port_descr = Str(*port, "descr");
  if (l.chassis_name.empty() || l.port_id.empty()) {
    return core::InvalidArgument("interface " + ifname + ": neighbour without chassis or port id", "lldp");
  }
  return l;
}

// CMDB names hold no '/' (it separates type and name in references).
std::string Clean(std::string s) {
  for (auto& c : s) if (c == '/' || c == ' ') c = '-';
  return s;
}

}  // namespace

core::Result<std::vector<LldpLink>> ParseLldpNeighbors(std::string_view json_text) {
  GANTRY_TRY(auto root, core::ParseObject(json_text));
  const auto* lldp = Obj(root, "lldp");
  if (!lldp) return core::InvalidArgument("not lldpcli JSON: no 'lldp' object", "lldp");
  std::vector<LldpLink> out;
  const auto* ifs = lldp->if_contains("interface");
  if (!ifs) return out;  // no neighbours
  auto add = [&](const core::json::object& o) -> core::Status {
    for (const auto& kv : o) {
      if (!kv.value().is_object()) return core::InvalidArgument("interface " + std::string(kv.key()) + " is not an object", "lldp");
      GANTRY_TRY(auto l, ParseOne(std::string(kv.key()), kv.value().get_object()));
      out.push_back(std::move(l));
    }
    return {};
  };
  if (ifs->is_object()) {
    GANTRY_TRY_STATUS(add(ifs->get_object()));
  } else if (ifs->is_array()) {
    for (const auto& e : ifs->get_array()) {
      if (!e.is_object()) return core::InvalidArgument("'interface' entries must be objects", "lldp");
      GANTRY_TRY_STATUS(add(e.get_object()));
    }
  } else {
    return core::InvalidArgument("'interface' must be an object or an array", "lldp");
  }
  return out;
}

core::Result<LldpApplyReport> ApplyLldp(cmdb::Service& cmdb, const core::RequestContext& rc,
                                        const std::string& server, const std::vector<LldpLink>& links) {
  LldpApplyReport report;
  GANTRY_TRY(auto srv, cmdb.GetCi(rc, "server/" + server));
  for (const auto& l : links) {
    std::string nic = Clean(srv.name + ":" + l.local_port);
    std::string sw = Clean(l.chassis_name);
    std::string port = Clean(sw + ":" + l.port_id);
    auto step = [&]() -> core::Status {
      cmdb::Observation o;
      o.source = "lldp";
      o.type = "nic";
      o.name = nic;
      GANTRY_TRY_STATUS(cmdb.Observe(rc, o));
      o.type = "switch";
      o.name = sw;
      if (!l.mgmt_ip.empty() && l.mgmt_ip.find(':') == std::string::npos) o.attrs["mgmt_ip"] = l.mgmt_ip;
      GANTRY_TRY_STATUS(cmdb.Observe(rc, o));
      o.type = "switch_port";
      o.name = port;
      o.attrs = {{"port_name", l.port_id}};
      GANTRY_TRY_STATUS(cmdb.Observe(rc, o));
      for (auto [type, from, to] : {std::tuple{"contains", "server/" + srv.name, "nic/" + nic},
                                    std::tuple{"contains", "switch/" + sw, "switch_port/" + port},
                                    std::tuple{"connected_to", "nic/" + nic, "switch_port/" + port}}) {
        cmdb::NewRelation r;
        r.type = type;
        r.from = from;
        r.to = to;
        r.source = "lldp";
        r.if_missing = true;
        GANTRY_TRY_STATUS(cmdb.Relate(rc, r));
      }
      return {};
    };
    if (auto st = step(); !st) {
      report.errors.push_back(l.local_port + " → " + sw + " " + l.port_id + ": " + st.error().message);
    } else {
      ++report.links;
    }
  }
  return report;
}

std::vector<Lease> ParseLeases(std::string_view text) {
  std::vector<Lease> out;
  std::istringstream in{std::string(text)};
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream f(line);
    std::string expiry, mac, ip, host;
    if (!(f >> expiry >> mac >> ip)) continue;
    f >> host;
    if (host == "*") host.clear();
    auto norm = NormalizeMac(mac);
    if (!norm || ip.find(':') != std::string::npos) continue;  // IPv4 leases only
    out.push_back({*norm, ip, host});
  }
  return out;
}

core::Status Service::RecordInventory(const Node& node, const core::json::object& inv) {
  if (!cmdb_) return {};
  auto rc = core::RequestContext::System("commissioning");
  auto num = [&](std::string_view key) -> std::optional<int64_t> {
    const auto* v = inv.if_contains(key);
    return v && v->is_int64() ? std::optional<int64_t>(v->get_int64()) : std::nullopt;
  };
  cmdb::Observation srv;
  srv.source = "commissioning";
  srv.priority = 20;
  srv.type = "server";
  srv.name = node.name;
  if (auto c = num("cpus")) srv.attrs["cpu_cores"] = *c;
  if (auto m = num("memory_kib")) srv.attrs["memory_gib"] = (*m + 1024 * 1024 - 1) / (1024 * 1024);
  GANTRY_TRY_STATUS(cmdb_->Observe(rc, srv));
  auto relate = [&](const std::string& to) -> core::Status {
    cmdb::NewRelation r;
    r.type = "contains";
    r.from = "server/" + node.name;
    r.to = to;
    r.source = "commissioning";
    r.if_missing = true;
    GANTRY_TRY_STATUS(cmdb_->Relate(rc, r));
    return {};
  };
  if (const auto* nics = inv.if_contains("nics"); nics && nics->is_array()) {
    for (const auto& e : nics->get_array()) {
      if (!e.is_object()) continue;
      std::string ifname = Str(e.get_object(), "name");
      auto mac = NormalizeMac(Str(e.get_object(), "mac"));
      if (ifname.empty() || !mac) continue;
      cmdb::Observation o;
      o.source = "commissioning";
      o.priority = 20;
      o.type = "nic";
      o.name = Clean(node.name + ":" + ifname);
      o.attrs["mac"] = *mac;
      GANTRY_TRY_STATUS(cmdb_->Observe(rc, o));
      GANTRY_TRY_STATUS(relate("nic/" + o.name));
    }
  }
  if (const auto* disks = inv.if_contains("disks"); disks && disks->is_array()) {
    for (const auto& e : disks->get_array()) {
      if (!e.is_object()) continue;
      std::string name = Str(e.get_object(), "name");
      const auto* size = e.get_object().if_contains("size_bytes");
      if (name.empty()) continue;
      cmdb::Observation o;
      o.source = "commissioning";
      o.priority = 20;
      o.type = "storage_volume";
      o.name = Clean(node.name + ":" + name);
      o.attrs["kind"] = "block";
      if (size && size->is_int64()) o.attrs["size_gib"] = size->get_int64() >> 30;
      GANTRY_TRY_STATUS(cmdb_->Observe(rc, o));
      GANTRY_TRY_STATUS(relate("storage_volume/" + o.name));
    }
  }
  return {};
}

}  // namespace gantry::lifecycle
