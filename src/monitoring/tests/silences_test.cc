// Maintenance silences against a real Alertmanager (tests/support/prom_fixture.h): a leaf switch
// in maintenance silences the servers behind it and not the others; removing the silence
// expires it; an unreachable Alertmanager is a clear 503 and records nothing. Maintenance
// (maintenance.h): the silences follow the CIs' CMDB status, survive an Alertmanager that is down
// at the time, and the health-gate question sees critical alerts that the silence hides.
#include "monitoring/silences.h"

#include "jobs/service.h"
#include "monitoring/maintenance.h"

#include <gtest/gtest.h>

#include "support/prom_fixture.h"
#include "support/test_db.h"

namespace gantry::monitoring {
namespace {

using gantry::testing::PromFixture;

class SilencesTest : public ::testing::Test {
 protected:
  SilencesTest()
      : db_(gantry::testing::NewTestDatabase(store::Backend::kSqlite)),
        audit_(*db_, core::SystemClock::Get()),
        cmdb_(*db_, audit_, core::SystemClock::Get()) {
    EXPECT_TRUE(cmdb_.Init());
    op_.principal.user_id = 1;
    op_.principal.username = "olga";
    op_.principal.roles = {core::Role::kOperator};
    auto make = [&](const std::string& type, const std::string& name) {
      ASSERT_TRUE(cmdb_.CreateCi(op_, cmdb::NewCi{type, name, {}, {}, "active"}));
    };
    auto link = [&](const std::string& from, const std::string& type, const std::string& to) {
      ASSERT_TRUE(cmdb_.Relate(op_, cmdb::NewRelation{type, from, to, {}, "manual"}));
    };
    make("switch", "leaf-01");
    make("switch_port", "leaf-01:p1");
    make("switch_port", "leaf-01:p2");
    link("switch/leaf-01", "contains", "switch_port/leaf-01:p1");
    link("switch/leaf-01", "contains", "switch_port/leaf-01:p2");
    for (std::string n : {"node-01", "node-02", "node-03"}) {
      make("server", n);
      make("nic", n + ":eth0");
      link("server/" + n, "contains", "nic/" + n + ":eth0");
    }
    link("nic/node-01:eth0", "connected_to", "switch_port/leaf-01:p1");
    link("nic/node-02:eth0", "connected_to", "switch_port/leaf-01:p2");
  }

  // Puts an alert into Alertmanager directly and returns its state ("active" or "suppressed").
  static std::string AlertState(const PromFixture& am, const std::string& node) {
    std::string state;
    PromFixture::WaitFor(
        [&] {
          std::string body = PromFixture::Http(am.alertmanager_url() + "/api/v2/alerts?filter=gantry_ci%3D%22server%2F" + node + "%22");
          auto v = core::ParseJson(body);
          if (!v || !v->is_array() || v->as_array().empty()) return false;
          state = std::string(v->as_array()[0].at("status").at("state").as_string());
          return true;
        },
        std::chrono::seconds(10));
    return state;
  }

  std::unique_ptr<store::Database> db_;
  audit::Service audit_;
  cmdb::Service cmdb_;
  core::RequestContext op_;
};

TEST_F(SilencesTest, SwitchMaintenanceSilencesWhatDependsOnIt) {
  std::string why;
  if (!PromFixture::Installed(&why)) GTEST_SKIP() << why;
  PromFixture am({});
  SilenceManager silences(*db_, audit_, cmdb_, core::SystemClock::Get(), am.alertmanager_url());
  auto s = silences.Create(op_, "switch/leaf-01", std::chrono::minutes(30), "firmware 1.2.3");
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->covered, (std::vector<std::string>{"server/node-01", "server/node-02", "switch/leaf-01"}));
  ASSERT_EQ(s->silence_ids.size(), 1u);
  std::string got = PromFixture::Http(am.alertmanager_url() + "/api/v2/silence/" + s->silence_ids[0]);
  EXPECT_NE(got.find("\"state\":\"active\""), std::string::npos) << got;
  EXPECT_NE(got.find("Gantry maintenance of switch/leaf-01: firmware 1.2.3"), std::string::npos) << got;

  for (std::string n : {"node-01", "node-03"}) {
    PromFixture::Http(am.alertmanager_url() + "/api/v2/alerts", "POST",
                      "[{\"labels\":{\"alertname\":\"NodeDown\",\"gantry_ci\":\"server/" + n + "\"}}]");
  }
  EXPECT_EQ(AlertState(am, "node-01"), "suppressed");
  EXPECT_EQ(AlertState(am, "node-03"), "active");
  EXPECT_EQ(silences.List(op_, true)->size(), 1u);

