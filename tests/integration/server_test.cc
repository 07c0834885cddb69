// End-to-end tests of `gantry serve`: the real binary ($GANTRY_BIN), started on a fresh database
// of each backend (GANTRY_TEST_BACKENDS), driven over real HTTP from raw sockets.
//
// Servers are started per test where a test needs its own flags, its own throttling state or
// kills/restarts the process; the read-mostly tests share one server per backend.
#include <gtest/gtest.h>
#include <signal.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <iostream>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "integration/gantry_server.h"
#include "support/test_db.h"

namespace gantry::store {
// "sqlite" / "postgres" in gtest messages instead of "4-byte object <00-00 00-00>".
inline void PrintTo(Backend b, std::ostream* os) { *os << (b == Backend::kSqlite ? "sqlite" : "postgres"); }
}  // namespace gantry::store

namespace gantry::testing {
namespace {

namespace json = boost::json;
using Clock = std::chrono::steady_clock;

const std::string kNoAuth;  // as a bearer: send no Authorization header

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string Str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_string() ? std::string(it->value().as_string()) : std::string();
}

int64_t Int(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  return it != o.end() && it->value().is_int64() ? it->value().as_int64() : -1;
}

json::array Items(const HttpResponse& r) {
  auto o = r.Object();
  auto it = o.find("items");
  return it != o.end() && it->value().is_array() ? it->value().as_array() : json::array();
}

// Checks the RFC 9457 problem contract of an error response.
::testing::AssertionResult IsProblem(const HttpResponse& r, int status, std::string_view code,
                                     std::string_view instance = {}) {
  auto fail = [&](const std::string& why) {
    return ::testing::AssertionFailure() << why << "; response: " << r.Describe();
  };
  if (r.status != status) return fail("status " + std::to_string(r.status) + ", want " + std::to_string(status));
  if (r.Header("content-type") != "application/problem+json") {
    return fail("content-type '" + r.Header("content-type") + "', want application/problem+json");
  }
  std::string rid = r.Header("x-request-id");
  if (rid.empty()) return fail("no X-Request-Id header");
  boost::system::error_code ec;
  auto v = json::parse(r.body, ec);
  if (ec || !v.is_object()) return fail("body is not a JSON object");
  const auto& o = v.as_object();
  if (Int(o, "status") != status) return fail("body.status is not " + std::to_string(status));
  if (Str(o, "type") != "https://gantry.dev/problems/" + std::string(code)) {
    return fail("body.type is not https://gantry.dev/problems/" + std::string(code));
  }
  if (Str(o, "title").empty()) return fail("body.title is empty");
  if (Str(o, "detail").empty()) return fail("body.detail is empty");
  if (Str(o, "request_id") != rid) return fail("body.request_id differs from X-Request-Id '" + rid + "'");
  if (!instance.empty() && Str(o, "instance") != instance) {
    return fail("body.instance is not '" + std::string(instance) + "'");
  }
  return ::testing::AssertionSuccess();
}

// All items of a list endpoint, following next_cursor.
json::array ListAll(const GantryServer& s, const std::string& path) {
  json::array all;
  if (path.starts_with("/api/v1/tokens")) {  // not paged (see api/openapi.json)
    auto r = s.Get(path);
    if (r.status != 200) throw std::runtime_error("GET " + path + ": " + r.Describe());
    return Items(r);
  }
  std::string cursor;
  for (int page = 0; page < 1000; ++page) {
    std::string sep = path.find('?') == std::string::npos ? "?" : "&";
    auto r = s.Get(path + sep + "limit=1000" + (cursor.empty() ? "" : "&cursor=" + cursor));
    if (r.status != 200) throw std::runtime_error("GET " + path + ": " + r.Describe());
    auto o = r.Object();
    for (auto& v : o["items"].as_array()) all.push_back(v);
    if (!o["next_cursor"].is_string()) break;
    cursor = std::string(o["next_cursor"].as_string());
  }
  return all;
}

std::set<std::string> Usernames(const GantryServer& s) {
  std::set<std::string> out;
  for (const auto& u : ListAll(s, "/api/v1/users")) out.insert(Str(u.as_object(), "username"));
  return out;
}

// Polls GET /api/v1/jobs/ID until `pred` holds; the last job seen.
json::object WaitJob(const GantryServer& s, int64_t id, const std::function<bool(const json::object&)>& pred,
                     std::chrono::milliseconds timeout) {
  auto deadline = Clock::now() + timeout;
  json::object job;
  while (true) {
    auto r = s.Get("/api/v1/jobs/" + std::to_string(id));
    job = r.Object();
    if (r.status == 200 && pred(job)) return job;
    if (Clock::now() > deadline) return job;
    std::this_thread::sleep_for(100ms);
  }
}

bool LogHas(const json::object& job, std::string_view text) {
  auto it = job.find("log");
  if (it == job.end() || !it->value().is_array()) return false;
  for (const auto& l : it->value().as_array()) {
    if (l.is_object() && Str(l.as_object(), "line").find(text) != std::string::npos) return true;
  }
  return false;
}

// SQL behind Gantry's back: the sqlite3 or psql command-line client.
RunResult Sql(const GantryServer& s, const std::string& sql) {
  if (s.backend() == store::Backend::kSqlite) {
    return Run({"sqlite3", s.db_url().substr(std::string("sqlite:").size()), sql});
  }
  return Run({"psql", s.db_url(), "-X", "-q", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", sql});
}

std::string TokenFromCli(const RunResult& r) {
  std::istringstream lines(r.output);
  std::string line, token;
  while (std::getline(lines, line)) {
    if (line.starts_with("gty_")) token = line;
  }
  return token;
}

class ServerTest : public ::testing::TestWithParam<store::Backend> {
 protected:
  // One server per backend shared by the read-mostly tests (stopped after the suite).
  GantryServer& Shared() {
    auto& slot = shared_[GetParam()];
    if (!slot || !slot->running()) slot = std::make_unique<GantryServer>(GetParam());
    current_.push_back(slot.get());
    return *slot;
  }
  // A server of this test only (stopped at the end of the test).
  GantryServer& NewServer(std::vector<std::string> flags = {}) {
    own_.push_back(std::make_unique<GantryServer>(GetParam(), std::move(flags)));
    current_.push_back(own_.back().get());
    return *own_.back();
  }

  void TearDown() override {
    if (HasFailure()) {
      for (auto* s : current_) {
        std::string log = s->log();
        if (log.size() > 6000) log = "...\n" + log.substr(log.size() - 6000);
        std::cerr << "---- serve.log of " << s->db_url() << " (" << s->dir() << ") ----\n" << log
                  << "---- end of serve.log ----\n";
      }
    }
    own_.clear();
    current_.clear();
  }
  static void TearDownTestSuite() { shared_.clear(); }

  static inline std::map<store::Backend, std::unique_ptr<GantryServer>> shared_;
  std::vector<std::unique_ptr<GantryServer>> own_;
  std::vector<GantryServer*> current_;
};

// 1. The error contract over real HTTP, and that refused requests change nothing.
TEST_P(ServerTest, ErrorContract) {
  GantryServer& s = Shared();
  const size_t users_before = Usernames(s).size();
  std::vector<HttpResponse> all;
  auto keep = [&](HttpResponse r) {
    all.push_back(r);
    return r;
  };

  // Malformed JSON.
  auto r = keep(s.Post("/api/v1/users", R"({"username": "ec-malformed", )"));
  EXPECT_TRUE(IsProblem(r, 400, "invalid-argument", "/api/v1/users"));
  EXPECT_NE(Str(r.Object(), "detail").find("malformed JSON"), std::string::npos) << r.Describe();

  // Unknown field: `field` names it.
  r = keep(s.Post("/api/v1/users", R"({"username":"ec-unknown","roles":["viewer"],"colour":"red"})"));
  EXPECT_TRUE(IsProblem(r, 400, "invalid-argument", "/api/v1/users"));
  EXPECT_EQ(Str(r.Object(), "field"), "colour") << r.Describe();
  EXPECT_NE(Str(r.Object(), "detail").find("colour"), std::string::npos) << r.Describe();

  // A field of the wrong type is named too.
  r = keep(s.Post("/api/v1/users", R"({"username":"ec-type","roles":"viewer"})"));
  EXPECT_TRUE(IsProblem(r, 400, "invalid-argument"));
  EXPECT_EQ(Str(r.Object(), "field"), "roles") << r.Describe();

  // Query parameters: unknown names and bad values are named as well.
  r = keep(s.Get("/api/v1/users?colour=red"));
  EXPECT_TRUE(IsProblem(r, 400, "invalid-argument", "/api/v1/users"));
  EXPECT_EQ(Str(r.Object(), "field"), "colour") << r.Describe();
  r = keep(s.Get("/api/v1/users?limit=0"));
  EXPECT_TRUE(IsProblem(r, 400, "invalid-argument", "/api/v1/users"));
  EXPECT_EQ(Str(r.Object(), "field"), "limit") << r.Describe();
  r = keep(s.Get("/api/v1/audit/events?since=yesterday"));
  EXPECT_TRUE(IsProblem(r, 400, "invalid-argument", "/api/v1/audit/events"));
  EXPECT_EQ(Str(r.Object(), "field"), "since") << r.Describe();

  // Wrong content type.
  HttpRequest text;
  text.method = "POST";
  text.target = "/api/v1/users";
  text.body = R"({"username":"ec-text"})";
  text.content_type = "text/plain";
  text.bearer = s.token();
  r = keep(s.Request(text));
  EXPECT_TRUE(IsProblem(r, 415, "unsupported-media-type", "/api/v1/users"));

  // Unknown route.
  r = keep(s.Get("/api/v1/no-such-thing"));
  EXPECT_TRUE(IsProblem(r, 404, "not-found", "/api/v1/no-such-thing"));

  // Wrong method: 405 with Allow.
  r = keep(s.Delete("/api/v1/whoami", s.token()));
  EXPECT_TRUE(IsProblem(r, 405, "method-not-allowed", "/api/v1/whoami"));
  EXPECT_EQ(r.Header("allow"), "GET") << r.Describe();

  // No credentials, a bad token, a malformed Authorization header: 401 with WWW-Authenticate.
  std::vector<std::string> unauth_ids;
  r = keep(s.Post("/api/v1/users", R"({"username":"ec-anon"})", kNoAuth));
  EXPECT_TRUE(IsProblem(r, 401, "unauthenticated", "/api/v1/users"));
  EXPECT_TRUE(r.Header("www-authenticate").starts_with("Bearer")) << r.Describe();
  unauth_ids.push_back(r.Header("x-request-id"));

  r = keep(s.Post("/api/v1/users", R"({"username":"ec-badtoken"})",
                  "gty_thisisnotarealtokenthisisnotarealtoken00"));
  EXPECT_TRUE(IsProblem(r, 401, "unauthenticated", "/api/v1/users"));
  EXPECT_TRUE(r.Header("www-authenticate").starts_with("Bearer")) << r.Describe();
  unauth_ids.push_back(r.Header("x-request-id"));

  HttpRequest basic;
  basic.target = "/api/v1/users";
  basic.headers = {{"Authorization", "Basic YWRtaW46YWRtaW4="}};
  r = keep(s.Request(basic));
  EXPECT_TRUE(IsProblem(r, 401, "unauthenticated", "/api/v1/users"));
  EXPECT_TRUE(r.Header("www-authenticate").starts_with("Bearer")) << r.Describe();
  unauth_ids.push_back(r.Header("x-request-id"));

  // A viewer (created over the API, token from the offline CLI) may not create users.
  r = keep(s.Post("/api/v1/users",
                  R"({"username":"ec-viewer","roles":["viewer"],"password":"ec-viewer-password"})"));
  ASSERT_EQ(r.status, 201) << r.Describe();
  auto cli = s.Admin({"token", "create", "ec-cli", "--user", "ec-viewer"});
  ASSERT_EQ(cli.status, 0) << cli.output;
  std::string viewer = TokenFromCli(cli);
  ASSERT_FALSE(viewer.empty()) << cli.output;
  r = keep(s.Get("/api/v1/whoami", viewer));
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(Str(r.Object(), "username"), "ec-viewer");

  std::vector<std::string> denied_ids;
  HttpRequest by_viewer;
  by_viewer.method = "POST";
  by_viewer.target = "/api/v1/users";
  by_viewer.body = R"({"username":"ec-by-viewer","roles":["admin"]})";
  by_viewer.bearer = viewer;
  by_viewer.headers = {{"X-Request-Id", "itest-viewer-denied-1"}};
  r = keep(s.Request(by_viewer));
  EXPECT_TRUE(IsProblem(r, 403, "permission-denied", "/api/v1/users"));
  EXPECT_EQ(r.Header("x-request-id"), "itest-viewer-denied-1") << "a sane client request id is kept";
  denied_ids.push_back(r.Header("x-request-id"));
  r = keep(s.Get("/api/v1/audit/events", viewer));
  EXPECT_TRUE(IsProblem(r, 403, "permission-denied", "/api/v1/audit/events"));
  denied_ids.push_back(r.Header("x-request-id"));

  // An unusable client request id is replaced by a fresh one.
  HttpRequest odd;
  odd.target = "/api/v1/whoami";
  odd.bearer = s.token();
  odd.headers = {{"X-Request-Id", "<script>alert(1)</script>"}};
  r = keep(s.Request(odd));
  EXPECT_EQ(r.status, 200) << r.Describe();
  EXPECT_NE(r.Header("x-request-id"), "<script>alert(1)</script>");

  // Every response carries X-Request-Id, each one different.
  std::set<std::string> ids;
  for (const auto& x : all) {
    EXPECT_FALSE(x.Header("x-request-id").empty()) << x.Describe();
    ids.insert(x.Header("x-request-id"));
  }
  EXPECT_EQ(ids.size(), all.size());

  // Each 401 and 403 is in the audit trail, with its request id.
  auto events_by_rid = [&](const std::string& action) {
    std::map<std::string, json::object> out;
    for (const auto& e : ListAll(s, "/api/v1/audit/events?action=" + action)) {
      out[Str(e.as_object(), "request_id")] = e.as_object();
    }
    return out;
  };
  auto failed = events_by_rid("auth.failed");
  for (const auto& rid : unauth_ids) {
    ASSERT_TRUE(failed.count(rid)) << "no auth.failed audit event with request_id " << rid;
    EXPECT_EQ(Str(failed[rid], "result"), "failure");
    EXPECT_EQ(Str(failed[rid], "target"), "/api/v1/users");
    EXPECT_EQ(Str(failed[rid], "actor"), "anonymous");
    EXPECT_EQ(Str(failed[rid], "source_ip"), "127.0.0.1");
  }
  auto denied = events_by_rid("authz.denied");
  for (const auto& rid : denied_ids) {
    ASSERT_TRUE(denied.count(rid)) << "no authz.denied audit event with request_id " << rid;
    EXPECT_EQ(Str(denied[rid], "result"), "denied");
    EXPECT_EQ(Str(denied[rid], "actor"), "ec-viewer");
  }
  EXPECT_EQ(Str(denied["itest-viewer-denied-1"], "target"), "/api/v1/users");

  // The refused requests created nothing: only ec-viewer is new.
  auto names = Usernames(s);
  EXPECT_EQ(names.size(), users_before + 1);
  for (const char* n : {"ec-malformed", "ec-unknown", "ec-type", "ec-text", "ec-anon", "ec-badtoken",
                        "ec-by-viewer"}) {
    EXPECT_FALSE(names.count(n)) << n << " was created by a refused request";
    EXPECT_EQ(s.Get(std::string("/api/v1/users/") + n).status, 404) << n;
  }
  EXPECT_TRUE(ListAll(s, "/api/v1/audit/events?action=user.create&target=ec-by-viewer").empty());
}

// 2. Size limits, slow clients and keep-alive.
TEST_P(ServerTest, LimitsSlowClientsAndKeepAlive) {
  // --idle-timeout is well above --read-timeout so that the test can tell which deadline cut a
  // slow client.
  GantryServer& s = NewServer({"--body-limit", "65536", "--header-limit", "8192", "--read-timeout",
                               "2", "--idle-timeout", "6", "--threads", "2"});

  // A body over --body-limit: 413 problem, nothing created.
  std::string big = R"({"username":"lim-big","display_name":")" + std::string(70000, 'x') + R"("})";
  auto r = s.Post("/api/v1/users", big);
  EXPECT_TRUE(IsProblem(r, 413, "too-large", "/api/v1/users"));
  EXPECT_EQ(r.Header("connection"), "close") << "the unread rest of the body makes the connection unusable";
  // The same body without Content-Length (chunked) is cut at the limit as well.
  {
    HttpConnection c(s.port());
    std::string head = "POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                       s.token() + "\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n";
    std::string chunked;
    for (size_t off = 0; off < big.size(); off += 8192) {
      std::string part = big.substr(off, 8192);
      char size[16];
      std::snprintf(size, sizeof size, "%zx\r\n", part.size());
      chunked += size + part + "\r\n";
    }
    chunked += "0\r\n\r\n";
    try {
      c.Send(head + chunked);
    } catch (const HttpError&) {
      // the server may close before reading everything; the answer is what counts
    }
    auto rc = c.Read(10s);
    EXPECT_TRUE(IsProblem(rc, 413, "too-large", "/api/v1/users"));
  }
  // Just under the limit the body reaches the handler (which refuses the long display name).
  std::string under = R"({"username":"lim-under","display_name":")" + std::string(60000, 'x') + R"("})";
  r = s.Post("/api/v1/users", under);
  EXPECT_TRUE(IsProblem(r, 400, "invalid-argument", "/api/v1/users"));
  EXPECT_EQ(Str(r.Object(), "field"), "display_name") << r.Describe();

  // Headers over --header-limit: 413.
  {
    HttpRequest h;
    h.target = "/api/v1/whoami";
    h.bearer = s.token();
    h.headers = {{"X-Filler", std::string(9000, 'h')}};
    r = s.Request(h);
    EXPECT_TRUE(IsProblem(r, 413, "too-large"));
  }
  EXPECT_EQ(s.Get("/api/v1/users/lim-big").status, 404);
  EXPECT_EQ(s.Get("/api/v1/users/lim-under").status, 404);
  EXPECT_TRUE(ListAll(s, "/api/v1/audit/events?action=user.create&target=lim-big").empty());

  // Keep-alive: several requests on one connection, then pipelined ones, then the idle timeout.
  HttpConnection ka(s.port());
  std::set<std::string> ka_ids;
  for (const char* target : {"/healthz", "/api/v1/whoami", "/readyz", "/api/v1/whoami", "/api/v1/jobs"}) {
    HttpRequest q;
    q.target = target;
    q.bearer = s.token();
    auto x = ka.RoundTrip(q);
    EXPECT_EQ(x.status, 200) << target << ": " << x.Describe();
    EXPECT_NE(x.Header("connection"), "close") << target;
    ka_ids.insert(x.Header("x-request-id"));
  }
  {
    HttpRequest a, b, c;
    a.target = "/healthz";
    b.target = "/api/v1/whoami";
    b.bearer = s.token();
    c.target = "/api/v1/no-such-route";
    ka.Send(SerializeRequest(a) + SerializeRequest(b) + SerializeRequest(c));
    auto ra = ka.Read(), rb = ka.Read(), rc = ka.Read();
    EXPECT_EQ(ra.status, 200) << ra.Describe();
    EXPECT_EQ(Str(ra.Object(), "status"), "ok");
    EXPECT_EQ(rb.status, 200) << rb.Describe();
    EXPECT_EQ(Str(rb.Object(), "username"), "admin");
    EXPECT_TRUE(IsProblem(rc, 404, "not-found", "/api/v1/no-such-route"));
    for (auto* x : {&ra, &rb, &rc}) ka_ids.insert(x->Header("x-request-id"));
  }
  EXPECT_EQ(ka_ids.size(), 8u) << "every keep-alive response has its own request id";
  auto ka_idle_since = Clock::now();

  // Slow clients: half a request, then silence. Four stop inside the headers, four inside the body.
  std::string slow_head = "POST /api/v1/users HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer " +
                          s.token() + "\r\nContent-Type: application/json\r\nContent-Length: 60\r\n\r\n";
  std::vector<HttpConnection> slow;
  for (int i = 0; i < 8; ++i) {
    slow.emplace_back(s.port());
    if (i < 4) {
      slow.back().Send(slow_head.substr(0, 40));
    } else {
      slow.back().Send(slow_head + R"({"username":"lim-slow)");
    }
  }
  auto slow_since = Clock::now();

  // Meanwhile 20 ordinary requests are served, on a server with 2 HTTP threads.
  int ok = 0;
  for (int i = 0; i < 20; ++i) {
    auto x = s.Get("/api/v1/whoami");
    if (x.status == 200) ++ok;
  }
  double served_in = Seconds(Clock::now() - slow_since);
  EXPECT_EQ(ok, 20);
  EXPECT_LT(served_in, 1.8) << "20 requests took " << served_in << " s while slow clients were connected";
  for (auto& c : slow) EXPECT_TRUE(c.IsOpen()) << "a slow client was dropped before the read timeout";

  // The slow clients are cut at --read-timeout (2 s), whichever part of the request they stalled
  // in. Each is watched by its own thread, so that every close is timed when it happens.
  std::vector<double> held(slow.size(), -1);
  {
    std::vector<std::thread> watchers;
    for (size_t i = 0; i < slow.size(); ++i) {
      watchers.emplace_back([&, i] {
        if (slow[i].WaitClosed(std::chrono::duration_cast<std::chrono::milliseconds>(
                slow_since + 9s - Clock::now()))) {
          held[i] = Seconds(Clock::now() - slow_since);
        }
      });
    }
    for (auto& w : watchers) w.join();
  }
  for (size_t i = 0; i < slow.size(); ++i) {
    const char* where = i < 4 ? "headers" : "body";
    EXPECT_GE(held[i], 0) << "slow client " << i << " (stalled inside the " << where
                          << ") still connected after 9 s";
    if (held[i] < 0) continue;
    EXPECT_GE(held[i], 1.5) << "slow client " << i << " cut before the read timeout";
    EXPECT_LE(held[i], 3.5) << "slow client " << i << " (stalled inside the " << where
                            << ") held its connection " << held[i]
                            << " s; --read-timeout is 2 s (--idle-timeout 6 s)";
  }
  EXPECT_EQ(s.Get("/api/v1/users/lim-slow").status, 404);

  // The idle keep-alive connection is closed after --idle-timeout (6 s).
  bool ka_closed = ka.WaitClosed(std::chrono::duration_cast<std::chrono::milliseconds>(
      ka_idle_since + 10s - Clock::now()));
  double idle = Seconds(Clock::now() - ka_idle_since);
  EXPECT_TRUE(ka_closed) << "idle keep-alive connection open after " << idle << " s";
  EXPECT_GE(idle, 5.0) << "idle keep-alive connection closed early";
  EXPECT_EQ(s.Get("/healthz", kNoAuth).status, 200);
}

// 3. SIGTERM drains: no new connections, idle ones closed at once, a request in flight finishes,
//    exit 0; a running job goes back to the queue (not lost) and runs again after a restart.
TEST_P(ServerTest, GracefulDrainRequeuesJobs) {
  GantryServer& s = NewServer();
  HttpConnection idle(s.port());
  HttpRequest h;
  h.target = "/healthz";
  ASSERT_EQ(idle.RoundTrip(h).status, 200);

  auto r = s.Post("/api/v1/jobs", R"({"type":"demo.sleep","params":{"seconds":30}})");
  ASSERT_EQ(r.status, 201) << r.Describe();
  int64_t id = Int(r.Object(), "id");
  ASSERT_GT(id, 0);
  auto job = WaitJob(s, id, [](const json::object& j) { return Str(j, "state") == "running"; }, 10s);
  ASSERT_EQ(Str(job, "state"), "running") << json::serialize(job);
  EXPECT_EQ(Int(job, "attempts"), 1);

  // A request in flight: its headers and half its body are in when SIGTERM arrives.
  HttpRequest create;
  create.method = "POST";
  create.target = "/api/v1/users";
  create.bearer = s.token();
  create.body = R"({"username":"drain-inflight","roles":["viewer"]})";
  std::string wire = SerializeRequest(create);
  size_t split = wire.size() - create.body.size() / 2;
  HttpConnection inflight(s.port());
  inflight.Send(wire.substr(0, split));
  std::this_thread::sleep_for(200ms);

  auto t0 = Clock::now();
  s.Kill(SIGTERM);
  EXPECT_TRUE(idle.WaitClosed(2s)) << "the idle keep-alive connection was not closed by the drain";
  EXPECT_TRUE(s.running()) << "gantry serve exited before the request in flight was answered";
  std::this_thread::sleep_for(100ms);
  EXPECT_THROW(HttpConnection(s.port(), 1s), HttpError) << "still accepting connections while draining";
  inflight.Send(wire.substr(split));
  r = inflight.Read(5s);
  EXPECT_EQ(r.status, 201) << r.Describe();
  EXPECT_EQ(r.Header("connection"), "close") << "a response during the drain must close its connection";
  auto st = s.WaitExit(10s);
  double took = Seconds(Clock::now() - t0);
  ASSERT_TRUE(st.has_value()) << "gantry serve still running 10 s after SIGTERM";
  EXPECT_EQ(*st, 0) << "exit status after SIGTERM";
  EXPECT_LT(took, 5.0) << "drain took " << took << " s";
  EXPECT_TRUE(inflight.WaitClosed(1s));
  EXPECT_NE(s.log().find("draining"), std::string::npos);

  // The job is back in the queue with its attempt not spent; nothing else touched it.
  s.Start();
  r = s.Get("/readyz", kNoAuth);
  EXPECT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(Str(r.Object(), "status"), "ready") << r.Describe();
  r = s.Get("/api/v1/jobs/" + std::to_string(id));
  ASSERT_EQ(r.status, 200) << r.Describe();
  job = r.Object();
  EXPECT_TRUE(Str(job, "state") == "queued" || Str(job, "state") == "running") << json::serialize(job);
  EXPECT_TRUE(LogHas(job, "interrupted by shutdown; re-queued")) << json::serialize(job);
  job = WaitJob(s, id, [](const json::object& j) { return Str(j, "state") == "running"; }, 10s);
  ASSERT_EQ(Str(job, "state"), "running") << json::serialize(job);
  EXPECT_EQ(Int(job, "attempts"), 1) << "the interrupted attempt was counted: " << json::serialize(job);

  // ... and can be cancelled; the running handler hears of it at the next heartbeat (~1 s).
  r = s.Post("/api/v1/jobs/" + std::to_string(id) + "/cancel", "");
  ASSERT_EQ(r.status, 202) << r.Describe();
  EXPECT_TRUE(r.Object()["cancel_requested"].as_bool());
  job = WaitJob(s, id, [](const json::object& j) { return Str(j, "state") == "cancelled"; }, 5s);
  EXPECT_EQ(Str(job, "state"), "cancelled") << json::serialize(job);
  EXPECT_EQ(ListAll(s, "/api/v1/audit/events?action=job.cancel&target=" + std::to_string(id)).size(), 1u);
  // The request answered during the drain was committed, with its audit event.
  EXPECT_EQ(s.Get("/api/v1/users/drain-inflight").status, 200);
  EXPECT_EQ(ListAll(s, "/api/v1/audit/events?action=user.create&target=drain-inflight").size(), 1u);
}

// 4. SIGKILL in the middle of a burst of writes loses nothing that was acknowledged and leaves
//    the audit trail exactly consistent with the data.
TEST_P(ServerTest, CrashDuringWriteBurst) {
  GantryServer& s = NewServer();
  std::atomic<bool> killed{false};
  std::mutex mu;
  std::vector<std::string> acked_users;
  std::vector<int64_t> acked_tokens;
  std::vector<std::string> unexpected;
  std::atomic<int> attempts{0};

  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; !killed; ++i) {
        std::string name = "crash-" + std::to_string(t) + "-" + std::to_string(i);
        bool user = (i + t) % 2 == 0;
        try {
          ++attempts;
          auto r = user ? s.Post("/api/v1/users", R"({"username":")" + name +
                                                      R"(","password":"crash-password-123"})")
                        : s.Post("/api/v1/tokens", R"({"name":")" + name + R"("})");
          std::lock_guard lock(mu);
          if (r.status == 201 && user) {
            acked_users.push_back(name);
          } else if (r.status == 201) {
            acked_tokens.push_back(Int(r.Object(), "id"));
          } else if (!killed) {
            unexpected.push_back(name + ": " + r.Describe());
          }
        } catch (const HttpError& e) {
          if (!killed) {
            std::lock_guard lock(mu);
            unexpected.push_back(name + ": " + e.what());
          }
          return;
        }
      }
    });
  }
  std::this_thread::sleep_for(1200ms);
  killed = true;  // from here on, failed requests are expected (acknowledged ones still count)
  s.Kill(SIGKILL);
  for (auto& t : threads) t.join();
  EXPECT_TRUE(unexpected.empty()) << unexpected.size() << " requests failed before the kill, e.g. "
                                  << unexpected.front();
  ASSERT_GT(acked_users.size(), 0u);
  ASSERT_GT(acked_tokens.size(), 0u);
  std::cerr << "[ info ] " << attempts << " requests started; acknowledged: " << acked_users.size()
            << " users, " << acked_tokens.size() << " tokens\n";

  // The chain is intact right after the crash (offline verify on the killed server's database).
  auto v = s.Admin({"audit", "verify"});
  EXPECT_EQ(v.status, 0) << v.output;

  s.Start();
  auto users = Usernames(s);
  for (const auto& n : acked_users) EXPECT_TRUE(users.count(n)) << "acknowledged user " << n << " lost";
  std::set<int64_t> tokens;
  for (const auto& t : ListAll(s, "/api/v1/tokens?all=true")) tokens.insert(Int(t.as_object(), "id"));
  for (auto id : acked_tokens) EXPECT_TRUE(tokens.count(id)) << "acknowledged token " << id << " lost";

  // Exactly one user.create event per user, and none without its user.
  std::map<std::string, int> user_events;
  for (const auto& e : ListAll(s, "/api/v1/audit/events?action=user.create")) {
    ++user_events[Str(e.as_object(), "target")];
  }
  for (const auto& n : users) {
    EXPECT_EQ(user_events[n], 1) << "user.create events for " << n;
    if (n.starts_with("crash-")) {
      EXPECT_EQ(ListAll(s, "/api/v1/audit/events?action=user.create&target=" + n).size(), 1u) << n;
    }
  }
  for (const auto& [target, n] : user_events) {
    EXPECT_TRUE(users.count(target)) << "user.create event for " << target << " without the user";
  }
  // Likewise for tokens.
  std::map<std::string, int> token_events;
  for (const auto& e : ListAll(s, "/api/v1/audit/events?action=token.create")) {
    ++token_events[Str(e.as_object(), "target")];
  }
  for (auto id : tokens) EXPECT_EQ(token_events[std::to_string(id)], 1) << "token.create events for token " << id;
  for (const auto& [target, n] : token_events) {
    EXPECT_TRUE(tokens.count(std::stoll(target))) << "token.create event for token " << target << " without it";
  }

  auto api = s.Get("/api/v1/audit/verify");
  EXPECT_EQ(api.status, 200) << api.Describe();
  EXPECT_TRUE(api.Object()["ok"].as_bool()) << api.Describe();
  ASSERT_EQ(s.Stop(), 0);
  v = s.Admin({"audit", "verify"});
  EXPECT_EQ(v.status, 0) << v.output;
  EXPECT_NE(v.output.find("audit chain OK"), std::string::npos) << v.output;
}

