// The tenancy routes through the real pipeline: bearer tokens, the policy table, the
// authenticator filling Principal::tenants from the tenancy service, problem+json codes.
#include "auth/http_api.h"
#include "auth/policy.h"
#include "http/pipeline.h"
#include "tenancy/http_api.h"
#include "tenancy/tests/test_util.h"

namespace gantry::tenancy {
namespace {

class TenancyHttpTest : public TenancyTest {
 protected:
  TenancyHttpTest()
      : authn_(auth_, [this](int64_t user_id) {
          auto m = service_.Memberships(user_id);
          return m ? *m : std::vector<core::TenantMembership>{};
        }) {
    auth::RegisterRoutes(router_, auth_);
    RegisterRoutes(router_, service_);
    pipeline_ = std::make_unique<http::Pipeline>(
        http::PipelineDeps{&router_, &authn_, &authz_, nullptr, nullptr, nullptr, nullptr, false});
  }

  // A bearer token for a new user with global roles.
  std::string Token(const std::string& name, std::vector<core::Role> roles) {
    MakeUser(name, std::move(roles));
    auto t = auth_.CreateToken(admin_, "test", std::nullopt, name);
    EXPECT_TRUE(t) << t.error().message;
    return "Bearer " + t->secret;
  }

  http::Response Do(const std::string& method, const std::string& target, const std::string& token,
                    const std::string& body = {}) {
    http::Request r;
    r.method = method;
    r.target = target;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.headers.emplace_back("authorization", token);
    if (!body.empty()) r.headers.emplace_back("content-type", "application/json");
    r.body = body;
    r.remote_addr = "192.0.2.7";
    return pipeline_->Handle(r);
  }

  static core::json::object Json(const http::Response& r) {
    return core::json::parse(r.body).as_object();
  }

