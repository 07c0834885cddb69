// Unit tests of the client building blocks: config resolution and the config file, table and
// JSON output, problem+json → Error, transport errors, exit codes, job progress rendering.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <sstream>

#include "app/client/api_client.h"
#include "app/client/commands.h"
#include "app/client/config.h"
#include "app/client/job_watcher.h"
#include "app/client/output.h"
#include "app/client/session.h"
#include "app/commands.h"
#include "app/tests/client_test_util.h"

namespace gantry::app::client {
namespace {

namespace fs = std::filesystem;
namespace json = core::json;
using testing::MapEnv;
using testing::TempDir;

// ---- configuration ---------------------------------------------------------------------------

TEST(ConfigPath, OverrideThenXdgThenHome) {
  EXPECT_EQ("/t/c.yaml",
            ConfigPath(
                MapEnv({{"GANTRY_CONFIG", "/t/c.yaml"}, {"XDG_CONFIG_HOME", "/x"}, {"HOME", "/h"}}))
                ->string());
  EXPECT_EQ("/x/gantry/config.yaml",
            ConfigPath(MapEnv({{"XDG_CONFIG_HOME", "/x"}, {"HOME", "/h"}}))->string());
  EXPECT_EQ("/h/.config/gantry/config.yaml", ConfigPath(MapEnv({{"HOME", "/h"}}))->string());
  EXPECT_FALSE(ConfigPath(MapEnv({})));
}

TEST(ResolveConnection, FlagBeatsEnvBeatsFile) {
  ConfigFile file{.server = "https://file.example", .token = "file-token"};
  auto env = MapEnv({{"GANTRY_SERVER", "https://env.example"}, {"GANTRY_TOKEN", "env-token"}});

  auto c = ResolveConnection({"https://flag.example/", "flag-token"}, env, file);
  ASSERT_TRUE(c);
  EXPECT_EQ("https://flag.example", c->server);
  EXPECT_EQ("flag-token", c->token);
  EXPECT_EQ("--server", c->server_source);
  EXPECT_EQ("--token", c->token_source);

  c = ResolveConnection({}, env, file);
  EXPECT_EQ("https://env.example", c->server);
  EXPECT_EQ("env-token", c->token);
  EXPECT_EQ("GANTRY_SERVER", c->server_source);

  c = ResolveConnection({}, MapEnv({}), file);
  EXPECT_EQ("https://file.example", c->server);
  EXPECT_EQ("file-token", c->token);
  EXPECT_EQ("config file", c->token_source);

  c = ResolveConnection({}, MapEnv({}), ConfigFile{});
  EXPECT_EQ(kDefaultServer, c->server);
  EXPECT_EQ("default", c->server_source);
  EXPECT_EQ("", c->token);
}

TEST(ResolveConnection, StoredTokenIsNeverSentToAnotherServer) {
  ConfigFile file{.server = "https://gantry.example/", .token = "secret", .ca_file = "/ca.pem"};
  auto other = ResolveConnection({"https://evil.example"}, MapEnv({}), file);
  EXPECT_EQ("", other->token);
  EXPECT_EQ("", other->ca_file);
  auto same = ResolveConnection({"https://gantry.example"}, MapEnv({}), file);
  EXPECT_EQ("secret", same->token);
  EXPECT_EQ("/ca.pem", same->ca_file);
  // An explicit token still goes wherever the user points it.
  auto env = ResolveConnection({"https://evil.example"}, MapEnv({{"GANTRY_TOKEN", "t"}}), file);
  EXPECT_EQ("t", env->token);
}

TEST(ResolveConnection, RejectsUrlsWithoutScheme) {
  auto c = ResolveConnection({"gantry.example:8080"}, MapEnv({}), {});
  ASSERT_FALSE(c);
  EXPECT_EQ(core::Code::kInvalidArgument, c.error().code);
  EXPECT_NE(std::string::npos, c.error().message.find("http:// or https://"));
  EXPECT_FALSE(NormalizeServerUrl("http://"));
  EXPECT_EQ("http://h:1", *NormalizeServerUrl(" http://h:1// "));
}

TEST(ConfigFileTest, RoundTripWithPrivatePermissions) {
  TempDir tmp;
  fs::path path = tmp.path() / "a" / "gantry" / "config.yaml";
  ConfigFile in{.server = "https://g.example",
                .username = "alice",
                .token = "gty_x: \"quoted\"",
                .token_id = 42,
                .ca_file = "/etc/ca.pem"};
  mode_t old_umask = ::umask(0);  // even a permissive umask must not widen the modes
  auto saved = SaveConfig(path, in);
  ::umask(old_umask);
  ASSERT_TRUE(saved) << saved.error().message;

  struct stat st = {};
  ASSERT_EQ(0, ::stat(path.c_str(), &st));
  EXPECT_EQ(0600u, st.st_mode & 0777);
  ASSERT_EQ(0, ::stat(path.parent_path().c_str(), &st));
  EXPECT_EQ(0700u, st.st_mode & 0777);
  ASSERT_EQ(0, ::stat(path.parent_path().parent_path().c_str(), &st));
  EXPECT_EQ(0700u, st.st_mode & 0777);
  EXPECT_EQ(1, std::distance(fs::directory_iterator(path.parent_path()), fs::directory_iterator()))
      << "no temporary file is left behind";

  auto out = LoadConfig(path);
  ASSERT_TRUE(out) << out.error().message;
  EXPECT_EQ(in.server, out->server);
  EXPECT_EQ(in.username, out->username);
  EXPECT_EQ(in.token, out->token);
  EXPECT_EQ(42, out->token_id.value_or(0));
  EXPECT_EQ(in.ca_file, out->ca_file);

  // Rewriting replaces the file and keeps it private.
  ::chmod(path.c_str(), 0644);
  in.token.clear();
  in.token_id.reset();
  ASSERT_TRUE(SaveConfig(path, in));
  ASSERT_EQ(0, ::stat(path.c_str(), &st));
  EXPECT_EQ(0600u, st.st_mode & 0777);
  EXPECT_EQ("", LoadConfig(path)->token);
  EXPECT_FALSE(LoadConfig(path)->token_id);
}

TEST(ConfigFileTest, MissingIsEmptyAndMalformedNamesThePath) {
  TempDir tmp;
  auto missing = LoadConfig(tmp.path() / "none.yaml");
  ASSERT_TRUE(missing);
  EXPECT_EQ("", missing->server);

  fs::path bad = tmp.path() / "bad.yaml";
  std::ofstream(bad) << "server: [unclosed\n";
  auto r = LoadConfig(bad);
  ASSERT_FALSE(r);
  EXPECT_NE(std::string::npos, r.error().message.find(bad.string()));

  std::ofstream(bad) << "- a list\n";
  EXPECT_FALSE(LoadConfig(bad));
}

// ---- output ----------------------------------------------------------------------------------

TEST(TableTest, AlignsColumnsAndShowsEmptyCellsAsDash) {
  Table t({"ID", "NAME", "LAST LOGIN"});
  t.AddRow({"1", "alice", "2026-11-25T12:00:00.000Z"});
  t.AddRow({"12", "", ""});
  t.AddRow({"3", "zoë"});
  std::ostringstream out;
  t.Print(out);
  EXPECT_EQ(
      "ID  NAME   LAST LOGIN\n"
      "1   alice  2026-11-25T12:00:00.000Z\n"
      "12  -      -\n"
      "3   zoë    -\n",
      out.str());
}

TEST(TableTest, BuiltFromApiObjects) {
  auto items = json::parse(R"([{"id": 7, "roles": ["admin", "auditor"], "disabled": false,
                                "last": null, "d": {"a": 1}}])")
                   .as_array();
  std::ostringstream out;
  MakeTable(items, {FieldColumn("ID", "id"), FieldColumn("ROLES", "roles"),
                    FieldColumn("DISABLED", "disabled"), FieldColumn("LAST", "last"),
                    FieldColumn("MISSING", "nope"), FieldColumn("D", "d")})
      .Print(out);
  EXPECT_EQ(
      "ID  ROLES          DISABLED  LAST  MISSING  D\n"
      "7   admin,auditor  false     -     -        {\"a\":1}\n",
      out.str());
}

