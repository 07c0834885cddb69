#include "lifecycle/tests/test_util.h"

#include <filesystem>
#include <fstream>
#include <thread>

#include "core/crypto.h"

namespace gantry::lifecycle {

using namespace std::chrono_literals;

LifecycleTest::LifecycleTest()
    : db_(testing::NewTestDatabase(GetParam())),
      audit_(*db_, core::SystemClock::Get()),
      jobs_(*db_, audit_, core::SystemClock::Get(), registry_),
      cmdb_(*db_, audit_, core::SystemClock::Get()),
      fleet_(2),
      dir_(testing::MakeTempDir("lifecycle")) {
  EXPECT_TRUE(cmdb_.Init());
  options_.boot_url = "http://10.99.0.1:8080";
  options_.image_dir = dir_ + "/images";
  options_.commission_image = "inventory";
  options_.deploy_image = "installer";
  options_.release_image = "installer";
  options_.rescue_image = "installer";
  options_.ssh_keys = {"ssh-ed25519 AAAAC3Nza admin@example"};
  options_.wait_poll_ms = 50;
  service_ = std::make_unique<Service>(*db_, audit_, core::SystemClock::Get(), jobs_, &cmdb_, fleet_, options_);
  EXPECT_TRUE(service_->Init());
  fleet_.Attach(service_.get());
  service_->RegisterJobTypes(registry_);
  jobs::WorkerOptions wo;
  wo.concurrency = 4;
  wo.poll_interval = 20ms;
  wo.lease = 5s;
  wo.owner = "test";
  wo.backoff_base_nanos = 20 * core::kNanosPerMilli;
  pool_ = std::make_unique<jobs::WorkerPool>(jobs_, wo);
  pool_->Start();
  service_->SetEnqueueHook([this] { pool_->Poke(); });
  admin_ = User("alice", core::Role::kOperator);
  viewer_ = User("victor", core::Role::kViewer);
}

LifecycleTest::~LifecycleTest() {
  pool_->Stop();
  fleet_.Attach(nullptr);
}

core::RequestContext LifecycleTest::User(const std::string& name, core::Role role) {
  core::RequestContext rc;
  rc.principal.user_id = static_cast<int64_t>(name.size());
  rc.principal.username = name;
  rc.principal.roles = {role};
  rc.principal.auth_method = "token";
  rc.source_ip = "192.0.2.1";
  return rc;
}

Node LifecycleTest::MakeNode(const std::string& name, const std::string& mac) {
  auto n = service_->CreateNode(admin_, NewNode{name, mac, std::nullopt, "bmc-" + name});
  EXPECT_TRUE(n) << (n ? "" : n.error().message);
  return n ? *n : Node{};
}

Image LifecycleTest::MakeImage(const std::string& name, const std::string& content) {
  std::string src = dir_ + "/src-" + name;
  std::filesystem::create_directories(src);
  std::map<std::string, Service::ImageSource> files;
  for (const char* role : {"kernel", "initrd", "rootfs"}) {
    std::string body = content + " " + role;
    std::ofstream(src + "/" + role) << body;
    files[role] = {src + "/" + role, core::Sha256Hex(body)};
  }
  auto img = service_->CreateImage(User("root", core::Role::kAdmin), name, "test image", files);
  EXPECT_TRUE(img) << (img ? "" : img.error().message);
  return img ? *img : Image{};
}

Node LifecycleTest::WaitFor(const std::string& node, const std::string& state) {
  Node last;
  for (int i = 0; i < 1200; ++i) {
    auto n = service_->GetNode(admin_, node);
    if (n) {
      last = *n;
      if (n->state == state && !n->op) return *n;
    }
    std::this_thread::sleep_for(50ms);
  }
  ADD_FAILURE() << node << " never reached " << state << "; it is " << last.state << " (" << last.reason << ")";
  return last;
}

jobs::Job LifecycleTest::JobOf(int64_t id) {
  auto j = jobs_.Get(core::RequestContext::System(), id, 200);
  EXPECT_TRUE(j) << (j ? "" : j.error().message);
  return j ? *j : jobs::Job{};
}

int LifecycleTest::AuditCount(const std::string& action) {
  audit::SearchFilter f;
  f.action = action;
  f.limit = 1000;
  auto events = audit_.Search(f);
  EXPECT_TRUE(events);
  return events ? static_cast<int>(events->size()) : -1;
}

}  // namespace gantry::lifecycle
