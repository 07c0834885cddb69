// Tests of the test-support library itself: child processes, ports, temp dirs, backends.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>

#include "support/process.h"
#include "support/test_db.h"

namespace gantry::testing {
namespace {

using namespace std::chrono_literals;

TEST(Process, ExitStatusOutputStdinEnvAndCwd) {
  std::string dir = MakeTempDir("proc-test");
  SpawnOptions o;
  o.args = {"/bin/sh", "-c", "pwd; echo \"$GREETING\"; cat; echo err >&2; exit 3"};
  o.env = {{"GREETING", "hello"}};
  o.log_file = dir + "/log";
  o.stdin_data = "from stdin\n";
  o.cwd = dir;
  Process p = Process::Spawn(o);
  EXPECT_GT(p.pid(), 0);
  EXPECT_EQ(p.Wait(10s), 3);
  EXPECT_FALSE(p.Running());
  EXPECT_EQ(ReadFile(dir + "/log"), dir + "\nhello\nfrom stdin\nerr\n");
}

TEST(Process, WaitTimesOutAndSignalsAreReported) {
  Process p = Process::Spawn({.args = {"sleep", "30"}});
  EXPECT_TRUE(p.Running());
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(p.Wait(50ms), std::nullopt);
  EXPECT_GE(std::chrono::steady_clock::now() - start, 50ms);
  p.Signal(SIGTERM);
  EXPECT_EQ(p.Wait(10s), 128 + SIGTERM);
  EXPECT_EQ(p.Wait(0ms), 128 + SIGTERM);  // remembered
}

TEST(Process, DestructorKillsAndMoveTransfersOwnership) {
  pid_t pid;
  {
    Process a = Process::Spawn({.args = {"sleep", "30"}});
    pid = a.pid();
    Process b = std::move(a);
    EXPECT_EQ(a.pid(), -1);
    EXPECT_EQ(b.pid(), pid);
  }
  EXPECT_NE(::kill(pid, 0), 0);  // killed and reaped
}

TEST(Process, LargeStdinToAChildThatDoesNotReadDoesNotBlock) {
  Process p = Process::Spawn({.args = {"/bin/true"}, .stdin_data = std::string(4 << 20, 'x')});
  EXPECT_EQ(p.Wait(10s), 0);
}

TEST(Process, SpawnFailureThrows) {
  EXPECT_THROW(Process::Spawn({.args = {"/nonexistent/program"}}), std::runtime_error);
  EXPECT_THROW(Process::Spawn({.args = {"/bin/true"}, .cwd = "/nonexistent"}), std::runtime_error);
  EXPECT_THROW(Process::Spawn({}), std::runtime_error);
}

TEST(Process, RunAsUser) {
  if (geteuid() != 0) GTEST_SKIP() << "needs root";
  std::string dir = MakeTempDir("proc-user");
  ::chmod(dir.c_str(), 0777);
  SpawnOptions o{.args = {"/bin/sh", "-c", "id -un; id -G"},
                 .log_file = dir + "/log",
                 .run_as_user = "nobody",
                 .cwd = dir};
  Process p = Process::Spawn(o);
  EXPECT_EQ(p.Wait(10s), 0);
  std::string out = ReadFile(dir + "/log");
  EXPECT_EQ(out.substr(0, out.find('\n')), "nobody");
  EXPECT_EQ(out.find(" 0"), std::string::npos) << out;  // no supplementary root group
}

// Inside a TEST body, plain `Run` names testing::Test::Run: qualify it.
TEST(Run, CollectsOutputAndStatus) {
  RunResult r = ::gantry::testing::Run({"/bin/sh", "-c", "tr a-z A-Z; echo $X >&2; exit 2"},
                                       "abc\n", 10s, {{"X", "y"}});
  EXPECT_EQ(r.status, 2);
  EXPECT_EQ(r.output, "ABC\ny\n");
  r = ::gantry::testing::Run({"sleep", "30"}, {}, 1s);
  EXPECT_EQ(r.status, -1);  // timed out, killed
}

TEST(FreePort, GivesABindablePort) {
  int a = FreePort();
  EXPECT_GT(a, 1024);
  EXPECT_LT(a, 65536);
}

TEST(MakeTempDir, CreatesDistinctDirectories) {
  std::string a = MakeTempDir(), b = MakeTempDir("x");
  EXPECT_NE(a, b);
  EXPECT_TRUE(std::filesystem::is_directory(a));
  EXPECT_TRUE(std::filesystem::is_directory(b));
  EXPECT_EQ(b.rfind("/tmp/x.", 0), 0u);
}

TEST(TestBackends, ReadsTheEnvironment) {
  const char* old = std::getenv("GANTRY_TEST_BACKENDS");
  std::string saved = old ? old : "";
  ::setenv("GANTRY_TEST_BACKENDS", "postgres", 1);
  EXPECT_EQ(TestBackends(), std::vector<store::Backend>{store::Backend::kPostgres});
  ::setenv("GANTRY_TEST_BACKENDS", "sqlite, postgres", 1);
  EXPECT_EQ(TestBackends(),
            (std::vector<store::Backend>{store::Backend::kSqlite, store::Backend::kPostgres}));
  ::setenv("GANTRY_TEST_BACKENDS", "oracle", 1);
  EXPECT_THROW(TestBackends(), std::invalid_argument);
  ::unsetenv("GANTRY_TEST_BACKENDS");
  EXPECT_EQ(TestBackends().size(), 2u);
  if (old) ::setenv("GANTRY_TEST_BACKENDS", saved.c_str(), 1);
}

TEST(NewTestDatabaseUrl, SqliteUrlsAreDistinct) {
  std::string a = NewTestDatabaseUrl(store::Backend::kSqlite);
  std::string b = NewTestDatabaseUrl(store::Backend::kSqlite);
  EXPECT_NE(a, b);
  EXPECT_EQ(a.rfind("sqlite:/tmp/", 0), 0u);
}

}  // namespace
}  // namespace gantry::testing
