// gantry_cmdb_gen: generates a GPU data-centre estate for the CMDB benchmarks (bench/cmdb/run.sh)
// straight into a migrated SQLite database, and optionally as CSV files for PostgreSQL COPY.
//
//   gantry_cmdb_gen --sqlite PATH [--csv DIR] [--scale 1.0] [--seed 42] [--node-services 100]
//
// At scale 1: 1 site, 4 rooms, 40 rows, 1,000 GPU racks in 8 pods of 125 racks, plus one
// network rack per pod. Each GPU rack: 20 servers (each with a BMC, 8 GPUs, 8 InfiniBand and
// 2 Ethernet NICs, two power feeds, a tenant instance), an InfiniBand leaf (160 server ports,
// 32 uplinks) and an Ethernet leaf (40 + 8), every link a cable CI (NIC → cable → leaf port,
// leaf uplink → cable → spine port), 2 PDUs of 24 outlets. Each pod: 8 InfiniBand and 2
// Ethernet spines of up to 500 ports (every leaf has 4 uplinks to each spine of its fabric),
// slurm partition pod-N. Services: `--node-services` node-level services (agents, exporters,
// drivers, runtimes, storage and scheduler clients) deployed on every server — the many-to-many
// relationships that bring the estate to 3–4M — and application services in four tiers,
// deployed on 2–32 random servers, each depending on 1–3 services of the tier below, owned by
// tenants. Tenants own one
// instance per server. Counts scale with --scale (racks, services and tenants); every CI and
// relationship gets a fixed id, so the SQLite and CSV outputs are the same estate.
//
// Prints the exact counts and the SQLite import rate: RESULT lines for run.sh.
#include <sqlite3.h>
#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "cmdb/builtin.h"
#include "store/database.h"
#include "store/migrate.h"

namespace {

using namespace gantry;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "gantry_cmdb_gen: %s\n", msg.c_str());
  std::exit(1);
}

struct Args {
  std::string sqlite, csv;
  double scale = 1.0;
  uint64_t seed = 42;
  int node_services = 100;
};

Args Parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto next = [&]() -> std::string {
      if (i + 1 >= argc) Die("missing value for " + k);
      return argv[++i];
    };
    if (k == "--sqlite") a.sqlite = next();
    else if (k == "--csv") a.csv = next();
    else if (k == "--scale") a.scale = std::stod(next());
    else if (k == "--seed") a.seed = std::stoull(next());
    else if (k == "--node-services") a.node_services = std::stoi(next());
    else Die("unknown argument " + k + " (see the top of bench/cmdb/gen.cc)");
  }
  if (a.sqlite.empty()) Die("--sqlite PATH is required");
  if (a.scale <= 0 || a.scale > 10) Die("--scale must be in (0, 10]");
  return a;
}

struct CiRow {
  uint16_t type;
  std::string name, attrs, tenant;
};

struct RelRow {
  int64_t from, to;
  uint16_t type;
  uint16_t position_u;  // located_in: rack unit (0: none)
};

// The estate in memory, in id order (ids are positions + 1).
class Estate {
 public:
  Estate() {
    for (const auto& t : cmdb::BuiltinCiTypes()) ci_type_[t.name] = static_cast<uint16_t>(ci_type_.size());
    for (const auto& t : cmdb::BuiltinRelationTypes()) rel_type_[t.name] = static_cast<uint16_t>(rel_type_.size());
  }
  int64_t Ci(const std::string& type, std::string name, std::string attrs = "{}", std::string tenant = {}) {
    cis.push_back({ci_type_.at(type), std::move(name), std::move(attrs), std::move(tenant)});
    ++per_ci_type[type];
    return static_cast<int64_t>(cis.size());
  }
  void Rel(const std::string& type, int64_t from, int64_t to, uint16_t position_u = 0) {
    rels.push_back({from, to, rel_type_.at(type), position_u});
    ++per_rel_type[type];
  }
  // A part inside a container.
  int64_t Part(int64_t container, const std::string& type, std::string name, std::string attrs = "{}") {
    int64_t id = Ci(type, std::move(name), std::move(attrs));
    Rel("contains", container, id);
    return id;
  }
  // a → cable → b, both connected_to.
  void Cable(int64_t a, int64_t b, std::string name) {
    int64_t c = Ci("cable", std::move(name), R"({"medium":"aoc"})");
    Rel("connected_to", a, c);
    Rel("connected_to", c, b);
  }

