// The process runner and SlurmClient's handling of what the tools do, with small fake tools
// (shell scripts in a temp dir, SlurmClientOptions::bin_dir) standing in for sacctmgr & co.
// The real tools are exercised by integration_test.cc.
#include "integrations/slurm/exec.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "integrations/slurm/client.h"

namespace gantry::slurm {
namespace {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

class FakeTools : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/slurmfake.XXXXXX";
    ASSERT_NE(nullptr, mkdtemp(tmpl));
    dir_ = tmpl;
    // Every fake logs its argv, one per line, and its environment; then acts per FAKE_MODE.
    const std::string body = R"SH(#!/bin/sh
for a in "$@"; do printf '%s\n' "$a"; done > "$FAKE_DIR/$(basename "$0").args"
env > "$FAKE_DIR/$(basename "$0").env"
case "$FAKE_MODE" in
  ok) cat "$FAKE_DIR/out" 2>/dev/null; exit 0 ;;
  hang) sleep 30 & echo $! > "$FAKE_DIR/grandchild.pid"; sleep 30 ;;
  refused) echo "sacctmgr: error: slurm_persist_conn_open_without_init: failed to open persistent connection to host:127.0.0.1:6819: Connection refused" >&2
           echo "sacctmgr: error: Sending PersistInit msg: Connection refused" >&2; exit 1 ;;
  dbdown0) echo "sacct: error: Problem talking to the database: Connection refused" >&2; exit 0 ;;
  ctldown) echo "slurm_load_jobs error: Unable to contact slurm controller (connect failure)" >&2; exit 1 ;;
  exists) echo " Nothing new added."; exit 1 ;;
  nothing) echo " Nothing deleted"; exit 1 ;;
  active) echo " Error with request: Job(s) active, cancel job(s) before remove" >&2
          echo "  JobID = 4          C = fixture    A = acme_proj  U = root" >&2; exit 1 ;;
  badtres) echo " Unknown option: GrpTRES=gres/gpu:a100=1"
           echo "sacctmgr: error: slurmdb_format_tres_str: no TRES known by type gres/gpu:a100" >&2; exit 1 ;;
  garbage) echo "this|is|not|what|you|asked|for|at|all" ;;
  flood) yes 0123456789012345678901234567890123456789 ;;
esac
)SH";
    for (const char* tool : {"sacctmgr", "squeue", "sacct"}) {
      std::string path = dir_ + "/" + tool;
      std::ofstream(path) << body;
      ::chmod(path.c_str(), 0755);
    }
  }
  void TearDown() override {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }

  SlurmClient Client(const std::string& mode, std::chrono::milliseconds timeout = 5s) {
    SlurmClientOptions o;
    o.bin_dir = dir_;
    o.env = {{"FAKE_DIR", dir_}, {"FAKE_MODE", mode}, {"SLURM_CONF", "/etc/fake/slurm.conf"}};
    o.timeout = timeout;
    return SlurmClient(o);
  }
  void SetOutput(const std::string& text) { std::ofstream(dir_ + "/out") << text; }
  std::vector<std::string> Args(const std::string& tool) {
    std::vector<std::string> out;
    std::istringstream in(Slurp(dir_ + "/" + tool + ".args"));
    for (std::string line; std::getline(in, line);) out.push_back(line);
    return out;
  }

  std::string dir_;
};

TEST_F(FakeTools, ArgumentsArriveVerbatimWithoutAShell) {
  AccountSpec spec;
  spec.name = "acme";
  spec.description = "GPU team; $(touch /tmp/pwned) `id` && echo *";
  spec.organization = "gantry";
  spec.grp_tres = {{"gres/gpu:h100", 1}, {"mem", int64_t{2} << 30}};
  spec.qos = "gold";
  auto st = Client("ok").CreateAccount(spec);
  ASSERT_TRUE(st) << st.error().message;
  EXPECT_EQ((std::vector<std::string>{"-i", "add", "account", "name=acme", "parent=root",
                                      "description=GPU team; $(touch /tmp/pwned) `id` && echo *",
                                      "organization=gantry", "GrpTRES=gres/gpu:h100=1,mem=2048M",
                                      "qos=gold", "defaultqos=gold"}),
            Args("sacctmgr"));
}

