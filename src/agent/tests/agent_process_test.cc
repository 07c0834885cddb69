// The real `gantry agent` process: it serves /metrics over HTTP, negotiates OpenMetrics, replays
// the recorded H100 through the fake libnvidia-ml.so.1, reports absent NVML with a gauge, and its
// output passes `promtool check metrics` (Prometheus' own parser and linter).
#include <gtest/gtest.h>

#include <boost/json.hpp>
#include <chrono>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <thread>

#include "metrics_text.h"
#include "support/process.h"
#include "support/test_db.h"

namespace gantry::agent {
namespace {

using gantry::testing::Process;
using testing::Find;

std::string DataDir() {
  return std::string(std::getenv("GANTRY_SOURCE_DIR")) + "/tests/data/nvml-h100";
}

class AgentProcess {
 public:
  explicit AgentProcess(std::vector<std::string> extra, std::map<std::string, std::string> env = {}) {
    for (int attempt = 0; attempt < 3; ++attempt) {
      port_ = gantry::testing::FreePort();
      std::vector<std::string> args = {GANTRY_BIN, "agent", "--listen",
                                       "127.0.0.1:" + std::to_string(port_), "--hostname", "node-a"};
      args.insert(args.end(), extra.begin(), extra.end());
      log_ = gantry::testing::MakeTempDir("agent-log") + "/agent.log";
      proc_ = Process::Spawn({.args = args, .env = env, .log_file = log_});
      for (int i = 0; i < 500; ++i) {
        if (Get("/healthz").status == 0) return;
        if (!proc_.Running()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
    throw std::runtime_error("gantry agent did not start: " + gantry::testing::ReadFile(log_));
  }
  ~AgentProcess() {
    proc_.Signal(SIGTERM);
    proc_.Wait(std::chrono::seconds(10));
  }
  gantry::testing::RunResult Get(const std::string& path, const std::string& accept = "",
                                 bool headers = false) {
    std::vector<std::string> args = {"curl", "-sS", "--fail", "--max-time", "10"};
    if (headers) args.push_back("-i");
    if (!accept.empty()) args.insert(args.end(), {"-H", "Accept: " + accept});
    args.push_back("http://127.0.0.1:" + std::to_string(port_) + path);
    return gantry::testing::Run(args);
  }
  Process& proc() { return proc_; }
  int port() const { return port_; }

 private:
  int port_ = 0;
  std::string log_;
  Process proc_;
};

// promtool exits 0 when clean, 1 on a parse error and 3 on lint findings. The only findings
// allowed are the names that compatibility dictates: node-exporter's node_memory_<Field>_bytes
// (camelCase), dcgm-exporter's labels (modelName, UUID, Hostname, also on our gantry_gpu_*
// series so they join with dcgm's) and its counters without _total
// (DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION, ..._REMAPPED_ROWS, DCGM_FI_DEV_RETIRED_*).
void ExpectPromtoolAccepts(const std::string& metrics) {
  auto r = gantry::testing::Run({"promtool", "check", "metrics"}, metrics);
  ASSERT_TRUE(r.status == 0 || r.status == 3) << r.output;
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty()) continue;
    bool compat = line.starts_with("node_memory_") || line.starts_with("DCGM_FI_DEV_") ||
                  (line.starts_with("gantry_gpu_") && line.find("label names") != std::string::npos);
    EXPECT_TRUE(compat) << "unexpected promtool finding: " << line;
    EXPECT_TRUE(line.find("camelCase") != std::string::npos ||
                line.find("counter metrics should have \"_total\" suffix") != std::string::npos)
        << line;
  }
}

TEST(AgentProcess, ServesRecordedH100AndPromtoolAcceptsIt) {
  AgentProcess agent({"--nvml-library", FAKE_NVML_PATH},
                     {{"GANTRY_FAKE_NVML_DUMP", DataDir() + "/nvml-dump-busy.json"}});
  auto r = agent.Get("/metrics");
  ASSERT_EQ(r.status, 0) << r.output;
  const std::string& t = r.output;
  std::map<std::string, std::string> gpu = {{"gpu", "0"},
                                            {"UUID", "GPU-8e6792b7-03bc-852e-3691-ccad9a3d6f6f"},
                                            {"Hostname", "node-a"}};
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_GPU_UTIL", gpu), 100);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_POWER_USAGE", gpu), 695.933);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", gpu), 7353444);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_GPU_TEMP", gpu), 54);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_FB_USED", gpu), 1490);  // 1563230208 B in MiB
  EXPECT_EQ(Find(t, "gantry_agent_collector_up", {{"collector", "gpu"}}), 1);
  EXPECT_TRUE(Find(t, "node_cpu_seconds_total", {{"mode", "idle"}}));
  ExpectPromtoolAccepts(t);
}

