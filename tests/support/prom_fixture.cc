#include "support/prom_fixture.h"

#include <signal.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "support/test_db.h"

namespace gantry::testing {

namespace {

bool OnPath(const std::string& name) {
  return Run({"sh", "-c", "command -v " + name}, "", std::chrono::seconds(5)).status == 0;
}

std::string Tail(const std::string& path, size_t bytes = 3000) {
  std::string s = ReadFile(path);
  return s.size() > bytes ? s.substr(s.size() - bytes) : s;
}

void Write(const std::string& path, const std::string& text) { std::ofstream(path) << text; }

}  // namespace

bool PromFixture::Installed(std::string* why) {
  for (const char* p : {"prometheus", "prometheus-alertmanager", "promtool", "prometheus-node-exporter", "curl"}) {
    if (!OnPath(p)) {
      if (why) *why = std::string(p) + " is not installed (scripts/bootstrap)";
      return false;
    }
  }
  return true;
}

std::string PromFixture::Http(const std::string& url, const std::string& method, const std::string& json_body) {
  std::vector<std::string> args = {"curl", "-s", "--max-time", "5", "-X", method};
  if (!json_body.empty()) args.insert(args.end(), {"-H", "Content-Type: application/json", "-d", json_body});
  args.push_back(url);
  auto r = Run(args, "", std::chrono::seconds(10));
  return r.status == 0 ? r.output : std::string();
}

std::string PromFixture::Query(const std::string& promql) const {
  auto r = Run({"curl", "-s", "--max-time", "5", prometheus_url() + "/api/v1/query", "--data-urlencode",
                "query=" + promql},
               "", std::chrono::seconds(10));
  return r.status == 0 ? r.output : std::string();
}

bool PromFixture::WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (done()) return true;
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
}

std::string PromFixture::Logs() const {
  std::string out;
  for (const char* f : {"prometheus.log", "alertmanager.log", "node-exporter.log"}) {
    std::string path = dir_ + "/" + f;
    if (std::filesystem::exists(path)) out += "--- " + std::string(f) + "\n" + Tail(path) + "\n";
  }
  return out;
}

PromFixture::PromFixture(PromFixtureOptions options) : options_(std::move(options)) {
  std::string why;
  if (!Installed(&why)) throw std::runtime_error(why);
  std::string last_error;
  for (int attempt = 0; attempt < 3; ++attempt) {
    try {
      StartOnce();
      return;
    } catch (const std::exception& e) {
      last_error = e.what();
      StopAll();
    }
  }
  throw std::runtime_error("Prometheus fixture did not start: " + last_error);
}

PromFixture::~PromFixture() {
  StopAll();
  if (!dir_.empty()) std::filesystem::remove_all(dir_);
}

void PromFixture::StopAll() {
  for (auto& p : processes_) {
    if (p.Running()) p.Signal(SIGTERM);
  }
  for (auto& p : processes_) p.Wait(std::chrono::seconds(10));
  processes_.clear();
}

