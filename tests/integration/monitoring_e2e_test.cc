// End to end with the real peers: `gantry serve` holds a small CMDB; real Prometheus discovers
// `gantry agent` through Gantry's HTTP SD endpoint (bearer token) and scrapes it; the shipped
// rule GpuFallenOffBus fires for the agent's lost GPU (recorded H100 readings replayed by the
// fake libnvidia-ml.so.1, the only mock: no GPU here); real Alertmanager posts to Gantry's
// webhook receiver (bearer token); the test finds the incident enriched with CMDB context.
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <filesystem>
#include <fstream>

#include "gantry_server.h"
#include "support/prom_fixture.h"
#include "support/test_db.h"

namespace gantry::testing {
namespace {

namespace json = boost::json;

std::string Source() { return std::getenv("GANTRY_SOURCE_DIR"); }

void Ok(const HttpResponse& r) { ASSERT_TRUE(r.status == 200 || r.status == 201) << r.Describe(); }

TEST(MonitoringE2E, PrometheusDiscoversScrapesAlertsAndGantryOpensAnEnrichedIncident) {
  std::string why;
  if (!PromFixture::Installed(&why)) GTEST_SKIP() << why;
  int agent_port = FreePort();
  int prom_port = FreePort();
  int am_port = FreePort();
  // Where Gantry forwards incident notifications.
  int sink_port = FreePort();
  std::string sink_dir = MakeTempDir("e2e-sink");
  Process sink = Process::Spawn({.args = {"/usr/bin/python3", Source() + "/tests/support/webhook_sink.py",
                                          std::to_string(sink_port), sink_dir}});
  GantryServer gantry(store::Backend::kSqlite,
                      {"--notify-webhook", "http://127.0.0.1:" + std::to_string(sink_port) + "/hook",
                       "--agent-port", std::to_string(agent_port), "--prometheus-url",
                       "http://127.0.0.1:" + std::to_string(prom_port), "--alertmanager-url",
                       "http://127.0.0.1:" + std::to_string(am_port)});
  // Before the peers run: a clear status, and the API still answers.
  auto down = gantry.Get("/api/v1/monitoring/status").Object();
  EXPECT_NE(std::string(down["prometheus"].as_string()).find("unreachable"), std::string::npos);
  EXPECT_EQ(gantry.Get("/api/v1/metrics/query?query=up").status, 503);
  // The webhook receiver over HTTP: bad bodies are clear 4xx problems and change nothing.
  const std::string hook = "/api/v1/monitoring/alertmanager";
  auto bad = gantry.Post(hook, "{\"version\":\"4\",\"alerts\":[{\"status\":\"firing\"}]}");
  EXPECT_EQ(bad.status, 400) << bad.Describe();
  EXPECT_EQ(bad.Header("content-type"), "application/problem+json");
  EXPECT_EQ(gantry.Post(hook, std::string(2 << 20, ' ')).status, 413);
  EXPECT_EQ(gantry.Post(hook, "{}", "").status, 401);
  EXPECT_EQ(gantry.Get("/api/v1/incidents").Object()["items"].as_array().size(), 0u);

  // The CMDB: dc1 > hall-1 > rack A01 > node-e2e (tenant acme, primary_ip 127.0.0.1) with two
  // GPUs whose uuid attributes match the agent's UUID labels.
  auto ci = [&](const std::string& type, const std::string& name, json::object attrs = {},
                std::string tenant = "") {
    json::object body{{"type", type}, {"name", name}, {"attributes", attrs}};
    if (!tenant.empty()) body["tenant"] = tenant;
    Ok(gantry.Post("/api/v1/cmdb/cis", json::serialize(body)));
  };
  auto rel = [&](const std::string& from, const std::string& type, const std::string& to) {
    Ok(gantry.Post("/api/v1/cmdb/relations",
                   json::serialize(json::object{{"type", type}, {"from", from}, {"to", to}})));
  };
  ci("site", "dc1");
  ci("room", "hall-1");
  ci("rack", "A01");
  rel("room/hall-1", "located_in", "site/dc1");
  rel("rack/A01", "located_in", "room/hall-1");
  ci("server", "node-e2e", {{"primary_ip", "127.0.0.1"}, {"role", "gpu-node"}, {"gpu_model", "H100"}}, "acme");
  rel("server/node-e2e", "located_in", "rack/A01");
  ci("gpu", "node-e2e:gpu0", {{"uuid", "GPU-8e6792b7-03bc-852e-3691-ccad9a3d6f6f"}});
  ci("gpu", "node-e2e:gpu1", {{"uuid", "GPU-e2e-lost"}});
  rel("server/node-e2e", "contains", "gpu/node-e2e:gpu0");
  rel("server/node-e2e", "contains", "gpu/node-e2e:gpu1");

  // The agent: the recorded idle H100 plus a second GPU that fell off the bus.
  json::object dump = json::parse(ReadFile(Source() + "/tests/data/nvml-h100/nvml-dump.json")).as_object();
  json::object lost = dump["gpus"].as_array()[0].as_object();
  lost["uuid"] = "GPU-e2e-lost";
  lost["lost"] = true;
  dump["gpus"].as_array().push_back(lost);
  std::string dump_path = MakeTempDir("e2e-nvml") + "/dump.json";
  std::ofstream(dump_path) << json::serialize(dump);
  Process agent = Process::Spawn({.args = {GantryBin(), "agent", "--listen", "127.0.0.1:" + std::to_string(agent_port),
                                           "--hostname", "node-e2e", "--nvml-library", FAKE_NVML_PATH},
                                  .env = {{"GANTRY_FAKE_NVML_DUMP", dump_path}},
                                  .log_file = gantry.dir() + "/agent.log"});

  PromFixtureOptions o;
  o.sd_url = gantry.url() + "/api/v1/monitoring/targets?kind=agent";
  o.sd_token = gantry.token();
  o.webhook_url = gantry.url() + "/api/v1/monitoring/alertmanager";
  o.webhook_token = gantry.token();
  o.rules = ReadFile(Source() + "/monitoring/rules/gantry-gpu-node.yml");
  o.prometheus_port = prom_port;
  o.alertmanager_port = am_port;
  PromFixture prom(o);

  // Prometheus found the agent through the SD endpoint, with CMDB labels, and scrapes it.
  ASSERT_TRUE(PromFixture::WaitFor(
      [&] { return prom.Query("up{job=\"gantry-agent\",gantry_ci=\"server/node-e2e\",rack=\"A01\",tenant=\"acme\"} == 1")
                       .find("\"value\"") != std::string::npos; },
      std::chrono::seconds(40)))
      << prom.Logs() << ReadFile(gantry.dir() + "/agent.log");
  EXPECT_NE(prom.Query("DCGM_FI_DEV_POWER_USAGE{UUID=\"GPU-8e6792b7-03bc-852e-3691-ccad9a3d6f6f\"}")
                .find("\"74.009\""), std::string::npos);

  // The rule fires, Alertmanager posts, Gantry opens an incident about the lost GPU.
  json::object incident;
  ASSERT_TRUE(PromFixture::WaitFor(
      [&] {
        auto r = gantry.Get("/api/v1/incidents");
        if (r.status != 200) return false;
        json::object list = r.Object();
        if (!list.contains("items")) return false;
        for (const auto& i : list["items"].as_array()) {
          if (i.at("alertname").as_string() == "GpuFallenOffBus") {
            incident = i.as_object();
            return true;
          }
        }
        return false;
      },
      std::chrono::seconds(40)))
      << prom.Logs() << gantry.log();
  EXPECT_EQ(incident["ci"].as_string(), "gpu/node-e2e:gpu1");
  EXPECT_EQ(incident["state"].as_string(), "open");
  EXPECT_EQ(incident["severity"].as_string(), "critical");
  EXPECT_EQ(incident["tenant"].as_string(), "acme");
  EXPECT_EQ(incident["context"].at("location_path").as_string(), "dc1/hall-1/A01");
  auto full = gantry.Get("/api/v1/incidents/" + std::to_string(incident["id"].as_int64())).Object();
  auto alert = full["alert_list"].as_array().at(0).as_object();
  EXPECT_EQ(alert["matched_by"].as_string(), "UUID");  // the GPU itself, not only its server
  EXPECT_EQ(alert["labels"].at("rack").as_string(), "A01");  // an SD label, carried through
  EXPECT_EQ(alert["labels"].at("Hostname").as_string(), "node-e2e");

  // The enriched incident was forwarded to the notification webhook.
  std::string forwarded;
  EXPECT_TRUE(PromFixture::WaitFor(
      [&] {
        for (const auto& f : std::filesystem::directory_iterator(sink_dir)) {
          std::string body = ReadFile(f.path().string());
          if (body.find("incident.opened") != std::string::npos) forwarded = body;
        }
        return !forwarded.empty();
      },
      std::chrono::seconds(20)));
  EXPECT_NE(forwarded.find("\"location_path\":\"dc1/hall-1/A01\""), std::string::npos) << forwarded;
  EXPECT_NE(forwarded.find("gpu/node-e2e:gpu1"), std::string::npos) << forwarded;

  // The CLI shows it and works it.
  auto gantry_cli = [&](std::vector<std::string> args) {
    args.insert(args.end(), {"--server", gantry.url(), "--token", gantry.token()});
    return RunGantry(args);
  };
  auto cli = gantry_cli({"incident", "list"});
  EXPECT_EQ(cli.status, 0) << cli.output;
  EXPECT_NE(cli.output.find("gpu/node-e2e:gpu1"), std::string::npos) << cli.output;
  std::string id = std::to_string(incident["id"].as_int64());
  cli = gantry_cli({"incident", "ack", id, "--note", "reseating the GPU"});
  EXPECT_EQ(cli.status, 0) << cli.output;
  cli = gantry_cli({"incident", "show", id});
  EXPECT_EQ(cli.status, 0) << cli.output;
  EXPECT_NE(cli.output.find("acknowledged"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("dc1/hall-1/A01"), std::string::npos) << cli.output;
  EXPECT_NE(cli.output.find("reseating the GPU"), std::string::npos) << cli.output;
  EXPECT_EQ(gantry_cli({"incident", "ack", "999999"}).status, 4);  // not found

  // Gantry was started with these peers' URLs; the fixture used the ports on its first attempt.
  ASSERT_EQ(prom.prometheus_url(), "http://127.0.0.1:" + std::to_string(prom_port)) << prom.Logs();
  ASSERT_EQ(prom.alertmanager_url(), "http://127.0.0.1:" + std::to_string(am_port)) << prom.Logs();
  {
    auto up = gantry.Get("/api/v1/monitoring/status").Object();
    EXPECT_EQ(up["prometheus"].as_string(), "ok");
    EXPECT_EQ(up["alertmanager"].as_string(), "ok");

    // Tenant-safe metrics: a member of acme sees its node's series, a member of beta none, and
    // a query that names the tenant label is refused.
    auto member = [&](const std::string& user, const std::string& tenant) {
      Ok(gantry.Post("/api/v1/tenants", json::serialize(json::object{{"slug", tenant}})));
      auto u = gantry.Post("/api/v1/users", json::serialize(json::object{{"username", user},
                                                                         {"roles", json::array{"tenant-member"}}}));
      Ok(u);
      std::string password(u.Object()["generated_password"].as_string());
      Ok(gantry.Post("/api/v1/tenants/" + tenant + "/members",
                     json::serialize(json::object{{"user", user}, {"role", "tenant-member"}})));
      auto login = gantry.Request({.method = "POST", .target = "/api/v1/auth/login",
                                   .body = json::serialize(json::object{{"username", user}, {"password", password},
                                                                        {"issue_token", true}})});
      Ok(login);
      return std::string(login.Object()["token"].as_string());
    };
    std::string acme = member("al", "acme");
    std::string beta = member("bea", "beta");
    auto series = [&](const std::string& token, const std::string& encoded_query) {
      auto r = gantry.Get("/api/v1/metrics/query?query=" + encoded_query, token);
      EXPECT_EQ(r.status, 200) << r.Describe();
      return r.status == 200 ? r.Object()["data"].at("result").as_array().size() : size_t{999};
    };
    EXPECT_EQ(series(acme, "up"), 1u);
    EXPECT_EQ(series(beta, "up"), 0u);
    EXPECT_EQ(series(beta, "DCGM_FI_DEV_GPU_TEMP"), 0u);
    EXPECT_EQ(series(acme, "DCGM_FI_DEV_GPU_TEMP"), 1u);  // the lost GPU has no reading
    EXPECT_EQ(series(gantry.token(), "count(up)"), 1u);    // operators query unchanged
    auto escape = gantry.Get("/api/v1/metrics/query?query=up%7Btenant%3D%22acme%22%7D", beta);
    EXPECT_EQ(escape.status, 400) << escape.Describe();
    // The portal's GPU chart: a range query, scoped the same way.
    auto now = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
    std::string range = "/api/v1/metrics/query_range?query=avg%20by%20(Hostname)%20(DCGM_FI_DEV_GPU_UTIL)&start=" +
                        std::to_string(now - 120) + "&end=" + std::to_string(now) + "&step=5";
    auto acme_range = gantry.Get(range, acme);
    ASSERT_EQ(acme_range.status, 200) << acme_range.Describe();
    EXPECT_EQ(acme_range.Object()["data"].at("result").as_array().size(), 1u) << acme_range.body;
    EXPECT_EQ(gantry.Get(range, beta).Object()["data"].at("result").as_array().size(), 0u);
    EXPECT_EQ(gantry.Get("/api/v1/metrics/query_range?query=up", acme).status, 400);  // start/end/step required
    auto q = RunGantry({"monitor", "query", "up", "--server", gantry.url(), "--token", acme});
    EXPECT_EQ(q.status, 0) << q.output;
    EXPECT_NE(q.output.find("\"tenant\": \"acme\""), std::string::npos) << q.output;
    auto st = gantry_cli({"monitor", "status"});
    EXPECT_NE(st.output.find("ok"), std::string::npos) << st.output;

    // Maintenance: the rack silences the node's alerts in Alertmanager; removing it ends that.
    auto state = [&] {
      std::string body = PromFixture::Http(prom.alertmanager_url() +
                                           "/api/v2/alerts?filter=alertname%3D%22GpuFallenOffBus%22");
      auto v = json::parse(body.empty() ? "[]" : body);
      if (!v.is_array() || v.as_array().empty()) return std::string();
      return std::string(v.as_array()[0].at("status").at("state").as_string());
    };
    auto sil = gantry_cli({"monitor", "silence", "rack/A01", "--minutes", "10", "--comment", "e2e", "-o", "json"});
    ASSERT_EQ(sil.status, 0) << sil.output;
    int64_t sil_id = json::parse(sil.output).at("id").as_int64();
    EXPECT_TRUE(PromFixture::WaitFor([&] { return state() == "suppressed"; }, std::chrono::seconds(20)));
    auto listed = gantry_cli({"monitor", "silences"});
    EXPECT_NE(listed.output.find("rack/A01"), std::string::npos) << listed.output;
    auto del = gantry_cli({"monitor", "unsilence", std::to_string(sil_id)});
    EXPECT_EQ(del.status, 0) << del.output;
    EXPECT_TRUE(PromFixture::WaitFor([&] { return state() == "active"; }, std::chrono::seconds(20)));

    // The same without asking: the rack's CMDB status maintenance makes gantry serve queue
    // monitoring.maintenance_sync, whose silence suppresses the alert; back to active expires it.
    auto on = gantry_cli({"ci", "update", "rack/A01", "--status", "maintenance"});
    ASSERT_EQ(on.status, 0) << on.output;
    EXPECT_TRUE(PromFixture::WaitFor([&] { return state() == "suppressed"; }, std::chrono::seconds(30)));
    auto auto_listed = gantry_cli({"monitor", "silences", "-o", "json"});
    EXPECT_NE(auto_listed.output.find("\"origin\": \"maintenance\""), std::string::npos) << auto_listed.output;
    auto off = gantry_cli({"ci", "update", "rack/A01", "--status", "active"});
    ASSERT_EQ(off.status, 0) << off.output;
    EXPECT_TRUE(PromFixture::WaitFor([&] { return state() == "active"; }, std::chrono::seconds(30)));
    auto sync_jobs = gantry_cli({"jobs", "list", "--type", "monitoring.maintenance_sync", "-o", "json"});
    EXPECT_NE(sync_jobs.output.find("succeeded"), std::string::npos) << sync_jobs.output;
  }
  agent.Signal(SIGTERM);
  EXPECT_EQ(agent.Wait(std::chrono::seconds(10)), 0);
}

TEST(MonitoringE2E, GeneratedConfigsPassPromtoolAndAmtool) {
  std::string dir = MakeTempDir("mon-config");
  std::ofstream(dir + "/token") << "x";
  auto prom = RunGantry({"monitor", "prometheus-config", "--server", "https://gantry.example",
                         "--token-file", dir + "/token", "--rules",
                         Source() + "/monitoring/rules/gantry-gpu-node.yml", "--bmc-exporter", "127.0.0.1:9610"});
  ASSERT_EQ(prom.status, 0) << prom.output;
  EXPECT_NE(prom.output.find("https://gantry.example/api/v1/monitoring/targets?kind=agent"), std::string::npos);
  std::ofstream(dir + "/prometheus.yml") << prom.output;
  auto check = gantry::testing::Run({"promtool", "check", "config", dir + "/prometheus.yml"});
  EXPECT_EQ(check.status, 0) << check.output << prom.output;
  auto am = RunGantry({"monitor", "alertmanager-config", "--server", "https://gantry.example", "--token-file", dir + "/token"});
  ASSERT_EQ(am.status, 0) << am.output;
  std::ofstream(dir + "/alertmanager.yml") << am.output;
  auto amcheck = gantry::testing::Run({"amtool", "check-config", dir + "/alertmanager.yml"});
  EXPECT_EQ(amcheck.status, 0) << amcheck.output << am.output;
}

}  // namespace
}  // namespace gantry::testing
