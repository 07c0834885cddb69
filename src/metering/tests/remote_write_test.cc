// The remote-write receiver with bodies built by the Debian protobuf and snappy libraries:
// mapping of the series contract to SKUs, counters and gauges, replays (also after a restart),
// malformed and oversized bodies, on SQLite and PostgreSQL.
#include <snappy.h>

#include <atomic>
#include <set>
#include <thread>

#include "metering/remote_write.h"
#include "metering/tests/test_util.h"
#include "remote_write.pb.h"

namespace gantry::metering {
namespace {

using RemoteWriteTest = MeteringTest;
namespace pb = gantry_test::prompb;

struct S {
  std::map<std::string, std::string> labels;
  std::vector<std::pair<double, int64_t>> samples;  // value, ms
};

std::string Body(const std::vector<S>& series) {
  pb::WriteRequest req;
  for (const auto& s : series) {
    auto* ts = req.add_timeseries();
    for (const auto& [k, v] : s.labels) {  // std::map: sorted by name, as Prometheus sends
      auto* l = ts->add_labels();
      l->set_name(k);
      l->set_value(v);
    }
    for (const auto& [v, t] : s.samples) {
      auto* smp = ts->add_samples();
      smp->set_value(v);
      smp->set_timestamp(t);
    }
  }
  std::string raw = req.SerializeAsString(), out;
  snappy::Compress(raw.data(), raw.size(), &out);
  return out;
}

class RwFixture : public RemoteWriteTest {
 protected:
  int64_t Ms(int64_t offset_s) { return (clock_.Now() - kHour) / core::kNanosPerMilli + offset_s * 1000; }
  std::unique_ptr<RemoteWriteReceiver> rw_ = std::make_unique<RemoteWriteReceiver>(*service_, &metrics_);
};

TEST_P(RwFixture, CountersBecomeUsageByTheirIncreaseAndReplaysCountOnce) {
  MakeTenant("acme", {"train"});
  std::map<std::string, std::string> gpu = {{"__name__", "gantry_gpu_used_seconds_total"},
                                            {"tenant", "acme"}, {"project", "train"},
                                            {"gpu_model", "h100"}, {"node", "n1"}, {"pid", "42"}};
  // First sample counts in full (10 s), then +20 s, then a reset to 5 s (counts 5).
  auto body = Body({{gpu, {{10, Ms(0)}, {30, Ms(60)}, {5, Ms(120)}}}});
  auto r = rw_->Receive(body);
  ASSERT_OK(r);
  EXPECT_EQ(3, r->counted);
  EXPECT_EQ(35'000, Total("acme") + 0 * 0);  // gpu-h100-hour, kind used
  auto rs = db_->Query("SELECT kind FROM usage_hourly");
  EXPECT_EQ("used", rs->rows.at(0).Str(0));
  // The same body again (Prometheus retries) counts nothing.
  auto again = rw_->Receive(body);
  ASSERT_OK(again);
  EXPECT_EQ(3, again->replayed);
  EXPECT_EQ(35'000, Total("acme"));
  // After a restart the series state comes from the database.
  Restart();
  rw_ = std::make_unique<RemoteWriteReceiver>(*service_, &metrics_);
  ASSERT_OK(rw_->Receive(body));
  EXPECT_EQ(35'000, Total("acme"));
  ASSERT_OK(rw_->Receive(Body({{gpu, {{5, Ms(120)}, {7.5, Ms(180)}}}})));
  EXPECT_EQ(37'500, Total("acme"));
  EXPECT_EQ(1u, rw_->ActiveSeries());
}

TEST_P(RwFixture, MigSharedStorageAndUnknownSeries) {
  MakeTenant("acme");
  auto r = rw_->Receive(Body({
      {{{"__name__", "gantry_gpu_allocated_seconds_total"}, {"tenant", "acme"}, {"gpu_model", "a100"}, {"mig_profile", "1g.10gb"}},
       {{100, Ms(0)}}},
      {{{"__name__", "gantry_gpu_used_seconds_total"}, {"tenant", "acme"}, {"gpu_model", "h100"}, {"shared", "true"}},
       {{2, Ms(0)}}},
      {{{"__name__", "gantry_storage_allocated_bytes"}, {"tenant", "acme"}, {"volume", "v1"}},
       {{double(int64_t{10} << 30), Ms(0)}, {double(int64_t{10} << 30), Ms(60)}}},
      {{{"__name__", "node_cpu_seconds_total"}, {"cpu", "0"}}, {{1, Ms(0)}}},
      {{{"__name__", "gantry_gpu_used_seconds_total"}, {"tenant", "nobody"}, {"gpu_model", "h100"}}, {{1, Ms(0)}}},
  }));
  ASSERT_OK(r);
  EXPECT_EQ(1, r->ignored);
  EXPECT_EQ(100'000, Total("acme", "mig-1g.10gb-hour"));
  EXPECT_EQ(2'000, Total("acme", "gpu-h100-shared-hour"));
  EXPECT_EQ(10 * 1024 * 60, Total("acme", "storage-gib-month"));  // 10 GiB for 60 s in MiB-s
  EXPECT_EQ(1, r->ingest.quarantined);
  EXPECT_EQ("unknown_tenant", r->ingest.quarantine.at(0).second);
}

TEST_P(RwFixture, MalformedAndOversizedBodiesAreRefusedAndCounted) {
  MakeTenant("acme");
  auto rejected = [&](const std::string& reason) {
    return metrics_.Counter("gantry_metering_rejected_total", "", {}).Value({"remote-write", reason});
  };
  auto junk = rw_->Receive("this is not snappy at all");
  ASSERT_FALSE(junk);
  EXPECT_EQ(core::Code::kInvalidArgument, junk.error().code);
  EXPECT_EQ(1, rejected("snappy"));
  std::string bad_proto, raw = "\x0a\x05\x0a\x10zz";  // a length running past the end
  snappy::Compress(raw.data(), raw.size(), &bad_proto);
  auto p = rw_->Receive(bad_proto);
  ASSERT_FALSE(p);
  EXPECT_EQ(core::Code::kInvalidArgument, p.error().code);
  EXPECT_EQ(1, rejected("protobuf"));
  RemoteWriteReceiver small(*service_, &metrics_, RemoteWriteOptions{.max_uncompressed = 64});
  std::string big(1000, 'a'), big_body;
  snappy::Compress(big.data(), big.size(), &big_body);
  auto tl = small.Receive(big_body);
  ASSERT_FALSE(tl);
  EXPECT_EQ(core::Code::kTooLarge, tl.error().code);
  EXPECT_EQ(1, rejected("too_large"));
  EXPECT_EQ(0, Total("acme"));
}

TEST_P(RwFixture, TheSeriesLogIsCompactedAndStillRemembersEverySeries) {
  MakeTenant("acme");
  rw_ = std::make_unique<RemoteWriteReceiver>(*service_, &metrics_, RemoteWriteOptions{.compact_every = 3});
  auto series = [&](int pod, double v, int64_t ms) {
    return S{{{"__name__", "gantry_gpu_used_seconds_total"}, {"tenant", "acme"}, {"gpu_model", "h100"},
              {"pod", "p" + std::to_string(pod)}},
             {{v, ms}}};
  };
  for (int i = 0; i < 10; ++i) ASSERT_OK(rw_->Receive(Body({series(i, 1, Ms(i))})));
  auto rows = db_->Query("SELECT COUNT(*) FROM metering_series_log");
  EXPECT_LE(rows->rows.at(0).Int(0), 3);
  EXPECT_EQ(10'000, Total("acme"));
  // After a restart every series is known: old samples replay, new ones count by their increase.
  Restart();
  rw_ = std::make_unique<RemoteWriteReceiver>(*service_, &metrics_, RemoteWriteOptions{.compact_every = 3});
  std::vector<S> all;
  for (int i = 0; i < 10; ++i) all.push_back(series(i, 1, Ms(i)));
  auto r = rw_->Receive(Body(all));
  ASSERT_OK(r);
  EXPECT_EQ(10, r->replayed);
  all.clear();
  for (int i = 0; i < 10; ++i) all.push_back(series(i, 3, Ms(100 + i)));
  ASSERT_OK(rw_->Receive(Body(all)));
  EXPECT_EQ(30'000, Total("acme"));
}

TEST_P(RwFixture, ConcurrentRequestsAreGroupCommittedAndCountOnce) {
  MakeTenant("acme");
  // 8 threads: each sends its own pod's body twice; every body also races its twin.
  std::vector<std::string> bodies;
  for (int i = 0; i < 8; ++i) {
    bodies.push_back(Body({{{{"__name__", "gantry_gpu_used_seconds_total"}, {"tenant", "acme"},
                             {"gpu_model", "h100"}, {"pod", "p" + std::to_string(i)}},
                            {{1.0 + i, Ms(0)}, {2.0 + i, Ms(10)}}}}));
  }
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 16; ++t) {
    threads.emplace_back([&, t] {
      if (!rw_->Receive(bodies[t % 8])) ++failures;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(0, failures.load());
  int64_t expected = 0;
  for (int i = 0; i < 8; ++i) expected += (2 + i) * 1000;
  EXPECT_EQ(expected, Total("acme"));
}

// The decoder against bodies libprotobuf wrote, with unknown fields of every wire type (newer
// Prometheus versions add metadata, exemplars and histograms) in each message, and truncations.
TEST(RemoteWriteDecoder, ReadsLibprotobufBodiesSkipsUnknownFieldsAndRefusesTruncation) {
  pb::WriteRequest req;
  for (int i = 0; i < 3; ++i) {
    auto* ts = req.add_timeseries();
    auto* l = ts->add_labels();
    l->set_name("__name__");
    l->set_value("m" + std::to_string(i));
    auto* smp = ts->add_samples();
    smp->set_value(1.5 * i);
    smp->set_timestamp(1000 + i);
    auto* unknown = ts->GetReflection()->MutableUnknownFields(ts);
    unknown->AddVarint(3, 42);                   // exemplars' number, as a varint
    unknown->AddLengthDelimited(4, "histogram");
    unknown->AddFixed32(9, 7);
    unknown->AddFixed64(10, 8);
    smp->GetReflection()->MutableUnknownFields(smp)->AddVarint(7, 1);
    l->GetReflection()->MutableUnknownFields(l)->AddLengthDelimited(5, "x");
  }
  req.GetReflection()->MutableUnknownFields(&req)->AddLengthDelimited(3, "metadata");
  std::string raw = req.SerializeAsString();
  auto parsed = ParseWriteRequest(raw);
  ASSERT_TRUE(parsed) << parsed.error().message;
  ASSERT_EQ(3u, parsed->size());
  for (int i = 0; i < 3; ++i) {
    const auto& s = (*parsed)[i];
    ASSERT_EQ(1u, s.labels.size());
    EXPECT_EQ("__name__", s.labels[0].name);
    EXPECT_EQ("m" + std::to_string(i), s.labels[0].value);
    ASSERT_EQ(1u, s.samples.size());
    EXPECT_EQ(1.5 * i, s.samples[0].value);
    EXPECT_EQ(1000 + i, s.samples[0].timestamp_ms);
  }
  // Every truncation of the body is refused or yields fewer series, never a crash or garbage.
  // (The last 10 bytes are the trailing unknown field: tag, length, "metadata".)
  for (size_t n = 0; n < raw.size(); ++n) {
    auto t = ParseWriteRequest(std::string_view(raw).substr(0, n));
    if (t) {
      EXPECT_LE(t->size(), n < raw.size() - 10 ? 2u : 3u) << n;
    }
  }
  EXPECT_FALSE(ParseWriteRequest(std::string("\x0f\x00", 2)));  // wire type 7
  EXPECT_FALSE(ParseWriteRequest(std::string("\x0a\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\x01", 12)));
}

TEST(RemoteWriteDecoder, BodyHashTellsBodiesApartToTheLastByte) {
  std::set<uint64_t> seen;
  std::string body;
  for (int n = 0; n < 40; ++n) {
    EXPECT_EQ(BodyHash(body), BodyHash(std::string(body)));
    EXPECT_TRUE(seen.insert(BodyHash(body)).second) << n;
    std::string flipped = body + "b";
    body += 'a';
    EXPECT_NE(BodyHash(body), BodyHash(flipped));
  }
}

GANTRY_INSTANTIATE_BACKENDS(RwFixture);

}  // namespace
}  // namespace gantry::metering
