// A real Prometheus (2.42, Debian) scrapes an agent-style target that exposes the metering series
// contract and remote-writes everything it scrapes into a real `gantry serve`
// (POST /api/v1/metering/write): the GPU counter becomes usage of the labelled tenant exactly
// once (Prometheus' retries and later unchanged samples add nothing), the other series Prometheus
// sends (up, scrape_*) are ignored and counted, and a corrupt body gets a 400.
// The target is a static file served by Python's http.server (the agent is another issue).
// SQLite only. Skipped when prometheus is not installed.
#include <gtest/gtest.h>

#include <fstream>
#include <thread>

#include "gantry_server.h"
#include "support/test_db.h"

namespace gantry::testing {
namespace {

bool Installed(const std::string& prog) {
  return Run({"/bin/sh", "-c", "command -v " + prog}).status == 0;
}

int64_t UsageOf(const GantryServer& g, const std::string& tenant) {
  auto r = g.Get("/api/v1/metering/usage?tenant=" + tenant + "&since=2000-01-01T00:00:00Z");
  if (r.status != 200) return -1;
  int64_t sum = 0;
  auto o = r.Object();
  if (!o.contains("items")) return -1;
  for (const auto& i : o.at("items").as_array()) sum += i.as_object().at("quantity").as_int64();
  return sum;
}

TEST(MeteringPrometheus, RemoteWriteFromARealPrometheusCountsOnce) {
  if (!Installed("prometheus")) GTEST_SKIP() << "prometheus is not installed";
  GantryServer g(store::Backend::kSqlite);
  ASSERT_EQ(201, g.Post("/api/v1/tenants", R"({"slug":"acme"})").status);

  std::string dir = MakeTempDir("metering-prom");
  {
    std::ofstream m(dir + "/metrics");
    m << "# HELP gantry_gpu_used_seconds_total GPU-seconds used.\n"
         "# TYPE gantry_gpu_used_seconds_total counter\n"
         "gantry_gpu_used_seconds_total{tenant=\"acme\",gpu_model=\"h100\",pod=\"trainer-0\"} 120.5\n";
  }
  int target_port = FreePort(), prom_port = FreePort();
  {
    std::ofstream c(dir + "/prometheus.yml");
    c << "global: {scrape_interval: 1s, scrape_timeout: 1s}\n"
         "scrape_configs:\n"
         "  - job_name: agent\n"
         "    static_configs: [{targets: ['127.0.0.1:" << target_port << "']}]\n"
         "remote_write:\n"
         "  - url: " << g.url() << "/api/v1/metering/write\n"
         "    authorization: {credentials: " << g.token() << "}\n"
         "    queue_config: {batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 1s}\n";
  }
  auto target = Process::Spawn({{"/usr/bin/python3", "-m", "http.server", std::to_string(target_port),
                                 "--bind", "127.0.0.1", "--directory", dir},
                                {}, dir + "/target.log"});
  auto prom = Process::Spawn({{"prometheus", "--config.file=" + dir + "/prometheus.yml",
                               "--storage.tsdb.path=" + dir + "/data",
                               "--web.listen-address=127.0.0.1:" + std::to_string(prom_port)},
                              {}, dir + "/prometheus.log"});
  // Prometheus' discovery throttle delays the first scrape by ~5 s; then a batch within ~1 s.
  auto deadline = std::chrono::steady_clock::now() + 60s;
  while (UsageOf(g, "acme") < 120'500 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ(120'500, UsageOf(g, "acme")) << ReadFile(dir + "/prometheus.log") << g.log();
  // More scrapes of the unchanged counter (and any resend) add nothing.
  auto metrics = [&] { return g.Get("/metrics").body; };
  deadline = std::chrono::steady_clock::now() + 30s;
  while (metrics().find("gantry_metering_remote_write_samples_total{result=\"replayed\"}") ==
             std::string::npos && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  std::this_thread::sleep_for(3s);
  EXPECT_EQ(120'500, UsageOf(g, "acme"));
  auto m = metrics();
  EXPECT_NE(std::string::npos, m.find("gantry_metering_remote_write_samples_total{result=\"ignored\"}"))
      << m;  // up, scrape_duration_seconds, ...
  // The counter moves: the increase counts.
  {
    std::ofstream f(dir + "/metrics");
    f << "gantry_gpu_used_seconds_total{tenant=\"acme\",gpu_model=\"h100\",pod=\"trainer-0\"} 130.5\n";
  }
  deadline = std::chrono::steady_clock::now() + 30s;
  while (UsageOf(g, "acme") < 130'500 && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(200ms);
  }
  EXPECT_EQ(130'500, UsageOf(g, "acme"));
  // A corrupt body is a 400 and is counted.
  HttpRequest bad;
  bad.method = "POST";
  bad.target = "/api/v1/metering/write";
  bad.body = "definitely not snappy";
  bad.content_type = "application/x-protobuf";
  bad.bearer = g.token();
  bad.headers = {{"Content-Encoding", "snappy"}};
  EXPECT_EQ(400, g.Request(bad).status);
  EXPECT_NE(std::string::npos,
            metrics().find("gantry_metering_rejected_total{source=\"remote-write\",reason=\"snappy\"} 1"));
  prom.Signal(SIGTERM);
  prom.Wait(10s);
  target.Signal(SIGTERM);
  target.Wait(10s);
}

}  // namespace
}  // namespace gantry::testing