TEST(OutputTest, FieldsAndSanitizing) {
  std::ostringstream out;
  PrintFields(out, {{"ID", "3"}, {"DISPLAY NAME", ""}});
  EXPECT_EQ("ID            3\nDISPLAY NAME  -\n", out.str());
  EXPECT_EQ("a b?[31mred?", Sanitize("a\nb\x1b[31mred\r"));
  EXPECT_EQ(3u, DisplayWidth("zoë"));
}

TEST(OutputTest, PrettyJsonUsesTwoSpaces) {
  auto v = json::parse(R"({"items":[{"id":1,"tags":[]}],"next_cursor":null,"o":{}})");
  EXPECT_EQ(
      "{\n"
      "  \"items\": [\n"
      "    {\n"
      "      \"id\": 1,\n"
      "      \"tags\": []\n"
      "    }\n"
      "  ],\n"
      "  \"next_cursor\": null,\n"
      "  \"o\": {}\n"
      "}\n",
      PrettyJson(v));
  EXPECT_EQ(v, json::parse(PrettyJson(v)));
  EXPECT_TRUE(ParseOutputFormat("json"));
  EXPECT_FALSE(ParseOutputFormat("yaml"));
}

// ---- errors ----------------------------------------------------------------------------------

TEST(ProblemTest, DetailFieldAndCodeFollowTheStatus) {
  auto e = ErrorFromResponse(
      400, R"({"type":"https://gantry.dev/problems/invalid-argument","title":"Bad Request",
               "status":400,"detail":"unknown field 'foo'","instance":"/api/v1/users",
               "request_id":"r1","field":"foo"})");
  EXPECT_EQ(core::Code::kInvalidArgument, e.code);
  EXPECT_EQ("unknown field 'foo' (field: foo)", e.message);
  EXPECT_EQ("foo", e.field);

  e = ErrorFromResponse(500, R"({"title":"Internal Server Error","status":500,
      "detail":"internal error; quote request id r9 to your operator","request_id":"r9"})");
  EXPECT_EQ(core::Code::kUnavailable, e.code);
  EXPECT_EQ("internal error; quote request id r9 to your operator [request id r9]", e.message);

  e = ErrorFromResponse(404, R"({"title":"Not Found","status":404})");
  EXPECT_EQ(core::Code::kNotFound, e.code);
  EXPECT_EQ("Not Found", e.message);
}

