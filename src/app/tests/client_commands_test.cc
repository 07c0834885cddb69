// The client commands end to end against a fake HTTP server: what they send, what they print,
// and the exit codes they end with.
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "app/client/config.h"
#include "app/client/output.h"
#include "app/commands.h"
#include "app/tests/client_test_util.h"
#include "app/tests/fake_http_server.h"
#include "core/json.h"

namespace gantry::app::testing {
namespace {

namespace json = core::json;

const char* kWhoAmI =
    R"({"id":1,"username":"alice","roles":["admin"],"tenants":[{"id":2,"tenant":"acme","role":"tenant-admin"}],"auth":"token"})";

bool Has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

json::value Body(const HttpRequest& r) { return json::parse(r.body); }

HttpReply Json(const std::string& body, int status = 200) {
  HttpReply r;
  r.status = status;
  r.body = body;
  return r;
}

class ClientCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v :
         {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"}) {
      ::unsetenv(v);
    }
    config_ = tmp_.path() / "gantry" / "config.yaml";
  }

  std::map<std::string, std::string> Env(std::map<std::string, std::string> extra = {}) {
    extra["GANTRY_CONFIG"] = config_.string();
    return extra;
  }

  TempDir tmp_;
  std::filesystem::path config_;
};

TEST_F(ClientCommandsTest, WhoAmISendsTheTokenAndUserAgent) {
  FakeHttpServer server([](const HttpRequest&) { return Json(kWhoAmI); });
  auto r = RunCli({"whoami", "--server", server.url()}, Env({{"GANTRY_TOKEN", "gty_abc"}}));
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("SERVER        " + server.url() +
                "\n"
                "ID            1\n"
                "USERNAME      alice\n"
                "DISPLAY NAME  -\n"
                "ROLES         admin\n"
                "TENANTS       acme (tenant-admin)\n"
                "AUTH          token\n",
            r.out);
  auto reqs = server.requests();
  ASSERT_EQ(1u, reqs.size());
  EXPECT_EQ("GET", reqs[0].method);
  EXPECT_EQ("/api/v1/whoami", reqs[0].target);
  EXPECT_EQ("Bearer gty_abc", reqs[0].Header("authorization"));
  EXPECT_EQ("gantry-cli/0.1.0", reqs[0].Header("user-agent"));

  r = RunCli({"whoami", "--server", server.url(), "-o", "json"},
             Env({{"GANTRY_TOKEN", "gty_abc"}}));
  EXPECT_EQ(client::PrettyJson(json::parse(kWhoAmI)), r.out);
}

TEST_F(ClientCommandsTest, NotLoggedInExitsWithTheAuthCodeAndAHint) {
  FakeHttpServer server([](const HttpRequest&) {
    return Problem(401, "authentication required: send 'Authorization: Bearer <token>' or log in");
  });
  auto r = RunCli({"whoami", "--server", server.url()}, Env());
  EXPECT_EQ(kExitAuth, r.exit_code);
  EXPECT_EQ(
      "gantry: not logged in to " + server.url() + ": run 'gantry login' or set GANTRY_TOKEN\n",
      r.err);
  EXPECT_EQ("", server.requests().at(0).Header("authorization"));

  r = RunCli({"whoami", "--server", server.url(), "--token", "gty_old"}, Env());
  EXPECT_EQ(kExitAuth, r.exit_code);
  EXPECT_TRUE(Has(r.err, "or log in; run 'gantry login'\n")) << r.err;
}

TEST_F(ClientCommandsTest, ProblemsBecomeOneLineAndAnExitCode) {
  std::atomic<int> status{404};
  FakeHttpServer server([&](const HttpRequest&) {
    switch (status.load()) {
      case 404:
        return Problem(404, "no such user 'bob'");
      case 409:
        return Problem(409, "username 'bob' is taken");
      case 400:
        return Problem(400, "unknown role 'root'", "roles");
      default:
        return Problem(503, "database unavailable");
    }
  });
  auto env = Env({{"GANTRY_TOKEN", "t"}});
  auto r = RunCli({"user", "show", "bob", "--server", server.url()}, env);
  EXPECT_EQ(kExitNotFound, r.exit_code);
  EXPECT_EQ("gantry: no such user 'bob'\n", r.err);

  status = 409;
  r = RunCli({"user", "create", "bob", "--server", server.url()}, env);
  EXPECT_EQ(kExitConflict, r.exit_code);

  status = 400;
  r = RunCli({"user", "create", "bob", "--role", "root", "--server", server.url()}, env);
  EXPECT_EQ(kExitInvalid, r.exit_code);
  EXPECT_EQ("gantry: unknown role 'root' (field: roles)\n", r.err);

  status = 503;
  r = RunCli({"jobs", "list", "--server", server.url()}, env);
  EXPECT_EQ(kExitUnavailable, r.exit_code);
  EXPECT_EQ("gantry: database unavailable [request id req-42]\n", r.err);
}