// 5. Changing or deleting an audit row behind Gantry's back is found, offline and over the API.
TEST_P(ServerTest, AuditTamperingIsDetected) {
  GantryServer& s = NewServer();
  for (int i = 0; i < 4; ++i) {
    auto r = s.Post("/api/v1/users", R"({"username":"tamper-)" + std::to_string(i) + R"(","roles":["viewer"]})");
    ASSERT_EQ(r.status, 201) << r.Describe();
  }
  ASSERT_EQ(s.Stop(), 0);
  auto v = s.Admin({"audit", "verify"});
  ASSERT_EQ(v.status, 0) << v.output;

  auto orig = Sql(s, "SELECT details FROM audit_events WHERE seq = 3");
  ASSERT_EQ(orig.status, 0) << orig.output;
  std::string details = orig.output;
  while (!details.empty() && (details.back() == '\n' || details.back() == '\r')) details.pop_back();
  ASSERT_FALSE(details.empty());

  // An altered event.
  auto u = Sql(s, R"(UPDATE audit_events SET details = '{"x":1}' WHERE seq = 3)");
  ASSERT_EQ(u.status, 0) << u.output;
  v = s.Admin({"audit", "verify"});
  EXPECT_EQ(v.status, 8) << v.output;
  EXPECT_NE(v.output.find("event 3"), std::string::npos) << v.output;
  s.Start();
  auto r = s.Get("/api/v1/audit/verify");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_FALSE(r.Object()["ok"].as_bool()) << r.Describe();
  EXPECT_EQ(Int(r.Object(), "first_bad_seq"), 3) << r.Describe();
  ASSERT_EQ(s.Stop(), 0);

  // Put it back: the chain verifies again (the check is about content, not about rows touched).
  std::string quoted;
  for (char c : details) quoted += c == '\'' ? std::string("''") : std::string(1, c);
  u = Sql(s, "UPDATE audit_events SET details = '" + quoted + "' WHERE seq = 3");
  ASSERT_EQ(u.status, 0) << u.output;
  v = s.Admin({"audit", "verify"});
  EXPECT_EQ(v.status, 0) << v.output;

  // A deleted event.
  u = Sql(s, "DELETE FROM audit_events WHERE seq = 4");
  ASSERT_EQ(u.status, 0) << u.output;
  v = s.Admin({"audit", "verify"});
  EXPECT_EQ(v.status, 8) << v.output;
  EXPECT_NE(v.output.find("event 4"), std::string::npos) << v.output;
  s.Start();
  r = s.Get("/api/v1/audit/verify");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_FALSE(r.Object()["ok"].as_bool()) << r.Describe();
  EXPECT_EQ(Int(r.Object(), "first_bad_seq"), 4) << r.Describe();
}