void PromFixture::StartOnce() {
  dir_ = MakeTempDir("promfx");
  bool first = processes_.empty() && prom_port_ == 0;
  prom_port_ = first && options_.prometheus_port ? options_.prometheus_port : FreePort();
  am_port_ = first && options_.alertmanager_port ? options_.alertmanager_port : FreePort();
  ne_port_ = options_.node_exporter ? FreePort() : 0;
  std::filesystem::create_directories(dir_ + "/textfile");

  // Alertmanager.
  std::string am = "route: {receiver: gantry, group_by: [alertname], group_wait: 1s, group_interval: 1s, "
                   "repeat_interval: 1h}\nreceivers:\n  - name: gantry\n";
  if (!options_.webhook_url.empty()) {
    Write(dir_ + "/webhook.token", options_.webhook_token);
    am += "    webhook_configs:\n      - url: \"" + options_.webhook_url +
          "\"\n        send_resolved: true\n";
    if (!options_.webhook_token.empty()) {
      am += "        http_config:\n          authorization:\n            type: Bearer\n"
            "            credentials_file: " + dir_ + "/webhook.token\n";
    }
  }
  Write(dir_ + "/alertmanager.yml", am);

  // Prometheus.
  std::string prom = "global: {scrape_interval: 1s, scrape_timeout: 1s, evaluation_interval: 1s}\n";
  if (!options_.rules.empty()) {
    Write(dir_ + "/rules.yml", options_.rules);
    prom += "rule_files: [" + dir_ + "/rules.yml]\n";
  }
  prom += "alerting:\n  alertmanagers: [{api_version: v2, static_configs: [{targets: [\"127.0.0.1:" +
          std::to_string(am_port_) + "\"]}]}]\nscrape_configs:\n";
  std::vector<std::string> statics = options_.static_targets;
  if (ne_port_) statics.push_back("127.0.0.1:" + std::to_string(ne_port_));
  if (!statics.empty()) {
    prom += "  - job_name: static\n    static_configs: [{targets: [";
    for (size_t i = 0; i < statics.size(); ++i) prom += (i ? ", \"" : "\"") + statics[i] + "\"";
    prom += "]}]\n";
  }
  if (!options_.sd_url.empty()) {
    Write(dir_ + "/sd.token", options_.sd_token);
    prom += "  - job_name: gantry-agent\n    http_sd_configs:\n      - url: \"" + options_.sd_url +
            "\"\n        refresh_interval: 2s\n";
    if (!options_.sd_token.empty()) {
      prom += "        authorization:\n          type: Bearer\n          credentials_file: " + dir_ + "/sd.token\n";
    }
  }
  Write(dir_ + "/prometheus.yml", prom);
  auto check = Run({"promtool", "check", "config", dir_ + "/prometheus.yml"});
  if (check.status != 0) throw std::runtime_error("promtool check config: " + check.output + "\n" + prom);

  auto spawn = [&](std::vector<std::string> args, const std::string& log) {
    processes_.push_back(Process::Spawn({.args = std::move(args), .log_file = dir_ + "/" + log}));
  };
  spawn({"prometheus-alertmanager", "--config.file=" + dir_ + "/alertmanager.yml",
         "--storage.path=" + dir_ + "/am-data", "--web.listen-address=127.0.0.1:" + std::to_string(am_port_),
         "--web.external-url=" + alertmanager_url(), "--cluster.listen-address="},
        "alertmanager.log");
  spawn({"prometheus", "--config.file=" + dir_ + "/prometheus.yml", "--storage.tsdb.path=" + dir_ + "/prom-data",
         "--web.listen-address=127.0.0.1:" + std::to_string(prom_port_), "--web.external-url=" + prometheus_url(),
         "--web.enable-remote-write-receiver", "--web.enable-lifecycle",
         "--query.lookback-delta=" + options_.lookback_delta},
        "prometheus.log");
  if (ne_port_) {
    spawn({"prometheus-node-exporter", "--web.listen-address=127.0.0.1:" + std::to_string(ne_port_),
           "--collector.textfile.directory=" + dir_ + "/textfile"},
          "node-exporter.log");
  }
  std::vector<std::string> ready = {alertmanager_url() + "/-/ready", prometheus_url() + "/-/ready"};
  if (ne_port_) ready.push_back("http://127.0.0.1:" + std::to_string(ne_port_) + "/metrics");
  for (const auto& url : ready) {
    bool ok = WaitFor(
        [&] {
          for (auto& p : processes_) {
            if (!p.Running()) return true;  // fail fast below
          }
          return Run({"curl", "-sf", "-o", "/dev/null", "--max-time", "2", url}, "", std::chrono::seconds(5)).status == 0;
        },
        options_.ready_timeout);
    for (auto& p : processes_) {
      if (!p.Running()) throw std::runtime_error("a server exited during start-up\n" + Logs());
    }
    if (!ok) throw std::runtime_error(url + " not ready\n" + Logs());
  }
}

}  // namespace gantry::testing
