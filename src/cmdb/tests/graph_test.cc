// GraphIndex on a small hand-built GPU estate: impact, root cause, common upstream,
// neighbourhoods, shortest paths, cycles, mutations, and loading from both databases.
#include "cmdb/graph.h"

#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <tuple>
#include <utility>

#include "cmdb/builtin.h"
#include "store/migrate.h"
#include "support/test_db.h"

namespace gantry::cmdb {
namespace {

using Names = std::set<std::string>;

// site dc1 / room hall-1 / row row-a / racks A01, A02 (GPU) and N01 (network).
// spine-01 (in N01) has ports sp1, sp2; leaf-01 (A01) and leaf-02 (A02) have four server ports
// each and an uplink (l1up → sp1, l2up → sp2). srv-01/02 sit in A01 with both NICs on leaf-01,
// srv-03/04 in A02 on leaf-02; each server has a BMC, two GPUs and two NICs. pdu-a01 (A01)
// powers srv-01, srv-02 and leaf-01; pdu-a02 (A02) powers srv-03, srv-04 and leaf-02.
// svc-api runs on srv-01 and depends on svc-db (srv-03); svc-web (srv-04) depends on svc-api;
// svc-batch runs on srv-02. inst-1 (srv-01) belongs to acme, inst-2 (srv-03) and svc-web to
// globex. All servers are in slurm partition gpu and run os image ubuntu-22.04.
class Estate {
 public:
  struct Rel {
    std::string type;
    int64_t from, to;
  };

  Estate() {
    Ci("site", "dc1");
    Ci("room", "hall-1");
    Ci("row", "row-a");
    R("located_in", "hall-1", "dc1");
    R("located_in", "row-a", "hall-1");
    for (const char* rack : {"A01", "A02", "N01"}) {
      Ci("rack", rack);
      R("located_in", rack, "row-a");
    }
    Ci("switch", "spine-01");
    R("located_in", "spine-01", "N01");
    for (const char* p : {"sp1", "sp2"}) Part("spine-01", "switch_port", p);
    Ci("slurm_partition", "gpu");
    Ci("os_image", "ubuntu-22.04");
    Ci("tenant", "acme");
    Ci("tenant", "globex");
    for (int l = 1; l <= 2; ++l) {
      const std::string n = std::to_string(l);
      const std::string leaf = "leaf-0" + n, rack = l == 1 ? "A01" : "A02", pdu = "pdu-a0" + n;
      Ci("switch", leaf);
      R("located_in", leaf, rack);
      for (int p = 1; p <= 4; ++p) Part(leaf, "switch_port", "l" + n + "p" + std::to_string(p));
      Part(leaf, "switch_port", "l" + n + "up");
      R("connected_to", "l" + n + "up", "sp" + n);
      Ci("pdu", pdu);
      R("located_in", pdu, rack);
      for (int o = 1; o <= 3; ++o) Part(pdu, "pdu_outlet", pdu + "-o" + std::to_string(o));
      R("powered_by", leaf, pdu + "-o3");
      for (int s = 0; s < 2; ++s) {
        const std::string srv = "srv-0" + std::to_string(2 * (l - 1) + s + 1);
        Ci("server", srv);
        R("located_in", srv, rack);
        Part(srv, "bmc", srv + "-bmc");
        for (int i = 0; i < 2; ++i) {
          Part(srv, "gpu", srv + "-gpu" + std::to_string(i));
          Part(srv, "nic", srv + "-nic" + std::to_string(i));
          R("connected_to", srv + "-nic" + std::to_string(i), "l" + n + "p" + std::to_string(2 * s + i + 1));
        }
        R("powered_by", srv, pdu + "-o" + std::to_string(s + 1));
        R("member_of", srv, "gpu");
        R("runs", srv, "ubuntu-22.04");
      }
    }
    for (auto [svc, srv] : {std::pair{"svc-db", "srv-03"}, {"svc-api", "srv-01"}, {"svc-web", "srv-04"},
                            {"svc-batch", "srv-02"}}) {
      Ci("service", svc);
      R("deployed_on", svc, srv);
    }
    R("depends_on", "svc-api", "svc-db");
    R("depends_on", "svc-web", "svc-api");
    R("owned_by", "svc-web", "globex");
    Ci("instance", "inst-1");
    R("deployed_on", "inst-1", "srv-01");
    R("owned_by", "inst-1", "acme");
    Ci("instance", "inst-2");
    R("deployed_on", "inst-2", "srv-03");
    R("owned_by", "inst-2", "globex");
  }

  int64_t Id(const std::string& name) const { return ids_.at(name); }
  const std::string& NameOf(int64_t id) const { return names_.at(id); }
  const std::vector<std::tuple<int64_t, std::string, std::string>>& cis() const { return cis_; }
  const std::vector<Rel>& rels() const { return rels_; }
  bool HasRel(const std::string& type, int64_t from, int64_t to) const {
    for (const auto& r : rels_) {
      if (r.type == type && r.from == from && r.to == to) return true;
    }
    return false;
  }

