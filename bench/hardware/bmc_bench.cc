// Fan-out benchmark of hardware control: a power-status sweep and an inventory read over many
// emulated Redfish BMCs (tests/redfish/redfish_sim.py, started by bench/hardware/run.sh), through
// the real hardware::Service and Redfish driver. Prints one JSON object per phase:
//   {"phase", "bmcs", "ok", "failed", "by_fault", "wall_ms", "slowest_ok_ms", "ideal_ms", "ratio"}
// where ideal = the slowest successful BMC's answer + one timeout (the dead BMCs', in parallel).
// With --paths-out FILE it also writes the resource paths one inventory read fetches (for the
// sequential curl baseline in run.sh).
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "audit/service.h"
#include "cmdb/service.h"
#include "hardware/inventory.h"
#include "hardware/redfish.h"
#include "hardware/service.h"
#include "store/migrate.h"

namespace hw = gantry::hardware;
namespace core = gantry::core;
namespace json = boost::json;

namespace {

struct Args {
  std::string ports;
  std::string db;  // required: a file database (sqlite:PATH) or PostgreSQL URL
  int timeout_ms = 2000;
  int concurrency = 1000;
  int reconcile = 0;  // nodes whose inventory is also reconciled into the CMDB
  std::string paths_out;
};

void Report(const std::string& phase, const std::vector<hw::NodeResult>& results, int64_t wall_ms, int timeout_ms,
            bool any_dead) {
  int64_t ok = 0, slowest = 0;
  std::map<std::string, int64_t> faults;
  for (const auto& r : results) {
    if (r.ok) {
      ++ok;
      slowest = std::max(slowest, r.elapsed_ms);
    } else {
      ++faults[r.fault];
    }
  }
  int64_t ideal = slowest + (any_dead ? timeout_ms : 0);
  json::object by_fault;
  for (const auto& [k, v] : faults) by_fault[k] = v;
  json::object o{{"phase", phase},          {"bmcs", static_cast<int64_t>(results.size())},
                 {"ok", ok},                {"failed", static_cast<int64_t>(results.size()) - ok},
                 {"by_fault", by_fault},    {"wall_ms", wall_ms},
                 {"slowest_ok_ms", slowest}, {"ideal_ms", ideal},
                 {"ratio", ideal ? static_cast<double>(wall_ms) / static_cast<double>(ideal) : 0.0}};
  std::cout << json::serialize(o) << std::endl;
}

int64_t Since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0).count();
}

}  // namespace

int main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--ports") a.ports = v;
    else if (k == "--db") a.db = v;
    else if (k == "--timeout-ms") a.timeout_ms = std::stoi(v);
    else if (k == "--concurrency") a.concurrency = std::stoi(v);
    else if (k == "--reconcile") a.reconcile = std::stoi(v);
    else if (k == "--paths-out") a.paths_out = v;
    else {
      std::cerr << "unknown option " << k << "\n";
      return 2;
    }
  }
  if (a.ports.empty() || a.db.empty()) {
    std::cerr << "usage: gantry_bmc_bench --ports FILE --db URL [--timeout-ms MS] [--concurrency N] [--reconcile N] "
                 "[--paths-out FILE]\n";
    return 2;
  }
  std::ifstream in(a.ports);
  std::stringstream ss;
  ss << in.rdbuf();
  auto list = json::parse(ss.str()).as_array();

  auto db = gantry::store::Open(a.db).value();
  (void)gantry::store::Migrate(*db).value();
  auto& clock = core::SystemClock::Get();
  gantry::audit::Service audit(*db, clock);
  gantry::cmdb::Service cmdb(*db, audit, clock);
  (void)cmdb.Init().value();
  (void)hw::EnsureInventoryTypes(cmdb).value();
  hw::DriverOptions opts;
  opts.timeout = std::chrono::milliseconds(a.timeout_ms);
  opts.connect_timeout = std::chrono::milliseconds(a.timeout_ms);
  opts.attempts = 1;
  auto factory = std::make_shared<hw::RealDriverFactory>(opts);
  hw::Service service(*db, audit, clock, hw::CredentialBox::FromKey(std::string(32, 'b')).value(), factory);
  auto rc = core::RequestContext::System("bench");

  std::vector<std::string> targets;
  bool any_dead = false;
  for (const auto& e : list) {
    int64_t idx = e.at("index").as_int64();
    std::string node = "node-" + std::to_string(idx);
    hw::NewBmc b{"bmc-" + std::to_string(idx), "http://127.0.0.1:" + std::to_string(e.at("port").as_int64()),
                 hw::Protocol::kRedfish, node, std::nullopt, {"admin", "password"}};
    (void)service.AddBmc(rc, b).value();
    targets.push_back(node);
    any_dead = any_dead || e.at("dead").as_bool();
  }

  if (!a.paths_out.empty()) {
    // The resources one inventory read fetches (from the first BMC that is alive).
    for (const auto& e : list) {
      if (e.at("dead").as_bool()) continue;
      hw::Endpoint ep{"probe", "http://127.0.0.1:" + std::to_string(e.at("port").as_int64()), hw::Protocol::kRedfish,
                      std::nullopt, {"admin", "password"}};
      hw::RedfishHttp http(ep, opts);
      std::ofstream out(a.paths_out);
      hw::Fetcher recording = [&](const std::string& p) {
        out << p << "\n";
        return http.Get(p);
      };
      out << "/redfish/v1/Systems\n";
      auto systems = http.Get("/redfish/v1/Systems").value();
      auto first = hw::MemberLinks(systems).value().at(0);
      (void)hw::ReadRedfishInventory(recording, first);
      break;
    }
  }

  hw::FanOutOptions fo;
  fo.concurrency = a.concurrency;
  auto t0 = std::chrono::steady_clock::now();
  auto power = service.PowerMany(rc, targets, std::nullopt, fo);
  Report("power_status", power, Since(t0), a.timeout_ms, any_dead);

  t0 = std::chrono::steady_clock::now();
  auto inv = service.ForEach(rc, targets, [](hw::Driver& d, const hw::Bmc&) -> core::Result<json::object> {
    auto i = d.ReadInventory();
    if (!i) return i.error();
    return json::object{{"parts", static_cast<int64_t>(i->parts.size())}};
  }, fo);
  Report("inventory_read", inv, Since(t0), a.timeout_ms, any_dead);

  if (a.reconcile > 0) {
    std::vector<std::string> some;
    for (size_t i = 0; i < targets.size() && static_cast<int>(some.size()) < a.reconcile; ++i) {
      if (!list[i].at("dead").as_bool()) some.push_back(targets[i]);
    }
    t0 = std::chrono::steady_clock::now();
    auto rec = hw::RefreshInventory(service, cmdb, rc, some, fo);
    Report("inventory_into_cmdb", rec, Since(t0), a.timeout_ms, false);
  }
  return 0;
}
