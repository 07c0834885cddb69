// The Redfish driver, the fan-out and the CMDB inventory against emulated BMCs: the stateful
// Redfish simulator in tests/redfish (it stands in for real BMCs, serving the DMTF and HPE Cray
// mockups), with its faults: timeouts, 5xx, malformed and truncated JSON, wrong types, huge
// bodies, wrong credentials and bad TLS.
#include <gtest/gtest.h>

#include <filesystem>

#include "audit/service.h"
#include "cmdb/service.h"
#include "hardware/inventory.h"
#include "hardware/redfish.h"
#include "hardware/service.h"
#include "support/bmc_sims.h"
#include "support/test_db.h"

namespace gantry::hardware {
namespace {

using namespace std::chrono_literals;
namespace json = core::json;

constexpr char kRack[] = "dmtf-public-rackmount1";
constexpr char kTower[] = "dmtf-public-tower";
constexpr char kCray[] = "hpe-cray-ex235n";

DriverOptions Fast() {
  DriverOptions o;
  o.timeout = 1500ms;
  o.connect_timeout = 1000ms;
  o.attempts = 2;
  o.backoff = 50ms;
  o.max_body = 1 << 20;
  return o;
}

// BMC 0: rackmount1, 1: tower, 2: HPE Cray EX235n, 3..: rackmount1 again (fault targets).
class RedfishTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    testing::RedfishSimOptions o;
    o.mockups = {kRack, kTower, kCray};
    o.count = 9;
    o.task_seconds = 0.5;
    sim_ = new testing::RedfishSim(o);
  }
  static void TearDownTestSuite() {
    delete sim_;
    sim_ = nullptr;
  }
  Endpoint Ep(int i, const std::string& password = "password") {
    return Endpoint{"bmc-" + std::to_string(i), sim_->Address(i), Protocol::kRedfish, std::nullopt,
                    {"admin", password}};
  }
  static testing::RedfishSim* sim_;
};
testing::RedfishSim* RedfishTest::sim_ = nullptr;

TEST_F(RedfishTest, PowerStateAndResetChangeTheBmc) {
  RedfishDriver d(Ep(0), Fast());
  EXPECT_EQ("on", d.PowerState().value());
  ASSERT_TRUE(d.Power(PowerAction::kForceOff));
  EXPECT_EQ("off", d.PowerState().value());
  ASSERT_TRUE(d.Power(PowerAction::kOn));
  EXPECT_EQ("on", d.PowerState().value());
  ASSERT_TRUE(d.Power(PowerAction::kOff));  // GracefulShutdown
  auto state = sim_->State(0);
  EXPECT_EQ("Off", state.at("systems").at("/redfish/v1/Systems/437XR1138R2").at("PowerState").as_string());
}

TEST_F(RedfishTest, UnsupportedActionsAreReportedFromAllowableValues) {
  RedfishDriver rack(Ep(0), Fast());
  auto cycle = rack.Power(PowerAction::kCycle);  // rackmount1 does not list PowerCycle
  ASSERT_FALSE(cycle);
  EXPECT_EQ("unsupported", FaultOf(cycle.error()));
  EXPECT_NE(std::string::npos, cycle.error().message.find("PowerCycle"));
  RedfishDriver cray(Ep(2), Fast());
  auto boot = cray.SetBootDevice(BootDevice::kPxe, true);  // EX235n: BootOrder only
  ASSERT_FALSE(boot);
  EXPECT_EQ("unsupported", FaultOf(boot.error()));
  EXPECT_EQ("unsupported", FaultOf(cray.InsertMedia("http://img/x.iso").error()));
  // The EX235n lists its reset types in an ActionInfo; On is among them.
  EXPECT_TRUE(cray.Power(PowerAction::kOn)) << cray.Power(PowerAction::kOn).error().message;
}

