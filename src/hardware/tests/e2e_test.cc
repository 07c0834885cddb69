// Hardware control end to end: a real `gantry serve`, the `gantry` CLI, emulated Redfish BMCs
// (tests/redfish/redfish_sim.py stands in for real BMCs) — power, boot, inventory into the
// CMDB, and a firmware campaign across 20 BMCs with 2 planted failures and a restart of Gantry
// in the middle.
#include <gtest/gtest.h>

#include <ctime>
#include <thread>

#include "integration/gantry_server.h"
#include "support/bmc_sims.h"
#include "support/test_db.h"

namespace gantry::testing {
namespace {

namespace json = boost::json;
using namespace std::chrono_literals;

// Now in RFC 3339 (an alert that fires now).
std::string Now() {
  auto t = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", std::gmtime(&t));
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                std::chrono::system_clock::now().time_since_epoch()).count() % 1000;
  char frac[8];
  std::snprintf(frac, sizeof frac, ".%03dZ", static_cast<int>(ms));
  return std::string(buf) + frac;
}

std::string Pad(int i) { return (i < 10 ? "0" : "") + std::to_string(i); }

class HardwareE2e : public ::testing::Test {
 protected:
  RunResult Cli(GantryServer& s, std::vector<std::string> args, const std::string& in = {}) {
    args.insert(args.end(), {"--server", s.url(), "--token", s.token()});
    return RunGantry(args, in, 120s);
  }
  void AddBmc(GantryServer& s, const std::string& name, const std::string& address, const std::string& server,
              const std::string& extra = "") {
    auto r = s.Post("/api/v1/bmcs", R"({"name": ")" + name + R"(", "address": ")" + address +
                                         R"(", "protocol": "redfish", "server": ")" + server +
                                         R"(", "username": "admin", "password": "password")" + extra + "}");
    ASSERT_EQ(201, r.status) << r.Describe();
  }
  json::object WaitJob(GantryServer& s, int64_t id) {
    for (int i = 0; i < 600; ++i) {
      auto job = s.Get("/api/v1/jobs/" + std::to_string(id)).Object();
      auto state = std::string(job.at("state").as_string());
      if (state == "succeeded" || state == "failed" || state == "cancelled") return job;
      std::this_thread::sleep_for(200ms);
    }
    ADD_FAILURE() << "job " << id << " did not finish";
    return {};
  }
  json::object Campaign(GantryServer& s, const std::string& name) {
    return s.Get("/api/v1/firmware/campaigns/" + name).Object();
  }
  json::object WaitCampaign(GantryServer& s, const std::string& name, const std::function<bool(const json::object&)>& done) {
    for (int i = 0; i < 300; ++i) {
      auto c = Campaign(s, name);
      if (done(c)) return c;
      std::this_thread::sleep_for(200ms);
    }
    ADD_FAILURE() << "campaign " << name << " did not get there: " << json::serialize(Campaign(s, name));
    return {};
  }
};

