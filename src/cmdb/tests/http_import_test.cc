// Bulk import and export routes (http_import.cc) on a real CMDB service: CSV and JSON bodies,
// per-row errors with line and column, dry runs, the row cap, and export → import round trips.
#include <gtest/gtest.h>

#include "cmdb/http_api.h"
#include "http/problem.h"
#include "support/test_db.h"

namespace gantry::cmdb {
namespace {

namespace json = core::json;

struct Answer {
  int status = 0;
  std::string content_type;
  std::string body;
  json::value Json() const { return json::parse(body); }
};

class Cmdb {
 public:
  explicit Cmdb(store::Backend backend)
      : db_(testing::NewTestDatabase(backend)),
        clock_(1'800'000'000LL * core::kNanosPerSecond),
        audit_(*db_, clock_),
        service_(*db_, audit_, clock_) {
    EXPECT_TRUE(service_.Init());
    RegisterImportRoutes(router_, service_);
    rc_.principal.user_id = 1;
    rc_.principal.username = "alice";
    rc_.principal.roles = {core::Role::kOperator};
  }

  // Runs one request through the import/export routes as the pipeline would.
  Answer Call(const std::string& method, const std::string& path, const std::string& query,
              const std::string& content_type = "", const std::string& body = "") {
    http::Request req;
    req.method = method;
    req.path = path;
    req.query = query;
    req.target = path + (query.empty() ? "" : "?" + query);
    if (!content_type.empty()) req.headers.emplace_back("content-type", content_type);
    req.body = body;
    auto m = router_.Find(method, path);
    EXPECT_NE(nullptr, m.route) << method << " " << path;
    if (!m.route) return {};
    http::Context ctx{req, m.params, rc_, {}};
    auto r = m.route->handler(ctx);
    http::Response resp = r ? std::move(*r) : http::ProblemResponse(r.error(), req.path, "rid");
    return {resp.status, std::string(resp.Header("content-type")), resp.body};
  }
  Answer ImportCsv(const std::string& csv, const std::string& query = "") {
    return Call("POST", "/api/v1/cmdb/import", query, "text/csv; charset=utf-8", csv);
  }
  Answer ImportJson(const std::string& body, const std::string& query = "") {
    return Call("POST", "/api/v1/cmdb/import", query, "application/json", body);
  }
  Answer Export(const std::string& query) { return Call("GET", "/api/v1/cmdb/export", query); }

  Service& service() { return service_; }
  const core::RequestContext& rc() const { return rc_; }

 private:
  std::unique_ptr<store::Database> db_;
  core::ManualClock clock_;
  audit::Service audit_;
  Service service_;
  http::Router router_;
  core::RequestContext rc_;
};

class ImportTest : public ::testing::TestWithParam<store::Backend> {
 protected:
  ImportTest() : cmdb_(GetParam()) {}

  int64_t Count(const std::string& type) {
    CiFilter f;
    f.type = type;
    f.limit = 1000;
    auto cis = cmdb_.service().ListCis(cmdb_.rc(), f);
    EXPECT_TRUE(cis);
    return cis ? static_cast<int64_t>(cis->size()) : -1;
  }