TEST_F(RedfishTest, BootOverrideIsPatchedWithTheETag) {
  RedfishDriver d(Ep(1), Fast());
  ASSERT_TRUE(d.SetBootDevice(BootDevice::kPxe, true));
  auto state = sim_->State(1);
  auto boot = state.at("systems").at("/redfish/v1/Systems/437XR1238R2").at("Boot").as_object();
  EXPECT_EQ("Pxe", boot.at("BootSourceOverrideTarget").as_string());
  EXPECT_EQ("Once", boot.at("BootSourceOverrideEnabled").as_string());
  EXPECT_TRUE(state.at("last_if_match").is_string());  // If-Match was sent
  ASSERT_TRUE(d.SetBootDevice(BootDevice::kBios, false));
  boot = sim_->State(1).at("systems").at("/redfish/v1/Systems/437XR1238R2").at("Boot").as_object();
  EXPECT_EQ("BiosSetup", boot.at("BootSourceOverrideTarget").as_string());
  EXPECT_EQ("Continuous", boot.at("BootSourceOverrideEnabled").as_string());
}

TEST_F(RedfishTest, SelReadAndClear) {
  RedfishDriver d(Ep(0), Fast());
  auto before = d.ReadSel(100).value();
  EXPECT_FALSE(before.empty());
  ASSERT_TRUE(d.ClearSel());
  EXPECT_TRUE(d.ReadSel(100).value().empty());
}

TEST_F(RedfishTest, VirtualMediaInsertAndEject) {
  RedfishDriver d(Ep(0), Fast());
  ASSERT_TRUE(d.InsertMedia("http://images/rescue.iso"));
  bool inserted = false;
  auto state = sim_->State(0);
  for (const auto& [path, m] : state.at("media").as_object()) {
    if (m.at("Image").is_string() && m.at("Image").as_string() == "http://images/rescue.iso") inserted = true;
  }
  EXPECT_TRUE(inserted);
  ASSERT_TRUE(d.EjectMedia());
}

TEST_F(RedfishTest, SessionAuthLogsInAndOut) {
  Endpoint ep = Ep(1);
  ep.auth = "session";
  {
    RedfishDriver d(ep, Fast());
    EXPECT_TRUE(d.PowerState());
    EXPECT_EQ(1, sim_->State(1).at("sessions").as_int64());
  }
  EXPECT_EQ(0, sim_->State(1).at("sessions").as_int64());
  ep.credentials.password = "wrong-secret-123";
  RedfishDriver bad(ep, Fast());
  auto r = bad.PowerState();
  ASSERT_FALSE(r);
  EXPECT_EQ("auth_failed", FaultOf(r.error()));
  EXPECT_EQ(std::string::npos, r.error().message.find("wrong-secret-123"));
}

TEST_F(RedfishTest, FirmwareUpdateFollowsTheTask) {
  RedfishDriver d(Ep(0), Fast());
  auto before = d.FirmwareVersions().value();
  ASSERT_TRUE(before.contains("BIOS"));
  auto task = d.StartUpdate({"BIOS", "http://images/bios.bin?version=9.9.9", "sha256:00"}).value();
  ASSERT_FALSE(task.empty());
  TaskStatus st;
  for (int i = 0; i < 100 && !st.done; ++i) {
    st = d.PollTask(task).value();
    if (!st.done) std::this_thread::sleep_for(100ms);
  }
  EXPECT_TRUE(st.ok) << st.state << " " << st.message;
  EXPECT_EQ("9.9.9", d.FirmwareVersions().value().at("BIOS"));
}

TEST_F(RedfishTest, TaskMonitorOnAnotherOriginIsNotFollowed) {
  sim_->SetFault(6, "foreign_location");
  RedfishDriver d(Ep(6), Fast());
  auto task = d.StartUpdate({"BIOS", "http://images/bios.bin?version=1", "sha256:00"});
  sim_->SetFault(6, "none");
  ASSERT_TRUE(task) << task.error().message;
  auto polled = d.PollTask(*task);
  ASSERT_FALSE(polled);
  EXPECT_EQ("bad_response", FaultOf(polled.error()));
  EXPECT_NE(std::string::npos, polled.error().message.find("another origin"));
}

