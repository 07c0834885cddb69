// Real Prometheus, Alertmanager and (optionally) node-exporter from Debian for tests, all on
// free 127.0.0.1 ports with their state in one temp dir (/tmp/promfx.XXXXXX), started as this
// process's children (recipe: ../shared/recipes/prometheus-alertmanager.md). Start-up to ready
// takes well under a second; Prometheus scrapes its first targets about 5-6 s after start
// (its discovery manager passes target updates on at most every 5 s), so tests poll.
//
//   gantry::testing::PromFixtureOptions o;
//   o.sd_url = gantry.url() + "/api/v1/monitoring/targets?kind=agent"; o.sd_token = token;
//   o.webhook_url = gantry.url() + "/api/v1/monitoring/alertmanager"; o.webhook_token = token;
//   o.rules = "groups: ...";
//   gantry::testing::PromFixture prom(o);      // throws std::runtime_error (with log tails)
//   prom.WaitFor([&] { return prom.Query("up").find("\"1\"") != npos; }, 30s);
//
// Alertmanager runs with --cluster.listen-address= (no gossip port), group_wait 1s and
// group_interval 1s; Prometheus with scrape and evaluation intervals of 1s, the lifecycle API
// and the remote-write receiver. The destructor SIGTERMs and reaps every process, then removes
// the temp dir. Ports taken by someone else between bind(0) and the server's bind are retried
// with fresh ports (3 attempts).
#pragma once

#include <chrono>
#include <functional>
#include <string>
#include <vector>

#include "support/process.h"

namespace gantry::testing {

struct PromFixtureOptions {
  std::string sd_url;         // http_sd_configs URL of job "gantry-agent"; empty: no such job
  std::string sd_token;       // bearer token for it
  std::vector<std::string> static_targets;  // job "static"
  std::string webhook_url;    // Alertmanager's receiver; empty: a receiver with no webhook
  std::string webhook_token;  // bearer token for it
  std::string rules;          // rules file contents (YAML); empty: no rules
  bool node_exporter = false;
  int prometheus_port = 0;    // non-zero: listen there on the first attempt (a server configured
  int alertmanager_port = 0;  // with the peers' URLs before they start)
  std::chrono::seconds ready_timeout{20};
  std::string lookback_delta = "10s";
};

class PromFixture {
 public:
  // Whether prometheus, prometheus-alertmanager and promtool are installed.
  static bool Installed(std::string* why = nullptr);

  explicit PromFixture(PromFixtureOptions options);
  ~PromFixture();
  PromFixture(const PromFixture&) = delete;
  PromFixture& operator=(const PromFixture&) = delete;

  const std::string& dir() const { return dir_; }
  std::string prometheus_url() const { return "http://127.0.0.1:" + std::to_string(prom_port_); }
  std::string alertmanager_url() const { return "http://127.0.0.1:" + std::to_string(am_port_); }
  int node_exporter_port() const { return ne_port_; }

  // GET (or POST with a JSON body) with curl; the body (empty on failure).
  static std::string Http(const std::string& url, const std::string& method = "GET",
                          const std::string& json_body = {});
  // /api/v1/query?query=...: Prometheus' JSON answer.
  std::string Query(const std::string& promql) const;
  // Polls `done` every 100 ms until true or `timeout`; its last answer.
  static bool WaitFor(const std::function<bool()>& done, std::chrono::milliseconds timeout);
  // The tails of the processes' logs (for failure messages).
  std::string Logs() const;

 private:
  void StartOnce();
  void StopAll();

  PromFixtureOptions options_;
  std::string dir_;
  int prom_port_ = 0, am_port_ = 0, ne_port_ = 0;
  std::vector<Process> processes_;
};

}  // namespace gantry::testing
