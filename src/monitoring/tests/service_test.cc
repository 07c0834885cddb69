// The monitoring service on both backends: HTTP SD targets from the CMDB, Alertmanager webhook
// ingest (validation, replay refusal, retries, grouping by common cause, unmapped alerts,
// auto-resolve), the incident life cycle and tenant visibility.
#include "monitoring/service.h"

#include <gtest/gtest.h>

#include <thread>

#include "support/test_db.h"

namespace gantry::monitoring {
namespace {

using cmdb::NewCi;
using cmdb::NewRelation;

class MonitoringTest : public ::testing::TestWithParam<store::Backend> {
 protected:
  MonitoringTest()
      : db_(testing::NewTestDatabase(GetParam())),
        clock_(1'800'000'000LL * core::kNanosPerSecond),
        audit_(*db_, clock_),
        cmdb_(*db_, audit_, clock_) {
    EXPECT_TRUE(cmdb_.Init());
    op_ = User("olga", core::Role::kOperator);
    BuildEstate();
    MonitoringConfig config;
    config.resolver_refresh = std::chrono::seconds(0);
    service_ = std::make_unique<Service>(*db_, audit_, cmdb_, clock_, config);
  }

  static core::RequestContext User(const std::string& name, core::Role role) {
    core::RequestContext rc;
    rc.principal.user_id = static_cast<int64_t>(name.size());
    rc.principal.username = name;
    rc.principal.roles = {role};
    rc.source_ip = "192.0.2.1";
    return rc;
  }
  static core::RequestContext TenantUser(const std::string& name, const std::string& tenant) {
    core::RequestContext rc;
    rc.principal.user_id = 99;
    rc.principal.username = name;
    rc.principal.tenants = {{1, tenant, core::Role::kTenantMember}};
    return rc;
  }

  void Make(const std::string& type, const std::string& name, core::json::object attrs = {},
            std::optional<std::string> tenant = {}) {
    auto ci = cmdb_.CreateCi(op_, NewCi{type, name, std::move(attrs), tenant, "active"});
    ASSERT_TRUE(ci) << type << "/" << name << ": " << ci.error().message;
  }
  void Link(const std::string& from, const std::string& type, const std::string& to,
            core::json::object attrs = {}) {
    auto r = cmdb_.Relate(op_, NewRelation{type, from, to, std::move(attrs), "manual"});
    ASSERT_TRUE(r) << from << " " << type << " " << to << ": " << r.error().message;
  }

  // Site dc1 > hall-1 > row-a > racks A01 (node-01, node-02, leaf-01) and A02 (node-03,
  // leaf-02); both leaves uplink to spine-01.
  void BuildEstate() {
    Make("site", "dc1");
    Make("room", "hall-1");
    Make("row", "row-a");
    Make("rack", "A01");
    Make("rack", "A02");
    Link("room/hall-1", "located_in", "site/dc1");
    Link("row/row-a", "located_in", "room/hall-1");
    Link("rack/A01", "located_in", "row/row-a");
    Link("rack/A02", "located_in", "row/row-a");
    Make("switch", "spine-01", {{"role", "spine"}});
    Make("switch_port", "spine-01:p1");
    Make("switch_port", "spine-01:p2");
    Link("switch/spine-01", "contains", "switch_port/spine-01:p1");
    Link("switch/spine-01", "contains", "switch_port/spine-01:p2");
    for (std::string leaf : {"leaf-01", "leaf-02"}) {
      Make("switch", leaf, {{"role", "leaf"}});
      Link("switch/" + leaf, "located_in", leaf == "leaf-01" ? "rack/A01" : "rack/A02");
      for (std::string p : {":up", ":p1", ":p2"}) {
        Make("switch_port", leaf + p);
        Link("switch/" + leaf, "contains", "switch_port/" + leaf + p);
      }
      Link("switch_port/" + leaf + ":up", "connected_to",
           leaf == "leaf-01" ? "switch_port/spine-01:p1" : "switch_port/spine-01:p2");
    }
    Make("slurm_partition", "gpu");
    struct S { std::string name, rack, port, ip, tenant; };
    for (const auto& s : {S{"node-01", "rack/A01", "leaf-01:p1", "10.0.0.1", "acme"},
                          S{"node-02", "rack/A01", "leaf-01:p2", "10.0.0.2", "acme"},
                          S{"node-03", "rack/A02", "leaf-02:p1", "", "beta"}}) {
      core::json::object attrs{{"role", "gpu-node"}, {"gpu_model", "H100"}};
      if (!s.ip.empty()) attrs["primary_ip"] = s.ip;
      Make("server", s.name, attrs, s.tenant);
      Link("server/" + s.name, "located_in", s.rack, {{"position_u", 10}});
      Link("server/" + s.name, "member_of", "slurm_partition/gpu");
      Make("gpu", s.name + ":gpu0", {{"model", "H100"}, {"uuid", "GPU-" + s.name}});
      Link("server/" + s.name, "contains", "gpu/" + s.name + ":gpu0");
      Make("nic", s.name + ":eth0");
      Link("server/" + s.name, "contains", "nic/" + s.name + ":eth0");
      Link("nic/" + s.name + ":eth0", "connected_to", "switch_port/" + s.port);
    }
    Make("bmc", "node-01-bmc", {{"address", "10.1.0.1"}, {"protocol", "redfish"}});
    Link("server/node-01", "contains", "bmc/node-01-bmc");
  }

  static std::string Alert(const std::string& status, core::json::object labels,
                           const std::string& fingerprint, const std::string& starts = "2027-01-15T08:00:00Z") {
    return core::ToJson(core::json::object{
        {"status", status},
        {"labels", std::move(labels)},
        {"annotations", core::json::object{{"summary", "something happened"}}},
        {"startsAt", starts},
        {"endsAt", status == "resolved" ? "2027-01-15T08:05:00Z" : "0001-01-01T00:00:00Z"},
        {"generatorURL", "http://prometheus/graph"},
        {"fingerprint", fingerprint}});
  }
  static std::string Body(const std::vector<std::string>& alerts, const std::string& group = "g") {
    std::string list;
    for (const auto& a : alerts) list += (list.empty() ? "" : ",") + a;
    return "{\"receiver\":\"gantry\",\"status\":\"firing\",\"alerts\":[" + list +
           "],\"groupLabels\":{},\"commonLabels\":{},\"commonAnnotations\":{},"
           "\"externalURL\":\"http://am\",\"version\":\"4\",\"groupKey\":\"" + group +
           "\",\"truncatedAlerts\":0}";
  }
  IngestReport Ingest(const std::string& body) {
    auto r = service_->IngestAlertmanager(op_, body);
    EXPECT_TRUE(r) << r.error().message;
    clock_.Advance(core::kNanosPerSecond);
    return r ? *r : IngestReport{};
  }
  std::vector<Incident> Incidents(std::optional<std::string> state = {}) {
    IncidentFilter f;
    f.state = state;
    auto r = service_->ListIncidents(op_, f);
    EXPECT_TRUE(r) << r.error().message;
    return r ? *r : std::vector<Incident>{};
  }
  int64_t Count(const std::string& sql) {
    auto tx = db_->Begin(store::TxMode::kRead);
    auto rs = (*tx)->Exec(sql);
    return rs->rows.at(0).Int(0);
  }

  std::unique_ptr<store::Database> db_;
  core::ManualClock clock_;
  audit::Service audit_;
  cmdb::Service cmdb_;
  std::unique_ptr<Service> service_;
  core::RequestContext op_;
};

TEST_P(MonitoringTest, HttpSdListsEveryServerWithCmdbLabels) {
  auto body = service_->Targets(op_, "agent");
  ASSERT_TRUE(body) << body.error().message;
  auto list = core::ParseJson(*body)->as_array();
  ASSERT_EQ(list.size(), 3u);
  const auto& first = list[0].as_object();
  EXPECT_EQ(first.at("targets").as_array()[0].as_string(), "10.0.0.1:9400");
  const auto& l = first.at("labels").as_object();
  EXPECT_EQ(l.at("gantry_ci").as_string(), "server/node-01");
  EXPECT_EQ(l.at("node").as_string(), "node-01");
  EXPECT_EQ(l.at("site").as_string(), "dc1");
  EXPECT_EQ(l.at("room").as_string(), "hall-1");
  EXPECT_EQ(l.at("rack").as_string(), "A01");
  EXPECT_EQ(l.at("location").as_string(), "dc1/hall-1/row-a/A01");
  EXPECT_EQ(l.at("role").as_string(), "gpu-node");
  EXPECT_EQ(l.at("gpu_model").as_string(), "H100");
  EXPECT_EQ(l.at("tenant").as_string(), "acme");
  EXPECT_EQ(l.at("slurm_partition").as_string(), "gpu");
  // No primary_ip: the name is the address.
  EXPECT_EQ(list[2].as_object().at("targets").as_array()[0].as_string(), "node-03:9400");
  EXPECT_EQ(list[2].as_object().at("labels").as_object().at("rack").as_string(), "A02");

  auto bmc = service_->Targets(op_, "bmc");
  ASSERT_TRUE(bmc);
  auto bl = core::ParseJson(*bmc)->as_array();
  ASSERT_EQ(bl.size(), 1u);
  EXPECT_EQ(bl[0].as_object().at("targets").as_array()[0].as_string(), "10.1.0.1");
  EXPECT_EQ(bl[0].as_object().at("labels").as_object().at("bmc_protocol").as_string(), "redfish");
  EXPECT_EQ(service_->Targets(op_, "snmp").error().code, core::Code::kInvalidArgument);
}

TEST_P(MonitoringTest, StaleTargetsAreServedWhileRebuiltInTheBackground) {
  TargetDirectory dir(cmdb_, {9400, std::chrono::milliseconds(0)});
  auto first = dir.Targets("agent");
  ASSERT_TRUE(first);
  Make("server", "node-04");
  // The cached answer comes back at once (and starts a rebuild) until the rebuild lands.
  bool seen = false;
  for (int i = 0; i < 500 && !seen; ++i) {
    auto now = dir.Targets("agent");
    ASSERT_TRUE(now);
    seen = now->find("node-04") != std::string::npos;
    if (!seen) {
      EXPECT_EQ(*now, *first);
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  EXPECT_TRUE(seen);
}

TEST_P(MonitoringTest, AlertOnANodeOpensAnEnrichedIncidentAndResolves) {
  auto r = Ingest(Body({Alert("firing", {{"alertname", "GpuXidError"}, {"instance", "10.0.0.1:9400"},
                                         {"severity", "critical"}, {"UUID", "GPU-node-01"}}, "aa01")}));
  EXPECT_EQ(r.created, 1);
  auto open = Incidents("open");
  ASSERT_EQ(open.size(), 1u);
  const Incident& i = open[0];
  EXPECT_EQ(i.ci, "gpu/node-01:gpu0");  // the UUID label names the GPU itself
  EXPECT_EQ(i.tenant, "acme");           // from its server
  EXPECT_EQ(i.severity, "critical");
  EXPECT_EQ(i.context.at("location_path").as_string(), "dc1/hall-1/row-a/A01");
  EXPECT_EQ(i.firing, 1);
  auto full = service_->GetIncident(op_, i.id);
  ASSERT_TRUE(full);
  auto alerts = full->at("alert_list").as_array();
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].as_object().at("matched_by").as_string(), "UUID");

  // Alertmanager resends the same alert in another notification: nothing changes.
  r = Ingest(Body({Alert("firing", {{"alertname", "GpuXidError"}, {"instance", "10.0.0.1:9400"},
                                    {"severity", "critical"}, {"UUID", "GPU-node-01"}}, "aa01")}, "other"));
  EXPECT_EQ(r.unchanged, 1);
  EXPECT_EQ(r.created, 0);
  // It resolves: the incident resolves with it.
  r = Ingest(Body({Alert("resolved", {{"alertname", "GpuXidError"}, {"instance", "10.0.0.1:9400"},
                                      {"severity", "critical"}, {"UUID", "GPU-node-01"}}, "aa01")}));
  EXPECT_EQ(r.updated, 1);
  auto resolved = Incidents("resolved");
  ASSERT_EQ(resolved.size(), 1u);
  EXPECT_EQ(resolved[0].firing, 0);
  EXPECT_TRUE(resolved[0].resolved_at);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action = 'monitoring.alerts.ingest'"), 3);
}

TEST_P(MonitoringTest, ReplayedBodyIsRefusedAndChangesNothing) {
  std::string body = Body({Alert("firing", {{"alertname", "NodeDown"}, {"node", "node-02"}}, "bb01")});
  Ingest(body);
  int64_t alerts = Count("SELECT COUNT(*) FROM mon_alerts");
  int64_t events = Count("SELECT COUNT(*) FROM audit_events");
  auto again = service_->IngestAlertmanager(op_, body);
  ASSERT_FALSE(again);
  EXPECT_EQ(again.error().code, core::Code::kConflict);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM mon_alerts"), alerts);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events"), events);
}

TEST_P(MonitoringTest, MalformedBodiesAreRefusedWholesale) {
  std::string good = Alert("firing", {{"alertname", "NodeDown"}, {"node", "node-01"}}, "cc01");
  for (const std::string& bad : {
           std::string("not json"),
           std::string("{\"version\":\"3\",\"alerts\":[]}"),
           std::string("{\"version\":\"4\",\"alerts\":{}}"),
           Body({good, Alert("firing", {{"node", "node-02"}}, "cc02")}),                       // no alertname
           Body({good, Alert("firing", {{"alertname", "X"}}, "zz-not-hex")}),                  // bad fingerprint
           Body({good, Alert("firing", {{"alertname", "X"}}, "cc03", "yesterday")}),           // bad time
           Body({good, Alert("pending", {{"alertname", "X"}}, "cc04")}),                       // bad status
           Body({good, "{\"status\":\"firing\",\"labels\":{\"alertname\":7},\"startsAt\":\"2027-01-15T08:00:00Z\"}"}),
       }) {
    auto r = service_->IngestAlertmanager(op_, bad);
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(r.error().code, core::Code::kInvalidArgument) << bad;
  }
  EXPECT_EQ(Count("SELECT COUNT(*) FROM mon_alerts"), 0);
  EXPECT_EQ(Count("SELECT COUNT(*) FROM mon_incidents"), 0);
}

TEST_P(MonitoringTest, NodesBehindOneSwitchBecomeOneIncident) {
  // node-01 (leaf-01) and node-03 (leaf-02) share only the spine.
  auto r = Ingest(Body({Alert("firing", {{"alertname", "NodeDown"}, {"node", "node-01"}}, "dd01"),
                        Alert("firing", {{"alertname", "NodeDown"}, {"instance", "node-03:9400"}}, "dd03")}));
  EXPECT_EQ(r.created, 2);
  auto open = Incidents("open");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].ci, "switch/spine-01");
  EXPECT_EQ(open[0].alerts, 2);
  EXPECT_NE(open[0].title.find("common cause switch/spine-01"), std::string::npos) << open[0].title;
  // A later NodeDown behind the same spine joins it.
  r = Ingest(Body({Alert("firing", {{"alertname", "NodeDown"}, {"gantry_ci", "server/node-02"}}, "dd02")}));
  open = Incidents("open");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].alerts, 3);
  // Another kind of alert on node-02 is an incident of its own.
  Ingest(Body({Alert("firing", {{"alertname", "DiskFull"}, {"node", "node-02"}}, "dd04")}));
  EXPECT_EQ(Incidents("open").size(), 2u);
}

