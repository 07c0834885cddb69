// The reconcile planner on snapshots: what counts as drift, what is Gantry's, and which minimal
// sacctmgr commands repair it. Applying them against a real Slurm is in integration_test.cc.
#include "integrations/slurm/reconcile.h"

#include <gtest/gtest.h>

namespace gantry::slurm {
namespace {

constexpr int64_t kGiB = int64_t{1} << 30;

AccountInfo Acct(std::string name, std::string parent, TresMap tres = {},
                 std::string org = "gantry", std::vector<std::string> users = {}) {
  AccountInfo a;
  a.name = std::move(name);
  a.cluster = "fixture";
  a.parent = std::move(parent);
  a.organization = std::move(org);
  a.grp_tres = std::move(tres);
  a.qos = {"normal"};
  a.users = std::move(users);
  return a;
}

std::vector<AccountInfo> Root() {
  auto root = Acct("root", "", {}, "root", {"root"});
  return {root};
}

std::vector<std::string> Commands(const DriftReport& r) {
  std::vector<std::string> out;
  for (const auto& a : r.actions) out.push_back(a.command.ToString());
  return out;
}

class Plan : public ::testing::Test {
 protected:
  core::Result<DriftReport> Run(const std::vector<AccountInfo>& actual,
                                const std::vector<DesiredAccount>& desired,
                                ReconcileOptions options = {}) {
    return PlanReconcile(client_, actual, {"normal", "gold"}, desired, options);
  }
  SlurmClient client_{SlurmClientOptions{}};
};

TEST_F(Plan, MissingAccountsAreCreatedParentsFirst) {
  std::vector<DesiredAccount> desired = {
      {.name = "acme_proj",
       .parent = "acme",
       .grp_tres = {{"gres/gpu:h100", 1}},
       .users = {{"root"}}},
      {.name = "acme", .grp_tres = {{"gres/gpu:h100", 1}, {"mem", 64 * kGiB}}},
  };
  auto r = Run(Root(), desired);
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->in_sync());
  ASSERT_EQ(2u, r->accounts.size());
  EXPECT_EQ(DriftKind::kMissing, r->accounts[0].kind);
  EXPECT_EQ(
      (std::vector<std::string>{
          "sacctmgr -i add account name=acme parent=root 'description=managed by gantry' "
          "organization=gantry GrpTRES=gres/gpu:h100=1,mem=65536M",
          "sacctmgr -i add account name=acme_proj parent=acme 'description=managed by gantry' "
          "organization=gantry GrpTRES=gres/gpu:h100=1",
          "sacctmgr -i add user name=root account=acme_proj"}),
      Commands(*r));
  for (const auto& a : r->actions) EXPECT_EQ(RepairAction::State::kPlanned, a.state);
}

TEST_F(Plan, InSyncMeansNoDriftAndNoActions) {
  auto actual = Root();
  actual.push_back(Acct("acme", "root", {{"gres/gpu:h100", 1}, {"mem", 2 * kGiB}}));
  actual.push_back(Acct("acme_proj", "acme", {{"gres/gpu:h100", 1}}, "gantry", {"root"}));
  // 2 GiB + 100 bytes is stored by Slurm as 2048M: no drift.
  auto r =
      Run(actual, {{.name = "acme", .grp_tres = {{"gres/gpu:h100", 1}, {"mem", 2 * kGiB + 100}}},
                   {.name = "acme_proj",
                    .parent = "acme",
                    .grp_tres = {{"gres/gpu:h100", 1}},
                    .users = {{"root"}}}});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->in_sync()) << r->ToString();
  EXPECT_TRUE(r->actions.empty());
  EXPECT_EQ("report: in sync", r->ToString());
}

TEST_F(Plan, ChangedLimitsAreReportedWithExpectedAndActualAndRepairedInOneCommand) {
  auto actual = Root();
  actual.push_back(Acct("acme", "root", {{"gres/gpu:h100", 5}, {"cpu", 16}}));
  auto r = Run(actual, {{.name = "acme", .grp_tres = {{"gres/gpu:h100", 1}, {"mem", kGiB}}}});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(1u, r->accounts.size());
  const AccountDrift& d = r->accounts[0];
  EXPECT_EQ(DriftKind::kChanged, d.kind);
  EXPECT_EQ((std::vector<LimitDrift>{
                {"cpu", std::nullopt, 16}, {"gres/gpu:h100", 1, 5}, {"mem", kGiB, std::nullopt}}),
            d.limits);
  EXPECT_EQ(
      "acme: changed: GrpTRES cpu expected none, actual 16; GrpTRES gres/gpu:h100 expected 1, "
      "actual 5; GrpTRES mem expected 1024M, actual none",
      d.ToString());
  EXPECT_EQ((std::vector<std::string>{"sacctmgr -i modify account where name=acme set "
                                      "GrpTRES=cpu=-1,gres/gpu:h100=1,mem=1024M"}),
            Commands(*r));
}

TEST_F(Plan, ParentQosAndUsers) {
  auto actual = Root();
  actual.push_back(Acct("acme", "root"));
  actual.push_back(Acct("beta", "root"));
  actual.push_back(Acct("proj", "acme", {}, "gantry", {"alice", "mallory"}));
  auto r =
      Run(actual, {{.name = "acme"},
                   {.name = "beta"},
                   {.name = "proj", .parent = "beta", .qos = "gold", .users = {{"bob", "alice"}}}});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(1u, r->accounts.size());
  const AccountDrift& d = r->accounts[0];
  EXPECT_EQ("beta", d.expected_parent);
  EXPECT_EQ("acme", d.actual_parent);
  EXPECT_EQ("gold", d.expected_qos);
  EXPECT_EQ(std::vector<std::string>{"bob"}, d.missing_users);
  EXPECT_EQ(std::vector<std::string>{"mallory"}, d.extra_users);
  EXPECT_EQ((std::vector<std::string>{
                "sacctmgr -i modify account where name=proj set parent=beta",
                "sacctmgr -i modify account where name=proj set qos=gold defaultqos=gold",
                "sacctmgr -i add user name=bob account=proj",
                "sacctmgr -i delete user where name=mallory account=proj"}),
            Commands(*r));
}