TEST(AgentProcess, OpenMetricsOnRequest) {
  AgentProcess agent({"--no-gpu"});
  auto r = agent.Get("/metrics", "application/openmetrics-text;version=1.0.0", true);
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("Content-Type: application/openmetrics-text; version=1.0.0"),
            std::string::npos);
  EXPECT_TRUE(r.output.ends_with("# EOF\n"));
  EXPECT_NE(r.output.find("# TYPE node_cpu_seconds counter\n"), std::string::npos);
  auto plain = agent.Get("/metrics", "", true);
  EXPECT_NE(plain.output.find("Content-Type: text/plain; version=0.0.4"), std::string::npos);
  EXPECT_EQ(plain.output.find("# EOF"), std::string::npos);
}

// Prometheus asks for gzip (Accept-Encoding: gzip); curl --compressed does the same and inflates.
TEST(AgentProcess, GzipWhenAsked) {
  AgentProcess agent({"--no-gpu"});
  auto url = "http://127.0.0.1:" + std::to_string(agent.port()) + "/metrics";
  auto zipped = gantry::testing::Run({"curl", "-sS", "--fail", "--max-time", "10", "--compressed", "-i", url});
  ASSERT_EQ(zipped.status, 0) << zipped.output;
  EXPECT_NE(zipped.output.find("Content-Encoding: gzip"), std::string::npos) << zipped.output.substr(0, 400);
  EXPECT_TRUE(Find(zipped.output, "node_cpu_seconds_total", {{"mode", "idle"}}));
  auto sizes = gantry::testing::Run({"curl", "-sS", "--fail", "--max-time", "10", "-o", "/dev/null", "-w",
                                     "%{size_download}", "-H", "Accept-Encoding: gzip", url});
  auto plain = agent.Get("/metrics", "", true);
  ASSERT_EQ(sizes.status, 0);
  EXPECT_EQ(plain.output.find("Content-Encoding"), std::string::npos) << "no gzip unless asked";
  EXPECT_LT(std::stoll(sizes.output) * 3, static_cast<long long>(plain.output.size()));
}

TEST(AgentProcess, AbsentNvmlLeavesTheRestWorking) {
  AgentProcess agent({"--nvml-library", "/nonexistent/libnvidia-ml.so.1"});
  auto r = agent.Get("/metrics");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_EQ(Find(r.output, "gantry_agent_collector_up", {{"collector", "gpu"}}), 0);
  EXPECT_EQ(Find(r.output, "gantry_agent_collector_up", {{"collector", "node"}}), 1);
  EXPECT_EQ(r.output.find("DCGM_FI_DEV_"), std::string::npos);
  EXPECT_TRUE(Find(r.output, "node_load1"));
  ExpectPromtoolAccepts(r.output);
  EXPECT_NE(agent.Get("/healthz").output.find("cannot load"), std::string::npos);
}

TEST(AgentProcess, BadRequestsGetClearErrors) {
  AgentProcess agent({"--no-gpu"});
  EXPECT_NE(agent.Get("/nope").status, 0);  // 404 with --fail
  auto post = gantry::testing::Run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST",
                   "http://127.0.0.1:" + std::to_string(agent.port()) + "/metrics"});
  EXPECT_EQ(post.output, "405");
  std::string huge(10000, 'a');
  auto big = gantry::testing::Run({"curl", "-s", "-o", "/dev/null", "-w", "%{http_code}", "-H", "X-Big: " + huge,
                  "http://127.0.0.1:" + std::to_string(agent.port()) + "/metrics"});
  EXPECT_EQ(big.output, "431");
  EXPECT_TRUE(agent.proc().Running());
  EXPECT_EQ(agent.Get("/metrics").status, 0);  // still serving
}