// 6. Login, the session cookie, CSRF, failed-login throttling and logout over HTTP.
TEST_P(ServerTest, LoginSessionCsrfThrottleLogout) {
  GantryServer& s = NewServer();
  for (const char* u : {"alice", "bob"}) {
    auto r = s.Post("/api/v1/users", std::string(R"({"username":")") + u +
                                         R"(","password":"correct-horse-)" + u + R"(","roles":["operator"]})");
    ASSERT_EQ(r.status, 201) << r.Describe();
  }
  auto login = [&](const std::string& user, const std::string& password) {
    return s.Post("/api/v1/auth/login",
                  R"({"username":")" + user + R"(","password":")" + password + R"("})", kNoAuth);
  };

  auto r = login("alice", "correct-horse-alice");
  ASSERT_EQ(r.status, 200) << r.Describe();
  std::string set_cookie = r.Header("set-cookie");
  ASSERT_TRUE(set_cookie.starts_with("gantry_session=")) << set_cookie;
  EXPECT_NE(set_cookie.find("HttpOnly"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("SameSite=Strict"), std::string::npos) << set_cookie;
  EXPECT_NE(set_cookie.find("Path=/"), std::string::npos) << set_cookie;
  std::string cookie = set_cookie.substr(0, set_cookie.find(';'));
  std::string csrf = Str(r.Object(), "csrf_token");
  ASSERT_FALSE(csrf.empty()) << r.Describe();
  EXPECT_FALSE(r.Object().contains("token")) << "a session login returns no API token";
  EXPECT_EQ(Str(r.Object()["user"].as_object(), "username"), "alice");

  auto with_session = [&](std::string method, std::string target, std::string body,
                          std::optional<std::string> csrf_header) {
    HttpRequest q;
    q.method = std::move(method);
    q.target = std::move(target);
    q.body = std::move(body);
    q.headers = {{"Cookie", cookie}};
    if (csrf_header) q.headers.emplace_back("X-CSRF-Token", *csrf_header);
    return s.Request(q);
  };
  r = with_session("GET", "/api/v1/whoami", "", std::nullopt);
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_EQ(Str(r.Object(), "auth"), "session");
  EXPECT_EQ(Str(r.Object(), "csrf_token"), csrf);

  // Unsafe methods need the CSRF token.
  r = with_session("POST", "/api/v1/tokens", R"({"name":"no-csrf"})", std::nullopt);
  EXPECT_TRUE(IsProblem(r, 403, "permission-denied", "/api/v1/tokens"));
  std::string no_csrf_rid = r.Header("x-request-id");
  r = with_session("POST", "/api/v1/tokens", R"({"name":"bad-csrf"})", "not-the-token");
  EXPECT_TRUE(IsProblem(r, 403, "permission-denied", "/api/v1/tokens"));
  r = with_session("POST", "/api/v1/tokens", R"({"name":"good-csrf"})", csrf);
  EXPECT_EQ(r.status, 201) << r.Describe();
  r = with_session("GET", "/api/v1/tokens", "", std::nullopt);
  ASSERT_EQ(r.status, 200) << r.Describe();
  std::set<std::string> token_names;
  for (const auto& t : Items(r)) token_names.insert(Str(t.as_object(), "name"));
  EXPECT_EQ(token_names, std::set<std::string>{"good-csrf"});
  bool audited = false;
  for (const auto& e : ListAll(s, "/api/v1/audit/events?action=authz.denied&actor=alice")) {
    audited = audited || Str(e.as_object(), "request_id") == no_csrf_rid;
  }
  EXPECT_TRUE(audited) << "the CSRF refusal is not in the audit trail";

  // Five wrong passwords for bob are 401; the sixth attempt is 429, and so is the right password.
  for (int i = 1; i <= 5; ++i) {
    r = login("bob", "wrong-password-" + std::to_string(i));
    EXPECT_TRUE(IsProblem(r, 401, "unauthenticated", "/api/v1/auth/login")) << "attempt " << i;
  }
  r = login("bob", "wrong-password-6");
  EXPECT_TRUE(IsProblem(r, 429, "resource-exhausted", "/api/v1/auth/login"));
  r = login("bob", "correct-horse-bob");
  EXPECT_TRUE(IsProblem(r, 429, "resource-exhausted", "/api/v1/auth/login"));
  EXPECT_FALSE(r.HasHeader("set-cookie"));
  // Per account: alice (same address) still logs in.
  r = login("alice", "correct-horse-alice");
  EXPECT_EQ(r.status, 200) << r.Describe();
  int bob_failures = 0;
  for (const auto& e : ListAll(s, "/api/v1/audit/events?action=auth.login&target=bob")) {
    EXPECT_EQ(Str(e.as_object(), "result"), "failure");
    ++bob_failures;
  }
  EXPECT_EQ(bob_failures, 7);

  // Logout ends the session.
  r = with_session("POST", "/api/v1/auth/logout", "", csrf);
  EXPECT_EQ(r.status, 204) << r.Describe();
  EXPECT_NE(r.Header("set-cookie").find("Max-Age=0"), std::string::npos) << r.Header("set-cookie");
  r = with_session("GET", "/api/v1/whoami", "", std::nullopt);
  EXPECT_TRUE(IsProblem(r, 401, "unauthenticated", "/api/v1/whoami"));
}

