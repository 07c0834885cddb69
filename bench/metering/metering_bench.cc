// Metering benchmarks (docs/benchmarks.md, "Metering"; driver: bench/metering/run.sh).
//
//   gantry_metering_bench gen DIR CONNECTIONS SERIES_PER_CONN BATCHES
//       writes remote-write bodies DIR/c<k>_<n>.bin (snappy + protobuf, encoded here): each
//       connection k has its own SERIES_PER_CONN series of gantry_gpu_used_seconds_total (tenant,
//       project, gpu_model, node, pod labels), one sample per series per body, 1 s apart;
//   gantry_metering_bench post URL TOKEN DIR CONNECTIONS
//       posts them, one thread per connection in file order (keep-alive), and prints samples/s;
//       the same files go to Gantry (/api/v1/metering/write) and to Prometheus' own receiver
//       (/api/v1/write);
//   gantry_metering_bench memory SERIES
//       in process: RSS growth per active usage series while ingesting SERIES series;
//   gantry_metering_bench rate TENANTS GPUS
//       rating one month of hourly usage of GPUS GPUs spread over TENANTS tenants on SQLite.
#include <curl/curl.h>
#include <snappy.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include "audit/service.h"
#include "metering/billing.h"
#include "metering/remote_write.h"
#include "store/migrate.h"
#include "tenancy/service.h"

using namespace gantry;
using Clock = std::chrono::steady_clock;

namespace {

void Varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
void Field(std::string& out, int field, const std::string& bytes) {
  Varint(out, (static_cast<uint64_t>(field) << 3) | 2);
  Varint(out, bytes.size());
  out += bytes;
}

std::string Series(const std::vector<std::pair<std::string, std::string>>& labels, double value,
                   int64_t ts_ms) {
  std::string ts;
  for (const auto& [n, v] : labels) {
    std::string l;
    Field(l, 1, n);
    Field(l, 2, v);
    Field(ts, 1, l);
  }
  std::string s;
  s.push_back(static_cast<char>((1 << 3) | 1));
  uint64_t bits;
  std::memcpy(&bits, &value, 8);
  s.append(reinterpret_cast<const char*>(&bits), 8);
  Varint(s, (2 << 3) | 0);
  Varint(s, static_cast<uint64_t>(ts_ms));
  Field(ts, 2, s);
  return ts;
}

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

int Gen(const std::string& dir, int conns, int series, int batches) {
  std::filesystem::create_directories(dir);
  int64_t t0 = NowMs() - int64_t{batches} * 1000 - 60'000;
  for (int c = 0; c < conns; ++c) {
    for (int b = 0; b < batches; ++b) {
      std::string req;
      for (int s = 0; s < series; ++s) {
        int id = c * series + s;
        Field(req, 1,
              Series({{"__name__", "gantry_gpu_used_seconds_total"},
                      {"gpu_model", "h100"},
                      {"node", "node-" + std::to_string(id / 8)},
                      {"pod", "pod-" + std::to_string(id)},
                      {"project", "p" + std::to_string(id % 2)},
                      {"tenant", "t" + std::to_string(id % 50)}},
                     (b + 1) * 0.75, t0 + b * 1000));
      }
      std::string body;
      snappy::Compress(req.data(), req.size(), &body);
      char name[64];
      std::snprintf(name, sizeof name, "/c%d_%06d.bin", c, b);
      std::ofstream(dir + name, std::ios::binary) << body;
    }
  }
  std::cout << "wrote " << conns * batches << " bodies, " << int64_t{conns} * series * batches
            << " samples\n";
  return 0;
}

size_t Discard(char*, size_t size, size_t n, void*) { return size * n; }

int Post(const std::string& url, const std::string& token, const std::string& dir, int conns) {
  std::vector<std::vector<std::string>> bodies(conns);
  int64_t samples = 0;
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  for (const auto& f : files) {
    int c = std::stoi(f.filename().string().substr(1));
    if (c >= conns) continue;
    std::ifstream in(f, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    bodies[c].push_back(ss.str());
  }
  {
    // samples per body: decode one to count
    std::string raw;
    snappy::Uncompress(bodies[0][0].data(), bodies[0][0].size(), &raw);
    auto parsed = metering::ParseWriteRequest(raw);
    for (size_t c = 0; c < bodies.size(); ++c) samples += static_cast<int64_t>(parsed->size() * bodies[c].size());
  }
  std::atomic<int64_t> errors{0};
  std::atomic<long> last_status{0};
  auto t0 = Clock::now();
  std::vector<std::thread> threads;
  for (int c = 0; c < conns; ++c) {
    threads.emplace_back([&, c] {
      CURL* h = curl_easy_init();
      curl_slist* hdrs = nullptr;
      hdrs = curl_slist_append(hdrs, "Content-Type: application/x-protobuf");
      hdrs = curl_slist_append(hdrs, "Content-Encoding: snappy");
      hdrs = curl_slist_append(hdrs, "X-Prometheus-Remote-Write-Version: 0.1.0");
      std::string auth = "Authorization: Bearer " + token;
      if (!token.empty()) hdrs = curl_slist_append(hdrs, auth.c_str());
      curl_easy_setopt(h, CURLOPT_URL, url.c_str());
      curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
      curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Discard);
      curl_easy_setopt(h, CURLOPT_TIMEOUT, 60L);
      for (const auto& b : bodies[c]) {
        curl_easy_setopt(h, CURLOPT_POSTFIELDS, b.data());
        curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, static_cast<long>(b.size()));
        long status = 0;
        if (curl_easy_perform(h) != CURLE_OK) ++errors;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        if (status < 200 || status >= 300) {
          ++errors;
          last_status = status;
        }
      }
      curl_slist_free_all(hdrs);
      curl_easy_cleanup(h);
    });
  }
  for (auto& t : threads) t.join();
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("%s: %lld samples in %.3f s = %.0f samples/s, %lld errors (last status %ld)\n",
              url.c_str(), static_cast<long long>(samples), secs, samples / secs,
              static_cast<long long>(errors.load()), last_status.load());
  return errors ? 1 : 0;
}