TEST_F(ClientCommandsTest, UnreachableServerIsUnavailable) {
  auto r = RunCli({"whoami", "--server", "http://127.0.0.1:1"}, Env());
  EXPECT_EQ(kExitUnavailable, r.exit_code);
  EXPECT_EQ("gantry: cannot reach http://127.0.0.1:1: Connection refused\n", r.err);
}

TEST_F(ClientCommandsTest, LoginSavesTheTokenThatLaterCommandsAndLogoutUse) {
  FakeHttpServer server([](const HttpRequest& req) {
    if (req.method == "POST" && req.Path() == "/api/v1/auth/login") {
      return Json(R"({"user":{"id":1,"username":"alice"},"token":"gty_new","token_id":9,
                      "expires_at":"2026-12-25T12:00:00.000Z"})");
    }
    if (req.method == "DELETE" && req.Path() == "/api/v1/tokens/9") return Json("", 204);
    return Json(kWhoAmI);
  });

  auto r = RunCli({"login", "-u", "alice", "--password-stdin", "--server", server.url() + "/"},
                  Env(), "s3cret\n");
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("Logged in to " + server.url() + " as alice; token saved to " + config_.string() + "\n",
            r.out);
  auto login = server.requests().at(0);
  EXPECT_EQ("", login.Header("authorization"));
  auto body = Body(login).as_object();
  EXPECT_EQ("alice", body.at("username").as_string());
  EXPECT_EQ("s3cret", body.at("password").as_string());
  EXPECT_EQ(true, body.at("issue_token").as_bool());
  EXPECT_TRUE(std::string(body.at("token_name").as_string()).starts_with("cli@"));

  struct stat st = {};
  ASSERT_EQ(0, ::stat(config_.c_str(), &st));
  EXPECT_EQ(0600u, st.st_mode & 0777);
  auto saved = client::LoadConfig(config_);
  EXPECT_EQ(server.url(), saved->server);
  EXPECT_EQ("gty_new", saved->token);
  EXPECT_EQ(9, saved->token_id.value_or(0));

  // Server and token now come from the file.
  r = RunCli({"whoami"}, Env());
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("Bearer gty_new", server.requests().back().Header("authorization"));

  r = RunCli({"logout"}, Env());
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("Logged out of " + server.url() + "; token revoked and removed from " +
                config_.string() + "\n",
            r.out);
  auto revoke = server.requests().back();
  EXPECT_EQ("DELETE", revoke.method);
  EXPECT_EQ("/api/v1/tokens/9", revoke.target);
  EXPECT_EQ("Bearer gty_new", revoke.Header("authorization"));
  saved = client::LoadConfig(config_);
  EXPECT_EQ(server.url(), saved->server);
  EXPECT_EQ("", saved->token);
  EXPECT_FALSE(saved->token_id);

  r = RunCli({"logout"}, Env());
  EXPECT_EQ(0, r.exit_code);
  EXPECT_TRUE(Has(r.out, "Not logged in")) << r.out;
}

TEST_F(ClientCommandsTest, LoggingInAgainRevokesThePreviousToken) {
  std::atomic<int> issued{0};
  FakeHttpServer server([&](const HttpRequest& req) {
    if (req.method == "DELETE") return Json("", 204);
    int n = ++issued;
    return Json(R"({"user":{"username":"alice"},"token":"gty_)" + std::to_string(n) +
                R"(","token_id":)" + std::to_string(n) + "}");
  });
  auto login = {"login", "-u", "alice", "--password-stdin", "--server"};
  std::vector<std::string> args(login.begin(), login.end());
  args.push_back(server.url());
  ASSERT_EQ(0, RunCli(args, Env(), "pw\n").exit_code);
  ASSERT_EQ(0, RunCli(args, Env(), "pw\n").exit_code);
  auto reqs = server.requests();
  ASSERT_EQ(3u, reqs.size());
  EXPECT_EQ("DELETE", reqs[2].method);
  EXPECT_EQ("/api/v1/tokens/1", reqs[2].target);
  EXPECT_EQ("Bearer gty_1", reqs[2].Header("authorization"));
  EXPECT_EQ("gty_2", client::LoadConfig(config_)->token);
}

