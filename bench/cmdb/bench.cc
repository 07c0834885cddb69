// gantry_cmdb_bench: the CMDB graph questions on one estate (made by gantry_cmdb_gen), answered
// by cmdb::GraphIndex, by a recursive CTE on SQLite and by a recursive CTE on PostgreSQL 15.
//
//   gantry_cmdb_bench --sqlite PATH [--pg URL --csv DIR] [--iterations 50] [--cte-iterations 50]
//                     [--big-cte-iterations 5] [--graph-rounds 10] [--depth 6] [--seed 7]
//
// Queries, each on random targets of its kind (the same targets for every engine):
//   impact/spine    ImpactOf a spine switch          upstream/service  UpstreamOf an application service
//   impact/pdu      ImpactOf a PDU                   neighbourhood     all CIs within --depth hops of a
//                                                                      server, ignoring direction
//   neighbourhood/physical: the same over located_in, contains, connected_to and powered_by only.
// The CTEs are generated from the same ImpactRules GraphIndex uses (see ImpactSql), deduplicate
// with UNION, and run on covering indexes (from_id, type, to_id) and (to_id, type, from_id) that
// this program puts on both databases (kCteIndexes); every answer's row count is compared with
// GraphIndex's.
// Each query has --iterations random targets. GraphIndex answers them all, --graph-rounds times
// over (so that its p99 rests on more than the single slowest of 50 sub-millisecond samples);
// each CTE answers the first --cte-iterations of them once (--big-cte-iterations for the
// unfiltered neighbourhood, whose CTE visits most of the estate). Speed-ups compare the two on
// the same targets. Latencies are wall-clock.
//
// With --pg, the database at URL is migrated and loaded from DIR's CSV files with COPY first.
// Prints the load time, memory, and a Markdown table (p50/p99 in ms).
#include <libpq-fe.h>
#include <malloc.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <tuple>
#include <vector>

#include "cmdb/builtin.h"
#include "cmdb/graph.h"
#include "store/database.h"
#include "store/migrate.h"

namespace {

using namespace gantry;
using Clock = std::chrono::steady_clock;

[[noreturn]] void Die(const std::string& msg) {
  std::fprintf(stderr, "gantry_cmdb_bench: %s\n", msg.c_str());
  std::exit(1);
}

struct Args {
  std::string sqlite, pg, csv;
  int iterations = 50;
  int cte_iterations = 50;
  int big_cte_iterations = 5;
  int depth = 6;
  int graph_rounds = 10;
  uint64_t seed = 7;
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
    else if (k == "--pg") a.pg = next();
    else if (k == "--csv") a.csv = next();
    else if (k == "--iterations") a.iterations = std::stoi(next());
    else if (k == "--cte-iterations") a.cte_iterations = std::stoi(next());
    else if (k == "--big-cte-iterations") a.big_cte_iterations = std::stoi(next());
    else if (k == "--depth") a.depth = std::stoi(next());
    else if (k == "--graph-rounds") a.graph_rounds = std::stoi(next());
    else if (k == "--seed") a.seed = std::stoull(next());
    else Die("unknown argument " + k + " (see the top of bench/cmdb/bench.cc)");
  }
  if (a.sqlite.empty()) Die("--sqlite PATH is required");
  if (!a.pg.empty() && a.csv.empty()) Die("--pg needs --csv DIR (the generator's CSV files)");
  return a;
}

double Seconds(Clock::time_point since) { return std::chrono::duration<double>(Clock::now() - since).count(); }

template <class T>
T Must(core::Result<T> r, const std::string& what) {
  if (!r) Die(what + ": " + r.error().message);
  return std::move(*r);
}

void Must(core::Status s, const std::string& what) {
  if (!s) Die(what + ": " + s.error().message);
}

// ---- SQL generated from the impact rules ---------------------------------------------------

std::string List(const std::vector<std::string>& names) {
  std::string out;
  for (const auto& n : names) out += (out.empty() ? "'" : ", '") + n + "'";
  return out;
}