  void Fill(GraphIndex& g) const {
    for (const auto& [id, type, name] : cis_) ASSERT_TRUE(g.UpsertNode(id, type, name));
    for (const auto& r : rels_) ASSERT_TRUE(g.AddEdge(r.type, r.from, r.to));
  }

 private:
  void Ci(const std::string& type, const std::string& name) {
    const int64_t id = 100 + static_cast<int64_t>(cis_.size());
    cis_.emplace_back(id, type, name);
    ids_[name] = id;
    names_[id] = name;
  }
  void R(const std::string& type, const std::string& from, const std::string& to) {
    rels_.push_back({type, Id(from), Id(to)});
  }
  void Part(const std::string& container, const std::string& type, const std::string& name) {
    Ci(type, name);
    R("contains", container, name);
  }

  std::vector<std::tuple<int64_t, std::string, std::string>> cis_;
  std::vector<Rel> rels_;
  std::map<std::string, int64_t> ids_;
  std::map<int64_t, std::string> names_;
};

Names ServerParts(const std::string& srv) {
  return {srv, srv + "-bmc", srv + "-gpu0", srv + "-gpu1", srv + "-nic0", srv + "-nic1"};
}

Names Union(std::initializer_list<Names> sets) {
  Names out;
  for (const auto& s : sets) out.insert(s.begin(), s.end());
  return out;
}

class GraphTest : public ::testing::Test {
 protected:
  void SetUp() override { estate_.Fill(graph_); }

  int64_t Id(const std::string& name) const { return estate_.Id(name); }

  Names NamesOf(const TraversalResult& r) const {
    Names out;
    for (const auto& n : r.nodes) out.insert(estate_.NameOf(n.id));
    return out;
  }

  // Every node's path is a chain of stored relationships from the start to it (or, upstream,
  // from it to the start), as long as its depth.
  void ExpectValidPaths(const TraversalResult& r) const {
    for (size_t i = 0; i < r.nodes.size(); ++i) {
      SCOPED_TRACE(estate_.NameOf(r.nodes[i].id));
      auto hops = r.PathTo(i);
      ASSERT_EQ(hops.size(), r.nodes[i].depth);
      ASSERT_FALSE(hops.empty());
      EXPECT_EQ(hops.front().from, r.upstream ? r.nodes[i].id : r.start);
      EXPECT_EQ(hops.back().to, r.upstream ? r.start : r.nodes[i].id);
      ExpectChain(hops);
    }
  }

  void ExpectChain(const std::vector<Hop>& hops) const {
    for (size_t h = 0; h < hops.size(); ++h) {
      if (h > 0) {
        EXPECT_EQ(hops[h - 1].to, hops[h].from);
      }
      const Hop& hop = hops[h];
      const bool stored = hop.direction == HopDirection::kForward
                              ? estate_.HasRel(hop.relation, hop.from, hop.to)
                              : estate_.HasRel(hop.relation, hop.to, hop.from);
      EXPECT_TRUE(stored) << estate_.NameOf(hop.from) << " " << hop.relation << " " << estate_.NameOf(hop.to);
    }
  }

  Names LeafImpact() const {
    return Union({{"l1p1", "l1p2", "l1p3", "l1p4", "l1up"}, ServerParts("srv-01"), ServerParts("srv-02"),
                  {"svc-api", "svc-batch", "svc-web", "inst-1", "acme", "globex", "gpu"}});
  }

