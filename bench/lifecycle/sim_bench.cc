// Control-plane benchmark of the bare-metal lifecycle: N simulated nodes (default 10,000)
// through commission → deploy → release, in process, on a real database.
//
//   gantry_lifecycle_bench [--nodes 10000] [--workers 64] [--agents 8] [--db sqlite:PATH|postgres://...]
//                          [--no-cmdb]
//
// The BMCs and machines are lifecycle::SimulatedFleet: a power-on hands the node to an agent
// thread that does at once what a booting machine does through the same service calls as the
// HTTP boot endpoints (iPXE script by MAC with fresh one-time tokens, rendered config, callback
// with an inventory when commissioning). Everything else is the product: StartOperation's
// transaction (state check, job, audit), the job workers with their leases, the wait for the
// callback, Finish (state, audit), the CMDB mirror of every state change.
//
// Reported: nodes per second through each phase and through the whole lifecycle, the peak
// number of nodes in a transient state at once (commissioning/deploying/releasing), and a check
// that every node ended `ready` with every job succeeded (a lost or stuck node fails the run).
#include <spdlog/spdlog.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <thread>

#include "audit/service.h"
#include "cmdb/service.h"
#include "core/crypto.h"
#include "jobs/service.h"
#include "jobs/worker.h"
#include "lifecycle/service.h"
#include "lifecycle/simulator.h"
#include "store/migrate.h"

using namespace gantry;
using Clock = std::chrono::steady_clock;

namespace {

[[noreturn]] void Die(const std::string& m) {
  std::fprintf(stderr, "gantry_lifecycle_bench: %s\n", m.c_str());
  std::exit(1);
}

template <class T>
T Must(core::Result<T> r, const char* what) {
  if (!r) Die(std::string(what) + ": " + r.error().message);
  return std::move(*r);
}
void Must(core::Status s, const char* what) {
  if (!s) Die(std::string(what) + ": " + s.error().message);
}

}  // namespace

