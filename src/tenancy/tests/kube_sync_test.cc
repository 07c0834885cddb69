// Tenancy → Kubernetes: what each project's namespace gets from the quotas, the tenancy.kube_sync
// job run by a real job worker, the sync status it leaves, and the trigger that enqueues the
// sync jobs when tenancy changes.
//
// No Kubernetes API server runs here: the job talks to a transport that records every request
// and answers like an API server would (the answers of a real one are replayed byte for byte in
// integrations/kubernetes/tests, against recorded exchanges); the unreachable case uses the real
// libcurl transport against a closed local port.
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <mutex>
#include <thread>

#include "jobs/worker.h"
#include "tenancy/kube_sync.h"
#include "tenancy/slurm_sync.h"
#include "tenancy/sync.h"
#include "tenancy/tests/test_util.h"

namespace gantry::tenancy {
namespace {

using namespace std::chrono_literals;

// Records the requests; answers 200 with the body sent (what server-side apply returns, minus
// the fields the server adds), or `status` for URLs containing `fail_on`.
class FakeApiServer : public kubernetes::Transport {
 public:
  core::Result<kubernetes::HttpResponse> Send(const kubernetes::HttpRequest& r) override {
    std::lock_guard lock(mu_);
    requests_.push_back(r);
    if (!fail_on_.empty() && r.url.find(fail_on_) != std::string::npos) {
      return kubernetes::HttpResponse{
          fail_status_,
          R"({"kind":"Status","apiVersion":"v1","status":"Failure","message":"resourcequotas )"
          R"("gantry-quota" is forbidden: User \"system:serviceaccount:gantry:gantry\" cannot )"
          R"(patch resource","reason":"Forbidden","code":403})"};
    }
    return kubernetes::HttpResponse{200, r.body};
  }
  void FailOn(std::string url_part, int status) {
    std::lock_guard lock(mu_);
    fail_on_ = std::move(url_part);
    fail_status_ = status;
  }
  std::vector<kubernetes::HttpRequest> requests() {
    std::lock_guard lock(mu_);
    return requests_;
  }
  // The body of the last PATCH whose URL ends with `suffix`.
  core::json::object Body(const std::string& suffix) {
    std::lock_guard lock(mu_);
    for (auto it = requests_.rbegin(); it != requests_.rend(); ++it) {
      auto url = it->url.substr(0, it->url.find('?'));
      if (url.size() >= suffix.size() &&
          url.compare(url.size() - suffix.size(), suffix.size(), suffix) == 0) {
        return core::json::parse(it->body).as_object();
      }
    }
    ADD_FAILURE() << "no request to " << suffix;
    return {};
  }

 private:
  std::mutex mu_;
  std::vector<kubernetes::HttpRequest> requests_;
  std::string fail_on_;
  int fail_status_ = 403;
};

// A TCP port on 127.0.0.1 that nothing listens on.
int ClosedPort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  close(fd);
  return ntohs(a.sin_port);
}

std::string Hard(const core::json::object& quota, const std::string& key) {
  const auto& hard = quota.at("spec").as_object().at("hard").as_object();
  auto it = hard.find(key);
  return it == hard.end() ? "<none>" : std::string(it->value().as_string());
}

class KubeSyncTest : public TenancyTest {
 protected:
  void StartJobs(KubeSyncConfig config) {
    RegisterKubeSyncJobType(registry_, *db_, std::move(config));
    jobs_ = std::make_unique<jobs::Service>(*db_, audit_, clock_, registry_);
    workers_ = StartWorkers(*jobs_);
  }
  void TearDown() override {
    if (workers_) workers_->Stop();
  }
  KubeSyncConfig FakeConfig() {
    KubeSyncConfig c;
    c.client.server = "https://kube.example.test:6443";
    c.client.token = "test-token";
    c.transport = api_;
    return c;
  }
  // Runs one tenancy.kube_sync through the worker (single attempt) and returns it when final.
  jobs::Job Sync() { return RunJob(*jobs_, *workers_, kKubeSyncJobType); }
  SyncEngine Engine() { return {"kubernetes", kKubeSyncJobType, true, {}}; }

  std::shared_ptr<FakeApiServer> api_ = std::make_shared<FakeApiServer>();
  jobs::Registry registry_;
  std::unique_ptr<jobs::Service> jobs_;
  std::unique_ptr<jobs::WorkerPool> workers_;
};