  Cmdb cmdb_;
};

const char* kCis =
    "type,name,tenant,status,attr.gpu_count,attr.role,attr.mig_enabled,attr.model,attr.address\n"
    "site,dc1,,,,,,,\"Science Park 120, Amsterdam\"\n"
    "rack,A01,,,,,,,\n"
    "server,node-01,acme,maintenance,8,gpu-node,,,\n"
    "gpu,node-01:gpu0,,,,,TRUE,\"H100 \"\"SXM\"\"\",\n";

const char* kRelations =
    "type,from,to,attr.position_u\r\n"
    "located_in,rack/A01,site/dc1,\r\n"
    "located_in,server/node-01,rack/A01,12\r\n"
    "contains,server/node-01,gpu/node-01:gpu0,\r\n";

TEST_P(ImportTest, CsvImportsCisAndRelationsWithTypedCells) {
  auto dry = cmdb_.ImportCsv(kCis, "dry_run=true");
  ASSERT_EQ(200, dry.status) << dry.body;
  EXPECT_EQ(json::parse(R"({"dry_run":true,"rows":4,"created":4,"updated":0,"relations":0,"errors":[]})"),
            dry.Json());
  EXPECT_EQ(0, Count("server"));  // a dry run writes nothing

  auto done = cmdb_.ImportCsv(kCis);
  ASSERT_EQ(200, done.status) << done.body;
  EXPECT_EQ(4, done.Json().at("created").as_int64());
  auto node = cmdb_.service().GetCi(cmdb_.rc(), "server/node-01");
  ASSERT_TRUE(node);
  EXPECT_EQ(json::value(8), node->attrs.at("gpu_count"));  // an int attribute became an integer
  EXPECT_EQ("acme", node->tenant.value_or(""));
  EXPECT_EQ("maintenance", node->status);
  auto gpu = cmdb_.service().GetCi(cmdb_.rc(), "gpu/node-01:gpu0");
  ASSERT_TRUE(gpu);
  EXPECT_EQ(json::value(true), gpu->attrs.at("mig_enabled"));
  EXPECT_EQ(json::value("H100 \"SXM\""), gpu->attrs.at("model"));
  EXPECT_FALSE(gpu->attrs.contains("gpu_count"));  // empty cell: absent
  auto site = cmdb_.service().GetCi(cmdb_.rc(), "site/dc1");
  ASSERT_TRUE(site);
  EXPECT_EQ(json::value("Science Park 120, Amsterdam"), site->attrs.at("address"));

  // kind is detected from the from/to columns.
  auto rels = cmdb_.ImportCsv(kRelations);
  ASSERT_EQ(200, rels.status) << rels.body;
  EXPECT_EQ(3, rels.Json().at("relations").as_int64());
  auto of = cmdb_.service().RelationsOf(cmdb_.rc(), "server/node-01");
  ASSERT_TRUE(of);
  ASSERT_EQ(2u, of->size());
  for (const auto& r : *of) {
    if (r.type == "located_in") {
      EXPECT_EQ(json::value(12), r.attrs.at("position_u"));
    }
  }
}

TEST_P(ImportTest, BadCsvRowsComeBackWithLineAndColumnAndNothingIsWritten) {
  std::string csv =
      "type,name,attr.gpu_count,attr.mac,attr.colour,attr.model\n"
      "rack,A01,,,,\n"
      "server,node-05,eight,,,\n"
      "nic,node-05:eth0,,not-a-mac,,\"ConnectX-7\n(2 ports)\"\n"
      "router,edge-01,,,,\n"
      "server,node-06,4,,blue,\n";
  auto a = cmdb_.ImportCsv(csv);
  ASSERT_EQ(400, a.status) << a.body;
  EXPECT_EQ("application/problem+json", a.content_type);
  auto j = a.Json().as_object();
  EXPECT_EQ("https://gantry.dev/problems/invalid-argument", j.at("type").as_string());
  EXPECT_EQ("4 of 5 rows are invalid; nothing was imported", j.at("detail").as_string());
  EXPECT_EQ(5, j.at("rows").as_int64());
  EXPECT_EQ(0, j.at("created").as_int64());
  const auto& errors = j.at("errors").as_array();
  ASSERT_EQ(4u, errors.size()) << a.body;
  auto err = [&](size_t i) {
    const auto& e = errors[i].as_object();
    return std::to_string(e.at("line").as_int64()) + " " + std::string(e.at("column").as_string());
  };
  EXPECT_EQ("3 attr.gpu_count", err(0));
  EXPECT_EQ("4 attr.mac", err(1));  // the quoted model spans lines 4-5; the row starts on 4
  EXPECT_EQ("6 type", err(2));
  EXPECT_EQ("7 attr.colour", err(3));
  EXPECT_NE(std::string::npos, std::string(errors[0].at("message").as_string()).find("must be an integer"));
  EXPECT_EQ(0, Count("rack"));
}

TEST_P(ImportTest, CsvHeaderAndSyntaxErrors) {
  auto unknown = cmdb_.ImportCsv("type,name,colour,name\nrack,A01,red,A01\n");
  ASSERT_EQ(400, unknown.status);
  auto j = unknown.Json().as_object();
  const auto& errors = j.at("errors").as_array();
  ASSERT_EQ(2u, errors.size()) << unknown.body;
  EXPECT_EQ("colour", errors[0].at("column").as_string());
  EXPECT_EQ(1, errors[0].at("line").as_int64());
  EXPECT_EQ("name", errors[1].at("column").as_string());
  EXPECT_NE(std::string::npos, std::string(j.at("detail").as_string()).find("unknown column 'colour'"));

  auto missing = cmdb_.ImportCsv("type,from\nlocated_in,rack/A01\n", "kind=relations");
  ASSERT_EQ(400, missing.status);
  EXPECT_EQ("to", missing.Json().at("errors").at(0).at("column").as_string());

  auto syntax = cmdb_.ImportCsv("type,name\nrack,\"A01\nrack,A02\n");
  ASSERT_EQ(400, syntax.status);
  EXPECT_EQ("CSV syntax error on line 2: a quoted field starts here and is never closed",
            syntax.Json().at("detail").as_string());
  EXPECT_FALSE(syntax.Json().as_object().contains("errors"));

  auto ragged = cmdb_.ImportCsv("type,name\nrack,A01,extra\n");
  EXPECT_EQ(400, ragged.status);
  EXPECT_EQ("CSV syntax error on line 2: the record has 3 fields, the header has 2",
            ragged.Json().at("detail").as_string());

  EXPECT_EQ(415, cmdb_.Call("POST", "/api/v1/cmdb/import", "", "text/plain", "x").status);
  EXPECT_EQ(415, cmdb_.Call("POST", "/api/v1/cmdb/import", "", "text/csv; charset=latin1", "x").status);
  EXPECT_EQ(400, cmdb_.ImportCsv("").status);
  EXPECT_EQ(400, cmdb_.ImportCsv("type,name\n", "kind=nodes").status);
  EXPECT_EQ(400, cmdb_.ImportCsv("type,name\n", "bogus=1").status);
}

TEST_P(ImportTest, JsonRowsAreNamedByArrayAndPosition) {
  auto a = cmdb_.ImportJson(R"({"cis": [
      {"type": "rack", "name": "A01"},
      {"type": "server", "name": "node-09", "attributes": {"gpu_count": "8"}},
      {"type": "server", "name": "node-10", "colour": "red"},
      42]})");
  ASSERT_EQ(400, a.status) << a.body;
  auto aj = a.Json();
  const auto& errors = aj.at("errors").as_array();
  ASSERT_EQ(3u, errors.size()) << a.body;
  EXPECT_EQ(2, errors[0].at("line").as_int64());
  EXPECT_EQ("cis[2].attributes.gpu_count", errors[0].at("column").as_string());
  EXPECT_EQ("cis[3].colour", errors[1].at("column").as_string());
  EXPECT_EQ("cis[4]", errors[2].at("column").as_string());
  EXPECT_EQ(4, a.Json().at("rows").as_int64());
  EXPECT_EQ(0, Count("rack"));

