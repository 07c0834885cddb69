// The lifecycle through a real `gantry serve`: the Ansible inventory read by the real
// ansible-inventory through `gantry inventory`, a playbook job with its live output, and the
// boot endpoints' contract (public, scoped, problem+json).
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "integration/gantry_server.h"
#include "support/process.h"
#include "support/test_db.h"

namespace gantry::testing {
namespace {

using namespace std::chrono_literals;

class LifecycleServerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    playbooks_ = MakeTempDir("playbooks");
    server_ = std::make_unique<GantryServer>(
        store::Backend::kSqlite, std::vector<std::string>{"--playbook-dir", playbooks_, "--boot-url", "http://127.0.0.1:9"});
  }
  void Post201(const std::string& path, const std::string& body) {
    auto r = server_->Post(path, body);
    ASSERT_EQ(201, r.status) << path << " " << body << ": " << r.Describe();
  }
  void Estate() {
    Post201("/api/v1/cmdb/cis", R"({"type":"site","name":"dc-east"})");
    Post201("/api/v1/cmdb/cis", R"({"type":"rack","name":"r01"})");
    Post201("/api/v1/cmdb/relations", R"({"type":"located_in","from":"rack/r01","to":"site/dc-east"})");
    Post201("/api/v1/cmdb/cis", R"({"type":"slurm_partition","name":"batch"})");
    Post201("/api/v1/cmdb/cis", R"({"type":"server","name":"gpu-01","attributes":{"role":"gpu-node","gpu_model":"H100","gpu_count":8}})");
    Post201("/api/v1/cmdb/cis", R"({"type":"server","name":"gpu-02","attributes":{"role":"gpu-node","gpu_model":"A100"}})");
    Post201("/api/v1/cmdb/relations", R"({"type":"located_in","from":"server/gpu-01","to":"rack/r01"})");
    Post201("/api/v1/cmdb/relations", R"({"type":"located_in","from":"server/gpu-02","to":"rack/r01"})");
    Post201("/api/v1/cmdb/relations", R"({"type":"member_of","from":"server/gpu-01","to":"slurm_partition/batch"})");
  }
  std::string InventoryScript() {
    std::string path = playbooks_ + "/gantry-inventory";
    std::ofstream(path) << "#!/bin/sh\nexec '" << GantryBin() << "' inventory --server " << server_->url()
                        << " --token " << server_->token() << " \"$@\"\n";
    std::filesystem::permissions(path, std::filesystem::perms::owner_all);
    return path;
  }
  std::map<std::string, std::string> AnsibleEnv() {
    return {{"HOME", playbooks_}, {"ANSIBLE_LOCAL_TEMP", playbooks_ + "/tmp"}, {"ANSIBLE_NOCOLOR", "1"}};
  }
  std::string playbooks_;
  std::unique_ptr<GantryServer> server_;
};

TEST_F(LifecycleServerTest, AnsibleInventoryReadsTheCmdbThroughGantryInventory) {
  if (!std::filesystem::exists("/usr/bin/ansible-inventory")) GTEST_SKIP() << "ansible is not installed";
  Estate();
  auto r = testing::Run({"ansible-inventory", "-i", InventoryScript(), "--list"}, "", 120s, AnsibleEnv());
  ASSERT_EQ(0, r.status) << r.output;
  auto inv = boost::json::parse(r.output.substr(r.output.find('{'))).as_object();
  auto hosts = [&](const char* g) {
    std::set<std::string> out;
    if (auto* grp = inv.if_contains(g)) {
      for (const auto& h : grp->as_object().at("hosts").as_array()) out.insert(std::string(h.as_string()));
    }
    return out;
  };
  EXPECT_EQ((std::set<std::string>{"gpu-01", "gpu-02"}), hosts("site_dc_east"));
  EXPECT_EQ((std::set<std::string>{"gpu-01", "gpu-02"}), hosts("rack_r01"));
  EXPECT_EQ((std::set<std::string>{"gpu-01"}), hosts("gpu_h100"));
  EXPECT_EQ((std::set<std::string>{"gpu-01"}), hosts("slurm_batch"));
  const auto& vars = inv.at("_meta").as_object().at("hostvars").as_object().at("gpu-01").as_object();
  EXPECT_EQ(8, vars.at("gpu_count").as_int64());
  EXPECT_EQ("dc-east", vars.at("gantry_site").as_string());
  // --host speaks the protocol too.
  auto one = testing::Run({InventoryScript(), "--host", "gpu-02"});
  ASSERT_EQ(0, one.status) << one.output;
  EXPECT_NE(std::string::npos, one.output.find("\"gpu_model\":\"A100\"")) << one.output;
  auto missing = testing::Run({InventoryScript(), "--host", "nope"});
  EXPECT_NE(0, missing.status);
}

