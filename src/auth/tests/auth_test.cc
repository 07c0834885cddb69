#include <gtest/gtest.h>

#include "auth/service.h"
#include "support/test_db.h"

namespace gantry::auth {
namespace {

class AuthTest : public ::testing::TestWithParam<store::Backend> {
 protected:
  AuthTest()
      : db_(testing::NewTestDatabase(GetParam())),
        clock_(1'800'000'000LL * core::kNanosPerSecond),
        audit_(*db_, clock_),
        auth_(*db_, audit_, clock_) {
    admin_ctx_ = core::RequestContext::System("test");
    auto created = auth_.Bootstrap("root", std::string("root-password-123"));
    EXPECT_TRUE(created);
    root_ = created->user;
    admin_ctx_.principal.user_id = root_.id;
    admin_ctx_.principal.username = "root";
    admin_ctx_.source_ip = "198.51.100.1";
  }

  core::RequestContext From(const std::string& ip) {
    core::RequestContext rc;
    rc.source_ip = ip;
    rc.user_agent = "test";
    return rc;
  }

  int Audits(const std::string& action, const std::string& result = "success") {
    return static_cast<int>(
        audit_.Search({.action = action, .result = result, .limit = 1000})->size());
  }

  std::unique_ptr<store::Database> db_;
  core::ManualClock clock_;
  audit::Service audit_;
  Service auth_;
  User root_;
  core::RequestContext admin_ctx_;
};

TEST_P(AuthTest, BootstrapOnlyOnce) {
  auto again = auth_.Bootstrap("other", std::nullopt);
  ASSERT_FALSE(again);
  EXPECT_EQ(core::Code::kFailedPrecondition, again.error().code);
  EXPECT_EQ(1, auth_.CountUsers().value());
}

TEST_P(AuthTest, CreateUserIsAuditedAndValidated) {
  auto u = auth_.CreateUser(admin_ctx_, {"bob", "Bob", std::nullopt, {core::Role::kViewer}});
  ASSERT_TRUE(u);
  ASSERT_TRUE(u->generated_password);
  EXPECT_EQ(2, Audits("user.create"));  // root's and bob's
  auto dup = auth_.CreateUser(admin_ctx_, {"bob", "", std::string("another-password"), {}});
  ASSERT_FALSE(dup);
  EXPECT_EQ(core::Code::kConflict, dup.error().code);
  auto bad = auth_.CreateUser(admin_ctx_, {"Bob Smith", "", std::nullopt, {}});
  ASSERT_FALSE(bad);
  EXPECT_EQ("username", bad.error().field);
  auto weak = auth_.CreateUser(admin_ctx_, {"carol", "", std::string("short"), {}});
  ASSERT_FALSE(weak);
  EXPECT_EQ("password", weak.error().field);
  EXPECT_EQ(2, Audits("user.create"));  // failures changed nothing
  EXPECT_EQ(2, auth_.CountUsers().value());
}

TEST_P(AuthTest, PasswordsAreStoredAsArgon2idOnly) {
  auto rs = db_->Query("SELECT password_hash FROM users WHERE username = 'root'").value();
  EXPECT_EQ(0u, rs.rows[0].Str(0).rfind("$argon2id$", 0));
  auto all = db_->Query("SELECT details FROM audit_events").value();
  for (const auto& r : all.rows) EXPECT_EQ(std::string::npos, r.Str(0).find("root-password-123"));
}

TEST_P(AuthTest, LoginCreatesASessionAndIsAudited) {
  auto r = auth_.Login(From("203.0.113.5"), "root", "root-password-123", false, "");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_FALSE(r->session_cookie.empty());
  EXPECT_FALSE(r->csrf_token.empty());
  auto p = auth_.AuthenticateSession(r->session_cookie).value();
  EXPECT_EQ("root", p.username);
  EXPECT_EQ("session", p.auth_method);
  EXPECT_EQ(r->csrf_token, p.csrf_token);
  auto events = audit_.Search({.action = "auth.login"}).value();
  ASSERT_EQ(1u, events.size());
  EXPECT_EQ("203.0.113.5", events[0].source_ip);
  // The cookie value itself is not stored.
  auto rs = db_->Query("SELECT COUNT(*) FROM sessions WHERE session_hash = ?", {r->session_cookie});
  EXPECT_EQ(0, rs->rows[0].Int(0));
  core::RequestContext rc = From("203.0.113.5");
  rc.principal = p;
  ASSERT_TRUE(auth_.Logout(rc));
  EXPECT_FALSE(auth_.AuthenticateSession(r->session_cookie));
}

TEST_P(AuthTest, SessionsExpire) {
  auto r = auth_.Login(From("203.0.113.5"), "root", "root-password-123", false, "").value();
  clock_.Advance(kSessionLifetime + 1);
  auto p = auth_.AuthenticateSession(r.session_cookie);
  ASSERT_FALSE(p);
  EXPECT_NE(std::string::npos, p.error().message.find("expired"));
}

TEST_P(AuthTest, WrongPasswordIsRefusedAuditedAndThrottled) {
  for (int i = 0; i < 5; ++i) {
    auto r = auth_.Login(From("203.0.113.9"), "root", "wrong-password-x", false, "");
    ASSERT_FALSE(r);
    EXPECT_EQ(core::Code::kUnauthenticated, r.error().code);
  }
  auto locked = auth_.Login(From("203.0.113.9"), "root", "root-password-123", false, "");
  ASSERT_FALSE(locked);
  EXPECT_EQ(core::Code::kResourceExhausted, locked.error().code);
  EXPECT_EQ(6, Audits("auth.login", "failure"));
  // Unknown users get the same answer as wrong passwords.
  auto unknown = auth_.Login(From("203.0.113.10"), "nobody", "whatever-password", false, "");
  EXPECT_EQ("wrong username or password", unknown.error().message);
  clock_.Advance(16LL * 60 * core::kNanosPerSecond);
  EXPECT_TRUE(auth_.Login(From("203.0.113.9"), "root", "root-password-123", false, ""));
}

TEST_P(AuthTest, TokensAreHashedExpireAndCanBeRevoked) {
  auto t = auth_.CreateToken(admin_ctx_, "ci", 1).value();
  EXPECT_EQ(0u, t.secret.rfind("gty_", 0));
  auto rs = db_->Query("SELECT token_hash FROM api_tokens WHERE id = ?", {t.token.id}).value();
  EXPECT_NE(t.secret, rs.rows[0].Str(0));
  EXPECT_EQ(64u, rs.rows[0].Str(0).size());
  auto p = auth_.AuthenticateToken(t.secret).value();
  EXPECT_EQ("root", p.username);
  EXPECT_EQ(t.token.id, p.token_id);
  auto listed = auth_.ListTokens(admin_ctx_, std::nullopt, false).value();
  ASSERT_EQ(1u, listed.size());
  EXPECT_TRUE(listed[0].last_used_at.has_value());

  EXPECT_FALSE(auth_.AuthenticateToken("gty_not-a-real-token"));
  EXPECT_FALSE(auth_.AuthenticateToken("Basic abc"));

  clock_.Advance(2 * 86400 * core::kNanosPerSecond);
  auto expired = auth_.AuthenticateToken(t.secret);
  ASSERT_FALSE(expired);
  EXPECT_NE(std::string::npos, expired.error().message.find("expired"));

  auto t2 = auth_.CreateToken(admin_ctx_, "ci2", std::nullopt).value();
  ASSERT_TRUE(auth_.RevokeToken(admin_ctx_, t2.token.id));
  EXPECT_FALSE(auth_.AuthenticateToken(t2.secret));
  EXPECT_EQ(1, Audits("token.revoke"));
  EXPECT_EQ(core::Code::kFailedPrecondition, auth_.RevokeToken(admin_ctx_, t2.token.id).error().code);
}

TEST_P(AuthTest, UsersCannotTouchOthersTokens) {
  auto bob = auth_.CreateUser(admin_ctx_, {"bob", "", std::nullopt, {core::Role::kViewer}}).value();
  core::RequestContext bob_ctx = From("10.0.0.2");
  bob_ctx.principal.user_id = bob.user.id;
  bob_ctx.principal.username = "bob";
  bob_ctx.principal.roles = {core::Role::kViewer};
  auto roots = auth_.CreateToken(admin_ctx_, "root-token", std::nullopt).value();
  auto st = auth_.RevokeToken(bob_ctx, roots.token.id);
  ASSERT_FALSE(st);
  EXPECT_EQ(core::Code::kNotFound, st.error().code);  // looks missing, not forbidden
  EXPECT_EQ(core::Code::kPermissionDenied, auth_.ListTokens(bob_ctx, std::nullopt, true).error().code);
  EXPECT_EQ(core::Code::kPermissionDenied,
            auth_.CreateToken(bob_ctx, "x", std::nullopt, std::string("root")).error().code);
  EXPECT_TRUE(auth_.AuthenticateToken(roots.secret));
}

TEST_P(AuthTest, DisablingAUserRevokesEverything) {
  auto bob = auth_.CreateUser(admin_ctx_, {"bob", "", std::string("bob-password-123"), {core::Role::kOperator}}).value();
  auto tok = auth_.CreateToken(admin_ctx_, "bobs", std::nullopt, std::string("bob")).value();
  auto login = auth_.Login(From("10.0.0.3"), "bob", "bob-password-123", false, "").value();
  ASSERT_TRUE(auth_.SetDisabled(admin_ctx_, "bob", true));
  EXPECT_FALSE(auth_.AuthenticateToken(tok.secret));
  EXPECT_FALSE(auth_.AuthenticateSession(login.session_cookie));
  EXPECT_FALSE(auth_.Login(From("10.0.0.3"), "bob", "bob-password-123", false, ""));
  ASSERT_TRUE(auth_.SetDisabled(admin_ctx_, std::to_string(bob.user.id), false));
  EXPECT_TRUE(auth_.Login(From("10.0.0.4"), "bob", "bob-password-123", false, ""));
  EXPECT_FALSE(auth_.AuthenticateToken(tok.secret));  // revoked tokens stay revoked
  EXPECT_EQ(core::Code::kFailedPrecondition, auth_.SetDisabled(admin_ctx_, "root", true).error().code);
  EXPECT_EQ(core::Code::kNotFound, auth_.SetDisabled(admin_ctx_, "nobody", true).error().code);
}

TEST_P(AuthTest, LoginCanIssueATokenForTheCli) {
  auto r = auth_.Login(From("10.0.0.5"), "root", "root-password-123", true, "cli@laptop").value();
  ASSERT_TRUE(r.token);
  EXPECT_TRUE(r.session_cookie.empty());
  EXPECT_EQ("cli@laptop", r.token->token.name);
  EXPECT_TRUE(r.token->token.expires_at.has_value());
  EXPECT_EQ("root", auth_.AuthenticateToken(r.token->secret)->username);
}

GANTRY_INSTANTIATE_BACKENDS(AuthTest);

}  // namespace
}  // namespace gantry::auth