TEST_P(MonitoringTest, UnmappedAlertsAreKeptNotDropped) {
  auto r = Ingest(Body({Alert("firing", {{"alertname", "Mystery"}, {"instance", "ghost:9100"}}, "ee01")}));
  EXPECT_EQ(r.unmapped, 1);
  Ingest(Body({Alert("firing", {{"alertname", "Mystery"}, {"instance", "ghost-2:9100"}}, "ee02")}));
  auto open = Incidents("open");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_TRUE(open[0].unmapped);
  EXPECT_EQ(open[0].alerts, 2);
  EXPECT_EQ(open[0].ci, "");
  EXPECT_NE(open[0].title.find("unmapped"), std::string::npos);
}

TEST_P(MonitoringTest, LifeCycleTimelineAndTenantVisibility) {
  Ingest(Body({Alert("firing", {{"alertname", "DiskFull"}, {"node", "node-03"}}, "ff01")}));
  auto open = Incidents("open");
  ASSERT_EQ(open.size(), 1u);
  int64_t id = open[0].id;
  EXPECT_EQ(open[0].tenant, "beta");

  auto acked = service_->Acknowledge(op_, id, std::nullopt, std::string("looking"));
  ASSERT_TRUE(acked) << acked.error().message;
  EXPECT_EQ(acked->state, "acknowledged");
  EXPECT_EQ(acked->assignee, "olga");
  ASSERT_TRUE(service_->Assign(op_, id, "pat"));
  ASSERT_TRUE(service_->AddNote(op_, id, "cleaned /var/log"));
  EXPECT_EQ(service_->AddNote(op_, id, "").error().code, core::Code::kInvalidArgument);
  auto done = service_->Resolve(op_, id, std::string("fixed"));
  ASSERT_TRUE(done);
  EXPECT_EQ(done->state, "resolved");
  EXPECT_EQ(service_->Resolve(op_, id, {}).error().code, core::Code::kFailedPrecondition);
  EXPECT_EQ(service_->Acknowledge(op_, id, {}, {}).error().code, core::Code::kFailedPrecondition);

  auto full = service_->GetIncident(op_, id);
  ASSERT_TRUE(full);
  std::vector<std::string> kinds;
  for (const auto& t : full->at("timeline").as_array()) kinds.push_back(std::string(t.as_object().at("kind").as_string()));
  EXPECT_EQ(kinds, (std::vector<std::string>{"opened", "alert", "acknowledged", "note", "assigned", "note", "resolved"}));
  EXPECT_EQ(Count("SELECT COUNT(*) FROM audit_events WHERE action LIKE 'incident.%'"), 4);

  // A beta member sees it; an acme member does not (404, not 403).
  auto beta = TenantUser("bea", "beta");
  auto acme = TenantUser("al", "acme");
  EXPECT_TRUE(service_->GetIncident(beta, id));
  EXPECT_EQ(service_->GetIncident(acme, id).error().code, core::Code::kNotFound);
  EXPECT_EQ(service_->ListIncidents(acme, {})->size(), 0u);
  EXPECT_EQ(service_->ListIncidents(beta, {})->size(), 1u);
  EXPECT_EQ(service_->GetIncident(op_, 999999).error().code, core::Code::kNotFound);
}

GANTRY_INSTANTIATE_BACKENDS(MonitoringTest);

}  // namespace
}  // namespace gantry::monitoring
