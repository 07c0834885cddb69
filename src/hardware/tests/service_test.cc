// The hardware service on both backends: BMC records (sealed credentials that never come back,
// audit in the same transaction, conflicts, permissions) and the fan-out engine.
//
// The fan-out tests use a scripted in-process Driver: they check the engine (every target gets a
// result, a slow target costs only its own time, health marks and audit events are written),
// not a protocol — the real drivers are tested against emulated Redfish BMCs and a real
// ipmi_sim in hardware_redfish_test and hardware_ipmi_test.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "audit/service.h"
#include "hardware/service.h"
#include "support/test_db.h"

namespace gantry::hardware {
namespace {

namespace json = core::json;
using namespace std::chrono_literals;

// Answers power status after `delay` for BMCs whose name starts with "slow", fails "dead*" with
// a timeout, and records how many run at once.
class ScriptedDriver final : public Driver {
 public:
  ScriptedDriver(Endpoint ep, std::atomic<int>& running, std::atomic<int>& peak)
      : ep_(std::move(ep)), running_(running), peak_(peak) {}
  core::Result<std::string> PowerState() override {
    int now = ++running_;
    int p = peak_.load();
    while (now > p && !peak_.compare_exchange_weak(p, now)) {
    }
    std::this_thread::sleep_for(ep_.name.starts_with("slow") ? 300ms : 20ms);
    --running_;
    if (ep_.name.starts_with("dead")) return core::Error(core::Code::kDeadlineExceeded, "BMC " + ep_.name + " did not answer");
    if (ep_.credentials.password != "pw-" + ep_.name) return core::Unauthenticated("BMC " + ep_.name + " rejected the credentials");
    return std::string("on");
  }
  core::Result<json::object> Probe() override { return json::object{{"reachable", true}}; }
  core::Status Power(PowerAction) override { return {}; }
  core::Status SetBootDevice(BootDevice, bool) override {
    return core::FailedPrecondition("BMC " + ep_.name + " does not support BootSourceOverrideTarget=Pxe");
  }
  core::Result<std::vector<SelEntry>> ReadSel(int) override { return std::vector<SelEntry>{}; }
  core::Status ClearSel() override { return {}; }
  core::Status InsertMedia(const std::string&) override { return {}; }
  core::Status EjectMedia() override { return {}; }
  core::Result<Inventory> ReadInventory() override { return Inventory{}; }
  core::Result<std::map<std::string, std::string>> FirmwareVersions() override { return std::map<std::string, std::string>{}; }
  core::Result<std::string> StartUpdate(const UpdateRequest&) override { return std::string(); }
  core::Result<TaskStatus> PollTask(const std::string&) override { return TaskStatus{}; }

 private:
  Endpoint ep_;
  std::atomic<int>& running_;
  std::atomic<int>& peak_;
};

class ScriptedFactory final : public DriverFactory {
 public:
  std::unique_ptr<Driver> Make(const Endpoint& ep) const override {
    return std::make_unique<ScriptedDriver>(ep, running, peak);
  }
  mutable std::atomic<int> running{0}, peak{0};
};

class HardwareServiceTest : public ::testing::TestWithParam<store::Backend> {
 protected:
  HardwareServiceTest()
      : db_(testing::NewTestDatabase(GetParam())),
        audit_(*db_, clock_),
        factory_(std::make_shared<ScriptedFactory>()),
        hw_(*db_, audit_, clock_, CredentialBox::FromKey(std::string(32, 'k')).value(), factory_) {
    admin_.principal.user_id = 1;
    admin_.principal.username = "root";
    admin_.principal.roles = {core::Role::kAdmin};
    admin_.principal.auth_method = "token";
    viewer_ = admin_;
    viewer_.principal.username = "vera";
    viewer_.principal.roles = {core::Role::kViewer};
  }

  Bmc Add(const std::string& name, const std::string& server) {
    NewBmc b;
    b.name = name;
    b.address = "10.0.0.1";
    b.protocol = Protocol::kRedfish;
    b.server = server;
    b.credentials = {"admin", "pw-" + name};
    auto r = hw_.AddBmc(admin_, b);
    EXPECT_TRUE(r) << (r ? "" : r.error().message);
    return r ? *r : Bmc{};
  }

  std::vector<audit::Event> Events(const std::string& action) {
    audit::SearchFilter f;
    f.action = action;
    f.limit = 1000;
    return audit_.Search(f).value();
  }

