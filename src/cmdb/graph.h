// GraphIndex: the CMDB's in-memory graph of configuration items (CIs) and relationships, kept in
// step with the database, answering the graph questions without SQL: impact ("what breaks if X
// fails"), root cause (everything whose failure would reach X), the smallest common upstream of
// several alerting CIs, neighbourhoods, shortest paths, cycle checks and per-type degree counts.
//
// Contents: every CI (id, type, name) and every relationship (type, from, to). Relationships are
// identified by (type, from, to), which the schema keeps unique; relationship ids are not held.
// CIs get dense uint32 slots (an id → slot hash map, a slot → id array, names in one arena);
// each slot has one adjacency vector holding both directions, 8 bytes per entry (peer slot,
// relation type, direction bit, the peer's CI type), sorted by (relation type, direction, peer),
// so every relationship costs 16 bytes of adjacency and a traversal skips a run of entries no
// rule follows in O(log degree) — a service deployed on 20,000 servers does not cost 20,000
// steps to every impact question that reaches it. Type names are interned (uint16). Measured at
// 1M CIs and 3.4M relationships: 48 bytes per relationship (docs/benchmarks.md, "CMDB").
//
// Per-CI vectors rather than CSR arrays with a delta overlay: the index changes after every
// commit, and vectors take each change in O(degree) with no compaction pass; CSR would save the
// 24-byte vector header and allocator overhead per CI (~12 bytes per relationship here), and
// the load already sizes every vector exactly.
//
// How failure travels: each relationship type's ImpactRule (types.h). For a stored relationship
// `from -type-> to`: forward means a failure of `from` affects `to` (when forward_from_types is
// empty or holds from's CI type); reverse means a failure of `to` affects `from` (when
// reverse_to_types is empty or holds to's CI type). Relationship types the index does not know
// carry no impact. ImpactOf follows these steps from the failing CI; UpstreamOf follows them
// backwards. A failure does not bounce back over the relationship type it arrived by unless the
// CI it came through is an uplink (one with its own upstream over another type): a failing GPU
// degrades its server but not the server's other GPUs, a failing downlink port its switch but
// not the switch's other ports, while a failing NIC or leaf uplink cuts its whole container off
// (docs/cmdb.md). The answer does not depend on the order of the walk. Every answer carries a
// parent pointer per CI, so each CI's explanation (PathTo) is a chain of hops the rules allow,
// usually a shortest one, and every hop points the way the failure travels.
//
// Thread-safety: every method may be called from any thread. Queries share a reader lock;
// mutations and SetRelationTypes take the writer lock (O(degree) each). Load() reads the
// database into a new index without holding the lock and swaps it in; mutations made while it
// runs are applied to the current index and replayed on the new one, so none is lost. Callers
// apply mutations after their transaction commits, in commit order.
//
// Complexity and bounds: a traversal costs O(CIs reached + the relationships it follows + log of
// the degree per run it skips) and stops at `max_results` CIs with `truncated` set; per-query
// scratch is one 4-byte mark per CI slot, taken from a small pool. Mutations are O(degree of the
// CIs involved). Load is O(CIs + relationships · log degree). MemoryBytes() is O(CIs).
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "cmdb/types.h"
#include "core/error.h"
#include "store/database.h"

namespace gantry::cmdb {

// How a hop uses its stored relationship: kForward when the relationship is stored as
// `hop.from -relation-> hop.to`, kReverse when it is stored as `hop.to -relation-> hop.from`.
enum class HopDirection : uint8_t { kForward, kReverse };

struct Hop {
  int64_t from = 0;
  int64_t to = 0;
  std::string relation;
  HopDirection direction = HopDirection::kForward;
  bool operator==(const Hop&) const = default;
};

struct TraversalOptions {
  int max_depth = 0;              // hops from the start; 0: no limit
  size_t max_results = 100'000;   // CIs returned at most; reaching more sets `truncated`
  std::vector<std::string> relation_types;  // follow only these; empty: all
};

// ReachedCi::parent of a CI whose neighbour on the path is the start CI itself.
inline constexpr uint32_t kFromStart = UINT32_MAX;

struct ReachedCi {
  int64_t id = 0;
  uint32_t parent = kFromStart;  // position in `nodes` of its neighbour on the path to the start
  uint32_t depth = 0;            // hops from the start
  uint16_t type = 0;             // index into `ci_types`
  uint16_t relation = 0;         // index into `relation_types`: the hop between it and parent
  HopDirection direction = HopDirection::kForward;  // of that hop, as it appears in PathTo
};

// The CIs a traversal reached, in breadth-first order; the start CI is not among `nodes`.
struct TraversalResult {
  bool found = false;     // the start CI is in the index
  int64_t start = 0;
  bool upstream = false;  // UpstreamOf: paths run from each CI to the start
  std::vector<ReachedCi> nodes;
  bool truncated = false;
  std::vector<std::string> ci_types;        // names for ReachedCi::type
  std::vector<std::string> relation_types;  // names for ReachedCi::relation