TEST_F(HardwareE2e, CliPowersBootsAndInventoriesThroughTheBmcs) {
  RedfishSimOptions o;
  o.mockups = {"dmtf-public-rackmount1", "dmtf-public-tower", "hpe-cray-ex235n", "dmtf-public-rackmount1"};
  o.count = 4;
  RedfishSim sim(o);
  GantryServer s(store::Backend::kSqlite, {"--bmc-timeout-ms", "1500"});
  // Through the CLI, password on stdin.
  auto add = Cli(s, {"bmc", "add", "bmc-0", "--address", sim.Address(0), "--node", "node-0", "--username",
                     "admin", "--password-stdin"},
                 "password\n");
  ASSERT_EQ(0, add.status) << add.output;
  AddBmc(s, "bmc-1", sim.Address(1), "node-1");
  AddBmc(s, "bmc-2", sim.Address(2), "node-2", R"(, "system_id": "Node0")");
  AddBmc(s, "bmc-3", sim.Address(3), "node-3");
  auto shown = s.Get("/api/v1/bmcs/bmc-0");
  EXPECT_EQ(200, shown.status);
  EXPECT_EQ(std::string::npos, shown.body.find("password"));
  EXPECT_EQ(std::string::npos, ReadFile(s.dir() + "/serve.log").find("\"password\""));

  sim.SetFault(3, "timeout");
  auto status = Cli(s, {"node", "power", "status", "node-0", "node-1", "node-2", "node-3"});
  EXPECT_EQ(1, status.status) << status.output;  // one node failed
  EXPECT_NE(std::string::npos, status.output.find("NODE")) << status.output;
  EXPECT_NE(std::string::npos, status.output.find("timeout")) << status.output;
  EXPECT_NE(std::string::npos, status.output.find("1 of 4 node(s) failed")) << status.output;
  EXPECT_NE(std::string::npos, status.output.find("4/4 done, 1 failed")) << status.output;  // progress line
  sim.SetFault(3, "none");

  auto boot = Cli(s, {"node", "boot", "pxe", "--once", "node-0", "node-1"});
  EXPECT_EQ(0, boot.status) << boot.output;
  auto st = sim.State(1);
  EXPECT_EQ("Pxe", st.at("systems").at("/redfish/v1/Systems/437XR1238R2").at("Boot").at("BootSourceOverrideTarget").as_string());
  auto off = Cli(s, {"node", "power", "off", "--force", "node-0"});
  EXPECT_EQ(0, off.status) << off.output;
  EXPECT_EQ("Off", sim.State(0).at("systems").at("/redfish/v1/Systems/437XR1138R2").at("PowerState").as_string());

  // One node through the REST API; the EX235n has no boot override: 409, not a guess.
  auto unsupported = s.Post("/api/v1/nodes/node-2/boot", R"({"device": "pxe"})");
  EXPECT_EQ(409, unsupported.status) << unsupported.Describe();
  EXPECT_NE(std::string::npos, unsupported.body.find("BootSourceOverrideTarget"));
  auto power = s.Get("/api/v1/nodes/node-2/power");
  EXPECT_EQ(200, power.status) << power.Describe();

  auto inv = Cli(s, {"node", "inventory", "node-0", "node-2"});
  EXPECT_EQ(0, inv.status) << inv.output;
  auto server = s.Get("/api/v1/cmdb/cis/server%2Fnode-2").Object();
  EXPECT_EQ(4, server.at("attributes").at("gpu_count").as_int64()) << json::serialize(server);
  auto bmcs = Cli(s, {"bmc", "list"});
  EXPECT_NE(std::string::npos, bmcs.output.find("bmc-3")) << bmcs.output;
}