// The conditions on relationship `r` for one impact step in one direction, as GraphIndex takes
// it, one per UNION arm so that each can seek the (from_id|to_id, type) index: the types whose
// rule applies to any CI in one arm, then one arm per type whose rule tests a CI type.
// `forward`: steps along stored relationships (from → to) whose rule says a failure of `from`
// reaches `to`; else steps against them (to → from). `typed` is the SQL id of the CI whose type
// a conditional rule tests.
std::vector<std::string> StepArms(bool forward, const std::string& typed) {
  std::vector<std::string> any, arms;
  for (const auto& rt : cmdb::BuiltinRelationTypes()) {
    const bool applies = forward ? rt.impact.forward : rt.impact.reverse;
    const auto& types = forward ? rt.impact.forward_from_types : rt.impact.reverse_to_types;
    if (!applies) continue;
    if (types.empty()) {
      any.push_back(rt.name);
    } else {
      arms.push_back("r.type = '" + rt.name + "' AND EXISTS (SELECT 1 FROM cmdb_cis c WHERE c.id = " + typed +
                     " AND c.type IN (" + List(types) + "))");
    }
  }
  if (!any.empty()) arms.insert(arms.begin(), "r.type IN (" + List(any) + ")");
  return arms;
}

// Relationship types whose rule has `flag` (forward or reverse impact), or both.
std::vector<std::string> TypesWith(bool forward, bool reverse) {
  std::vector<std::string> out;
  for (const auto& rt : cmdb::BuiltinRelationTypes()) {
    if ((!forward || rt.impact.forward) && (!reverse || rt.impact.reverse)) out.push_back(rt.name);
  }
  return out;
}

// Every CI reached from ? (itself included); `upstream` walks the steps backwards.
//
// GraphIndex's bounce rule (graph_query.cc, ImpactWalk) in SQL: each row carries `forbid`, the
// relationship type and arm ('T:1' along, 'T:0' against) it must not step back over, set when
// it was reached over a type with impact both ways (`contains`): downstream unless the CI it came
// from is an uplink, upstream always, with the CI stepped back to exempt when it is an uplink.
// UNION deduplicates (id, forbid); the answer counts distinct ids.
std::string ImpactSql(store::Backend backend, bool upstream) {
  // Downstream from h: along (h = from, forward rules, from's type tested on h) and against
  // (h = to, reverse rules, to's type tested on h). Upstream of h: along reverse rules (h = from,
  // to's type tested on r.to_id) and against forward rules (h = to, from's type on r.from_id).
  const auto along = upstream ? StepArms(false, "r.to_id") : StepArms(true, "h.id");
  const auto against = upstream ? StepArms(true, "r.from_id") : StepArms(false, "h.id");
  const std::string both = "r.type IN (" + List(TypesWith(true, true)) + ")";
  auto uplink = [&](const std::string& ci) {
    return "EXISTS (SELECT 1 FROM cmdb_relations u WHERE u.from_id = " + ci + " AND u.type <> r.type AND u.type IN (" +
           List(TypesWith(false, true)) + "))";
  };
  // One arm: its step condition, the guard against bouncing, and the row it produces.
  auto arm = [&](bool is_along, const std::string& cond) {
    const std::string next = is_along ? "r.to_id" : "r.from_id";
    const std::string back = std::string("r.type || ':") + (is_along ? "0'" : "1'");
    const std::string self = std::string("r.type || ':") + (is_along ? "1'" : "0'");
    std::string guard = "(h.forbid IS NULL OR h.forbid <> " + self;
    guard += upstream ? " OR " + uplink(next) + ")" : ")";
    const std::string forbid = upstream ? "CASE WHEN " + both + " THEN " + back + " END"
                                        : "CASE WHEN " + both + " AND NOT " + uplink("h.id") + " THEN " + back + " END";
    const std::string join = is_along ? "r.from_id = h.id" : "r.to_id = h.id";
    return std::tuple{next, forbid, join, cond + " AND " + guard};
  };
  std::vector<std::tuple<std::string, std::string, std::string, std::string>> arms;
  for (const auto& c : along) arms.push_back(arm(true, c));
  for (const auto& c : against) arms.push_back(arm(false, c));
  if (backend == store::Backend::kSqlite) {  // one recursive SELECT per arm (SQLite ≥ 3.34)
    std::string sql = "WITH RECURSIVE hit(id, forbid) AS (SELECT ?, NULL";
    for (const auto& [next, forbid, join, where] : arms) {
      sql += " UNION SELECT " + next + ", " + forbid + " FROM hit h JOIN cmdb_relations r ON " + join + " WHERE " + where;
    }
    return sql + ") SELECT count(DISTINCT id) FROM hit";
  }
  // PostgreSQL allows one reference to the recursive CTE: every arm in one LATERAL subquery.
  std::string lateral;
  for (const auto& [next, forbid, join, where] : arms) {
    lateral += (lateral.empty() ? "" : " UNION ALL ") + ("SELECT " + next + " AS id, " + forbid +
                                                         " AS forbid FROM cmdb_relations r WHERE " + join + " AND " + where);
  }
  return "WITH RECURSIVE hit(id, forbid) AS (SELECT CAST(? AS BIGINT), CAST(NULL AS TEXT) UNION SELECT n.id, n.forbid "
         "FROM hit h CROSS JOIN LATERAL (" + lateral + ") n) SELECT count(DISTINCT id) FROM hit";
}