TEST_F(ClientCommandsTest, SlowServerTimesOut) {
  FakeHttpServer server([](const HttpRequest&) {
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    return Json(kWhoAmI);
  });
  auto r = RunCli({"whoami", "--timeout", "1", "--server", server.url()}, Env());
  EXPECT_EQ(kExitUnavailable, r.exit_code);
  EXPECT_EQ(
      "gantry: " + server.url() + " did not answer within 1 s (raise the limit with --timeout)\n",
      r.err);
}

TEST_F(ClientCommandsTest, LoginRefusesToPromptWithoutATerminal) {
  auto r = RunCli({"login", "-u", "alice", "--server", "http://127.0.0.1:1"}, Env(), "pw\n");
  EXPECT_EQ(kExitUsage, r.exit_code);
  EXPECT_TRUE(Has(r.err, "use --password-stdin")) << r.err;
  r = RunCli({"login", "--password-stdin", "--server", "http://127.0.0.1:1"}, Env(), "pw\n");
  EXPECT_EQ(kExitUsage, r.exit_code);
  EXPECT_TRUE(Has(r.err, "--password-stdin needs --username")) << r.err;
}

TEST_F(ClientCommandsTest, TokenCreateShowsTheSecretOnceWithAWarning) {
  FakeHttpServer server([](const HttpRequest&) {
    return Json(R"({"id":7,"name":"ci","user":"alice","created_at":"2026-11-25T12:00:00.000Z",
                    "expires_at":"2027-02-23T12:00:00.000Z","last_used_at":null,"revoked":false,
                    "token":"gty_secret"})",
                201);
  });
  auto r = RunCli({"token", "create", "ci", "--expires-in-days", "90", "--server", server.url()},
                  Env({{"GANTRY_TOKEN", "t"}}));
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ(json::parse(R"({"name":"ci","expires_in_days":90})"), Body(server.requests().at(0)));
  EXPECT_EQ(
      "ID       7\nNAME     ci\nUSER     alice\nEXPIRES  2027-02-23T12:00:00.000Z\n"
      "TOKEN    gty_secret\n",
      r.out);
  EXPECT_TRUE(Has(r.err, "shown only once")) << r.err;
}

TEST_F(ClientCommandsTest, TokenListFiltersAndRevoke) {
  FakeHttpServer server([](const HttpRequest& req) {
    if (req.method == "DELETE") return Json("", 204);
    return Json(
        R"({"items":[{"id":3,"name":"cli@host","user":"bob","created_at":"2026-11-25T12:00:00.000Z",
                   "expires_at":null,"last_used_at":null,"revoked":false}],"next_cursor":null})");
  });
  auto env = Env({{"GANTRY_TOKEN", "t"}});
  auto r = RunCli({"token", "list", "--user", "bob", "--server", server.url()}, env);
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("/api/v1/tokens?user=bob", server.requests().back().target);
  EXPECT_EQ(
      "ID  NAME      USER  CREATED                   EXPIRES  LAST USED  REVOKED\n"
      "3   cli@host  bob   2026-11-25T12:00:00.000Z  -        -          false\n",
      r.out);
  r = RunCli({"token", "list", "--all", "--server", server.url()}, env);
  EXPECT_EQ("/api/v1/tokens?all=true", server.requests().back().target);
  r = RunCli({"token", "list", "--all", "--user", "bob", "--server", server.url()}, env);
  EXPECT_EQ(kExitUsage, r.exit_code);

  r = RunCli({"token", "revoke", "3", "--server", server.url()}, env);
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("Token 3 revoked\n", r.out);
  EXPECT_EQ("DELETE", server.requests().back().method);
}

