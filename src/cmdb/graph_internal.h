// Private to the graph index (graph.cc, graph_query.cc): the representation behind GraphIndex.
// Nothing outside src/cmdb/graph*.cc includes this file.
#pragma once

#include <boost/unordered/unordered_flat_map.hpp>

#include <algorithm>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cmdb/graph.h"

namespace gantry::cmdb {

namespace graph_internal {

constexpr uint16_t kNoType = 0xFFFF;               // a free slot
constexpr size_t kMaxCiTypes = 0xFFFE;             // uint16, kNoType reserved
constexpr size_t kMaxRelationTypes = 0x7FFF;       // 15 bits: the 16th is the direction
constexpr uint32_t kMaxSlots = UINT32_MAX - 1;     // kFromStart is reserved

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
inline size_t HeapBlock(size_t bytes) {
  if (bytes == 0) return 0;
  return std::max<size_t>(32, (bytes + 8 + 15) & ~size_t{15});
}

// kForward when the stored relationship points the way the hop goes.
inline HopDirection DirOf(bool stored_along_hop) {
  return stored_along_hop ? HopDirection::kForward : HopDirection::kReverse;
}

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

// Each adjacency list is sorted by (rel_out, peer): the entries of one relationship type and
// direction form a run, which a traversal skips in O(log n) when no rule follows it (a service
// deployed on 20,000 servers does not cost 20,000 steps to every impact question that reaches it).
inline bool AdjLess(const Adj& a, const Adj& b) {
  return a.rel_out != b.rel_out ? a.rel_out < b.rel_out : a.peer < b.peer;
}

// The end of the run that starts at `first`.
inline const Adj* RunEnd(const Adj* first, const Adj* last) {
  const uint16_t rel_out = first->rel_out;
  const Adj* p = first + 1;
  for (int i = 0; i < 8 && p < last; ++i, ++p) {
    if (p->rel_out != rel_out) return p;
  }
  return std::upper_bound(p, last, rel_out, [](uint16_t v, const Adj& a) { return v < a.rel_out; });
}

// Calls fn(begin, end, relation, out) for each run of `list` whose relation `filter` admits
// (empty: all). fn returns false to stop; returns false when stopped.
template <class Fn>
bool ForEachRun(const std::vector<Adj>& list, const std::vector<char>& filter, Fn&& fn) {
  const Adj* p = list.data();
  const Adj* const end = p + list.size();
  while (p < end) {
    const Adj* run_end = RunEnd(p, end);
    const uint16_t rel = p->rel();
    if ((filter.empty() || filter[rel]) && !fn(p, run_end, rel, p->out())) return false;
    p = run_end;
  }
  return true;
}

// Calls fn(peer, peer's CI type, relation, hop direction) for every impact step out of slot `u`
// (whose CI type is `own_type`): downstream (u fails → peer affected) or, when `upstream`,
// backwards (peer fails → u affected). fn returns false to stop; returns false when stopped.
template <class Graph, class Fn>
bool ForEachImpactStep(const Graph& g, uint32_t u, uint16_t own_type, bool upstream, const std::vector<char>& filter,
                       Fn&& fn) {
  return ForEachRun(g.adj[u], filter, [&](const Adj* p, const Adj* end, uint16_t rel, bool out) {
    const Rule& rule = g.RuleOf(rel);
    if (!upstream) {  // u is the relationship's `from` (out) or its `to`: its own type decides
      if (!(out ? rule.Forward(own_type) : rule.Reverse(own_type))) return true;
      for (; p < end; ++p) {
        if (!fn(p->peer, p->peer_type, rel, DirOf(out))) return false;
      }
      return true;
    }
    if (!(out ? rule.reverse : rule.forward)) return true;  // the peer's type decides
    const TypeSet& types = out ? rule.reverse_to : rule.forward_from;
    for (; p < end; ++p) {
      if (types.Has(p->peer_type) && !fn(p->peer, p->peer_type, rel, DirOf(!out))) return false;
    }
    return true;
  });
}

template <class Graph, class Fn>
bool ForEachImpactStep(const Graph& g, uint32_t u, bool upstream, const std::vector<char>& filter, Fn&& fn) {
  return ForEachImpactStep(g, u, g.meta[u].type, upstream, filter, std::forward<Fn>(fn));
}

}  // namespace graph_internal

// ---- the graph itself ----------------------------------------------------------------------

struct GraphIndex::Graph {
  graph_internal::Interner ci_types, rel_types;
  std::vector<graph_internal::Rule> rules;  // by relation type id; no rule: no impact
  boost::unordered_flat_map<int64_t, uint32_t> slot_of;
  std::vector<int64_t> ids;  // slot → CI id (0 in a free slot)
  std::vector<graph_internal::NodeMeta> meta;
  std::vector<std::vector<graph_internal::Adj>> adj;
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
  const graph_internal::Rule& RuleOf(uint16_t rel) const {
    static const graph_internal::Rule kNone;
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

  // Mutations (graph.cc); each keeps both adjacency entries of a relationship in step.
  core::Status Upsert(int64_t id, std::string_view type, std::string_view name);
  bool Remove(int64_t id);
  core::Status Link(std::string_view type, int64_t from, int64_t to);
  bool Unlink(std::string_view type, int64_t from, int64_t to);
  // Interns a relationship type (with no rule until Compile gives it one).
  core::Result<uint16_t> RelType(std::string_view type);
  // Replaces every rule with those of `types`.
  void Compile(const std::vector<RelationType>& types);
  // Bulk load into an empty graph: CIs in id order, then relationships; adjacency sized exactly.
  core::Status ReadFrom(store::Database& db, size_t batch);
  size_t MemoryBytes() const;

 private:
  struct RawEdge {
    uint32_t from, to;
    uint16_t rel;
  };
  core::Result<uint32_t> StoreName(std::string_view name);
  void CompactNames();
  core::Result<uint32_t> NewSlot();
};

// ---- per-query scratch ---------------------------------------------------------------------

class GraphIndex::ScratchPool {
 public:
  static constexpr size_t kMaxIdle = 4;