TEST_F(FakeTools, EnvironmentIsSetAndOutputAffectingVariablesDropped) {
  ::setenv("SQUEUE_ACCOUNT", "someone_else", 1);
  ::setenv("SLURM_TIME_FORMAT", "relative", 1);
  SetOutput("");
  auto jobs = Client("ok").ListJobs({"acme"});
  ::unsetenv("SQUEUE_ACCOUNT");
  ::unsetenv("SLURM_TIME_FORMAT");
  ASSERT_TRUE(jobs) << jobs.error().message;
  std::string env = Slurp(dir_ + "/squeue.env");
  EXPECT_NE(std::string::npos, env.find("SLURM_CONF=/etc/fake/slurm.conf\n"));
  EXPECT_NE(std::string::npos, env.find("TZ=UTC\n"));
  EXPECT_NE(std::string::npos, env.find("SLURM_TIME_FORMAT=standard\n"));
  EXPECT_EQ(std::string::npos, env.find("SQUEUE_ACCOUNT"));
  EXPECT_EQ((std::vector<std::string>{"-h", "-o", "%i|%a|%u|%T|%r|%b", "--account=acme"}),
            Args("squeue"));
}

TEST_F(FakeTools, InvalidNamesAreRejectedBeforeAnythingRuns) {
  auto client = Client("ok");
  for (const std::string& bad :
       std::vector<std::string>{"", "Acme", "acme proj", "-i", "a=b", "acme;rm", "a,b", "acme\n",
                                std::string(65, 'a'), "ácme", "acme'"}) {
    auto st = client.DeleteAccount(bad);
    ASSERT_FALSE(st) << bad;
    EXPECT_EQ(core::Code::kInvalidArgument, st.error().code) << bad;
    EXPECT_FALSE(client.ListJobs({bad})) << bad;
  }
  EXPECT_FALSE(client.AddUser("bob smith", "acme"));
  EXPECT_FALSE(client.CreateAccount({.name = "acme", .description = "it's"}));
  EXPECT_FALSE(client.CreateAccount({.name = "acme", .grp_tres = {{"cpu", -4}}}));
  EXPECT_FALSE(client.CreateAccount({.name = "acme", .grp_tres = {{"cpu,mem", 4}}}));
  EXPECT_FALSE(client.ModifyAccount("acme", {}));
  EXPECT_FALSE(fs::exists(dir_ + "/sacctmgr.args"));
  EXPECT_FALSE(fs::exists(dir_ + "/squeue.args"));
}

TEST_F(FakeTools, TimeoutKillsTheToolAndItsChildren) {
  auto start = std::chrono::steady_clock::now();
  auto r = Client("hang", 400ms).ListJobs();
  auto took = std::chrono::steady_clock::now() - start;
  ASSERT_FALSE(r);
  EXPECT_EQ(core::Code::kUnavailable, r.error().code);
  EXPECT_NE(std::string::npos, r.error().message.find("squeue did not finish within 400 ms"))
      << r.error().message;
  EXPECT_LT(took, 2s);
  // The tool's own child (same process group) is gone too.
  pid_t grandchild = std::stoi(Slurp(dir_ + "/grandchild.pid"));
  bool gone = false;
  for (int i = 0; i < 100 && !gone; ++i) {
    std::string stat = Slurp("/proc/" + std::to_string(grandchild) + "/stat");
    gone = stat.empty() || stat.find(") Z ") != std::string::npos;
    if (!gone) std::this_thread::sleep_for(20ms);
  }
  EXPECT_TRUE(gone) << "pid " << grandchild << " survived";
}

