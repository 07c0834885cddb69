// gantry ci ... and gantry change ... against a fake HTTP server: what they send (REF escaping,
// typed attributes, raw CSV bodies) and what they print (impact with WHY paths, import errors).
#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

#include "app/client/commands.h"
#include "app/commands.h"
#include "app/tests/client_test_util.h"
#include "app/tests/fake_http_server.h"
#include "core/json.h"

namespace gantry::app::testing {
namespace {

namespace json = core::json;

bool Has(const std::string& haystack, const std::string& needle) {
  return haystack.find(needle) != std::string::npos;
}

HttpReply Json(const std::string& body, int status = 200) {
  HttpReply r;
  r.status = status;
  r.body = body;
  return r;
}

class CmdbCommandsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    for (const char* v : {"http_proxy", "https_proxy", "HTTP_PROXY", "HTTPS_PROXY", "ALL_PROXY", "all_proxy"}) {
      ::unsetenv(v);
    }
  }
  std::map<std::string, std::string> Env() {
    return {{"GANTRY_CONFIG", (tmp_.path() / "config.yaml").string()}, {"GANTRY_TOKEN", "gty_t"}};
  }
  std::string Write(const std::string& name, const std::string& text) {
    auto p = tmp_.path() / name;
    std::ofstream(p) << text;
    return p.string();
  }
  TempDir tmp_;
};

// A hop of a graph answer.
std::string Hop(const std::string& from, const std::string& rel, const std::string& dir, const std::string& to) {
  return R"({"from":")" + from + R"(","relation":")" + rel + R"(","direction":")" + dir + R"(","to":")" + to +
         R"(","from_id":1,"to_id":2})";
}
std::string Item(const std::string& type, const std::string& name, const std::string& tenant, int depth,
                 const std::string& path) {
  return R"({"ci":{"id":9,"type":")" + type + R"(","name":")" + name + R"(","status":"active","tenant":)" +
         (tenant.empty() ? "null" : "\"" + tenant + "\"") + R"(},"depth":)" + std::to_string(depth) +
         R"(,"path":[)" + path + "]}";
}

TEST(CmdbClient, CiPathEncodesTheReferenceAsOneSegment) {
  EXPECT_EQ("/api/v1/cmdb/cis/server%2Fnode-01", client::CiPath("server/node-01"));
  EXPECT_EQ("/api/v1/cmdb/cis/42", client::CiPath("42"));
  EXPECT_EQ("/api/v1/cmdb/cis/switch_port%2Fleaf-01%3Ap1", client::CiPath("switch_port/leaf-01:p1"));
  EXPECT_EQ("/api/v1/cmdb/cis/a%20b%3F%23", client::CiPath("a b?#"));
  EXPECT_EQ("/api/v1/cmdb/cis/..%2F..%2Fusers", client::CiPath("../../users"));
}

TEST(CmdbClient, AttributesAreTypedByTheirDefinitions) {
  auto type = json::parse(R"({"name":"server","attributes":[
      {"name":"gpu_count","type":"int"},{"name":"serial","type":"string"},{"name":"mig","type":"bool"}]})");
  auto a = client::ParseAttrArgs({"gpu_count=8", "serial=12345", "mig=true", "vendor=7"}, type);
  ASSERT_TRUE(a) << a.error().message;
  EXPECT_EQ(json::parse(R"({"gpu_count":8,"serial":"12345","mig":true,"vendor":"7"})"), json::value(*a));
  // Not an integer: sent as text, for the server to refuse with its message.
  EXPECT_EQ(json::value("eight"), client::ParseAttrArgs({"gpu_count=eight"}, type)->at("gpu_count"));
  EXPECT_FALSE(client::ParseAttrArgs({"gpu_count"}, type));
  EXPECT_FALSE(client::ParseAttrArgs({"=1"}, type));
  EXPECT_FALSE(client::ParseAttrArgs({"a=1", "a=2"}, type));
}

TEST(CmdbClient, HopsReadTheWayRelationshipsAreStored) {
  auto hops = json::parse("[" + Hop("switch/leaf-01", "contains", "forward", "switch_port/leaf-01:p1") + "," +
                          Hop("switch_port/leaf-01:p1", "connected_to", "reverse", "nic/node-01:eth0") + "]");
  EXPECT_EQ("switch/leaf-01 -contains-> switch_port/leaf-01:p1 <-connected_to- nic/node-01:eth0",
            client::HopsText(hops));
  EXPECT_EQ("", client::HopsText(json::array()));
}

