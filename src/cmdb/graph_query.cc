// GraphIndex's questions: traversals, common upstream, neighbourhoods, paths and cycles.
#include "cmdb/graph.h"

#include <boost/unordered/unordered_flat_map.hpp>
#include <boost/unordered/unordered_flat_set.hpp>

#include <algorithm>
#include <bit>

#include "cmdb/graph_internal.h"

namespace gantry::cmdb {

using graph_internal::Adj;
using graph_internal::DirOf;
using graph_internal::ForEachImpactStep;
using graph_internal::ForEachRun;
using graph_internal::Rule;
using graph_internal::TypeSet;
using graph_internal::VisitMarks;

namespace {

constexpr size_t kMaxAlerts = 64;  // one bit each in a uint64_t
constexpr size_t kMaxFailTogetherListed = 64;
constexpr uint16_t kFree = 0xFFFF;  // WalkEntry::forbid: every step may be taken

// Whether slot `s` is an uplink for relationship type `rel`: it has an upstream of its own over
// another type (an outgoing relationship whose rule lets the other end's failure reach it), as a
// NIC cabled to a switch or a leaf port cabled to a spine has.
template <class Graph>
bool IsUplink(const Graph& g, uint32_t s, uint16_t rel) {
  return !ForEachRun(g.adj[s], {}, [&](const Adj*, const Adj*, uint16_t r, bool out) {
    return !(out && r != rel && g.RuleOf(r).reverse);
  });
}

struct WalkEntry {
  uint32_t slot;
  uint32_t parent;  // position of the CI it was reached from; kFromStart
  uint32_t depth;
  uint16_t type;
  uint16_t rel;
  HopDirection dir;
  uint16_t forbid;  // the adjacency run (rel_out) not to step over from here, or kFree
};

// The impact walk behind ImpactOf, UpstreamOf and CommonUpstream: breadth-first over impact
// steps (upstream: backwards), appending every CI reached to `out` with its parent.
//
// A failure does not bounce back over the relationship type it arrived by — a failing GPU
// degrades its server, not the server's other GPUs; a failing downlink port degrades its switch,
// not the switch's other ports — unless the part it came through is an uplink (IsUplink), whose
// loss cuts the whole container off. Upstream walks apply the rule mirrored: from a container
// reached through one of its parts, only its uplink parts are causes. A CI therefore carries the
// run it must not step back over (`forbid`, the run holding the relationship it arrived by);
// reached again without that restriction, it is upgraded — its entry takes the new parent and it
// is expanded again — so the answer does not depend on the order of the walk. (Reached again with
// a different restriction, or only through itself, the first restriction stays: impossible with
// the built-in types, where only `contains` carries impact both ways.)
//
// `stop(slot)`: record the CI but do not walk on from it. Returns false when max_results stopped
// the walk. Depths are made consistent with the final parents at the end.
template <class Graph, class Stop>
bool ImpactWalk(const Graph& g, uint32_t start, bool upstream, const std::vector<char>& filter, uint32_t max_depth,
                size_t max_results, VisitMarks& marks, std::vector<WalkEntry>& out, Stop&& stop) {
  marks.Mark(start);
  boost::unordered_flat_map<uint32_t, uint32_t> restricted;  // slot → position, while forbid != kFree
  std::vector<uint32_t> queue;                               // positions still to expand
  bool upgraded = false;
  // Whether the CI at `pos` was reached through the one at `ancestor` (an upgrade must not make
  // a CI its own ancestor: its new path would pass through itself).
  auto descends = [&](uint32_t pos, uint32_t ancestor) {
    for (uint32_t p = pos; p != kFromStart; p = out[p].parent) {
      if (p == ancestor) return true;
    }
    return false;
  };
  auto expand = [&](uint32_t pos) {
    const bool at_start = pos == kFromStart;
    const uint32_t u = at_start ? start : out[pos].slot;
    const uint16_t u_type = at_start ? g.meta[start].type : out[pos].type;
    const uint16_t forbid = at_start ? kFree : out[pos].forbid;
    const uint32_t depth = at_start ? 0 : out[pos].depth;
    return ForEachRun(g.adj[u], filter, [&](const Adj* p, const Adj* end, uint16_t rel, bool is_out) {
      const Rule& rule = g.RuleOf(rel);
      const TypeSet* peer_types = nullptr;  // upstream: the rule tests the peer's type
      HopDirection dir;
      if (!upstream) {
        if (!(is_out ? rule.Forward(u_type) : rule.Reverse(u_type))) return true;
        dir = DirOf(is_out);
      } else {
        if (!(is_out ? rule.reverse : rule.forward)) return true;
        peer_types = is_out ? &rule.reverse_to : &rule.forward_from;
        dir = DirOf(!is_out);
      }
      const bool bounce = p->rel_out == forbid;
      if (bounce && !upstream) return true;  // downstream, forbid is set only when u came in through no uplink
      // What the CIs reached here must not step back over: the run pointing back at u.
      uint16_t next_forbid = kFree;
      if (rule.forward && rule.reverse && (upstream || !IsUplink(g, u, rel))) {
        next_forbid = static_cast<uint16_t>(p->rel_out ^ 1u);
      }
      for (; p < end; ++p) {
        if (peer_types && !peer_types->Has(p->peer_type)) continue;
        if (bounce && !IsUplink(g, p->peer, rel)) continue;
        const uint32_t v = p->peer;
        if (marks.Seen(v)) {
          if (next_forbid != kFree) continue;
          auto it = restricted.find(v);
          if (it == restricted.end() || descends(pos, it->second)) continue;
          WalkEntry& e = out[it->second];  // upgrade: reached without the restriction
          e.parent = pos;
          e.depth = depth + 1;
          e.rel = rel;
          e.dir = dir;
          e.forbid = kFree;
          if (!stop(v)) queue.push_back(it->second);
          restricted.erase(it);
          upgraded = true;
          continue;
        }
        if (out.size() >= max_results) return false;
        marks.Mark(v);
        const auto at = static_cast<uint32_t>(out.size());
        out.push_back({v, pos, depth + 1, p->peer_type, rel, dir, next_forbid});
        if (next_forbid != kFree) restricted.emplace(v, at);
        if (!stop(v)) queue.push_back(at);
      }
      return true;
    });
  };
  bool complete = expand(kFromStart);
  for (size_t q = 0; complete && q < queue.size(); ++q) {
    if (max_depth > 0 && out[queue[q]].depth >= max_depth) continue;
    complete = expand(queue[q]);
  }
  if (upgraded) {  // an upgrade moved a CI under another parent: recompute depths from parents
    constexpr uint32_t kUnknown = UINT32_MAX;
    std::vector<uint32_t> depth(out.size(), kUnknown), chain;
    for (uint32_t i = 0; i < out.size(); ++i) {
      for (uint32_t p = i; p != kFromStart && depth[p] == kUnknown; p = out[p].parent) chain.push_back(p);
      for (; !chain.empty(); chain.pop_back()) {
        const uint32_t p = chain.back();
        depth[p] = out[p].parent == kFromStart ? 1 : depth[out[p].parent] + 1;
      }
    }
    for (uint32_t i = 0; i < out.size(); ++i) out[i].depth = depth[i];
  }
  return complete;
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
  auto marks = scratch_->Take(g.ids.size());
  std::vector<WalkEntry> walk;
  r.truncated = !ImpactWalk(g, *s, upstream, g.Filter(options.relation_types),
                            static_cast<uint32_t>(std::max(options.max_depth, 0)), options.max_results, *marks.get(),
                            walk, [](uint32_t) { return false; });
  r.nodes.reserve(walk.size());
  for (const WalkEntry& e : walk) r.nodes.push_back({g.ids[e.slot], e.parent, e.depth, e.type, e.rel, e.dir});
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
    return ForEachRun(g.adj[u], filter, [&](const Adj* p, const Adj* end, uint16_t rel, bool out) {
      for (; p < end; ++p) {
        if (marks->Seen(p->peer)) continue;
        if (r.nodes.size() >= options.max_results) {
          r.truncated = true;
          return false;
        }
        marks->Mark(p->peer);
        r.nodes.push_back({0, parent, depth + 1, p->peer_type, rel, DirOf(out)});
        slots.push_back(p->peer);
      }
      return true;
    });
  };
  const auto max_depth = static_cast<uint32_t>(std::max(options.depth, 0));
  if (max_depth > 0 && expand(*s, kFromStart, 0)) {
    for (size_t p = 0; p < r.nodes.size() && r.nodes[p].depth < max_depth; ++p) {
      if (!expand(slots[p], static_cast<uint32_t>(p), r.nodes[p].depth)) break;
    }
  }
  for (size_t p = 0; p < r.nodes.size(); ++p) r.nodes[p].id = g.ids[slots[p]];
  if (!options.include_edges) return r;
  auto collect = [&](uint32_t u) {
    return ForEachRun(g.adj[u], filter, [&](const Adj* p, const Adj* end, uint16_t rel, bool out) {
      for (; out && p < end; ++p) {
        if (!marks->Seen(p->peer)) continue;
        if (r.edges.size() >= options.max_edges) {
          r.edges_truncated = true;
          return false;
        }
        r.edges.push_back({g.ids[u], g.ids[p->peer], rel});
      }
      return true;
    });
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
      const bool more = ForEachRun(g.adj[u], filter, [&](const Adj* p, const Adj* end, uint16_t, bool) {
        for (; p < end; ++p) {
          if (mine.contains(p->peer)) continue;
          if (seen[0].size() + seen[1].size() >= options.max_visited) return false;
          mine.emplace(p->peer, Step{u, p->rel_out, static_cast<uint16_t>(depth[side] + 1)});
          next.push_back(p->peer);
          if (auto it = other.find(p->peer); it != other.end()) {
            uint32_t len = depth[side] + 1 + it->second.depth;
            if (len < best) {
              best = len;
              meet = p->peer;
            }
          }
        }
        return true;
      });
      if (!more) {
        r.truncated = true;
        return r;
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
    const bool open = ForEachRun(g.adj[u], {}, [&](const Adj* p, const Adj* end, uint16_t rel, bool out) {
      if (!out || !g.RuleOf(rel).acyclic) return true;
      for (; p < end; ++p) {
        if (parent.contains(p->peer)) continue;
        parent.emplace(p->peer, Adj{u, p->rel_out, 0});
        if (p->peer == *sf) return false;
        queue.push_back(p->peer);
      }
      return true;
    });
    if (!open) {  // reached `from`
      std::vector<Hop> hops;
      for (uint32_t v = *sf; v != *st;) {
        const Adj& p = parent.at(v);
        hops.push_back({g.ids[p.peer], g.ids[v], g.rel_types.names()[p.rel()], HopDirection::kForward});
        v = p.peer;
      }
      std::reverse(hops.begin(), hops.end());
      return hops;
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
  auto marks = scratch_->Take(g.ids.size());
  auto never = [](uint32_t) { return false; };
  std::vector<boost::unordered_flat_map<uint32_t, UpStep>> up(k);
  boost::unordered_flat_map<uint32_t, uint64_t> mask;  // CI → alerting CIs it is upstream of
  std::vector<WalkEntry> walk;
  for (size_t i = 0; i < k; ++i) {
    const uint64_t bit = uint64_t{1} << i;
    marks->Begin(g.ids.size());
    walk.clear();
    if (!ImpactWalk(g, alerts[i], true, filter, max_depth, options.max_results, *marks.get(), walk, never)) {
      res.truncated = true;
    }
    auto& m = up[i];
    m.reserve(walk.size() + 1);
    m.emplace(alerts[i], UpStep{alerts[i], 0, HopDirection::kForward});
    mask[alerts[i]] |= bit;
    for (const WalkEntry& e : walk) {
      m.emplace(e.slot, UpStep{e.parent == kFromStart ? alerts[i] : walk[e.parent].slot, e.rel, e.dir});
      mask[e.slot] |= bit;
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
    ForEachImpactStep(g, cand[i], false, filter, [&](uint32_t u, uint16_t, uint16_t, HopDirection) {
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

  // 4. Which groups reach each covered CI by a path free of other candidates: walk upstream
  // from it again, stopping at candidates.
  std::vector<uint64_t> reaches(groups, 0);
  auto is_candidate = [&](uint32_t slot) { return cand_pos.contains(slot); };
  for (size_t i = 0; i < k; ++i) {
    const uint64_t bit = uint64_t{1} << i;
    if (!(target & bit)) continue;
    if (is_candidate(alerts[i])) {
      reaches[group[cand_pos.at(alerts[i])]] |= bit;
      continue;
    }
    marks->Begin(g.ids.size());
    walk.clear();
    ImpactWalk(g, alerts[i], true, filter, max_depth, options.max_results, *marks.get(), walk, is_candidate);
    for (const WalkEntry& e : walk) {
      if (auto it = cand_pos.find(e.slot); it != cand_pos.end()) reaches[group[it->second]] |= bit;
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

}  // namespace gantry::cmdb
