#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "lifecycle/discovery.h"
#include "lifecycle/pxe.h"

namespace gantry::lifecycle {
namespace {

std::string Data(const std::string& name) {
  const char* src = std::getenv("GANTRY_SOURCE_DIR");
  std::ifstream in(std::string(src ? src : ".") + "/src/lifecycle/tests/data/" + name);
  std::stringstream ss;
  ss << in.rdbuf();
  EXPECT_FALSE(ss.str().empty()) << name;
  return ss.str();
}

TEST(Lldp, ParsesSeveralNeighbours) {
  auto links = ParseLldpNeighbors(Data("lldp-two-neighbors.json"));
  ASSERT_TRUE(links) << links.error().message;
  ASSERT_EQ(2u, links->size());
  EXPECT_EQ("eth0", (*links)[0].local_port);
  EXPECT_EQ("leaf-01", (*links)[0].chassis_name);
  EXPECT_EQ("0c:42:a1:00:00:01", (*links)[0].chassis_id);
  EXPECT_EQ("10.10.0.11", (*links)[0].mgmt_ip);
  EXPECT_EQ("swp12", (*links)[0].port_id);
  EXPECT_EQ("eth1", (*links)[1].local_port);
  EXPECT_EQ("leaf-02", (*links)[1].chassis_name);
  EXPECT_EQ("10.10.0.12", (*links)[1].mgmt_ip);  // the first of several addresses
}

TEST(Lldp, OneNeighbourWithoutSystemName) {
  auto links = ParseLldpNeighbors(Data("lldp-one-neighbor.json"));
  ASSERT_TRUE(links) << links.error().message;
  ASSERT_EQ(1u, links->size());
  EXPECT_EQ("eno1", (*links)[0].local_port);
  EXPECT_EQ("00:1c:73:aa:bb:cc", (*links)[0].chassis_name);  // the chassis id names it
  EXPECT_EQ("00:1c:73:aa:bb:d1", (*links)[0].port_id);
  EXPECT_EQ("Ethernet1", (*links)[0].port_descr);
}

TEST(Lldp, RejectsWhatIsNotLldpcliOutput) {
  EXPECT_FALSE(ParseLldpNeighbors("[]"));
  EXPECT_FALSE(ParseLldpNeighbors(R"({"interfaces": {}})"));
  EXPECT_FALSE(ParseLldpNeighbors(R"({"lldp": {"interface": {"eth0": {"port": {"id": {"value": "p"}}}}}})"));
  auto none = ParseLldpNeighbors(R"({"lldp": {}})");
  ASSERT_TRUE(none);
  EXPECT_TRUE(none->empty());
}

TEST(Leases, ParsesDnsmasqLeaseFile) {
  auto leases = ParseLeases(
      "1764090000 52:54:00:99:00:10 10.99.0.150 node-a 01:52:54:00:99:00:10\n"
      "1764090001 52:54:00:99:00:11 10.99.0.151 * *\n"
      "garbage\n"
      "1764090002 zz:zz 10.99.0.152 x *\n"
      "1764090003 1234 fd99::5 * 00:01:00:01\n");
  ASSERT_EQ(2u, leases.size());
  EXPECT_EQ("52:54:00:99:00:10", leases[0].mac);
  EXPECT_EQ("10.99.0.150", leases[0].ip);
  EXPECT_EQ("node-a", leases[0].hostname);
  EXPECT_EQ("", leases[1].hostname);
}

TEST(Dnsmasq, ConfigChainsIpxeToGantry) {
  PxeConfig c;
  c.dir = "/var/lib/gantry/pxe";
  c.interface = "br0";
  c.ranges = {ParseDhcpRange("10.99.0.100,10.99.0.199").value()};
  c.boot_url = "http://10.99.0.1:8080";
  std::string conf = RenderDnsmasqConf(c);
  for (const char* line : {"interface=br0\n", "dhcp-range=10.99.0.100,10.99.0.199,255.255.255.0,1h\n",
                           "dhcp-hostsfile=/var/lib/gantry/pxe/hosts\n", "tftp-root=/var/lib/gantry/pxe/tftp\n",
                           "dhcp-match=set:ipxe,175\n", "dhcp-boot=tag:ipxe,boot.ipxe\n",
                           "dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe\n", "enable-ra\n",
                           "dhcp-leasefile=/var/lib/gantry/pxe/dnsmasq.leases\n", "port=0\n"}) {
    EXPECT_NE(std::string::npos, conf.find(line)) << line << "\n" << conf;
  }
  EXPECT_EQ("#!ipxe\nchain http://10.99.0.1:8080/boot/ipxe?mac=${net0/mac}\n", RenderBootIpxe(c));
  EXPECT_EQ("52:54:00:99:00:10,10.99.0.20,node-a\n",
            RenderHostsFile({{"52:54:00:99:00:10", "10.99.0.20", "node-a"}}));
}

TEST(Dnsmasq, RangesAreValidated) {
  auto r = ParseDhcpRange("10.0.0.10,10.0.0.20,255.255.0.0,30m");
  ASSERT_TRUE(r);
  EXPECT_EQ("255.255.0.0", r->netmask);
  EXPECT_EQ("30m", r->lease);
  EXPECT_FALSE(ParseDhcpRange("10.0.0.10"));
  EXPECT_FALSE(ParseDhcpRange("10.0.0.10,not-an-ip"));
  EXPECT_FALSE(ParseDhcpRange("10.0.0.10,10.0.0.20,255.0.0.0,1h;reboot"));
}

}  // namespace
}  // namespace gantry::lifecycle
