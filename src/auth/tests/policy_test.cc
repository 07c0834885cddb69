#include "auth/policy.h"

#include <gtest/gtest.h>

#include "auth/password.h"
#include "auth/throttle.h"

namespace gantry::auth {
namespace {

core::Principal With(core::Role r) {
  core::Principal p;
  p.user_id = 1;
  p.roles = {r};
  return p;
}

TEST(Policy, AuditorReadsTheTrailButChangesNothing) {
  auto a = With(core::Role::kAuditor);
  EXPECT_TRUE(Allowed(a, "audit.read"));
  EXPECT_TRUE(Allowed(a, "audit.verify"));
  EXPECT_FALSE(Allowed(a, "users.write"));
  EXPECT_FALSE(Allowed(a, "jobs.write"));
  EXPECT_FALSE(Allowed(a, "jobs.cancel"));
}

TEST(Policy, ViewerAndTenantMembersCannotReadAudit) {
  EXPECT_FALSE(Allowed(With(core::Role::kViewer), "audit.read"));
  EXPECT_FALSE(Allowed(With(core::Role::kTenantMember), "audit.read"));
  EXPECT_TRUE(Allowed(With(core::Role::kViewer), "self.read"));
}

TEST(Policy, OperatorRunsJobsButManagesNoUsers) {
  auto o = With(core::Role::kOperator);
  EXPECT_TRUE(Allowed(o, "jobs.write"));
  EXPECT_FALSE(Allowed(o, "users.write"));
}

TEST(Policy, UnknownActionsAreDenied) {
  EXPECT_FALSE(Allowed(With(core::Role::kAdmin), "no.such.action"));
  EXPECT_FALSE(Allowed(core::Principal{}, "self.read"));
}

TEST(Policy, TenantMembershipRolesCount) {
  core::Principal p;
  p.user_id = 2;
  p.tenants = {{7, "acme", core::Role::kTenantAdmin}};
  EXPECT_TRUE(Allowed(p, "jobs.read"));
  EXPECT_FALSE(SeesAllTenants(p));
}

TEST(Policy, TenancyActions) {
  EXPECT_TRUE(Allowed(With(core::Role::kAdmin), "tenants.write"));
  EXPECT_FALSE(Allowed(With(core::Role::kOperator), "tenants.write"));
  EXPECT_FALSE(Allowed(With(core::Role::kOperator), "quotas.write"));
  EXPECT_TRUE(Allowed(With(core::Role::kOperator), "quotas.reserve"));
  EXPECT_TRUE(Allowed(With(core::Role::kViewer), "tenants.read"));
  EXPECT_FALSE(Allowed(With(core::Role::kViewer), "quotas.reserve"));
  core::Principal member;
  member.user_id = 3;
  member.tenants = {{7, "acme", core::Role::kTenantMember}};
  EXPECT_TRUE(Allowed(member, "quotas.reserve"));
  EXPECT_FALSE(Allowed(member, "tenants.members"));
  member.tenants[0].role = core::Role::kTenantAdmin;
  EXPECT_TRUE(Allowed(member, "tenants.members"));
  EXPECT_FALSE(Allowed(member, "quotas.write"));
}

TEST(Policy, ATenantViewerMembershipGrantsNoGlobalRole) {
  core::Principal p;
  p.user_id = 3;
  p.tenants = {{7, "acme", core::Role::kViewer}};
  EXPECT_TRUE(Allowed(p, "cmdb.read"));
  EXPECT_FALSE(Allowed(p, "metrics.read"));
  EXPECT_FALSE(Allowed(p, "quotas.reserve"));
  EXPECT_FALSE(SeesAllTenants(p));
}

TEST(Password, Argon2idRoundTrip) {
  auto h = HashPassword("correct horse battery").value();
  EXPECT_EQ(0u, h.rfind("$argon2id$", 0));
  EXPECT_TRUE(VerifyPassword(h, "correct horse battery"));
  EXPECT_FALSE(VerifyPassword(h, "correct horse battery!"));
  EXPECT_NE(h, HashPassword("correct horse battery").value());  // salted
}

TEST(Password, PolicyAndGenerator) {
  EXPECT_FALSE(CheckPasswordPolicy("short"));
  EXPECT_TRUE(CheckPasswordPolicy("twelve chars"));
  auto g = GeneratePassword();
  EXPECT_EQ(24u, g.size());
  EXPECT_NE(g, GeneratePassword());
}

TEST(Throttle, LocksAnAccountAfterFailuresThenForgets) {
  core::ManualClock clock(0);
  LoginThrottle t(clock, {3, 100, 60 * core::kNanosPerSecond});
  for (int i = 0; i < 3; ++i) {
    EXPECT_TRUE(t.Allow("bob", "1.1.1.1"));
    t.RecordFailure("bob", "1.1.1.1");
  }
  EXPECT_FALSE(t.Allow("bob", "2.2.2.2"));
  EXPECT_TRUE(t.Allow("alice", "1.1.1.1"));
  clock.Advance(61 * core::kNanosPerSecond);
  EXPECT_TRUE(t.Allow("bob", "1.1.1.1"));
}

TEST(Throttle, LimitsASourceSprayingManyAccounts) {
  core::ManualClock clock(0);
  LoginThrottle t(clock, {100, 5, 60 * core::kNanosPerSecond});
  for (int i = 0; i < 5; ++i) t.RecordFailure("user" + std::to_string(i), "6.6.6.6");
  EXPECT_FALSE(t.Allow("fresh", "6.6.6.6"));
  EXPECT_TRUE(t.Allow("fresh", "7.7.7.7"));
}

}  // namespace
}  // namespace gantry::auth