TEST_F(HardwareE2e, FirmwareCampaignSurvivesARestartAndPlantedFailures) {
  RedfishSimOptions o;
  o.count = 20;
  o.task_seconds = 1.5;
  RedfishSim sim(o);
  GantryServer s(store::Backend::kSqlite, {"--bmc-timeout-ms", "3000"});
  for (int i = 0; i < 20; ++i) AddBmc(s, "bmc-" + Pad(i), sim.Address(i), "node-" + Pad(i));
  // Inventory first: the CMDB learns the servers and their BIOS versions.
  auto job = s.Post("/api/v1/hardware/inventory", R"({"all": true})");
  ASSERT_EQ(202, job.status) << job.Describe();
  auto done = WaitJob(s, job.Object().at("job_id").as_int64());
  ASSERT_EQ("succeeded", done.at("state").as_string()) << json::serialize(done);
  // Rack A01 holds every server; a service of tenant acme runs on node-00.
  ASSERT_EQ(201, s.Post("/api/v1/cmdb/cis", R"({"type": "rack", "name": "A01"})").status);
  for (int i = 0; i < 20; ++i) {
    auto r = s.Post("/api/v1/cmdb/relations", R"({"type": "located_in", "from": "server/node-)" + Pad(i) + R"(", "to": "rack/A01"})");
    ASSERT_EQ(201, r.status) << r.Describe();
  }
  ASSERT_EQ(201, s.Post("/api/v1/cmdb/cis", R"({"type": "service", "name": "training-api", "tenant": null})").status);
  ASSERT_EQ(201, s.Post("/api/v1/cmdb/relations", R"({"type": "deployed_on", "from": "service/training-api", "to": "server/node-00"})").status);

  sim.SetFault(5, "fw_fail");   // the update task ends in an Exception
  sim.SetFault(12, "fw_lie");   // the task says Completed, the version does not change
  auto created = s.Post("/api/v1/firmware/campaigns", R"({"name": "bios-p80", "component": "BIOS",
      "target_version": "P80 v2.00", "image_uri": "http://images/bios.bin?version=P80%20v2.00",
      "checksum": "sha256:)" + std::string(64, 'a') + R"(", "selection": {"rack": "A01", "version_below": "P80"},
      "canary_size": 1, "batch_size": 5, "failure_budget": 2, "soak_seconds": 1, "reboot": true})");
  ASSERT_EQ(201, created.status) << created.Describe();
  auto c = created.Object();
  EXPECT_EQ("pending", c.at("state").as_string());
  EXPECT_EQ(20, c.at("impact").at("servers").as_int64());
  EXPECT_NE(std::string::npos, json::serialize(c.at("impact").at("services")).find("training-api"));

  ASSERT_EQ(200, s.Post("/api/v1/firmware/campaigns/bios-p80/start", "{}").status);
  // Restart Gantry in the middle of the campaign.
  WaitCampaign(s, "bios-p80", [](const json::object& c) { return c.at("batch").as_int64() >= 2; });
  s.Restart();
  auto final = WaitCampaign(s, "bios-p80", [](const json::object& c) {
    auto st = std::string(c.at("state").as_string());
    return st != "running" && st != "pending";
  });
  ASSERT_EQ("succeeded", final.at("state").as_string()) << json::serialize(final);
  EXPECT_EQ(2, final.at("failures").as_int64());
  for (const auto& n : final.at("nodes").as_array()) {
    const auto& node = n.as_object();
    std::string server(node.at("server").as_string());
    if (server == "node-05") {
      EXPECT_EQ("failed", node.at("state").as_string());
      EXPECT_NE(std::string::npos, std::string(node.at("message").as_string()).find("Exception"));
    } else if (server == "node-12") {
      EXPECT_EQ("failed", node.at("state").as_string());
      EXPECT_NE(std::string::npos, std::string(node.at("message").as_string()).find("after the update"));
    } else {
      EXPECT_EQ("succeeded", node.at("state").as_string()) << server << ": " << node.at("message");
      EXPECT_EQ("P80 v2.00", node.at("version_after").as_string());
    }
  }
  // Nothing was updated twice across the restart.
  for (int i = 0; i < 20; ++i) {
    int updates = 0, resets = 0;
    auto state = sim.State(i);
    for (const auto& a : state.at("actions").as_array()) {
      updates += a.at("action").as_string() == "update";
      resets += a.at("action").as_string() == "reset";
    }
    EXPECT_EQ(1, updates) << "BMC " << i;
    if (i != 5) EXPECT_EQ(1, resets) << "BMC " << i;  // reboot: true; node-05's task failed
    else EXPECT_EQ(0, resets);
  }
  // The CMDB shows the new versions.
  auto fw = s.Get("/api/v1/cmdb/cis/firmware%2Fnode-03:fw-BIOS").Object();
  EXPECT_EQ("P80 v2.00", fw.at("attributes").at("version").as_string()) << json::serialize(fw);
  auto server = s.Get("/api/v1/cmdb/cis/server%2Fnode-03").Object();
  EXPECT_EQ("P80 v2.00", server.at("attributes").at("bios_version").as_string());
  auto failed_fw = s.Get("/api/v1/cmdb/cis/firmware%2Fnode-05:fw-BIOS").Object();
  EXPECT_EQ("P79 v1.45", failed_fw.at("attributes").at("version").as_string());
  // Every step is in the audit trail.
  auto audit = s.Get("/api/v1/audit/events?action=firmware.node.*&limit=500").Object();
  EXPECT_GE(audit.at("items").as_array().size(), 40u);
}

