#include "cmdb/service.h"

#include <gtest/gtest.h>

#include "support/test_db.h"

namespace gantry::cmdb {
namespace {

class CmdbTest : public ::testing::TestWithParam<store::Backend> {
 protected:
  CmdbTest()
      : db_(testing::NewTestDatabase(GetParam())),
        clock_(1'800'000'000LL * core::kNanosPerSecond),
        audit_(*db_, clock_),
        cmdb_(*db_, audit_, clock_) {
    EXPECT_TRUE(cmdb_.Init());
    alice_ = User("alice", core::Role::kOperator);
    bob_ = User("bob", core::Role::kAdmin);
  }

  static core::RequestContext User(const std::string& name, core::Role role) {
    core::RequestContext rc;
    rc.principal.user_id = name.size();
    rc.principal.username = name;
    rc.principal.roles = {role};
    rc.source_ip = "192.0.2.1";
    return rc;
  }

  Ci Make(const std::string& type, const std::string& name, core::json::object attrs = {},
          std::optional<std::string> tenant = {}) {
    auto ci = cmdb_.CreateCi(alice_, NewCi{type, name, std::move(attrs), tenant, "active"});
    EXPECT_TRUE(ci) << type << "/" << name << ": " << (ci ? "" : ci.error().message);
    clock_.Advance(core::kNanosPerSecond);
    return ci ? *ci : Ci{};
  }

  void Link(const std::string& from, const std::string& type, const std::string& to, core::json::object attrs = {}) {
    auto r = cmdb_.Relate(alice_, NewRelation{type, from, to, std::move(attrs), "manual"});
    EXPECT_TRUE(r) << from << " " << type << " " << to << ": " << (r ? "" : r.error().message);
  }

  // A small estate: two racks, two leaves under a spine, three servers, a PDU, services, tenants.
  void BuildEstate() {
    Make("site", "dc1");
    Make("room", "hall-1");
    Make("row", "row-a");
    Make("rack", "A01");
    Make("rack", "A02");
    Link("room/hall-1", "located_in", "site/dc1");
    Link("row/row-a", "located_in", "room/hall-1");
    Link("rack/A01", "located_in", "row/row-a");
    Link("rack/A02", "located_in", "row/row-a");
    Make("switch", "spine-01", {{"role", "spine"}});
    Make("switch_port", "spine-01:p1");
    Make("switch_port", "spine-01:p2");
    Link("switch/spine-01", "contains", "switch_port/spine-01:p1");
    Link("switch/spine-01", "contains", "switch_port/spine-01:p2");
    for (std::string leaf : {"leaf-01", "leaf-02"}) {
      Make("switch", leaf, {{"role", "leaf"}});
      Link("switch/" + leaf, "located_in", leaf == "leaf-01" ? "rack/A01" : "rack/A02", {{"position_u", 42}});
      for (std::string p : {":up", ":p1", ":p2"}) {
        Make("switch_port", leaf + p);
        Link("switch/" + leaf, "contains", "switch_port/" + leaf + p);
      }
      Link("switch_port/" + leaf + ":up", "connected_to",
           leaf == "leaf-01" ? "switch_port/spine-01:p1" : "switch_port/spine-01:p2");
    }
    Make("pdu", "pdu-a01-1");
    Link("pdu/pdu-a01-1", "located_in", "rack/A01");
    struct S { std::string name, rack, port; };
    for (const auto& s : {S{"node-01", "rack/A01", "leaf-01:p1"}, S{"node-02", "rack/A01", "leaf-01:p2"},
                          S{"node-03", "rack/A02", "leaf-02:p1"}}) {
      Make("server", s.name, {{"role", "gpu-node"}, {"gpu_model", "H100"}}, s.name == "node-03" ? "beta" : "acme");
      Link("server/" + s.name, "located_in", s.rack, {{"position_u", 10}});
      Make("gpu", s.name + ":gpu0", {{"model", "H100"}, {"index", 0}});
      Link("server/" + s.name, "contains", "gpu/" + s.name + ":gpu0");
      Make("nic", s.name + ":eth0", {{"mac", "52:54:00:00:00:0" + s.name.substr(6)}});
      Link("server/" + s.name, "contains", "nic/" + s.name + ":eth0");
      Link("nic/" + s.name + ":eth0", "connected_to", "switch_port/" + s.port);
      if (s.rack == "rack/A01") {
        Make("pdu_outlet", "pdu-a01-1:" + s.name);
        Link("pdu/pdu-a01-1", "contains", "pdu_outlet/pdu-a01-1:" + s.name);
        Link("server/" + s.name, "powered_by", "pdu_outlet/pdu-a01-1:" + s.name);
      }
    }
    Make("service", "training-api", {{"criticality", "high"}});
    Make("service", "web-portal");
    Link("service/training-api", "deployed_on", "server/node-01");
    Link("service/web-portal", "depends_on", "service/training-api");
  }

  std::set<std::string> ImpactSet(const std::string& ref) {
    auto ans = cmdb_.Impact(alice_, ref, 32, 10000);
    EXPECT_TRUE(ans) << ans.error().message;
    std::set<std::string> out;
    for (const auto& item : ans->at("items").as_array()) {
      const auto& ci = item.at("ci").as_object();
      out.insert(std::string(ci.at("type").as_string()) + "/" + std::string(ci.at("name").as_string()));
    }
    return out;
  }

  int Audits(const std::string& action) {
    return static_cast<int>(audit_.Search({.action = action, .limit = 1000})->size());
  }

  std::unique_ptr<store::Database> db_;
  core::ManualClock clock_;
  audit::Service audit_;
  Service cmdb_;
  core::RequestContext alice_, bob_;
};

TEST_P(CmdbTest, UnknownTypeListsTheValidOnes) {
  auto r = cmdb_.CreateCi(alice_, NewCi{"toaster", "t1", {}, {}, "active"});
  ASSERT_FALSE(r);
  EXPECT_EQ(core::Code::kInvalidArgument, r.error().code);
  EXPECT_NE(std::string::npos, r.error().message.find("server"));
  EXPECT_NE(std::string::npos, r.error().message.find("switch_port"));
}

TEST_P(CmdbTest, AttributesAreTypedValidatedAndNormalised) {
  auto bad_attr = cmdb_.CreateCi(alice_, NewCi{"nic", "n1", {{"colour", "red"}}, {}, "active"});
  ASSERT_FALSE(bad_attr);
  EXPECT_EQ("colour", bad_attr.error().field);
  EXPECT_NE(std::string::npos, bad_attr.error().message.find("mac"));
  auto bad_mac = cmdb_.CreateCi(alice_, NewCi{"nic", "n1", {{"mac", "not-a-mac"}}, {}, "active"});
  ASSERT_FALSE(bad_mac);
  EXPECT_EQ("mac", bad_mac.error().field);
  auto bad_int = cmdb_.CreateCi(alice_, NewCi{"rack", "r1", {{"height_u", "tall"}}, {}, "active"});
  EXPECT_EQ("height_u", bad_int.error().field);
  auto out_of_range = cmdb_.CreateCi(alice_, NewCi{"rack", "r1", {{"height_u", 500}}, {}, "active"});
  EXPECT_EQ("height_u", out_of_range.error().field);
  auto bad_enum = cmdb_.CreateCi(alice_, NewCi{"switch", "s1", {{"role", "router"}}, {}, "active"});
  EXPECT_NE(std::string::npos, bad_enum.error().message.find("leaf"));
  auto bad_ip = cmdb_.CreateCi(alice_, NewCi{"server", "s1", {{"mgmt_ip", "10.0.0.300"}}, {}, "active"});
  EXPECT_EQ("mgmt_ip", bad_ip.error().field);
  auto ok = Make("nic", "n1", {{"mac", "52-54-00-AB-CD-EF"}, {"ipv6", "FD00:0:0::1"}});
  EXPECT_EQ("52:54:00:ab:cd:ef", ok.attrs.at("mac").as_string());
  EXPECT_EQ("fd00::1", ok.attrs.at("ipv6").as_string());
  EXPECT_EQ(1, Audits("cmdb.ci.create"));  // the failures wrote nothing
}

TEST_P(CmdbTest, ReferenceAttributesMustPointAtAnExistingCiOfTheirType) {
  Make("server", "ref-node");
  Make("rack", "ref-rack");
  auto dangling = cmdb_.CreateCi(alice_, NewCi{"instance", "i1", {{"server", "server/ghost"}}, {}, "active"});
  ASSERT_FALSE(dangling);
  EXPECT_EQ("server", dangling.error().field);
  auto wrong_type = cmdb_.CreateCi(alice_, NewCi{"instance", "i1", {{"server", "rack/ref-rack"}}, {}, "active"});
  EXPECT_EQ("server", wrong_type.error().field);
  Make("instance", "i1", {{"server", "server/ref-node"}});
}

TEST_P(CmdbTest, RelationshipEndsAreNamedInErrors) {
  Make("rack", "e-rack");
  auto r = cmdb_.Relate(alice_, NewRelation{"located_in", "server/ghost", "rack/e-rack", {}, "manual"});
  EXPECT_EQ("from", r.error().field);
  Make("server", "e-node");
  r = cmdb_.Relate(alice_, NewRelation{"located_in", "server/e-node", "rack/ghost", {}, "manual"});
  EXPECT_EQ("to", r.error().field);
}

TEST_P(CmdbTest, OperatorsDefineTheirOwnTypesAndAttributes) {
  CiType t;
  t.name = "cooling_unit";
  t.attributes = {AttrDef{"capacity_kw", AttrKind::kInt, false, {}, {}, 0, 10000, ""},
                  AttrDef{"vendor", AttrKind::kEnum, true, {"acme", "frost"}, {}, {}, {}, ""}};
  ASSERT_TRUE(cmdb_.CreateType(bob_, t));
  auto missing_required = cmdb_.CreateCi(alice_, NewCi{"cooling_unit", "crah-1", {}, {}, "active"});
  EXPECT_EQ("vendor", missing_required.error().field);
  Make("cooling_unit", "crah-1", {{"vendor", "frost"}, {"capacity_kw", 120}});
  ASSERT_TRUE(cmdb_.AddAttribute(bob_, "cooling_unit", AttrDef{"serial", AttrKind::kString}));
  ASSERT_TRUE(cmdb_.UpdateCi(alice_, "cooling_unit/crah-1", CiPatch{{}, {{"serial", "X1"}}, {}, {}, {}}));
  EXPECT_EQ(core::Code::kConflict, cmdb_.CreateType(bob_, t).error().code);
  EXPECT_EQ(core::Code::kInvalidArgument,
            cmdb_.AddAttribute(bob_, "cooling_unit", AttrDef{"Bad Name", AttrKind::kString}).error().code);
}

TEST_P(CmdbTest, RelationshipRulesAreEnforcedAndNamed) {
  BuildEstate();
  // Wrong types for the relation.
  auto wrong = cmdb_.Relate(alice_, NewRelation{"powered_by", "gpu/node-01:gpu0", "pdu/pdu-a01-1", {}, "manual"});
  ASSERT_FALSE(wrong);
  EXPECT_NE(std::string::npos, wrong.error().message.find("rule powered_by"));
  // A server sits in one rack.
  auto second_rack = cmdb_.Relate(alice_, NewRelation{"located_in", "server/node-01", "rack/A02", {}, "manual"});
  ASSERT_FALSE(second_rack);
  EXPECT_EQ(core::Code::kConflict, second_rack.error().code);
  EXPECT_NE(std::string::npos, second_rack.error().message.find("at most 1"));
  // A GPU is in one server; a NIC port has one peer.
  EXPECT_EQ(core::Code::kConflict,
            cmdb_.Relate(alice_, NewRelation{"contains", "server/node-02", "gpu/node-01:gpu0", {}, "manual"}).error().code);
  EXPECT_EQ(core::Code::kConflict,
            cmdb_.Relate(alice_, NewRelation{"connected_to", "nic/node-01:eth0", "switch_port/leaf-02:p2", {}, "manual"})
                .error().code);
  // Location cycles are rejected.
  Make("row", "row-z");
  Make("rack", "Z01");
  Link("rack/Z01", "located_in", "row/row-z");
  auto cycle = cmdb_.Relate(alice_, NewRelation{"located_in", "row/row-z", "rack/Z01", {}, "manual"});
  ASSERT_FALSE(cycle);
  EXPECT_NE(std::string::npos, cycle.error().message.find("cycle"));
  auto dep_cycle = cmdb_.Relate(alice_, NewRelation{"depends_on", "service/training-api", "service/web-portal", {}, "manual"});
  EXPECT_NE(std::string::npos, dep_cycle.error().message.find("cycle"));
  // Dangling references and unknown relation types.
  EXPECT_EQ(core::Code::kNotFound,
            cmdb_.Relate(alice_, NewRelation{"located_in", "server/ghost", "rack/A01", {}, "manual"}).error().code);
  auto unknown = cmdb_.Relate(alice_, NewRelation{"loves", "server/node-01", "rack/A01", {}, "manual"});
  EXPECT_NE(std::string::npos, unknown.error().message.find("located_in"));
  // Relationship attributes are typed too.
  EXPECT_EQ("position_u", cmdb_.Relate(alice_, NewRelation{"located_in", "pdu/pdu-a01-1", "rack/A02",
                                                           {{"position_u", "top"}}, "manual"}).error().field);
}

TEST_P(CmdbTest, DeletingACiWithDependentsNeedsCascade) {
  BuildEstate();
  auto st = cmdb_.DeleteCi(alice_, "rack/A01", false);
  ASSERT_FALSE(st);
  EXPECT_EQ(core::Code::kConflict, st.error().code);
  EXPECT_NE(std::string::npos, st.error().message.find("server/node-01"));
  EXPECT_TRUE(cmdb_.GetCi(alice_, "rack/A01"));
  ASSERT_TRUE(cmdb_.DeleteCi(alice_, "rack/A01", true));
  EXPECT_EQ(core::Code::kNotFound, cmdb_.GetCi(alice_, "rack/A01").error().code);
  EXPECT_TRUE(cmdb_.GetCi(alice_, "server/node-01"));  // cascade removes relationships, not CIs
  EXPECT_TRUE(cmdb_.Relate(alice_, NewRelation{"located_in", "server/node-01", "rack/A02", {}, "manual"}));
}

TEST_P(CmdbTest, ImpactOfALeafSwitchIsExplained) {
  BuildEstate();
  auto impact = ImpactSet("switch/leaf-01");
  for (const char* must : {"server/node-01", "server/node-02", "gpu/node-01:gpu0", "service/training-api",
                           "service/web-portal", "switch_port/leaf-01:p1"}) {
    EXPECT_TRUE(impact.count(must)) << must;
  }
  for (const char* must_not : {"server/node-03", "switch/leaf-02", "switch/spine-01", "rack/A01"}) {
    EXPECT_FALSE(impact.count(must_not)) << must_not;
  }
  auto ans = cmdb_.Impact(alice_, "switch/leaf-01", 32, 10000).value();
  bool explained = false;
  for (const auto& item : ans.at("items").as_array()) {
    if (item.at("ci").at("name").as_string() != "web-portal") continue;
    const auto& path = item.at("path").as_array();
    ASSERT_FALSE(path.empty());
    EXPECT_EQ("switch/leaf-01", path.front().at("from").as_string());
    EXPECT_EQ("service/web-portal", path.back().at("to").as_string());
    explained = true;
  }
  EXPECT_TRUE(explained);
  auto tenants = ans.at("tenants").as_array();
  EXPECT_EQ(1u, tenants.size());
  EXPECT_EQ("acme", tenants[0].as_string());
}

TEST_P(CmdbTest, ImpactOfAPduAndOfASpine) {
  BuildEstate();
  auto pdu = ImpactSet("pdu/pdu-a01-1");
  EXPECT_TRUE(pdu.count("server/node-01"));
  EXPECT_TRUE(pdu.count("server/node-02"));
  EXPECT_FALSE(pdu.count("server/node-03"));
  auto spine = ImpactSet("switch/spine-01");
  EXPECT_TRUE(spine.count("server/node-03"));
  EXPECT_TRUE(spine.count("switch/leaf-01"));
  EXPECT_TRUE(spine.count("service/web-portal"));
}

TEST_P(CmdbTest, APartsFailureDegradesItsContainerButNotItsSiblings) {
  BuildEstate();
  auto port = ImpactSet("switch_port/leaf-01:p1");
  EXPECT_TRUE(port.count("server/node-01"));
  EXPECT_TRUE(port.count("service/training-api"));
  EXPECT_FALSE(port.count("server/node-02"));  // cabled to p2 of the same switch
  auto gpu = ImpactSet("gpu/node-01:gpu0");
  EXPECT_TRUE(gpu.count("server/node-01"));
  EXPECT_FALSE(gpu.count("nic/node-01:eth0"));
  // An uplink is different: losing it cuts the whole leaf off.
  auto uplink = ImpactSet("switch_port/leaf-01:up");
  EXPECT_TRUE(uplink.count("server/node-02"));
  auto rc = cmdb_.RootCause(alice_, "service/training-api", 32, 10000).value();
  std::set<std::string> up;
  for (const auto& item : rc.at("items").as_array()) {
    up.insert(std::string(item.at("ci").at("type").as_string()) + "/" + std::string(item.at("ci").at("name").as_string()));
  }
  EXPECT_TRUE(up.count("switch_port/leaf-01:up"));
  EXPECT_FALSE(up.count("switch_port/leaf-01:p2"));
}

TEST_P(CmdbTest, RootCauseAndCommonCause) {
  BuildEstate();
  auto rc = cmdb_.RootCause(alice_, "service/web-portal", 32, 10000).value();
  std::set<std::string> up;
  for (const auto& item : rc.at("items").as_array()) {
    up.insert(std::string(item.at("ci").at("type").as_string()) + "/" + std::string(item.at("ci").at("name").as_string()));
  }
  for (const char* must : {"service/training-api", "server/node-01", "switch/leaf-01", "switch/spine-01",
                           "pdu/pdu-a01-1", "rack/A01", "site/dc1"}) {
    EXPECT_TRUE(up.count(must)) << must;
  }
  EXPECT_FALSE(up.count("server/node-03"));
  auto cc = cmdb_.CommonCause(alice_, {"server/node-01", "server/node-02"}).value();
  EXPECT_TRUE(cc.at("common").as_bool());
  std::set<std::string> causes;
  for (const auto& c : cc.at("causes").as_array()) {
    causes.insert(std::string(c.at("ci").at("type").as_string()) + "/" + std::string(c.at("ci").at("name").as_string()));
  }
  EXPECT_TRUE(causes.count("switch/leaf-01"));
  EXPECT_TRUE(causes.count("rack/A01"));
  EXPECT_FALSE(causes.count("switch/spine-01"));
  EXPECT_FALSE(causes.count("room/hall-1"));
}

TEST_P(CmdbTest, NeighbourhoodPathAndContext) {
  BuildEstate();
  auto n = cmdb_.Neighbourhood(alice_, "server/node-01", 1, 100).value();
  EXPECT_GE(n.at("nodes").as_array().size(), 5u);  // itself, rack, gpu, nic, outlet, service
  EXPECT_FALSE(n.at("edges").as_array().empty());
  auto p = cmdb_.Path(alice_, "gpu/node-01:gpu0", "server/node-03").value();
  EXPECT_TRUE(p.at("found").as_bool());
  EXPECT_GE(p.at("length").as_int64(), 4);
  auto ctx = cmdb_.Context(alice_, "gpu/node-01:gpu0").value();
  EXPECT_EQ("dc1/hall-1/row-a/A01", ctx.at("location_path").as_string());
  EXPECT_EQ("acme", ctx.at("tenant").as_string());
  EXPECT_EQ(10, ctx.at("location").as_array().back().at("position_u").as_int64());
  auto node_ctx = cmdb_.Context(alice_, "server/node-01").value();
  ASSERT_EQ(1u, node_ctx.at("services").as_array().size());
  EXPECT_EQ("training-api", node_ctx.at("services").as_array()[0].at("name").as_string());
}

TEST_P(CmdbTest, HistoryAsOfAndDiff) {
  auto t0 = clock_.Now();
  Make("server", "h1", {{"bios_version", "1.0"}});
  auto t1 = clock_.Now();
  clock_.Advance(core::kNanosPerSecond);
  ASSERT_TRUE(cmdb_.UpdateCi(alice_, "server/h1", CiPatch{{}, {{"bios_version", "2.3"}}, {}, {}, {}}));
  clock_.Advance(core::kNanosPerSecond);
  auto t2 = clock_.Now();
  ASSERT_TRUE(cmdb_.UpdateCi(alice_, "server/h1", CiPatch{{}, {{"bios_version", nullptr}}, {}, std::string("maintenance"), 2}));
  auto hist = cmdb_.History(alice_, "server/h1").value();
  ASSERT_EQ(3u, hist.size());
  EXPECT_EQ("ci.update", hist[0].op);
  EXPECT_EQ("alice", hist[0].actor);
  EXPECT_FALSE(cmdb_.AsOf(alice_, "server/h1", t0 - 1)->at("exists").as_bool());
  EXPECT_EQ("1.0", cmdb_.AsOf(alice_, "server/h1", t1)->at("ci").at("attributes").at("bios_version").as_string());
  EXPECT_EQ("2.3", cmdb_.AsOf(alice_, "server/h1", t2 - 1)->at("ci").at("attributes").at("bios_version").as_string());
  auto diff = cmdb_.Diff(alice_, "server/h1", t1, clock_.Now()).value();
  std::map<std::string, std::string> changes;
  for (const auto& c : diff.at("changes").as_array()) {
    changes[std::string(c.at("field").as_string())] = std::string(c.at("change").as_string());
  }
  EXPECT_EQ("removed", changes["attributes.bios_version"]);
  EXPECT_EQ("changed", changes["status"]);
  // Optimistic concurrency: a stale version is refused.
  auto stale = cmdb_.UpdateCi(alice_, "server/h1", CiPatch{{}, {}, {}, std::string("active"), 1});
  EXPECT_EQ(core::Code::kConflict, stale.error().code);
  EXPECT_EQ(2, Audits("cmdb.ci.update"));
}

TEST_P(CmdbTest, ReconciliationRespectsPrioritiesAndFlagsStale) {
  Observation dhcp{"dhcp", 10, "server", "auto-1", {{"primary_ip", "10.0.0.5"}, {"serial", "S1"}}, {}};
  auto ci = cmdb_.Observe(alice_, dhcp).value();
  EXPECT_EQ("10.0.0.5", ci.attrs.at("primary_ip").as_string());
  // A hand edit wins over any discovery source.
  ASSERT_TRUE(cmdb_.UpdateCi(alice_, "server/auto-1", CiPatch{{}, {{"primary_ip", "10.0.0.99"}}, {}, {}, {}}));
  dhcp.attrs = {{"primary_ip", "10.0.0.6"}};
  cmdb_.Observe(alice_, dhcp).value();
  EXPECT_EQ("10.0.0.99", cmdb_.GetCi(alice_, "server/auto-1")->attrs.at("primary_ip").as_string());
  // A higher-priority source overwrites a lower one; a lower one does not.
  Observation bmc{"bmc", 50, "server", "auto-1", {{"serial", "S-REAL"}}, {}};
  cmdb_.Observe(alice_, bmc).value();
  dhcp.attrs = {{"serial", "S-WRONG"}};
  cmdb_.Observe(alice_, dhcp).value();
  EXPECT_EQ("S-REAL", cmdb_.GetCi(alice_, "server/auto-1")->attrs.at("serial").as_string());
  EXPECT_EQ(core::Code::kInvalidArgument,
            cmdb_.Observe(alice_, Observation{"manual", 10, "server", "x", {}, {}}).error().code);
  // Not seen for a day: flagged stale, never deleted.
  clock_.Advance(25LL * 3600 * core::kNanosPerSecond);
  EXPECT_EQ(1, cmdb_.MarkStale(alice_, 24LL * 3600 * core::kNanosPerSecond).value());
  auto after = cmdb_.GetCi(alice_, "server/auto-1").value();
  EXPECT_TRUE(after.stale);
  cmdb_.Observe(alice_, bmc).value();
  EXPECT_FALSE(cmdb_.GetCi(alice_, "server/auto-1")->stale);
}

TEST_P(CmdbTest, TenantMembersSeeOnlyTheirOwnCis) {
  BuildEstate();
  core::RequestContext tina = User("tina", core::Role::kTenantMember);
  tina.principal.tenants = {{1, "acme", core::Role::kTenantMember}};
  auto mine = cmdb_.ListCis(tina, {}).value();
  std::set<std::string> names;
  for (const auto& c : mine) names.insert(Label(c));
  EXPECT_TRUE(names.count("server/node-01"));
  EXPECT_TRUE(names.count("gpu/node-01:gpu0"));  // contained in a server acme leases
  EXPECT_FALSE(names.count("server/node-03"));   // beta's
  EXPECT_FALSE(names.count("switch/leaf-01"));
  auto other = cmdb_.GetCi(tina, "server/node-03");
  auto missing = cmdb_.GetCi(tina, "server/no-such");
  EXPECT_EQ(core::Code::kNotFound, other.error().code);
  EXPECT_EQ(core::Code::kNotFound, missing.error().code);  // forbidden looks like missing
  EXPECT_TRUE(cmdb_.GetCi(tina, "gpu/node-01:gpu0"));
}

TEST_P(CmdbTest, ChangeRequestsNeedASecondPersonAndApplyAtomically) {
  BuildEstate();
  std::vector<Edit> edits = {
      {"update_ci", {{"op", "update_ci"}, {"ci", "switch/leaf-01"}, {"status", "maintenance"}}},
      {"create_ci", {{"op", "create_ci"}, {"type", "server"}, {"name", "node-04"}}},
      {"relate", {{"op", "relate"}, {"type", "located_in"}, {"from", "server/node-04"}, {"to", "rack/A02"}}}};
  auto cr = cmdb_.ProposeChange(alice_, "Leaf maintenance", "", edits).value();
  EXPECT_EQ("pending", cr.state);
  auto impact = core::json::parse(*cr.impact).as_object();
  EXPECT_GE(impact.at("affected_total").as_int64(), 5);
  EXPECT_EQ("active", cmdb_.GetCi(alice_, "switch/leaf-01")->status);  // nothing applied yet
  auto self = cmdb_.ApproveChange(alice_, cr.id, "lgtm");
  EXPECT_EQ(core::Code::kPermissionDenied, self.error().code);
  auto done = cmdb_.ApproveChange(bob_, cr.id, "ok").value();
  EXPECT_EQ("applied", done.state);
  EXPECT_EQ("maintenance", cmdb_.GetCi(alice_, "switch/leaf-01")->status);
  EXPECT_TRUE(cmdb_.GetCi(alice_, "server/node-04"));
  EXPECT_EQ(core::Code::kFailedPrecondition, cmdb_.ApproveChange(bob_, cr.id, "").error().code);
  // A change with a bad edit applies nothing.
  std::vector<Edit> bad = {
      {"create_ci", {{"op", "create_ci"}, {"type", "server"}, {"name", "node-05"}}},
      {"relate", {{"op", "relate"}, {"type", "located_in"}, {"from", "server/node-05"}, {"to", "server/node-01"}}}};
  auto cr2 = cmdb_.ProposeChange(alice_, "Broken", "", bad).value();
  auto failed = cmdb_.ApproveChange(bob_, cr2.id, "");
  ASSERT_FALSE(failed);
  EXPECT_NE(std::string::npos, failed.error().message.find("edit 2"));
  EXPECT_EQ(core::Code::kNotFound, cmdb_.GetCi(alice_, "server/node-05").error().code);
  EXPECT_EQ("failed", cmdb_.GetChange(alice_, cr2.id)->state);
  EXPECT_EQ(core::Code::kInvalidArgument,
            cmdb_.ProposeChange(alice_, "x", "", {{"explode", {{"op", "explode"}}}}).error().code);
}

TEST_P(CmdbTest, BulkImportIsAllOrNothing) {
  std::vector<std::pair<int64_t, NewCi>> cis = {
      {2, NewCi{"rack", "B01", {{"height_u", 42}}, {}, "active"}},
      {3, NewCi{"server", "b-node-1", {{"cpu_cores", 128}}, {}, "active"}},
      {4, NewCi{"server", "b-node-2", {{"cpu_cores", "lots"}}, {}, "active"}},
      {5, NewCi{"gizmo", "g1", {}, {}, "active"}}};
  std::vector<std::pair<int64_t, NewRelation>> rels = {
      {2, NewRelation{"located_in", "server/b-node-1", "rack/B01", {}, "import"}}};
  auto rep = cmdb_.Import(alice_, cis, rels, false).value();
  ASSERT_EQ(2u, rep.errors.size());
  EXPECT_EQ(4, rep.errors[0].line);
  EXPECT_EQ("cpu_cores", rep.errors[0].column);
  EXPECT_EQ(5, rep.errors[1].line);
  EXPECT_EQ(core::Code::kNotFound, cmdb_.GetCi(alice_, "rack/B01").error().code);  // nothing written
  cis.resize(2);
  auto dry = cmdb_.Import(alice_, cis, rels, true).value();
  EXPECT_TRUE(dry.errors.empty());
  EXPECT_EQ(2, dry.created);
  EXPECT_EQ(core::Code::kNotFound, cmdb_.GetCi(alice_, "rack/B01").error().code);  // dry run
  auto real = cmdb_.Import(alice_, cis, rels, false).value();
  EXPECT_EQ(2, real.created);
  EXPECT_EQ(1, real.relations);
  EXPECT_TRUE(cmdb_.GetCi(alice_, "rack/B01"));
  auto again = cmdb_.Import(alice_, cis, rels, false).value();  // re-import: updates, no conflict
  EXPECT_EQ(2, again.updated);
  EXPECT_TRUE(again.errors.empty());
  EXPECT_EQ(2, Audits("cmdb.import"));
}

TEST_P(CmdbTest, ListFiltersOnTypeAttributesRelationsAndText) {
  BuildEstate();
  EXPECT_EQ(3u, cmdb_.ListCis(alice_, CiFilter{.type = "server"})->size());
  CiFilter by_attr{.type = "switch"};
  by_attr.attr_equals = {{"role", "leaf"}};
  EXPECT_EQ(2u, cmdb_.ListCis(alice_, by_attr)->size());
  CiFilter bad_attr{.type = "switch"};
  bad_attr.attr_equals = {{"colour", "x"}};
  EXPECT_EQ("colour", cmdb_.ListCis(alice_, bad_attr).error().field);
  auto rack = cmdb_.GetCi(alice_, "rack/A01").value();
  CiFilter in_rack{.type = "server"};
  in_rack.related_to = rack.id;
  in_rack.relation = "located_in";
  EXPECT_EQ(2u, cmdb_.ListCis(alice_, in_rack)->size());
  EXPECT_EQ(6u, cmdb_.ListCis(alice_, CiFilter{.q = "H100"})->size());      // 3 servers, 3 GPUs
  EXPECT_EQ(3u, cmdb_.ListCis(alice_, CiFilter{.q = "SPINE-01"})->size());  // case-insensitive
  EXPECT_EQ(0u, cmdb_.ListCis(alice_, CiFilter{.q = "100%"})->size());      // LIKE wildcards escaped
}

GANTRY_INSTANTIATE_BACKENDS(CmdbTest);

}  // namespace
}  // namespace gantry::cmdb
