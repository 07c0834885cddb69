#include "cmdb/builtin.h"

namespace gantry::cmdb {

namespace {

AttrDef S(std::string n, std::string d = {}) { return {n, AttrKind::kString, false, {}, {}, {}, {}, d}; }
AttrDef I(std::string n, int64_t min, int64_t max, std::string d = {}) {
  return {n, AttrKind::kInt, false, {}, {}, min, max, d};
}
AttrDef B(std::string n, std::string d = {}) { return {n, AttrKind::kBool, false, {}, {}, {}, {}, d}; }
AttrDef E(std::string n, std::vector<std::string> v, std::string d = {}) {
  return {n, AttrKind::kEnum, false, std::move(v), {}, {}, {}, d};
}
AttrDef K(std::string n, AttrKind k, std::string d = {}) { return {n, k, false, {}, {}, {}, {}, d}; }
AttrDef R(std::string n, std::string ref, std::string d = {}) {
  return {n, AttrKind::kReference, false, {}, std::move(ref), {}, {}, d};
}

}  // namespace

const std::vector<CiType>& BuiltinCiTypes() {
  static const std::vector<CiType> types = [] {
    std::vector<CiType> t = {
        {"site", "A data centre campus", true, {S("address"), S("city"), S("country"), S("timezone")}},
        {"room", "A data hall", true, {I("floor", -10, 200), I("power_kw", 0, 1'000'000)}},
        {"row", "A row of racks", true, {S("aisle")}},
        {"rack", "A rack", true,
         {I("height_u", 1, 60, "usable rack units"), I("power_kw", 0, 1000), S("asset_tag")}},
        {"pdu", "A power distribution unit", true,
         {S("model"), I("outlets", 1, 256), I("capacity_w", 0, 1'000'000), K("mgmt_ip", AttrKind::kIpv4)}},
        {"pdu_outlet", "One outlet of a PDU", true, {I("number", 1, 256)}},
        {"server", "A physical server", true,
         {S("serial"), S("vendor"), S("model"), E("role", {"gpu-node", "cpu-node", "storage", "login", "service", "mgmt"}),
          I("cpu_cores", 0, 4096), I("memory_gib", 0, 1'000'000), S("gpu_model"), I("gpu_count", 0, 64),
          K("mgmt_ip", AttrKind::kIpv4), K("primary_ip", AttrKind::kIpv4), S("bios_version"),
          E("lifecycle", {"discovered", "commissioning", "ready", "deploying", "deployed", "releasing", "maintenance", "rescue", "broken"})}},
        {"bmc", "A baseboard management controller", true,
         {K("address", AttrKind::kIpv4), E("protocol", {"redfish", "ipmi"}), S("firmware_version"), K("mac", AttrKind::kMac)}},
        {"gpu", "A GPU (or accelerator)", true,
         {S("model"), S("uuid"), S("serial"), I("memory_mib", 0, 10'000'000), I("index", 0, 64),
          S("pci_bus_id"), S("vbios_version"), B("mig_enabled")}},
        {"nic", "A network interface (port)", true,
         {K("mac", AttrKind::kMac), K("ipv4", AttrKind::kIpv4), K("ipv6", AttrKind::kIpv6), I("speed_gbps", 0, 1600),
          S("model"), S("firmware_version"), E("kind", {"ethernet", "infiniband", "roce"})}},
        {"switch", "A network switch", true,
         {S("model"), S("serial"), E("role", {"leaf", "spine", "core", "mgmt", "border"}), K("mgmt_ip", AttrKind::kIpv4),
          S("os_version")}},
        {"switch_port", "A port of a switch", true, {S("port_name"), I("speed_gbps", 0, 1600), I("vlan", 0, 4094)}},
        {"cable", "A cable between two ports", true, {S("label"), E("medium", {"copper", "fiber", "dac", "aoc"}), I("length_cm", 0, 100000)}},
        {"storage_volume", "A storage volume", true, {I("size_gib", 0, 1LL << 40), S("pool"), E("kind", {"block", "file", "object"})}},
        {"os_image", "An operating system image", true,
         {S("distribution"), S("version"), S("kernel"), S("checksum_sha256"), E("format", {"installer", "rootfs", "disk"})}},
        {"slurm_partition", "A Slurm partition", true, {S("cluster"), I("max_time_min", 0, 1'000'000)}},
        {"k8s_cluster", "A Kubernetes cluster", true, {S("api_url"), S("version")}},
        {"service", "A service or application", true,
         {E("criticality", {"low", "medium", "high", "critical"}), S("owner"), S("url")}},
        {"instance", "A tenant-owned instance (VM, container set or leased server)", true,
         {E("kind", {"baremetal", "vm", "container"}), S("flavor"), R("server", "server", "leased server")}},
        {"tenant", "A tenant (department, team or customer) as a CI, for impact answers", true,
         {S("slug"), S("contact")}},
    };
    return t;
  }();
  return types;
}

const std::vector<RelationType>& BuiltinRelationTypes() {
  static const std::vector<RelationType> types = [] {
    std::vector<std::string> placed = {"server", "switch", "pdu", "storage_volume", "rack", "row", "room"};
    std::vector<RelationType> t;
    t.push_back({"located_in", "Physical location: server/switch/PDU → rack → row → room → site", true,
                 placed, {"rack", "row", "room", "site"}, 1, 0, true,
                 {false, true, {}, {}},
                 {I("position_u", 1, 60, "lowest rack unit occupied"), I("height_u", 1, 20)}});
    t.push_back({"contains", "A part inside its container: server → GPU, NIC, BMC; switch → port; PDU → outlet", true,
                 {"server", "switch", "pdu"}, {"gpu", "nic", "bmc", "switch_port", "pdu_outlet", "storage_volume"}, 0, 1, true,
                 // A container's failure takes its parts; a failing NIC, GPU or switch port degrades its container.
                 {true, true, {}, {"nic", "gpu", "switch_port"}}, {}});
    t.push_back({"connected_to", "A link: NIC → switch port, switch port → upstream switch port, cable ends", true,
                 {"nic", "switch_port", "cable"}, {"switch_port", "nic", "cable"}, 1, 1, false,
                 // The upstream end (`to`) failing cuts off the downstream end (`from`).
                 {false, true, {}, {}}, {}});
    t.push_back({"powered_by", "Power feed: server/switch/PDU → PDU outlet", true,
                 {"server", "switch", "pdu", "storage_volume"}, {"pdu_outlet"}, 4, 1, false,
                 {false, true, {}, {}}, {}});
    t.push_back({"runs", "The OS installed on a server", true,
                 {"server"}, {"os_image"}, 1, 0, false, {false, false, {}, {}}, {}});
    t.push_back({"deployed_on", "A service or instance running on a server or cluster", true,
                 {"service", "instance"}, {"server", "k8s_cluster", "slurm_partition"}, 0, 0, false,
                 {false, true, {}, {}}, {}});
    t.push_back({"depends_on", "A service needing another service", true,
                 {"service"}, {"service"}, 0, 0, true, {false, true, {}, {}}, {}});
    t.push_back({"member_of", "A node in a Slurm partition or Kubernetes cluster", true,
                 {"server"}, {"slurm_partition", "k8s_cluster"}, 0, 0, false,
                 // Losing a node degrades its partition or cluster.
                 {true, false, {}, {}}, {}});
    t.push_back({"owned_by", "A CI owned or leased by a tenant", true,
                 {"instance", "server", "service", "storage_volume"}, {"tenant"}, 1, 0, false,
                 {true, false, {}, {}}, {}});
    return t;
  }();
  return types;
}

}  // namespace gantry::cmdb
