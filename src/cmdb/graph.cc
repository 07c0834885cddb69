#include "cmdb/graph.h"

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <bit>
#include <functional>

namespace gantry::cmdb {

namespace {

constexpr uint16_t kNoType = 0xFFFF;               // a free slot
constexpr size_t kMaxCiTypes = 0xFFFE;             // uint16, kNoType reserved
constexpr size_t kMaxRelationTypes = 0x7FFF;       // 15 bits: the 16th is the direction
constexpr uint32_t kMaxSlots = UINT32_MAX - 1;     // kFromStart is reserved
constexpr size_t kMaxAlerts = 64;                  // one bit each in a uint64_t
constexpr size_t kMaxFailTogetherListed = 64;

// One end of a relationship, stored in the adjacency of the CI at the other end.
struct Adj {
  uint32_t peer;
  uint16_t rel_out;    // relation type << 1, | 1 when this CI is the relationship's `from`
  uint16_t peer_type;  // CI type of `peer`: upstream steps test it without touching the peer
  uint16_t rel() const { return rel_out >> 1; }
  bool out() const { return rel_out & 1; }
};
static_assert(sizeof(Adj) == 8);

struct NodeMeta {
  uint32_t name_off = 0;  // into Graph::names
  uint16_t name_len = 0;
  uint16_t type = kNoType;
};
static_assert(sizeof(NodeMeta) == 8);

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};

// Names ↔ small integers; ids are never reused, so they stay valid for the graph's life.
class Interner {
 public:
  std::optional<uint16_t> Find(std::string_view s) const {
    auto it = ids_.find(s);
    if (it == ids_.end()) return std::nullopt;
    return it->second;
  }
  std::optional<uint16_t> Intern(std::string_view s, size_t limit) {
    if (auto id = Find(s)) return id;
    if (names_.size() >= limit) return std::nullopt;
    auto id = static_cast<uint16_t>(names_.size());
    names_.emplace_back(s);
    ids_.emplace(std::string(s), id);
    return id;
  }
  const std::vector<std::string>& names() const { return names_; }
  size_t Bytes() const {
    size_t n = names_.capacity() * sizeof(std::string) + ids_.bucket_count() * 40;
    for (const auto& s : names_) n += 2 * s.capacity();
    return n;
  }

 private:
  std::vector<std::string> names_;
  boost::unordered_flat_map<std::string, uint16_t, StringHash, std::equal_to<>> ids_;
};

// A set of CI types: `any`, or a bitset over interned CI type ids.
struct TypeSet {
  bool any = true;
  std::vector<uint64_t> bits;
  bool Has(uint16_t t) const {
    return any || (t / 64u < bits.size() && ((bits[t / 64u] >> (t % 64u)) & 1u));
  }
  void Add(uint16_t t) {
    any = false;
    if (bits.size() <= t / 64u) bits.resize(t / 64u + 1, 0);
    bits[t / 64u] |= uint64_t{1} << (t % 64u);
  }
};

struct Rule {
  bool forward = false;
  bool reverse = false;
  bool acyclic = false;
  TypeSet forward_from, reverse_to;
  bool Forward(uint16_t from_type) const { return forward && forward_from.Has(from_type); }
  bool Reverse(uint16_t to_type) const { return reverse && reverse_to.Has(to_type); }
};

// glibc malloc: 8 bytes of header, 16-byte granules, 32 bytes at least.
size_t HeapBlock(size_t bytes) {
  if (bytes == 0) return 0;
  return std::max<size_t>(32, (bytes + 8 + 15) & ~size_t{15});
}

// Removes one entry (peer, rel_out) by swapping in the last; false when absent.
bool EraseOne(std::vector<Adj>& list, uint32_t peer, uint16_t rel_out) {
  for (size_t i = 0; i < list.size(); ++i) {
    if (list[i].peer == peer && list[i].rel_out == rel_out) {
      list[i] = list.back();
      list.pop_back();
      return true;
    }
  }
  return false;
}

bool Contains(const std::vector<Adj>& list, uint32_t peer, uint16_t rel_out) {
  return std::any_of(list.begin(), list.end(),
                     [&](const Adj& a) { return a.peer == peer && a.rel_out == rel_out; });
}

core::Error Exhausted(std::string msg) { return {core::Code::kResourceExhausted, std::move(msg)}; }

HopDirection DirOf(bool stored_along_hop) {
  return stored_along_hop ? HopDirection::kForward : HopDirection::kReverse;
}

}  // namespace

// ---- the graph itself ----------------------------------------------------------------------

struct GraphIndex::Graph {
  Interner ci_types, rel_types;
  std::vector<Rule> rules;  // by relation type id; types without a rule carry no impact
  boost::unordered_flat_map<int64_t, uint32_t> slot_of;
  std::vector<int64_t> ids;  // slot → CI id (0 in a free slot)
  std::vector<NodeMeta> meta;
  std::vector<std::vector<Adj>> adj;
  std::vector<uint32_t> free_slots;
  std::string names;  // every CI name, back to back
  size_t names_garbage = 0;
  size_t edge_count = 0;

