// What the lifecycle reads from and writes to the CMDB: the Ansible inventory and LLDP links.
#include <fstream>
#include <sstream>

#include "lifecycle/discovery.h"
#include "lifecycle/inventory.h"
#include "lifecycle/tests/test_util.h"

namespace gantry::lifecycle {
namespace {

class CmdbInputsTest : public LifecycleTest {
 protected:
  void Ci(const std::string& type, const std::string& name, core::json::object attrs = {},
          std::optional<std::string> tenant = {}) {
    auto ci = cmdb_.CreateCi(admin_, cmdb::NewCi{type, name, std::move(attrs), tenant, "active"});
    ASSERT_TRUE(ci) << type << "/" << name << ": " << ci.error().message;
  }
  void Rel(const std::string& from, const std::string& type, const std::string& to) {
    auto r = cmdb_.Relate(admin_, cmdb::NewRelation{type, from, to, {}, "manual"});
    ASSERT_TRUE(r) << from << " " << type << " " << to << ": " << r.error().message;
  }
  static std::vector<std::string> Hosts(const core::json::object& inv, const std::string& group) {
    std::vector<std::string> out;
    const auto* g = inv.if_contains(group);
    if (!g) return out;
    for (const auto& h : g->as_object().at("hosts").as_array()) out.emplace_back(h.as_string());
    return out;
  }
};

TEST_P(CmdbInputsTest, InventoryGroupsBySiteRackRoleGpuTenantAndPartition) {
  Ci("site", "dc-east");
  Ci("room", "hall-1");
  Ci("row", "row-a");
  Ci("rack", "r01");
  Rel("room/hall-1", "located_in", "site/dc-east");
  Rel("row/row-a", "located_in", "room/hall-1");
  Rel("rack/r01", "located_in", "row/row-a");
  Ci("slurm_partition", "gpu-h100");
  Ci("server", "gpu-01", {{"role", "gpu-node"}, {"gpu_model", "H100 SXM"}, {"gpu_count", 8}, {"primary_ip", "10.0.0.11"}});
  Ci("server", "cpu-01", {{"role", "cpu-node"}});
  Ci("server", "spare-01");
  Rel("server/gpu-01", "located_in", "rack/r01");
  Rel("server/cpu-01", "located_in", "rack/r01");
  Rel("server/gpu-01", "member_of", "slurm_partition/gpu-h100");
  Ci("instance", "inst-1", {{"kind", "baremetal"}}, "acme");
  Rel("instance/inst-1", "deployed_on", "server/gpu-01");

  auto inv = BuildInventory(cmdb_, admin_, std::nullopt);
  ASSERT_OK(inv);
  EXPECT_EQ((std::vector<std::string>{"cpu-01", "gpu-01"}), Hosts(*inv, "site_dc_east"));
  EXPECT_EQ((std::vector<std::string>{"cpu-01", "gpu-01"}), Hosts(*inv, "rack_r01"));
  EXPECT_EQ((std::vector<std::string>{"gpu-01"}), Hosts(*inv, "role_gpu_node"));
  EXPECT_EQ((std::vector<std::string>{"cpu-01"}), Hosts(*inv, "role_cpu_node"));
  EXPECT_EQ((std::vector<std::string>{"gpu-01"}), Hosts(*inv, "gpu_h100_sxm"));
  EXPECT_EQ((std::vector<std::string>{"gpu-01"}), Hosts(*inv, "tenant_acme"));
  EXPECT_EQ((std::vector<std::string>{"gpu-01"}), Hosts(*inv, "slurm_gpu_h100"));
  EXPECT_EQ((std::vector<std::string>{"spare-01"}), Hosts(*inv, "ungrouped"));
  const auto& vars = inv->at("_meta").as_object().at("hostvars").as_object().at("gpu-01").as_object();
  EXPECT_EQ("10.0.0.11", vars.at("ansible_host").as_string());
  EXPECT_EQ(8, vars.at("gpu_count").as_int64());
  EXPECT_EQ("dc-east", vars.at("gantry_site").as_string());
  EXPECT_EQ("r01", vars.at("gantry_rack").as_string());
  EXPECT_EQ("acme", vars.at("gantry_tenant").as_string());
  EXPECT_EQ("gpu-h100", vars.at("gantry_partitions").as_array().at(0).as_string());
  bool listed = false;
  for (const auto& c : inv->at("all").as_object().at("children").as_array()) listed = listed || c == "site_dc_east";
  EXPECT_TRUE(listed);

  auto one = BuildInventory(cmdb_, admin_, std::string("gpu-01"));
  ASSERT_OK(one);
  EXPECT_EQ("acme", one->at("gantry_tenant").as_string());
  EXPECT_EQ(core::Code::kNotFound, BuildInventory(cmdb_, admin_, std::string("nope")).error().code);
}

TEST_P(CmdbInputsTest, LldpNeighboursBecomeLinksInTheCmdb) {
  Ci("server", "gpu-01");
  const char* src = std::getenv("GANTRY_SOURCE_DIR");
  std::ifstream in(std::string(src ? src : ".") + "/src/lifecycle/tests/data/lldp-two-neighbors.json");
  std::stringstream ss;
  ss << in.rdbuf();
  auto links = ParseLldpNeighbors(ss.str());
  ASSERT_OK(links);
  auto report = ApplyLldp(cmdb_, admin_, "gpu-01", *links);
  ASSERT_OK(report);
  EXPECT_EQ(2, report->links);
  EXPECT_TRUE(report->errors.empty());
  auto path = cmdb_.Path(admin_, "server/gpu-01", "switch/leaf-02");
  ASSERT_OK(path);
  auto sw = cmdb_.GetCi(admin_, "switch/leaf-01");
  ASSERT_OK(sw);
  EXPECT_EQ("10.10.0.11", sw->attrs.at("mgmt_ip").as_string());
  auto rels = cmdb_.RelationsOf(admin_, "nic/gpu-01:eth0");
  ASSERT_OK(rels);
  int lldp = 0;
  for (const auto& r : *rels) lldp += r.source == "lldp";
  EXPECT_EQ(2, lldp);  // contained in the server, connected to leaf-01:swp12
  // The same report again changes nothing.
  auto again = ApplyLldp(cmdb_, admin_, "gpu-01", *links);
  ASSERT_OK(again);
  EXPECT_EQ(2, again->links);
  EXPECT_EQ(2u, cmdb_.RelationsOf(admin_, "nic/gpu-01:eth0")->size());
  // The NIC cabled elsewhere contradicts the recorded link: reported, not forced.
  auto moved = *links;
  moved[0].port_id = "swp13";
  auto conflict = ApplyLldp(cmdb_, admin_, "gpu-01", moved);
  ASSERT_OK(conflict);
  EXPECT_EQ(1u, conflict->errors.size());
}

GANTRY_INSTANTIATE_BACKENDS(CmdbInputsTest);

}  // namespace
}  // namespace gantry::lifecycle