TEST(ProblemTest, NonJsonBodies) {
  auto e = ErrorFromResponse(502, "<html><body>Bad gateway</body></html>", "rid-7");
  EXPECT_EQ(core::Code::kUnavailable, e.code);
  EXPECT_EQ("server answered HTTP 502 Bad Gateway [request id rid-7]", e.message);
  e = ErrorFromResponse(403, "forbidden by proxy\n");
  EXPECT_EQ(core::Code::kPermissionDenied, e.code);
  EXPECT_EQ("forbidden by proxy", e.message);
  e = ErrorFromResponse(418, "");
  EXPECT_EQ(core::Code::kInternal, e.code);
  EXPECT_EQ("server answered HTTP 418", e.message);
}

TEST(ProblemTest, StatusTable) {
  using core::Code;
  const std::map<long, Code> want = {
      {400, Code::kInvalidArgument},  {401, Code::kUnauthenticated},
      {403, Code::kPermissionDenied}, {404, Code::kNotFound},
      {409, Code::kConflict},         {413, Code::kTooLarge},
      {415, Code::kUnsupportedMedia}, {429, Code::kResourceExhausted},
      {500, Code::kUnavailable},      {502, Code::kUnavailable},
      {503, Code::kUnavailable},      {504, Code::kUnavailable}};
  for (const auto& [status, code] : want) EXPECT_EQ(code, CodeForStatus(status)) << status;
}

TEST(ExitCodes, FollowTheErrorCode) {
  using core::Code;
  EXPECT_EQ(kExitAuth, ExitCodeFor(Code::kUnauthenticated));
  EXPECT_EQ(kExitAuth, ExitCodeFor(Code::kPermissionDenied));
  EXPECT_EQ(kExitNotFound, ExitCodeFor(Code::kNotFound));
  EXPECT_EQ(kExitConflict, ExitCodeFor(Code::kConflict));
  EXPECT_EQ(kExitConflict, ExitCodeFor(Code::kFailedPrecondition));
  EXPECT_EQ(kExitUnavailable, ExitCodeFor(Code::kUnavailable));
  EXPECT_EQ(kExitUnavailable, ExitCodeFor(Code::kDeadlineExceeded));
  EXPECT_EQ(kExitInvalid, ExitCodeFor(Code::kInvalidArgument));
  EXPECT_EQ(kExitInvalid, ExitCodeFor(Code::kTooLarge));
  EXPECT_EQ(kExitInvalid, ExitCodeFor(Code::kUnsupportedMedia));
  EXPECT_EQ(kExitError, ExitCodeFor(Code::kResourceExhausted));
  EXPECT_EQ(kExitError, ExitCodeFor(Code::kInternal));
}

TEST(ExitCodes, UnauthenticatedGetsALoginHint) {
  core::Error e(core::Code::kUnauthenticated, "token expired");
  EXPECT_EQ("token expired; run 'gantry login'", ErrorText(e, "https://g", true));
  EXPECT_EQ("not logged in to https://g: run 'gantry login' or set GANTRY_TOKEN",
            ErrorText(e, "https://g", false));
  EXPECT_EQ("no such job", ErrorText(core::NotFound("no such job"), "https://g", true));
}

