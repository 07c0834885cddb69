#include <gtest/gtest.h>

#include <set>

#include "app/platform.h"
#include "app/routes.h"
#include "support/test_db.h"

namespace gantry::app {
namespace {

using RouteKey = std::pair<std::string, std::string>;  // method, path

std::set<RouteKey> Registered() {
  std::string dir = testing::MakeTempDir();
  PlatformOptions po;
  po.db_url = testing::NewTestDatabaseUrl(store::Backend::kSqlite);
  po.data_dir = dir;
  po.create_key = true;
  auto platform = Platform::Open(po).value();
  http::Router router;
  BuildRouter(router, *platform, {});
  std::set<RouteKey> out;
  for (const auto& r : router.routes()) out.insert({r.spec.method, r.spec.pattern});
  return out;
}

std::set<RouteKey> Documented() {
  auto doc = core::json::parse(OpenApiDocument()).as_object();
  std::set<RouteKey> out;
  for (const auto& [path, item] : doc.at("paths").as_object()) {
    for (const auto& [method, op] : item.as_object()) {
      std::string m(method);
      for (auto& c : m) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      EXPECT_TRUE(op.as_object().contains("responses")) << m << " " << path;
      EXPECT_TRUE(op.as_object().contains("summary")) << m << " " << path;
      out.insert({m, std::string(path)});
    }
  }
  return out;
}

TEST(OpenApi, EveryRegisteredRouteIsDocumented) {
  auto documented = Documented();
  for (const auto& r : Registered()) {
    EXPECT_TRUE(documented.count(r)) << r.first << " " << r.second
                                     << " is registered but missing from api/openapi.json";
  }
}

TEST(OpenApi, EveryDocumentedRouteIsRegistered) {
  auto registered = Registered();
  for (const auto& d : Documented()) {
    EXPECT_TRUE(registered.count(d)) << d.first << " " << d.second
                                     << " is in api/openapi.json but no handler is registered";
  }
}

TEST(OpenApi, IsOpenApi31) {
  auto doc = core::json::parse(OpenApiDocument()).as_object();
  EXPECT_EQ("3.1.0", doc.at("openapi").as_string());
}

}  // namespace
}  // namespace gantry::app