// 7. Every operation of the served OpenAPI document is routed.
TEST_P(ServerTest, OpenApiPathsAreServed) {
  // A server of its own: the sweep disables/enables user 1, revokes token 1, cancels job 1.
  GantryServer& s = NewServer();
  auto doc_res = s.Get("/api/v1/openapi.json", kNoAuth);
  ASSERT_EQ(doc_res.status, 200) << doc_res.Describe();
  EXPECT_TRUE(doc_res.Header("content-type").starts_with("application/json"));
  json::value doc = doc_res.Json();
  ASSERT_TRUE(doc.is_object());
  ASSERT_TRUE(doc.as_object().contains("openapi"));
  ASSERT_TRUE(doc.as_object()["paths"].is_object());

  struct Op {
    std::string method, path, target;
  };
  std::vector<Op> ops;
  for (const auto& [path_key, item] : doc.as_object()["paths"].as_object()) {
    std::string path(path_key), target;
    for (size_t i = 0; i < path.size(); ++i) {
      if (path[i] == '{') {
        target += "1";
        i = path.find('}', i);
      } else {
        target += path[i];
      }
    }
    for (const auto& [method_key, op] : item.as_object()) {
      std::string method(method_key);
      if (method != "get" && method != "post" && method != "put" && method != "patch" && method != "delete") continue;
      std::transform(method.begin(), method.end(), method.begin(), ::toupper);
      ops.push_back({method, path, target});
    }
  }
  ASSERT_GE(ops.size(), 21u) << "the document lists fewer operations than the core API has";
  auto request = [&](const Op& op, const std::string& bearer) {
    HttpRequest q;
    q.method = op.method;
    q.target = op.target;
    q.bearer = bearer;
    if (op.method == "POST" || op.method == "PUT" || op.method == "PATCH") q.body = "{}";
    return s.Request(q);
  };

  // Without credentials the router answers before any handler: a routed operation is 401 (or,
  // when public, its real answer); 404 or 405 means the route is missing. (Outside /api a
  // missing route would get the portal's index.html.)
  // The PXE boot endpoints (/boot/...) are public by design and answer for the object: a 404
  // there must still not come from the router.
  for (const auto& op : ops) {
    auto x = request(op, kNoAuth);
    if (x.status == 404 && op.path.starts_with("/boot/")) {
      EXPECT_FALSE(Str(x.Object(), "detail").starts_with("no route")) << op.method << " " << op.path << ": "
                                                                      << x.Describe();
    } else {
      EXPECT_NE(x.status, 404) << op.method << " " << op.path << ": " << x.Describe();
    }
    EXPECT_NE(x.status, 405) << op.method << " " << op.path << ": " << x.Describe();
    EXPECT_LT(x.status, 500) << op.method << " " << op.path << ": " << x.Describe();
    EXPECT_FALSE(x.Header("content-type").starts_with("text/html")) << op.method << " " << op.path;
  }

  // With an admin's token every handler runs; objects with id 1 exist where the core API has
  // them (user 1 is the admin, token 1 its init token, job 1 below), and a 404 must be about
  // the object, not the route. The sweep uses a second token, as it revokes token 1.
  auto r = s.Post("/api/v1/jobs", R"({"type":"demo.sleep","params":{"seconds":60}})");
  ASSERT_EQ(r.status, 201) << r.Describe();
  ASSERT_EQ(Int(r.Object(), "id"), 1);
  r = s.Post("/api/v1/tokens", R"({"name":"sweep"})");
  ASSERT_EQ(r.status, 201) << r.Describe();
  std::string sweep = Str(r.Object(), "token");
  for (const auto& op : ops) {
    auto x = request(op, sweep);
    EXPECT_NE(x.status, 405) << op.method << " " << op.path << ": " << x.Describe();
    EXPECT_LT(x.status, 500) << op.method << " " << op.path << ": " << x.Describe();
    EXPECT_NE(x.status, 401) << op.method << " " << op.path << ": " << x.Describe();
    // /boot/config and /boot/callback take a node's one-time token, never a user's: 403 is right.
    if (!op.path.starts_with("/boot/")) {
      EXPECT_NE(x.status, 403) << op.method << " " << op.path << " refused to an admin: " << x.Describe();
    }
    if (x.status == 404) {
      EXPECT_FALSE(Str(x.Object(), "detail").starts_with("no route")) << op.method << " " << op.path << ": "
                                                                      << x.Describe();
    }
    EXPECT_FALSE(x.Header("x-request-id").empty()) << op.method << " " << op.path;
  }
}