TEST_F(CmdbCommandsTest, ImpactPrintsASummaryAndWhyPaths) {
  std::string p1 = Hop("switch/leaf-01", "contains", "forward", "switch_port/leaf-01:p1");
  std::string p2 = p1 + "," + Hop("switch_port/leaf-01:p1", "connected_to", "reverse", "nic/node-01:eth0");
  std::string p3 = p2 + "," + Hop("nic/node-01:eth0", "contains", "reverse", "server/node-01");
  std::string p4 = p3 + "," + Hop("server/node-01", "contains", "forward", "gpu/node-01:gpu0");
  std::string answer = R"({"question":"impact","ci":{"id":1,"type":"switch","name":"leaf-01"},"total":5,
      "truncated":false,"by_type":{"switch_port":1,"nic":1,"server":1,"gpu":2},"tenants":["acme","beta"],
      "services":[],"items":[)" +
                       Item("switch_port", "leaf-01:p1", "", 1, p1) + "," + Item("nic", "node-01:eth0", "", 2, p2) +
                       "," + Item("server", "node-01", "acme", 3, p3) + "," +
                       Item("gpu", "node-01:gpu0", "", 4, p4) + "," + Item("gpu", "node-01:gpu1", "", 4, p4) + "]}";
  FakeHttpServer server([&](const HttpRequest&) { return Json(answer); });
  auto r = RunCli({"ci", "impact", "switch/leaf-01", "--depth", "5", "--server", server.url()}, Env());
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ(
      "leaf-01 failing affects 5 CIs: 1 switch_port, 1 nic, 1 server, 2 gpu; tenants: acme, beta\n"
      "\n"
      "DEPTH  CI                      STATUS  TENANT  WHY\n"
      "1      switch_port/leaf-01:p1  active  -       switch/leaf-01 -contains-> switch_port/leaf-01:p1\n"
      "2      nic/node-01:eth0        active  -       switch/leaf-01 -contains-> switch_port/leaf-01:p1 "
      "<-connected_to- nic/node-01:eth0\n"
      "3      server/node-01          active  acme    switch/leaf-01 -contains-> switch_port/leaf-01:p1 "
      "<-connected_to- nic/node-01:eth0 <-contains- server/node-01\n"
      "4      gpu/node-01:gpu0        active  -       switch/leaf-01 -contains-> switch_port/leaf-01:p1 "
      "<-connected_to- nic/node-01:eth0 <-contains- server/node-01 -contains-> gpu/node-01:gpu0\n"
      "4      gpu/node-01:gpu1        active  -       switch/leaf-01 -contains-> switch_port/leaf-01:p1 "
      "<-connected_to- nic/node-01:eth0 <-contains- server/node-01 -contains-> gpu/node-01:gpu0\n",
      r.out);
  auto reqs = server.requests();
  ASSERT_EQ(1u, reqs.size());
  EXPECT_EQ("/api/v1/cmdb/cis/switch%2Fleaf-01/impact?depth=5", reqs[0].target);

  r = RunCli({"ci", "impact", "switch/leaf-01", "--server", server.url(), "-o", "json"}, Env());
  EXPECT_EQ(json::parse(answer), json::parse(r.out));
}

TEST_F(CmdbCommandsTest, ImpactOfALeafCiSaysSo) {
  FakeHttpServer server([](const HttpRequest&) {
    return Json(R"({"ci":{"type":"gpu","name":"node-01:gpu0"},"total":0,"items":[],"by_type":{},"tenants":[],
                    "services":[],"truncated":false})");
  });
  auto r = RunCli({"ci", "impact", "gpu/node-01:gpu0", "--server", server.url()}, Env());
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("node-01:gpu0 failing affects no other CI\n", r.out);
}