TEST(AgentProcess, OnceModeAndSigtermExit) {
  auto r = gantry::testing::Run({GANTRY_BIN, "agent", "--once", "--no-gpu"});
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_TRUE(Find(r.output, "node_memory_MemTotal_bytes"));
  AgentProcess agent({"--no-gpu"});
  agent.proc().Signal(SIGTERM);
  EXPECT_EQ(agent.proc().Wait(std::chrono::seconds(10)), 0);
}

}  // namespace
}  // namespace gantry::agent

namespace gantry::agent {
namespace {

// Every metric the shipped Grafana dashboards and alerting rules query is one that `gantry agent`
// exposes (with a dump that also has NVLink and MIG, so every family is present), or `up`.
TEST(AgentProcess, DashboardsAndRulesQueryOnlyExposedMetrics) {
  namespace json = boost::json;
  json::object dump = json::parse(gantry::testing::ReadFile(DataDir() + "/nvml-dump-busy.json")).as_object();
  json::object& g0 = dump["gpus"].as_array()[0].as_object();
  g0["mig_mode"] = json::array{1, 1};
  g0["mig_devices"] = json::array{json::object{{"uuid", "MIG-a"}, {"gpu_instance_id", 1}, {"compute_instance_id", 0},
                                               {"memory", json::object{{"total", 100}, {"free", 0}, {"used", 1}}}}};
  g0["nvlink"] = json::array{json::object{{"state", 1}}};
  g0["retired_pages_dbe"] = 0;
  std::string path = gantry::testing::MakeTempDir("agent-dash") + "/dump.json";
  std::ofstream(path) << json::serialize(dump);
  auto r = gantry::testing::Run({GANTRY_BIN, "agent", "--once", "--nvml-library", FAKE_NVML_PATH}, "",
               std::chrono::seconds(60), {{"GANTRY_FAKE_NVML_DUMP", path}, {"GANTRY_FAKE_NVML_XID", "0:79"}});
  ASSERT_EQ(r.status, 0) << r.output;
  std::set<std::string> exposed = {"up"};
  std::istringstream in(r.output);
  std::string line;
  while (std::getline(in, line)) {
    if (line.starts_with("# TYPE ")) exposed.insert(line.substr(7, line.find(' ', 7) - 7));
  }
  std::regex metric(R"(\b(DCGM_FI_[A-Z_]+|node_[A-Za-z0-9_]+|gantry_[a-z0-9_]+|process_[a-z_]+)\b)");
  auto check = [&](const std::string& where, const std::string& expr) {
    for (std::sregex_iterator it(expr.begin(), expr.end(), metric), end; it != end; ++it) {
      EXPECT_TRUE(exposed.contains((*it)[1].str())) << where << " queries " << (*it)[1].str()
                                                    << " which the agent does not expose";
    }
  };
  std::string src = std::getenv("GANTRY_SOURCE_DIR");
  int panels = 0;
  for (const char* name : {"cluster", "node", "gpu", "tenant"}) {
    std::string file = src + "/monitoring/dashboards/gantry-" + std::string(name) + ".json";
    json::value d = json::parse(gantry::testing::ReadFile(file));
    ASSERT_TRUE(d.as_object().contains("panels")) << file;
    for (const auto& p : d.at("panels").as_array()) {
      ++panels;
      for (const auto& t : p.at("targets").as_array()) check(file, std::string(t.at("expr").as_string()));
    }
  }
  EXPECT_GE(panels, 20);
  // The alerting rules: every expr line.
  std::istringstream rules(gantry::testing::ReadFile(src + "/monitoring/rules/gantry-gpu-node.yml"));
  while (std::getline(rules, line)) {
    if (line.find("expr:") != std::string::npos) check("rules", line);
  }
}

}  // namespace
}  // namespace gantry::agent