  // The explanation of nodes[pos]: a shortest chain of hops in the direction failure travels
  // (start → … → CI for impact and neighbourhoods, CI → … → start for upstream answers).
  std::vector<Hop> PathTo(size_t pos) const;
  // Position of a CI in `nodes` (linear search).
  std::optional<size_t> Find(int64_t id) const;
  const std::string& TypeOf(size_t pos) const { return ci_types[nodes[pos].type]; }
};

struct NeighbourhoodOptions {
  int depth = 1;                  // hops, in either direction
  size_t max_results = 10'000;    // CIs
  std::vector<std::string> relation_types;  // empty: all
  bool include_edges = true;      // also return the relationships among the CIs found
  size_t max_edges = 100'000;
};

struct GraphEdge {
  int64_t from = 0;
  int64_t to = 0;
  uint16_t relation = 0;  // index into relation_types
};

// A neighbourhood: nodes (as a breadth-first tree from the start, ignoring direction) and the
// relationships among them and the start.
struct Subgraph : TraversalResult {
  std::vector<GraphEdge> edges;
  bool edges_truncated = false;
};

struct PathOptions {
  int max_depth = 0;               // longest path looked for; 0: no limit
  size_t max_visited = 1'000'000;  // CIs visited at most; reaching it sets `truncated`
  std::vector<std::string> relation_types;  // empty: all
};

struct PathResult {
  bool found = false;
  std::vector<Hop> hops;  // from `a` to `b`, ignoring the stored direction (see Hop::direction)
  bool truncated = false;
};

// One answer of CommonUpstream.
struct CommonCause {
  int64_t ci = 0;
  // CIs that fail together with `ci` (each is upstream of the other, e.g. a switch and its uplink
  // ports), by id, at most 64 listed; group_size counts them all plus `ci`.
  std::vector<int64_t> fail_together;
  size_t group_size = 1;
  std::vector<std::vector<Hop>> paths;  // paths[i]: ci → … → covered[i]
};

// CommonUpstream's answer. The rule:
//  1. The upstream set of an alerting CI is the CI itself plus every CI whose failure reaches it.
//  2. Candidates are the CIs in the upstream sets of all alerting CIs. When there are none
//     (`common` false), the candidates are the CIs upstream of the largest subset of the
//     alerting CIs that some CI covers (ties: the subset that comes first in input order), and
//     only that subset is `covered`.
//  3. Candidates that are upstream of each other fail together: they form one group (a strongly
//     connected component of the impact steps among candidates, such as a switch and its uplinks).
//  4. A group is kept when, for every covered CI, some impact path runs from the group to it on
//     which no other candidate lies; otherwise it acts only through a closer common cause (the
//     spine behind a shared leaf switch, the room around a shared rack) and is dropped. A group
//     with no candidate downstream of it is always kept, so the answer is never empty.
//  5. Each kept group is reported by its member with the most impact steps to other members
//     (the switch rather than one of its ports; ties: lowest id), with the path UpstreamOf would
//     give to each covered CI. Causes come in order of total path length, then id.
struct CommonUpstreamResult {
  bool common = false;
  std::vector<int64_t> covered;    // the alerting CIs the causes explain, in input order
  std::vector<int64_t> uncovered;  // known alerting CIs they do not explain
  std::vector<int64_t> unknown;    // ids not in the index
  std::vector<CommonCause> causes;
  bool truncated = false;          // an upstream search stopped at max_results
};

struct CiInfo {
  int64_t id = 0;
  std::string type;
  std::string name;
};

struct GraphStats {
  size_t nodes = 0;
  size_t edges = 0;
  size_t ci_types = 0;
  size_t relation_types = 0;
  size_t memory_bytes = 0;   // MemoryBytes()
  size_t scratch_bytes = 0;  // idle per-query scratch kept for reuse
};

struct LoadOptions {
  size_t batch_size = 50'000;  // rows per SELECT
};

class GraphIndex {
 public:
  explicit GraphIndex(std::vector<RelationType> relation_types);
  ~GraphIndex();
  GraphIndex(const GraphIndex&) = delete;
  GraphIndex& operator=(const GraphIndex&) = delete;