TEST_P(KubeSyncTest, ProjectsGetTheirOwnCeilingOrTheTenants) {
  MakeTenant("acme");
  ASSERT_OK(service_.CreateProject(admin_, "acme", "vision", "Vision"));
  ASSERT_OK(service_.CreateProject(admin_, "acme", "nlp", "NLP"));
  SetQuota("acme", "gpu/h100", 4, 6);  // no cohort: the tenant never goes above 4
  SetQuota("acme", "cpu", 64);
  SetQuota("acme", "nodes", 2);
  SetQuota("acme", "gpu/h100", 2, 3, "vision");
  MakeTenant("empty");  // no projects: nothing in Kubernetes

  auto plan = BuildKubeProjects(*db_);
  ASSERT_OK(plan);
  ASSERT_EQ(2u, plan->projects.size());
  const auto& nlp = plan->projects[0];
  const auto& vision = plan->projects[1];
  EXPECT_EQ("nlp", nlp.project);
  EXPECT_EQ((std::map<std::string, int64_t>{{"cpu", 64}, {"gpu/h100", 4}, {"nodes", 2}}),
            nlp.hard);
  EXPECT_EQ("vision", vision.project);
  EXPECT_EQ((std::map<std::string, int64_t>{{"cpu", 64}, {"gpu/h100", 3}, {"nodes", 2}}),
            vision.hard);

  // In a cohort the tenant may burst: a project without its own quota gets the burst.
  MakeTenant("beta", "pool");
  ASSERT_OK(service_.CreateProject(admin_, "beta", "p1", "P1"));
  SetQuota("beta", "gpu/a100", 2, 5);
  ASSERT_OK(service_.UpdateTenant(admin_, "acme", TenantPatch{.disabled = true}));
  plan = BuildKubeProjects(*db_);
  ASSERT_OK(plan);
  ASSERT_EQ(3u, plan->projects.size());
  EXPECT_EQ(0, plan->projects[0].hard.at("instances"));  // disabled tenant: no new pods
  EXPECT_EQ(5, plan->projects[2].hard.at("gpu/a100"));
}

TEST_P(KubeSyncTest, JobAppliesEveryProjectWithServerSideApply) {
  MakeTenant("acme");
  ASSERT_OK(service_.CreateProject(admin_, "acme", "vision", "Vision"));
  SetQuota("acme", "gpu/h100", 4);
  SetQuota("acme", "gpu/a100", 2);
  SetQuota("acme", "memory", int64_t{512} << 30);
  SetQuota("acme", "gpu/h100", 3, std::nullopt, "vision");
  StartJobs(FakeConfig());

  auto job = Sync();
  ASSERT_EQ(jobs::kSucceeded, job.state) << job.error.value_or("");
  auto reqs = api_->requests();
  ASSERT_EQ(3u, reqs.size());
  EXPECT_EQ("PATCH", reqs[0].method);
  EXPECT_EQ(
      "https://kube.example.test:6443/api/v1/namespaces/gantry-acme-vision"
      "?fieldManager=gantry&force=true",
      reqs[0].url);
  bool bearer = false, apply = false;
  for (const auto& [k, v] : reqs[1].headers) {
    bearer = bearer || (k == "Authorization" && v == "Bearer test-token");
    apply = apply || (k == "Content-Type" && v == "application/apply-patch+yaml");
  }
  EXPECT_TRUE(bearer);
  EXPECT_TRUE(apply);
  auto quota = api_->Body("/resourcequotas/gantry-quota");
  EXPECT_EQ("5", Hard(quota, "requests.nvidia.com/gpu"));  // h100 3 (project) + a100 2 (tenant)
  EXPECT_EQ("512Gi", Hard(quota, "limits.memory"));
  EXPECT_EQ("a100=2,h100=3", std::string(quota.at("metadata")
                                             .as_object()
                                             .at("annotations")
                                             .as_object()
                                             .at("gantry.dev/gpu-models")
                                             .as_string()));
  EXPECT_EQ("LimitRange", api_->Body("/limitranges/gantry-defaults").at("kind").as_string());

  auto status = SyncStatus(*jobs_, Engine());
  ASSERT_OK(status);
  EXPECT_EQ("in_sync", status->at("state").as_string());
  EXPECT_TRUE(status->at("reason").is_null());

  // A quota change shows up in the next sync.
  SetQuota("acme", "gpu/h100", 1, std::nullopt, "vision");
  ASSERT_EQ(jobs::kSucceeded, Sync().state);
  EXPECT_EQ("3", Hard(api_->Body("/resourcequotas/gantry-quota"), "requests.nvidia.com/gpu"));
}

TEST_P(KubeSyncTest, UnreachableApiServerFailsTheSyncAndLeavesTenancyIntact) {
  MakeTenant("acme");
  ASSERT_OK(service_.CreateProject(admin_, "acme", "vision", "Vision"));
  SetQuota("acme", "gpu/h100", 4);
  ASSERT_OK(Reserve("acme", {{"gpu/h100", 2}}, "job-1"));
  auto before = service_.Quotas(admin_, "acme");
  ASSERT_OK(before);
  int audits_before = AuditCount("quota.set");

  KubeSyncConfig config;
  config.client.server = "https://127.0.0.1:" + std::to_string(ClosedPort());
  config.client.connect_timeout = 2s;
  config.client.timeout = 5s;
  StartJobs(config);  // the real libcurl transport
  auto job = Sync();
  ASSERT_EQ(jobs::kFailed, job.state);
  ASSERT_TRUE(job.error);
  EXPECT_NE(std::string::npos, job.error->find("kubernetes sync:")) << *job.error;
  EXPECT_NE(std::string::npos, job.error->find("gantry-acme-vision")) << *job.error;

  auto status = SyncStatus(*jobs_, Engine());
  ASSERT_OK(status);
  EXPECT_EQ("failing", status->at("state").as_string());
  EXPECT_EQ(*job.error, status->at("reason").as_string());

  auto after = service_.Quotas(admin_, "acme");
  ASSERT_OK(after);
  ASSERT_EQ(before->size(), after->size());
  for (size_t i = 0; i < before->size(); ++i) {
    EXPECT_EQ(core::json::serialize(ToJson((*before)[i])), core::json::serialize(ToJson((*after)[i])));
  }
  EXPECT_EQ(audits_before, AuditCount("quota.set"));
  EXPECT_EQ(2, View("acme", "gpu/h100").reserved);
}