  std::optional<uint32_t> SlotOf(int64_t id) const {
    auto it = slot_of.find(id);
    if (it == slot_of.end()) return std::nullopt;
    return it->second;
  }
  std::string_view Name(uint32_t s) const { return {names.data() + meta[s].name_off, meta[s].name_len}; }
  const Rule& RuleOf(uint16_t rel) const {
    static const Rule kNone;
    return rel < rules.size() ? rules[rel] : kNone;
  }

  // A relation-type mask for a filter: empty when every type is followed.
  std::vector<char> Filter(const std::vector<std::string>& types) const {
    if (types.empty()) return {};
    std::vector<char> f(std::max<size_t>(rel_types.names().size(), 1), 0);
    for (const auto& t : types) {
      if (auto id = rel_types.Find(t)) f[*id] = 1;
    }
    return f;
  }

  core::Result<uint32_t> StoreName(std::string_view name) {
    if (names.size() + name.size() > UINT32_MAX) CompactNames();
    if (names.size() + name.size() > UINT32_MAX) return Exhausted("CI names exceed 4 GiB");
    auto off = static_cast<uint32_t>(names.size());
    names.append(name);
    return off;
  }

  void CompactNames() {
    std::string fresh;
    fresh.reserve(names.size() - names_garbage);
    for (uint32_t s = 0; s < meta.size(); ++s) {
      if (meta[s].type == kNoType) continue;
      auto off = static_cast<uint32_t>(fresh.size());
      fresh.append(Name(s));
      meta[s].name_off = off;
    }
    names.swap(fresh);
    names_garbage = 0;
  }

  core::Result<uint32_t> NewSlot() {
    if (!free_slots.empty()) {
      uint32_t s = free_slots.back();
      free_slots.pop_back();
      return s;
    }
    if (ids.size() >= kMaxSlots) return Exhausted("too many CIs for the graph index");
    ids.push_back(0);
    meta.emplace_back();
    adj.emplace_back();
    return static_cast<uint32_t>(ids.size() - 1);
  }

  core::Status Upsert(int64_t id, std::string_view type, std::string_view name) {
    auto t = ci_types.Intern(type, kMaxCiTypes);
    if (!t) return Exhausted("too many CI types for the graph index");
    name = name.substr(0, UINT16_MAX);
    auto it = slot_of.find(id);
    if (it == slot_of.end()) {
      GANTRY_TRY(uint32_t s, NewSlot());
      GANTRY_TRY(uint32_t off, StoreName(name));
      ids[s] = id;
      meta[s] = {off, static_cast<uint16_t>(name.size()), *t};
      slot_of.emplace(id, s);
      return {};
    }
    uint32_t s = it->second;
    if (meta[s].type != *t) {
      meta[s].type = *t;
      for (const Adj& e : adj[s]) {
        for (Adj& back : adj[e.peer]) {
          if (back.peer == s) back.peer_type = *t;
        }
      }
    }
    if (Name(s) != name) {
      names_garbage += meta[s].name_len;
      GANTRY_TRY(uint32_t off, StoreName(name));
      meta[s].name_off = off;
      meta[s].name_len = static_cast<uint16_t>(name.size());
      if (names_garbage > (1u << 20) && names_garbage * 2 > names.size()) CompactNames();
    }
    return {};
  }

  bool Remove(int64_t id) {
    auto it = slot_of.find(id);
    if (it == slot_of.end()) return false;
    uint32_t s = it->second;
    std::vector<Adj> mine;
    mine.swap(adj[s]);
    for (const Adj& e : mine) {
      if (e.peer == s) {  // a self-loop: both of its entries were in `mine`
        if (e.out()) --edge_count;
        continue;
      }
      EraseOne(adj[e.peer], s, static_cast<uint16_t>(e.rel_out ^ 1u));
      --edge_count;
    }
    slot_of.erase(it);
    ids[s] = 0;
    names_garbage += meta[s].name_len;
    meta[s] = {};
    free_slots.push_back(s);
    return true;
  }

  core::Result<uint16_t> RelType(std::string_view type) {
    auto rel = rel_types.Intern(type, kMaxRelationTypes);
    if (!rel) return Exhausted("too many relationship types for the graph index");
    if (rules.size() <= *rel) rules.resize(*rel + 1u);
    return *rel;
  }

  core::Status Link(std::string_view type, int64_t from, int64_t to) {
    auto f = SlotOf(from);
    auto t = SlotOf(to);
    if (!f || !t) {
      return core::NotFound("relationship endpoint " + std::to_string(f ? to : from) +
                            " is not in the graph index");
    }
    GANTRY_TRY(uint16_t rel, RelType(type));
    auto out = static_cast<uint16_t>(rel << 1 | 1);
    bool dup = adj[*f].size() <= adj[*t].size() ? Contains(adj[*f], *t, out)
                                                 : Contains(adj[*t], *f, static_cast<uint16_t>(rel << 1));
    if (dup) return {};
    adj[*f].push_back({*t, out, meta[*t].type});
    adj[*t].push_back({*f, static_cast<uint16_t>(rel << 1), meta[*f].type});
    ++edge_count;
    return {};
  }

  bool Unlink(std::string_view type, int64_t from, int64_t to) {
    auto rel = rel_types.Find(type);
    auto f = SlotOf(from);
    auto t = SlotOf(to);
    if (!rel || !f || !t) return false;
    if (!EraseOne(adj[*f], *t, static_cast<uint16_t>(*rel << 1 | 1))) return false;
    EraseOne(adj[*t], *f, static_cast<uint16_t>(*rel << 1));
    --edge_count;
    return true;
  }

