// gantry_monitoring_bench: HTTP SD and webhook ingest on the CMDB benchmark's estate
// (bench/cmdb/gen.cc writes it; at scale 1: 20,000 servers, ~1M CIs). In process, on SQLite:
//   sd       TargetDirectory::Targets("agent") with the cache cleared before every call: the
//            full build of the http_sd answer (what a request costs when the 10 s cache is cold)
//   enrich   per alert: labels → CI (CiResolver) + CMDB context (cold, then cached): p50/p99
//   ingest   Service::IngestAlertmanager on generated Alertmanager bodies (one alertname per
//            body, alerts on random servers, unique fingerprints): alerts per second
//
//   gantry_monitoring_bench --sqlite PATH [--sd-iterations 5] [--bodies 200]
//                           [--alerts-per-body 50] [--enrich-samples 2000]
// Prints RESULT lines (bench/monitoring/run.sh collects them).
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <random>
#include <string>
#include <vector>

#include "audit/service.h"
#include "cmdb/service.h"
#include "monitoring/service.h"
#include "store/database.h"
#include "store/migrate.h"

namespace {

using namespace gantry;
using Clock = std::chrono::steady_clock;

double Ms(Clock::duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

// CPU time of this thread in ms (the machine may be shared: wall time then overstates).
double CpuMs() {
  struct rusage ru {};
  getrusage(RUSAGE_THREAD, &ru);
  return static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) * 1e3 +
         static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e3;
}

template <class T>
T Must(core::Result<T> r, const char* what) {
  if (!r) {
    std::fprintf(stderr, "%s: %s\n", what, r.error().message.c_str());
    std::exit(1);
  }
  return std::move(*r);
}

double Percentile(std::vector<double> v, double p) {
  if (v.empty()) return 0;
  std::sort(v.begin(), v.end());
  size_t i = std::min(v.size() - 1, static_cast<size_t>(p * static_cast<double>(v.size())));
  return v[i];
}

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  int sd_iterations = 5, bodies = 200, per_body = 50, samples = 2000;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    std::string v = argv[i + 1];
    if (k == "--sqlite") path = v;
    else if (k == "--sd-iterations") sd_iterations = std::stoi(v);
    else if (k == "--bodies") bodies = std::stoi(v);
    else if (k == "--alerts-per-body") per_body = std::stoi(v);
    else if (k == "--enrich-samples") samples = std::stoi(v);
    else {
      std::fprintf(stderr, "unknown flag %s\n", k.c_str());
      return 2;
    }
  }
  if (path.empty()) {
    std::fprintf(stderr, "usage: gantry_monitoring_bench --sqlite PATH [...]\n");
    return 2;
  }
  auto db = Must(store::Open("sqlite:" + path, {}), "open");
  Must(store::Migrate(*db), "migrate");
  const core::Clock& clock = core::SystemClock::Get();
  audit::Service audit(*db, clock, std::nullopt);
  cmdb::Service cmdb(*db, audit, clock);
  auto t0 = Clock::now();
  if (auto st = cmdb.Init(); !st) {
    std::fprintf(stderr, "cmdb init: %s\n", st.error().message.c_str());
    return 1;
  }
  auto stats = cmdb.graph().Stats();
  std::printf("RESULT estate cis=%zu relations=%zu graph_load_s=%.1f\n", stats.nodes, stats.edges,
              Ms(Clock::now() - t0) / 1000);

  monitoring::MonitoringConfig config;
  config.targets.ttl = std::chrono::milliseconds(0);
  monitoring::Service mon(*db, audit, cmdb, clock, config);
  auto rc = core::RequestContext::System("bench");

  // HTTP SD.
  std::vector<double> sd, sd_cpu;
  size_t bytes = 0, targets = 0;
  for (int i = 0; i < sd_iterations; ++i) {
    mon.targets().Invalidate();
    auto s = Clock::now();
    double c0 = CpuMs();
    std::string body = Must(mon.Targets(rc, "agent"), "targets");
    sd_cpu.push_back(CpuMs() - c0);
    sd.push_back(Ms(Clock::now() - s));
    bytes = body.size();
    targets = 0;
    for (size_t at = body.find("\"targets\""); at != std::string::npos; at = body.find("\"targets\"", at + 1)) ++targets;
  }
  auto cached_start = Clock::now();
  mon.targets().Invalidate();
  (void)mon.Targets(rc, "agent");
  monitoring::TargetDirectory warm(cmdb, {9400, std::chrono::milliseconds(60'000)});
  (void)warm.Targets("agent");
  cached_start = Clock::now();
  for (int i = 0; i < 100; ++i) (void)warm.Targets("agent");
  double cached = Ms(Clock::now() - cached_start) / 100;
  std::printf("RESULT sd cold_ms_median=%.1f cold_ms_max=%.1f cold_cpu_ms_median=%.1f cached_ms=%.3f bytes=%zu targets=%zu\n",
              Percentile(sd, 0.5), Percentile(sd, 1.0), Percentile(sd_cpu, 0.5), cached, bytes, targets);
  {
    // Where a cold build goes: the server scan, the graph lookups.
    auto a = Clock::now();
    cmdb::CiFilter sf;
    sf.type = "server";
    sf.limit = 5000;
    size_t n = 0;
    std::vector<int64_t> ids;
    for (;;) {
      auto page = Must(cmdb.ListCis(rc, sf), "servers");
      n += page.size();
      for (const auto& ci : page) ids.push_back(ci.id);
      if (static_cast<int>(page.size()) < sf.limit) break;
      sf.after_id = page.back().id;
    }
    double scan = Ms(Clock::now() - a);
    a = Clock::now();
    cmdb::NeighbourhoodOptions o;
    o.depth = 1;
    o.relation_types = {"located_in", "member_of", "owned_by", "contains"};
    size_t edges = 0;
    for (int64_t id : ids) edges += cmdb.graph().Neighbourhood(id, o).edges.size();
    double graph = Ms(Clock::now() - a);
    std::printf("RESULT sd_parts server_scan_ms=%.1f (%zu servers) neighbourhoods_ms=%.1f (%zu edges)\n", scan, n,
                graph, edges);
  }

  // Servers to alert on.
  std::vector<std::string> servers;
  cmdb::CiFilter f;
  f.type = "server";
  f.limit = 5000;
  for (;;) {
    auto page = Must(cmdb.ListCis(rc, f), "servers");
    for (const auto& ci : page) servers.push_back(ci.name);
    if (static_cast<int>(page.size()) < f.limit) break;
    f.after_id = page.back().id;
  }
  std::mt19937_64 rng(42);

  // Enrichment: resolve + context per alert.
  std::vector<double> enrich_cold, enrich_warm, enrich_cold_cpu;
  for (int i = 0; i < samples; ++i) {
    const std::string& s = servers[rng() % servers.size()];
    core::json::object labels{{"alertname", "NodeDown"}, {"gantry_ci", "server/" + s}, {"instance", s + ":9400"}};
    auto a = Clock::now();
    double c0 = CpuMs();
    auto m = mon.resolver().Resolve(labels);
    if (m) (void)mon.resolver().Context(m->id);
    double cold = Ms(Clock::now() - a);
    if (i > 0) enrich_cold_cpu.push_back(CpuMs() - c0);
    a = Clock::now();
    m = mon.resolver().Resolve(labels);
    if (m) (void)mon.resolver().Context(m->id);
    double warm_ms = Ms(Clock::now() - a);
    if (i > 0) {  // the first builds the lookup table
      enrich_cold.push_back(cold);
      enrich_warm.push_back(warm_ms);
    }
  }
  std::printf("RESULT enrich samples=%d cold_p50_ms=%.3f cold_p99_ms=%.3f cold_cpu_p99_ms=%.3f cached_p50_ms=%.4f cached_p99_ms=%.4f table=%zu\n",
              samples, Percentile(enrich_cold, 0.5), Percentile(enrich_cold, 0.99), Percentile(enrich_cold_cpu, 0.99),
              Percentile(enrich_warm, 0.5),
              Percentile(enrich_warm, 0.99), mon.resolver().size());

  // Ingest.
  const char* names[] = {"NodeDown", "GpuXidError", "DiskFull", "GpuThermalSlowdown", "GpuEccDoubleBitError"};
  std::vector<std::string> payloads;
  int64_t fp = 1;
  for (int b = 0; b < bodies; ++b) {
    std::string name = names[b % 5];
    std::string alerts;
    for (int k = 0; k < per_body; ++k) {
      const std::string& s = servers[rng() % servers.size()];
      char fpbuf[32];
      std::snprintf(fpbuf, sizeof fpbuf, "%016llx", static_cast<unsigned long long>(fp++));
      alerts += std::string(alerts.empty() ? "" : ",") + "{\"status\":\"firing\",\"labels\":{\"alertname\":\"" + name +
                "\",\"gantry_ci\":\"server/" + s + "\",\"instance\":\"" + s + ":9400\",\"severity\":\"critical\"}," +
                "\"annotations\":{\"summary\":\"bench\"},\"startsAt\":\"2027-01-15T08:00:00Z\"," +
                "\"endsAt\":\"0001-01-01T00:00:00Z\",\"fingerprint\":\"" + fpbuf + "\"}";
    }
    payloads.push_back("{\"version\":\"4\",\"status\":\"firing\",\"receiver\":\"gantry\",\"groupKey\":\"" +
                       std::to_string(b) + "\",\"alerts\":[" + alerts + "]}");
  }
  std::vector<double> per_body_ms;
  auto start = Clock::now();
  double cpu_start = CpuMs();
  int64_t created = 0, incidents = 0;
  for (const auto& p : payloads) {
    auto s = Clock::now();
    auto r = Must(mon.IngestAlertmanager(rc, p), "ingest");
    per_body_ms.push_back(Ms(Clock::now() - s));
    created += r.created;
    incidents += static_cast<int64_t>(r.incidents.size());
  }
  double secs = Ms(Clock::now() - start) / 1000;
  double cpu_secs = (CpuMs() - cpu_start) / 1000;
  std::printf("RESULT ingest bodies=%d alerts=%lld alerts_per_s=%.0f alerts_per_cpu_s=%.0f body_p50_ms=%.1f body_p99_ms=%.1f incidents_touched=%lld\n",
              bodies, static_cast<long long>(created), static_cast<double>(created) / secs,
              static_cast<double>(created) / cpu_secs,
              Percentile(per_body_ms, 0.5), Percentile(per_body_ms, 0.99), static_cast<long long>(incidents));
  return 0;
}