  // A VisitMarks ready for `slots` slots, given back to the pool when the lease ends.
  class Lease {
   public:
    Lease(ScratchPool& pool, std::unique_ptr<graph_internal::VisitMarks> marks)
        : pool_(pool), marks_(std::move(marks)) {}
    ~Lease() { pool_.Give(std::move(marks_)); }
    Lease(const Lease&) = delete;
    Lease& operator=(const Lease&) = delete;
    graph_internal::VisitMarks* operator->() { return marks_.get(); }
    graph_internal::VisitMarks* get() { return marks_.get(); }

   private:
    ScratchPool& pool_;
    std::unique_ptr<graph_internal::VisitMarks> marks_;
  };

  Lease Take(size_t slots) {
    std::unique_ptr<graph_internal::VisitMarks> m;
    {
      std::lock_guard lock(mu_);
      if (!idle_.empty()) {
        m = std::move(idle_.back());
        idle_.pop_back();
      }
    }
    if (!m) m = std::make_unique<graph_internal::VisitMarks>();
    m->Begin(slots);
    return Lease(*this, std::move(m));
  }

  size_t Bytes() const {
    std::lock_guard lock(mu_);
    size_t n = 0;
    for (const auto& m : idle_) n += graph_internal::HeapBlock(m->stamp.capacity() * sizeof(uint32_t));
    return n;
  }

 private:
  void Give(std::unique_ptr<graph_internal::VisitMarks> m) {
    std::lock_guard lock(mu_);
    if (idle_.size() < kMaxIdle) idle_.push_back(std::move(m));
  }

  mutable std::mutex mu_;
  std::vector<std::unique_ptr<graph_internal::VisitMarks>> idle_;
};

}  // namespace gantry::cmdb