  void Compile(const std::vector<RelationType>& types) {
    for (auto& r : rules) r = Rule{};
    for (const auto& rt : types) {
      auto rel = RelType(rt.name);
      if (!rel) continue;
      Rule r;
      r.forward = rt.impact.forward;
      r.reverse = rt.impact.reverse;
      r.acyclic = rt.acyclic;
      for (const auto& ct : rt.impact.forward_from_types) {
        if (auto id = ci_types.Intern(ct, kMaxCiTypes)) r.forward_from.Add(*id);
      }
      for (const auto& ct : rt.impact.reverse_to_types) {
        if (auto id = ci_types.Intern(ct, kMaxCiTypes)) r.reverse_to.Add(*id);
      }
      rules[*rel] = std::move(r);
    }
  }

  // Bulk loading: CIs arrive in id order, then relationships; adjacency is sized exactly.
  struct RawEdge {
    uint32_t from, to;
    uint16_t rel;
  };

  core::Status ReadFrom(store::Database& db, size_t batch) {
    if (batch == 0) batch = 50'000;
    GANTRY_TRY(auto tx, db.Begin(store::TxMode::kRead));
    if (db.backend() == store::Backend::kPostgres) {
      GANTRY_TRY_STATUS(tx->Exec("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"));
    }
    const auto limit = static_cast<int64_t>(batch);
    int64_t last = 0;
    while (true) {
      GANTRY_TRY(auto rs, tx->Exec("SELECT id, type, name FROM cmdb_cis WHERE id > ? ORDER BY id LIMIT ?",
                                   {last, limit}));
      for (const auto& row : rs.rows) {
        last = row.Int(0);
        GANTRY_TRY_STATUS(Upsert(last, row.Str(1), row.Str(2)));
      }
      if (rs.rows.size() < batch) break;
    }
    std::vector<RawEdge> raw;
    last = 0;
    std::string last_type;
    uint16_t last_rel = 0;
    while (true) {
      GANTRY_TRY(auto rs, tx->Exec(
          "SELECT id, type, from_id, to_id FROM cmdb_relations WHERE id > ? ORDER BY id LIMIT ?",
          {last, limit}));
      for (const auto& row : rs.rows) {
        last = row.Int(0);
        std::string type = row.Str(1);
        if (raw.empty() || type != last_type) {
          GANTRY_TRY(last_rel, RelType(type));
          last_type = std::move(type);
        }
        auto f = SlotOf(row.Int(2));
        auto t = SlotOf(row.Int(3));
        if (f && t) raw.push_back({*f, *t, last_rel});
      }
      if (rs.rows.size() < batch) break;
    }
    GANTRY_TRY_STATUS(tx->Commit());
    std::vector<uint32_t> degree(ids.size(), 0);
    for (const auto& e : raw) {
      ++degree[e.from];
      ++degree[e.to];
    }
    for (size_t s = 0; s < ids.size(); ++s) adj[s].reserve(degree[s]);
    for (const auto& e : raw) {
      adj[e.from].push_back({e.to, static_cast<uint16_t>(e.rel << 1 | 1), meta[e.to].type});
      adj[e.to].push_back({e.from, static_cast<uint16_t>(e.rel << 1), meta[e.from].type});
    }
    edge_count = raw.size();
    return {};
  }

  size_t MemoryBytes() const {
    size_t n = sizeof(Graph);
    n += HeapBlock(ids.capacity() * sizeof(int64_t));
    n += HeapBlock(meta.capacity() * sizeof(NodeMeta));
    n += HeapBlock(adj.capacity() * sizeof(std::vector<Adj>));
    for (const auto& list : adj) n += HeapBlock(list.capacity() * sizeof(Adj));
    n += HeapBlock(free_slots.capacity() * sizeof(uint32_t));
    n += names.capacity() > 15 ? HeapBlock(names.capacity() + 1) : 0;
    // boost::unordered_flat_map: one array of (groups*15 - 1) slots and groups+1 16-byte
    // metadata words, in one allocation.
    if (size_t cap = slot_of.bucket_count(); cap > 0) {
      size_t groups = (cap + 1) / 15;
      n += HeapBlock(sizeof(std::pair<const int64_t, uint32_t>) * cap + 16 * (groups + 1));
    }
    n += ci_types.Bytes() + rel_types.Bytes();
    for (const auto& r : rules) n += sizeof(Rule) + 8 * (r.forward_from.bits.size() + r.reverse_to.bits.size());
    return n;
  }
};

// ---- per-query scratch ---------------------------------------------------------------------

// Visit marks: one uint32 per slot; a slot is marked when it holds the current epoch, so a new
// query clears nothing.
struct VisitMarks {
  std::vector<uint32_t> stamp;
  uint32_t epoch = 0;
  void Begin(size_t slots) {
    if (stamp.size() < slots) stamp.resize(slots, 0);
    if (++epoch == 0) {
      std::fill(stamp.begin(), stamp.end(), 0);
      epoch = 1;
    }
  }
  bool Seen(uint32_t s) const { return stamp[s] == epoch; }
  void Mark(uint32_t s) { stamp[s] = epoch; }
};

