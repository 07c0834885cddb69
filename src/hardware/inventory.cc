#include "hardware/inventory.h"

#include <set>

namespace gantry::hardware {

namespace json = core::json;

namespace {

cmdb::AttrDef S(std::string n) { return {n, cmdb::AttrKind::kString, false, {}, {}, {}, {}, {}}; }
cmdb::AttrDef I(std::string n) {
  return {n, cmdb::AttrKind::kInt, false, {}, {}, int64_t{0}, std::optional<int64_t>(), {}};
}
cmdb::AttrDef B(std::string n) { return {n, cmdb::AttrKind::kBool, false, {}, {}, {}, {}, {}}; }

const std::vector<cmdb::CiType>& PartTypes() {
  static const std::vector<cmdb::CiType> types = {
      {"cpu", "A processor socket (from BMC inventory)", false,
       {S("model"), S("vendor"), I("cores"), I("threads"), S("socket")}},
      {"memory_module", "A memory module (from BMC inventory)", false,
       {I("capacity_mib"), S("kind"), S("vendor"), S("part_number"), S("serial"), I("speed_mhz")}},
      {"pcie_device", "A PCIe device (from BMC inventory)", false,
       {S("vendor"), S("model"), S("kind"), S("serial"), S("firmware_version")}},
      {"drive", "A drive (from BMC inventory)", false,
       {S("model"), S("serial"), I("capacity_bytes"), S("media"), S("protocol"), S("firmware_version")}},
      {"psu", "A power supply (from BMC inventory)", false,
       {S("model"), S("serial"), I("capacity_w"), S("firmware_version")}},
      {"fan", "A fan (from BMC inventory)", false, {I("reading"), S("units")}},
      {"sensor", "A sensor and its last reading (from BMC inventory)", false,
       {S("kind"), {"reading_celsius", cmdb::AttrKind::kInt, false, {}, {}, {}, {}, {}},
        {"upper_critical", cmdb::AttrKind::kInt, false, {}, {}, {}, {}, {}}}},
      {"firmware", "A firmware component and its version (from BMC inventory)", false,
       {S("component"), S("version"), B("updateable")}},
  };
  return types;
}

std::vector<std::string> PartTypeNames() {
  std::vector<std::string> names;
  for (const auto& t : PartTypes()) names.push_back(t.name);
  return names;
}

// Only the attributes the type defines (a BMC reports more than the CMDB keeps).
json::object Known(const cmdb::CiType& type, const json::object& attrs) {
  json::object out;
  for (const auto& kv : attrs) {
    if (type.Find(kv.key())) out[kv.key()] = kv.value();
  }
  return out;
}

bool IsIpv4(std::string_view s) {
  int parts = 0, digits = 0, value = 0;
  for (char c : s) {
    if (c == '.') {
      if (digits == 0) return false;
      ++parts;
      digits = value = 0;
    } else if (c >= '0' && c <= '9') {
      value = value * 10 + (c - '0');
      if (++digits > 3 || value > 255) return false;
    } else {
      return false;
    }
  }
  return parts == 3 && digits > 0;
}

}  // namespace

core::Status EnsureInventoryTypes(cmdb::Service& cmdb) {
  auto rc = core::RequestContext::System("hardware");
  for (const auto& t : PartTypes()) {
    if (cmdb.GetType(t.name)) continue;
    auto created = cmdb.CreateType(rc, t);
    if (!created && created.error().code != core::Code::kConflict) return created.error();
  }
  for (const auto& r : cmdb.RelationTypes()) {
    if (r.name == kHasPart) return {};
  }
  cmdb::RelationType rel;
  rel.name = kHasPart;
  rel.description = "A part of a server found in its BMC inventory: CPU, memory, drive, PSU, fan, sensor, firmware";
  rel.from_types = {"server"};
  rel.to_types = PartTypeNames();
  rel.max_in = 1;
  rel.acyclic = true;
  // A server's failure takes its parts; a failing CPU, memory module, drive, PSU or fan
  // degrades its server.
  rel.impact = {true, true, {}, {"cpu", "memory_module", "drive", "psu", "fan"}};
  auto created = cmdb.CreateRelationType(rc, rel);
  if (!created && created.error().code != core::Code::kConflict) return created.error();
  return {};
}

core::Result<json::object> ReconcileInventory(cmdb::Service& cmdb, const core::RequestContext& rc,
                                              const Bmc& bmc, const Inventory& inv) {
  if (!bmc.server) {
    return core::FailedPrecondition("BMC " + bmc.name + " controls no server CI; set its server first");
  }
  const std::string& server = *bmc.server;
  auto observe = [&](const std::string& type, const std::string& name, const json::object& attrs) -> core::Status {
    GANTRY_TRY(auto t, cmdb.GetType(type));
    cmdb::Observation obs;
    obs.source = "bmc";
    obs.priority = kBmcPriority;
    obs.type = type;
    obs.name = name;
    obs.attrs = Known(t, attrs);
    GANTRY_TRY(auto ci, cmdb.Observe(rc, obs));
    (void)ci;
    return {};
  };
  GANTRY_TRY_STATUS(observe("server", server, inv.server));
  json::object bmc_attrs = inv.bmc;
  bmc_attrs["protocol"] = std::string(Name(bmc.protocol));
  // The CMDB keeps a BMC's address as an IPv4 address (monitoring scrapes BMCs from it): set it
  // when the record's address is one (not a host name, a port or a URL).
  if (IsIpv4(bmc.address)) bmc_attrs["address"] = bmc.address;
  GANTRY_TRY_STATUS(observe("bmc", bmc.name, bmc_attrs));

  // Relations that exist already are not asked for again.
  std::set<std::string> related;
  GANTRY_TRY(auto server_ci, cmdb.GetCi(rc, "server/" + server));
  GANTRY_TRY(auto rels, cmdb.RelationsOf(rc, "server/" + server));
  for (const auto& r : rels) {
    if (r.from_id == server_ci.id) related.insert(r.type + ":" + std::to_string(r.to_id));
  }
  int cis = 2, relations = 0;
  auto relate = [&](const std::string& rel, const std::string& type, const std::string& name) -> core::Status {
    GANTRY_TRY(auto part, cmdb.GetCi(rc, type + "/" + name));
    if (related.contains(rel + ":" + std::to_string(part.id))) return {};
    cmdb::NewRelation nr;
    nr.type = rel;
    nr.from = std::to_string(server_ci.id);
    nr.to = std::to_string(part.id);
    nr.source = "bmc";
    nr.if_missing = true;
    GANTRY_TRY(auto created, cmdb.Relate(rc, nr));
    (void)created;
    ++relations;
    return {};
  };
  GANTRY_TRY_STATUS(relate("contains", "bmc", bmc.name));
  for (const auto& p : inv.parts) {
    std::string name = server + ":" + p.id;
    GANTRY_TRY_STATUS(observe(p.type, name, p.attrs));
    ++cis;
    bool builtin_part = p.type == "gpu" || p.type == "nic";
    GANTRY_TRY_STATUS(relate(builtin_part ? "contains" : kHasPart, p.type, name));
  }
  return json::object{{"cis", cis}, {"relations", relations}, {"parts", static_cast<int64_t>(inv.parts.size())}};
}

std::vector<NodeResult> RefreshInventory(Service& hw, cmdb::Service& cmdb, const core::RequestContext& rc,
                                         const std::vector<std::string>& targets, const FanOutOptions& o) {
  return hw.ForEach(rc, targets, [&cmdb, &rc](Driver& d, const Bmc& b) -> core::Result<json::object> {
    if (!b.server) return core::FailedPrecondition("BMC " + b.name + " controls no server CI; set its server first");
    GANTRY_TRY(auto inv, d.ReadInventory());
    return ReconcileInventory(cmdb, rc, b, inv);
  }, o, "node.inventory", {});
}

}  // namespace gantry::hardware
