// The IPMI driver and the service against a real BMC simulator: OpenIPMI's ipmi_sim, started by
// the test (support/bmc_sims.h), with a chassis-control script that keeps power and boot device.
#include <gtest/gtest.h>

#include "audit/service.h"
#include "hardware/ipmi.h"
#include "hardware/service.h"
#include "support/bmc_sims.h"
#include "support/test_db.h"

namespace gantry::hardware {
namespace {

using namespace std::chrono_literals;

class IpmiTest : public ::testing::Test {
 protected:
  Endpoint Ep(const std::string& password = "password") {
    return Endpoint{"ipmi-bmc", sim_.Address(), Protocol::kIpmi, std::nullopt, {"admin", password}};
  }
  DriverOptions Options() {
    DriverOptions o;
    o.timeout = 4000ms;
    o.attempts = 2;
    return o;
  }
  testing::IpmiSim sim_;
};

TEST_F(IpmiTest, PowerControlReachesTheChassis) {
  IpmiDriver d(Ep(), Options());
  ASSERT_TRUE(d.Power(PowerAction::kOff));
  EXPECT_EQ("off", d.PowerState().value());
  ASSERT_TRUE(d.Power(PowerAction::kOn));
  EXPECT_EQ("on", sim_.Power());
  EXPECT_EQ("on", d.PowerState().value());
  ASSERT_TRUE(d.Power(PowerAction::kReset));
  ASSERT_TRUE(d.Power(PowerAction::kCycle));
  ASSERT_TRUE(d.Power(PowerAction::kForceOff));
  EXPECT_EQ("off", sim_.Power());
  EXPECT_NE(std::string::npos, sim_.ChassisLog().find("set power 0")) << sim_.ChassisLog();
}

TEST_F(IpmiTest, BootDeviceIsSet) {
  IpmiDriver d(Ep(), Options());
  ASSERT_TRUE(d.SetBootDevice(BootDevice::kPxe, true));
  EXPECT_EQ("pxe", sim_.BootDevice());
  ASSERT_TRUE(d.SetBootDevice(BootDevice::kDisk, false));
  EXPECT_EQ("default", sim_.BootDevice());  // ipmi_sim names the disk "default"
}

TEST_F(IpmiTest, ProbeAndSel) {
  IpmiDriver d(Ep(), Options());
  auto probe = d.Probe().value();
  EXPECT_TRUE(probe.at("reachable").as_bool());
  auto sel = d.ReadSel(100).value();
  ASSERT_EQ(1u, sel.size());
  EXPECT_NE(std::string::npos, sel[0].message.find("Temperature")) << sel[0].message;
  ASSERT_TRUE(d.ClearSel());
  EXPECT_TRUE(d.ReadSel(100).value().empty());
}

TEST_F(IpmiTest, WrongPasswordIsReportedWithoutRepeatingIt) {
  IpmiDriver d(Ep("not-the-password-xyz"), Options());
  auto r = d.PowerState();
  ASSERT_FALSE(r);
  EXPECT_EQ("auth_failed", FaultOf(r.error())) << r.error().message;
  EXPECT_EQ(std::string::npos, r.error().message.find("not-the-password-xyz"));
}

TEST_F(IpmiTest, UnreachableBmcCostsItsTimeout) {
  Endpoint ep = Ep();
  ep.address = "127.0.0.1:" + std::to_string(testing::FreePort());
  DriverOptions o = Options();
  o.timeout = 2000ms;
  o.attempts = 1;
  IpmiDriver d(ep, o);
  auto r = d.PowerState();
  ASSERT_FALSE(r);
  auto fault = FaultOf(r.error());
  EXPECT_TRUE(fault == "unreachable" || fault == "timeout") << fault << ": " << r.error().message;
}

TEST_F(IpmiTest, VirtualMediaAndUpdatesAreUnsupported) {
  IpmiDriver d(Ep(), Options());
  EXPECT_EQ("unsupported", FaultOf(d.InsertMedia("http://x/y.iso").error()));
  EXPECT_EQ("unsupported", FaultOf(d.StartUpdate({"BIOS", "http://x", ""}).error()));
}

TEST_F(IpmiTest, ServicePowersAndBootsANodeByItsServerName) {
  auto db = testing::NewTestDatabase(store::Backend::kSqlite);
  core::ManualClock clock(1'700'000'000LL * core::kNanosPerSecond);
  audit::Service audit(*db, clock);
  Service hw(*db, audit, clock, CredentialBox::FromKey(std::string(32, 'k')).value(),
             std::make_shared<RealDriverFactory>(Options()));
  auto rc = core::RequestContext::System("lifecycle");
  NewBmc b;
  b.name = "bmc-node07";
  b.address = sim_.Address();
  b.protocol = Protocol::kIpmi;
  b.server = "node07";
  b.credentials = {"admin", "password"};
  ASSERT_TRUE(hw.AddBmc(rc, b));
  ASSERT_TRUE(hw.SetBootDevice(rc, "node07", BootDevice::kPxe, true));
  ASSERT_TRUE(hw.Power(rc, "node07", PowerAction::kOn));
  EXPECT_EQ("pxe", sim_.BootDevice());
  EXPECT_EQ("on", hw.PowerStatus(rc, "node07").value());
  auto bmc = hw.GetBmc(rc, "node07").value();
  EXPECT_EQ("ok", bmc.health);
  EXPECT_EQ("on", bmc.power_state);
  EXPECT_EQ("unsupported", FaultOf(hw.InsertMedia(rc, "node07", "http://x/y.iso").error()));
}

}  // namespace
}  // namespace gantry::hardware