class GraphIndex::ScratchPool {
 public:
  static constexpr size_t kMaxIdle = 4;

  // A VisitMarks ready for `slots` slots, given back to the pool when the lease ends.
  class Lease {
   public:
    Lease(ScratchPool& pool, std::unique_ptr<VisitMarks> marks) : pool_(pool), marks_(std::move(marks)) {}
    ~Lease() { pool_.Give(std::move(marks_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    VisitMarks* operator->() { return marks_.get(); }

   private:
    ScratchPool& pool_;
    std::unique_ptr<VisitMarks> marks_;
  };

  Lease Take(size_t slots) {
    std::unique_ptr<VisitMarks> m;
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        m = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!m) m = std::make_unique<VisitMarks>();
    m->Begin(slots);
    return Lease(*this, std::move(m));
  }

  size_t Bytes() const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& m : idle_) n += HeapBlock(m->stamp.capacity() * sizeof(uint32_t));
    return n;
  }

 private:
  void Give(std::unique_ptr<VisitMarks> m) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(m));
  }

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<VisitMarks>> idle_;
};

// ---- mutations -----------------------------------------------------------------------------

struct GraphIndex::PendingOp {
  enum class Kind : uint8_t { kUpsert, kRemoveNode, kAddEdge, kRemoveEdge };
  Kind kind = Kind::kUpsert;
  int64_t a = 0, b = 0;
  std::string type, name;
};

GraphIndex::GraphIndex(std::vector<RelationType> relation_types)
    : graph_(std::make_unique<Graph>()),
      relation_types_(std::move(relation_types)),
      scratch_(std::make_unique<ScratchPool>()) {
  graph_->Compile(relation_types_);
}

GraphIndex::~GraphIndex() = default;

void GraphIndex::SetRelationTypes(std::vector<RelationType> relation_types) {
  std::unique_lock lock(mu_);
  relation_types_ = std::move(relation_types);
  graph_->Compile(relation_types_);
}

void GraphIndex::Record(PendingOp op) {
  if (loading_) pending_.push_back(std::move(op));
}

core::Status GraphIndex::UpsertNode(int64_t id, std::string_view type, std::string_view name) {
  std::unique_lock lock(mu_);
  GANTRY_TRY_STATUS(graph_->Upsert(id, type, name));
  Record({PendingOp::Kind::kUpsert, id, 0, std::string(type), std::string(name)});
  return {};
}

bool GraphIndex::RemoveNode(int64_t id) {
  std::unique_lock lock(mu_);
  Record({PendingOp::Kind::kRemoveNode, id, 0, {}, {}});
  return graph_->Remove(id);
}

core::Status GraphIndex::AddEdge(std::string_view type, int64_t from, int64_t to) {
  std::unique_lock lock(mu_);
  // Recorded even when it fails here: the endpoint may be in the index being loaded.
  Record({PendingOp::Kind::kAddEdge, from, to, std::string(type), {}});
  return graph_->Link(type, from, to);
}

bool GraphIndex::RemoveEdge(std::string_view type, int64_t from, int64_t to) {
  std::unique_lock lock(mu_);
  Record({PendingOp::Kind::kRemoveEdge, from, to, std::string(type), {}});
  return graph_->Unlink(type, from, to);
}

core::Status GraphIndex::Load(store::Database& db, const LoadOptions& options) {
  std::lock_guard load_lock(load_mu_);
  {
    std::unique_lock lock(mu_);
    loading_ = true;
    pending_.clear();
  }
  auto fresh = std::make_unique<Graph>();
  auto st = fresh->ReadFrom(db, options.batch_size);
  std::unique_lock lock(mu_);
  loading_ = false;
  if (st) {
    for (const auto& op : pending_) {
      switch (op.kind) {
        case PendingOp::Kind::kUpsert: (void)fresh->Upsert(op.a, op.type, op.name); break;
        case PendingOp::Kind::kRemoveNode: fresh->Remove(op.a); break;
        case PendingOp::Kind::kAddEdge: (void)fresh->Link(op.type, op.a, op.b); break;
        case PendingOp::Kind::kRemoveEdge: fresh->Unlink(op.type, op.a, op.b); break;
      }
    }
    fresh->Compile(relation_types_);
    graph_.swap(fresh);
  }
  pending_.clear();
  pending_.shrink_to_fit();
  lock.unlock();
  fresh.reset();  // the old graph (or the failed new one), freed outside the lock
  return st;
}

// ---- queries -------------------------------------------------------------------------------

namespace {

// Calls fn(peer, relation, hop direction) for every impact step out of slot `u`: downstream
// (u fails → peer affected) or, when `upstream`, backwards (peer fails → u affected). fn returns
// false to stop; returns false when stopped.
template <class Graph, class Fn>
bool ForEachImpactStep(const Graph& g, uint32_t u, bool upstream, const std::vector<char>& filter, Fn&& fn) {
  const uint16_t own_type = g.meta[u].type;
  for (const Adj& e : g.adj[u]) {
    const uint16_t rel = e.rel();
    if (!filter.empty() && !filter[rel]) continue;
    const Rule& rule = g.RuleOf(rel);
    bool step;
    HopDirection dir;
    if (!upstream) {  // u is `from` (out) or `to` of the stored relationship
      step = e.out() ? rule.Forward(own_type) : rule.Reverse(own_type);
      dir = DirOf(e.out());
    } else {
      step = e.out() ? rule.Reverse(e.peer_type) : rule.Forward(e.peer_type);
      dir = DirOf(!e.out());
    }
    if (step && !fn(e.peer, rel, dir)) return false;
  }
  return true;
}

}  // namespace