TEST_F(ClientCommandsTest, UserCommands) {
  const std::string user =
      R"({"id":5,"username":"bob","display_name":"Bob Smith","roles":["operator"],
      "disabled":false,"created_at":"2026-11-25T12:00:00.000Z","last_login_at":null})";
  FakeHttpServer server([&](const HttpRequest& req) {
    if (req.method == "POST" && req.Path() == "/api/v1/users") {
      return Json(user.substr(0, user.size() - 1) + R"(,"generated_password":"Xy7-pw"})", 201);
    }
    if (req.Path() == "/api/v1/users")
      return Json(R"({"items":[)" + user + R"(],"next_cursor":null})");
    return Json(user);
  });
  auto env = Env({{"GANTRY_TOKEN", "t"}});
  auto r = RunCli({"user", "create", "bob", "--role", "operator", "-r", "viewer", "--display-name",
                   "Bob Smith", "--server", server.url()},
                  env);
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ(
      json::parse(R"({"username":"bob","display_name":"Bob Smith","roles":["operator","viewer"]})"),
      Body(server.requests().back()));
  EXPECT_TRUE(Has(r.out, "PASSWORD      Xy7-pw\n")) << r.out;
  EXPECT_TRUE(Has(r.err, "shown only once")) << r.err;

  r = RunCli({"user", "create", "carol", "--password-stdin", "--server", server.url()}, env,
             "pw1\n");
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ(json::parse(R"({"username":"carol","password":"pw1"})"),
            Body(server.requests().back()));

  r = RunCli({"user", "list", "--server", server.url()}, env);
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("/api/v1/users?limit=1000", server.requests().back().target);
  EXPECT_EQ(
      "ID  USERNAME  DISPLAY NAME  ROLES     DISABLED  CREATED                   LAST LOGIN\n"
      "5   bob       Bob Smith     operator  false     2026-11-25T12:00:00.000Z  -\n",
      r.out);

  r = RunCli({"user", "show", "b/../x y", "--server", server.url()}, env);
  EXPECT_EQ("/api/v1/users/b%2F..%2Fx%20y", server.requests().back().target);

  r = RunCli({"user", "disable", "bob", "--server", server.url()}, env);
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("POST", server.requests().back().method);
  EXPECT_EQ("/api/v1/users/bob/disable", server.requests().back().target);
  EXPECT_EQ("User bob disabled; their sessions and tokens were revoked\n", r.out);
}

TEST_F(ClientCommandsTest, JobsListBuildsTheQuery) {
  FakeHttpServer server([](const HttpRequest&) {
    return Json(R"({"items":[{"id":12,"type":"demo.sleep","state":"running","progress":45,
      "message":"sleeping","created_at":"2026-11-25T12:00:00.000Z","finished_at":null}],"next_cursor":null})");
  });
  auto r = RunCli({"jobs", "list", "--state", "running", "--type", "demo.sleep", "--limit", "5",
                   "--server", server.url()},
                  Env({{"GANTRY_TOKEN", "t"}}));
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("/api/v1/jobs?state=running&type=demo.sleep&limit=5", server.requests().back().target);
  EXPECT_EQ(
      "ID  TYPE        STATE    PROGRESS  CREATED                   FINISHED  MESSAGE\n"
      "12  demo.sleep  running  45%       2026-11-25T12:00:00.000Z  -         sleeping\n",
      r.out);
  r = RunCli({"jobs", "list", "--state", "bogus"}, Env());
  EXPECT_EQ(kExitUsage, r.exit_code);
}

// A job that moves one step further on every poll.
HttpReply JobStep(int step, bool fail) {
  static const char* kLog[] = {R"({"time":"2026-11-25T12:00:01.000Z","line":"started"})",
                               R"({"time":"2026-11-25T12:00:02.000Z","line":"halfway"})"};
  std::string state = step == 0 ? "running" : step == 1 ? "running" : fail ? "failed" : "succeeded";
  int progress = step == 0 ? 10 : step == 1 ? 50 : 100;
  std::string log = step == 0 ? std::string("[") + kLog[0] + "]"
                              : std::string("[") + kLog[0] + "," + kLog[1] + "]";
  return Json(R"({"id":12,"type":"demo.sleep","state":")" + state + R"(","progress":)" +
              std::to_string(progress) + R"(,"message":"step )" + std::to_string(step) +
              R"(","error":)" + (fail && step >= 2 ? R"("boom")" : "null") + R"(,"log":)" + log +
              "}");
}

