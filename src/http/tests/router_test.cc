#include "http/router.h"

#include <gtest/gtest.h>

namespace gantry::http {
namespace {

Handler Ok(std::string tag) {
  return [tag](Context&) -> core::Result<Response> { return Response::Text(tag); };
}

TEST(Router, MatchesLiteralsAndParameters) {
  Router r;
  r.Add({"GET", "/api/v1/jobs"}, Ok("list"));
  r.Add({"GET", "/api/v1/jobs/{id}"}, Ok("get"));
  r.Add({"POST", "/api/v1/jobs/{id}/cancel"}, Ok("cancel"));
  auto m = r.Find("GET", "/api/v1/jobs/42");
  ASSERT_NE(nullptr, m.route);
  EXPECT_EQ("/api/v1/jobs/{id}", m.route->spec.pattern);
  EXPECT_EQ("42", m.params["id"]);
  EXPECT_EQ("/api/v1/jobs", r.Find("GET", "/api/v1/jobs").route->spec.pattern);
  EXPECT_EQ(nullptr, r.Find("GET", "/api/v1/jobs/42/cancel/x").route);
  EXPECT_EQ(nullptr, r.Find("GET", "/api/v1/jobs/").route);
}

TEST(Router, LiteralBeatsParameter) {
  Router r;
  r.Add({"GET", "/api/v1/users/{id}"}, Ok("one"));
  r.Add({"GET", "/api/v1/users/me"}, Ok("me"));
  EXPECT_EQ("/api/v1/users/me", r.Find("GET", "/api/v1/users/me").route->spec.pattern);
}

TEST(Router, WrongMethodListsAllowedOnes) {
  Router r;
  r.Add({"GET", "/api/v1/tokens"}, Ok("l"));
  r.Add({"POST", "/api/v1/tokens"}, Ok("c"));
  auto m = r.Find("DELETE", "/api/v1/tokens");
  EXPECT_EQ(nullptr, m.route);
  EXPECT_EQ((std::vector<std::string>{"GET", "POST"}), m.allowed_methods);
  EXPECT_TRUE(r.Find("GET", "/nope").allowed_methods.empty());
}

TEST(Router, HeadIsServedByTheGetRoute) {
  Router r;
  r.Add({"GET", "/healthz"}, Ok("h"));
  ASSERT_NE(nullptr, r.Find("HEAD", "/healthz").route);
}

TEST(Router, DuplicateRouteIsAWiringBug) {
  Router r;
  r.Add({"GET", "/a"}, Ok("1"));
  EXPECT_THROW(r.Add({"GET", "/a"}, Ok("2")), std::logic_error);
}

}  // namespace
}  // namespace gantry::http

namespace gantry::http {
namespace {

TEST(Router, DecodesEachParameterSoSlashesCanBeEscaped) {
  Router r;
  r.Add({"GET", "/api/v1/cmdb/cis/{ref}"}, Ok("get"));
  auto m = r.Find("GET", "/api/v1/cmdb/cis/server%2Fnode-01");
  ASSERT_NE(nullptr, m.route);
  EXPECT_EQ("server/node-01", m.params["ref"]);
  EXPECT_EQ(nullptr, r.Find("GET", "/api/v1/cmdb/cis/server/node-01").route);
}

}  // namespace
}  // namespace gantry::http