std::vector<Hop> TraversalResult::PathTo(size_t pos) const {
  std::vector<Hop> hops;
  if (pos >= nodes.size()) return hops;
  for (uint32_t p = static_cast<uint32_t>(pos); p != kFromStart; p = nodes[p].parent) {
    const ReachedCi& n = nodes[p];
    int64_t parent_id = n.parent == kFromStart ? start : nodes[n.parent].id;
    if (upstream) {
      hops.push_back({n.id, parent_id, relation_types[n.relation], n.direction});
    } else {
      hops.push_back({parent_id, n.id, relation_types[n.relation], n.direction});
    }
  }
  if (!upstream) std::reverse(hops.begin(), hops.end());
  return hops;
}

std::optional<size_t> TraversalResult::Find(int64_t id) const {
  for (size_t i = 0; i < nodes.size(); ++i) {
    if (nodes[i].id == id) return i;
  }
  return std::nullopt;
}

TraversalResult GraphIndex::ImpactOf(int64_t ci, const TraversalOptions& options) const {
  return Traverse(ci, options, false);
}

TraversalResult GraphIndex::UpstreamOf(int64_t ci, const TraversalOptions& options) const {
  return Traverse(ci, options, true);
}

TraversalResult GraphIndex::Traverse(int64_t start, const TraversalOptions& options, bool upstream) const {
  std::shared_lock lock(mu_);
  const Graph& g = *graph_;
  TraversalResult r;
  r.start = start;
  r.upstream = upstream;
  r.ci_types = g.ci_types.names();
  r.relation_types = g.rel_types.names();
  auto s = g.SlotOf(start);
  if (!s) return r;
  r.found = true;
  const auto filter = g.Filter(options.relation_types);
  auto marks = scratch_->Take(g.ids.size());
  marks->Mark(*s);
  std::vector<uint32_t> slots;  // slot of nodes[i]
  auto expand = [&](uint32_t u, uint32_t parent, uint32_t depth) {
    return ForEachImpactStep(g, u, upstream, filter, [&](uint32_t v, uint16_t rel, HopDirection dir) {
      if (marks->Seen(v)) return true;
      if (r.nodes.size() >= options.max_results) {
        r.truncated = true;
        return false;
      }
      marks->Mark(v);
      r.nodes.push_back({g.ids[v], parent, depth + 1, g.meta[v].type, rel, dir});
      slots.push_back(v);
      return true;
    });
  };
  const auto max_depth = static_cast<uint32_t>(std::max(options.max_depth, 0));
  if (!expand(*s, kFromStart, 0)) return r;
  for (size_t p = 0; p < r.nodes.size(); ++p) {
    const uint32_t depth = r.nodes[p].depth;
    if (max_depth > 0 && depth >= max_depth) break;  // breadth-first: depths never decrease
    if (!expand(slots[p], static_cast<uint32_t>(p), depth)) break;
  }
  return r;
}

Subgraph GraphIndex::Neighbourhood(int64_t ci, const NeighbourhoodOptions& options) const {
  std::shared_lock lock(mu_);
  const Graph& g = *graph_;
  Subgraph r;
  r.start = ci;
  r.ci_types = g.ci_types.names();
  r.relation_types = g.rel_types.names();
  auto s = g.SlotOf(ci);
  if (!s) return r;
  r.found = true;
  const auto filter = g.Filter(options.relation_types);
  auto marks = scratch_->Take(g.ids.size());
  marks->Mark(*s);
  std::vector<uint32_t> slots;
  auto expand = [&](uint32_t u, uint32_t parent, uint32_t depth) {
    for (const Adj& e : g.adj[u]) {
      if (!filter.empty() && !filter[e.rel()]) continue;
      if (marks->Seen(e.peer)) continue;
      if (r.nodes.size() >= options.max_results) {
        r.truncated = true;
        return false;
      }
      marks->Mark(e.peer);
      r.nodes.push_back({g.ids[e.peer], parent, depth + 1, e.peer_type, e.rel(), DirOf(e.out())});
      slots.push_back(e.peer);
    }
    return true;
  };
  const auto max_depth = static_cast<uint32_t>(std::max(options.depth, 0));
  if (max_depth > 0 && expand(*s, kFromStart, 0)) {
    for (size_t p = 0; p < r.nodes.size() && r.nodes[p].depth < max_depth; ++p) {
      if (!expand(slots[p], static_cast<uint32_t>(p), r.nodes[p].depth)) break;
    }
  }
  if (!options.include_edges) return r;
  auto collect = [&](uint32_t u) {
    for (const Adj& e : g.adj[u]) {
      if (!e.out() || !marks->Seen(e.peer) || (!filter.empty() && !filter[e.rel()])) continue;
      if (r.edges.size() >= options.max_edges) {
        r.edges_truncated = true;
        return false;
      }
      r.edges.push_back({g.ids[u], g.ids[e.peer], e.rel()});
    }
    return true;
  };
  if (collect(*s)) {
    for (uint32_t u : slots) {
      if (!collect(u)) break;
    }
  }
  return r;
}

