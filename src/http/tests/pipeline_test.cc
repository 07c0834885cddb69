#include "http/pipeline.h"

#include <gtest/gtest.h>

namespace gantry::http {
namespace {

// Accepts "Bearer good" (admin) and "Bearer viewer"; anything else is a bad credential.
class FakeAuthn : public Authenticator {
 public:
  core::Result<core::Principal> Authenticate(const Request& r, const core::RequestContext&) override {
    auto h = r.Header("authorization");
    core::Principal p;
    if (h.empty()) {
      if (auto c = r.Cookie("gantry_session"); c && *c == "s1") {
        p.user_id = 2;
        p.username = "web";
        p.roles = {core::Role::kAdmin};
        p.auth_method = "session";
        p.csrf_token = "csrf-1";
      }
      return p;
    }
    if (h == "Bearer good" || h == "Bearer viewer") {
      p.user_id = 1;
      p.username = h == "Bearer good" ? "alice" : "victor";
      p.roles = {h == "Bearer good" ? core::Role::kAdmin : core::Role::kViewer};
      p.auth_method = "token";
      return p;
    }
    return core::Unauthenticated("invalid token");
  }
};

class AdminOnlyWrites : public Authorizer {
 public:
  bool Allowed(const core::Principal& p, std::string_view action) const override {
    return action != "things.write" || p.HasRole(core::Role::kAdmin);
  }
};

class Recorder : public SecurityEvents {
 public:
  void Record(const core::RequestContext& rc, std::string_view kind, std::string_view,
              std::string_view, std::string_view reason) override {
    events.push_back(std::string(kind) + ":" + rc.principal.username + ":" + std::string(reason));
  }
  std::vector<std::string> events;
};

class PipelineTest : public ::testing::Test {
 protected:
  PipelineTest() {
    router_.Add({"GET", "/healthz", "", Auth::kPublic},
                [](Context&) -> core::Result<Response> { return Response::Text("ok"); });
    router_.Add({"GET", "/api/v1/things", "things.read"},
                [](Context& c) -> core::Result<Response> {
                  return Response::Json({{"user", c.rc.principal.username}});
                });
    router_.Add({"POST", "/api/v1/things", "things.write"},
                [](Context& c) -> core::Result<Response> {
                  GANTRY_TRY(auto obj, core::ParseObject(c.request.body));
                  GANTRY_TRY_STATUS(core::OnlyFields(obj, {"name"}));
                  return Response::Json({{"ok", true}}, 201);
                });
    router_.Add({"GET", "/api/v1/boom", ""},
                [](Context&) -> core::Result<Response> { throw std::runtime_error("secret db path /x"); });
    pipeline_ = std::make_unique<Pipeline>(PipelineDeps{&router_, &authn_, &authz_, &events_,
                                                        nullptr, nullptr, &metrics_, false});
  }

  Response Do(std::string method, std::string path, std::string auth = {}, std::string body = {},
              std::string ct = "application/json") {
    Request r;
    r.method = std::move(method);
    r.path = path;
    r.target = path;
    if (!auth.empty()) r.headers.emplace_back("authorization", auth);
    if (!body.empty()) r.headers.emplace_back("content-type", ct);
    r.body = std::move(body);
    r.remote_addr = "192.0.2.1";
    return pipeline_->Handle(r);
  }

  static core::json::object Problem(const Response& r) {
    EXPECT_EQ("application/problem+json", r.Header("content-type"));
    return core::json::parse(r.body).as_object();
  }