// Every CI within `depth` hops, ignoring direction; `types` empty: all relationship types.
// UNION deduplicates (id, depth): SQL has no cheaper way to stop at CIs seen at a smaller depth.
std::string NeighbourhoodSql(store::Backend backend, int depth, const std::vector<std::string>& types) {
  const std::string filter = types.empty() ? "" : " AND r.type IN (" + List(types) + ")";
  const std::string d = std::to_string(depth);
  if (backend == store::Backend::kSqlite) {
    return "WITH RECURSIVE nb(id, d) AS (SELECT ?, 0 "
           "UNION SELECT r.to_id, nb.d + 1 FROM nb JOIN cmdb_relations r ON r.from_id = nb.id WHERE nb.d < " + d + filter +
           " UNION SELECT r.from_id, nb.d + 1 FROM nb JOIN cmdb_relations r ON r.to_id = nb.id WHERE nb.d < " + d + filter +
           ") SELECT count(DISTINCT id) FROM nb";
  }
  return "WITH RECURSIVE nb(id, d) AS (SELECT CAST(? AS BIGINT), 0 "
         "UNION SELECT n.id, nb.d + 1 FROM nb CROSS JOIN LATERAL ("
         "SELECT r.to_id AS id FROM cmdb_relations r WHERE r.from_id = nb.id" + filter +
         " UNION ALL SELECT r.from_id FROM cmdb_relations r WHERE r.to_id = nb.id" + filter +
         ") n WHERE nb.d < " + d + ") SELECT count(DISTINCT id) FROM nb";
}

// The CTEs' indexes, on both databases: covering (from_id, type, to_id) and (to_id, type,
// from_id) instead of the schema's (from_id) and (to_id), which they subsume. With the
// single-column ones present, both planners pick them and then filter every relationship of a
// hub CI (a service deployed on 20,000 servers) by type: up to 4× slower on these queries.
constexpr const char* kCteIndexes[] = {
    "CREATE INDEX IF NOT EXISTS cmdb_bench_rel_out ON cmdb_relations (from_id, type, to_id)",
    "CREATE INDEX IF NOT EXISTS cmdb_bench_rel_in ON cmdb_relations (to_id, type, from_id)",
    "DROP INDEX IF EXISTS cmdb_relations_from",
    "DROP INDEX IF EXISTS cmdb_relations_to",
};

// ---- PostgreSQL set-up ---------------------------------------------------------------------