TEST_F(CmdbCommandsTest, ImportSendsTheFileAndReportsEveryBadRow) {
  std::string csv = "type,name,attr.gpu_count\nserver,node-05,eight\nrouter,edge-01,\n";
  std::string file = Write("estate.csv", csv);
  FakeHttpServer server([](const HttpRequest&) {
    HttpReply r;
    r.status = 400;
    r.content_type = "application/problem+json";
    r.body = R"({"type":"https://gantry.dev/problems/invalid-argument","title":"Bad Request","status":400,
        "detail":"2 of 2 rows are invalid; nothing was imported","instance":"/api/v1/cmdb/import",
        "request_id":"r1","dry_run":true,"rows":2,"created":0,"updated":0,"relations":0,"errors":[
        {"line":2,"column":"attr.gpu_count","message":"server/node-05: attribute 'gpu_count' must be an integer"},
        {"line":3,"column":"type","message":"unknown CI type 'router'"},
        {"line":4,"column":"","message":"a row without a column"}]})";
    return r;
  });
  auto r = RunCli({"ci", "import", file, "--dry-run", "--server", server.url()}, Env());
  EXPECT_EQ(kExitInvalid, r.exit_code);
  EXPECT_EQ("", r.out);
  EXPECT_EQ(
      "line 2, column attr.gpu_count: server/node-05: attribute 'gpu_count' must be an integer\n"
      "line 3, column type: unknown CI type 'router'\n"
      "line 4: a row without a column\n"
      "gantry: 2 of 2 rows are invalid; nothing was imported\n",
      r.err);
  auto reqs = server.requests();
  ASSERT_EQ(1u, reqs.size());
  EXPECT_EQ("POST", reqs[0].method);
  EXPECT_EQ("/api/v1/cmdb/import?dry_run=true", reqs[0].target);
  EXPECT_EQ("text/csv; charset=utf-8", reqs[0].Header("content-type"));
  EXPECT_EQ(csv, reqs[0].body);

  // -o json: the report on stdout, the same exit status.
  r = RunCli({"ci", "import", file, "--server", server.url(), "-o", "json"}, Env());
  EXPECT_EQ(kExitInvalid, r.exit_code);
  EXPECT_EQ(3u, json::parse(r.out).at("errors").as_array().size());
}

TEST_F(CmdbCommandsTest, ImportReportsWhatItDid) {
  std::string file = Write("rels.json", R"({"relations":[]})");
  FakeHttpServer server([](const HttpRequest& req) {
    bool dry = Has(req.target, "dry_run=true");
    return Json(std::string(R"({"dry_run":)") + (dry ? "true" : "false") +
                R"(,"rows":61,"created":0,"updated":0,"relations":61,"errors":[]})");
  });
  auto r = RunCli({"ci", "import", file, "--kind", "relations", "--server", server.url()}, Env());
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("Imported 61 rows: 0 created, 0 updated, 61 relationships added\n", r.out);
  EXPECT_EQ("application/json", server.requests().at(0).Header("content-type"));
  EXPECT_EQ("/api/v1/cmdb/import?kind=relations", server.requests().at(0).target);
  r = RunCli({"ci", "import", file, "--dry-run", "--server", server.url()}, Env());
  EXPECT_EQ(
      "Dry run: 61 rows are valid; importing would create 0, update 0 and add 61 relationships. Nothing was "
      "written.\n",
      r.out);

  // Other failures are one line, with the exit status of their kind.
  FakeHttpServer refusing([](const HttpRequest&) { return Problem(413, "request body is larger than 1048576 bytes"); });
  r = RunCli({"ci", "import", file, "--server", refusing.url()}, Env());
  EXPECT_EQ(kExitInvalid, r.exit_code);
  EXPECT_EQ("gantry: request body is larger than 1048576 bytes\n", r.err);

  r = RunCli({"ci", "import", Write("estate.txt", "x"), "--server", server.url()}, Env());
  EXPECT_EQ(kExitUsage, r.exit_code);
  EXPECT_TRUE(Has(r.err, "name it *.csv or *.json")) << r.err;
  r = RunCli({"ci", "import", (tmp_.path() / "missing.csv").string(), "--server", server.url()}, Env());
  EXPECT_EQ(kExitUsage, r.exit_code);
}