  http::Router router_;
  auth::HttpAuthenticator authn_;
  auth::PolicyAuthorizer authz_;
  std::unique_ptr<http::Pipeline> pipeline_;
};

TEST_P(TenancyHttpTest, MembersSeeTheirTenantAndReserveIntoIt) {
  std::string root = Token("boss", {core::Role::kAdmin});
  std::string alice = Token("alice", {core::Role::kTenantMember});
  std::string bob = Token("bob", {core::Role::kTenantMember});

  EXPECT_EQ(201, Do("POST", "/api/v1/tenants", root, R"({"slug":"acme","name":"ACME"})").status);
  EXPECT_EQ(201, Do("POST", "/api/v1/tenants", root, R"({"slug":"globex"})").status);
  EXPECT_EQ(400, Do("POST", "/api/v1/tenants", root, R"({"slug":"acme","colour":"red"})").status);
  EXPECT_EQ(200, Do("POST", "/api/v1/tenants/acme/members", root,
                    R"({"user":"alice","role":"tenant-member"})").status);
  EXPECT_EQ(400, Do("POST", "/api/v1/tenants/acme/members", root,
                    R"({"user":"bob","role":"admin"})").status);

  // whoami shows the membership, taken from the tenancy service at authentication.
  auto who = Json(Do("GET", "/api/v1/whoami", alice));
  ASSERT_EQ(1u, who.at("tenants").as_array().size());
  EXPECT_EQ("acme", who.at("tenants").as_array()[0].as_object().at("tenant").as_string());
  EXPECT_EQ("tenant-member", who.at("tenants").as_array()[0].as_object().at("role").as_string());

  // Tenants one is not in look missing; the list holds only one's own.
  EXPECT_EQ(200, Do("GET", "/api/v1/tenants/acme", alice).status);
  EXPECT_EQ(404, Do("GET", "/api/v1/tenants/globex", alice).status);
  EXPECT_EQ(404, Do("GET", "/api/v1/tenants/acme", bob).status);
  EXPECT_EQ(1u, Json(Do("GET", "/api/v1/tenants", alice)).at("items").as_array().size());

  // Quotas: admins set them; tenant members may not.
  EXPECT_EQ(403, Do("PUT", "/api/v1/tenants/acme/quotas", alice,
                    R"({"resource":"gpu/h100","guaranteed":100})").status);
  auto bad = Do("PUT", "/api/v1/tenants/acme/quotas", root, R"({"resource":"gpu/x","guaranteed":1})");
  EXPECT_EQ(400, bad.status);
  EXPECT_NE(std::string::npos, bad.body.find("gpu/h100"));
  auto set = Do("PUT", "/api/v1/tenants/acme/quotas", root,
                R"({"resource":"gpu/h100","guaranteed":2,"burst":null})");
  ASSERT_EQ(200, set.status) << set.body;
  EXPECT_EQ(2, Json(set).at("guaranteed").as_int64());

  // Reservations: 201, then 429 naming the numbers, then DELETE releases.
  auto r = Do("POST", "/api/v1/tenants/acme/reservations", alice,
              R"({"resources":{"gpu/h100":2},"ref":"slurm:42"})");
  ASSERT_EQ(201, r.status) << r.body;
  int64_t id = Json(r).at("id").as_int64();
  auto over = Do("POST", "/api/v1/tenants/acme/reservations", alice,
                 R"({"resources":{"gpu/h100":1},"ref":"slurm:43"})");
  EXPECT_EQ(429, over.status);
  EXPECT_NE(std::string::npos, over.body.find("limit 2")) << over.body;
  EXPECT_EQ(404, Do("POST", "/api/v1/tenants/globex/reservations", alice,
                    R"({"resources":{"gpu/h100":1},"ref":"x"})").status);
  EXPECT_EQ(400, Do("POST", "/api/v1/tenants/acme/reservations", alice,
                    R"({"resources":{"gpu/h100":"two"},"ref":"x"})").status);

  auto quotas = Json(Do("GET", "/api/v1/tenants/acme/quotas", alice));
  auto row = quotas.at("items").as_array()[0].as_object();
  EXPECT_EQ(2, row.at("reserved").as_int64());
  EXPECT_TRUE(row.at("used").is_null());

  auto released = Do("DELETE", "/api/v1/tenants/acme/reservations/" + std::to_string(id), alice);
  ASSERT_EQ(200, released.status) << released.body;
  EXPECT_EQ("released", Json(released).at("state").as_string());
  EXPECT_EQ(409, Do("DELETE", "/api/v1/tenants/acme/reservations/" + std::to_string(id), alice).status);

  auto usage = Do("GET", "/api/v1/tenants/acme/usage?since=2000-01-01T00:00:00Z&resource=gpu/h100", alice);
  ASSERT_EQ(200, usage.status) << usage.body;
  EXPECT_EQ(3u, Json(usage).at("items").as_array().size());
  EXPECT_EQ(400, Do("GET", "/api/v1/tenants/acme/usage?since=yesterday", alice).status);
}

TEST_P(TenancyHttpTest, TenantAdminsManageMembersOfTheirTenantOnly) {
  std::string root = Token("boss", {core::Role::kAdmin});
  std::string carol = Token("carol", {core::Role::kTenantAdmin});
  Token("dave", {core::Role::kTenantMember});
  Do("POST", "/api/v1/tenants", root, R"({"slug":"acme"})");
  Do("POST", "/api/v1/tenants", root, R"({"slug":"globex"})");
  Do("POST", "/api/v1/tenants/acme/members", root, R"({"user":"carol","role":"tenant-admin"})");

  EXPECT_EQ(200, Do("POST", "/api/v1/tenants/acme/members", carol,
                    R"({"user":"dave","role":"tenant-member"})").status);
  EXPECT_EQ(404, Do("POST", "/api/v1/tenants/globex/members", carol,
                    R"({"user":"dave","role":"tenant-member"})").status);
  EXPECT_EQ(403, Do("POST", "/api/v1/tenants", carol, R"({"slug":"mine"})").status);
  EXPECT_EQ(2u, Json(Do("GET", "/api/v1/tenants/acme/members", carol)).at("items").as_array().size());
  EXPECT_EQ(204, Do("DELETE", "/api/v1/tenants/acme/members/dave", carol).status);
}

GANTRY_INSTANTIATE_BACKENDS(TenancyHttpTest);

}  // namespace
}  // namespace gantry::tenancy