void CopyCsv(PGconn* conn, const std::string& table, const std::string& columns, const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) Die("cannot read " + file);
  PGresult* res = PQexec(conn, ("COPY " + table + " (" + columns + ") FROM STDIN WITH (FORMAT csv)").c_str());
  if (PQresultStatus(res) != PGRES_COPY_IN) Die("COPY " + table + ": " + PQerrorMessage(conn));
  PQclear(res);
  std::vector<char> buf(1 << 20);
  while (in) {
    in.read(buf.data(), static_cast<std::streamsize>(buf.size()));
    if (in.gcount() > 0 && PQputCopyData(conn, buf.data(), static_cast<int>(in.gcount())) != 1) {
      Die("COPY " + table + ": " + PQerrorMessage(conn));
    }
  }
  if (PQputCopyEnd(conn, nullptr) != 1) Die("COPY " + table + ": " + PQerrorMessage(conn));
  while ((res = PQgetResult(conn)) != nullptr) {
    if (PQresultStatus(res) != PGRES_COMMAND_OK) Die("COPY " + table + ": " + PQresultErrorMessage(res));
    PQclear(res);
  }
}

void PgExec(PGconn* conn, const std::string& sql) {
  PGresult* res = PQexec(conn, sql.c_str());
  if (PQresultStatus(res) != PGRES_COMMAND_OK && PQresultStatus(res) != PGRES_TUPLES_OK) {
    Die(sql + ": " + PQresultErrorMessage(res));
  }
  PQclear(res);
}

void LoadPostgres(const Args& a) {
  auto t0 = Clock::now();
  {
    auto db = Must(store::Open(a.pg), "open " + a.pg);
    Must(store::Migrate(*db), "migrate PostgreSQL");
  }
  PGconn* conn = PQconnectdb(a.pg.c_str());
  if (PQstatus(conn) != CONNECTION_OK) Die(std::string("connect: ") + PQerrorMessage(conn));
  PgExec(conn, "SET maintenance_work_mem = '1GB'");
  // The estate was checked against its foreign keys on its way into SQLite: skip the per-row
  // FK triggers during COPY (the load time is not one of the measured goals).
  PgExec(conn, "SET session_replication_role = replica");
  CopyCsv(conn, "cmdb_types", "name, description, builtin, attributes, created_at, updated_at", a.csv + "/cmdb_types.csv");
  CopyCsv(conn, "cmdb_relation_types", "name, description, builtin, rules, created_at, updated_at",
          a.csv + "/cmdb_relation_types.csv");
  CopyCsv(conn, "cmdb_cis", "id, type, name, attrs, tenant, created_at, updated_at", a.csv + "/cmdb_cis.csv");
  CopyCsv(conn, "cmdb_relations", "id, type, from_id, to_id, attrs, created_at", a.csv + "/cmdb_relations.csv");
  const double copy_s = Seconds(t0);
  for (const char* sql : kCteIndexes) PgExec(conn, sql);
  PgExec(conn, "VACUUM ANALYZE cmdb_cis");
  PgExec(conn, "VACUUM ANALYZE cmdb_relations");
  std::printf("RESULT pg_load copy_seconds=%.2f total_seconds=%.2f\n", copy_s, Seconds(t0));
  PQfinish(conn);
}

// ---- measurement ---------------------------------------------------------------------------

struct Series {
  std::vector<double> ms;                    // one sample per target (CTEs)
  std::vector<std::vector<double>> per_target;  // or several (GraphIndex)
  std::vector<int64_t> counts;               // answer size per target
  size_t Runs() const {
    size_t n = ms.size();
    for (const auto& t : per_target) n += t.size();
    return n;
  }
  double Pct(double p) const {
    std::vector<double> s = ms;
    for (const auto& t : per_target) s.insert(s.end(), t.begin(), t.end());
    if (s.empty()) return 0;
    std::sort(s.begin(), s.end());
    size_t rank = static_cast<size_t>(std::ceil(p / 100.0 * s.size()));
    return s[std::clamp<size_t>(rank, 1, s.size()) - 1];
  }
  Series First(size_t targets) const {
    Series out;
    out.ms.assign(ms.begin(), ms.begin() + std::min(targets, ms.size()));
    out.per_target.assign(per_target.begin(), per_target.begin() + std::min(targets, per_target.size()));
    out.counts.assign(counts.begin(), counts.begin() + std::min(targets, counts.size()));
    return out;
  }
  double MeanCount() const {
    double sum = 0;
    for (auto c : counts) sum += c;
    return counts.empty() ? 0 : sum / counts.size();
  }
};

