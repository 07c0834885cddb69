// Property: for random usage streams with replays, reordering, failed (crashed) batches and
// restarts, the sum of the invoice lines equals the rated sum of the distinct usage, to the
// micro-unit. The reference rating below is independent of the service: it sums the distinct
// records per (project, SKU, price in effect) and applies the documented rounding rule.
#include <algorithm>
#include <random>

#include "metering/tests/test_util.h"

namespace gantry::metering {
namespace {

using PropertyTest = MeteringTest;

struct Sku_ {
  std::string name;
  int64_t per_unit;  // base units per price unit
};

TEST_P(PropertyTest, InvoiceEqualsRatedDistinctUsage) {
  const int kRounds = GetParam() == store::Backend::kSqlite ? 6 : 3;
  for (int round = 0; round < kRounds; ++round) {
    std::mt19937_64 rng(1234 + round);
    std::string tenant = "t" + std::to_string(round);
    MakeTenant(tenant, {"p1", "p2"});
    const std::vector<Sku_> skus = {{"gpu-h100-hour", 3'600'000},
                                    {"mig-1g.10gb-hour", 3'600'000},
                                    {"memory-gib-hour", 1024 * 3600}};
    // Prices (set once; later rounds reuse them): a change at Nov 10 05:00 for the GPU SKU.
    const core::UnixNanos change = kNov10 + 5 * kHour;
    if (round == 0) {
      SetPrice("gpu-h100-hour", 2'345'679, 0);
      SetPrice("gpu-h100-hour", 3'100'001, change);
      SetPrice("mig-1g.10gb-hour", 411'111, 0);
      SetPrice("memory-gib-hour", 7'777, 0);
    }
    auto price_of = [&](const std::string& sku, core::UnixNanos t) -> int64_t {
      if (sku == "gpu-h100-hour") return t < change ? 2'345'679 : 3'100'001;
      if (sku == "mig-1g.10gb-hour") return 411'111;
      return 7'777;
    };
    // Distinct records, each inside one hour of Nov 10 (00:00-12:00).
    std::vector<UsageRecord> distinct;
    std::uniform_int_distribution<int> hour(0, 11), sku_i(0, 2), proj(0, 2);
    std::uniform_int_distribution<int64_t> qty(0, 50'000'000);
    int n = 150 + static_cast<int>(rng() % 100);
    for (int i = 0; i < n; ++i) {
      auto h = kNov10 + hour(rng) * kHour;
      const auto& s = skus[sku_i(rng)];
      std::string project = proj(rng) == 0 ? "" : (proj(rng) == 1 ? "p1" : "p2");
      distinct.push_back(UsageRecord{tenant + "-r" + std::to_string(i), tenant, project, s.name,
                                     kAllocated, qty(rng), h + static_cast<int64_t>(rng() % 1000),
                                     h + kHour - 1});
    }
    // The stream: every record 1-3 times, shuffled, in random batches; some batches crash before
    // commit (and are retried later as part of the stream), and the service restarts now and then.
    std::vector<UsageRecord> stream;
    for (const auto& r : distinct) {
      int copies = 1 + static_cast<int>(rng() % 3);
      for (int c = 0; c < copies; ++c) stream.push_back(r);
    }
    std::shuffle(stream.begin(), stream.end(), rng);
    size_t pos = 0;
    std::vector<std::vector<UsageRecord>> crashed;
    while (pos < stream.size()) {
      size_t len = std::min(stream.size() - pos, static_cast<size_t>(1 + rng() % 40));
      std::vector<UsageRecord> batch(stream.begin() + pos, stream.begin() + pos + len);
      pos += len;
      if (rng() % 7 == 0) {
        service_->before_commit_for_test = [] { return core::Status(core::Unavailable("crash")); };
        ASSERT_FALSE(service_->Ingest(admin_, "api", batch));
        service_->before_commit_for_test = nullptr;
        crashed.push_back(batch);
        continue;
      }
      if (rng() % 11 == 0) Restart();
      ASSERT_OK(service_->Ingest(admin_, "api", batch));
    }
    for (const auto& b : crashed) ASSERT_OK(service_->Ingest(admin_, "api", b));

    // Reference rating.
    std::map<std::tuple<std::string, std::string, int64_t>, int64_t> groups;
    for (const auto& r : distinct) groups[{r.project, r.sku, price_of(r.sku, r.start)}] += r.quantity;
    int64_t expected = 0;
    for (const auto& [k, q] : groups) {
      const auto& [project, sku, price] = k;
      int64_t per = std::find_if(skus.begin(), skus.end(), [&](const Sku_& s) { return s.name == sku; })->per_unit;
      __int128 num = static_cast<__int128>(q) * price;
      // half to even
      __int128 quo = num / per, rem = num % per;
      if (2 * rem > per || (2 * rem == per && quo % 2 == 1)) ++quo;
      if (q) expected += static_cast<int64_t>(quo);
    }
    auto preview = billing_->Preview(admin_, tenant, "2026-11");
    ASSERT_OK(preview);
    int64_t lines = 0;
    for (const auto& l : preview->lines) lines += l.amount_micros;
    EXPECT_EQ(expected, lines) << "round " << round;
    EXPECT_EQ(expected, preview->total_micros) << "round " << round;
  }
}

GANTRY_INSTANTIATE_BACKENDS(PropertyTest);

}  // namespace
}  // namespace gantry::metering