long RssKiB() {
  std::ifstream f("/proc/self/statm");
  long pages = 0, rss = 0;
  f >> pages >> rss;
  return rss * (sysconf(_SC_PAGESIZE) / 1024);
}

struct Env {
  std::unique_ptr<store::Database> db;
  core::ManualClock clock{core::NowNanos()};
  std::unique_ptr<audit::Service> audit;
  std::unique_ptr<tenancy::Service> tenancy;
  std::unique_ptr<metering::Service> service;
  std::unique_ptr<metering::Billing> billing;
  core::RequestContext admin = core::RequestContext::System();

  explicit Env(const std::string& path) {
    std::filesystem::remove(path);
    std::filesystem::remove(path + "-wal");
    db = store::Open("sqlite:" + path).value();
    store::Migrate(*db).value();
    audit = std::make_unique<audit::Service>(*db, clock);
    tenancy = std::make_unique<tenancy::Service>(*db, *audit, clock);
    service = std::make_unique<metering::Service>(*db, *audit, clock, nullptr);
    billing = std::make_unique<metering::Billing>(*service, *audit, nullptr);
    service->Init().value();
  }
};

int Memory(int n) {
  Env env("/tmp/gantry-metering-mem.db");
  for (int t = 0; t < 50; ++t) env.tenancy->CreateTenant(env.admin, {"t" + std::to_string(t), "", {}}).value();
  metering::RemoteWriteReceiver rw(*env.service, nullptr);
  // Warm up allocator and database with one batch of other series.
  const int kBatch = 2000;
  int64_t t0 = NowMs() - 60'000;
  auto batch = [&](int from, int count, int round, const std::string& prefix) {
    std::vector<std::string> labels_store;
    std::vector<metering::RwSeries> series(count);
    labels_store.reserve(count * 6 * 2);
    for (int i = 0; i < count; ++i) {
      int id = from + i;
      auto add = [&](std::string n, std::string v) {
        labels_store.push_back(std::move(n));
        std::string_view nv = labels_store.back();
        labels_store.push_back(std::move(v));
        series[i].labels.push_back({nv, labels_store.back()});
      };
      add("__name__", "gantry_gpu_used_seconds_total");
      add("gpu_model", "h100");
      add("pod", prefix + std::to_string(id));
      add("tenant", "t" + std::to_string(id % 50));
      series[i].samples.push_back({1.0 + round, t0 + round * 1000});
    }
    rw.Apply(series, static_cast<uint64_t>(from) * 1000 + round).value();
  };
  batch(0, kBatch, 0, "warm-");
  long before = RssKiB();
  size_t state_before = rw.StateBytes();
  for (int from = 0; from < n; from += kBatch) batch(from, std::min(kBatch, n - from), 0, "pod-");
  long after = RssKiB();
  std::printf("active series: %zu; RSS growth %.0f bytes/series; series state %.0f bytes/series\n",
              rw.ActiveSeries(), (after - before) * 1024.0 / n,
              static_cast<double>(rw.StateBytes() - state_before) / n);
  return 0;
}