struct Query {
  std::string name;
  std::vector<int64_t> targets;
  // The CIs of the answer, the start included (timed: only their number is used).
  std::function<std::vector<int64_t>(const cmdb::GraphIndex&, int64_t)> graph;
  std::string sqlite_sql, pg_sql;
  int cte_iterations;
};

std::string Replace(std::string s, const std::string& from, const std::string& to) {
  const size_t pos = s.rfind(from);
  if (pos == std::string::npos) Die("cannot rewrite the CTE: " + s);
  return s.replace(pos, from.size(), to);
}

int64_t CountCte(store::Database& db, const std::string& sql, int64_t target) {
  auto rs = Must(db.Query(sql, {target}), "CTE");
  return rs.rows.at(0).Int(0);
}

std::vector<int64_t> Ids(store::Database& db, const std::string& where) {
  auto rs = Must(db.Query("SELECT id FROM cmdb_cis WHERE " + where + " ORDER BY id"), where);
  std::vector<int64_t> ids;
  for (const auto& r : rs.rows) ids.push_back(r.Int(0));
  if (ids.empty()) Die("no CI matches " + where);
  return ids;
}

std::vector<int64_t> Pick(const std::vector<int64_t>& from, int n, std::mt19937_64& rng) {
  std::vector<int64_t> out;
  for (int i = 0; i < n; ++i) out.push_back(from[rng() % from.size()]);
  return out;
}