int main(int argc, char** argv) {
  int nodes = 10000, workers = 64, agents = 8;
  bool with_cmdb = true;
  std::string db_url;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string { if (i + 1 >= argc) Die(k + " needs a value"); return argv[++i]; };
    if (k == "--nodes") nodes = std::stoi(next());
    else if (k == "--workers") workers = std::stoi(next());
    else if (k == "--agents") agents = std::stoi(next());
    else if (k == "--db") db_url = next();
    else if (k == "--no-cmdb") with_cmdb = false;
    else Die("unknown argument " + k);
  }
  spdlog::set_level(spdlog::level::warn);
  std::string dir = (std::filesystem::temp_directory_path() / ("lcbench-" + core::HexEncode(core::RandomBytes(4)))).string();
  std::filesystem::create_directories(dir);
  if (db_url.empty()) db_url = "sqlite:" + dir + "/bench.db";
  store::OpenOptions so;
  so.pool_size = workers + agents + 8;
  auto db = Must(store::Open(db_url, so), "open");
  Must(store::Migrate(*db), "migrate");
  const core::Clock& clock = core::SystemClock::Get();
  audit::Service audit(*db, clock, std::nullopt);
  jobs::Registry registry;
  jobs::Service jobs(*db, audit, clock, registry);
  cmdb::Service cmdb(*db, audit, clock);
  Must(cmdb.Init(), "cmdb init");
  lifecycle::SimulatedFleet fleet(agents);
  lifecycle::Options o;
  o.boot_url = "http://10.0.0.1:8080";
  o.image_dir = dir + "/images";
  o.commission_image = o.deploy_image = o.release_image = o.rescue_image = "agent";
  o.wait_poll_ms = 1000;
  lifecycle::Service service(*db, audit, clock, jobs, with_cmdb ? &cmdb : nullptr, fleet, o);
  Must(service.Init(), "lifecycle init");
  fleet.Attach(&service);
  service.RegisterJobTypes(registry);

  // Peak concurrency: nodes in a transient state, counted from every committed change.
  std::mutex mu;
  std::map<int64_t, bool> transient;
  int in_flight = 0, peak = 0;
  service.SetObserver([&](const lifecycle::Node& n) {
    std::lock_guard lock(mu);
    bool t = lifecycle::IsTransient(n.state);
    bool& was = transient[n.id];
    if (t && !was) ++in_flight;
    if (!t && was) --in_flight;
    was = t;
    peak = std::max(peak, in_flight);
  });

  auto admin = core::RequestContext::System("bench");
  {
    std::filesystem::create_directories(dir + "/src");
    std::map<std::string, lifecycle::Service::ImageSource> files;
    for (const char* role : {"kernel", "initrd"}) {
      std::string body = std::string("simulated ") + role;
      FILE* f = std::fopen((dir + "/src/" + role).c_str(), "w");
      std::fputs(body.c_str(), f);
      std::fclose(f);
      files[role] = {dir + "/src/" + role, core::Sha256Hex(body)};
    }
    Must(service.CreateImage(admin, "agent", "simulated agent", files), "image");
  }

  std::printf("== %d nodes, %d job workers, %d agent threads, %s, CMDB mirror %s\n", nodes, workers, agents,
              db->Describe().c_str(), with_cmdb ? "on" : "off");
  auto t0 = Clock::now();
  std::vector<std::string> names;
  for (int i = 0; i < nodes; ++i) {
    char mac[32];
    std::snprintf(mac, sizeof mac, "02:00:%02x:%02x:%02x:%02x", (i >> 24) & 255, (i >> 16) & 255, (i >> 8) & 255, i & 255);
    auto n = Must(service.ObserveDhcp(admin, {mac, "", ""}), "enlist");
    names.push_back(n.name);
  }
  double enlist_s = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("enlist (DHCP discovery)   %6d nodes in %7.2f s  %8.1f nodes/s\n", nodes, enlist_s, nodes / enlist_s);

  jobs::WorkerOptions wo;
  wo.concurrency = workers;
  wo.poll_interval = std::chrono::milliseconds(50);
  wo.lease = std::chrono::seconds(60);
  wo.owner = "bench";
  jobs::WorkerPool pool(jobs, wo);
  service.SetEnqueueHook([&pool] { pool.Poke(); });
  pool.Start();

  struct Phase {
    lifecycle::Op op;
    const char* name;
    const char* after;
  };
  double total = 0;
  bool ok = true;
  for (Phase ph : {Phase{lifecycle::Op::kCommission, "commission", lifecycle::kReady},
                   Phase{lifecycle::Op::kDeploy, "deploy", lifecycle::kDeployed},
                   Phase{lifecycle::Op::kRelease, "release", lifecycle::kReady}}) {
    {
      std::lock_guard lock(mu);
      peak = in_flight;
    }
    auto start = Clock::now();
    // The API clients: 4 threads submitting operations, like concurrent requests.
    std::vector<std::thread> clients;
    for (int c = 0; c < 4; ++c) {
      clients.emplace_back([&, c] {
        for (size_t i = c; i < names.size(); i += 4) Must(service.StartOperation(admin, names[i], ph.op, {}), ph.name);
      });
    }
    for (auto& t : clients) t.join();
    // Wait until no node is transient any more (or nothing moves for 60 s: a stuck node).
    int64_t last_done = -1;
    auto last_move = Clock::now();
    while (true) {
      auto counts = Must(service.CountByState(), "count");
      int64_t done = 0, busy = 0;
      for (const auto& [state, c] : counts) {
        if (state == ph.after) done = c;
        if (lifecycle::IsTransient(state)) busy += c;
      }
      if (busy == 0) break;
      if (done != last_done) {
        last_done = done;
        last_move = Clock::now();
      } else if (Clock::now() - last_move > std::chrono::seconds(60)) {
        std::printf("STUCK: %lld nodes still transient after 60 s without progress\n", static_cast<long long>(busy));
        ok = false;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    double s = std::chrono::duration<double>(Clock::now() - start).count();
    total += s;
    auto counts = Must(service.CountByState(), "count");
    int64_t in_target = 0;
    std::string summary;
    for (const auto& [state, c] : counts) {
      summary += " " + state + "=" + std::to_string(c);
      if (state == ph.after) in_target = c;
    }
    int p;
    {
      std::lock_guard lock(mu);
      p = peak;
    }
    std::printf("%-25s %6d nodes in %7.2f s  %8.1f nodes/s  peak in flight %5d  states:%s\n", ph.name, nodes, s,
                nodes / s, p, summary.c_str());
    if (in_target != nodes) ok = false;
  }
  // The workers record each job's end just after its node's: let them finish.
  for (int i = 0; i < 300; ++i) {
    jobs::ListFilter busy;
    busy.state = jobs::kRunning;
    busy.limit = 1;
    if (Must(jobs.List(admin, busy), "jobs").empty()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  pool.Stop();
  // Every job succeeded: none failed, none left queued or running.
  jobs::ListFilter lf;
  lf.limit = 100000;
  int64_t succeeded = 0, other = 0;
  for (const auto& j : Must(jobs.List(admin, lf), "jobs")) (j.state == jobs::kSucceeded ? succeeded : other)++;
  std::printf("whole lifecycle           %6d nodes in %7.2f s  %8.1f nodes/s (commission+deploy+release)\n", nodes,
              total, nodes / total);
  std::printf("jobs: %lld succeeded, %lld not; callbacks %lld; %s\n", static_cast<long long>(succeeded),
              static_cast<long long>(other), static_cast<long long>(fleet.callbacks()),
              ok && other == 0 ? "no lost or stuck node" : "LOST OR STUCK NODES");
  std::filesystem::remove_all(dir);
  return ok && other == 0 ? 0 : 2;
}