struct FaultCase {
  const char* fault;
  const char* expected;
};

class RedfishFaultTest : public RedfishTest, public ::testing::WithParamInterface<FaultCase> {};

TEST_P(RedfishFaultTest, BadBmcGivesAClearErrorNotACrashOrHang) {
  const int bmc = 3;
  sim_->SetFault(bmc, GetParam().fault);
  RedfishDriver d(Ep(bmc), Fast());
  auto r = d.PowerState();
  sim_->SetFault(bmc, "none");
  ASSERT_FALSE(r) << GetParam().fault;
  EXPECT_EQ(GetParam().expected, FaultOf(r.error())) << r.error().message;
  EXPECT_EQ(std::string::npos, r.error().message.find("password"));
}

INSTANTIATE_TEST_SUITE_P(Faults, RedfishFaultTest,
                         ::testing::Values(FaultCase{"timeout", "timeout"}, FaultCase{"http500", "bmc_error"},
                                           FaultCase{"malformed", "bad_response"},
                                           FaultCase{"truncated", "bad_response"},
                                           FaultCase{"wrong_types", "bad_response"},
                                           FaultCase{"huge", "bad_response"},
                                           FaultCase{"badauth", "auth_failed"}),
                         [](const auto& info) { return std::string(info.param.fault); });