  // A relation's error is told apart from a CI's on the same line, and a reference that does
  // not resolve names its end.
  auto b = cmdb_.ImportJson(R"({"cis": [{"type": "rack", "name": "A01"}],
      "relations": [{"type": "located_in", "from": "rack/A01", "to": "site/nowhere"}]})");
  ASSERT_EQ(400, b.status) << b.body;
  auto bj = b.Json();
  const auto& e = bj.at("errors").at(0);
  EXPECT_EQ(1, e.at("line").as_int64());
  EXPECT_EQ("relations[1].to", e.at("column").as_string());

  auto ok = cmdb_.ImportJson(R"({"cis": [{"type": "site", "name": "dc1"}, {"type": "rack", "name": "A01"}],
      "relations": [{"type": "located_in", "from": "rack/A01", "to": "site/dc1"}]})");
  ASSERT_EQ(200, ok.status) << ok.body;
  EXPECT_EQ(json::parse(R"({"dry_run":false,"rows":3,"created":2,"updated":0,"relations":1,"errors":[]})"),
            ok.Json());

  EXPECT_EQ(400, cmdb_.ImportJson(R"({"cis": [], "relations": [{"type":"x"}]})", "kind=cis").status);
  EXPECT_EQ(400, cmdb_.ImportJson(R"({"racks": []})").status);
  EXPECT_EQ(400, cmdb_.ImportJson("[1]").status);
}

