#include "tenancy/tests/test_util.h"

#include <atomic>
#include <thread>

#include "auth/types.h"
#include "store/migrate.h"

namespace gantry::tenancy {

std::unique_ptr<store::Database> OpenTestDatabase(store::Backend backend, int pool_size) {
  std::string url = testing::NewTestDatabaseUrl(backend);
  store::OpenOptions o;
  o.pool_size = pool_size;
  auto db = store::Open(url, o);
  if (!db) throw std::runtime_error("open " + url + ": " + db.error().message);
  auto applied = store::Migrate(**db);
  if (!applied) throw std::runtime_error("migrate " + url + ": " + applied.error().message);
  return std::move(*db);
}

std::unique_ptr<jobs::WorkerPool> StartWorkers(jobs::Service& jobs) {
  jobs::WorkerOptions wo;
  wo.concurrency = 1;
  wo.poll_interval = std::chrono::milliseconds(20);
  auto w = std::make_unique<jobs::WorkerPool>(jobs, wo);
  w->Start();
  return w;
}

jobs::Job RunJob(jobs::Service& jobs, jobs::WorkerPool& workers, const std::string& type,
                 core::json::object params) {
  auto j = jobs.Enqueue(core::RequestContext::System(),
                        jobs::NewJob{type, std::move(params), 1, std::nullopt});
  EXPECT_TRUE(j) << j.error().message;
  if (!j) return {};
  workers.Poke();
  jobs::Job job;
  for (int i = 0; i < 1000; ++i) {
    job = jobs.Get(core::RequestContext::System(), j->id).value();
    if (jobs::IsFinal(job.state)) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return job;
}

ConcurrentOutcome ReserveConcurrently(int calls,
                                      const std::function<core::Result<Reservation>(int)>& reserve) {
  std::atomic<int> admitted{0}, exhausted{0};
  std::vector<std::string> errors(calls);
  std::vector<std::thread> threads;
  std::atomic<bool> go{false};
  for (int i = 0; i < calls; ++i) {
    threads.emplace_back([&, i] {
      while (!go.load()) std::this_thread::yield();
      auto r = reserve(i);
      if (r) {
        ++admitted;
      } else if (r.error().code == core::Code::kResourceExhausted) {
        ++exhausted;
      } else {
        errors[i] = r.error().message;
      }
    });
  }
  go = true;
  for (auto& t : threads) t.join();
  ConcurrentOutcome out{admitted.load(), exhausted.load(), {}};
  for (auto& e : errors) {
    if (!e.empty()) out.other.push_back(std::move(e));
  }
  return out;
}

TenancyTest::TenancyTest(int pool_size)
    : db_(OpenTestDatabase(GetParam(), pool_size)),
      audit_(*db_, clock_),
      auth_(*db_, audit_, clock_),
      service_(*db_, audit_, clock_) {
  int64_t id = MakeUser("root", {core::Role::kAdmin});
  admin_ = As(id, "root", {core::Role::kAdmin});
}

int64_t TenancyTest::MakeUser(const std::string& name, std::vector<core::Role> roles) {
  auto rs = db_->Exec(
      "INSERT INTO users (username, roles, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id",
      {name, auth::RolesToString(roles), clock_.Now(), clock_.Now()});
  if (!rs) throw std::runtime_error("MakeUser: " + rs.error().message);
  return rs->rows.at(0).Int(0);
}

core::RequestContext TenancyTest::As(int64_t user_id, const std::string& name,
                                     std::vector<core::Role> roles) {
  core::RequestContext rc;
  rc.principal.user_id = user_id;
  rc.principal.username = name;
  rc.principal.roles = std::move(roles);
  rc.principal.auth_method = "token";
  rc.principal.tenants = service_.Memberships(user_id).value();
  rc.source_ip = "127.0.0.1";
  rc.request_id = "test";
  return rc;
}

core::RequestContext TenancyTest::MemberOf(const std::string& tenant, core::Role role) {
  std::string name = "user" + std::to_string(++users_);
  int64_t id = MakeUser(name, {core::Role::kTenantMember});
  auto m = service_.AddMember(admin_, tenant, name, role);
  EXPECT_TRUE(m) << m.error().message;
  return As(id, name, {core::Role::kTenantMember});
}

Tenant TenancyTest::MakeTenant(const std::string& slug, std::optional<std::string> cohort) {
  auto t = service_.CreateTenant(admin_, {slug, "Tenant " + slug, cohort});
  EXPECT_TRUE(t) << t.error().message;
  return t ? *t : Tenant{};
}

void TenancyTest::SetQuota(const std::string& tenant, const std::string& resource,
                           int64_t guaranteed, std::optional<int64_t> burst,
                           std::optional<std::string> project) {
  auto q = service_.SetQuota(admin_, tenant, {resource, guaranteed, burst, project, false});
  EXPECT_TRUE(q) << q.error().message;
}

core::Result<Reservation> TenancyTest::Reserve(const std::string& tenant, Amounts amounts,
                                               const std::string& ref,
                                               std::optional<std::string> project) {
  return service_.Reserve(admin_, tenant, {project, std::move(amounts), ref});
}

QuotaView TenancyTest::View(const std::string& tenant, const std::string& resource,
                            const std::string& project) {
  auto views = service_.Quotas(admin_, tenant).value();
  for (const auto& v : views) {
    if (v.resource == resource && v.project == project) return v;
  }
  return QuotaView{project, resource};
}

int TenancyTest::AuditCount(const std::string& action) {
  return static_cast<int>(audit_.Search({.action = action, .limit = 1000})->size());
}

}  // namespace gantry::tenancy