TEST_F(HardwareE2e, CampaignHaltsWhenTheFailureBudgetIsSpent) {
  RedfishSimOptions o;
  o.count = 6;
  o.task_seconds = 0.5;
  RedfishSim sim(o);
  GantryServer s(store::Backend::kSqlite, {"--bmc-timeout-ms", "3000"});
  for (int i = 0; i < 6; ++i) AddBmc(s, "bmc-" + Pad(i), sim.Address(i), "node-" + Pad(i));
  sim.SetFault(0, "fw_fail");  // the canary fails
  auto created = s.Post("/api/v1/firmware/campaigns", R"({"name": "bmc-fw", "component": "BMC",
      "target_version": "2.0", "image_uri": "http://images/bmc.bin?version=2.0",
      "checksum": "sha256:)" + std::string(64, 'b') + R"(", "selection": {"nodes": ["node-00", "node-01", "node-02", "node-03", "node-04", "node-05"]},
      "canary_size": 1, "batch_size": 5, "failure_budget": 0})");
  ASSERT_EQ(201, created.status) << created.Describe();
  ASSERT_EQ(200, s.Post("/api/v1/firmware/campaigns/bmc-fw/start", "{}").status);
  auto final = WaitCampaign(s, "bmc-fw", [](const json::object& c) { return c.at("state").as_string() == "halted"; });
  EXPECT_NE(std::string::npos, std::string(final.at("message").as_string()).find("failure budget"));
  // The canary failed: no other node was touched.
  for (int i = 1; i < 6; ++i) {
    auto state = sim.State(i);
    EXPECT_TRUE(state.at("actions").as_array().empty()) << i;
  }
  EXPECT_EQ(409, s.Post("/api/v1/firmware/campaigns/bmc-fw/resume", "{}").status);
}

TEST_F(HardwareE2e, CampaignPausesResumesCancelsAndKeepsItsWindow) {
  RedfishSimOptions o;
  o.count = 6;
  o.task_seconds = 2;
  RedfishSim sim(o);
  GantryServer s(store::Backend::kSqlite, {"--bmc-timeout-ms", "3000"});
  for (int i = 0; i < 6; ++i) AddBmc(s, "bmc-" + Pad(i), sim.Address(i), "node-" + Pad(i));
  auto body = [](const std::string& name, const std::string& extra) {
    return R"({"name": ")" + name + R"(", "component": "BIOS", "target_version": "P80",
        "image_uri": "http://images/bios.bin?version=P80", "checksum": "sha256:)" + std::string(64, 'c') +
           R"(", "selection": {"nodes": ["node-00", "node-01", "node-02", "node-03", "node-04", "node-05"]},
        "canary_size": 1, "batch_size": 5)" + extra + "}";
  };
  ASSERT_EQ(201, s.Post("/api/v1/firmware/campaigns", body("paused", "")).status);
  ASSERT_EQ(200, s.Post("/api/v1/firmware/campaigns/paused/start", "{}").status);
  WaitCampaign(s, "paused", [](const json::object& c) {
    return c.at("nodes").as_array()[0].at("state").as_string() == "updating";
  });
  auto paused = s.Post("/api/v1/firmware/campaigns/paused/pause", "{}");
  ASSERT_EQ(200, paused.status) << paused.Describe();
  std::this_thread::sleep_for(3s);  // the canary's task ends meanwhile; nothing else may start
  auto c = Campaign(s, "paused");
  EXPECT_EQ("paused", c.at("state").as_string());
  EXPECT_EQ(0, c.at("batch").as_int64());
  for (int i = 1; i < 6; ++i) {
    auto state = sim.State(i);
    EXPECT_TRUE(state.at("actions").as_array().empty()) << i;
  }
  ASSERT_EQ(200, s.Post("/api/v1/firmware/campaigns/paused/resume", "{}").status);
  auto done = WaitCampaign(s, "paused", [](const json::object& c) { return c.at("state").as_string() != "running"; });
  EXPECT_EQ("succeeded", done.at("state").as_string()) << json::serialize(done);

  // Cancelled before it starts: it never runs.
  ASSERT_EQ(201, s.Post("/api/v1/firmware/campaigns", body("never", "")).status);
  ASSERT_EQ(200, s.Post("/api/v1/firmware/campaigns/never/cancel", "{}").status);
  EXPECT_EQ(409, s.Post("/api/v1/firmware/campaigns/never/start", "{}").status);
  // A maintenance window that is over: the campaign halts without touching a node.
  ASSERT_EQ(201, s.Post("/api/v1/firmware/campaigns",
                        body("late", R"(, "window_start": "2020-01-01T00:00:00Z", "window_end": "2020-01-01T04:00:00Z")"))
                     .status);
  ASSERT_EQ(200, s.Post("/api/v1/firmware/campaigns/late/start", "{}").status);
  auto late = WaitCampaign(s, "late", [](const json::object& c) { return c.at("state").as_string() == "halted"; });
  EXPECT_NE(std::string::npos, std::string(late.at("message").as_string()).find("window"));
  // Bad specs are refused naming the field.
  auto bad = s.Post("/api/v1/firmware/campaigns", body("bad", R"(, "failure_budget": -1)"));
  EXPECT_EQ(400, bad.status);
  EXPECT_NE(std::string::npos, bad.body.find("failure_budget"));
}

