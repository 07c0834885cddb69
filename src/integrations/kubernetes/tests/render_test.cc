// Rendering of Namespace, ResourceQuota and LimitRange from a project's quota, compared byte for
// byte with the golden files in tests/golden/ (GANTRY_UPDATE_GOLDEN=1 rewrites them). No
// Kubernetes API server runs here; what the API server does with these objects is not tested.
#include "integrations/kubernetes/render.h"

#include <gtest/gtest.h>

#include "integrations/kubernetes/tests/test_files.h"

namespace gantry::kubernetes {
namespace {

using testing::ExpectMatchesFile;
using testing::TestDir;

constexpr int64_t kMi = int64_t{1} << 20;
constexpr int64_t kGi = int64_t{1} << 30;

// Every resource kind Gantry has, custom container defaults.
ProjectQuota FullQuota() {
  return {.tenant = "acme",
          .project = "vision",
          .hard = {{"gpu/h100", 4},
                   {"gpu/a100", 2},
                   {"mig/1g.10gb", 7},
                   {"mig/3g.40gb", 1},
                   {"cpu", 64},
                   {"memory", 512 * kGi},
                   {"storage", 10 * (kGi << 10)},
                   {"instances", 50},
                   {"nodes", 2}},
          .limits = ContainerDefaults{.cpu_request_millis = 250,
                                      .cpu_limit_millis = 2000,
                                      .memory_request_bytes = 512 * kMi,
                                      .memory_limit_bytes = 4 * kGi}};
}

// CPU and an odd amount of memory only, Gantry's default container limits.
ProjectQuota MinimalQuota() {
  return {.tenant = "lab-7", .project = "nlp", .hard = {{"cpu", 8}, {"memory", 1536 * kMi}}};
}

void ExpectGolden(const std::string& name, const Rendered& r) {
  ExpectMatchesFile(TestDir() / "golden" / (name + "-namespace.json"),
                    CanonicalJson(r.namespace_obj));
  ExpectMatchesFile(TestDir() / "golden" / (name + "-resourcequota.json"),
                    CanonicalJson(r.resource_quota));
  ExpectMatchesFile(TestDir() / "golden" / (name + "-limitrange.json"),
                    CanonicalJson(r.limit_range));
}

TEST(KubeRender, FullQuotaMatchesGolden) {
  auto r = Render(FullQuota());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ("gantry-acme-vision", r->namespace_name);
  EXPECT_EQ(std::vector<std::string>{"nodes"}, r->skipped);
  ExpectGolden("full", *r);
}

TEST(KubeRender, MinimalQuotaMatchesGolden) {
  auto r = Render(MinimalQuota());
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_TRUE(r->skipped.empty());
  ExpectGolden("minimal", *r);
}

TEST(KubeRender, QuotaHardMapping) {
  auto hard = ToQuotaHard(FullQuota().hard);
  ASSERT_TRUE(hard) << hard.error().message;
  std::map<std::string, std::string> want = {
      {"requests.nvidia.com/gpu", "6"},  // h100 + a100
      {"requests.nvidia.com/mig-1g.10gb", "7"},
      {"requests.nvidia.com/mig-3g.40gb", "1"},
      {"requests.cpu", "64"},
      {"limits.cpu", "64"},
      {"requests.memory", "512Gi"},
      {"limits.memory", "512Gi"},
      {"requests.storage", "10240Gi"},
      {"pods", "50"}};
  EXPECT_EQ(want, *hard);
  // A zero quota is rendered (it forbids the resource), not dropped.
  auto zero = ToQuotaHard({{"gpu/h100", 0}});
  ASSERT_TRUE(zero);
  EXPECT_EQ("0", zero->at("requests.nvidia.com/gpu"));
}

TEST(KubeRender, RenderingIsDeterministic) {
  auto a = Render(FullQuota());
  auto b = Render(FullQuota());
  ASSERT_TRUE(a && b);
  EXPECT_EQ(CanonicalJson(a->resource_quota), CanonicalJson(b->resource_quota));
  // Keys are sorted however the object was built.
  core::json::object o{{"b", 1}, {"a", core::json::object{{"z", true}, {"y", nullptr}}}};
  EXPECT_EQ("{\n  \"a\": {\n    \"y\": null,\n    \"z\": true\n  },\n  \"b\": 1\n}\n",
            CanonicalJson(o));
}

TEST(KubeRender, UnknownResourcesListTheSupportedOnes) {
  for (const char* bad : {"gpus", "gpu/", "gpu/H100", "mig/1g", "mig/1g.10gb+me", "ram",
                          "nvidia.com/gpu", "requests.cpu", ""}) {
    auto r = Render({.tenant = "acme", .project = "vision", .hard = {{bad, 1}}});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(core::Code::kInvalidArgument, r.error().code) << bad;
    EXPECT_NE(std::string::npos, r.error().message.find(SupportedResourcesText()))
        << r.error().message;
  }
}

TEST(KubeRender, RejectsBadAmountsAndNames) {
  EXPECT_FALSE(ToQuotaHard({{"cpu", -1}}));
  EXPECT_FALSE(ToQuotaHard({{"cpu", (int64_t{1} << 60) + 1}}));
  EXPECT_FALSE(ToQuotaHard({{"gpu/a100", int64_t{1} << 60}, {"gpu/h100", 1}}));  // sum overflows
  EXPECT_FALSE(NamespaceName("Acme", "vision"));
  EXPECT_FALSE(NamespaceName("acme", "vision-"));
  EXPECT_FALSE(NamespaceName("acme", "1vision"));
  EXPECT_FALSE(NamespaceName("acme", ""));
  EXPECT_FALSE(NamespaceName("acme", "a/b"));
  // 7 + 30 + 1 + 26 = 64 characters: one too many for a namespace.
  auto too_long = NamespaceName(std::string(30, 't'), std::string(26, 'p'));
  ASSERT_FALSE(too_long);
  EXPECT_NE(std::string::npos, too_long.error().message.find("63"));
  EXPECT_TRUE(NamespaceName(std::string(30, 't'), std::string(25, 'p')));
}

TEST(KubeRender, ContainerDefaultsMustBeConsistent) {
  auto q = MinimalQuota();
  q.limits = ContainerDefaults{.cpu_request_millis = 2000, .cpu_limit_millis = 1000};
  auto r = Render(q);
  ASSERT_FALSE(r);
  EXPECT_EQ("cpu_request_millis", r.error().field);
  q.limits = ContainerDefaults{.memory_request_bytes = 0};
  EXPECT_FALSE(Render(q));
  // Only what is set is rendered.
  q.limits = ContainerDefaults{.cpu_request_millis = 500};
  r = Render(q);
  ASSERT_TRUE(r) << r.error().message;
  const auto& item = r->limit_range.at("spec").at("limits").at(0).as_object();
  EXPECT_FALSE(item.contains("default"));
  EXPECT_EQ("500m", item.at("defaultRequest").at("cpu").as_string());
  EXPECT_FALSE(item.at("defaultRequest").as_object().contains("memory"));
}

TEST(KubeRender, Quantities) {
  EXPECT_EQ("64Gi", FormatBytes(64 * kGi));
  EXPECT_EQ("1536Mi", FormatBytes(1536 * kMi));
  EXPECT_EQ("1000", FormatBytes(1000));
  EXPECT_EQ("0", FormatBytes(0));
  EXPECT_EQ("2", FormatMillicores(2000));
  EXPECT_EQ("250m", FormatMillicores(250));
}

}  // namespace
}  // namespace gantry::kubernetes