  std::vector<CiRow> cis;
  std::vector<RelRow> rels;
  std::map<std::string, size_t> per_ci_type, per_rel_type;

 private:
  std::map<std::string, uint16_t> ci_type_, rel_type_;
};

std::string Num(int n, int width) {
  std::string s = std::to_string(n);
  return std::string(width > static_cast<int>(s.size()) ? width - s.size() : 0, '0') + s;
}

struct Switch {
  int64_t id;
  std::vector<int64_t> ports;
  size_t next_free = 0;
};

Switch MakeSwitch(Estate& e, const std::string& name, const std::string& role, int ports) {
  Switch s{e.Ci("switch", name, R"({"role":")" + role + R"(","model":")" +
                                    (role.find("ib") != std::string::npos ? "QM9790" : "SN5600") + "\"}"),
           {}};
  for (int p = 1; p <= ports; ++p) s.ports.push_back(e.Part(s.id, "switch_port", name + "-p" + Num(p, 3)));
  return s;
}

void Generate(Estate& e, const Args& a) {
  std::mt19937_64 rng(a.seed);
  const int racks = std::max(1, static_cast<int>(std::lround(1000 * a.scale)));
  constexpr int kRacksPerRow = 25, kRacksPerPod = 125, kServersPerRack = 20, kOutlets = 24;
  constexpr int kIbSpines = 8, kEthSpines = 2, kUplinksPerSpine = 4;
  const int rows = (racks + kRacksPerRow - 1) / kRacksPerRow;
  const int rooms = std::min(4, rows);
  const int pods = (racks + kRacksPerPod - 1) / kRacksPerPod;
  const int tenants = std::max(10, static_cast<int>(std::lround(500 * a.scale)));
  const int app_services = std::max(10, static_cast<int>(std::lround((500 - std::min(a.node_services, 400)) * a.scale)));

  int64_t site = e.Ci("site", "dc1", R"({"city":"Frankfurt","country":"DE"})");
  std::vector<int64_t> room_ids, row_ids;
  for (int r = 0; r < rooms; ++r) {
    room_ids.push_back(e.Ci("room", "hall-" + std::to_string(r + 1), R"({"floor":1})"));
    e.Rel("located_in", room_ids.back(), site);
  }
  for (int r = 0; r < rows; ++r) {
    row_ids.push_back(e.Ci("row", "row-" + Num(r + 1, 2)));
    e.Rel("located_in", row_ids.back(), room_ids[r % rooms]);
  }
  std::vector<int64_t> images;
  for (const char* img : {"ubuntu-22.04-cuda12.4", "ubuntu-22.04-cuda12.6", "rocky-9.4-cuda12.4", "ubuntu-24.04-cuda12.8"}) {
    images.push_back(e.Ci("os_image", img, R"({"format":"disk"})"));
  }
  int64_t all_partition = e.Ci("slurm_partition", "all", R"({"cluster":"main"})");
  std::vector<int64_t> tenant_ids;
  std::vector<std::string> tenant_slugs;
  for (int t = 0; t < tenants; ++t) {
    tenant_slugs.push_back("tenant-" + Num(t + 1, 3));
    tenant_ids.push_back(e.Ci("tenant", tenant_slugs.back(), R"({"slug":")" + tenant_slugs.back() + "\"}"));
  }
  auto pdu_pair = [&](const std::string& rack_name, int64_t rack, std::vector<int64_t> outlets[2]) {
    for (int p = 0; p < 2; ++p) {
      const std::string name = "pdu-" + rack_name + "-" + static_cast<char>('a' + p);
      int64_t pdu = e.Ci("pdu", name, R"({"outlets":24,"capacity_w":34000})");
      e.Rel("located_in", pdu, rack, static_cast<uint16_t>(p + 1));
      for (int o = 1; o <= kOutlets; ++o) {
        outlets[p].push_back(e.Part(pdu, "pdu_outlet", name + "-o" + Num(o, 2), R"({"number":)" + std::to_string(o) + "}"));
      }
    }
  };

  std::vector<int64_t> servers;
  for (int pod = 0; pod < pods; ++pod) {
    const int first = pod * kRacksPerPod, last = std::min(racks, first + kRacksPerPod);
    const int pod_racks = last - first;
    // The pod's network rack with its spines.
    const std::string net_name = "net-" + Num(pod + 1, 2);
    int64_t net_rack = e.Ci("rack", net_name, R"({"height_u":48})");
    e.Rel("located_in", net_rack, row_ids[first / kRacksPerRow]);
    std::vector<int64_t> net_outlets[2];
    pdu_pair(net_name, net_rack, net_outlets);
    std::vector<Switch> ib_spines, eth_spines;
    for (int s = 0; s < kIbSpines + kEthSpines; ++s) {
      const bool ib = s < kIbSpines;
      const std::string name = std::string(ib ? "spine-ib-" : "spine-eth-") + Num(pod + 1, 2) + "-" +
                               Num(ib ? s + 1 : s - kIbSpines + 1, 2);
      Switch sw = MakeSwitch(e, name, ib ? "spine-ib" : "spine-eth", pod_racks * kUplinksPerSpine);
      e.Rel("located_in", sw.id, net_rack, static_cast<uint16_t>(2 * s + 3));
      e.Rel("powered_by", sw.id, net_outlets[0][s]);
      e.Rel("powered_by", sw.id, net_outlets[1][s]);
      (ib ? ib_spines : eth_spines).push_back(std::move(sw));
    }
    int64_t pod_partition = e.Ci("slurm_partition", "pod-" + Num(pod + 1, 2), R"({"cluster":"main"})");

    for (int r = first; r < last; ++r) {
      const std::string rack_name = "r" + Num(r + 1, 4);
      int64_t rack = e.Ci("rack", rack_name, R"({"height_u":48,"power_kw":120})");
      e.Rel("located_in", rack, row_ids[r / kRacksPerRow]);
      std::vector<int64_t> outlets[2];
      pdu_pair(rack_name, rack, outlets);
      Switch leaf_ib = MakeSwitch(e, "leaf-ib-" + rack_name, "leaf-ib", 160 + kIbSpines * kUplinksPerSpine);
      Switch leaf_eth = MakeSwitch(e, "leaf-eth-" + rack_name, "leaf-eth", 40 + kEthSpines * kUplinksPerSpine);
      int u = 41;
      for (Switch* leaf : {&leaf_ib, &leaf_eth}) {
        e.Rel("located_in", leaf->id, rack, static_cast<uint16_t>(u++));
        for (int p = 0; p < 2; ++p) e.Rel("powered_by", leaf->id, outlets[p][20 + (leaf == &leaf_eth)]);
      }
      // Uplinks: 4 per spine of the leaf's fabric, leaf ports after the server ports.
      for (auto [leaf, spines, down] : {std::tuple{&leaf_ib, &ib_spines, 160}, {&leaf_eth, &eth_spines, 40}}) {
        int port = down;
        for (auto& spine : *spines) {
          for (int k = 0; k < kUplinksPerSpine; ++k) {
            const std::string cable = "cbl-" + rack_name + "-up" + Num(port + 1, 3);
            e.Cable(leaf->ports[port++], spine.ports[spine.next_free++], cable);
          }
        }
      }
      for (int s = 0; s < kServersPerRack; ++s) {
        const std::string name = "gpu-" + rack_name + "-s" + Num(s + 1, 2);
        int64_t srv = e.Ci("server", name,
                           R"({"serial":"SN)" + std::to_string(1000000 + servers.size()) +
                               R"(","vendor":"Supermicro","model":"SYS-821GE","role":"gpu-node","gpu_model":"H100","gpu_count":8,"lifecycle":"deployed"})");
        servers.push_back(srv);
        e.Rel("located_in", srv, rack, static_cast<uint16_t>(2 * s + 1));
        e.Part(srv, "bmc", name + "-bmc", R"({"protocol":"redfish"})");
        for (int g = 0; g < 8; ++g) {
          e.Part(srv, "gpu", name + "-gpu" + std::to_string(g), R"({"model":"H100","index":)" + std::to_string(g) + "}");
        }
        for (int n = 0; n < 10; ++n) {
          const bool ib = n < 8;
          const std::string nic_name = name + (ib ? "-ib" + std::to_string(n) : "-eth" + std::to_string(n - 8));
          int64_t nic = e.Part(srv, "nic", nic_name, ib ? R"({"kind":"infiniband","speed_gbps":400})"
                                                        : R"({"kind":"ethernet","speed_gbps":200})");
          int64_t port = ib ? leaf_ib.ports[s * 8 + n] : leaf_eth.ports[s * 2 + (n - 8)];
          e.Cable(nic, port, "cbl-" + nic_name);
        }
        e.Rel("powered_by", srv, outlets[0][s]);
        e.Rel("powered_by", srv, outlets[1][s]);
        e.Rel("runs", srv, images[servers.size() % images.size()]);
        e.Rel("member_of", srv, all_partition);
        e.Rel("member_of", srv, pod_partition);
        const size_t t = rng() % tenant_ids.size();
        int64_t inst = e.Ci("instance", "inst-" + Num(static_cast<int>(servers.size()), 6),
                            R"({"kind":"baremetal","flavor":"8xH100"})", tenant_slugs[t]);
        e.Rel("deployed_on", inst, srv);
        e.Rel("owned_by", inst, tenant_ids[t]);
      }
    }
  }
  for (int n = 0; n < a.node_services; ++n) {
    int64_t svc = e.Ci("service", "node-svc-" + Num(n + 1, 3), R"({"criticality":"high","owner":"platform"})");
    for (int64_t srv : servers) e.Rel("deployed_on", svc, srv);
  }
  std::vector<int64_t> apps;
  for (int n = 0; n < app_services; ++n) {
    const size_t t = rng() % tenant_ids.size();
    int64_t svc = e.Ci("service", "app-" + Num(n + 1, 4), R"({"criticality":"medium"})", tenant_slugs[t]);
    const int k = 2 + static_cast<int>(rng() % 31);
    std::vector<int64_t> on;
    while (static_cast<int>(on.size()) < std::min<int>(k, servers.size())) {
      int64_t srv = servers[rng() % servers.size()];
      if (std::find(on.begin(), on.end(), srv) == on.end()) on.push_back(srv);
    }
    for (int64_t srv : on) e.Rel("deployed_on", svc, srv);
    // Four tiers (front ends → APIs → back ends → data stores): each service depends on 1-3
    // services of the tier below, so dependencies form chains of up to 4, never cycles.
    const int tier = n * 4 / app_services;
    if (tier > 0) {
      const int lo = (tier - 1) * app_services / 4, hi = tier * app_services / 4;
      std::vector<int64_t> dep_on;
      for (int d = 0, deps = 1 + static_cast<int>(rng() % 3); d < deps; ++d) {
        int64_t dep = apps[lo + rng() % (hi - lo)];
        if (std::find(dep_on.begin(), dep_on.end(), dep) == dep_on.end()) dep_on.push_back(dep);
      }
      for (int64_t dep : dep_on) e.Rel("depends_on", svc, dep);
    }
    e.Rel("owned_by", svc, tenant_ids[t]);
    apps.push_back(svc);
  }
}