  // Replaces the relationship types and their rules (operators add types at run time).
  void SetRelationTypes(std::vector<RelationType> relation_types);

  // Replaces the contents with cmdb_cis and cmdb_relations, read in id order in batches inside
  // one read transaction (REPEATABLE READ on PostgreSQL, so the two tables agree).
  core::Status Load(store::Database& db, const LoadOptions& options = {});

  // Mutations, applied after the database change commits. All are idempotent.
  // Creates or updates a CI. Names longer than 65,535 bytes are cut.
  core::Status UpsertNode(int64_t id, std::string_view type, std::string_view name);
  // Removes a CI and every relationship touching it; false when it is not in the index.
  bool RemoveNode(int64_t id);
  // Adds a relationship; NotFound when an endpoint is not in the index; a duplicate is a no-op.
  core::Status AddEdge(std::string_view type, int64_t from, int64_t to);
  // Removes a relationship; false when it is not in the index.
  bool RemoveEdge(std::string_view type, int64_t from, int64_t to);

  // Every CI affected when `ci` fails (see the top of this file).
  TraversalResult ImpactOf(int64_t ci, const TraversalOptions& options = {}) const;
  // Every CI whose failure would affect `ci` (root-cause candidates).
  TraversalResult UpstreamOf(int64_t ci, const TraversalOptions& options = {}) const;
  // The smallest set of common upstream CIs of several alerting CIs; see CommonUpstreamResult.
  // InvalidArgument for no CIs or more than 64; NotFound when none is in the index. The
  // options bound each CI's upstream search.
  core::Result<CommonUpstreamResult> CommonUpstream(std::span<const int64_t> cis,
                                                    const TraversalOptions& options = {}) const;
  // Every CI within `depth` hops of `ci` in either direction, with the relationships among them.
  Subgraph Neighbourhood(int64_t ci, const NeighbourhoodOptions& options = {}) const;
  // A shortest path between two CIs, ignoring direction (bidirectional breadth-first search).
  PathResult ShortestPath(int64_t a, int64_t b, const PathOptions& options = {}) const;

  // The path `to` → … → `from` over relationships of acyclic types (any of them) that a new
  // relationship `from -type-> to` would close into a cycle: nullopt when it would not (or
  // `type` is not acyclic, or an endpoint is unknown); an empty path when from == to.
  std::optional<std::vector<Hop>> FindCycle(std::string_view type, int64_t from, int64_t to) const;
  bool WouldCreateCycle(std::string_view type, int64_t from, int64_t to) const {
    return FindCycle(type, from, to).has_value();
  }

  // Relationships of `type` out of / into a CI (0 when either is unknown).
  size_t CountOut(int64_t ci, std::string_view type) const;
  size_t CountIn(int64_t ci, std::string_view type) const;

  std::optional<CiInfo> Find(int64_t id) const;
  // The CIs among `ids` that are in the index, in the order given.
  std::vector<CiInfo> Describe(std::span<const int64_t> ids) const;

  GraphStats Stats() const;
  // Heap bytes held by the index: container capacities plus the allocator's per-block overhead
  // (glibc: 8 bytes, 16-byte rounding, 32-byte minimum). Excludes idle scratch (Stats()).
  size_t MemoryBytes() const;

 private:
  struct Graph;
  class ScratchPool;
  struct PendingOp;

  TraversalResult Traverse(int64_t start, const TraversalOptions& options, bool upstream) const;
  void Record(PendingOp op);  // REQUIRES: mu_ held exclusively

  mutable std::shared_mutex mu_;
  std::unique_ptr<Graph> graph_;                // guarded by mu_
  std::vector<RelationType> relation_types_;    // guarded by mu_
  bool loading_ = false;                        // guarded by mu_
  std::vector<PendingOp> pending_;              // guarded by mu_: mutations during Load
  std::mutex load_mu_;                          // one Load at a time
  std::unique_ptr<ScratchPool> scratch_;
};

}  // namespace gantry::cmdb