// A port on 127.0.0.1 that was just free: bind to port 0, note the port, close the socket.
int ClosedPort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr = {};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  EXPECT_EQ(0, ::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)));
  EXPECT_EQ(0, ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len));
  ::close(fd);
  return ntohs(addr.sin_port);
}

TEST(ApiClientTest, ConnectionRefusedNamesTheServer) {
  std::string server = "http://127.0.0.1:" + std::to_string(ClosedPort());
  auto api = ApiClient::Make({.server = server + "/", .token = "gty_secret"});
  ASSERT_TRUE(api);
  auto r = api->Get("/api/v1/whoami");
  ASSERT_FALSE(r);
  EXPECT_EQ(core::Code::kUnavailable, r.error().code);
  EXPECT_EQ("cannot reach " + server + ": Connection refused", r.error().message);
  EXPECT_EQ(std::string::npos, r.error().message.find("gty_secret"));
}

TEST(ApiClientTest, RejectsBadOptions) {
  EXPECT_FALSE(ApiClient::Make({.server = "ftp://x"}));
  EXPECT_FALSE(ApiClient::Make({.server = "http://x", .timeout = std::chrono::milliseconds(0)}));
  EXPECT_EQ("a%2Fb%20c@d", PathSegment("a/b c@d"));
}

// ---- jobs ------------------------------------------------------------------------------------

TEST(JobParams, IntegersStayIntegers) {
  auto p = ParseJobParams({"seconds=10", "name=x=y", "neg=-3", "ver=1.5", "empty="});
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(json::parse(R"({"seconds":10,"name":"x=y","neg":-3,"ver":"1.5","empty":""})"),
            json::value(*p));
  EXPECT_FALSE(ParseJobParams({"novalue"}));
  EXPECT_FALSE(ParseJobParams({"=x"}));
  EXPECT_FALSE(ParseJobParams({"a=1", "a=2"}));
}

TEST(JobWatcherTest, ProgressBar) {
  EXPECT_EQ("[..........]", ProgressBar(0, 10));
  EXPECT_EQ("[####......]", ProgressBar(45, 10));
  EXPECT_EQ("[##########]", ProgressBar(150, 10));
}

json::object Job(const std::string& state, int progress, const std::string& message,
                 const std::vector<std::string>& lines) {
  json::array log;
  for (size_t i = 0; i < lines.size(); ++i) {
    log.push_back(
        {{"time", "2026-11-25T12:00:0" + std::to_string(i) + ".000Z"}, {"line", lines[i]}});
  }
  return {{"id", 12}, {"state", state}, {"progress", progress}, {"message", message}, {"log", log}};
}

TEST(JobWatcherTest, PipeGetsOneLinePerChangeAndEachLogLineOnce) {
  std::ostringstream out;
  JobWatcher w(out, {.tty = false});
  w.Show(Job("queued", 0, "", {}));
  w.Show(Job("running", 10, "step 1", {"a"}));
  w.Show(Job("running", 10, "step 1", {"a"}));
  w.Show(Job("running", 50, "step 2", {"a", "b", "c"}));
  w.Show(Job("succeeded", 100, "done", {"a", "b", "c"}));
  w.EndLine();
  EXPECT_EQ(
      "job 12: queued 0%\n"
      "2026-11-25T12:00:00.000Z  a\n"
      "job 12: running 10% step 1\n"
      "2026-11-25T12:00:01.000Z  b\n"
      "2026-11-25T12:00:02.000Z  c\n"
      "job 12: running 50% step 2\n"
      "job 12: succeeded 100% done\n",
      out.str());
}

TEST(JobWatcherTest, TerminalRedrawsTheBarBelowNewLogLines) {
  std::ostringstream out;
  JobWatcher w(out, {.tty = true, .terminal_width = 60});
  w.Show(Job("running", 45, "copying", {}));
  w.Show(Job("running", 50, "copying", {"line"}));
  w.EndLine();
  std::string bar45 = "[" + std::string(13, '#') + std::string(17, '.') + "]  45%  copying";
  std::string bar50 = "[" + std::string(15, '#') + std::string(15, '.') + "]  50%  copying";
  EXPECT_EQ("\r\x1b[K" + bar45 + "\r\x1b[K2026-11-25T12:00:00.000Z  line\n\r\x1b[K" + bar50 + "\n",
            out.str());
}

TEST(JobWatcherTest, TerminalLineIsCutToTheWidth) {
  std::ostringstream out;
  JobWatcher w(out, {.tty = true, .terminal_width = 50});
  w.Show(Job("running", 1, std::string(100, 'm'), {}));
  std::string line = out.str().substr(4);  // after "\r\x1b[K"
  EXPECT_EQ(49u, line.size());
}

}  // namespace
}  // namespace gantry::app::client