  auto removed = silences.Remove(op_, s->id);
  ASSERT_TRUE(removed) << removed.error().message;
  got = PromFixture::Http(am.alertmanager_url() + "/api/v2/silence/" + s->silence_ids[0]);
  EXPECT_NE(got.find("\"state\":\"expired\""), std::string::npos) << got;
  EXPECT_TRUE(PromFixture::WaitFor([&] { return AlertState(am, "node-01") == "active"; }, std::chrono::seconds(10)));
  EXPECT_EQ(silences.Remove(op_, s->id).error().code, core::Code::kFailedPrecondition);
  EXPECT_EQ(silences.List(op_, true)->size(), 0u);
}

TEST_F(SilencesTest, UnreachableAlertmanagerIsAClearErrorAndRecordsNothing) {
  int port = gantry::testing::FreePort();  // nobody listens there
  SilenceManager silences(*db_, audit_, cmdb_, core::SystemClock::Get(), "http://127.0.0.1:" + std::to_string(port));
  auto s = silences.Create(op_, "server/node-03", std::chrono::minutes(5), "");
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, core::Code::kUnavailable);
  EXPECT_NE(s.error().message.find("Alertmanager unreachable"), std::string::npos) << s.error().message;
  EXPECT_EQ(silences.List(op_, false)->size(), 0u);
  EXPECT_EQ(silences.Create(op_, "server/nope", std::chrono::minutes(5), "").error().code, core::Code::kNotFound);
  EXPECT_EQ(silences.Create(op_, "server/node-03", std::chrono::minutes(0), "").error().code,
            core::Code::kInvalidArgument);
}


// Counts audit events of one action about one target.
int64_t Audited(store::Database& db, const std::string& action, const std::string& target) {
  auto tx = db.Begin(store::TxMode::kRead);
  auto rs = (*tx)->Exec("SELECT COUNT(*) FROM audit_events WHERE action = ? AND target = ?", {action, target});
  return rs->rows.at(0).Int(0);
}

