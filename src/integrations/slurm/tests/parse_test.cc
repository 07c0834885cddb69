// Parsers of sacctmgr, squeue and sacct output. The inputs are real outputs, captured from the
// test Slurm (22.05.8, tests/support/slurm_fixture.h) with exactly the commands the client runs
// (lines of two capture sessions joined, with job ids renumbered where they collided).
#include "integrations/slurm/parse.h"

#include <gtest/gtest.h>

namespace gantry::slurm {
namespace {

constexpr int64_t kGiB = int64_t{1} << 30;

// sacctmgr -P -n show assoc format=cluster,account,parentname,user,grptres,qos,defaultqos
constexpr std::string_view kAssocOutput =
    "fixture|root||||normal|\n"
    "fixture|root||root||normal|\n"
    "fixture|acme|root||gres/gpu:h100=1|normal|\n"
    "fixture|acme2|root|||normal|\n"
    "fixture|acme_proj|acme2||cpu=4,gres/gpu:h100=1,mem=2G,node=2|gold|gold\n"
    "fixture|acme_proj||root||gold|gold\n"
    "fixture|other|root|||normal|\n";

// sacctmgr -P -n show account format=account,organization,description
constexpr std::string_view kAccountOutput =
    "acme|gantry|managed by gantry\n"
    "acme2|gantry|acme2\n"
    "acme_proj|gantry|moved\n"
    "other|physics|someone else`s | with pipe\n"
    "root|root|default root account\n";

// squeue -h -o '%i|%a|%u|%T|%r|%b'
constexpr std::string_view kQueueOutput =
    "3|acme2|root|PENDING|Resources|gres:gpu:h100:8\n"
    "5|acme_proj|root|PENDING|Priority|gres:gpu:h100:1\n"
    "6|acme_proj|root|PENDING|AssocGrpGRES|gres:gpu:h100:1\n"
    "1|acme2|root|RUNNING|None|gres:gpu:h100:8\n"
    "4|acme2|root|RUNNING|None|N/A\n";

// TZ=UTC SLURM_TIME_FORMAT=standard sacct -P -n -X -a
//   --format=JobID,Account,User,State,Start,End,ElapsedRaw,AllocTRES -S ... -E ...
constexpr std::string_view kSacctOutput =
    "1|acme_proj|root|COMPLETED|2026-11-25T12:58:26|2026-11-25T12:58:30|4|"
    "billing=1,cpu=1,gres/gpu:h100=1,gres/gpu=1,node=1\n"
    "3|acme_proj|root|CANCELLED by 0|2026-11-25T12:58:37|2026-11-25T12:58:43|6|"
    "billing=2,cpu=2,gres/gpu:h100=1,gres/gpu=1,node=1\n"
    "4|acme_proj|root|RUNNING|2026-11-25T12:59:01|Unknown|7|"
    "billing=1,cpu=1,gres/gpu:h100=1,gres/gpu=1,node=1\n"
    "5|acme_proj|root|PENDING|Unknown|Unknown|0|\n"
    "7|acme2|root|COMPLETED|2026-11-25T13:11:37|2026-11-25T13:11:45|8|"
    "billing=1,cpu=1,gres/gpu:h100=8,gres/gpu=8,node=1\n";

TEST(SlurmParse, Associations) {
  auto r = ParseAssociations(kAssocOutput);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(7u, r->size());
  const Association& root = (*r)[0];
  EXPECT_EQ("fixture", root.cluster);
  EXPECT_EQ("root", root.account);
  EXPECT_EQ("", root.parent);
  EXPECT_EQ("", root.user);
  EXPECT_TRUE(root.grp_tres.empty());
  EXPECT_EQ(std::vector<std::string>{"normal"}, root.qos);
  EXPECT_EQ("", root.default_qos);
  EXPECT_EQ("root", (*r)[1].user);

  const Association& proj = (*r)[4];
  EXPECT_EQ("acme_proj", proj.account);
  EXPECT_EQ("acme2", proj.parent);
  EXPECT_EQ((TresMap{{"cpu", 4}, {"gres/gpu:h100", 1}, {"mem", 2 * kGiB}, {"node", 2}}),
            proj.grp_tres);
  EXPECT_EQ(std::vector<std::string>{"gold"}, proj.qos);
  EXPECT_EQ("gold", proj.default_qos);
  EXPECT_EQ("root", (*r)[5].user);
  EXPECT_EQ("", (*r)[5].parent);
}

TEST(SlurmParse, AccountsKeepAPipeInTheDescription) {
  auto r = ParseAccountRows(kAccountOutput);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(5u, r->size());
  EXPECT_EQ("acme", (*r)[0].name);
  EXPECT_EQ("gantry", (*r)[0].organization);
  EXPECT_EQ("managed by gantry", (*r)[0].description);
  EXPECT_EQ("physics", (*r)[3].organization);
  EXPECT_EQ("someone else`s | with pipe", (*r)[3].description);
}

TEST(SlurmParse, MergeAccountsJoinsAssociationsUsersAndDescriptions) {
  auto assocs = ParseAssociations(kAssocOutput);
  auto rows = ParseAccountRows(std::string(kAccountOutput) + "lonely|x|no association here\n");
  ASSERT_TRUE(assocs && rows);
  auto accounts = MergeAccounts(*assocs, *rows, "fixture");
  ASSERT_EQ(6u, accounts.size());
  EXPECT_EQ("acme", accounts[0].name);
  EXPECT_EQ("acme_proj", accounts[2].name);
  EXPECT_EQ("acme2", accounts[2].parent);
  EXPECT_EQ("gantry", accounts[2].organization);
  EXPECT_EQ(std::vector<std::string>{"root"}, accounts[2].users);
  EXPECT_EQ(2 * kGiB, accounts[2].grp_tres.at("mem"));
  EXPECT_EQ("lonely", accounts[3].name);
  EXPECT_FALSE(accounts[3].has_association);
  EXPECT_EQ("root", accounts[5].name);
  EXPECT_EQ(std::vector<std::string>{"root"}, accounts[5].users);
  EXPECT_TRUE(accounts[5].has_association);
  // Another cluster's associations are ignored when a cluster is given.
  EXPECT_TRUE(MergeAccounts(*assocs, {}, "elsewhere").empty());
}

TEST(SlurmParse, Queue) {
  auto r = ParseQueue(kQueueOutput);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(5u, r->size());
  EXPECT_EQ("3", (*r)[0].job_id);
  EXPECT_EQ("acme2", (*r)[0].account);
  EXPECT_EQ("root", (*r)[0].user);
  EXPECT_EQ("PENDING", (*r)[0].state);
  EXPECT_EQ("Resources", (*r)[0].reason);
  EXPECT_EQ("gres:gpu:h100:8", (*r)[0].tres_per_node);
  EXPECT_EQ("AssocGrpGRES", (*r)[2].reason);
  EXPECT_EQ("RUNNING", (*r)[3].state);
  EXPECT_EQ("None", (*r)[3].reason);
  EXPECT_EQ("N/A", (*r)[4].tres_per_node);
  auto empty = ParseQueue("");
  ASSERT_TRUE(empty);
  EXPECT_TRUE(empty->empty());
}

TEST(SlurmParse, JobRecordsWithTresInBaseUnits) {
  auto r = ParseJobRecords(kSacctOutput);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(5u, r->size());
  const JobRecord& done = (*r)[0];
  EXPECT_EQ("1", done.job_id);
  EXPECT_EQ("acme_proj", done.account);
  EXPECT_EQ("root", done.user);
  EXPECT_EQ("COMPLETED", done.state);
  EXPECT_EQ("", done.state_detail);
  ASSERT_TRUE(done.start && done.end);
  auto start = ParseSlurmTime("2026-11-25T12:58:26");
  ASSERT_TRUE(start && *start);
  EXPECT_EQ(**start, *done.start);
  EXPECT_EQ(4 * core::kNanosPerSecond, *done.end - *done.start);
  EXPECT_EQ(4, done.elapsed_seconds);
  EXPECT_EQ(
      (TresMap{{"billing", 1}, {"cpu", 1}, {"gres/gpu:h100", 1}, {"gres/gpu", 1}, {"node", 1}}),
      done.alloc_tres);

  EXPECT_EQ("CANCELLED", (*r)[1].state);
  EXPECT_EQ("by 0", (*r)[1].state_detail);
  EXPECT_EQ("RUNNING", (*r)[2].state);
  EXPECT_TRUE((*r)[2].start.has_value());
  EXPECT_FALSE((*r)[2].end.has_value());
  EXPECT_EQ("PENDING", (*r)[3].state);
  EXPECT_FALSE((*r)[3].start.has_value());
  EXPECT_TRUE((*r)[3].alloc_tres.empty());
  EXPECT_EQ(8, (*r)[4].alloc_tres.at("gres/gpu:h100"));
}

TEST(SlurmParse, MemoryInAllocTresBecomesBytes) {
  auto r = ParseJobRecords(
      "9|acme|alice|COMPLETED|2026-11-25T10:00:00|2026-11-25T11:00:00|3600|"
      "billing=2,cpu=2,gres/gpu:h100=1,gres/gpu=1,mem=1G,node=1\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(kGiB, (*r)[0].alloc_tres.at("mem"));
  EXPECT_EQ(3600, (*r)[0].elapsed_seconds);
}

TEST(SlurmParse, TimesAreUtc) {
  auto t = ParseSlurmTime("1970-01-02T00:00:01");
  ASSERT_TRUE(t && *t);
  EXPECT_EQ((86400 + 1) * core::kNanosPerSecond, **t);
  EXPECT_EQ("2026-11-25T12:58:26", FormatSlurmTime(**ParseSlurmTime("2026-11-25T12:58:26")));
  EXPECT_EQ("2024-02-29T23:59:59", FormatSlurmTime(**ParseSlurmTime("2024-02-29T23:59:59")));
  for (auto none : {"Unknown", "None", ""}) {
    auto n = ParseSlurmTime(none);
    ASSERT_TRUE(n);
    EXPECT_FALSE(n->has_value()) << none;
  }
  for (auto bad : {"2026-11-25 12:58:26", "11/25-12:58:26", "2026-13-01T00:00:00", "now",
                   "2026-11-25T12:58"}) {
    EXPECT_FALSE(ParseSlurmTime(bad)) << bad;
  }
}

// Malformed lines: an error that names the tool, the line and what is wrong; never a crash.
TEST(SlurmParse, MalformedLinesAreErrorsThatSayWhere) {
  auto a = ParseAssociations("fixture|root||||normal|\nfixture|acme|root||gres/gpu:h100=1\n");
  ASSERT_FALSE(a);
  EXPECT_EQ(core::Code::kInvalidArgument, a.error().code);
  EXPECT_NE(std::string::npos, a.error().message.find("line 2")) << a.error().message;
  EXPECT_NE(std::string::npos, a.error().message.find("expected 7 fields")) << a.error().message;

  auto t = ParseAssociations("fixture|acme|root||gres/gpu:h100=lots|normal|\n");
  ASSERT_FALSE(t);
  EXPECT_NE(std::string::npos, t.error().message.find("gres/gpu:h100=lots")) << t.error().message;

  EXPECT_FALSE(ParseAssociations("fixture||root||||\n"));  // no account name
  EXPECT_FALSE(ParseQueue("1|acme|root|RUNNING|None\n"));  // 5 fields
  EXPECT_FALSE(ParseQueue("1|acme|root|running|None|N/A\n"));
  EXPECT_FALSE(ParseQueue("|acme|root|RUNNING|None|N/A\n"));
  EXPECT_FALSE(ParseJobRecords("1|acme|root|COMPLETED|2026-11-25T12:58:26|Unknown|x|\n"));
  EXPECT_FALSE(ParseJobRecords("1|acme|root|COMPLETED|yesterday|Unknown|4|\n"));
  EXPECT_FALSE(ParseJobRecords("1|acme|root|COMPLETED|Unknown|Unknown|4|cpu=1,cpu=2\n"));
  EXPECT_FALSE(ParseJobRecords("1|acme|root|COMPLETED|Unknown|Unknown|4\n"));
  EXPECT_FALSE(ParseAccountRows("acme|gantry\n"));
  EXPECT_FALSE(ParseNames("normal\ngold silver\n"));
  // Garbage of every kind.
  for (std::string_view junk : {"\x01\x02|||", "||||||||||||||||", "sacctmgr: error: oops",
                                "\n\n|\n", "a|b|c|d|e|f|g|h|i"}) {
    (void)ParseAssociations(junk);
    (void)ParseQueue(junk);
    (void)ParseJobRecords(junk);
    (void)ParseAccountRows(junk);
  }
}

TEST(SlurmParse, CrLfAndBlankLinesAreTolerated) {
  auto r = ParseQueue("1|acme|root|RUNNING|None|N/A\r\n\n2|acme|root|PENDING|Priority|N/A\r\n");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(2u, r->size());
  EXPECT_EQ("N/A", (*r)[0].tres_per_node);
}

}  // namespace
}  // namespace gantry::slurm