TEST_F(Plan, MissingQosIsCreatedFirst) {
  auto r = PlanReconcile(client_, Root(), {"normal"}, {{.name = "acme", .qos = "gold"}}, {});
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(std::vector<std::string>{"gold"}, r->missing_qos);
  ASSERT_EQ(2u, r->actions.size());
  EXPECT_EQ("sacctmgr -i add qos name=gold", r->actions[0].command.ToString());
}

TEST_F(Plan, ExtraManagedAccountsAreDeletedChildrenFirstAndUnmanagedOnesNeverTouched) {
  auto actual = Root();
  actual.push_back(Acct("acme", "root"));
  actual.push_back(Acct("old", "root"));
  actual.push_back(Acct("old_proj", "old"));
  actual.push_back(Acct("physics", "root", {{"cpu", 100}}, "physics"));  // not Gantry's
  actual.push_back(Acct("mixed", "root"));                               // Gantry's, but...
  actual.push_back(Acct("theirs", "mixed", {}, "physics"));              // ...holds theirs
  auto r = Run(actual, {{.name = "acme"}});
  ASSERT_TRUE(r) << r.error().message;
  std::vector<std::string> drifted;
  for (const auto& d : r->accounts) {
    drifted.push_back(d.account + ":" + std::string(DriftKindName(d.kind)));
  }
  EXPECT_EQ((std::vector<std::string>{"mixed:extra", "old:extra", "old_proj:extra"}), drifted);
  ASSERT_EQ(3u, r->actions.size());
  EXPECT_EQ("sacctmgr -i delete account where name=old_proj", r->actions[0].command.ToString());
  EXPECT_EQ("sacctmgr -i delete account where name=mixed", r->actions[1].command.ToString());
  EXPECT_EQ(RepairAction::State::kSkipped, r->actions[1].state);
  EXPECT_NE(std::string::npos, r->actions[1].error.find("theirs"));
  EXPECT_EQ("sacctmgr -i delete account where name=old", r->actions[2].command.ToString());

  // Only reported when deleting is off.
  ReconcileOptions keep;
  keep.delete_extra = false;
  auto k = Run(actual, {{.name = "acme"}}, keep);
  ASSERT_TRUE(k);
  EXPECT_EQ(3u, k->accounts.size());
  EXPECT_TRUE(k->actions.empty());
}

TEST_F(Plan, ADesiredNameHeldByAnUnmanagedAccountIsReportedNotChanged) {
  auto actual = Root();
  actual.push_back(Acct("physics", "root", {{"cpu", 100}}, "physics"));
  auto r = Run(actual, {{.name = "physics", .grp_tres = {{"cpu", 8}}}});
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(1u, r->accounts.size());
  EXPECT_EQ(DriftKind::kUnmanaged, r->accounts[0].kind);
  EXPECT_TRUE(r->actions.empty());
}

TEST_F(Plan, PrefixMarksAccountsAsManagedToo) {
  auto actual = Root();
  actual.push_back(Acct("gx_stale", "root", {}, "whoever"));
  actual.push_back(Acct("physics", "root", {}, "physics"));
  ReconcileOptions o;
  o.organization = "gantry-prod";
  o.managed_prefix = "gx_";
  auto r = Run(actual, {}, o);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(1u, r->accounts.size());
  EXPECT_EQ("gx_stale", r->accounts[0].account);
  EXPECT_EQ(DriftKind::kExtra, r->accounts[0].kind);
}

TEST_F(Plan, ClusterOptionGoesIntoEveryCommand) {
  SlurmClient c(SlurmClientOptions{.cluster = "gpu1"});
  auto r = PlanReconcile(c, Root(), {"normal"}, {{.name = "acme", .users = {{"root"}}}}, {});
  ASSERT_TRUE(r) << r.error().message;
  for (const auto& a : r->actions) {
    EXPECT_NE(std::string::npos, a.command.ToString().find("cluster=gpu1")) << a.command.ToString();
  }
}

TEST_F(Plan, BadDesiredSetsAreRejected) {
  auto actual = Root();
  for (const auto& bad : std::vector<std::vector<DesiredAccount>>{
           {{.name = "Acme"}},
           {{.name = "root"}},
           {{.name = "a"}, {.name = "a"}},
           {{.name = "a", .parent = "nowhere"}},
           {{.name = "a", .parent = "b"}, {.name = "b", .parent = "a"}},
           {{.name = "a", .parent = "a"}},
           {{.name = "a", .grp_tres = {{"cpu", -1}}}},
           {{.name = "a", .grp_tres = {{"cpu=1,mem", 1}}}},
           {{.name = "a", .qos = "Gold Plus"}},
           {{.name = "a", .users = {{"bob; rm"}}}},
       }) {
    auto r = Run(actual, bad);
    ASSERT_FALSE(r) << bad[0].name;
    EXPECT_EQ(core::Code::kInvalidArgument, r.error().code);
  }
  // The same account on two clusters, with no cluster configured: ambiguous.
  actual.push_back(Acct("acme", "root"));
  actual.push_back(Acct("acme", "root"));
  auto two = Run(actual, {});
  ASSERT_FALSE(two);
  EXPECT_EQ(core::Code::kFailedPrecondition, two.error().code);
}

}  // namespace
}  // namespace gantry::slurm