  Estate estate_;
  GraphIndex graph_{BuiltinRelationTypes()};
};

TEST_F(GraphTest, StatsCountEverything) {
  auto st = graph_.Stats();
  EXPECT_EQ(st.nodes, estate_.cis().size());
  EXPECT_EQ(st.edges, estate_.rels().size());
  EXPECT_GT(st.memory_bytes, 0u);
  EXPECT_EQ(graph_.Find(Id("leaf-01"))->type, "switch");
  EXPECT_EQ(graph_.Find(Id("leaf-01"))->name, "leaf-01");
  EXPECT_FALSE(graph_.Find(1));
}

TEST_F(GraphTest, ImpactOfLeafIsItsServersAndWhatRunsOnThem) {
  auto r = graph_.ImpactOf(Id("leaf-01"));
  ASSERT_TRUE(r.found);
  EXPECT_FALSE(r.truncated);
  EXPECT_EQ(NamesOf(r), LeafImpact());
  for (const char* spared : {"srv-03", "srv-04", "leaf-02", "spine-01", "sp1", "svc-db", "A01", "pdu-a01"}) {
    EXPECT_FALSE(NamesOf(r).count(spared)) << spared;
  }
  ExpectValidPaths(r);
  // The explanation of srv-01: leaf-01 contains l1p1, srv-01-nic0 is cabled to it, srv-01 contains the NIC.
  auto hops = r.PathTo(*r.Find(Id("srv-01")));
  ASSERT_EQ(hops.size(), 3u);
  EXPECT_EQ(hops[0], (Hop{Id("leaf-01"), Id("l1p1"), "contains", HopDirection::kForward}));
  EXPECT_EQ(hops[1], (Hop{Id("l1p1"), Id("srv-01-nic0"), "connected_to", HopDirection::kReverse}));
  EXPECT_EQ(hops[2], (Hop{Id("srv-01-nic0"), Id("srv-01"), "contains", HopDirection::kReverse}));
  EXPECT_EQ(r.TypeOf(*r.Find(Id("srv-01"))), "server");
}

TEST_F(GraphTest, ImpactOfPduIsItsOutletsAndEverythingTheyFeed) {
  auto r = graph_.ImpactOf(Id("pdu-a01"));
  EXPECT_EQ(NamesOf(r), Union({{"pdu-a01-o1", "pdu-a01-o2", "pdu-a01-o3", "leaf-01"}, LeafImpact()}));
  ExpectValidPaths(r);
}

TEST_F(GraphTest, ImpactOfRackIsWhatStandsInIt) {
  auto r = graph_.ImpactOf(Id("A01"));
  EXPECT_EQ(NamesOf(r), Union({{"pdu-a01", "pdu-a01-o1", "pdu-a01-o2", "pdu-a01-o3", "leaf-01"}, LeafImpact()}));
  EXPECT_EQ(r.nodes[r.Find(Id("srv-01")).value()].depth, 1u);
  ExpectValidPaths(r);
}

TEST_F(GraphTest, ImpactOfSpineReachesEveryServerButNoRackOrPower) {
  auto r = graph_.ImpactOf(Id("spine-01"));
  auto names = NamesOf(r);
  for (const char* hit : {"sp1", "sp2", "l1up", "l2up", "leaf-01", "leaf-02", "srv-01", "srv-02", "srv-03", "srv-04",
                          "svc-db", "svc-api", "svc-web", "svc-batch", "inst-2", "acme", "globex"}) {
    EXPECT_TRUE(names.count(hit)) << hit;
  }
  for (const char* spared : {"N01", "A01", "row-a", "dc1", "pdu-a01", "pdu-a01-o3", "ubuntu-22.04"}) {
    EXPECT_FALSE(names.count(spared)) << spared;
  }
  ExpectValidPaths(r);
}

TEST_F(GraphTest, APartsFailureDegradesItsContainerButNotItsSiblings) {
  auto gpu = graph_.ImpactOf(Id("srv-01-gpu0"));
  EXPECT_EQ(NamesOf(gpu), (Names{"srv-01", "svc-api", "svc-web", "inst-1", "acme", "globex", "gpu"}));
  ExpectValidPaths(gpu);
  // A downlink port: its server (through the NIC, an uplink of the server), not its switch's other ports.
  auto port = NamesOf(graph_.ImpactOf(Id("l1p1")));
  EXPECT_TRUE(port.count("leaf-01"));
  EXPECT_TRUE(port.count("srv-01"));
  EXPECT_TRUE(port.count("srv-01-gpu1"));
  for (const char* spared : {"l1p3", "l1up", "srv-02", "svc-batch"}) EXPECT_FALSE(port.count(spared)) << spared;
  // An uplink cuts the whole switch off.
  auto uplink = graph_.ImpactOf(Id("l1up"));
  Names leaf_and_behind = Union({{"leaf-01"}, LeafImpact()});
  leaf_and_behind.erase("l1up");  // the start
  EXPECT_EQ(NamesOf(uplink), leaf_and_behind);
  ExpectValidPaths(uplink);
  // Backwards: a server's causes include its switch's uplink and the spine port behind it, not
  // the switch's other downlinks or the spine's other ports.
  auto up = graph_.UpstreamOf(Id("srv-01"));
  auto causes = NamesOf(up);
  for (const char* cause : {"l1p1", "leaf-01", "l1up", "sp1", "spine-01", "srv-01-gpu0", "A01", "pdu-a01-o3"}) {
    EXPECT_TRUE(causes.count(cause)) << cause;
  }
  for (const char* innocent : {"l1p3", "sp2", "srv-01-bmc"}) EXPECT_FALSE(causes.count(innocent)) << innocent;
  ExpectValidPaths(up);
}

// A container first reached through a part (restricted) and then freely is walked on from as if
// it had been reached freely first: the answer does not depend on the order of the walk.
TEST(GraphWalkTest, AnswerDoesNotDependOnTheOrderCisAreReached) {
  auto types = BuiltinRelationTypes();
  RelationType feeds;
  feeds.name = "feeds";
  feeds.impact.forward = true;
  types.push_back(feeds);
  for (bool part_first : {true, false}) {
    SCOPED_TRACE(part_first ? "part reached first" : "feeder reached first");
    GraphIndex g(types);
    // Slots follow insertion order, and so does the walk among equal relationships.
    ASSERT_TRUE(g.UpsertNode(1, "service", "A"));
    ASSERT_TRUE(g.UpsertNode(part_first ? 2 : 3, "gpu", "g"));
    ASSERT_TRUE(g.UpsertNode(part_first ? 3 : 2, "service", "B"));
    const int64_t gpu = part_first ? 2 : 3, feeder = part_first ? 3 : 2;
    ASSERT_TRUE(g.UpsertNode(4, "server", "s"));
    ASSERT_TRUE(g.UpsertNode(5, "gpu", "g2"));
    ASSERT_TRUE(g.AddEdge("feeds", 1, gpu));
    ASSERT_TRUE(g.AddEdge("feeds", 1, feeder));
    ASSERT_TRUE(g.AddEdge("feeds", feeder, 4));
    ASSERT_TRUE(g.AddEdge("contains", 4, gpu));
    ASSERT_TRUE(g.AddEdge("contains", 4, 5));
    auto r = g.ImpactOf(1);
    auto pos = r.Find(5);
    ASSERT_TRUE(pos);  // through B, which fails s outright, not through g, which only degrades it
    auto hops = r.PathTo(*pos);
    ASSERT_EQ(hops.size(), 3u);
    EXPECT_EQ(hops[0], (Hop{1, feeder, "feeds", HopDirection::kForward}));
    EXPECT_EQ(hops[1], (Hop{feeder, 4, "feeds", HopDirection::kForward}));
    EXPECT_EQ(hops[2], (Hop{4, 5, "contains", HopDirection::kForward}));
    EXPECT_EQ(r.nodes[*pos].depth, 3u);
    EXPECT_EQ(r.nodes.size(), 4u);
  }
}

TEST_F(GraphTest, TraversalsStopAtTheirBounds) {
  auto one_hop = graph_.ImpactOf(Id("spine-01"), {1, 100, {}});
  EXPECT_EQ(NamesOf(one_hop), (Names{"sp1", "sp2"}));
  EXPECT_FALSE(one_hop.truncated);
  auto capped = graph_.ImpactOf(Id("spine-01"), {0, 3, {}});
  EXPECT_EQ(capped.nodes.size(), 3u);
  EXPECT_TRUE(capped.truncated);
  ExpectValidPaths(capped);
  auto exact = graph_.ImpactOf(Id("leaf-01"), {0, LeafImpact().size(), {}});
  EXPECT_FALSE(exact.truncated);
  auto only_contains = graph_.ImpactOf(Id("leaf-01"), {0, 100, {"contains"}});
  EXPECT_EQ(NamesOf(only_contains), (Names{"l1p1", "l1p2", "l1p3", "l1p4", "l1up"}));
  EXPECT_FALSE(graph_.ImpactOf(1).found);
}

TEST_F(GraphTest, RootCauseOfServiceIsItsInfrastructureAndDependencies) {
  auto r = graph_.UpstreamOf(Id("svc-web"));
  ASSERT_TRUE(r.found);
  auto names = NamesOf(r);
  for (const char* cause : {"srv-04", "svc-api", "svc-db", "srv-01", "srv-03", "srv-01-nic0", "srv-01-gpu1", "l1p1",
                            "leaf-01", "leaf-02", "l1up", "sp1", "spine-01", "A01", "A02", "N01", "row-a", "dc1",
                            "pdu-a01-o1", "pdu-a01", "pdu-a02-o2", "pdu-a01-o3"}) {
    EXPECT_TRUE(names.count(cause)) << cause;
  }
  for (const char* innocent : {"srv-02", "srv-02-nic0", "svc-batch", "srv-01-bmc", "acme", "globex", "gpu",
                               "inst-1", "ubuntu-22.04", "pdu-a01-o2"}) {
    EXPECT_FALSE(names.count(innocent)) << innocent;
  }
  ExpectValidPaths(r);
  auto hops = r.PathTo(*r.Find(Id("srv-03")));
  ASSERT_EQ(hops.size(), 3u);  // srv-03 → svc-db → svc-api → svc-web
  EXPECT_EQ(hops[0], (Hop{Id("srv-03"), Id("svc-db"), "deployed_on", HopDirection::kReverse}));
  EXPECT_EQ(hops[2], (Hop{Id("svc-api"), Id("svc-web"), "depends_on", HopDirection::kReverse}));
}

TEST_F(GraphTest, ImpactAndUpstreamAreInverses) {
  for (const auto& [id, type, name] : estate_.cis()) {
    auto down = graph_.ImpactOf(id);
    for (const auto& n : down.nodes) {
      auto up = graph_.UpstreamOf(n.id);
      EXPECT_TRUE(up.Find(id)) << name << " affects " << estate_.NameOf(n.id);
    }
  }
}

TEST_F(GraphTest, CommonUpstreamOfTwoServersOnOneLeafAndRack) {
  std::vector<int64_t> alerts = {Id("srv-01"), Id("srv-02")};
  auto r = graph_.CommonUpstream(alerts);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->common);
  EXPECT_EQ(r->covered, alerts);
  EXPECT_TRUE(r->uncovered.empty());
  Names causes;
  for (const auto& c : r->causes) causes.insert(estate_.NameOf(c.ci));
  // Not spine-01 (it acts through leaf-01), row-a/hall-1/dc1 (through A01), pdu-a01-o3 (through leaf-01).
  EXPECT_EQ(causes, (Names{"leaf-01", "A01", "pdu-a01"}));
  for (const auto& c : r->causes) {
    SCOPED_TRACE(estate_.NameOf(c.ci));
    ASSERT_EQ(c.paths.size(), 2u);
    for (size_t i = 0; i < 2; ++i) {
      ASSERT_FALSE(c.paths[i].empty());
      EXPECT_EQ(c.paths[i].front().from, c.ci);
      EXPECT_EQ(c.paths[i].back().to, alerts[i]);
      ExpectChain(c.paths[i]);
    }
    if (estate_.NameOf(c.ci) == "leaf-01") {
      EXPECT_EQ(c.group_size, 2u);  // the switch and its uplink fail together
      ASSERT_EQ(c.fail_together.size(), 1u);
      EXPECT_EQ(estate_.NameOf(c.fail_together[0]), "l1up");
    }
  }
  EXPECT_EQ(estate_.NameOf(r->causes.front().ci), "A01");  // shortest explanation first
}

TEST_F(GraphTest, CommonUpstreamAcrossLeavesIsTheSpineOrTheRow) {
  std::vector<int64_t> alerts = {Id("srv-01"), Id("svc-db")};
  auto r = graph_.CommonUpstream(alerts);
  ASSERT_TRUE(r);
  EXPECT_TRUE(r->common);
  Names causes;
  for (const auto& c : r->causes) causes.insert(estate_.NameOf(c.ci));
  EXPECT_EQ(causes, (Names{"spine-01", "row-a"}));
}

TEST_F(GraphTest, CommonUpstreamOfAServerAndItsServiceIsTheServer) {
  std::vector<int64_t> alerts = {Id("svc-api"), Id("srv-01"), Id("svc-api")};
  auto r = graph_.CommonUpstream(alerts);
  ASSERT_TRUE(r);
  ASSERT_EQ(r->causes.size(), 1u);
  EXPECT_EQ(r->causes[0].ci, Id("srv-01"));
  EXPECT_TRUE(r->causes[0].paths[1].empty());  // srv-01 is its own cause
  EXPECT_EQ(r->covered, (std::vector<int64_t>{Id("svc-api"), Id("srv-01")}));
}

TEST_F(GraphTest, CommonUpstreamWithoutCommonCauseCoversWhatItCan) {
  std::vector<int64_t> alerts = {Id("ubuntu-22.04"), Id("srv-01"), Id("srv-02"), 999999};
  auto r = graph_.CommonUpstream(alerts);
  ASSERT_TRUE(r);
  EXPECT_FALSE(r->common);
  EXPECT_EQ(r->covered, (std::vector<int64_t>{Id("srv-01"), Id("srv-02")}));
  EXPECT_EQ(r->uncovered, (std::vector<int64_t>{Id("ubuntu-22.04")}));
  EXPECT_EQ(r->unknown, (std::vector<int64_t>{999999}));
  Names causes;
  for (const auto& c : r->causes) causes.insert(estate_.NameOf(c.ci));
  EXPECT_EQ(causes, (Names{"leaf-01", "A01", "pdu-a01"}));

  std::vector<int64_t> disjoint = {Id("ubuntu-22.04"), Id("acme")};
  auto first = graph_.CommonUpstream(disjoint);
  ASSERT_TRUE(first);
  EXPECT_FALSE(first->common);
  ASSERT_EQ(first->causes.size(), 1u);
  EXPECT_EQ(first->causes[0].ci, Id("ubuntu-22.04"));  // ties go to the first CI given

  EXPECT_FALSE(graph_.CommonUpstream(std::vector<int64_t>{}));
  EXPECT_FALSE(graph_.CommonUpstream(std::vector<int64_t>{424242}));
}

TEST_F(GraphTest, NeighbourhoodGrowsWithDepth) {
  auto one = graph_.Neighbourhood(Id("srv-01"), {1});
  EXPECT_EQ(NamesOf(one), (Names{"srv-01-bmc", "srv-01-gpu0", "srv-01-gpu1", "srv-01-nic0", "srv-01-nic1", "A01",
                                 "pdu-a01-o1", "svc-api", "inst-1", "gpu", "ubuntu-22.04"}));
  for (const auto& n : one.nodes) EXPECT_EQ(n.depth, 1u);
  // Every edge joins two CIs of the neighbourhood; the start's edges are all there.
  Names with_start = NamesOf(one);
  with_start.insert("srv-01");
  for (const auto& e : one.edges) {
    EXPECT_TRUE(with_start.count(estate_.NameOf(e.from)) && with_start.count(estate_.NameOf(e.to)));
    EXPECT_TRUE(estate_.HasRel(one.relation_types[e.relation], e.from, e.to));
  }
  EXPECT_EQ(one.edges.size(), 11u);

  auto two = graph_.Neighbourhood(Id("srv-01"), {2});
  auto names = NamesOf(two);
  for (const char* n : {"l1p1", "l1p2", "row-a", "srv-02", "leaf-01", "pdu-a01", "svc-web", "svc-db", "acme", "srv-04"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
  EXPECT_FALSE(names.count("leaf-02"));
  EXPECT_EQ(two.nodes[two.Find(Id("row-a")).value()].depth, 2u);
  ExpectValidPaths(two);
  EXPECT_GT(two.edges.size(), one.edges.size());

  auto capped = graph_.Neighbourhood(Id("srv-01"), {6, 5, {}, false});
  EXPECT_EQ(capped.nodes.size(), 5u);
  EXPECT_TRUE(capped.truncated);
  EXPECT_TRUE(capped.edges.empty());
  auto wired = graph_.Neighbourhood(Id("srv-01"), {6, 1000, {"contains", "connected_to"}});
  EXPECT_FALSE(NamesOf(wired).count("A01"));
  EXPECT_TRUE(NamesOf(wired).count("srv-02"));  // through leaf-01's ports
  EXPECT_TRUE(NamesOf(wired).count("sp1"));
}

TEST_F(GraphTest, ShortestPathIgnoresDirection) {
  auto p = graph_.ShortestPath(Id("srv-01"), Id("srv-02"));
  ASSERT_TRUE(p.found);
  ASSERT_EQ(p.hops.size(), 2u);  // through A01, the partition or the OS image
  EXPECT_EQ(p.hops.front().from, Id("srv-01"));
  EXPECT_EQ(p.hops.back().to, Id("srv-02"));
  ExpectChain(p.hops);

  auto cable = graph_.ShortestPath(Id("srv-01-nic0"), Id("sp1"));
  ASSERT_TRUE(cable.found);
  ASSERT_EQ(cable.hops.size(), 4u);  // nic → l1p1 → leaf-01 → l1up → sp1
  ExpectChain(cable.hops);
  EXPECT_EQ(cable.hops[3], (Hop{Id("l1up"), Id("sp1"), "connected_to", HopDirection::kForward}));

  auto wired = graph_.ShortestPath(Id("srv-01-nic0"), Id("srv-03-nic1"), {0, 1000, {"contains", "connected_to"}});
  ASSERT_TRUE(wired.found);
  EXPECT_EQ(wired.hops.size(), 10u);
  ExpectChain(wired.hops);
  EXPECT_FALSE(graph_.ShortestPath(Id("srv-01-nic0"), Id("srv-03-nic1"), {9, 1000, {"contains", "connected_to"}}).found);
  EXPECT_FALSE(graph_.ShortestPath(Id("srv-01"), Id("dc1"), {0, 1000, {"contains"}}).found);
  auto self = graph_.ShortestPath(Id("srv-01"), Id("srv-01"));
  EXPECT_TRUE(self.found);
  EXPECT_TRUE(self.hops.empty());
}

TEST_F(GraphTest, CyclesOverAcyclicTypesAreFound) {
  auto loop = graph_.FindCycle("located_in", Id("row-a"), Id("A01"));
  ASSERT_TRUE(loop);
  EXPECT_EQ(*loop, (std::vector<Hop>{{Id("A01"), Id("row-a"), "located_in", HopDirection::kForward}}));
  auto deps = graph_.FindCycle("depends_on", Id("svc-db"), Id("svc-web"));
  ASSERT_TRUE(deps);
  EXPECT_EQ(deps->size(), 2u);  // svc-web → svc-api → svc-db
  ExpectChain(*deps);
  EXPECT_TRUE(graph_.WouldCreateCycle("located_in", Id("dc1"), Id("srv-01")));
  EXPECT_TRUE(graph_.WouldCreateCycle("contains", Id("srv-01"), Id("srv-01")));
  EXPECT_FALSE(graph_.WouldCreateCycle("depends_on", Id("svc-web"), Id("svc-db")));
  EXPECT_FALSE(graph_.WouldCreateCycle("located_in", Id("srv-02"), Id("A01")));
  EXPECT_FALSE(graph_.WouldCreateCycle("connected_to", Id("sp1"), Id("l1up")));  // not an acyclic type
  EXPECT_FALSE(graph_.WouldCreateCycle("no_such_type", Id("row-a"), Id("A01")));
}

TEST_F(GraphTest, CountsPerRelationType) {
  EXPECT_EQ(graph_.CountOut(Id("leaf-01"), "contains"), 5u);
  EXPECT_EQ(graph_.CountOut(Id("srv-01"), "powered_by"), 1u);
  EXPECT_EQ(graph_.CountIn(Id("l1p1"), "connected_to"), 1u);
  EXPECT_EQ(graph_.CountIn(Id("A01"), "located_in"), 4u);
  EXPECT_EQ(graph_.CountIn(Id("leaf-01"), "located_in"), 0u);
  EXPECT_EQ(graph_.CountOut(Id("leaf-01"), "nonsense"), 0u);
}

TEST_F(GraphTest, RemovingCablesAndSwitchesChangesTheAnswers) {
  EXPECT_TRUE(graph_.RemoveEdge("connected_to", Id("srv-01-nic0"), Id("l1p1")));
  EXPECT_FALSE(graph_.RemoveEdge("connected_to", Id("srv-01-nic0"), Id("l1p1")));
  EXPECT_TRUE(NamesOf(graph_.ImpactOf(Id("leaf-01"))).count("srv-01"));  // still on nic1
  EXPECT_TRUE(graph_.RemoveEdge("connected_to", Id("srv-01-nic1"), Id("l1p2")));
  EXPECT_FALSE(NamesOf(graph_.ImpactOf(Id("leaf-01"))).count("srv-01"));
  EXPECT_EQ(graph_.Stats().edges, estate_.rels().size() - 2);

  const size_t leaf_degree = 5 + 1 + 1;  // ports, located_in, powered_by
  EXPECT_TRUE(graph_.RemoveNode(Id("leaf-01")));
  EXPECT_FALSE(graph_.RemoveNode(Id("leaf-01")));
  EXPECT_EQ(graph_.Stats().nodes, estate_.cis().size() - 1);
  EXPECT_EQ(graph_.Stats().edges, estate_.rels().size() - 2 - leaf_degree);
  auto spine = NamesOf(graph_.ImpactOf(Id("spine-01")));
  EXPECT_TRUE(spine.count("l1up"));
  EXPECT_FALSE(spine.count("srv-02"));
  EXPECT_TRUE(spine.count("srv-03"));
  EXPECT_FALSE(graph_.ImpactOf(Id("leaf-01")).found);
  EXPECT_FALSE(graph_.AddEdge("contains", Id("leaf-01"), Id("l1p1")));  // NotFound

  // Put it back (a new slot is reused) and the answer returns.
  ASSERT_TRUE(graph_.UpsertNode(Id("leaf-01"), "switch", "leaf-01"));
  for (const char* p : {"l1p1", "l1p2", "l1p3", "l1p4", "l1up"}) ASSERT_TRUE(graph_.AddEdge("contains", Id("leaf-01"), Id(p)));
  ASSERT_TRUE(graph_.AddEdge("contains", Id("leaf-01"), Id("l1p1")));  // duplicate: no-op
  EXPECT_EQ(graph_.CountOut(Id("leaf-01"), "contains"), 5u);
  EXPECT_TRUE(NamesOf(graph_.ImpactOf(Id("spine-01"))).count("srv-02"));
}

TEST_F(GraphTest, UpdatingACiKeepsItsRelationships) {
  ASSERT_TRUE(graph_.UpsertNode(Id("srv-01"), "server", "srv-01-renamed"));
  EXPECT_EQ(graph_.Find(Id("srv-01"))->name, "srv-01-renamed");
  EXPECT_EQ(graph_.CountOut(Id("srv-01"), "contains"), 5u);
  // A BMC's failure does not reach its server; retyped as a GPU, it does (peer types are cached).
  EXPECT_FALSE(graph_.UpstreamOf(Id("srv-01")).Find(Id("srv-01-bmc")));
  ASSERT_TRUE(graph_.UpsertNode(Id("srv-01-bmc"), "gpu", "srv-01-bmc"));
  EXPECT_TRUE(graph_.UpstreamOf(Id("srv-01")).Find(Id("srv-01-bmc")));
  EXPECT_TRUE(graph_.ImpactOf(Id("srv-01-bmc")).Find(Id("srv-01")));
}

TEST_F(GraphTest, NewRelationTypesTakeEffect) {
  ASSERT_TRUE(graph_.UpsertNode(1, "service", "svc-cache"));
  ASSERT_TRUE(graph_.AddEdge("caches_for", 1, Id("svc-db")));
  EXPECT_FALSE(graph_.ImpactOf(1).Find(Id("svc-db")));  // unknown type: no impact
  auto types = BuiltinRelationTypes();
  RelationType caches;
  caches.name = "caches_for";
  caches.impact.forward = true;
  types.push_back(caches);
  graph_.SetRelationTypes(types);
  EXPECT_TRUE(graph_.ImpactOf(1).Find(Id("svc-db")));
}

// ---- loading from the database -------------------------------------------------------------

class GraphLoadTest : public ::testing::TestWithParam<store::Backend> {};

// Forwards to a real database; runs a hook once, inside Load's read, to play a concurrent commit.
class HookedDatabase final : public store::Database {
 public:
  HookedDatabase(store::Database& db, std::function<void()> hook) : db_(db), hook_(std::move(hook)) {}
  store::Backend backend() const override { return db_.backend(); }
  core::Result<std::unique_ptr<store::Tx>> Begin(store::TxMode mode) override {
    auto tx = db_.Begin(mode);
    if (tx && hook_) std::exchange(hook_, nullptr)();
    return tx;
  }
  core::Status Ping() override { return db_.Ping(); }
  store::PoolStats Stats() const override { return db_.Stats(); }
  std::string Describe() const override { return db_.Describe(); }

 private:
  store::Database& db_;
  std::function<void()> hook_;
};

void Insert(store::Database& db, const Estate& estate) {
  auto tx = db.Begin();
  ASSERT_TRUE(tx);
  std::set<std::string> types;
  for (const auto& [id, type, name] : estate.cis()) types.insert(type);
  for (const auto& t : types) {
    ASSERT_TRUE((*tx)->Exec("INSERT INTO cmdb_types (name, created_at, updated_at) VALUES (?, 0, 0)", {t}));
  }
  for (const auto& rt : BuiltinRelationTypes()) {
    ASSERT_TRUE((*tx)->Exec("INSERT INTO cmdb_relation_types (name, rules, created_at, updated_at) VALUES (?, '{}', 0, 0)",
                            {rt.name}));
  }
  for (const auto& [id, type, name] : estate.cis()) {
    ASSERT_TRUE((*tx)->Exec("INSERT INTO cmdb_cis (id, type, name, created_at, updated_at) VALUES (?, ?, ?, 0, 0)",
                            {id, type, name}));
  }
  for (const auto& r : estate.rels()) {
    ASSERT_TRUE((*tx)->Exec("INSERT INTO cmdb_relations (type, from_id, to_id, created_at) VALUES (?, ?, ?, 0)",
                            {r.type, r.from, r.to}));
  }
  ASSERT_TRUE((*tx)->Commit());
}

TEST_P(GraphLoadTest, LoadsTheEstateInSmallBatches) {
  auto db = testing::NewTestDatabase(GetParam());
  Estate estate;
  ASSERT_NO_FATAL_FAILURE(Insert(*db, estate));
  GraphIndex loaded(BuiltinRelationTypes());
  ASSERT_TRUE(loaded.Load(*db, {7}));  // many batches
  GraphIndex built(BuiltinRelationTypes());
  ASSERT_NO_FATAL_FAILURE(estate.Fill(built));
  EXPECT_EQ(loaded.Stats().nodes, estate.cis().size());
  EXPECT_EQ(loaded.Stats().edges, estate.rels().size());
  for (const char* start : {"leaf-01", "spine-01", "pdu-a02", "A01"}) {
    std::set<int64_t> a, b;
    for (const auto& n : loaded.ImpactOf(estate.Id(start)).nodes) a.insert(n.id);
    for (const auto& n : built.ImpactOf(estate.Id(start)).nodes) b.insert(n.id);
    EXPECT_EQ(a, b) << start;
  }
  EXPECT_EQ(loaded.Find(estate.Id("srv-03"))->name, "srv-03");
  // Loading again replaces, not adds.
  ASSERT_TRUE(loaded.Load(*db));
  EXPECT_EQ(loaded.Stats().edges, estate.rels().size());
}

TEST_P(GraphLoadTest, ChangesCommittedDuringLoadAreKept) {
  auto db = testing::NewTestDatabase(GetParam());
  Estate estate;
  ASSERT_NO_FATAL_FAILURE(Insert(*db, estate));
  GraphIndex g(BuiltinRelationTypes());
  ASSERT_TRUE(g.Load(*db));
  // While the reload reads its snapshot, a CI is added and a cable removed elsewhere (only in
  // the index here: the snapshot cannot contain them either way).
  HookedDatabase hooked(*db, [&] {
    ASSERT_TRUE(g.UpsertNode(5, "server", "srv-new"));
    ASSERT_TRUE(g.AddEdge("located_in", 5, estate.Id("A02")));
    ASSERT_TRUE(g.RemoveEdge("connected_to", estate.Id("srv-01-nic0"), estate.Id("l1p1")));
  });
  ASSERT_TRUE(g.Load(hooked));
  EXPECT_EQ(g.Find(5)->name, "srv-new");
  EXPECT_TRUE(g.ImpactOf(estate.Id("A02")).Find(5));
  EXPECT_EQ(g.CountIn(estate.Id("l1p1"), "connected_to"), 0u);
  EXPECT_EQ(g.Stats().edges, estate.rels().size());  // one added, one removed
}

GANTRY_INSTANTIATE_BACKENDS(GraphLoadTest);

}  // namespace
}  // namespace gantry::cmdb