PathResult GraphIndex::ShortestPath(int64_t a, int64_t b, const PathOptions& options) const {
  std::shared_lock lock(mu_);
  const Graph& g = *graph_;
  PathResult r;
  auto sa = g.SlotOf(a);
  auto sb = g.SlotOf(b);
  if (!sa || !sb) return r;
  if (*sa == *sb) {
    r.found = true;
    return r;
  }
  const auto filter = g.Filter(options.relation_types);
  struct Step {
    uint32_t prev;     // the neighbour one hop nearer this side's root (itself for the root)
    uint16_t rel_out;  // the entry in prev's adjacency that led here
    uint16_t depth;
  };
  boost::unordered_flat_map<uint32_t, Step> seen[2];
  std::vector<uint32_t> frontier[2] = {{*sa}, {*sb}};
  seen[0].emplace(*sa, Step{*sa, 0, 0});
  seen[1].emplace(*sb, Step{*sb, 0, 0});
  uint32_t depth[2] = {0, 0};
  std::optional<uint32_t> meet;
  uint32_t best = UINT32_MAX;
  while (!meet && !frontier[0].empty() && !frontier[1].empty()) {
    if (options.max_depth > 0 && depth[0] + depth[1] + 1 > static_cast<uint32_t>(options.max_depth)) break;
    if (depth[0] + depth[1] + 1 >= UINT16_MAX) break;
    const int side = frontier[0].size() <= frontier[1].size() ? 0 : 1;
    auto& mine = seen[side];
    const auto& other = seen[1 - side];
    std::vector<uint32_t> next;
    for (uint32_t u : frontier[side]) {
      for (const Adj& e : g.adj[u]) {
        if (!filter.empty() && !filter[e.rel()]) continue;
        if (mine.contains(e.peer)) continue;
        if (seen[0].size() + seen[1].size() >= options.max_visited) {
          r.truncated = true;
          return r;
        }
        mine.emplace(e.peer, Step{u, e.rel_out, static_cast<uint16_t>(depth[side] + 1)});
        next.push_back(e.peer);
        if (auto it = other.find(e.peer); it != other.end()) {
          uint32_t len = depth[side] + 1 + it->second.depth;
          if (len < best) {
            best = len;
            meet = e.peer;
          }
        }
      }
    }
    ++depth[side];
    frontier[side].swap(next);
  }
  if (!meet) return r;
  r.found = true;
  const auto& rel_names = g.rel_types.names();
  // a → … → meet, walking side 0 back from the meeting CI.
  for (uint32_t v = *meet; v != *sa;) {
    const Step& st = seen[0].at(v);
    const bool out = st.rel_out & 1u;
    r.hops.push_back({g.ids[st.prev], g.ids[v], rel_names[st.rel_out >> 1], DirOf(out)});
    v = st.prev;
  }
  std::reverse(r.hops.begin(), r.hops.end());
  // meet → … → b, walking side 1 toward its root.
  for (uint32_t v = *meet; v != *sb;) {
    const Step& st = seen[1].at(v);
    const bool out = st.rel_out & 1u;  // stored as prev → v when out
    r.hops.push_back({g.ids[v], g.ids[st.prev], rel_names[st.rel_out >> 1], DirOf(!out)});
    v = st.prev;
  }
  return r;
}

std::optional<std::vector<Hop>> GraphIndex::FindCycle(std::string_view type, int64_t from, int64_t to) const {
  std::shared_lock lock(mu_);
  const Graph& g = *graph_;
  auto rel = g.rel_types.Find(type);
  if (!rel || !g.RuleOf(*rel).acyclic) return std::nullopt;
  auto sf = g.SlotOf(from);
  auto st = g.SlotOf(to);
  if (!sf || !st) return std::nullopt;
  if (*sf == *st) return std::vector<Hop>{};
  boost::unordered_flat_map<uint32_t, Adj> parent;  // slot → (prev slot, relation) that reached it
  std::vector<uint32_t> queue = {*st};
  parent.emplace(*st, Adj{*st, 0, 0});
  for (size_t q = 0; q < queue.size(); ++q) {
    const uint32_t u = queue[q];
    for (const Adj& e : g.adj[u]) {
      if (!e.out() || !g.RuleOf(e.rel()).acyclic || parent.contains(e.peer)) continue;
      parent.emplace(e.peer, Adj{u, e.rel_out, 0});
      if (e.peer == *sf) {
        std::vector<Hop> hops;
        for (uint32_t v = *sf; v != *st;) {
          const Adj& p = parent.at(v);
          hops.push_back({g.ids[p.peer], g.ids[v], g.rel_types.names()[p.rel()], HopDirection::kForward});
          v = p.peer;
        }
        std::reverse(hops.begin(), hops.end());
        return hops;
      }
      queue.push_back(e.peer);
    }
  }
  return std::nullopt;
}

