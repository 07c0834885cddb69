#include "audit/service.h"
#include "audit/chain.h"

#include <gtest/gtest.h>

#include <thread>

#include "core/crypto.h"
#include "support/test_db.h"

namespace gantry::audit {
namespace {

class AuditTest : public ::testing::TestWithParam<store::Backend> {
 protected:
  AuditTest()
      : db_(testing::NewTestDatabase(GetParam())),
        clock_(1'800'000'000LL * core::kNanosPerSecond),
        key_(MakeKey()),
        audit_(*db_, clock_, key_) {}

  static SigningKey MakeKey() {
    auto kp = core::Ed25519Generate();
    return SigningKey{kp.private_key, kp.public_key, KeyId(kp.public_key)};
  }

  core::RequestContext Alice() {
    core::RequestContext rc;
    rc.principal.user_id = 1;
    rc.principal.username = "alice";
    rc.source_ip = "192.0.2.7";
    rc.user_agent = "test";
    rc.request_id = "req-1";
    return rc;
  }

  void AppendN(int n, const std::string& action = "thing.update") {
    for (int i = 0; i < n; ++i) {
      clock_.Advance(core::kNanosPerSecond);
      ASSERT_TRUE(audit_.AppendStandalone(
          Service::MakeEvent(Alice(), action, "thing", "t" + std::to_string(i))));
    }
  }

  VerifyReport Verify() { return audit_.Verify(key_.public_key).value(); }

  void Sql(const std::string& sql) { ASSERT_TRUE(db_->Exec(sql)) << sql; }

  std::unique_ptr<store::Database> db_;
  core::ManualClock clock_;
  SigningKey key_;
  Service audit_;
};

TEST_P(AuditTest, EmptyChainVerifies) {
  auto rep = Verify();
  EXPECT_TRUE(rep.ok);
  EXPECT_EQ(0, rep.events);
}

TEST_P(AuditTest, AppendsAContiguousChainThatVerifies) {
  AppendN(5);
  ASSERT_TRUE(audit_.Checkpoint());
  AppendN(3);
  auto rep = Verify();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(8, rep.events);
  EXPECT_EQ(1, rep.checkpoints);
  auto events = audit_.Search({}).value();
  ASSERT_EQ(8u, events.size());
  EXPECT_EQ(8, events.front().seq);  // newest first
  EXPECT_EQ("alice", events.front().actor);
  EXPECT_EQ("192.0.2.7", events.front().source_ip);
  EXPECT_EQ(events[1].hash, events[0].prev_hash);
}

TEST_P(AuditTest, EventCommitsOrVanishesWithItsChange) {
  {
    auto tx = db_->Begin().value();
    ASSERT_TRUE(tx->Exec("INSERT INTO settings (key, value) VALUES ('k', 'v')"));
    ASSERT_TRUE(audit_.Append(*tx, Service::MakeEvent(Alice(), "setting.set", "setting", "k")));
    // destroyed without Commit: both roll back
  }
  EXPECT_TRUE(db_->Query("SELECT 1 FROM settings WHERE key = 'k'")->rows.empty());
  EXPECT_TRUE(audit_.Search({}).value().empty());
  AppendN(1);
  EXPECT_EQ(1, audit_.Search({}).value().front().seq);  // the rolled-back seq was not burnt
  EXPECT_TRUE(Verify().ok);
}

TEST_P(AuditTest, AlteredEventIsNamed) {
  AppendN(5);
  Sql("UPDATE audit_events SET details = '{\"forged\":true}' WHERE seq = 3");
  auto rep = Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(3, rep.first_bad_seq);
  EXPECT_NE(std::string::npos, rep.problem.find("altered"));
}

TEST_P(AuditTest, RehashedEventIsStillCaughtByItsSuccessor) {
  AppendN(5);
  // Forge event 2 and recompute its own hash: event 3 no longer follows it.
  auto e = audit_.Search({.before_seq = 3, .limit = 1}).value().at(0);
  e.actor = "mallory";
  std::string scratch;
  std::string h = ComputeHash(e, e.prev_hash, scratch);
  ASSERT_TRUE(db_->Exec("UPDATE audit_events SET actor = 'mallory', hash = ? WHERE seq = 2", {h}));
  auto rep = Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(3, rep.first_bad_seq);
}

TEST_P(AuditTest, DeletedEventIsNamed) {
  AppendN(5);
  Sql("DELETE FROM audit_events WHERE seq = 4");
  auto rep = Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(4, rep.first_bad_seq);
  EXPECT_NE(std::string::npos, rep.problem.find("missing"));
}

TEST_P(AuditTest, TruncatedTailIsDetected) {
  AppendN(5);
  Sql("DELETE FROM audit_events WHERE seq = 5");
  auto rep = Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(5, rep.first_bad_seq);
}

TEST_P(AuditTest, ReorderedEventsAreDetected) {
  AppendN(5);
  Sql("UPDATE audit_events SET seq = 100 WHERE seq = 2");
  Sql("UPDATE audit_events SET seq = 2 WHERE seq = 3");
  Sql("UPDATE audit_events SET seq = 3 WHERE seq = 100");
  auto rep = Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(2, rep.first_bad_seq);
}

TEST_P(AuditTest, InsertedEventIsDetected) {
  AppendN(3);
  // A forged event at the end, hashed correctly, but the head was not moved.
  auto last = audit_.Search({.limit = 1}).value().at(0);
  Event forged = last;
  forged.seq = 4;
  forged.action = "user.create";
  forged.prev_hash = last.hash;
  std::string scratch;
  forged.hash = ComputeHash(forged, forged.prev_hash, scratch);
  auto tx = db_->Begin().value();
  ASSERT_TRUE(Store::Insert(*tx, forged));
  ASSERT_TRUE(tx->Commit());
  auto rep = Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(4, rep.first_bad_seq);  // the inserted event is named
  EXPECT_NE(std::string::npos, rep.problem.find("head"));
}

TEST_P(AuditTest, ForgedCheckpointSignatureIsRejected) {
  AppendN(3);
  ASSERT_TRUE(audit_.Checkpoint());
  Sql("UPDATE audit_checkpoints SET signature = '" + std::string(128, 'a') + "'");
  auto rep = Verify();
  EXPECT_FALSE(rep.ok);
  EXPECT_EQ(3, rep.first_bad_seq);
  EXPECT_NE(std::string::npos, rep.problem.find("signature"));
  // Another key's signature is no better.
  Service other(*db_, clock_, MakeKey());
  EXPECT_FALSE(other.Verify(MakeKey().public_key)->ok);
}

TEST_P(AuditTest, PublishedKeyVerifiesWithoutTheKeyFile) {
  ASSERT_TRUE(audit_.PublishPublicKey());
  AppendN(2);
  ASSERT_TRUE(audit_.Checkpoint());
  auto rep = audit_.Verify();
  EXPECT_TRUE(rep->ok) << rep->problem;
  EXPECT_EQ(1, rep->checkpoints);
}

TEST_P(AuditTest, CheckpointOnlyWhenTheHeadMoved) {
  EXPECT_FALSE(audit_.Checkpoint().value().has_value());
  AppendN(2);
  EXPECT_EQ(2, audit_.Checkpoint().value().value());
  EXPECT_FALSE(audit_.Checkpoint().value().has_value());
}

TEST_P(AuditTest, SearchFiltersAndPages) {
  AppendN(3, "user.create");
  AppendN(2, "token.create");
  auto denied = Service::MakeEvent(Alice(), "authz.denied", "route", "/x", {}, kDenied);
  denied.actor = "bob";
  ASSERT_TRUE(audit_.AppendStandalone(denied));
  EXPECT_EQ(3u, audit_.Search({.action = "user.create"})->size());
  EXPECT_EQ(5u, audit_.Search({.action = std::string("u*")})->size() +
                    audit_.Search({.action = std::string("t*")})->size());
  EXPECT_EQ(1u, audit_.Search({.actor = "bob"})->size());
  EXPECT_EQ(1u, audit_.Search({.result = std::string(kDenied)})->size());
  auto page1 = audit_.Search({.limit = 4}).value();
  ASSERT_EQ(4u, page1.size());
  auto page2 = audit_.Search({.before_seq = page1.back().seq, .limit = 4}).value();
  ASSERT_EQ(2u, page2.size());
  EXPECT_EQ(1, page2.back().seq);
  // Times: events were one second apart from 1.8e9 s.
  auto first_two = audit_.Search({.until = 1'800'000'002LL * core::kNanosPerSecond + 1}).value();
  EXPECT_EQ(2u, first_two.size());
}

TEST_P(AuditTest, SecretsNeverReachTheTrail) {
  ASSERT_TRUE(audit_.AppendStandalone(Service::MakeEvent(
      Alice(), "bmc.create", "bmc", "b1", {{"password", "hunter2hunter2"}, {"host", "10.1.1.1"}})));
  auto rs = db_->Query("SELECT details FROM audit_events").value();
  EXPECT_EQ(std::string::npos, rs.rows[0].Str(0).find("hunter2"));
  EXPECT_NE(std::string::npos, rs.rows[0].Str(0).find("10.1.1.1"));
}

TEST_P(AuditTest, ConcurrentAppendsStayLinear) {
  constexpr int kThreads = 8, kEach = 25;
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < kEach; ++i) {
        auto e = Service::MakeEvent(Alice(), "thing.update", "thing", std::to_string(t * 1000 + i));
        if (!audit_.AppendStandalone(e)) ++failures;
      }
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(0, failures.load());
  auto rep = Verify();
  EXPECT_TRUE(rep.ok) << rep.problem;
  EXPECT_EQ(kThreads * kEach, rep.events);
}

GANTRY_INSTANTIATE_BACKENDS(AuditTest);

}  // namespace
}  // namespace gantry::audit