int Rate(int tenants, int gpus) {
  Env env("/tmp/gantry-metering-rate.db");
  auto [month_start, month_end] = metering::ParseMonth("2026-10").value();
  metering::Price p;
  p.sku = "gpu-h100-hour";
  p.unit_price_micros = 2'500'000;
  env.service->AddPrice(env.admin, p).value();
  p.sku = "gpu-a100-hour";
  p.unit_price_micros = 1'800'000;
  env.service->AddPrice(env.admin, p).value();
  // Each tenant: projects a and b; its GPUs (gpus / tenants) split over the two SKUs, busy 90 %
  // of every hour. Usage of the month = one hourly roll-up row per (tenant, project, SKU, hour),
  // the sum of its GPUs.
  auto setup0 = Clock::now();
  int per_tenant = gpus / tenants;
  {
    auto tx = env.db->Begin().value();
    for (int t = 0; t < tenants; ++t) {
      tx->Exec("INSERT INTO tenants (slug, name, created_at, updated_at) VALUES (?, '', 0, 0)",
               {"t" + std::to_string(t)}).value();
    }
    auto ids = tx->Exec("SELECT id FROM tenants ORDER BY id").value();
    for (const auto& row : ids.rows) {
      for (const char* pr : {"a", "b"}) {
        tx->Exec("INSERT INTO projects (tenant_id, slug, name, created_at, updated_at) VALUES (?, ?, '', 0, 0)",
                 {row.Int(0), std::string(pr)}).value();
      }
    }
    auto projects = tx->Exec("SELECT tenant_id, id FROM projects ORDER BY id").value();
    std::string sql;
    int n = 0;
    store::Params params;
    auto flush = [&] {
      if (!n) return;
      tx->Exec("INSERT INTO usage_hourly (tenant_id, project_id, sku, kind, bucket, quantity) VALUES " + sql, params).value();
      sql.clear();
      params.clear();
      n = 0;
    };
    for (const auto& row : projects.rows) {
      for (const char* sku : {"gpu-h100-hour", "gpu-a100-hour"}) {
        int64_t q = int64_t{per_tenant} / 4 * 3'600'000 * 9 / 10;  // a quarter of its GPUs each
        for (int64_t h = month_start; h < month_end; h += metering::kNanosPerHour) {
          sql += n ? ",(?,?,?,'allocated',?,?)" : "(?,?,?,'allocated',?,?)";
          params.insert(params.end(), {row.Int(0), row.Int(1), std::string(sku), h, q + (h / metering::kNanosPerHour) % 7});
          if (++n == 150) flush();
        }
      }
    }
    flush();
    tx->Commit().value();
  }
  std::printf("setup: %d tenants, %d GPUs, %.1f s\n", tenants, gpus,
              std::chrono::duration<double>(Clock::now() - setup0).count());
  auto t0 = Clock::now();
  int64_t total = 0;
  size_t lines = 0;
  {
    auto tx = env.db->Begin(store::TxMode::kRead).value();
    auto ids = tx->Exec("SELECT id FROM tenants ORDER BY id").value();
    for (const auto& row : ids.rows) {
      auto inv = env.billing->RateMonth(*tx, row.Int(0), month_start).value();
      total += inv.total_micros;
      lines += inv.lines.size();
    }
  }
  double secs = std::chrono::duration<double>(Clock::now() - t0).count();
  std::printf("rated %d tenants (%zu lines, total %s) in %.3f s\n", tenants, lines,
              metering::Money(total).c_str(), secs);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  std::vector<std::string> a(argv + 1, argv + argc);
  if (a.size() == 5 && a[0] == "gen") return Gen(a[1], std::stoi(a[2]), std::stoi(a[3]), std::stoi(a[4]));
  if (a.size() == 5 && a[0] == "post") return Post(a[1], a[2], a[3], std::stoi(a[4]));
  if (a.size() == 2 && a[0] == "memory") return Memory(std::stoi(a[1]));
  if (a.size() == 3 && a[0] == "rate") return Rate(std::stoi(a[1]), std::stoi(a[2]));
  std::cerr << "usage: gantry_metering_bench gen DIR CONNS SERIES BATCHES | post URL TOKEN DIR CONNS |"
               " memory SERIES | rate TENANTS GPUS\n";
  return 2;
}