TEST_F(RedfishTest, FanOutSurvivesDeadAndBrokenBmcs) {
  auto db = testing::NewTestDatabase(store::Backend::kSqlite);
  core::ManualClock clock(1'700'000'000LL * core::kNanosPerSecond);
  audit::Service audit(*db, clock);
  Service hw(*db, audit, clock, CredentialBox::FromKey(std::string(32, 'k')).value(),
             std::make_shared<RealDriverFactory>(Fast()));
  auto rc = core::RequestContext::System("test");
  std::vector<std::string> nodes;
  for (int i = 4; i < 9; ++i) {
    NewBmc b{"bmc-" + std::to_string(i), sim_->Address(i), Protocol::kRedfish, "node-" + std::to_string(i),
             std::nullopt, {"admin", "password"}};
    ASSERT_TRUE(hw.AddBmc(rc, b));
    nodes.push_back("node-" + std::to_string(i));
  }
  sim_->SetFault(4, "timeout");
  sim_->SetFault(5, "wrong_types");
  FanOutOptions o;
  o.concurrency = 8;
  auto results = hw.PowerMany(rc, nodes, std::nullopt, o);
  sim_->SetFault(4, "none");
  sim_->SetFault(5, "none");
  ASSERT_EQ(5u, results.size());
  EXPECT_EQ("timeout", results[0].fault);
  EXPECT_EQ("bad_response", results[1].fault);
  for (int i = 2; i < 5; ++i) EXPECT_TRUE(results[i].ok) << results[i].message;
  EXPECT_EQ("timeout", hw.GetBmc(rc, "bmc-4").value().health);
  EXPECT_EQ("bad_response", hw.GetBmc(rc, "bmc-5").value().health);
  EXPECT_EQ("ok", hw.GetBmc(rc, "bmc-6").value().health);
}

TEST_F(RedfishTest, InventoryGoesIntoTheCmdb) {
  auto db = testing::NewTestDatabase(store::Backend::kSqlite);
  core::ManualClock clock(1'700'000'000LL * core::kNanosPerSecond);
  audit::Service audit(*db, clock);
  cmdb::Service cmdb(*db, audit, clock);
  ASSERT_TRUE(cmdb.Init());
  ASSERT_TRUE(EnsureInventoryTypes(cmdb));
  ASSERT_TRUE(EnsureInventoryTypes(cmdb));  // idempotent
  Service hw(*db, audit, clock, CredentialBox::FromKey(std::string(32, 'k')).value(),
             std::make_shared<RealDriverFactory>(Fast()));
  auto rc = core::RequestContext::System("test");
  ASSERT_TRUE(hw.AddBmc(rc, NewBmc{"bmc-rack", sim_->Address(0), Protocol::kRedfish, "node-rack", std::nullopt, {"admin", "password"}}));
  ASSERT_TRUE(hw.AddBmc(rc, NewBmc{"bmc-cray", sim_->Address(2), Protocol::kRedfish, "node-cray", std::string("Node0"), {"admin", "password"}}));
  FanOutOptions o;
  auto results = RefreshInventory(hw, cmdb, rc, {"node-rack", "node-cray"}, o);
  for (const auto& r : results) ASSERT_TRUE(r.ok) << r.node << ": " << r.message;

  auto server = cmdb.GetCi(rc, "server/node-cray").value();
  EXPECT_EQ(4, server.attrs.at("gpu_count").as_int64());
  EXPECT_NE(std::string::npos, server.attrs.at("gpu_model").as_string().find("A100"));
  cmdb::CiFilter f;
  f.type = "gpu";
  f.q = "node-cray";
  EXPECT_EQ(4u, cmdb.ListCis(rc, f).value().size());
  auto rels = cmdb.RelationsOf(rc, "server/node-rack").value();
  int contains = 0, parts = 0;
  for (const auto& r : rels) {
    contains += r.type == "contains";
    parts += r.type == kHasPart;
    EXPECT_EQ("bmc", r.source);
  }
  EXPECT_GE(contains, 2);  // bmc, NICs
  EXPECT_GE(parts, 5);     // CPUs, memory, drives, PSUs, fans, sensors, firmware
  auto bios = cmdb.GetCi(rc, "firmware/node-rack:fw-BIOS").value();
  EXPECT_TRUE(bios.attrs.at("version").is_string());
  auto nic = cmdb.ListCis(rc, cmdb::CiFilter{.type = "nic", .q = "node-rack"}).value();
  ASSERT_FALSE(nic.empty());
  EXPECT_TRUE(nic[0].attrs.contains("mac"));
  // A second refresh changes nothing and adds no relationship.
  auto again = RefreshInventory(hw, cmdb, rc, {"node-rack"}, o);
  ASSERT_TRUE(again[0].ok) << again[0].message;
  EXPECT_EQ(0, again[0].data.at("relations").as_int64());
  EXPECT_EQ(rels.size(), cmdb.RelationsOf(rc, "server/node-rack").value().size());
}

TEST(RedfishTls, VerificationUsesTheCaOrIsExplicitlyOff) {
  std::string dir = testing::MakeTempDir("bmc-tls");
  auto gen = testing::Run({"openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj",
                           "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", dir + "/key.pem",
                           "-out", dir + "/cert.pem"});
  ASSERT_EQ(0, gen.status) << gen.output;
  testing::RedfishSimOptions so;
  so.tls_cert = dir + "/cert.pem";
  so.tls_key = dir + "/key.pem";
  testing::RedfishSim sim(so);
  Endpoint ep{"bmc-tls", sim.Address(0), Protocol::kRedfish, std::nullopt, {"admin", "password"}};
  {
    RedfishDriver untrusted(ep, Fast());  // self-signed, no CA given: refused
    auto r = untrusted.PowerState();
    ASSERT_FALSE(r);
    EXPECT_EQ("unreachable", FaultOf(r.error()));
    EXPECT_NE(std::string::npos, r.error().message.find("TLS"));
  }
  ep.ca_file = dir + "/cert.pem";
  {
    RedfishDriver trusted(ep, Fast());
    EXPECT_EQ("on", trusted.PowerState().value());
  }
  ep.ca_file.clear();
  ep.tls_verify = false;
  RedfishDriver insecure(ep, Fast());
  EXPECT_EQ("on", insecure.PowerState().value());
}

}  // namespace
}  // namespace gantry::hardware