TEST_F(SilencesTest, MaintenanceStatusInTheCmdbCreatesAndExpiresTheSilence) {
  std::string why;
  if (!PromFixture::Installed(&why)) GTEST_SKIP() << why;
  PromFixture am({});
  SilenceManager silences(*db_, audit_, cmdb_, core::SystemClock::Get(), am.alertmanager_url());
  Maintenance maintenance(*db_, cmdb_, silences, core::SystemClock::Get(), am.alertmanager_url());
  jobs::Registry registry;
  RegisterMaintenanceJobType(registry, maintenance);
  ASSERT_NE(registry.Find(kMaintenanceJobType), nullptr);
  jobs::Service jobs(*db_, audit_, core::SystemClock::Get(), registry);

  EXPECT_FALSE(*maintenance.Pending());
  EXPECT_FALSE(*EnqueueMaintenanceSyncIfPending(maintenance, jobs));
  // A plain CMDB edit (as `gantry cmdb ci update --status maintenance` does) is the trigger.
  cmdb::CiPatch to_maintenance;
  to_maintenance.status = "maintenance";
  ASSERT_TRUE(cmdb_.UpdateCi(op_, "switch/leaf-01", to_maintenance));
  EXPECT_TRUE(*maintenance.Pending());
  EXPECT_TRUE(*EnqueueMaintenanceSyncIfPending(maintenance, jobs));
  EXPECT_FALSE(*EnqueueMaintenanceSyncIfPending(maintenance, jobs)) << "one queued job is enough";

  auto r = maintenance.Reconcile(core::RequestContext::System("maintenance"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->created, (std::vector<std::string>{"switch/leaf-01"}));
  EXPECT_TRUE(r->errors.empty());
  EXPECT_FALSE(*maintenance.Pending());
  auto active = silences.List(op_, true);
  ASSERT_EQ(active->size(), 1u);
  const Silence s = active->at(0);
  EXPECT_EQ(s.origin, "maintenance");
  EXPECT_EQ(s.covered, (std::vector<std::string>{"server/node-01", "server/node-02", "switch/leaf-01"}));
  EXPECT_EQ(Audited(*db_, "monitoring.silence.create", "switch/leaf-01"), 1);
  std::string got = PromFixture::Http(am.alertmanager_url() + "/api/v2/silence/" + s.silence_ids.at(0));
  EXPECT_NE(got.find("\"state\":\"active\""), std::string::npos) << got;
  for (std::string n : {"node-01", "node-03"}) {
    PromFixture::Http(am.alertmanager_url() + "/api/v2/alerts", "POST",
                      "[{\"labels\":{\"alertname\":\"NodeDown\",\"severity\":\"critical\",\"gantry_ci\":\"server/" + n + "\"}}]");
  }
  EXPECT_EQ(AlertState(am, "node-01"), "suppressed");
  EXPECT_EQ(AlertState(am, "node-03"), "active");
  // Idempotent: nothing more to do.
  r = maintenance.Reconcile(core::RequestContext::System("maintenance"));
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->created.empty() && r->removed.empty());

  cmdb::CiPatch back;
  back.status = "active";
  ASSERT_TRUE(cmdb_.UpdateCi(op_, "switch/leaf-01", back));
  EXPECT_TRUE(*maintenance.Pending());
  r = maintenance.Reconcile(core::RequestContext::System("maintenance"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->removed, (std::vector<std::string>{"switch/leaf-01"}));
  EXPECT_FALSE(*maintenance.Pending());
  got = PromFixture::Http(am.alertmanager_url() + "/api/v2/silence/" + s.silence_ids.at(0));
  EXPECT_NE(got.find("\"state\":\"expired\""), std::string::npos) << got;
  EXPECT_TRUE(PromFixture::WaitFor([&] { return AlertState(am, "node-01") == "active"; }, std::chrono::seconds(10)));
  EXPECT_EQ(Audited(*db_, "monitoring.silence.remove", "switch/leaf-01"), 1);
  EXPECT_EQ(silences.List(op_, true)->size(), 0u);
}

TEST_F(SilencesTest, MaintenanceWaitsForAnAlertmanagerThatIsDown) {
  std::string why;
  if (!PromFixture::Installed(&why)) GTEST_SKIP() << why;
  int port = gantry::testing::FreePort();  // Alertmanager will listen here later
  std::string url = "http://127.0.0.1:" + std::to_string(port);
  SilenceManager silences(*db_, audit_, cmdb_, core::SystemClock::Get(), url);
  Maintenance maintenance(*db_, cmdb_, silences, core::SystemClock::Get(), url);
  auto entered = maintenance.Enter(op_, {"server/node-01", "server/node-03"});
  ASSERT_TRUE(entered) << entered.error().message;
  EXPECT_TRUE(entered->pending());
  EXPECT_EQ(entered->errors.size(), 2u);
  EXPECT_EQ(cmdb_.GetCi(op_, "server/node-01")->status, "maintenance") << "the CMDB change stands";
  EXPECT_EQ(silences.List(op_, false)->size(), 0u);
  EXPECT_TRUE(*maintenance.Pending());
  auto again = maintenance.Reconcile(core::RequestContext::System("maintenance"));
  ASSERT_TRUE(again);
  EXPECT_TRUE(again->pending()) << "still down: the job would be retried";

  gantry::testing::PromFixtureOptions o;
  o.alertmanager_port = port;
  PromFixture am(o);
  ASSERT_EQ(am.alertmanager_url(), url) << "the port was taken meanwhile";
  auto r = maintenance.Reconcile(core::RequestContext::System("maintenance"));
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->created, (std::vector<std::string>{"server/node-01", "server/node-03"}));
  EXPECT_FALSE(*maintenance.Pending());

  // The health gate: a critical alert during maintenance is silenced (never reaches Gantry's
  // webhook) but still counts.
  core::UnixNanos t0 = core::SystemClock::Get().Now() - 1'000'000'000;
  int64_t node1 = cmdb_.GetCi(op_, "server/node-01")->id;
  int64_t node2 = cmdb_.GetCi(op_, "server/node-02")->id;
  PromFixture::Http(am.alertmanager_url() + "/api/v2/alerts", "POST",
                    "[{\"labels\":{\"alertname\":\"GpuXid\",\"severity\":\"critical\",\"gantry_ci\":\"server/node-01\"}},"
                    "{\"labels\":{\"alertname\":\"DiskSlow\",\"severity\":\"warning\",\"gantry_ci\":\"server/node-01\"}},"
                    "{\"labels\":{\"alertname\":\"GpuXid\",\"severity\":\"critical\",\"gantry_ci\":\"server/node-02\"}}]");
  EXPECT_EQ(AlertState(am, "node-01"), "suppressed");
  auto alerts = maintenance.NewCriticalAlertsSince(op_, {node1}, t0);
  ASSERT_TRUE(alerts) << alerts.error().message;
  ASSERT_EQ(alerts->size(), 1u);
  EXPECT_EQ(alerts->at(0).alertname, "GpuXid");
  EXPECT_EQ(alerts->at(0).ci, "server/node-01");
  EXPECT_EQ(alerts->at(0).source, "alertmanager");
  EXPECT_EQ(maintenance.NewCriticalAlertsSince(op_, {node1}, core::SystemClock::Get().Now() + 60'000'000'000)->size(), 0u);
  EXPECT_EQ(maintenance.NewCriticalAlertsSince(op_, {node2}, t0)->size(), 1u);
  // The same through the firmware campaign's gate (server names).
  auto gate = maintenance.ServersQuietSince({"node-01", "node-03"}, t0);
  ASSERT_FALSE(gate);
  EXPECT_EQ(gate.error().code, core::Code::kFailedPrecondition);
  EXPECT_NE(gate.error().message.find("GpuXid on server/node-01"), std::string::npos) << gate.error().message;
  EXPECT_TRUE(maintenance.ServersQuietSince({"node-03"}, t0));

  auto left = maintenance.Leave(op_, {"server/node-01", "server/node-03"});
  ASSERT_TRUE(left) << left.error().message;
  EXPECT_FALSE(left->pending());
  EXPECT_EQ(left->removed.size(), 2u);
  EXPECT_EQ(cmdb_.GetCi(op_, "server/node-03")->status, "active");
  EXPECT_EQ(silences.List(op_, true)->size(), 0u);
}

}  // namespace
}  // namespace gantry::monitoring