std::string Ms(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, v < 1 ? "%.3f" : v < 100 ? "%.2f" : "%.0f", v);
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  Args a = Parse(argc, argv);
  auto sqlite = Must(store::Open("sqlite:" + a.sqlite), "open " + a.sqlite);

  // Index build from the database, twice (the second with SQLite's pages in the OS cache for sure).
  cmdb::GraphIndex graph(cmdb::BuiltinRelationTypes());
  // malloc's view of the bytes in use (small blocks plus mmap()ed large ones), to check MemoryBytes().
  auto heap = [] {
    const struct mallinfo2 mi = mallinfo2();
    return mi.uordblks + mi.hblkhd;
  };
  const size_t heap_before = heap();
  double load_s[2];
  for (double& s : load_s) {
    auto t0 = Clock::now();
    Must(graph.Load(*sqlite), "GraphIndex::Load");
    s = Seconds(t0);
  }
  const size_t heap_after = heap();
  const auto st = graph.Stats();
  std::printf("RESULT graph_load nodes=%zu edges=%zu first_seconds=%.2f second_seconds=%.2f memory_bytes=%zu "
              "bytes_per_relationship=%.1f heap_delta_bytes=%zu\n",
              st.nodes, st.edges, load_s[0], load_s[1], st.memory_bytes,
              static_cast<double>(st.memory_bytes) / static_cast<double>(std::max<size_t>(st.edges, 1)),
              heap_after > heap_before ? heap_after - heap_before : 0);
  std::fflush(stdout);

  // Indexes for the CTE peers (see kCteIndexes; GraphIndex does not use them).
  auto t_idx = Clock::now();
  for (const char* sql : kCteIndexes) Must(sqlite->Exec(sql), sql);
  Must(sqlite->Exec("ANALYZE"), "analyze");
  std::printf("RESULT sqlite_bench_indexes seconds=%.2f\n", Seconds(t_idx));
  std::unique_ptr<store::Database> pg;
  if (!a.pg.empty()) {
    LoadPostgres(a);
    pg = Must(store::Open(a.pg, {.pool_size = 1}), "open " + a.pg);
    // The same index build from PostgreSQL (how a replica of a scaled-out Gantry starts).
    cmdb::GraphIndex from_pg(cmdb::BuiltinRelationTypes());
    auto t0 = Clock::now();
    Must(from_pg.Load(*pg), "GraphIndex::Load from PostgreSQL");
    const auto pst = from_pg.Stats();
    std::printf("RESULT graph_load_postgres nodes=%zu edges=%zu seconds=%.2f\n", pst.nodes, pst.edges, Seconds(t0));
  }
  std::fflush(stdout);

  std::mt19937_64 rng(a.seed);
  const auto spines = Ids(*sqlite, "type = 'switch' AND name LIKE 'spine-%'");
  const auto pdus = Ids(*sqlite, "type = 'pdu'");
  const auto apps = Ids(*sqlite, "type = 'service' AND name LIKE 'app-%'");
  const auto servers = Ids(*sqlite, "type = 'server'");
  const std::vector<std::string> physical = {"located_in", "contains", "connected_to", "powered_by"};
  const size_t unbounded = 100'000'000;
  const int n = a.iterations;
  auto ids_of = [](const cmdb::TraversalResult& r) {
    std::vector<int64_t> ids = {r.start};
    ids.reserve(r.nodes.size() + 1);
    for (const auto& n : r.nodes) ids.push_back(n.id);
    return ids;
  };
  auto impact = [&](const cmdb::GraphIndex& g, int64_t id) { return ids_of(g.ImpactOf(id, {0, unbounded, {}})); };
  auto upstream = [&](const cmdb::GraphIndex& g, int64_t id) { return ids_of(g.UpstreamOf(id, {0, unbounded, {}})); };
  auto neighbourhood = [&](const std::vector<std::string>& types) {
    return [&, types](const cmdb::GraphIndex& g, int64_t id) {
      return ids_of(g.Neighbourhood(id, {a.depth, unbounded, types, false}));
    };
  };
  using B = store::Backend;
  const std::string d = std::to_string(a.depth);
  std::vector<Query> queries = {
      {"impact of a spine switch", Pick(spines, n, rng), impact, ImpactSql(B::kSqlite, false), ImpactSql(B::kPostgres, false),
       a.cte_iterations},
      {"impact of a PDU", Pick(pdus, n, rng), impact, ImpactSql(B::kSqlite, false), ImpactSql(B::kPostgres, false),
       a.cte_iterations},
      {"root cause (upstream) of a service", Pick(apps, n, rng), upstream, ImpactSql(B::kSqlite, true),
       ImpactSql(B::kPostgres, true), a.cte_iterations},
      {d + "-hop neighbourhood of a server, physical types", Pick(servers, n, rng), neighbourhood(physical),
       NeighbourhoodSql(B::kSqlite, a.depth, physical), NeighbourhoodSql(B::kPostgres, a.depth, physical),
       a.cte_iterations},
      {d + "-hop neighbourhood of a server, all types", Pick(servers, n, rng), neighbourhood({}),
       NeighbourhoodSql(B::kSqlite, a.depth, {}), NeighbourhoodSql(B::kPostgres, a.depth, {}), a.big_cte_iterations},
  };

  struct Row {
    std::string query, engine;
    Series s;
    int mismatches = 0;
    int sets_compared = 0;
  };
  std::vector<Row> rows;
  for (const auto& q : queries) {
    Row g{q.name, "GraphIndex", {}, 0, 0}, lite{q.name, "SQLite CTE", {}, 0, 0}, post{q.name, "PostgreSQL CTE", {}, 0, 0};
    std::vector<std::vector<double>> rounds(q.targets.size());  // per target
    for (int round = 0; round < std::max(a.graph_rounds, 1); ++round) {
      for (size_t i = 0; i < q.targets.size(); ++i) {
        auto t0 = Clock::now();
        auto c = static_cast<int64_t>(q.graph(graph, q.targets[i]).size());
        rounds[i].push_back(Seconds(t0) * 1e3);
        if (round == 0) g.s.counts.push_back(c);
      }
    }
    for (const auto& per_target : rounds) g.s.per_target.push_back(per_target);
    for (auto [row, db, sql] : {std::tuple{&lite, sqlite.get(), &q.sqlite_sql}, {&post, pg.get(), &q.pg_sql}}) {
      if (!db) continue;
      for (int i = 0; i < std::min<int>(q.cte_iterations, q.targets.size()); ++i) {
        auto t0 = Clock::now();
        int64_t c = CountCte(*db, *sql, q.targets[i]);
        row->s.ms.push_back(Seconds(t0) * 1e3);
        row->s.counts.push_back(c);
        if (c != g.s.counts[i]) {
          ++row->mismatches;
          std::fprintf(stderr, "MISMATCH %s %s target=%lld graph=%lld cte=%lld\n", q.name.c_str(), row->engine.c_str(),
                       static_cast<long long>(q.targets[i]), static_cast<long long>(g.s.counts[i]),
                       static_cast<long long>(c));
        }
      }
      // Untimed: the first target's answer compared CI by CI, not only by count.
      if (q.cte_iterations > 0) {
        auto mine = q.graph(graph, q.targets[0]);
        const std::string list_sql = Replace(*sql, "SELECT count(DISTINCT id) FROM", "SELECT DISTINCT id FROM");
        auto rs = Must(db->Query(list_sql, {q.targets[0]}), "CTE ids");
        std::vector<int64_t> theirs;
        for (const auto& r : rs.rows) theirs.push_back(r.Int(0));
        std::sort(mine.begin(), mine.end());
        std::sort(theirs.begin(), theirs.end());
        row->sets_compared = 1;
        if (mine != theirs) {
          ++row->mismatches;
          std::fprintf(stderr, "MISMATCH %s %s target=%lld: the CI sets differ\n", q.name.c_str(), row->engine.c_str(),
                       static_cast<long long>(q.targets[0]));
        }
      }
      std::printf("progress: %s, %s done\n", q.name.c_str(), row->engine.c_str());
      std::fflush(stdout);
    }
    rows.push_back(std::move(g));
    rows.push_back(std::move(lite));
    if (pg) rows.push_back(std::move(post));
  }

  std::printf("\n| query | engine | runs | p50 ms | p99 ms | CIs per answer (mean) | same answer as GraphIndex (counts; CI sets) | GraphIndex speed-up (p50 / p99) |\n");
  std::printf("| --- | --- | ---: | ---: | ---: | ---: | --- | --- |\n");
  const Row* base = nullptr;
  for (const auto& r : rows) {
    if (r.engine == "GraphIndex") base = &r;
    if (r.s.Runs() == 0) continue;  // --cte-iterations 0
    std::string same = r.engine == "GraphIndex" ? "—"
                       : r.mismatches == 0
                           ? "yes: " + std::to_string(r.s.ms.size()) + " counts, " + std::to_string(r.sets_compared) + " set"
                           : "NO: " + std::to_string(r.mismatches) + " differ";
    // Against GraphIndex on the same targets (a CTE may run on the first few only).
    const Series same_targets = base->s.First(r.s.counts.size());
    std::string ratio = r.engine == "GraphIndex"
                            ? "—"
                            : Ms(r.s.Pct(50) / same_targets.Pct(50)) + "× / " + Ms(r.s.Pct(99) / same_targets.Pct(99)) + "×";
    char mean[32];
    std::snprintf(mean, sizeof mean, "%.0f", r.s.MeanCount());
    std::printf("| %s | %s | %zu | %s | %s | %s | %s | %s |\n", r.query.c_str(), r.engine.c_str(), r.s.Runs(),
                Ms(r.s.Pct(50)).c_str(), Ms(r.s.Pct(99)).c_str(), mean, same.c_str(), ratio.c_str());
  }
  int bad = 0;
  for (const auto& r : rows) bad += r.mismatches;
  return bad == 0 ? 0 : 2;
}