TEST_F(FakeTools, FailuresMapToCodesWithTheToolsFirstLine) {
  auto refused = Client("refused").ListAccounts();
  ASSERT_FALSE(refused);
  EXPECT_EQ(core::Code::kUnavailable, refused.error().code);
  EXPECT_NE(std::string::npos, refused.error().message.find("Connection refused"));

  auto db0 = Client("dbdown0").ListJobRecords({.start = 0, .end = 1});
  ASSERT_FALSE(db0);
  EXPECT_EQ(core::Code::kUnavailable, db0.error().code) << db0.error().message;

  auto ctl = Client("ctldown").ListJobs();
  ASSERT_FALSE(ctl);
  EXPECT_EQ(core::Code::kUnavailable, ctl.error().code);
  EXPECT_NE(std::string::npos, ctl.error().message.find("Unable to contact slurm controller"));

  auto exists = Client("exists").CreateQos("gold");
  ASSERT_FALSE(exists);
  EXPECT_EQ(core::Code::kConflict, exists.error().code) << exists.error().message;

  auto nothing = Client("nothing").DeleteAccount("ghost");
  ASSERT_FALSE(nothing);
  EXPECT_EQ(core::Code::kNotFound, nothing.error().code) << nothing.error().message;

  auto active = Client("active").DeleteAccount("acme_proj");
  ASSERT_FALSE(active);
  EXPECT_EQ(core::Code::kFailedPrecondition, active.error().code);
  EXPECT_NE(std::string::npos, active.error().message.find("Job(s) active"));

  AccountChange ch;
  ch.grp_tres_set = {{"gres/gpu:a100", 1}};
  auto bad = Client("badtres").ModifyAccount("acme", ch);
  ASSERT_FALSE(bad);
  EXPECT_EQ(core::Code::kInvalidArgument, bad.error().code);
  EXPECT_EQ(
      "sacctmgr exited with status 1: sacctmgr: error: slurmdb_format_tres_str: no TRES known "
      "by type gres/gpu:a100",
      bad.error().message);

  auto garbage = Client("garbage").ListJobs();
  ASSERT_FALSE(garbage);
  EXPECT_EQ(core::Code::kInvalidArgument, garbage.error().code);
  EXPECT_NE(std::string::npos, garbage.error().message.find("squeue output, line 1"));
}

TEST_F(FakeTools, MissingToolIsUnavailable) {
  auto r = Client("ok").PingController();  // no fake scontrol
  ASSERT_FALSE(r);
  EXPECT_EQ(core::Code::kUnavailable, r.error().code);
  EXPECT_NE(std::string::npos, r.error().message.find("scontrol cannot be run"))
      << r.error().message;
}

TEST_F(FakeTools, ListJobRecordsPassesTheWindowInUtc) {
  SetOutput(
      "1|acme|root|COMPLETED|2026-11-25T12:58:26|2026-11-25T12:58:30|4|cpu=1,gres/gpu:h100=1\n");
  JobRecordQuery q;
  q.start = int64_t{1'764'000'000} * core::kNanosPerSecond;  // 2025-11-24T16:00:00Z
  q.end = q.start + 3600 * core::kNanosPerSecond;
  q.accounts = {"acme", "acme_proj"};
  auto r = Client("ok").ListJobRecords(q);
  ASSERT_TRUE(r) << r.error().message;
  ASSERT_EQ(1u, r->size());
  EXPECT_EQ(1, (*r)[0].alloc_tres.at("gres/gpu:h100"));
  EXPECT_EQ(
      (std::vector<std::string>{"-P", "-n", "-X",
                                "--format=JobID,Account,User,State,Start,End,ElapsedRaw,AllocTRES",
                                "-S", "2025-11-24T16:00:00", "-E", "2025-11-24T17:00:00", "-a",
                                "--accounts=acme,acme_proj"}),
      Args("sacct"));
  EXPECT_FALSE(Client("ok").ListJobRecords({.start = 2, .end = 1}));
}

TEST(SlurmExec, TooMuchOutputIsCut) {
  ExecRequest req;
  req.argv = {"yes"};
  req.max_output = 1 << 16;
  auto r = Exec(req);
  EXPECT_EQ(ExecResult::Outcome::kTooMuchOutput, r.outcome);
}

TEST(SlurmExec, ExitCodesStdoutAndStderrAreSeparate) {
  ExecRequest req;
  req.argv = {"/bin/sh", "-c", "echo out; echo err >&2; exit 3"};
  auto r = Exec(req);
  ASSERT_EQ(ExecResult::Outcome::kExited, r.outcome) << r.error;
  EXPECT_EQ(3, r.exit_code);
  EXPECT_EQ("out\n", r.out);
  EXPECT_EQ("err\n", r.err);
  req.argv = {"/no/such/program"};
  EXPECT_EQ(ExecResult::Outcome::kNotFound, Exec(req).outcome);
}

TEST(SlurmExec, ConcurrentCallsDoNotMixOutputs) {
  std::vector<std::thread> threads;
  std::atomic<int> good{0};
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([t, &good] {
      for (int i = 0; i < 10; ++i) {
        ExecRequest req;
        req.argv = {"/bin/echo", std::to_string(t) + "-" + std::to_string(i)};
        auto r = Exec(req);
        if (r.outcome == ExecResult::Outcome::kExited && r.exit_code == 0 &&
            r.out == std::to_string(t) + "-" + std::to_string(i) + "\n") {
          ++good;
        }
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(80, good.load());
}

}  // namespace
}  // namespace gantry::slurm
