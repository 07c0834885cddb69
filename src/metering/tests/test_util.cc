#include "metering/tests/test_util.h"

#include "auth/types.h"
#include "store/migrate.h"
#include "support/test_db.h"

namespace gantry::metering {

std::unique_ptr<store::Database> OpenTestDatabase(store::Backend backend, std::string* url_out) {
  std::string url = testing::NewTestDatabaseUrl(backend);
  if (url_out) *url_out = url;
  auto db = store::Open(url, store::OpenOptions{.pool_size = 4});
  if (!db) throw std::runtime_error("open " + url + ": " + db.error().message);
  auto applied = store::Migrate(**db);
  if (!applied) throw std::runtime_error("migrate " + url + ": " + applied.error().message);
  return std::move(*db);
}

MeteringTest::MeteringTest() {
  db_ = OpenTestDatabase(GetParam(), &url_);
  auto rs = db_->Exec(
      "INSERT INTO users (username, roles, created_at, updated_at) VALUES (?, ?, ?, ?) RETURNING id",
      {std::string("root"), auth::RolesToString({core::Role::kAdmin}), clock_.Now(), clock_.Now()});
  if (!rs) throw std::runtime_error(rs.error().message);
  admin_.principal.user_id = rs->rows.at(0).Int(0);
  admin_.principal.username = "root";
  admin_.principal.roles = {core::Role::kAdmin};
  admin_.principal.auth_method = "token";
  admin_.request_id = "test";
  Restart();
}

void MeteringTest::Restart() {
  billing_.reset();
  service_.reset();
  tenancy_.reset();
  audit_ = std::make_unique<audit::Service>(*db_, clock_);
  tenancy_ = std::make_unique<tenancy::Service>(*db_, *audit_, clock_);
  service_ = std::make_unique<Service>(*db_, *audit_, clock_, &metrics_);
  billing_ = std::make_unique<Billing>(*service_, *audit_, &metrics_);
  auto st = service_->Init();
  if (!st) throw std::runtime_error(st.error().message);
}

void MeteringTest::MakeTenant(const std::string& slug, std::vector<std::string> projects) {
  auto t = tenancy_->CreateTenant(admin_, {slug, "Tenant " + slug, {}});
  ASSERT_TRUE(t) << t.error().message;
  for (const auto& p : projects) {
    auto r = tenancy_->CreateProject(admin_, slug, p, "");
    ASSERT_TRUE(r) << r.error().message;
  }
}

void MeteringTest::SetPrice(const std::string& sku, int64_t micros, core::UnixNanos from) {
  Price p;
  p.sku = sku;
  p.unit_price_micros = micros;
  p.effective_from = from;
  auto r = service_->AddPrice(admin_, p);
  ASSERT_TRUE(r) << r.error().message;
}

UsageRecord MeteringTest::Gpu(const std::string& key, const std::string& tenant,
                              const std::string& project, int64_t q, core::UnixNanos start,
                              int64_t length, const std::string& sku) {
  return UsageRecord{key, tenant, project, sku, kAllocated, q, start, start + length};
}

IngestResult MeteringTest::Ingest(const std::vector<UsageRecord>& records) {
  auto r = service_->Ingest(admin_, "api", records);
  EXPECT_TRUE(r) << r.error().message;
  return r ? *r : IngestResult{};
}

int64_t MeteringTest::Total(const std::string& tenant, const std::string& sku) {
  auto rs = db_->Query(
      "SELECT COALESCE(SUM(h.quantity), 0) FROM usage_hourly h JOIN tenants t ON t.id = h.tenant_id "
      "WHERE t.slug = ? AND h.sku = ?",
      {tenant, sku});
  EXPECT_TRUE(rs) << rs.error().message;
  return rs ? rs->rows.at(0).Int(0) : -1;
}

int MeteringTest::AuditCount(const std::string& action) {
  auto rs = db_->Query("SELECT COUNT(*) FROM audit_events WHERE action = ?", {action});
  return rs ? static_cast<int>(rs->rows.at(0).Int(0)) : -1;
}

}  // namespace gantry::metering
