// Test fixture for metering: a fresh database per test on each backend, tenancy, metering and
// billing services on a manual clock, and helpers that read like the rules they check.
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <string>

#include "audit/service.h"
#include "core/metrics.h"
#include "metering/billing.h"
#include "metering/service.h"
#include "support/test_db.h"
#include "tenancy/service.h"

namespace gantry::metering {

#define ASSERT_OK(expr)                                                            \
  do {                                                                             \
    auto _r = (expr);                                                              \
    ASSERT_TRUE(_r) << #expr << ": " << (_r ? std::string() : _r.error().message); \
  } while (0)

std::unique_ptr<store::Database> OpenTestDatabase(store::Backend backend, std::string* url = nullptr);

// 2026-11-10T00:00:00Z
inline constexpr core::UnixNanos kNov10 = 1'794'268'800LL * core::kNanosPerSecond;
inline constexpr int64_t kHour = kNanosPerHour;
inline constexpr int64_t kGpuHour = 3'600'000;  // milli-GPU-seconds

class MeteringTest : public ::testing::TestWithParam<store::Backend> {
 protected:
  MeteringTest();
  // Rebuilds the services on the same database (a restart).
  void Restart();

  void MakeTenant(const std::string& slug, std::vector<std::string> projects = {});
  void SetPrice(const std::string& sku, int64_t micros, core::UnixNanos from = 0);
  // One record of `gpu_hours` H100-hours (allocated) in the hour starting at `start`.
  UsageRecord Gpu(const std::string& key, const std::string& tenant, const std::string& project,
                  int64_t milli_gpu_s, core::UnixNanos start, int64_t length = kHour,
                  const std::string& sku = "gpu-h100-hour");
  IngestResult Ingest(const std::vector<UsageRecord>& records);
  // The hourly roll-up sum of a tenant (all projects, every SKU, allocated).
  int64_t Total(const std::string& tenant, const std::string& sku = "gpu-h100-hour");
  int AuditCount(const std::string& action);

  std::string url_;
  std::unique_ptr<store::Database> db_;
  core::ManualClock clock_{kNov10 + 12 * kHour};
  core::MetricsRegistry metrics_;
  std::unique_ptr<audit::Service> audit_;
  std::unique_ptr<tenancy::Service> tenancy_;
  std::unique_ptr<Service> service_;
  std::unique_ptr<Billing> billing_;
  core::RequestContext admin_;
};

}  // namespace gantry::metering