// 8. Prometheus metrics.
TEST_P(ServerTest, Metrics) {
  GantryServer& s = Shared();
  auto before = s.Get("/metrics");
  for (int i = 0; i < 3; ++i) ASSERT_EQ(s.Get("/api/v1/whoami").status, 200);
  auto r = s.Get("/metrics");
  ASSERT_EQ(r.status, 200) << r.Describe();
  EXPECT_TRUE(r.Header("content-type").starts_with("text/plain")) << r.Header("content-type");
  for (const char* want : {"gantry_http_requests_total", "gantry_http_request_duration_seconds_bucket",
                           "gantry_db_pool_connections", "gantry_jobs{state=\"queued\"}",
                           "# TYPE gantry_http_requests_total counter"}) {
    EXPECT_NE(r.body.find(want), std::string::npos) << "missing " << want << " in\n" << r.body;
  }
  // The whoami counter went up by exactly 3 between the two scrapes.
  auto count = [](const std::string& text) {
    std::string key = R"(gantry_http_requests_total{route="/api/v1/whoami",method="GET",status="200"} )";
    auto pos = text.find(key);
    return pos == std::string::npos ? 0.0 : std::stod(text.substr(pos + key.size()));
  };
  EXPECT_EQ(count(r.body) - count(before.body), 3.0) << r.body;

  r = s.Get("/metrics", kNoAuth);
  EXPECT_TRUE(IsProblem(r, 401, "unauthenticated", "/metrics"));
  EXPECT_TRUE(r.Header("www-authenticate").starts_with("Bearer"));
  EXPECT_EQ(r.body.find("gantry_http_requests_total"), std::string::npos);
}

GANTRY_INSTANTIATE_BACKENDS(ServerTest);

}  // namespace
}  // namespace gantry::testing
