// gantry_admission_bench: admission decisions per second under contention (docs/benchmarks.md,
// "Tenancy admission"). Driven by bench/tenancy/run.sh.
//
//   gantry_admission_bench --db URL [--mode alone|batched] [--tenants 1000] [--cohort-size 10]
//                          [--projects 2] [--clients 64] [--seconds 10] [--lanes 8]
//                          [--max-batch 64] [--gpus 64]
//
// Set-up (not timed): `tenants` tenants in cohorts of `cohort-size`, each with a gpu/h100 quota
// of `gpus` guaranteed and 2x burst and a cpu quota, and `projects` projects each with half the
// tenant's GPUs guaranteed (burst: the tenant's guarantee) — hierarchical quotas. Then
// `clients` threads call tenancy::Service::Reserve as fast as they can for `seconds`: a random
// tenant, half of the time one of its projects, 1-2 GPUs and 1-8 cores. Both admissions and
// refusals (quota exhausted) are decisions; nothing is released, so tenants fill up and later
// decisions are increasingly refusals, as in a saturated cluster.
//
// Mode `alone`: one transaction per decision (Service::Reserve as shipped without batching).
// Mode `batched`: the group-commit combiner (Service::EnableAdmissionBatching).
//
// At the end every level is checked: reserved <= ceiling at tenant and project level, every
// cohort's reserved <= the sum of its members' guarantees, counters == the sum of the active
// reservations, one quota.reserve audit event per admission. Any violation exits 2.
//
// Prints: RESULT backend=<b> mode=<m> clients=<c> tenants=<t> decisions=<n> admitted=<a>
//         seconds=<s> decisions_per_s=<x> p50_ms=<..> p99_ms=<..> batches=<..> overcommit=0
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "audit/service.h"
#include "store/migrate.h"
#include "tenancy/service.h"

namespace {

using namespace gantry;
using Clock = std::chrono::steady_clock;

struct Args {
  std::string db;
  std::string mode = "batched";
  int tenants = 1000, cohort_size = 10, projects = 2, clients = 64, seconds = 10;
  int lanes = 8, max_batch = 64;
  int64_t gpus = 64;
};

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "gantry_admission_bench: %s\n", msg.c_str());
  std::exit(1);
}

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) Die("missing value for " + k);
    std::string v = argv[++i];
    auto num = [&] { return std::atoi(v.c_str()); };
    if (k == "--db") a.db = v;
    else if (k == "--mode") a.mode = v;
    else if (k == "--tenants") a.tenants = num();
    else if (k == "--cohort-size") a.cohort_size = num();
    else if (k == "--projects") a.projects = num();
    else if (k == "--clients") a.clients = num();
    else if (k == "--seconds") a.seconds = num();
    else if (k == "--lanes") a.lanes = num();
    else if (k == "--max-batch") a.max_batch = num();
    else if (k == "--gpus") a.gpus = num();
    else Die("unknown option " + k);
  }
  if (a.db.empty()) Die("--db URL is required");
  if (a.mode != "alone" && a.mode != "batched") Die("--mode is alone or batched");
  if (a.tenants < 1 || a.cohort_size < 1 || a.clients < 1 || a.seconds < 1 || a.gpus < 2) {
    Die("--tenants, --cohort-size, --clients, --seconds must be positive, --gpus at least 2");
  }
  return a;
}

std::string TenantSlug(int i) { return "t" + std::to_string(i); }
std::string ProjectSlug(int i) { return "p" + std::to_string(i); }

template <class T>
T Must(core::Result<T> r, const std::string& what) {
  if (!r) Die(what + ": " + r.error().message);
  return std::move(*r);
}