core::Result<CommonUpstreamResult> GraphIndex::CommonUpstream(std::span<const int64_t> cis,
                                                              const TraversalOptions& options) const {
  if (cis.empty()) return core::InvalidArgument("name at least one CI");
  std::shared_lock lock(mu_);
  const Graph& g = *graph_;
  CommonUpstreamResult res;
  std::vector<uint32_t> alerts;
  std::vector<int64_t> alert_ids;
  for (int64_t id : cis) {
    if (std::find(alert_ids.begin(), alert_ids.end(), id) != alert_ids.end() ||
        std::find(res.unknown.begin(), res.unknown.end(), id) != res.unknown.end()) {
      continue;
    }
    if (auto s = g.SlotOf(id)) {
      alerts.push_back(*s);
      alert_ids.push_back(id);
    } else {
      res.unknown.push_back(id);
    }
  }
  if (alerts.size() > kMaxAlerts) return core::InvalidArgument("at most 64 CIs at a time");
  if (alerts.empty()) return core::NotFound("none of the given CIs exists");
  const size_t k = alerts.size();
  const auto filter = g.Filter(options.relation_types);
  const auto max_depth = static_cast<uint32_t>(std::max(options.max_depth, 0));

  // 1. Each alerting CI's upstream set, with a step toward the alerting CI per member.
  struct UpStep {
    uint32_t next;  // the CI one hop nearer the alerting CI (itself for the alerting CI)
    uint16_t rel;
    HopDirection dir;
  };
  std::vector<boost::unordered_flat_map<uint32_t, UpStep>> up(k);
  boost::unordered_flat_map<uint32_t, uint64_t> mask;  // CI → alerting CIs it is upstream of
  for (size_t i = 0; i < k; ++i) {
    const uint64_t bit = uint64_t{1} << i;
    auto& m = up[i];
    m.emplace(alerts[i], UpStep{alerts[i], 0, HopDirection::kForward});
    mask[alerts[i]] |= bit;
    std::vector<std::pair<uint32_t, uint32_t>> queue = {{alerts[i], 0}};  // (slot, depth)
    for (size_t q = 0; q < queue.size(); ++q) {
      const auto [v, d] = queue[q];
      if (max_depth > 0 && d >= max_depth) continue;
      bool more = ForEachImpactStep(g, v, true, filter, [&](uint32_t u, uint16_t rel, HopDirection dir) {
        if (m.contains(u)) return true;
        if (m.size() > options.max_results) return false;
        m.emplace(u, UpStep{v, rel, dir});
        mask[u] |= bit;
        queue.emplace_back(u, d + 1);
        return true;
      });
      if (!more) {
        res.truncated = true;
        break;
      }
    }
  }

  // 2. Candidates: upstream of every alerting CI, or of the largest coverable subset.
  const uint64_t all = k == 64 ? ~uint64_t{0} : (uint64_t{1} << k) - 1;
  uint64_t target = 0;
  for (const auto& [slot, m] : mask) {
    const int c = std::popcount(m), best = std::popcount(target);
    // Same size: the subset first in input order has the lowest differing alert.
    if (c > best || (c == best && (m & (m ^ target) & (~(m ^ target) + 1)) != 0)) target = m;
  }
  res.common = target == all;
  for (size_t i = 0; i < k; ++i) {
    ((target >> i) & 1u ? res.covered : res.uncovered).push_back(alert_ids[i]);
  }
  std::vector<uint32_t> cand;
  for (const auto& [slot, m] : mask) {
    if (m == target) cand.push_back(slot);
  }
  std::sort(cand.begin(), cand.end(), [&](uint32_t x, uint32_t y) { return g.ids[x] < g.ids[y]; });
  boost::unordered_flat_map<uint32_t, uint32_t> cand_pos;
  for (uint32_t i = 0; i < cand.size(); ++i) cand_pos.emplace(cand[i], i);

  // 3. Groups of candidates that fail together: strongly connected components of the impact
  // steps among candidates (Tarjan's algorithm, iterative).
  std::vector<std::vector<uint32_t>> down(cand.size());
  for (uint32_t i = 0; i < cand.size(); ++i) {
    ForEachImpactStep(g, cand[i], false, filter, [&](uint32_t u, uint16_t, HopDirection) {
      if (auto it = cand_pos.find(u); it != cand_pos.end() && it->second != i) down[i].push_back(it->second);
      return true;
    });
  }
  constexpr uint32_t kUnset = UINT32_MAX;
  std::vector<uint32_t> order(cand.size(), kUnset), low(cand.size(), 0), group(cand.size(), kUnset);
  std::vector<uint32_t> stack;
  std::vector<std::pair<uint32_t, size_t>> calls;  // (candidate, next edge)
  uint32_t counter = 0, groups = 0;
  for (uint32_t root = 0; root < cand.size(); ++root) {
    if (order[root] != kUnset) continue;
    calls.push_back({root, 0});
    order[root] = low[root] = counter++;
    stack.push_back(root);
    while (!calls.empty()) {
      auto& [v, next] = calls.back();
      if (next < down[v].size()) {
        uint32_t w = down[v][next++];
        if (order[w] == kUnset) {
          order[w] = low[w] = counter++;
          stack.push_back(w);
          calls.push_back({w, 0});
        } else if (group[w] == kUnset) {
          low[v] = std::min(low[v], order[w]);
        }
        continue;
      }
      const uint32_t done = v;
      calls.pop_back();
      if (!calls.empty()) low[calls.back().first] = std::min(low[calls.back().first], low[done]);
      if (low[done] == order[done]) {
        uint32_t w;
        do {
          w = stack.back();
          stack.pop_back();
          group[w] = groups;
        } while (w != done);
        ++groups;
      }
    }
  }

  // 4. Which groups reach each covered CI by a path free of other candidates.
  std::vector<uint64_t> reaches(groups, 0);
  for (size_t i = 0; i < k; ++i) {
    const uint64_t bit = uint64_t{1} << i;
    if (!(target & bit)) continue;
    boost::unordered_flat_set<uint32_t> seen;
    std::vector<uint32_t> queue;
    auto visit = [&](uint32_t n) {
      if (auto it = cand_pos.find(n); it != cand_pos.end()) {
        reaches[group[it->second]] |= bit;
      } else if (seen.insert(n).second) {
        queue.push_back(n);
      }
      return true;
    };
    visit(alerts[i]);
    for (size_t q = 0; q < queue.size(); ++q) {
      ForEachImpactStep(g, queue[q], true, filter, [&](uint32_t u, uint16_t, HopDirection) {
        auto it = mask.find(u);
        return it == mask.end() || !(it->second & bit) ? true : visit(u);
      });
    }
  }

  // 5. One cause per kept group, represented by its most connected member.
  std::vector<std::vector<uint32_t>> members(groups);
  for (uint32_t i = 0; i < cand.size(); ++i) {
    if (reaches[group[i]] == target) members[group[i]].push_back(i);  // in id order
  }
  const auto& rel_names = g.rel_types.names();
  std::vector<std::pair<size_t, CommonCause>> causes;
  for (const auto& mem : members) {
    if (mem.empty()) continue;
    uint32_t rep = mem.front();
    size_t rep_steps = 0;
    if (mem.size() > 1) {
      for (uint32_t c : mem) {
        size_t steps = 0;
        for (uint32_t w : down[c]) steps += group[w] == group[c];
        if (steps > rep_steps) {
          rep = c;
          rep_steps = steps;
        }
      }
    }
    CommonCause cause;
    cause.ci = g.ids[cand[rep]];
    cause.group_size = mem.size();
    for (uint32_t c : mem) {
      if (c != rep && cause.fail_together.size() < kMaxFailTogetherListed) cause.fail_together.push_back(g.ids[cand[c]]);
    }
    size_t total = 0;
    for (size_t i = 0; i < k; ++i) {
      if (!((target >> i) & 1u)) continue;
      std::vector<Hop> path;
      for (uint32_t v = cand[rep]; v != alerts[i];) {
        const UpStep& st = up[i].at(v);
        path.push_back({g.ids[v], g.ids[st.next], rel_names[st.rel], st.dir});
        v = st.next;
      }
      total += path.size();
      cause.paths.push_back(std::move(path));
    }
    causes.emplace_back(total, std::move(cause));
  }
  std::sort(causes.begin(), causes.end(), [](const auto& x, const auto& y) {
    return x.first != y.first ? x.first < y.first : x.second.ci < y.second.ci;
  });
  for (auto& c : causes) res.causes.push_back(std::move(c.second));
  return res;
}

