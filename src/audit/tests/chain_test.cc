#include "audit/chain.h"

#include <gtest/gtest.h>

namespace gantry::audit {
namespace {

Event Sample() {
  Event e;
  e.seq = 7;
  e.time = 1700000000000000000;
  e.actor = "alice";
  e.actor_id = 3;
  e.source_ip = "10.0.0.1";
  e.user_agent = "curl";
  e.action = "user.create";
  e.target_type = "user";
  e.target = "bob";
  e.request_id = "r1";
  e.details = R"({"roles":["viewer"]})";
  return e;
}

TEST(Chain, HashDependsOnEveryFieldAndThePreviousHash) {
  std::string scratch;
  Event e = Sample();
  std::string h = ComputeHash(e, kGenesisHash, scratch);
  EXPECT_EQ(64u, h.size());
  EXPECT_EQ(h, ComputeHash(e, kGenesisHash, scratch));
  EXPECT_NE(h, ComputeHash(e, std::string(64, '1'), scratch));
  auto changed = [&](auto mutate) {
    Event c = Sample();
    mutate(c);
    return ComputeHash(c, kGenesisHash, scratch) != h;
  };
  EXPECT_TRUE(changed([](Event& c) { c.seq = 8; }));
  EXPECT_TRUE(changed([](Event& c) { c.time += 1; }));
  EXPECT_TRUE(changed([](Event& c) { c.actor = "mallory"; }));
  EXPECT_TRUE(changed([](Event& c) { c.actor_id.reset(); }));
  EXPECT_TRUE(changed([](Event& c) { c.source_ip = "10.0.0.2"; }));
  EXPECT_TRUE(changed([](Event& c) { c.action = "user.delete"; }));
  EXPECT_TRUE(changed([](Event& c) { c.target = "bobby"; }));
  EXPECT_TRUE(changed([](Event& c) { c.tenant = "acme"; }));
  EXPECT_TRUE(changed([](Event& c) { c.result = kDenied; }));
  EXPECT_TRUE(changed([](Event& c) { c.details = "{}"; }));
}

TEST(Chain, FieldBoundariesCannotBeShifted) {
  // "ab" + "c" must not hash like "a" + "bc".
  std::string scratch;
  Event a = Sample(), b = Sample();
  a.actor = "ab";
  a.source_ip = "c";
  b.actor = "a";
  b.source_ip = "bc";
  EXPECT_NE(ComputeHash(a, kGenesisHash, scratch), ComputeHash(b, kGenesisHash, scratch));
}

TEST(Chain, RedactsSecretsRecursively) {
  auto obj = core::json::parse(
                 R"({"name":"x","password":"p","nested":{"api_token":"t","ok":1},"list":[{"Secret":"s"}]})")
                 .as_object();
  std::string out = core::json::serialize(Redact(obj));
  EXPECT_EQ(std::string::npos, out.find("\"p\""));
  EXPECT_EQ(std::string::npos, out.find("\"t\""));
  EXPECT_EQ(std::string::npos, out.find("\"s\""));
  EXPECT_NE(std::string::npos, out.find("\"ok\":1"));
  EXPECT_NE(std::string::npos, out.find("\"name\":\"x\""));
}

}  // namespace
}  // namespace gantry::audit