// ---- SQLite --------------------------------------------------------------------------------

void Check(sqlite3* db, int rc, const char* what) {
  if (rc != SQLITE_OK && rc != SQLITE_DONE && rc != SQLITE_ROW) Die(std::string(what) + ": " + sqlite3_errmsg(db));
}

void Exec(sqlite3* db, const char* sql) { Check(db, sqlite3_exec(db, sql, nullptr, nullptr, nullptr), sql); }

sqlite3_stmt* Prepare(sqlite3* db, const char* sql) {
  sqlite3_stmt* st = nullptr;
  Check(db, sqlite3_prepare_v2(db, sql, -1, &st, nullptr), sql);
  return st;
}

void Step(sqlite3* db, sqlite3_stmt* st) {
  Check(db, sqlite3_step(st), "insert");
  sqlite3_reset(st);
}

// CPU seconds (user + system) this process has used: with other work on the machine, the
// wall-clock import rate alone says more about the neighbours than about the import.
double CpuSeconds() {
  rusage ru{};
  getrusage(RUSAGE_SELF, &ru);
  auto s = [](const timeval& t) { return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_usec) / 1e6; };
  return s(ru.ru_utime) + s(ru.ru_stime);
}

struct ImportTimes {
  double ci_wall, ci_cpu, rel_wall, rel_cpu;
};