TEST_F(HardwareE2e, CampaignHaltsOnANewCriticalAlertOnTheBatch) {
  RedfishSimOptions o;
  o.count = 2;
  o.task_seconds = 3;
  RedfishSim sim(o);
  GantryServer s(store::Backend::kSqlite, {"--bmc-timeout-ms", "3000"});
  for (int i = 0; i < 2; ++i) {
    AddBmc(s, "bmc-" + Pad(i), sim.Address(i), "node-" + Pad(i));
    ASSERT_EQ(201, s.Post("/api/v1/cmdb/cis", R"({"type": "server", "name": "node-)" + Pad(i) + R"("})").status);
  }
  ASSERT_EQ(201, s.Post("/api/v1/firmware/campaigns", R"({"name": "gated", "component": "BIOS",
      "target_version": "P80", "image_uri": "http://images/bios.bin?version=P80", "checksum": "sha256:)" +
                                                           std::string(64, 'd') + R"(",
      "selection": {"nodes": ["node-00", "node-01"]}, "canary_size": 1, "batch_size": 1})")
                     .status);
  ASSERT_EQ(200, s.Post("/api/v1/firmware/campaigns/gated/start", "{}").status);
  WaitCampaign(s, "gated", [](const json::object& c) {
    return c.at("nodes").as_array()[0].at("state").as_string() == "updating";
  });
  // The canary's GPU node raises a critical alert while it is being updated.
  auto hook = s.Post("/api/v1/monitoring/alertmanager", R"({"version": "4", "status": "firing", "receiver": "gantry",
      "alerts": [{"status": "firing", "labels": {"alertname": "NodeDown", "severity": "critical", "node": "node-00"},
                  "annotations": {}, "startsAt": ")" + Now() + R"("}]})");
  ASSERT_EQ(200, hook.status) << hook.Describe();
  SCOPED_TRACE(s.Get("/api/v1/incidents").body);
  auto final = WaitCampaign(s, "gated", [](const json::object& c) { return c.at("state").as_string() == "halted"; });
  EXPECT_NE(std::string::npos, std::string(final.at("message").as_string()).find("NodeDown")) << final.at("message");
  auto untouched = sim.State(1);
  EXPECT_TRUE(untouched.at("actions").as_array().empty());
}

}  // namespace
}  // namespace gantry::testing