void Setup(const Args& a, tenancy::Service& svc, const core::RequestContext& rc) {
  std::atomic<int> next{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < 16; ++w) {
    threads.emplace_back([&] {
      for (int i = next++; i < a.tenants; i = next++) {
        std::string t = TenantSlug(i);
        std::optional<std::string> cohort;
        if (a.cohort_size > 1) cohort = "c" + std::to_string(i / a.cohort_size);
        Must(svc.CreateTenant(rc, {t, "Tenant " + t, cohort}), "create " + t);
        Must(svc.SetQuota(rc, t, {"gpu/h100", a.gpus, a.gpus * 2, std::nullopt, false}), "quota");
        Must(svc.SetQuota(rc, t, {"cpu", a.gpus * 8, a.gpus * 16, std::nullopt, false}), "quota");
        for (int p = 0; p < a.projects; ++p) {
          Must(svc.CreateProject(rc, t, ProjectSlug(p), "Project"), "project");
          Must(svc.SetQuota(rc, t, {"gpu/h100", a.gpus / 2, a.gpus, ProjectSlug(p), false}),
               "project quota");
        }
      }
    });
  }
  for (auto& t : threads) t.join();
}

// Returns the number of violations (printed to stderr).
int Check(const Args& a, store::Database& db, tenancy::Service& svc,
          const core::RequestContext& rc, int64_t admitted) {
  int bad = 0;
  auto fail = [&](const std::string& m) {
    if (++bad <= 20) std::fprintf(stderr, "VIOLATION %s\n", m.c_str());
  };
  std::map<std::string, std::pair<int64_t, int64_t>> cohort;  // cohort/resource -> reserved, guaranteed
  int64_t active_total = 0;
  for (int i = 0; i < a.tenants; ++i) {
    std::string t = TenantSlug(i);
    auto views = Must(svc.Quotas(rc, t), "quotas " + t);
    std::map<std::pair<std::string, std::string>, int64_t> counters;
    for (const auto& v : views) {
      counters[{v.project, v.resource}] = v.reserved;
      int64_t g = v.guaranteed.value_or(0);
      int64_t ceiling = v.burst.value_or(g);
      if (v.project.empty() && a.cohort_size <= 1) ceiling = g;
      if (v.guaranteed && v.reserved > ceiling) {  // no quota row: the tenant's limit applies
        fail(t + "/" + v.project + " " + v.resource + " reserved " + std::to_string(v.reserved) +
             " > " + std::to_string(ceiling));
      }
      if (v.project.empty()) {
        auto& c = cohort["c" + std::to_string(i / std::max(1, a.cohort_size)) + "/" + v.resource];
        c.first += v.reserved;
        c.second += g;
      }
    }
    tenancy::ListOptions o;
    o.limit = 1000;
    std::map<std::pair<std::string, std::string>, int64_t> sums;
    for (;;) {
      auto page = Must(svc.ListReservations(rc, t, std::string(tenancy::kActive), o), "list");
      for (const auto& r : page) {
        ++active_total;
        for (const auto& [res, amount] : r.resources) {
          sums[{"", res}] += amount;
          if (!r.project.empty()) sums[{r.project, res}] += amount;
        }
      }
      if (static_cast<int>(page.size()) < o.limit) break;
      o.cursor = page.back().id;
    }
    for (const auto& [k, v] : counters) {
      if (sums[k] != v) {
        fail(t + "/" + k.first + " " + k.second + " counter " + std::to_string(v) +
             " != active reservations " + std::to_string(sums[k]));
      }
    }
  }
  for (const auto& [k, v] : cohort) {
    if (v.first > v.second) {
      fail("cohort " + k + " reserved " + std::to_string(v.first) + " > guaranteed " +
           std::to_string(v.second));
    }
  }
  // Reclaimed reservations were admitted and later taken back for their cohort's owner.
  auto reclaimed = Must(db.Query("SELECT COUNT(*) FROM quota_reservations WHERE state = 'reclaimed'"),
                        "count reclaimed");
  if (active_total + reclaimed.rows[0].Int(0) != admitted) {
    fail("active " + std::to_string(active_total) + " + reclaimed " +
         std::to_string(reclaimed.rows[0].Int(0)) + " reservations != admitted " +
         std::to_string(admitted));
  }
  auto rs = Must(db.Query("SELECT COUNT(*) FROM audit_events WHERE action = 'quota.reserve'"),
                 "count audit events");
  if (rs.rows[0].Int(0) != admitted) {
    fail("quota.reserve audit events " + std::to_string(rs.rows[0].Int(0)) + " != admitted " +
         std::to_string(admitted));
  }
  return bad;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  spdlog::set_level(spdlog::level::err);  // reclaims log a warning each
  store::OpenOptions oo;
  oo.pool_size = std::max(a.lanes, 16) + 4;
  if (a.mode == "alone") oo.pool_size = std::max(oo.pool_size, a.clients + 4);
  auto db = Must(store::Open(a.db, oo), "open " + a.db);
  Must(store::Migrate(*db), "migrate");
  const core::Clock& clock = core::SystemClock::Get();
  audit::Service audit(*db, clock);
  tenancy::Service svc(*db, audit, clock);
  auto rc = core::RequestContext::System("bench");

  auto existing = Must(svc.ListTenants(rc, {std::nullopt, 1}), "list tenants");
  if (!existing.empty()) Die("the database already holds tenants; use a fresh one");
  auto t0 = Clock::now();
  Setup(a, svc, rc);
  std::fprintf(stderr, "set-up: %d tenants in %.1f s\n", a.tenants,
               std::chrono::duration<double>(Clock::now() - t0).count());

  if (a.mode == "batched") {
    svc.EnableAdmissionBatching({.lanes = a.lanes, .max_batch = a.max_batch});
  }

  std::atomic<bool> go{false}, stop{false};
  std::atomic<int64_t> decisions{0}, admitted{0}, errors{0};
  std::vector<std::vector<double>> latencies(a.clients);
  std::vector<std::thread> threads;
  for (int c = 0; c < a.clients; ++c) {
    threads.emplace_back([&, c] {
      std::mt19937_64 rng(1234 + c);
      int64_t n = 0;
      while (!go.load()) std::this_thread::yield();
      while (!stop.load(std::memory_order_relaxed)) {
        int t = static_cast<int>(rng() % a.tenants);
        tenancy::ReserveRequest req;
        if (a.projects > 0 && rng() % 2) {
          req.project = ProjectSlug(static_cast<int>(rng() % a.projects));
        }
        req.resources = {{"gpu/h100", 1 + static_cast<int64_t>(rng() % 2)},
                         {"cpu", 1 + static_cast<int64_t>(rng() % 8)}};
        req.ref = "c" + std::to_string(c) + "-" + std::to_string(++n);
        auto s = Clock::now();
        auto r = svc.Reserve(rc, TenantSlug(t), req);
        latencies[c].push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
        ++decisions;
        if (r) {
          ++admitted;
        } else if (r.error().code != core::Code::kResourceExhausted) {
          if (++errors <= 5) std::fprintf(stderr, "error: %s\n", r.error().message.c_str());
        }
      }
    });
  }
  auto start = Clock::now();
  go = true;
  std::this_thread::sleep_for(std::chrono::seconds(a.seconds));
  stop = true;
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - start).count();

  std::vector<double> all;
  for (auto& l : latencies) all.insert(all.end(), l.begin(), l.end());
  std::sort(all.begin(), all.end());
  auto pct = [&](double p) {
    return all.empty() ? 0.0 : all[static_cast<size_t>(p * static_cast<double>(all.size() - 1))];
  };
  int bad = Check(a, *db, svc, rc, admitted.load());
  auto stats = svc.AdmissionStats();
  std::printf(
      "RESULT backend=%s mode=%s clients=%d tenants=%d decisions=%lld admitted=%lld errors=%lld "
      "seconds=%.2f decisions_per_s=%.0f p50_ms=%.2f p99_ms=%.2f batches=%lld overcommit=%d\n",
      db->backend() == store::Backend::kPostgres ? "postgres" : "sqlite", a.mode.c_str(),
      a.clients, a.tenants, static_cast<long long>(decisions.load()),
      static_cast<long long>(admitted.load()), static_cast<long long>(errors.load()), secs,
      decisions.load() / secs, pct(0.5), pct(0.99), static_cast<long long>(stats.batches), bad);
  return bad || errors.load() ? 2 : 0;
}