// Writes the types and the estate, timing the CIs and the relationships.
ImportTimes WriteSqlite(const std::string& path, const Estate& e, int64_t now) {
  std::filesystem::remove(path);
  std::filesystem::remove(path + "-wal");
  std::filesystem::remove(path + "-shm");
  {
    auto db = store::Open("sqlite:" + path);
    if (!db) Die("open: " + db.error().message);
    auto m = store::Migrate(**db);
    if (!m) Die("migrate: " + m.error().message);
  }
  sqlite3* db = nullptr;
  Check(db, sqlite3_open(path.c_str(), &db), "open");
  // The backend's pragmas, except synchronous=NORMAL (WAL-safe) and one checkpoint at the end
  // (timed) for a bulk load; foreign keys stay on, so every relationship is checked against its
  // CIs and type.
  Exec(db, "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON; PRAGMA cache_size=-524288; "
            "PRAGMA wal_autocheckpoint=0");
  Exec(db, "BEGIN");
  sqlite3_stmt* ty = Prepare(db, "INSERT INTO cmdb_types (name, description, builtin, attributes, created_at, updated_at) "
                                 "VALUES (?, ?, 1, '[]', ?, ?)");
  for (const auto& t : cmdb::BuiltinCiTypes()) {
    sqlite3_bind_text(ty, 1, t.name.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(ty, 2, t.description.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(ty, 3, now);
    sqlite3_bind_int64(ty, 4, now);
    Step(db, ty);
  }
  sqlite3_stmt* rt = Prepare(db, "INSERT INTO cmdb_relation_types (name, description, builtin, rules, created_at, updated_at) "
                                 "VALUES (?, ?, 1, '{}', ?, ?)");
  for (const auto& t : cmdb::BuiltinRelationTypes()) {
    sqlite3_bind_text(rt, 1, t.name.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(rt, 2, t.description.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(rt, 3, now);
    sqlite3_bind_int64(rt, 4, now);
    Step(db, rt);
  }
  Exec(db, "COMMIT");
  sqlite3_finalize(ty);
  sqlite3_finalize(rt);

  const auto& ci_types = cmdb::BuiltinCiTypes();
  const auto& rel_types = cmdb::BuiltinRelationTypes();
  constexpr size_t kBatch = 200'000;
  auto t0 = Clock::now();
  const double c0 = CpuSeconds();
  sqlite3_stmt* ci = Prepare(db, "INSERT INTO cmdb_cis (id, type, name, attrs, tenant, created_at, updated_at) "
                                 "VALUES (?, ?, ?, ?, ?, ?, ?)");
  Exec(db, "BEGIN");
  for (size_t i = 0; i < e.cis.size(); ++i) {
    const CiRow& c = e.cis[i];
    if (i > 0 && i % kBatch == 0) Exec(db, "COMMIT; BEGIN");
    sqlite3_bind_int64(ci, 1, static_cast<int64_t>(i + 1));
    sqlite3_bind_text(ci, 2, ci_types[c.type].name.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_text(ci, 3, c.name.data(), static_cast<int>(c.name.size()), SQLITE_STATIC);
    sqlite3_bind_text(ci, 4, c.attrs.data(), static_cast<int>(c.attrs.size()), SQLITE_STATIC);
    if (c.tenant.empty()) {
      sqlite3_bind_null(ci, 5);
    } else {
      sqlite3_bind_text(ci, 5, c.tenant.data(), static_cast<int>(c.tenant.size()), SQLITE_STATIC);
    }
    sqlite3_bind_int64(ci, 6, now);
    sqlite3_bind_int64(ci, 7, now);
    Step(db, ci);
  }
  Exec(db, "COMMIT");
  sqlite3_finalize(ci);
  auto t1 = Clock::now();
  const double c1 = CpuSeconds();
  sqlite3_stmt* rel = Prepare(db, "INSERT INTO cmdb_relations (id, type, from_id, to_id, attrs, created_at) "
                                  "VALUES (?, ?, ?, ?, ?, ?)");
  Exec(db, "BEGIN");
  std::string attrs;
  for (size_t i = 0; i < e.rels.size(); ++i) {
    const RelRow& r = e.rels[i];
    if (i > 0 && i % kBatch == 0) Exec(db, "COMMIT; BEGIN");
    attrs = r.position_u ? R"({"position_u":)" + std::to_string(r.position_u) + "}" : "{}";
    sqlite3_bind_int64(rel, 1, static_cast<int64_t>(i + 1));
    sqlite3_bind_text(rel, 2, rel_types[r.type].name.c_str(), -1, SQLITE_STATIC);
    sqlite3_bind_int64(rel, 3, r.from);
    sqlite3_bind_int64(rel, 4, r.to);
    sqlite3_bind_text(rel, 5, attrs.data(), static_cast<int>(attrs.size()), SQLITE_TRANSIENT);
    sqlite3_bind_int64(rel, 6, now);
    Step(db, rel);
  }
  Exec(db, "COMMIT");
  sqlite3_finalize(rel);
  Exec(db, "PRAGMA wal_checkpoint(TRUNCATE)");  // into the database file, synced: part of the import
  auto t2 = Clock::now();
  const double c2 = CpuSeconds();
  sqlite3_close(db);
  return {std::chrono::duration<double>(t1 - t0).count(), c1 - c0, std::chrono::duration<double>(t2 - t1).count(),
          c2 - c1};
}

// ---- CSV for PostgreSQL COPY (FORMAT csv; an empty unquoted field is NULL) -------------------

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

void WriteCsv(const std::string& dir, const Estate& e, int64_t now) {
  std::filesystem::create_directories(dir);
  const std::string ts = std::to_string(now);
  {
    std::ofstream f(dir + "/cmdb_types.csv");  // name,description,builtin,attributes,created_at,updated_at
    for (const auto& t : cmdb::BuiltinCiTypes()) f << Quote(t.name) << ',' << Quote(t.description) << ",1,\"[]\"," << ts << ',' << ts << '\n';
  }
  {
    std::ofstream f(dir + "/cmdb_relation_types.csv");  // name,description,builtin,rules,created_at,updated_at
    for (const auto& t : cmdb::BuiltinRelationTypes()) f << Quote(t.name) << ',' << Quote(t.description) << ",1,\"{}\"," << ts << ',' << ts << '\n';
  }
  const auto& ci_types = cmdb::BuiltinCiTypes();
  const auto& rel_types = cmdb::BuiltinRelationTypes();
  {
    std::ofstream f(dir + "/cmdb_cis.csv");  // id,type,name,attrs,tenant,created_at,updated_at
    for (size_t i = 0; i < e.cis.size(); ++i) {
      const CiRow& c = e.cis[i];
      f << i + 1 << ',' << ci_types[c.type].name << ',' << Quote(c.name) << ',' << Quote(c.attrs) << ','
        << (c.tenant.empty() ? std::string() : Quote(c.tenant)) << ',' << ts << ',' << ts << '\n';
    }
  }
  {
    std::ofstream f(dir + "/cmdb_relations.csv");  // id,type,from_id,to_id,attrs,created_at
    for (size_t i = 0; i < e.rels.size(); ++i) {
      const RelRow& r = e.rels[i];
      f << i + 1 << ',' << rel_types[r.type].name << ',' << r.from << ',' << r.to << ','
        << (r.position_u ? "\"{\"\"position_u\"\":" + std::to_string(r.position_u) + "}\"" : std::string("\"{}\"")) << ','
        << ts << '\n';
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  const int64_t now = std::chrono::duration_cast<std::chrono::nanoseconds>(
                          std::chrono::system_clock::now().time_since_epoch()).count();
  Estate e;
  auto g0 = Clock::now();
  Generate(e, a);
  const double gen_s = std::chrono::duration<double>(Clock::now() - g0).count();
  for (const auto& [type, n] : e.per_ci_type) std::printf("ci %-16s %9zu\n", type.c_str(), n);
  for (const auto& [type, n] : e.per_rel_type) std::printf("relation %-12s %9zu\n", type.c_str(), n);
  std::printf("RESULT estate scale=%g cis=%zu relations=%zu generate_s=%.2f\n", a.scale, e.cis.size(), e.rels.size(), gen_s);
  std::fflush(stdout);
  const ImportTimes t = WriteSqlite(a.sqlite, e, now);
  std::printf("RESULT sqlite_import cis=%zu ci_seconds=%.2f cis_per_s=%.0f cis_per_cpu_s=%.0f relations=%zu "
              "relation_seconds=%.2f relations_per_s=%.0f relations_per_cpu_s=%.0f total_seconds=%.2f\n",
              e.cis.size(), t.ci_wall, e.cis.size() / t.ci_wall, e.cis.size() / t.ci_cpu, e.rels.size(), t.rel_wall,
              e.rels.size() / t.rel_wall, e.rels.size() / t.rel_cpu, t.ci_wall + t.rel_wall);
  if (!a.csv.empty()) {
    auto c0 = Clock::now();
    WriteCsv(a.csv, e, now);
    std::printf("RESULT csv dir=%s seconds=%.2f\n", a.csv.c_str(), std::chrono::duration<double>(Clock::now() - c0).count());
  }
  return 0;
}