TEST_F(CmdbCommandsTest, ShowEscapesTheReferenceAndNamesPeers) {
  FakeHttpServer server([](const HttpRequest& req) {
    if (req.Path() == "/api/v1/cmdb/cis/server%2Fnode-01") {
      return Json(R"({"id":7,"type":"server","name":"node-01","status":"active","tenant":"acme","version":3,
                      "stale":false,"attributes":{"gpu_count":8,"role":"gpu-node"}})");
    }
    if (req.Path() == "/api/v1/cmdb/cis/7/relations") {
      return Json(R"({"items":[{"id":11,"type":"located_in","from_id":7,"to_id":2,"attributes":{"position_u":10}},
                               {"id":12,"type":"deployed_on","from_id":30,"to_id":7,"attributes":{}},
                               {"id":13,"type":"contains","from_id":7,"to_id":99,"attributes":{}}]})");
    }
    if (req.Path() == "/api/v1/cmdb/cis") {
      return Json(R"({"items":[{"id":2,"type":"rack","name":"A01"},{"id":30,"type":"service","name":"api"}],
                      "next_cursor":null})");
    }
    return Problem(404, "no route");
  });
  auto r = RunCli({"ci", "show", "server/node-01", "--server", server.url()}, Env());
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_TRUE(Has(r.out, "ATTRIBUTES\ngpu_count  8\nrole       gpu-node\n")) << r.out;
  EXPECT_TRUE(Has(r.out,
                  "RELATIONSHIPS\n"
                  "ID  RELATIONSHIP                ATTRIBUTES\n"
                  "11  -located_in-> rack/A01      position_u=10\n"
                  "12  <-deployed_on- service/api  -\n"
                  "13  -contains-> #99             -\n"))
      << r.out;
  EXPECT_TRUE(Has(r.out, "-contains-> #99")) << r.out;  // a peer the caller cannot see
  auto reqs = server.requests();
  ASSERT_EQ(3u, reqs.size());
  EXPECT_EQ("/api/v1/cmdb/cis/server%2Fnode-01", reqs[0].target);
  EXPECT_EQ("/api/v1/cmdb/cis?related_to=7&limit=5000", reqs[2].target);

  r = RunCli({"ci", "history", "switch_port/leaf-01:p1", "--server", server.url()}, Env());
  EXPECT_EQ("/api/v1/cmdb/cis/switch_port%2Fleaf-01%3Ap1", server.requests().back().target);
  EXPECT_EQ(kExitNotFound, r.exit_code);
}

TEST_F(CmdbCommandsTest, UpdateSendsTypedAttributesAndTheVersionItRead) {
  FakeHttpServer server([](const HttpRequest& req) {
    if (req.method == "GET" && req.Path() == "/api/v1/cmdb/cis/leaf-01") {
      return Json(R"({"id":5,"type":"switch","name":"leaf-01","status":"active","version":4,"attributes":{}})");
    }
    if (req.Path() == "/api/v1/cmdb/types/switch") {
      return Json(R"({"name":"switch","attributes":[{"name":"os_version","type":"string"},
                                                    {"name":"ports","type":"int"}]})");
    }
    if (req.method == "PATCH") {
      return Json(R"({"id":5,"type":"switch","name":"leaf-01","status":"maintenance","version":5,
                      "attributes":{"ports":48,"os_version":"5.1"}})");
    }
    return Problem(404, "unexpected " + req.method + " " + req.target);
  });
  auto r = RunCli({"ci", "update", "leaf-01", "--attr", "ports=48", "--attr", "os_version=5.1", "--unset", "model",
                   "--status", "maintenance", "--server", server.url()},
                  Env());
  ASSERT_EQ(0, r.exit_code) << r.err;
  auto reqs = server.requests();
  ASSERT_EQ(3u, reqs.size());
  EXPECT_EQ("PATCH", reqs[2].method);
  EXPECT_EQ("/api/v1/cmdb/cis/5", reqs[2].target);
  EXPECT_EQ(json::parse(R"({"version":4,"attributes":{"ports":48,"os_version":"5.1","model":null},
                            "status":"maintenance"})"),
            json::parse(reqs[2].body));
  EXPECT_TRUE(Has(r.out, "STATUS      maintenance\n")) << r.out;

  r = RunCli({"ci", "update", "leaf-01", "--server", server.url()}, Env());
  EXPECT_EQ(kExitUsage, r.exit_code);
}

TEST_F(CmdbCommandsTest, DeleteRefusedWithRelationshipsIsAConflict) {
  FakeHttpServer server([](const HttpRequest& req) {
    if (Has(req.target, "cascade=true")) return Json("", 204);
    return Problem(409, "rack/A01 has 2 relationships (...); remove them first or delete with cascade");
  });
  auto r = RunCli({"ci", "delete", "rack/A01", "--server", server.url()}, Env());
  EXPECT_EQ(kExitConflict, r.exit_code);
  EXPECT_EQ("DELETE", server.requests().at(0).method);
  EXPECT_EQ("/api/v1/cmdb/cis/rack%2FA01", server.requests().at(0).target);
  r = RunCli({"ci", "delete", "rack/A01", "--cascade", "--server", server.url()}, Env());
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("/api/v1/cmdb/cis/rack%2FA01?cascade=true", server.requests().at(1).target);
  EXPECT_EQ("Deleted rack/A01 and its relationships\n", r.out);
}