TEST_P(ImportTest, AtMost200000RowsPerRequest) {
  std::string csv = "type,name\n";
  csv.reserve(200'001 * 16);
  for (int i = 0; i <= 200'000; ++i) csv += "rack,r" + std::to_string(i) + "\n";
  auto a = cmdb_.ImportCsv(csv, "dry_run=true");
  EXPECT_EQ(413, a.status);
  EXPECT_NE(std::string::npos, a.body.find("more than 200000 rows")) << a.body;
}

TEST_P(ImportTest, ExportImportsBackUnchanged) {
  ASSERT_EQ(200, cmdb_.ImportCsv(kCis).status);
  ASSERT_EQ(200, cmdb_.ImportCsv(kRelations).status);
  auto exported = cmdb_.Export("");
  ASSERT_EQ(200, exported.status) << exported.body;
  auto j = exported.Json();
  EXPECT_EQ(4u, j.at("cis").as_array().size());
  EXPECT_EQ(3u, j.at("relations").as_array().size());
  EXPECT_EQ(json::parse(R"({"type":"located_in","from":"server/node-01","to":"rack/A01","attributes":{"position_u":12}})"),
            j.at("relations").at(1));

  Cmdb other(GetParam());
  auto imported = other.ImportJson(exported.body);
  ASSERT_EQ(200, imported.status) << imported.body;
  EXPECT_EQ(exported.body, other.Export("").body);

  // CSV: one type's CIs, and the relationships, with the columns import takes.
  auto servers = cmdb_.Export("format=csv&type=server");
  ASSERT_EQ(200, servers.status) << servers.body;
  EXPECT_EQ("text/csv; charset=utf-8", servers.content_type);
  EXPECT_TRUE(servers.body.starts_with("type,name,tenant,status,attr.serial,")) << servers.body;
  EXPECT_NE(std::string::npos, servers.body.find("\r\nserver,node-01,acme,maintenance,")) << servers.body;
  auto back = cmdb_.ImportCsv(servers.body);
  ASSERT_EQ(200, back.status) << back.body;
  EXPECT_EQ(1, back.Json().at("updated").as_int64());

  auto rels = cmdb_.Export("format=csv&kind=relations&type=located_in");
  ASSERT_EQ(200, rels.status);
  EXPECT_EQ(
      "type,from,to,attr.position_u,attr.height_u\r\n"
      "located_in,rack/A01,site/dc1,,\r\n"
      "located_in,server/node-01,rack/A01,12,\r\n",
      rels.body);

  auto gpus = cmdb_.Export("format=csv&type=gpu");
  EXPECT_NE(std::string::npos, gpus.body.find("\"H100 \"\"SXM\"\"\"")) << gpus.body;

  EXPECT_EQ(400, cmdb_.Export("format=csv").status);  // CIs as CSV need a type
  EXPECT_EQ(400, cmdb_.Export("format=xml").status);
  EXPECT_EQ(400, cmdb_.Export("type=router").status);
  EXPECT_EQ(400, cmdb_.Export("kind=relations&type=nope").status);
}

GANTRY_INSTANTIATE_BACKENDS(ImportTest);

}  // namespace
}  // namespace gantry::cmdb
