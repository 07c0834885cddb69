// gantry tenant / project / quota against a fake HTTP server, and the quantity parser behind
// `quota set` and `quota reserve`.
#include <gtest/gtest.h>

#include "app/client/quantity.h"
#include "app/commands.h"
#include "app/tests/client_test_util.h"
#include "app/tests/fake_http_server.h"
#include "core/json.h"

namespace gantry::app::testing {
namespace {

namespace json = core::json;
using client::FormatQuantity;
using client::ParseQuantity;

bool Has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

TEST(Quantity, BytesTakeDecimalAndBinaryUnits) {
  EXPECT_EQ(512LL << 30, ParseQuantity("memory", "512GiB").value());
  EXPECT_EQ(512LL << 30, ParseQuantity("memory", "512Gi").value());
  EXPECT_EQ(2'000'000'000'000LL, ParseQuantity("storage", "2TB").value());
  EXPECT_EQ(3LL << 29, ParseQuantity("memory", "1.5GiB").value());
  EXPECT_EQ(1024, ParseQuantity("memory", "1024").value());
  EXPECT_EQ(1024, ParseQuantity("memory", "1024B").value());
  for (const char* bad : {"", "GiB", "-1GiB", "1.5B", "12XB", "1.", "2EiB", "99999PiB"}) {
    EXPECT_FALSE(ParseQuantity("memory", bad)) << bad;
  }
}

TEST(Quantity, OtherResourcesArePlainIntegers) {
  EXPECT_EQ(8, ParseQuantity("gpu/h100", "8").value());
  EXPECT_EQ(0, ParseQuantity("cpu", "0").value());
  EXPECT_FALSE(ParseQuantity("cpu", "8k"));
  EXPECT_FALSE(ParseQuantity("nodes", "-1"));
  EXPECT_FALSE(ParseQuantity("gpu/h100", "1.5"));
}

TEST(Quantity, BytesAreShownInTheLargestExactBinaryUnit) {
  EXPECT_EQ("512GiB", FormatQuantity("memory", 512LL << 30));
  EXPECT_EQ("1536MiB", FormatQuantity("memory", 3LL << 29));
  EXPECT_EQ("1000B", FormatQuantity("storage", 1000));
  EXPECT_EQ("0", FormatQuantity("storage", 0));
  EXPECT_EQ("4096", FormatQuantity("cpu", 4096));
}

class TenancyCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"}) {
      ::unsetenv(v);
    }
  }
  std::map<std::string, std::string> Env(const FakeHttpServer& server) {
    return {{"GANTRY_CONFIG", (tmp_.path() / "config.yaml").string()},
            {"GANTRY_TOKEN", "gty_t"},
            {"GANTRY_SERVER", server.url()}};
  }
  TempDir tmp_;
};

TEST_F(TenancyCommandsTest, QuotaShowPrintsTheTableWithUnits) {
  FakeHttpServer server([](const HttpRequest&) {
    HttpReply r;
    r.body = R"({"items":[
      {"project":null,"resource":"gpu/h100","guaranteed":16,"burst":32,"reserved":20,"borrowed":4,"lent":0,"used":null},
      {"project":null,"resource":"memory","guaranteed":4398046511104,"burst":null,"reserved":549755813888,"borrowed":0,"lent":0,"used":null},
      {"project":"train","resource":"gpu/h100","guaranteed":8,"burst":null,"reserved":8,"borrowed":0,"lent":0,"used":null}],
      "next_cursor":null})";
    return r;
  });
  auto res = RunCli({"quota", "show", "acme"}, Env(server));
  ASSERT_EQ(0, res.exit_code) << res.err;
  EXPECT_EQ("/api/v1/tenants/acme/quotas", server.requests().at(0).Path());
  EXPECT_TRUE(Has(res.out, "RESOURCE  GUARANTEED  BURST  RESERVED  BORROWED  LENT")) << res.out;
  EXPECT_TRUE(Has(res.out, "gpu/h100  16          32     20        4         0")) << res.out;
  EXPECT_TRUE(Has(res.out, "memory    4TiB        -      512GiB")) << res.out;
  EXPECT_TRUE(Has(res.out, "PROJECT  RESOURCE")) << res.out;
  EXPECT_TRUE(Has(res.out, "train    gpu/h100")) << res.out;
}