TEST_F(LifecycleServerTest, APlaybookRunsAsAJobWithItsOutputKept) {
  if (!std::filesystem::exists("/usr/bin/ansible-playbook")) GTEST_SKIP() << "ansible is not installed";
  Estate();
  std::ofstream(playbooks_ + "/hello.yml") << R"(- hosts: all
  connection: local
  gather_facts: false
  tasks:
    - name: say where the host is
      ansible.builtin.debug:
        msg: "hello {{ inventory_hostname }} in rack {{ gantry_rack }}"
)";
  auto started = server_->Post("/api/v1/jobs", R"({"type":"lifecycle.playbook","params":{"playbook":"hello.yml","limit":"gpu-01"}})");
  ASSERT_EQ(201, started.status) << started.Describe();
  int64_t id = started.Object().at("id").as_int64();
  boost::json::object job;
  for (int i = 0; i < 600; ++i) {
    job = server_->Get("/api/v1/jobs/" + std::to_string(id)).Object();
    std::string state(job.at("state").as_string());
    if (state == "succeeded" || state == "failed" || state == "cancelled") break;
    std::this_thread::sleep_for(200ms);
  }
  ASSERT_EQ("succeeded", job.at("state").as_string()) << boost::json::serialize(job);
  std::string log = boost::json::serialize(job.at("log"));
  EXPECT_NE(std::string::npos, log.find("hello gpu-01 in rack r01")) << log;
  EXPECT_EQ(std::string::npos, log.find("hello gpu-02")) << log;  // --limit
  std::string recap(job.at("result").as_object().at("recap").as_string());
  EXPECT_NE(std::string::npos, recap.find("gpu-01")) << recap;
  EXPECT_NE(std::string::npos, recap.find("ok=1")) << recap;
  // A path outside the playbook directory is refused before anything runs.
  auto bad = server_->Post("/api/v1/jobs", R"({"type":"lifecycle.playbook","params":{"playbook":"../etc/x.yml"}})");
  EXPECT_EQ(400, bad.status) << bad.Describe();
}

TEST_F(LifecycleServerTest, BootEndpointsArePublicButScoped) {
  // An unknown machine asking for its script is enlisted and told to wait; no token leaks.
  HttpRequest req;
  req.target = "/boot/ipxe?mac=52%3A54%3A00%3A99%3A00%3A42";
  auto script = server_->Request(req);
  ASSERT_EQ(200, script.status) << script.Describe();
  EXPECT_EQ(0u, script.body.rfind("#!ipxe\n", 0));
  EXPECT_EQ(std::string::npos, script.body.find("token"));
  auto node = server_->Get("/api/v1/nodes/52:54:00:99:00:42");
  ASSERT_EQ(200, node.status) << node.Describe();
  EXPECT_EQ("discovered", node.Object().at("state").as_string());
  // Tokens are checked.
  req.target = "/boot/config?token=forged";
  auto config = server_->Request(req);
  EXPECT_EQ(403, config.status);
  EXPECT_EQ("application/problem+json", config.Header("content-type"));
  req.method = "POST";
  req.target = "/boot/callback?token=forged";
  req.body = R"({"status":"ok"})";
  req.content_type = "application/x-www-form-urlencoded";  // what busybox wget sends
  EXPECT_EQ(403, server_->Request(req).status);
  req.body = "not json";
  EXPECT_EQ(400, server_->Request(req).status);
  // The API is not public.
  EXPECT_EQ(401, server_->Get("/api/v1/nodes", "").status);
  // An operation on a node without a BMC fails its job and breaks the node with the reason.
  auto images = server_->Post("/api/v1/nodes/52:54:00:99:00:42/commission", "{}");
  EXPECT_EQ(409, images.status) << images.Describe();  // no image 'inventory' registered
}

}  // namespace
}  // namespace gantry::testing