  Router router_;
  FakeAuthn authn_;
  AdminOnlyWrites authz_;
  Recorder events_;
  core::MetricsRegistry metrics_;
  std::unique_ptr<Pipeline> pipeline_;
};

TEST_F(PipelineTest, EveryResponseCarriesARequestId) {
  auto r = Do("GET", "/healthz");
  EXPECT_EQ(200, r.status);
  EXPECT_EQ(24u, r.Header("x-request-id").size());
  Request req;
  req.method = "GET";
  req.path = "/healthz";
  req.headers.emplace_back("x-request-id", "abc-123");
  EXPECT_EQ("abc-123", pipeline_->Handle(req).Header("x-request-id"));
}

TEST_F(PipelineTest, UnknownRouteIs404AndWrongMethodIs405) {
  auto r = Do("GET", "/api/v1/nothing", "Bearer good");
  EXPECT_EQ(404, r.status);
  EXPECT_EQ(404, Problem(r)["status"].as_int64());
  auto m = Do("DELETE", "/api/v1/things", "Bearer good");
  EXPECT_EQ(405, m.status);
  EXPECT_EQ("GET, POST", m.Header("allow"));
}

TEST_F(PipelineTest, MissingOrBadCredentialsAre401AndRecorded) {
  auto r = Do("GET", "/api/v1/things");
  EXPECT_EQ(401, r.status);
  EXPECT_FALSE(r.Header("www-authenticate").empty());
  EXPECT_EQ(401, Do("GET", "/api/v1/things", "Bearer nope").status);
  ASSERT_EQ(2u, events_.events.size());
  EXPECT_EQ("auth.failed::no credentials", events_.events[0]);
  EXPECT_EQ("auth.failed::invalid token", events_.events[1]);
}

TEST_F(PipelineTest, ForbiddenActionIs403AndRecorded) {
  auto r = Do("POST", "/api/v1/things", "Bearer viewer", R"({"name":"x"})");
  EXPECT_EQ(403, r.status);
  ASSERT_EQ(1u, events_.events.size());
  EXPECT_EQ(0u, events_.events[0].rfind("authz.denied:victor:", 0));
}

TEST_F(PipelineTest, WrongContentTypeIs415) {
  auto r = Do("POST", "/api/v1/things", "Bearer good", "name=x", "application/x-www-form-urlencoded");
  EXPECT_EQ(415, r.status);
}

TEST_F(PipelineTest, MalformedJsonAndUnknownFieldsAre400NamingTheField) {
  EXPECT_EQ(400, Do("POST", "/api/v1/things", "Bearer good", "{\"name\":").status);
  auto r = Do("POST", "/api/v1/things", "Bearer good", R"({"name":"x","colour":"red"})");
  EXPECT_EQ(400, r.status);
  EXPECT_EQ("colour", Problem(r)["field"].as_string());
  EXPECT_EQ(201, Do("POST", "/api/v1/things", "Bearer good", R"({"name":"x"})").status);
}

TEST_F(PipelineTest, InternalErrorsHideDetailsAndNameTheRequestId) {
  auto r = Do("GET", "/api/v1/boom", "Bearer good");
  EXPECT_EQ(500, r.status);
  EXPECT_EQ(std::string::npos, r.body.find("secret"));
  EXPECT_NE(std::string::npos, r.body.find(std::string(r.Header("x-request-id"))));
}

TEST_F(PipelineTest, SessionWritesNeedTheCsrfToken) {
  Request r;
  r.method = "POST";
  r.path = "/api/v1/things";
  r.headers = {{"cookie", "gantry_session=s1"}, {"content-type", "application/json"}};
  r.body = R"({"name":"x"})";
  EXPECT_EQ(403, pipeline_->Handle(r).status);
  r.headers.emplace_back("x-csrf-token", "csrf-1");
  EXPECT_EQ(201, pipeline_->Handle(r).status);
}

TEST_F(PipelineTest, CountsRequestsByRouteAndStatus) {
  Do("GET", "/api/v1/things", "Bearer good");
  Do("GET", "/api/v1/things", "Bearer good");
  std::string text = metrics_.Render();
  EXPECT_NE(std::string::npos,
            text.find("gantry_http_requests_total{route=\"/api/v1/things\",method=\"GET\",status=\"200\"} 2"));
}

}  // namespace
}  // namespace gantry::http