TEST_F(TenancyCommandsTest, QuotaSetSendsAPutWithBaseUnits) {
  FakeHttpServer server([](const HttpRequest&) {
    HttpReply r;
    r.body = R"({"project":"train","resource":"memory","guaranteed":549755813888,"burst":1099511627776,"reserved":0,"borrowed":0,"lent":0,"used":null})";
    return r;
  });
  auto res = RunCli({"quota", "set", "acme", "memory", "512GiB", "--burst", "1TiB", "--project",
                     "train", "--force"},
                    Env(server));
  ASSERT_EQ(0, res.exit_code) << res.err;
  auto req = server.requests().at(0);
  EXPECT_EQ("PUT", req.method);
  EXPECT_EQ("/api/v1/tenants/acme/quotas", req.Path());
  auto body = json::parse(req.body).as_object();
  EXPECT_EQ(549755813888, body.at("guaranteed").as_int64());
  EXPECT_EQ(1099511627776, body.at("burst").as_int64());
  EXPECT_EQ("train", body.at("project").as_string());
  EXPECT_TRUE(body.at("force").as_bool());
  EXPECT_TRUE(Has(res.out, "guaranteed 512GiB, burst 1TiB")) << res.out;

  auto bad = RunCli({"quota", "set", "acme", "memory", "lots"}, Env(server));
  EXPECT_EQ(kExitUsage, bad.exit_code);
  EXPECT_EQ(1u, server.requests().size());
}

TEST_F(TenancyCommandsTest, QuotaReserveAndExhaustion) {
  FakeHttpServer server([](const HttpRequest& r) {
    if (Has(r.body, "slurm:2")) {
      return Problem(429, "quota exceeded for tenant 'acme': gpu/h100: requested 4, reserved 14, limit 16 (tenant 'acme')");
    }
    HttpReply ok;
    ok.status = 201;
    ok.body = R"({"id":7,"tenant":"acme","project":null,"ref":"slurm:1","state":"active",
                 "resources":{"gpu/h100":4,"memory":549755813888},"borrowed":{}})";
    return ok;
  });
  auto res = RunCli({"quota", "reserve", "acme", "gpu/h100=4", "memory=512GiB", "--ref", "slurm:1"},
                    Env(server));
  ASSERT_EQ(0, res.exit_code) << res.err;
  auto body = json::parse(server.requests().at(0).body).as_object();
  EXPECT_EQ(4, body.at("resources").as_object().at("gpu/h100").as_int64());
  EXPECT_EQ(549755813888, body.at("resources").as_object().at("memory").as_int64());
  EXPECT_TRUE(Has(res.out, "Reservation 7")) << res.out;

  auto over = RunCli({"quota", "reserve", "acme", "gpu/h100=4", "--ref", "slurm:2"}, Env(server));
  EXPECT_NE(0, over.exit_code);
  EXPECT_TRUE(Has(over.err, "requested 4, reserved 14, limit 16")) << over.err;

  auto bad = RunCli({"quota", "reserve", "acme", "gpu/h100", "--ref", "x"}, Env(server));
  EXPECT_EQ(kExitUsage, bad.exit_code);
}

TEST_F(TenancyCommandsTest, TenantAndMemberCommandsUseTheRightRoutes) {
  FakeHttpServer server([](const HttpRequest& r) {
    HttpReply ok;
    if (r.method == "DELETE") {
      ok.status = 204;
      return ok;
    }
    ok.body = R"({"id":1,"slug":"acme","username":"alice","role":"tenant-admin","tenant":"acme"})";
    return ok;
  });
  ASSERT_EQ(0, RunCli({"tenant", "create", "acme", "--cohort", "research"}, Env(server)).exit_code);
  ASSERT_EQ(0, RunCli({"tenant", "member", "add", "acme", "alice", "--role", "tenant-admin"}, Env(server)).exit_code);
  ASSERT_EQ(0, RunCli({"tenant", "member", "remove", "acme", "alice"}, Env(server)).exit_code);
  ASSERT_EQ(0, RunCli({"project", "create", "acme", "training"}, Env(server)).exit_code);
  ASSERT_EQ(0, RunCli({"quota", "release", "acme", "7"}, Env(server)).exit_code);
  auto reqs = server.requests();
  ASSERT_EQ(5u, reqs.size());
  EXPECT_EQ("POST /api/v1/tenants", reqs[0].method + " " + reqs[0].Path());
  EXPECT_EQ("research", json::parse(reqs[0].body).as_object().at("cohort").as_string());
  EXPECT_EQ("POST /api/v1/tenants/acme/members", reqs[1].method + " " + reqs[1].Path());
  EXPECT_EQ("DELETE /api/v1/tenants/acme/members/alice", reqs[2].method + " " + reqs[2].Path());
  EXPECT_EQ("POST /api/v1/tenants/acme/projects", reqs[3].method + " " + reqs[3].Path());
  EXPECT_EQ("DELETE /api/v1/tenants/acme/reservations/7", reqs[4].method + " " + reqs[4].Path());
}

}  // namespace
}  // namespace gantry::app::testing