TEST_F(CmdbCommandsTest, ExportWritesTheServersCsvToAFile) {
  std::string csv = "type,name,tenant,status,attr.serial\r\nserver,node-01,,active,SRV1\r\n";
  FakeHttpServer server([&](const HttpRequest&) {
    HttpReply r;
    r.content_type = "text/csv; charset=utf-8";
    r.body = csv;
    return r;
  });
  auto out = (tmp_.path() / "servers.csv").string();
  auto r = RunCli({"ci", "export", "--type", "server", "-o", out, "--server", server.url()}, Env());
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("/api/v1/cmdb/export?format=csv&type=server", server.requests().at(0).target);
  EXPECT_TRUE(Has(server.requests().at(0).Header("accept"), "text/csv"));
  std::ifstream in(out, std::ios::binary);
  std::stringstream got;
  got << in.rdbuf();
  EXPECT_EQ(csv, got.str());
  EXPECT_EQ("Wrote " + std::to_string(csv.size()) + " bytes to " + out + "\n", r.out);
}

TEST_F(CmdbCommandsTest, ChangeRequestsAreProposedFromAFileAndApproved) {
  std::string file = Write("drain.json", R"([{"op":"update_ci","ci":"switch/leaf-01","status":"maintenance"}])");
  FakeHttpServer server([](const HttpRequest& req) {
    std::string cr = R"({"id":3,"title":"Drain leaf-01","state":")" +
                     std::string(Has(req.target, "approve") ? "applied" : "pending") +
                     R"(","edits":[{"op":"update_ci","ci":"switch/leaf-01","status":"maintenance"}],
        "impact":{"affected_total":18,"affected_by_type":{"server":2,"gpu":8},"tenants":["acme"],"services":["api"]}})";
    return Json(cr, req.method == "POST" && req.Path() == "/api/v1/cmdb/changes" ? 201 : 200);
  });
  auto r = RunCli({"change", "propose", "--title", "Drain leaf-01", "--file", file, "--server", server.url()}, Env());
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ(
      "Change request 3 proposed with 1 edit; it affects 18 CIs: 2 server, 8 gpu; tenants: acme; services: api.\n"
      "Another operator applies it with 'gantry change approve 3' (or 'gantry change reject 3').\n",
      r.out);
  EXPECT_EQ(json::parse(R"({"title":"Drain leaf-01","edits":[{"op":"update_ci","ci":"switch/leaf-01",
                            "status":"maintenance"}]})"),
            json::parse(server.requests().at(0).body));

  r = RunCli({"change", "approve", "3", "--comment", "ok", "--server", server.url()}, Env());
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("/api/v1/cmdb/changes/3/approve", server.requests().at(1).target);
  EXPECT_EQ(json::parse(R"({"comment":"ok"})"), json::parse(server.requests().at(1).body));
  EXPECT_EQ("Change request 3 applied (1 edit)\n", r.out);
}

TEST_F(CmdbCommandsTest, TimesAreCheckedBeforeAsking) {
  FakeHttpServer server([](const HttpRequest&) { return Json(R"({"changes":[]})"); });
  auto r = RunCli({"ci", "diff", "node-01", "--from", "yesterday", "--server", server.url()}, Env());
  EXPECT_EQ(kExitUsage, r.exit_code);
  EXPECT_TRUE(Has(r.err, "--from 'yesterday' is not a time")) << r.err;
  EXPECT_TRUE(server.requests().empty());
  r = RunCli({"ci", "diff", "node-01", "--from", "2026-11-20T09:00:00Z", "--to", "2026-11-21T09:00:00Z", "--server",
              server.url()},
             Env());
  ASSERT_EQ(0, r.exit_code) << r.err;
  EXPECT_EQ("/api/v1/cmdb/cis/node-01/diff?from=2026-11-20T09%3A00%3A00.000Z&to=2026-11-21T09%3A00%3A00.000Z",
            server.requests().at(0).target);
  EXPECT_EQ("node-01: 0 changes between 2026-11-20T09:00:00.000Z and 2026-11-21T09:00:00.000Z\n", r.out);
}

}  // namespace
}  // namespace gantry::app::testing