  std::unique_ptr<store::Database> db_;
  core::ManualClock clock_{1'700'000'000LL * core::kNanosPerSecond};
  audit::Service audit_;
  std::shared_ptr<ScriptedFactory> factory_;
  Service hw_;
  core::RequestContext admin_, viewer_;
};

TEST_P(HardwareServiceTest, CredentialsAreSealedAndNeverReturnedOrAudited) {
  auto b = Add("bmc-a", "node-a");
  auto rs = db_->Query("SELECT credentials FROM bmcs WHERE name = 'bmc-a'").value();
  std::string stored = rs.rows.at(0).Str(0);
  EXPECT_EQ(std::string::npos, stored.find("pw-bmc-a"));
  std::string api = json::serialize(ToJson(b));
  EXPECT_EQ(std::string::npos, api.find("pw-bmc-a"));
  EXPECT_EQ(std::string::npos, api.find("credentials"));
  auto events = Events("bmc.create");
  ASSERT_EQ(1u, events.size());
  EXPECT_EQ(std::string::npos, events[0].details.find("pw-bmc-a"));
  EXPECT_EQ("bmc-a", events[0].target);
}

TEST_P(HardwareServiceTest, RecordsAreCheckedAndConflictsRefused) {
  Add("bmc-a", "node-a");
  NewBmc dup;
  dup.name = "bmc-a";
  dup.address = "10.0.0.2";
  dup.credentials = {"u", "p"};
  EXPECT_EQ(core::Code::kConflict, hw_.AddBmc(admin_, dup).error().code);
  dup.name = "bmc-b";
  dup.server = "node-a";  // already controlled by bmc-a
  EXPECT_EQ(core::Code::kConflict, hw_.AddBmc(admin_, dup).error().code);
  dup.server = "node-b";
  dup.credentials.password = "";
  EXPECT_EQ("password", hw_.AddBmc(admin_, dup).error().field);
  dup.credentials.password = "p";
  dup.address = "10.0.0.2/redfish";
  EXPECT_EQ("address", hw_.AddBmc(admin_, dup).error().field);
  dup.address = "10.0.0.2";
  EXPECT_EQ(core::Code::kPermissionDenied, hw_.AddBmc(viewer_, dup).error().code);
  EXPECT_TRUE(hw_.AddBmc(admin_, dup));
  // By name, by server, by id.
  EXPECT_EQ("bmc-b", hw_.GetBmc(viewer_, "node-b").value().name);
  auto id = hw_.GetBmc(viewer_, "bmc-a").value().id;
  EXPECT_EQ("bmc-a", hw_.GetBmc(viewer_, std::to_string(id)).value().name);
  EXPECT_EQ(2u, hw_.ListBmcs(viewer_, std::nullopt, 100).value().size());
  EXPECT_EQ(core::Code::kPermissionDenied, hw_.RemoveBmc(viewer_, "bmc-a").error().code);
  EXPECT_TRUE(hw_.RemoveBmc(admin_, "bmc-a"));
  EXPECT_EQ(core::Code::kNotFound, hw_.GetBmc(admin_, "bmc-a").error().code);
  EXPECT_EQ(1u, Events("bmc.delete").size());
}

TEST_P(HardwareServiceTest, FanOutGivesEveryTargetAResultAndMarksHealth) {
  for (int i = 0; i < 20; ++i) Add("bmc-" + std::to_string(i), "node-" + std::to_string(i));
  Add("dead-1", "node-dead");
  Add("slow-1", "node-slow");
  std::vector<std::string> targets = {"node-missing", "node-dead", "node-slow"};
  for (int i = 0; i < 20; ++i) targets.push_back("node-" + std::to_string(i));
  FanOutOptions o;
  o.concurrency = 4;
  std::atomic<int> progress_calls{0};
  o.progress = [&](int, int, int total) {
    EXPECT_EQ(23, total);
    ++progress_calls;
  };
  auto results = hw_.PowerMany(viewer_, targets, std::nullopt, o);
  ASSERT_EQ(23u, results.size());
  EXPECT_EQ(23, progress_calls.load());
  EXPECT_LE(factory_->peak.load(), 4);
  EXPECT_EQ("not_found", results[0].fault);
  EXPECT_EQ("timeout", results[1].fault);
  EXPECT_TRUE(results[2].ok);
  for (size_t i = 3; i < results.size(); ++i) {
    EXPECT_TRUE(results[i].ok) << results[i].node << ": " << results[i].message;
    EXPECT_EQ("on", results[i].data.at("power_state").as_string());
  }
  EXPECT_EQ("timeout", hw_.GetBmc(admin_, "dead-1").value().health);
  auto ok = hw_.GetBmc(admin_, "bmc-3").value();
  EXPECT_EQ("ok", ok.health);
  EXPECT_EQ("on", ok.power_state);
  EXPECT_TRUE(Events("node.power").empty());  // a status read changes nothing to audit
}

TEST_P(HardwareServiceTest, ActionsAreAuditedWithTheirOutcome) {
  Add("bmc-1", "node-1");
  Add("dead-1", "node-dead");
  FanOutOptions o;
  auto results = hw_.PowerMany(admin_, {"node-1", "node-dead"}, PowerAction::kOn, o);
  EXPECT_TRUE(results[0].ok);
  auto events = Events("node.power");
  ASSERT_EQ(2u, events.size());
  int failures = 0;
  for (const auto& e : events) failures += e.result == audit::kFailure;
  EXPECT_EQ(0, failures);  // Power() of the scripted driver succeeds for both
  EXPECT_EQ(core::Code::kPermissionDenied,
            Service::PublicError(hw_.PowerMany(viewer_, {"node-1"}, PowerAction::kOff, o).at(0)).code);
}

TEST_P(HardwareServiceTest, SingleTargetErrorsAreTyped) {
  Add("bmc-1", "node-1");
  Add("dead-1", "node-dead");
  EXPECT_EQ("on", hw_.PowerStatus(admin_, "node-1").value());
  EXPECT_EQ(core::Code::kDeadlineExceeded, hw_.PowerStatus(admin_, "node-dead").error().code);
  EXPECT_EQ(core::Code::kNotFound, hw_.PowerStatus(admin_, "node-none").error().code);
  auto unsupported = hw_.SetBootDevice(admin_, "node-1", BootDevice::kPxe, true);
  EXPECT_EQ(core::Code::kFailedPrecondition, unsupported.error().code);
  EXPECT_EQ(core::Code::kPermissionDenied, hw_.Power(viewer_, "node-1", PowerAction::kOn).error().code);
  // The failed boot change is in the audit trail as a failure.
  auto events = Events("node.boot");
  ASSERT_EQ(1u, events.size());
  EXPECT_EQ(audit::kFailure, events[0].result);
}

GANTRY_INSTANTIATE_BACKENDS(HardwareServiceTest);

}  // namespace
}  // namespace gantry::hardware
