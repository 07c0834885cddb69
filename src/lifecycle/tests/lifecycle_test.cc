// The node state machine end to end against a simulated fleet, on SQLite and PostgreSQL.
#include <filesystem>
#include <fstream>
#include <thread>

#include "lifecycle/tests/test_util.h"

namespace gantry::lifecycle {
namespace {

using namespace std::chrono_literals;

class NodesTest : public LifecycleTest {
 protected:
  void SetUp() override {
    MakeImage("inventory");
    MakeImage("installer");
  }
  Node Commissioned(const std::string& name, const std::string& mac) {
    MakeNode(name, mac);
    auto n = service_->StartOperation(admin_, name, Op::kCommission, {});
    EXPECT_TRUE(n) << (n ? "" : n.error().message);
    return WaitFor(name, kReady);
  }
};

TEST_P(NodesTest, CommissionDeployReleaseWalksTheStateMachine) {
  MakeNode("gpu-01", "52:54:00:00:00:01");
  auto started = service_->StartOperation(admin_, "gpu-01", Op::kCommission, {});
  ASSERT_OK(started);
  EXPECT_EQ(kCommissioning, started->state);
  ASSERT_TRUE(started->job_id);
  Node ready = WaitFor("gpu-01", kReady);
  EXPECT_EQ("", ready.reason);
  // The inventory the node reported is on the node and in the CMDB.
  EXPECT_NE(std::string::npos, ready.hardware.find("\"cpus\":64")) << ready.hardware;
  auto srv = cmdb_.GetCi(admin_, "server/gpu-01");
  ASSERT_OK(srv);
  EXPECT_EQ(64, srv->attrs.at("cpu_cores").as_int64());
  EXPECT_EQ(512, srv->attrs.at("memory_gib").as_int64());
  EXPECT_EQ("ready", srv->attrs.at("lifecycle").as_string());
  ASSERT_OK(cmdb_.GetCi(admin_, "nic/gpu-01:eth0"));
  ASSERT_OK(cmdb_.GetCi(admin_, "storage_volume/gpu-01:nvme0n1"));
  // The worker records the job's end just after the node's.
  for (int i = 0; i < 400 && JobOf(*started->job_id).state == jobs::kRunning; ++i) std::this_thread::sleep_for(25ms);
  EXPECT_EQ(jobs::kSucceeded, JobOf(*started->job_id).state);

  OpRequest deploy;
  deploy.vars = {{"disk", "/dev/vda"}};
  ASSERT_OK(service_->StartOperation(admin_, "gpu-01", Op::kDeploy, deploy));
  Node deployed = WaitFor("gpu-01", kDeployed);
  // The node fetched its own rendered configuration.
  std::string config = fleet_.ConfigOf("gpu-01");
  EXPECT_NE(std::string::npos, config.find("HOSTNAME='gpu-01'")) << config;
  EXPECT_NE(std::string::npos, config.find("DISK='/dev/vda'")) << config;
  EXPECT_NE(std::string::npos, config.find("SSH_KEY='ssh-ed25519 AAAAC3Nza admin@example'")) << config;

  ASSERT_OK(service_->StartOperation(admin_, "gpu-01", Op::kRelease, {}));
  WaitFor("gpu-01", kReady);
  EXPECT_EQ("ready", cmdb_.GetCi(admin_, "server/gpu-01")->attrs.at("lifecycle").as_string());

  // PXE once before each operation, back to disk after it.
  auto calls = fleet_.Calls();
  ASSERT_GE(calls.size(), 4u);
  EXPECT_EQ("gpu-01: boot pxe", calls[0]);
  EXPECT_EQ("gpu-01: power off", calls[1]);
  EXPECT_EQ("gpu-01: power on", calls[2]);
  EXPECT_EQ("gpu-01: boot disk", calls[3]);
  EXPECT_EQ(3, fleet_.PowerOns("gpu-01"));
  for (const char* a : {"node.create", "node.commission", "node.commission.done", "node.deploy",
                        "node.deploy.done", "node.release", "node.release.done"}) {
    EXPECT_EQ(1, AuditCount(a)) << a;
  }
  EXPECT_EQ(3, AuditCount("node.callback"));
}

TEST_P(NodesTest, OperationsOutsideTheirStatesAreRefused) {
  MakeNode("gpu-02", "52:54:00:00:00:02");
  auto deploy = service_->StartOperation(admin_, "gpu-02", Op::kDeploy, {});
  ASSERT_FALSE(deploy);
  EXPECT_EQ(core::Code::kFailedPrecondition, deploy.error().code);
  EXPECT_NE(std::string::npos, deploy.error().message.find("discovered")) << deploy.error().message;
  EXPECT_EQ(core::Code::kFailedPrecondition, service_->StartOperation(admin_, "gpu-02", Op::kRelease, {}).error().code);
  // A viewer reads but cannot operate.
  EXPECT_EQ(core::Code::kPermissionDenied, service_->StartOperation(viewer_, "gpu-02", Op::kCommission, {}).error().code);
  ASSERT_OK(service_->GetNode(viewer_, "gpu-02"));
  // Bad input.
  EXPECT_EQ("mac", service_->CreateNode(admin_, NewNode{"x", "not-a-mac", {}, {}}).error().field);
  EXPECT_EQ("name", service_->CreateNode(admin_, NewNode{"Bad_Name", "52:54:00:00:00:09", {}, {}}).error().field);
  EXPECT_EQ(core::Code::kConflict, service_->CreateNode(admin_, NewNode{"other", "52-54-00-00-00-02", {}, {}}).error().code);
  EXPECT_EQ(core::Code::kNotFound, service_->GetNode(admin_, "nope").error().code);
  OpRequest img;
  img.image = "no-such-image";
  EXPECT_EQ(core::Code::kFailedPrecondition, service_->StartOperation(admin_, "gpu-02", Op::kCommission, img).error().code);
}

TEST_P(NodesTest, ASecondRequestOrDhcpMidDeployStartsNoSecondDeploy) {
  Commissioned("gpu-03", "52:54:00:00:00:03");
  fleet_.SetBehavior("52:54:00:00:00:03", SimBehavior::kSilent);
  OpRequest req;
  req.timeout_s = 600;
  auto first = service_->StartOperation(admin_, "gpu-03", Op::kDeploy, req);
  ASSERT_OK(first);
  auto second = service_->StartOperation(admin_, "gpu-03", Op::kDeploy, req);
  ASSERT_FALSE(second);
  EXPECT_EQ(core::Code::kFailedPrecondition, second.error().code);
  // The machine asks for an address again (a reboot mid-install): recorded, nothing started.
  auto sys = core::RequestContext::System("dhcp");
  ASSERT_OK(service_->ObserveDhcp(sys, {"52:54:00:00:00:03", "10.99.0.150", ""}));
  ASSERT_OK(service_->ObserveDhcp(sys, {"52:54:00:00:00:03", "10.99.0.150", ""}));
  auto n = service_->GetNode(admin_, "gpu-03");
  ASSERT_OK(n);
  EXPECT_EQ(kDeploying, n->state);
  EXPECT_EQ(first->job_id, n->job_id);
  EXPECT_EQ("10.99.0.150", n->last_ip.value_or(""));
  jobs::ListFilter f;
  f.type = "lifecycle.deploy";
  EXPECT_EQ(1u, jobs_.List(admin_, f)->size());
  EXPECT_EQ(1, AuditCount("node.deploy"));
  EXPECT_EQ(1, AuditCount("node.address"));  // the repeated sighting wrote nothing
  ASSERT_OK(jobs_.Cancel(admin_, *first->job_id));
  Node after = WaitFor("gpu-03", kBroken);
  EXPECT_NE(std::string::npos, after.reason.find("deploy cancelled")) << after.reason;
}

TEST_P(NodesTest, ANodeThatNeverCallsBackBecomesBrokenWithTheLastLogLines) {
  Commissioned("gpu-04", "52:54:00:00:00:04");
  fleet_.SetBehavior("52:54:00:00:00:04", SimBehavior::kSilent);
  OpRequest req;
  req.timeout_s = 1;
  auto started = service_->StartOperation(admin_, "gpu-04", Op::kDeploy, req);
  ASSERT_OK(started);
  Node broken = WaitFor("gpu-04", kBroken);
  EXPECT_NE(std::string::npos, broken.reason.find("no callback from the node within 1 s during deploy")) << broken.reason;
  EXPECT_NE(std::string::npos, broken.reason.find("last log lines:")) << broken.reason;
  EXPECT_NE(std::string::npos, broken.reason.find("fetched its configuration")) << broken.reason;
  EXPECT_EQ(kReady, broken.prev_state.value_or(""));
  for (int i = 0; i < 200 && JobOf(*started->job_id).state == jobs::kRunning; ++i) std::this_thread::sleep_for(50ms);
  EXPECT_EQ(jobs::kFailed, JobOf(*started->job_id).state);
  EXPECT_EQ("broken", cmdb_.GetCi(admin_, "server/gpu-04")->attrs.at("lifecycle").as_string());
  // A broken node is powered off, and can be commissioned again.
  EXPECT_EQ("gpu-04: power off", fleet_.Calls().back());
  fleet_.SetBehavior("52:54:00:00:00:04", SimBehavior::kCallBack);
  ASSERT_OK(service_->StartOperation(admin_, "gpu-04", Op::kCommission, {}));
  WaitFor("gpu-04", kReady);
}

TEST_P(NodesTest, AFailedInstallReportBreaksTheNode) {
  Commissioned("gpu-05", "52:54:00:00:00:05");
  fleet_.SetBehavior("52:54:00:00:00:05", SimBehavior::kFail);
  ASSERT_OK(service_->StartOperation(admin_, "gpu-05", Op::kDeploy, {}));
  Node broken = WaitFor("gpu-05", kBroken);
  EXPECT_NE(std::string::npos, broken.reason.find("disk /dev/sda not found")) << broken.reason;
}

TEST_P(NodesTest, AnUnreachableBmcIsRetriedThenBreaksTheNode) {
  Commissioned("gpu-06", "52:54:00:00:00:06");
  fleet_.SetBehavior("52:54:00:00:00:06", SimBehavior::kBmcDown);
  auto started = service_->StartOperation(admin_, "gpu-06", Op::kDeploy, {});
  ASSERT_OK(started);
  Node broken = WaitFor("gpu-06", kBroken);
  EXPECT_NE(std::string::npos, broken.reason.find("does not answer")) << broken.reason;
  for (int i = 0; i < 200 && JobOf(*started->job_id).state != jobs::kFailed; ++i) std::this_thread::sleep_for(50ms);
  auto job = JobOf(*started->job_id);
  EXPECT_EQ(jobs::kFailed, job.state);
  EXPECT_EQ(3, job.attempts);
}

TEST_P(NodesTest, ATemplateThatFailsToRenderFailsTheJobBeforeThePowerIsTouched) {
  Commissioned("gpu-07", "52:54:00:00:00:07");
  ASSERT_OK(service_->PutTemplate(admin_, "broken-ks", "kickstart", "network --hostname={{hostname}}\ndisk {{no_such_var}}\n"));
  size_t calls_before = fleet_.Calls().size();
  OpRequest req;
  req.template_name = "broken-ks";
  auto started = service_->StartOperation(admin_, "gpu-07", Op::kDeploy, req);
  ASSERT_OK(started);
  for (int i = 0; i < 400 && JobOf(*started->job_id).state != jobs::kFailed; ++i) std::this_thread::sleep_for(25ms);
  auto job = JobOf(*started->job_id);
  EXPECT_EQ(jobs::kFailed, job.state);
  EXPECT_NE(std::string::npos, job.error.value_or("").find("line 2: no variable 'no_such_var'")) << job.error.value_or("");
  EXPECT_EQ(1, job.attempts);  // not retried
  EXPECT_EQ(calls_before, fleet_.Calls().size());  // no boot device, no power
  Node n = WaitFor("gpu-07", kReady);
  EXPECT_FALSE(n.op);
  // A template that cannot even be parsed is refused when saved.
  EXPECT_EQ("body", service_->PutTemplate(admin_, "bad", "preseed", "{{#if x}}").error().field);
  EXPECT_EQ("kind", service_->PutTemplate(admin_, "bad", "yaml", "x").error().field);
}

TEST_P(NodesTest, ConfigTokensWorkOnceAndNotAfterTheyExpire) {
  Commissioned("gpu-08", "52:54:00:00:00:08");
  fleet_.SetBehavior("52:54:00:00:00:08", SimBehavior::kSilent);
  OpRequest req;
  req.timeout_s = 600;
  auto started = service_->StartOperation(admin_, "gpu-08", Op::kDeploy, req);
  ASSERT_OK(started);
  // The simulated machine booted and fetched its config; boot again by hand to get fresh tokens.
  for (int i = 0; i < 400 && fleet_.ConfigOf("gpu-08").empty(); ++i) std::this_thread::sleep_for(25ms);
  auto script = service_->BootScript("52:54:00:00:00:08", "");
  ASSERT_OK(script);
  EXPECT_NE(std::string::npos, script->find("kernel http://10.99.0.1:8080/boot/images/installer/kernel")) << *script;
  EXPECT_NE(std::string::npos, script->find("BOOTIF=01-52-54-00-00-00-08")) << *script;
  std::string config_token = SimulatedFleet::TokenOf(SimulatedFleet::Arg(*script, "gantry.config"));
  std::string callback_token = SimulatedFleet::TokenOf(SimulatedFleet::Arg(*script, "gantry.callback"));
  ASSERT_FALSE(config_token.empty());
  auto config = service_->FetchConfig(config_token);
  ASSERT_OK(config);
  EXPECT_NE(std::string::npos, config->find("HOSTNAME='gpu-08'"));
  auto reused = service_->FetchConfig(config_token);
  ASSERT_FALSE(reused);
  EXPECT_EQ(core::Code::kPermissionDenied, reused.error().code);
  EXPECT_NE(std::string::npos, reused.error().message.find("already used"));
  EXPECT_EQ(core::Code::kPermissionDenied, service_->FetchConfig("forged-token").error().code);
  // A callback token is not a config token.
  EXPECT_EQ(core::Code::kPermissionDenied, service_->FetchConfig(callback_token).error().code);

  // Tokens minted with a zero lifetime are expired at once.
  Options expiring = options_;
  expiring.token_ttl_s = 0;
  Service other(*db_, audit_, core::SystemClock::Get(), jobs_, &cmdb_, fleet_, expiring);
  auto script2 = other.BootScript("52:54:00:00:00:08", "");
  ASSERT_OK(script2);
  std::string expired = SimulatedFleet::TokenOf(SimulatedFleet::Arg(*script2, "gantry.config"));
  auto late = service_->FetchConfig(expired);
  ASSERT_FALSE(late);
  EXPECT_NE(std::string::npos, late.error().message.find("expired")) << late.error().message;
  // The earlier token stopped working when new ones were issued.
  EXPECT_FALSE(service_->Callback(callback_token, Report{}));
  ASSERT_OK(jobs_.Cancel(admin_, *started->job_id));
  WaitFor("gpu-08", kBroken);
}

TEST_P(NodesTest, TheBootScriptIsScopedToTheMachine) {
  auto sys = core::RequestContext::System("dhcp");
  // An unknown machine that PXE-boots is enlisted and told to wait.
  auto unknown = service_->BootScript("52:54:00:00:00:99", "10.99.0.160");
  ASSERT_OK(unknown);
  EXPECT_NE(std::string::npos, unknown->find("enlisted as node-525400000099")) << *unknown;
  EXPECT_NE(std::string::npos, unknown->find("chain http://10.99.0.1:8080/boot/ipxe?mac=${net0/mac}"));
  EXPECT_EQ(std::string::npos, unknown->find("token"));
  ASSERT_OK(service_->ObserveDhcp(sys, {"52:54:00:00:00:99", "10.99.0.160", ""}));
  // Once DHCP gave it an address, another address may not ask for its script.
  auto other = service_->BootScript("52:54:00:00:00:99", "10.99.0.161");
  ASSERT_FALSE(other);
  EXPECT_EQ(core::Code::kPermissionDenied, other.error().code);
  ASSERT_OK(service_->BootScript("52:54:00:00:00:99", "10.99.0.160"));
  EXPECT_EQ(core::Code::kInvalidArgument, service_->BootScript("zz", "").error().code);
}

TEST_P(NodesTest, DhcpDiscoveryEnlistsIntoTheCmdb) {
  auto sys = core::RequestContext::System("dhcp");
  auto n = service_->ObserveDhcp(sys, {"52:54:00:AA:00:01", "10.99.0.170", "rack1-node7"});
  ASSERT_OK(n);
  EXPECT_EQ("rack1-node7", n->name);
  EXPECT_EQ(kDiscovered, n->state);
  EXPECT_EQ("dhcp", n->source);
  auto srv = cmdb_.GetCi(admin_, "server/rack1-node7");
  ASSERT_OK(srv);
  EXPECT_EQ("discovered", srv->attrs.at("lifecycle").as_string());
  auto nic = cmdb_.GetCi(admin_, "nic/rack1-node7:boot");
  ASSERT_OK(nic);
  EXPECT_EQ("52:54:00:aa:00:01", nic->attrs.at("mac").as_string());
  auto rels = cmdb_.RelationsOf(admin_, "server/rack1-node7");
  ASSERT_OK(rels);
  ASSERT_EQ(1u, rels->size());
  EXPECT_EQ("dhcp", (*rels)[0].source);
  EXPECT_EQ(1, AuditCount("node.discover"));
  // Seen again: the same node.
  ASSERT_OK(service_->ObserveDhcp(sys, {"52:54:00:aa:00:01", "10.99.0.170", "rack1-node7"}));
  EXPECT_EQ(1u, service_->ListNodes(admin_, {})->size());
}

TEST_P(NodesTest, MaintenanceAndBrokenByHand) {
  MakeNode("gpu-09", "52:54:00:00:00:09");
  auto m = service_->SetMaintenance(admin_, "gpu-09", true, "replacing a DIMM");
  ASSERT_OK(m);
  EXPECT_EQ(kMaintenance, m->state);
  EXPECT_EQ(core::Code::kFailedPrecondition, service_->StartOperation(admin_, "gpu-09", Op::kCommission, {}).error().code);
  auto back = service_->SetMaintenance(admin_, "gpu-09", false, "");
  ASSERT_OK(back);
  EXPECT_EQ(kDiscovered, back->state);
  EXPECT_EQ("reason", service_->MarkBroken(admin_, "gpu-09", "").error().field);
  auto b = service_->MarkBroken(admin_, "gpu-09", "PSU failed");
  ASSERT_OK(b);
  EXPECT_EQ(kBroken, b->state);
  EXPECT_EQ("PSU failed", b->reason);
  ASSERT_OK(service_->DeleteNode(admin_, "gpu-09"));
  EXPECT_EQ(core::Code::kNotFound, service_->GetNode(admin_, "gpu-09").error().code);
}

TEST_P(NodesTest, AJobCancelledWhileQueuedIsSettledBySweep) {
  MakeNode("gpu-10", "52:54:00:00:00:10");
  pool_->Stop();  // nothing runs the job
  auto started = service_->StartOperation(admin_, "gpu-10", Op::kCommission, {});
  ASSERT_OK(started);
  ASSERT_OK(jobs_.Cancel(admin_, *started->job_id));
  EXPECT_EQ(kCommissioning, service_->GetNode(admin_, "gpu-10")->state);
  auto settled = service_->Sweep();
  ASSERT_OK(settled);
  EXPECT_EQ(1, *settled);
  auto n = service_->GetNode(admin_, "gpu-10");
  EXPECT_EQ(kDiscovered, n->state);  // a cancelled commission goes back where it came from
  EXPECT_FALSE(n->op);
  EXPECT_EQ(0, *service_->Sweep());
}

TEST_P(NodesTest, ImagesAreVerifiedOnUploadAndBeforeEveryServe) {
  auto bytes = service_->ReadImageFile("installer", "kernel");
  ASSERT_OK(bytes);
  EXPECT_EQ("kernel bytes kernel", *bytes);
  // Upload with a wrong checksum: refused, nothing kept.
  std::ofstream(dir_ + "/k") << "abc";
  std::map<std::string, Service::ImageSource> files{{"kernel", {dir_ + "/k", std::string(64, '0')}},
                                                    {"initrd", {dir_ + "/k", std::string(64, '0')}}};
  auto bad = service_->CreateImage(User("root", core::Role::kAdmin), "bad", "", files);
  ASSERT_FALSE(bad);
  EXPECT_NE(std::string::npos, bad.error().message.find("does not match")) << bad.error().message;
  EXPECT_FALSE(std::filesystem::exists(options_.image_dir + "/bad"));
  EXPECT_EQ(core::Code::kPermissionDenied, service_->CreateImage(admin_, "x", "", files).error().code);
  // The file changes on disk: never served again.
  std::ofstream(options_.image_dir + "/installer/kernel", std::ios::app) << "tampered";
  auto served = service_->ReadImageFile("installer", "kernel");
  ASSERT_FALSE(served);
  EXPECT_EQ(core::Code::kFailedPrecondition, served.error().code);
  EXPECT_EQ(core::Code::kNotFound, service_->ReadImageFile("installer", "../etc/passwd").error().code);
}

GANTRY_INSTANTIATE_BACKENDS(NodesTest);

}  // namespace
}  // namespace gantry::lifecycle