// ---- counts and lookups --------------------------------------------------------------------

size_t GraphIndex::CountOut(int64_t ci, std::string_view type) const {
  std::shared_lock lock(mu_);
  const Graph& g = *graph_;
  auto s = g.SlotOf(ci);
  auto rel = g.rel_types.Find(type);
  if (!s || !rel) return 0;
  const auto want = static_cast<uint16_t>(*rel << 1 | 1);
  return std::count_if(g.adj[*s].begin(), g.adj[*s].end(), [&](const Adj& e) { return e.rel_out == want; });
}

size_t GraphIndex::CountIn(int64_t ci, std::string_view type) const {
  std::shared_lock lock(mu_);
  const Graph& g = *graph_;
  auto s = g.SlotOf(ci);
  auto rel = g.rel_types.Find(type);
  if (!s || !rel) return 0;
  const auto want = static_cast<uint16_t>(*rel << 1);
  return std::count_if(g.adj[*s].begin(), g.adj[*s].end(), [&](const Adj& e) { return e.rel_out == want; });
}

std::optional<CiInfo> GraphIndex::Find(int64_t id) const {
  std::shared_lock lock(mu_);
  const Graph& g = *graph_;
  auto s = g.SlotOf(id);
  if (!s) return std::nullopt;
  return CiInfo{id, g.ci_types.names()[g.meta[*s].type], std::string(g.Name(*s))};
}

std::vector<CiInfo> GraphIndex::Describe(std::span<const int64_t> ids) const {
  std::shared_lock lock(mu_);
  const Graph& g = *graph_;
  std::vector<CiInfo> out;
  out.reserve(ids.size());
  for (int64_t id : ids) {
    if (auto s = g.SlotOf(id)) out.push_back({id, g.ci_types.names()[g.meta[*s].type], std::string(g.Name(*s))});
  }
  return out;
}

GraphStats GraphIndex::Stats() const {
  std::shared_lock lock(mu_);
  const Graph& g = *graph_;
  return {g.slot_of.size(), g.edge_count, g.ci_types.names().size(), g.rel_types.names().size(),
          g.MemoryBytes(), scratch_->Bytes()};
}

size_t GraphIndex::MemoryBytes() const {
  std::shared_lock lock(mu_);
  return graph_->MemoryBytes();
}

}  // namespace gantry::cmdb
