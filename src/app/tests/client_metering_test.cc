// gantry price / invoice / budget / usage against a fake HTTP server.
#include <gtest/gtest.h>

#include "app/commands.h"
#include "app/tests/client_test_util.h"
#include "app/tests/fake_http_server.h"
#include "core/json.h"

namespace gantry::app::testing {
namespace {

bool Has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

class MeteringCommandsTest : public ::testing::Test {
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

TEST_F(MeteringCommandsTest, PriceSetSendsMicroUnits) {
  FakeHttpServer server([](const HttpRequest&) {
    HttpReply r;
    r.status = 201;
    r.body = R"({"id":1,"sku":"gpu-h100-hour","unit_price":"2.500000","currency":"USD","effective_from":"2026-12-01T00:00:00.000Z"})";
    return r;
  });
  auto res = RunCli({"price", "set", "gpu-h100-hour", "2.50", "--from", "2026-12-01T00:00:00Z"}, Env(server));
  ASSERT_EQ(0, res.exit_code) << res.err;
  auto req = server.requests().at(0);
  EXPECT_EQ("POST", req.method);
  EXPECT_EQ("/api/v1/metering/prices", req.Path());
  auto body = core::json::parse(req.body).as_object();
  EXPECT_EQ(2'500'000, body.at("unit_price_micros").as_int64());
  EXPECT_TRUE(Has(res.out, "gpu-h100-hour costs 2.500000 USD")) << res.out;
  // A price with more than 6 decimals or a sign is refused before anything is sent.
  for (const char* bad : {"2.5000001", "-1", "abc", "1e3"}) {
    auto r = RunCli({"price", "set", "gpu-h100-hour", bad, "--from", "2026-12-01T00:00:00Z"}, Env(server));
    EXPECT_EQ(kExitUsage, r.exit_code) << bad;
  }
  EXPECT_EQ(1u, server.requests().size());
}

TEST_F(MeteringCommandsTest, InvoiceShowExportsFocusCsvAndPreviewPrintsLines) {
  FakeHttpServer server([](const HttpRequest& req) {
    HttpReply r;
    if (req.Path() == "/api/v1/invoices/12") {
      r.content_type = "text/csv; charset=utf-8";
      r.body = "AvailabilityZone,BilledCost\r\n,2.500000\r\n";
      return r;
    }
    r.body = R"({"id":0,"number":"","kind":"invoice","tenant":"acme","period":"2026-11","currency":"USD",
      "total":"2.500000","total_micros":2500000,"issued_at":null,"lines":[{"line":1,"project":"train",
      "sku":"gpu-h100-hour","policy":"allocated","priced_quantity":"1","price_unit":"GPU-hour",
      "unit_price_micros":2500000,"discount_bp":0,"amount":"2.500000"}]})";
    return r;
  });
  auto csv = RunCli({"invoice", "show", "12", "--format", "focus"}, Env(server));
  ASSERT_EQ(0, csv.exit_code) << csv.err;
  EXPECT_EQ("format=focus", server.requests().at(0).target.substr(server.requests().at(0).target.find('?') + 1));
  EXPECT_TRUE(Has(csv.out, "AvailabilityZone,BilledCost")) << csv.out;
  auto preview = RunCli({"invoice", "preview", "acme", "2026-11"}, Env(server));
  ASSERT_EQ(0, preview.exit_code) << preview.err;
  EXPECT_TRUE(Has(preview.out, "Draft (not issued)")) << preview.out;
  EXPECT_TRUE(Has(preview.out, "gpu-h100-hour")) << preview.out;
  EXPECT_TRUE(Has(preview.out, "2.500000 USD")) << preview.out;
}

TEST_F(MeteringCommandsTest, BudgetSetPutsTheBudgetAndErrorsAreOneLine) {
  FakeHttpServer server([](const HttpRequest& req) {
    if (req.Path() == "/api/v1/tenants/nope/budgets") return Problem(404, "no tenant 'nope'");
    HttpReply r;
    r.body = R"({"id":3,"metric":"gpu_hours","limit":10000,"spent":6000,"percent":60})";
    return r;
  });
  auto res = RunCli({"budget", "set", "acme", "gpu_hours", "10000", "--project", "train", "--hard", "--hold-slurm"},
                    Env(server));
  ASSERT_EQ(0, res.exit_code) << res.err;
  auto req = server.requests().at(0);
  EXPECT_EQ("PUT", req.method);
  auto body = core::json::parse(req.body).as_object();
  EXPECT_EQ("train", body.at("project").as_string());
  EXPECT_TRUE(body.at("hard").as_bool());
  EXPECT_TRUE(body.at("hold_slurm").as_bool());
  EXPECT_TRUE(Has(res.out, "Budget 3: 6000 of 10000 (gpu_hours, 60%) this month")) << res.out;
  auto missing = RunCli({"budget", "set", "nope", "cost", "5"}, Env(server));
  EXPECT_NE(0, missing.exit_code);
  EXPECT_TRUE(Has(missing.err, "no tenant 'nope'")) << missing.err;
  EXPECT_EQ(1, std::count(missing.err.begin(), missing.err.end(), '\n')) << missing.err;
}

}  // namespace
}  // namespace gantry::app::testing