TEST_P(KubeSyncTest, ARefusedProjectDoesNotStopTheOthersButFailsTheSync) {
  MakeTenant("acme");
  ASSERT_OK(service_.CreateProject(admin_, "acme", "a", "A"));
  ASSERT_OK(service_.CreateProject(admin_, "acme", "b", "B"));
  SetQuota("acme", "cpu", 8);
  api_->FailOn("gantry-acme-a/resourcequotas", 403);
  StartJobs(FakeConfig());
  auto job = Sync();
  ASSERT_EQ(jobs::kFailed, job.state);
  EXPECT_NE(std::string::npos, job.error->find("1 of 2 project(s) failed: acme/a")) << *job.error;
  EXPECT_NE(std::string::npos, job.error->find("forbidden")) << *job.error;
  // Project b was still applied in full.
  EXPECT_EQ("8", Hard(api_->Body("gantry-acme-b/resourcequotas/gantry-quota"), "requests.cpu"));
  EXPECT_EQ("failing", SyncStatus(*jobs_, Engine())->at("state").as_string());
}

TEST_P(KubeSyncTest, NotConfiguredFailsSayingSo) {
  StartJobs(KubeSyncConfig{});
  auto job = Sync();
  ASSERT_EQ(jobs::kFailed, job.state);
  EXPECT_NE(std::string::npos, job.error->find("not configured")) << *job.error;
}

// Counts the tenancy.kube_sync jobs in state queued.
int QueuedSyncs(jobs::Service& jobs, const char* type) {
  jobs::ListFilter f;
  f.type = type;
  f.state = jobs::kQueued;
  return static_cast<int>(jobs.List(core::RequestContext::System(), f).value().size());
}

TEST_P(KubeSyncTest, ChangesEnqueueOneCoalescedSyncPerEngine) {
  registry_.Add(jobs::JobType{kSlurmSyncJobType, "test", nullptr,
                              [](jobs::JobContext&) { return core::json::object{}; }, false});
  RegisterKubeSyncJobType(registry_, *db_, FakeConfig());
  jobs_ = std::make_unique<jobs::Service>(*db_, audit_, clock_, registry_);
  service_.SetEngineSyncHook(
      MakeSyncTrigger(*jobs_, {kKubeSyncJobType, kSlurmSyncJobType}));

  MakeTenant("acme");
  EXPECT_EQ(1, QueuedSyncs(*jobs_, kKubeSyncJobType));
  EXPECT_EQ(1, QueuedSyncs(*jobs_, kSlurmSyncJobType));
  ASSERT_OK(service_.CreateProject(admin_, "acme", "p1", "P1"));
  SetQuota("acme", "gpu/h100", 4);
  SetQuota("acme", "gpu/h100", 2, std::nullopt, "p1");
  MemberOf("acme");
  EXPECT_EQ(1, QueuedSyncs(*jobs_, kKubeSyncJobType));  // coalesced
  EXPECT_EQ(1, QueuedSyncs(*jobs_, kSlurmSyncJobType));

  // Admission changes usage, not what the engines enforce: no sync.
  ASSERT_OK(db_->Exec("UPDATE jobs SET state = 'succeeded'", {}));
  ASSERT_OK(Reserve("acme", {{"gpu/h100", 1}}, "job-1"));
  EXPECT_EQ(0, QueuedSyncs(*jobs_, kKubeSyncJobType));

  // A refused change enqueues nothing (its transaction rolls back)...
  auto bad = service_.SetQuota(admin_, "acme", {"gpu/h100", 9, std::nullopt, "p1", false});
  ASSERT_FALSE(bad);
  EXPECT_EQ(0, QueuedSyncs(*jobs_, kKubeSyncJobType));
  // ... an accepted one does, once the previous sync is no longer queued.
  ASSERT_OK(service_.DeleteProject(admin_, "acme", "p1"));
  EXPECT_EQ(1, QueuedSyncs(*jobs_, kKubeSyncJobType));
  EXPECT_GE(AuditCount("job.create"), 4);
}

GANTRY_INSTANTIATE_BACKENDS(KubeSyncTest);

}  // namespace
}  // namespace gantry::tenancy
