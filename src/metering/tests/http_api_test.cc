// The metering routes through the router: JSON ↔ typed requests, error codes, CSV/FOCUS exports
// and the remote-write receiver's refusals.
#include "http/problem.h"
#include "http/router.h"
#include "metering/http_api.h"
#include "metering/remote_write.h"
#include "metering/tests/test_util.h"

namespace gantry::metering {
namespace {

class HttpApiTest : public MeteringTest {
 protected:
  void SetUp() override {
    RegisterRoutes(router_, *service_, *billing_);
    rw_ = std::make_unique<RemoteWriteReceiver>(*service_, &metrics_);
    RegisterRemoteWriteRoutes(router_, *rw_);
  }
  http::Response Call(const std::string& method, const std::string& target, const std::string& body = "",
                      http::Headers headers = {}) {
    http::Request r;
    r.method = method;
    r.target = target;
    auto q = target.find('?');
    r.path = target.substr(0, q);
    if (q != std::string::npos) r.query = target.substr(q + 1);
    r.body = body;
    r.headers = std::move(headers);
    auto m = router_.Find(method, r.path);
    if (!m.route) return http::Response{.status = 404};
    http::Context c{r, m.params, admin_};
    auto resp = m.route->handler(c);
    if (!resp) {
      http::Response e;
      e.status = http::StatusFor(resp.error().code);
      e.body = resp.error().message;
      return e;
    }
    return *resp;
  }
  http::Router router_;
  std::unique_ptr<RemoteWriteReceiver> rw_;
};

TEST_P(HttpApiTest, RecordsUsageInvoicesAndExports) {
  MakeTenant("acme", {"train"});
  auto bad = Call("POST", "/api/v1/metering/records", "{not json");
  EXPECT_EQ(400, bad.status);
  EXPECT_EQ(1, metrics_.Counter("gantry_metering_rejected_total", "", {}).Value({"api", "malformed"}));
  EXPECT_EQ(400, Call("POST", "/api/v1/metering/records",
                      R"({"records":[{"key":"a","tenant":"acme","sku":"gpu-h100-hour","quantity":1e30,"start":"2026-11-10T00:00:00Z","end":"2026-11-10T01:00:00Z"}]})")
                     .status);
  auto ok = Call("POST", "/api/v1/metering/records",
                 R"({"records":[{"key":"a","tenant":"acme","project":"train","sku":"gpu-h100-hour","quantity":3600000,"start":"2026-11-10T00:00:00Z","end":"2026-11-10T01:00:00Z"}]})");
  ASSERT_EQ(200, ok.status) << ok.body;
  EXPECT_NE(std::string::npos, ok.body.find("\"accepted\":1"));
  auto usage = Call("GET", "/api/v1/metering/usage?tenant=acme&since=2026-11-10T00:00:00Z&until=2026-11-11T00:00:00Z&granularity=day");
  ASSERT_EQ(200, usage.status) << usage.body;
  EXPECT_NE(std::string::npos, usage.body.find("\"quantity\":3600000"));
  EXPECT_EQ(400, Call("GET", "/api/v1/metering/usage?granularity=week").status);
  ASSERT_EQ(201, Call("POST", "/api/v1/metering/prices",
                      R"({"sku":"gpu-h100-hour","unit_price_micros":2500000,"effective_from":"2026-01-01T00:00:00Z"})")
                     .status);
  EXPECT_EQ(409, Call("POST", "/api/v1/metering/prices",
                      R"({"sku":"gpu-h100-hour","unit_price_micros":1,"effective_from":"2026-01-01T00:00:00Z"})")
                     .status);
  auto preview = Call("GET", "/api/v1/invoices/preview?tenant=acme&month=2026-11");
  ASSERT_EQ(200, preview.status) << preview.body;
  EXPECT_NE(std::string::npos, preview.body.find("\"total_micros\":2500000"));
  EXPECT_EQ(409, Call("POST", "/api/v1/invoices", R"({"tenant":"acme","month":"2026-11"})").status);  // not ended
  clock_.Advance(25 * kNanosPerDay);
  auto issued = Call("POST", "/api/v1/invoices", R"({"tenant":"acme","month":"2026-11"})");
  ASSERT_EQ(201, issued.status) << issued.body;
  auto id = core::json::parse(issued.body).as_object().at("id").as_int64();
  auto csv = Call("GET", "/api/v1/invoices/" + std::to_string(id) + "?format=focus");
  ASSERT_EQ(200, csv.status);
  EXPECT_EQ("text/csv; charset=utf-8", std::string(csv.Header("content-type")));
  EXPECT_TRUE(csv.body.starts_with("AvailabilityZone,BilledCost,"));
  auto cn = Call("POST", "/api/v1/invoices/" + std::to_string(id) + "/credit-notes", R"({"reason":"test","amount_micros":100})");
  ASSERT_EQ(201, cn.status) << cn.body;
  auto budget = Call("PUT", "/api/v1/tenants/acme/budgets", R"({"project":"train","metric":"gpu_hours","limit":5,"hard":true})");
  ASSERT_EQ(200, budget.status) << budget.body;
  EXPECT_EQ(400, Call("PUT", "/api/v1/tenants/acme/budgets", R"({"metric":"bananas","limit":5})").status);
}

TEST_P(HttpApiTest, RemoteWriteRefusals) {
  EXPECT_EQ(415, Call("POST", "/api/v1/metering/write", "x", {{"content-encoding", "gzip"}}).status);
  EXPECT_EQ(400, Call("POST", "/api/v1/metering/write", "garbage", {{"content-encoding", "snappy"}}).status);
}

GANTRY_INSTANTIATE_BACKENDS(HttpApiTest);

}  // namespace
}  // namespace gantry::metering