TEST_F(ClientCommandsTest, JobsRunWatchFollowsTheJobToSuccess) {
  std::atomic<int> polls{0};
  FakeHttpServer server([&](const HttpRequest& req) {
    if (req.method == "POST") {
      return Json(R"({"id":12,"type":"demo.sleep","state":"queued","progress":0,"message":""})",
                  201);
    }
    return JobStep(std::min(polls++, 2), false);
  });
  auto r = RunCli({"jobs", "run", "demo.sleep", "--param", "seconds=3", "-p", "note=hi", "--watch",
                   "--server", server.url()},
                  Env({{"GANTRY_TOKEN", "t"}}));
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ(json::parse(R"({"type":"demo.sleep","params":{"seconds":3,"note":"hi"}})"),
            Body(server.requests().at(0)));
  EXPECT_EQ(
      "Job 12 (demo.sleep) queued\n"
      "2026-11-25T12:00:01.000Z  started\n"
      "job 12: running 10% step 0\n"
      "2026-11-25T12:00:02.000Z  halfway\n"
      "job 12: running 50% step 1\n"
      "job 12: succeeded 100% step 2\n",
      r.out);
  EXPECT_EQ("/api/v1/jobs/12", server.requests().back().target);
}

TEST_F(ClientCommandsTest, JobsWatchExitsOneWhenTheJobFails) {
  std::atomic<int> polls{1};
  FakeHttpServer server([&](const HttpRequest&) { return JobStep(std::min(polls++, 2), true); });
  auto r = RunCli({"jobs", "watch", "12", "--server", server.url()}, Env({{"GANTRY_TOKEN", "t"}}));
  EXPECT_EQ(kExitError, r.exit_code);
  EXPECT_TRUE(Has(r.out, "job 12: failed 100% step 2\n")) << r.out;
  EXPECT_EQ("gantry: job 12 failed: boom\n", r.err);
}

TEST_F(ClientCommandsTest, JobsWatchJsonPrintsTheFinalJob) {
  FakeHttpServer server([&](const HttpRequest&) { return JobStep(2, false); });
  auto r = RunCli({"jobs", "watch", "12", "-o", "json", "--server", server.url()},
                  Env({{"GANTRY_TOKEN", "t"}}));
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("succeeded", json::parse(r.out).at("state").as_string());
  EXPECT_TRUE(Has(r.err, "job 12: succeeded")) << r.err;
}

TEST_F(ClientCommandsTest, AuditSearchAllFollowsTheCursor) {
  FakeHttpServer server([](const HttpRequest& req) {
    std::string event = R"({"seq":%S,"time":"2026-11-25T12:00:00.000Z","actor":"alice",
        "source_ip":"10.0.0.1","action":"user.create","target_type":"user","target":"bob",
        "tenant":null,"result":"success"})";
    auto with_seq = [&](const std::string& seq) {
      std::string e = event;
      return e.replace(e.find("%S"), 2, seq);
    };
    if (Has(req.target, "cursor=6")) {
      return Json(R"({"items":[)" + with_seq("5") + R"(],"next_cursor":null})");
    }
    return Json(R"({"items":[)" + with_seq("7") + "," + with_seq("6") + R"(],"next_cursor":"6"})");
  });
  auto env = Env({{"GANTRY_TOKEN", "t"}});
  auto r = RunCli({"audit", "search", "--actor", "alice", "--action", "user.*", "--since",
                   "2026-11-01T00:00:00Z", "--all", "--limit", "2", "--server", server.url()},
                  env);
  ASSERT_EQ(0, r.exit_code) << r.err;
  auto reqs = server.requests();
  ASSERT_EQ(2u, reqs.size());
  EXPECT_EQ(
      "/api/v1/audit/events?actor=alice&action=user.%2A&since=2026-11-01T00%3A00%3A00Z&limit=2",
      reqs[0].target);
  EXPECT_TRUE(Has(reqs[1].target, "&limit=2&cursor=6")) << reqs[1].target;
  EXPECT_EQ(
      "SEQ  TIME                      ACTOR  SOURCE    ACTION       TARGET    RESULT\n"
      "7    2026-11-25T12:00:00.000Z  alice  10.0.0.1  user.create  user:bob  success\n"
      "6    2026-11-25T12:00:00.000Z  alice  10.0.0.1  user.create  user:bob  success\n"
      "5    2026-11-25T12:00:00.000Z  alice  10.0.0.1  user.create  user:bob  success\n",
      r.out);

  // One page only without --all, with a hint that there is more.
  r = RunCli({"audit", "search", "--server", server.url()}, env);
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_TRUE(Has(r.err, "more events match")) << r.err;

  r = RunCli({"audit", "search", "--since", "yesterday", "--server", server.url()}, env);
  EXPECT_EQ(kExitUsage, r.exit_code);
  EXPECT_TRUE(Has(r.err, "--since")) << r.err;
  EXPECT_EQ(3u, server.requests().size());
}

}  // namespace
}  // namespace gantry::app::testing
