#include "lifecycle/template.h"

#include <gtest/gtest.h>

#include "lifecycle/builtin_templates.h"
#include "lifecycle/types.h"

namespace gantry::lifecycle {
namespace {

std::string Render(std::string_view t, core::json::object vars) {
  auto r = RenderTemplate(t, vars);
  EXPECT_TRUE(r) << (r ? "" : r.error().message);
  return r ? *r : "";
}

std::string ErrorOf(std::string_view t, core::json::object vars = {}) {
  auto r = RenderTemplate(t, vars);
  EXPECT_FALSE(r) << "rendered: " << (r ? *r : "");
  return r ? "" : r.error().message;
}

TEST(Template, SubstitutesVariables) {
  EXPECT_EQ("host node-1 has 8 GPUs: true",
            Render("host {{hostname}} has {{ gpus }} GPUs: {{gpu}}", {{"hostname", "node-1"}, {"gpus", 8}, {"gpu", true}}));
  EXPECT_EQ("no tags here", Render("no tags here", {}));
  EXPECT_EQ("a  b", Render("a {{! a comment }} b", {}));
}

TEST(Template, IfElseAndEach) {
  std::string t = "{{#if gpu}}driver {{driver}}{{else}}no gpu{{/if}};{{#each keys}}[{{.}}]{{/each}}";
  EXPECT_EQ("driver nvidia-550;[k1][k2]",
            Render(t, {{"gpu", true}, {"driver", "nvidia-550"}, {"keys", core::json::array{"k1", "k2"}}}));
  EXPECT_EQ("no gpu;", Render(t, {{"gpu", false}, {"driver", "x"}, {"keys", core::json::array{}}}));
  EXPECT_EQ("eth0=aa eth1=bb ",
            Render("{{#each nics}}{{.name}}={{.mac}} {{/each}}",
                   {{"nics", core::json::array{core::json::object{{"name", "eth0"}, {"mac", "aa"}},
                                               core::json::object{{"name", "eth1"}, {"mac", "bb"}}}}}));
  // Nested blocks.
  EXPECT_EQ("x:1 x:2 ", Render("{{#each l}}{{#if on}}x:{{.}} {{/if}}{{/each}}", {{"on", 1}, {"l", core::json::array{1, 2}}}));
}

TEST(Template, UnknownVariableFailsWithTheLine) {
  EXPECT_EQ("template line 2: no variable 'disk'", ErrorOf("a\n{{disk}}\n"));
  // Also inside a branch that is not taken, and in the body of an empty list.
  EXPECT_NE("", ErrorOf("{{#if off}}{{nope}}{{/if}}", {{"off", false}}));
  EXPECT_NE("", ErrorOf("{{#each l}}{{nope}}{{/each}}", {{"l", core::json::array{}}}));
}

TEST(Template, MalformedTemplatesFail) {
  EXPECT_NE(std::string::npos, ErrorOf("{{#if a}}x", {{"a", true}}).find("missing {{/if}}"));
  EXPECT_NE(std::string::npos, ErrorOf("{{/if}}").find("unexpected"));
  EXPECT_NE(std::string::npos, ErrorOf("{{#each a}}x{{/if}}", {{"a", core::json::array{}}}).find("closes"));
  EXPECT_NE(std::string::npos, ErrorOf("{{hostname").find("without"));
  EXPECT_NE(std::string::npos, ErrorOf("{{#loop x}}{{/loop}}", {{"x", 1}}).find("unknown block"));
  EXPECT_NE(std::string::npos, ErrorOf("{{l}}", {{"l", core::json::array{}}}).find("list"));
  EXPECT_NE(std::string::npos, ErrorOf("{{#each s}}{{/each}}", {{"s", "text"}}).find("not a list"));
}

TEST(Template, BuiltinTemplatesRenderWithTheStandardVariables) {
  core::json::object vars{{"hostname", "gpu-01"}, {"mac", "52:54:00:00:00:01"}, {"ip", "10.0.0.5"},
                          {"netmask", "255.255.255.0"}, {"gateway", "10.0.0.1"}, {"timezone", "UTC"},
                          {"disk", "/dev/nvme0n1"}, {"disk_name", "nvme0n1"}, {"disk_layout", "lvm"},
                          {"lvm", true}, {"role", "gpu-node"}, {"gpu", true}, {"gpu_model", "H100"},
                          {"gpu_count", 8}, {"gpu_driver", "nvidia-driver-550"}, {"cuda_version", "12-4"},
                          {"gantry_url", "http://g"}, {"callback_url", "http://g/boot/callback?token=t"},
                          {"image_url", "http://g/boot/images/x/rootfs"},
                          {"ssh_keys", core::json::array{"ssh-ed25519 AAAA admin"}}};
  for (const auto& t : BuiltinTemplates()) {
    auto r = RenderTemplate(t.body, vars);
    ASSERT_TRUE(r) << t.name << ": " << r.error().message;
    EXPECT_NE(std::string::npos, r->find("gpu-01")) << t.name;
    if (t.name != "gantry-script") {
      EXPECT_NE(std::string::npos, r->find("ssh-ed25519 AAAA admin")) << t.name;
      EXPECT_NE(std::string::npos, r->find("callback?token=t")) << t.name;
    }
  }
}

TEST(Names, MacsAndHostnames) {
  EXPECT_EQ("52:54:00:99:00:10", NormalizeMac("52-54-00-99-00-10").value());
  EXPECT_EQ("52:54:00:99:00:10", NormalizeMac("52:54:00:99:00:10").value());
  EXPECT_EQ("aa:bb:cc:dd:ee:ff", NormalizeMac("AABBCCDDEEFF").value());
  EXPECT_FALSE(NormalizeMac("52:54:00:99:00"));
  EXPECT_FALSE(NormalizeMac("52:54:00:99:00:1g"));
  EXPECT_FALSE(NormalizeMac("5254:0099:0010:"));
  EXPECT_TRUE(IsValidHostname("node-0010"));
  EXPECT_FALSE(IsValidHostname("Node"));
  EXPECT_FALSE(IsValidHostname("-a"));
  EXPECT_FALSE(IsValidHostname(""));
  EXPECT_EQ("node-525400990010", DefaultName("52:54:00:99:00:10"));
}

TEST(StateMachine, RulesMatchTheLifecycle) {
  EXPECT_EQ(kCommissioning, std::string(FindOp("commission")->during));
  EXPECT_EQ(kReady, std::string(FindOp("commission")->after));
  EXPECT_EQ(kDeployed, std::string(FindOp("deploy")->after));
  EXPECT_EQ(kReady, std::string(FindOp("release")->after));
  EXPECT_EQ(nullptr, FindOp("destroy"));
  EXPECT_TRUE(IsTransient(kDeploying));
  EXPECT_FALSE(IsTransient(kDeployed));
  EXPECT_FALSE(IsValidState("allocated"));
}

}  // namespace
}  // namespace gantry::lifecycle
