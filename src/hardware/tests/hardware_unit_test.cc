// Unit tests of the pure parts of hardware control: names and parsers, sealed credentials, the
// ipmitool argv and output parsers, the Redfish helpers and the inventory walk over the DMTF
// and HPE Cray mockups (read from tests/data/redfish-mockups, no server), campaign specs.
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "core/crypto.h"
#include "hardware/campaign_types.h"
#include "hardware/credentials.h"
#include "hardware/ipmi.h"
#include "hardware/redfish.h"
#include "support/bmc_sims.h"
#include "support/test_db.h"

namespace gantry::hardware {
namespace {

namespace json = core::json;

// Reads a mockup resource from disk, as the BMC would serve it.
Fetcher MockupFetcher(const std::string& mockup) {
  std::string root = testing::MockupDir(mockup);
  return [root](const std::string& path) -> core::Result<json::object> {
    std::ifstream in(root + path + "/index.json");
    if (!in) return core::Conflict("HTTP 404 " + path);
    std::stringstream ss;
    ss << in.rdbuf();
    return core::ParseObject(ss.str());
  };
}

std::vector<Component> PartsOf(const Inventory& inv, const std::string& type) {
  std::vector<Component> out;
  for (const auto& p : inv.parts) {
    if (p.type == type) out.push_back(p);
  }
  return out;
}

TEST(HardwareTypes, ParsesActionsDevicesAndProtocols) {
  EXPECT_EQ(PowerAction::kForceOff, ParsePowerAction("off", true).value());
  EXPECT_EQ(PowerAction::kOff, ParsePowerAction("off").value());
  EXPECT_EQ(PowerAction::kCycle, ParsePowerAction("cycle").value());
  EXPECT_FALSE(ParsePowerAction("explode"));
  EXPECT_EQ(BootDevice::kBios, ParseBootDevice("bios").value());
  EXPECT_FALSE(ParseBootDevice("floppy"));
  EXPECT_EQ(Protocol::kIpmi, ParseProtocol("ipmi").value());
  EXPECT_FALSE(ParseProtocol("snmp"));
}

TEST(HardwareTypes, ValidatesNamesAndAddresses) {
  EXPECT_TRUE(ValidateName("bmc-node01.a", "name"));
  EXPECT_FALSE(ValidateName("", "name"));
  EXPECT_FALSE(ValidateName("a b", "name"));
  EXPECT_FALSE(ValidateName("a/b", "name"));
  EXPECT_TRUE(ValidateAddress("10.0.0.5", Protocol::kIpmi));
  EXPECT_TRUE(ValidateAddress("10.0.0.5:623", Protocol::kIpmi));
  EXPECT_FALSE(ValidateAddress("https://10.0.0.5", Protocol::kIpmi));
  EXPECT_TRUE(ValidateAddress("https://bmc1.example:8443", Protocol::kRedfish));
  EXPECT_FALSE(ValidateAddress("https://bmc1/redfish/v1", Protocol::kRedfish));
  EXPECT_FALSE(ValidateAddress("bmc1; rm -rf /", Protocol::kRedfish));
}

TEST(HardwareTypes, FaultNamesFollowErrorCodes) {
  EXPECT_EQ("timeout", FaultOf(core::Error(core::Code::kDeadlineExceeded, "x")));
  EXPECT_EQ("auth_failed", FaultOf(core::Unauthenticated("x")));
  EXPECT_EQ("unsupported", FaultOf(core::FailedPrecondition("x")));
  EXPECT_EQ("bad_response", FaultOf(core::Internal("x")));
  EXPECT_EQ("unreachable", FaultOf(core::Unavailable("x")));
}

TEST(Credentials, SealedValueOpensOnlyForItsBmcAndKey) {
  auto box = CredentialBox::FromKey(std::string(32, 'k')).value();
  auto sealed = box.Seal("bmc-1", {"admin", "s3cret-pass"}).value();
  EXPECT_EQ(std::string::npos, sealed.find("s3cret"));
  auto opened = box.Open("bmc-1", sealed).value();
  EXPECT_EQ("admin", opened.username);
  EXPECT_EQ("s3cret-pass", opened.password);
  EXPECT_FALSE(box.Open("bmc-2", sealed));  // bound to its BMC
  auto other = CredentialBox::FromKey(std::string(32, 'x')).value();
  EXPECT_FALSE(other.Open("bmc-1", sealed));
  EXPECT_FALSE(CredentialBox::FromKey("short"));
}

TEST(Credentials, KeyFileIsCreatedPrivateAndReused) {
  std::string dir = testing::MakeTempDir("bmc-key");
  std::string path = CredentialKeyPath(dir);
  EXPECT_FALSE(CredentialBox::Open(path, false));
  auto a = CredentialBox::Open(path, true).value();
  auto perms = std::filesystem::status(path).permissions();
  EXPECT_EQ(std::filesystem::perms::none, perms & (std::filesystem::perms::group_all | std::filesystem::perms::others_all));
  auto sealed = a.Seal("b", {"u", "p"}).value();
  auto b = CredentialBox::Open(path, true).value();
  EXPECT_EQ("p", b.Open("b", sealed).value().password);
  std::filesystem::permissions(path, std::filesystem::perms::others_read, std::filesystem::perm_options::add);
  EXPECT_FALSE(CredentialBox::Open(path, false));  // readable by others: refused
}

TEST(Ipmi, PasswordNeverInArgv) {
  Endpoint ep{"bmc-7", "10.1.2.3:6230", Protocol::kIpmi, std::nullopt, {"root", "hunter2"}};
  IpmiDriver d(ep, DriverOptions{});
  auto argv = d.Argv({"chassis", "power", "status"});
  for (const auto& a : argv) EXPECT_EQ(std::string::npos, a.find("hunter2"));
  std::string joined;
  for (const auto& a : argv) joined += a + " ";
  EXPECT_NE(std::string::npos, joined.find("-I lanplus -C 3 -H 10.1.2.3 -p 6230 -U root -E"));
  EXPECT_NE(std::string::npos, joined.find("chassis power status"));
}

TEST(Ipmi, ParsesOutputsAndErrors) {
  EXPECT_EQ("on", ParseIpmiPowerStatus("Chassis Power is on\n").value());
  EXPECT_EQ("off", ParseIpmiPowerStatus("Chassis Power is off\n").value());
  EXPECT_FALSE(ParseIpmiPowerStatus("garbage"));
  auto sel = ParseIpmiSel(
      "   1 | 11/25/2026 | 10:00:01 | Temperature #0x30 | Upper Critical going high | Asserted\n"
      "   2 | 11/25/2026 | 10:00:02 | Power Supply #0x51 | Failure detected | Asserted\n");
  ASSERT_EQ(2u, sel.size());
  EXPECT_EQ("2", sel[1].id);
  EXPECT_NE(std::string::npos, sel[1].message.find("Failure detected"));
  auto e = IpmiError("bmc-7", 1, "Error: Unable to establish IPMI v2 / RMCP+ session\n");
  EXPECT_EQ(core::Code::kUnavailable, e.code);
  auto auth = IpmiError("bmc-7", 1, "RAKP 2 HMAC is invalid\nError: Unable to establish IPMI v2 / RMCP+ session");
  EXPECT_EQ(core::Code::kUnauthenticated, auth.code);
}

TEST(Redfish, AllowedValuesInlineAndFromActionInfo) {
  auto fetch = MockupFetcher("dmtf-public-rackmount1");
  auto sys = fetch("/redfish/v1/Systems/437XR1138R2").value();
  auto inline_values = AllowedValues(sys, "#ComputerSystem.Reset", "ResetType", fetch).value();
  EXPECT_NE(inline_values.end(), std::find(inline_values.begin(), inline_values.end(), "ForceOff"));
  // rackmount1 does not offer PowerCycle: a power cycle there is "unsupported", not guessed.
  EXPECT_EQ(inline_values.end(), std::find(inline_values.begin(), inline_values.end(), "PowerCycle"));

  auto cray = MockupFetcher("hpe-cray-ex235n");
  auto node = cray("/redfish/v1/Systems/Node0").value();
  auto from_info = AllowedValues(node, "#ComputerSystem.Reset", "ResetType", cray).value();
  EXPECT_FALSE(from_info.empty());
  EXPECT_EQ(core::Code::kFailedPrecondition,
            AllowedValues(node, "#ComputerSystem.Nonsense", "X", cray).error().code);
  EXPECT_EQ(core::Code::kFailedPrecondition, ActionTarget(node, "#Nope", "nothing").error().code);
}

TEST(Redfish, MemberLinksRejectsWrongShapes) {
  EXPECT_EQ(2u, MemberLinks(json::parse(R"({"Members": [{"@odata.id": "/a"}, {"@odata.id": "/b"}]})").as_object())
                    .value()
                    .size());
  EXPECT_FALSE(MemberLinks(json::parse(R"({"Members": "all of them"})").as_object()));
  EXPECT_FALSE(MemberLinks(json::parse(R"({"Members": [{"id": 1}]})").as_object()));
}

TEST(Redfish, ParsesTasks) {
  auto running = ParseTask(json::parse(R"({"TaskState": "Running", "PercentComplete": 40})").as_object()).value();
  EXPECT_FALSE(running.done);
  EXPECT_EQ(40, running.percent);
  auto failed = ParseTask(json::parse(R"({"TaskState": "Exception", "TaskStatus": "Critical",
      "Messages": [{"Message": "Verification failed"}]})").as_object()).value();
  EXPECT_TRUE(failed.done);
  EXPECT_FALSE(failed.ok);
  EXPECT_EQ("Verification failed", failed.message);
  EXPECT_TRUE(ParseTask(json::parse(R"({"TaskState": "Completed"})").as_object()).value().ok);
  EXPECT_FALSE(ParseTask(json::parse(R"({"TaskState": 3})").as_object()));
}

TEST(RedfishInventory, RackmountServerHasCpusMemoryNicsDrivesFirmware) {
  auto inv = ReadRedfishInventory(MockupFetcher("dmtf-public-rackmount1"), "/redfish/v1/Systems/437XR1138R2").value();
  EXPECT_EQ("437XR1138R2", inv.server.at("serial").as_string());
  EXPECT_EQ("Contoso", inv.server.at("vendor").as_string());
  EXPECT_EQ(96, inv.server.at("memory_gib").as_int64());
  EXPECT_EQ("P79 v1.45 (12/06/2017)", inv.server.at("bios_version").as_string());
  EXPECT_FALSE(PartsOf(inv, "cpu").empty());
  EXPECT_FALSE(PartsOf(inv, "memory_module").empty());
  auto nics = PartsOf(inv, "nic");
  ASSERT_FALSE(nics.empty());
  EXPECT_EQ(17u, nics[0].attrs.at("mac").as_string().size());
  EXPECT_FALSE(PartsOf(inv, "drive").empty());
  EXPECT_FALSE(PartsOf(inv, "psu").empty());
  EXPECT_FALSE(PartsOf(inv, "fan").empty());
  EXPECT_FALSE(PartsOf(inv, "sensor").empty());
  auto fw = PartsOf(inv, "firmware");
  bool bios = false;
  for (const auto& f : fw) bios = bios || f.attrs.at("component").as_string() == "BIOS";
  EXPECT_TRUE(bios);
  EXPECT_TRUE(inv.bmc.contains("firmware_version"));
}

TEST(RedfishInventory, TowerHasGpusAndPcieDevices) {
  auto inv = ReadRedfishInventory(MockupFetcher("dmtf-public-tower"), "/redfish/v1/Systems/437XR1238R2").value();
  EXPECT_EQ(2, inv.server.at("gpu_count").as_int64());
  EXPECT_EQ(2u, PartsOf(inv, "gpu").size());
  EXPECT_FALSE(PartsOf(inv, "pcie_device").empty());
}

TEST(RedfishInventory, HpeCrayNodeHasFourA100s) {
  auto inv = ReadRedfishInventory(MockupFetcher("hpe-cray-ex235n"), "/redfish/v1/Systems/Node0").value();
  auto gpus = PartsOf(inv, "gpu");
  ASSERT_EQ(4u, gpus.size());
  EXPECT_NE(std::string::npos, inv.server.at("gpu_model").as_string().find("A100"));
  EXPECT_EQ(4, inv.server.at("gpu_count").as_int64());
  EXPECT_GE(PartsOf(inv, "firmware").size(), 10u);
}

TEST(RedfishInventory, UnreadableSystemIsAnError) {
  EXPECT_FALSE(ReadRedfishInventory(MockupFetcher("dmtf-public-tower"), "/redfish/v1/Systems/missing"));
}

TEST(Campaigns, VersionsCompareNumerically) {
  EXPECT_LT(CompareVersions("2.9", "2.10"), 0);
  EXPECT_GT(CompareVersions("2.10.1", "2.10"), 0);
  EXPECT_EQ(0, CompareVersions("1.2.3", "1.2.3"));
  EXPECT_LT(CompareVersions("1.2-a", "1.2-b"), 0);
}

TEST(Campaigns, SpecIsValidatedStrictly) {
  auto good = json::parse(R"({"component": "BIOS", "target_version": "2.3.0",
      "image_uri": "http://img/bios.bin", "checksum": "sha256:)" + std::string(64, 'a') + R"(",
      "selection": {"rack": "A01", "version_below": "2.3"}, "batch_size": 5, "failure_budget": 2})").as_object();
  auto spec = CampaignSpecFromJson(good).value();
  EXPECT_EQ(5, spec.batch_size);
  EXPECT_EQ(1, spec.canary_size);
  auto round = CampaignSpecFromJson(ToJson(spec)).value();
  EXPECT_EQ("A01", round.rack.value());
  auto bad = good;
  bad["checksum"] = "md5:abc";
  EXPECT_EQ("checksum", CampaignSpecFromJson(bad).error().field);
  bad = good;
  bad["selection"] = json::object{};
  EXPECT_EQ("selection", CampaignSpecFromJson(bad).error().field);
  bad = good;
  bad["batch_size"] = 0;
  EXPECT_EQ("batch_size", CampaignSpecFromJson(bad).error().field);
  bad = good;
  bad["window_start"] = "2026-11-25T10:00:00Z";
  EXPECT_EQ("window_end", CampaignSpecFromJson(bad).error().field);
  bad = good;
  bad["surprise"] = 1;
  EXPECT_FALSE(CampaignSpecFromJson(bad));
}

}  // namespace
}  // namespace gantry::hardware
