#include "cmdb/graph.h"

#include <algorithm>
#include <string>

#include "cmdb/graph_internal.h"

namespace gantry::cmdb {

using graph_internal::Adj;
using graph_internal::AdjLess;
using graph_internal::HeapBlock;
using graph_internal::kMaxCiTypes;
using graph_internal::kMaxRelationTypes;
using graph_internal::kMaxSlots;
using graph_internal::kNoType;
using graph_internal::NodeMeta;
using graph_internal::Rule;

namespace {

// Lists are sorted (see AdjLess): binary search, insert and erase keep them so.
std::vector<Adj>::iterator LowerBound(std::vector<Adj>& list, uint32_t peer, uint16_t rel_out) {
  return std::lower_bound(list.begin(), list.end(), Adj{peer, rel_out, 0}, AdjLess);
}

bool Contains(std::vector<Adj>& list, uint32_t peer, uint16_t rel_out) {
  auto it = LowerBound(list, peer, rel_out);
  return it != list.end() && it->peer == peer && it->rel_out == rel_out;
}

// Removes the entry (peer, rel_out); false when absent.
bool EraseOne(std::vector<Adj>& list, uint32_t peer, uint16_t rel_out) {
  auto it = LowerBound(list, peer, rel_out);
  if (it == list.end() || it->peer != peer || it->rel_out != rel_out) return false;
  list.erase(it);
  return true;
}

size_t RunLength(const std::vector<Adj>& list, uint16_t rel_out) {
  auto [first, last] = std::equal_range(list.begin(), list.end(), Adj{0, rel_out, 0},
                                        [](const Adj& a, const Adj& b) { return a.rel_out < b.rel_out; });
  return static_cast<size_t>(last - first);
}

void InsertSorted(std::vector<Adj>& list, Adj entry) {
  list.insert(LowerBound(list, entry.peer, entry.rel_out), entry);
}

core::Error Exhausted(std::string msg) { return {core::Code::kResourceExhausted, std::move(msg)}; }

}  // namespace

// ---- the graph itself ----------------------------------------------------------------------

core::Result<uint32_t> GraphIndex::Graph::StoreName(std::string_view name) {
  if (names.size() + name.size() > UINT32_MAX) CompactNames();
  if (names.size() + name.size() > UINT32_MAX) return Exhausted("CI names exceed 4 GiB");
  auto off = static_cast<uint32_t>(names.size());
  names.append(name);
  return off;
}

void GraphIndex::Graph::CompactNames() {
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

core::Result<uint32_t> GraphIndex::Graph::NewSlot() {
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

core::Status GraphIndex::Graph::Upsert(int64_t id, std::string_view type, std::string_view name) {
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

bool GraphIndex::Graph::Remove(int64_t id) {
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

core::Result<uint16_t> GraphIndex::Graph::RelType(std::string_view type) {
  auto rel = rel_types.Intern(type, kMaxRelationTypes);
  if (!rel) return Exhausted("too many relationship types for the graph index");
  if (rules.size() <= *rel) rules.resize(*rel + 1u);
  return *rel;
}

core::Status GraphIndex::Graph::Link(std::string_view type, int64_t from, int64_t to) {
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
  InsertSorted(adj[*f], {*t, out, meta[*t].type});
  InsertSorted(adj[*t], {*f, static_cast<uint16_t>(rel << 1), meta[*f].type});
  ++edge_count;
  return {};
}

bool GraphIndex::Graph::Unlink(std::string_view type, int64_t from, int64_t to) {
  auto rel = rel_types.Find(type);
  auto f = SlotOf(from);
  auto t = SlotOf(to);
  if (!rel || !f || !t) return false;
  if (!EraseOne(adj[*f], *t, static_cast<uint16_t>(*rel << 1 | 1))) return false;
  EraseOne(adj[*t], *f, static_cast<uint16_t>(*rel << 1));
  --edge_count;
  return true;
}

void GraphIndex::Graph::Compile(const std::vector<RelationType>& types) {
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

core::Status GraphIndex::Graph::ReadFrom(store::Database& db, size_t batch) {
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
  for (auto& list : adj) std::sort(list.begin(), list.end(), AdjLess);
  edge_count = raw.size();
  // Drop the growth slack of the per-CI arrays (up to half of them after doubling).
  ids.shrink_to_fit();
  meta.shrink_to_fit();
  adj.shrink_to_fit();
  names.shrink_to_fit();
  return {};
}

size_t GraphIndex::Graph::MemoryBytes() const {
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

// ---- counts and lookups --------------------------------------------------------------------

size_t GraphIndex::CountOut(int64_t ci, std::string_view type) const {
  std::shared_lock lock(mu_);
  const Graph& g = *graph_;
  auto s = g.SlotOf(ci);
  auto rel = g.rel_types.Find(type);
  if (!s || !rel) return 0;
  return RunLength(g.adj[*s], static_cast<uint16_t>(*rel << 1 | 1));
}

size_t GraphIndex::CountIn(int64_t ci, std::string_view type) const {
  std::shared_lock lock(mu_);
  const Graph& g = *graph_;
  auto s = g.SlotOf(ci);
  auto rel = g.rel_types.Find(type);
  if (!s || !rel) return 0;
  return RunLength(g.adj[*s], static_cast<uint16_t>(*rel << 1));
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
