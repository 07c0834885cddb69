// Tenants, projects, members and visibility, on SQLite and PostgreSQL.
#include "tenancy/tests/test_util.h"

namespace gantry::tenancy {
namespace {

using TenantsTest = TenancyTest;

TEST_P(TenantsTest, CreateGetListUpdateDelete) {
  Tenant acme = MakeTenant("acme");
  EXPECT_EQ("acme", acme.slug);
  EXPECT_EQ("Tenant acme", acme.name);
  EXPECT_FALSE(acme.cohort);
  EXPECT_EQ(acme.id, service_.GetTenant(admin_, "acme")->id);
  EXPECT_EQ("acme", service_.GetTenant(admin_, std::to_string(acme.id))->slug);
  MakeTenant("globex", "research");
  EXPECT_EQ(2u, service_.ListTenants(admin_, {})->size());

  TenantPatch p;
  p.name = "ACME Corp";
  p.cohort = std::optional<std::string>("research");
  auto updated = service_.UpdateTenant(admin_, "acme", p);
  ASSERT_OK(updated);
  EXPECT_EQ("ACME Corp", updated->name);
  EXPECT_EQ("research", updated->cohort.value_or(""));

  ASSERT_OK(service_.DeleteTenant(admin_, "acme"));
  EXPECT_EQ(core::Code::kNotFound, service_.GetTenant(admin_, "acme").error().code);
  EXPECT_EQ(2, AuditCount("tenant.create"));
  EXPECT_EQ(1, AuditCount("tenant.update"));
  EXPECT_EQ(1, AuditCount("tenant.delete"));
}

TEST_P(TenantsTest, SlugRulesAndDuplicates) {
  MakeTenant("acme");
  auto dup = service_.CreateTenant(admin_, {"acme", "", {}});
  EXPECT_EQ(core::Code::kConflict, dup.error().code);
  for (const std::string& bad : std::vector<std::string>{"", "Acme", "1acme", "acme-", "a_b", "a b", std::string(64, 'a')}) {
    auto r = service_.CreateTenant(admin_, {bad, "", {}});
    ASSERT_FALSE(r) << bad;
    EXPECT_EQ(core::Code::kInvalidArgument, r.error().code) << bad;
    EXPECT_EQ("slug", r.error().field);
  }
  auto bad_cohort = service_.CreateTenant(admin_, {"other", "", "No Cohort"});
  EXPECT_EQ("cohort", bad_cohort.error().field);
}

TEST_P(TenantsTest, ProjectsLiveInTheirTenant) {
  MakeTenant("acme");
  MakeTenant("globex");
  auto p = service_.CreateProject(admin_, "acme", "training", "Training runs");
  ASSERT_OK(p);
  EXPECT_EQ("acme", p->tenant);
  // The same slug in another tenant is another project.
  ASSERT_OK(service_.CreateProject(admin_, "globex", "training", ""));
  EXPECT_EQ(core::Code::kConflict, service_.CreateProject(admin_, "acme", "training", "").error().code);
  EXPECT_EQ(core::Code::kInvalidArgument, service_.CreateProject(admin_, "acme", "Bad!", "").error().code);
  ASSERT_OK(service_.CreateProject(admin_, "acme", "inference", ""));
  auto list = service_.ListProjects(admin_, "acme");
  ASSERT_EQ(2u, list->size());
  EXPECT_EQ("inference", (*list)[0].slug);
  EXPECT_EQ(p->id, service_.GetProject(admin_, "acme", "training")->id);
  EXPECT_EQ(core::Code::kNotFound, service_.GetProject(admin_, "acme", "nope").error().code);
  ASSERT_OK(service_.DeleteProject(admin_, "acme", "training"));
  EXPECT_EQ(1u, service_.ListProjects(admin_, "acme")->size());
}

TEST_P(TenantsTest, NonMembersSeeOnlyTheirTenants) {
  MakeTenant("acme");
  MakeTenant("globex");
  auto alice = MemberOf("acme");
  ASSERT_EQ(1u, alice.principal.tenants.size());
  EXPECT_EQ("acme", alice.principal.tenants[0].tenant);
  EXPECT_EQ(core::Role::kTenantMember, alice.principal.tenants[0].role);

  auto tenants = service_.ListTenants(alice, {});
  ASSERT_EQ(1u, tenants->size());
  EXPECT_EQ("acme", (*tenants)[0].slug);
  ASSERT_OK(service_.GetTenant(alice, "acme"));
  // A tenant one is not in looks missing, for every read.
  EXPECT_EQ(core::Code::kNotFound, service_.GetTenant(alice, "globex").error().code);
  EXPECT_EQ(core::Code::kNotFound, service_.ListProjects(alice, "globex").error().code);
  EXPECT_EQ(core::Code::kNotFound, service_.ListMembers(alice, "globex").error().code);
  EXPECT_EQ(core::Code::kNotFound, service_.Quotas(alice, "globex").error().code);
  // Operator-level roles see everything.
  auto op = As(MakeUser("op", {core::Role::kOperator}), "op", {core::Role::kOperator});
  EXPECT_EQ(2u, service_.ListTenants(op, {})->size());
}

TEST_P(TenantsTest, TenantAdminsManageTheirOwnMembers) {
  MakeTenant("acme");
  MakeTenant("globex");
  auto boss = MemberOf("acme", core::Role::kTenantAdmin);
  auto worker = MemberOf("acme");
  MakeUser("carol", {core::Role::kTenantMember});

  auto added = service_.AddMember(boss, "acme", "carol", core::Role::kViewer);
  ASSERT_OK(added);
  EXPECT_EQ("carol", added->username);
  EXPECT_EQ(core::Role::kViewer, added->role);
  // Changing the role is an update.
  ASSERT_OK(service_.AddMember(boss, "acme", "carol", core::Role::kTenantMember));
  EXPECT_EQ(1, AuditCount("tenant.member.update"));
  EXPECT_EQ(3u, service_.ListMembers(worker, "acme")->size());

  // A tenant-member may not; a tenant-admin of another tenant does not even see it.
  EXPECT_EQ(core::Code::kPermissionDenied,
            service_.AddMember(worker, "acme", "carol", core::Role::kTenantAdmin).error().code);
  EXPECT_EQ(core::Code::kNotFound,
            service_.AddMember(boss, "globex", "carol", core::Role::kTenantMember).error().code);
  EXPECT_EQ(core::Code::kInvalidArgument,
            service_.AddMember(boss, "acme", "carol", core::Role::kOperator).error().code);
  EXPECT_EQ(core::Code::kNotFound,
            service_.AddMember(boss, "acme", "nobody", core::Role::kViewer).error().code);

  ASSERT_OK(service_.RemoveMember(boss, "acme", "carol"));
  EXPECT_EQ(core::Code::kNotFound, service_.RemoveMember(boss, "acme", "carol").error().code);
  EXPECT_EQ(2u, service_.ListMembers(admin_, "acme")->size());
}

TEST_P(TenantsTest, DisabledTenantsLeaveThePrincipal) {
  MakeTenant("acme");
  auto alice = MemberOf("acme");
  TenantPatch p;
  p.disabled = true;
  ASSERT_OK(service_.UpdateTenant(admin_, "acme", p));
  EXPECT_TRUE(service_.Memberships(alice.principal.user_id)->empty());
}

TEST_P(TenantsTest, UnknownResourcesListTheValidOnes) {
  MakeTenant("acme");
  auto r = service_.SetQuota(admin_, "acme", {"gpu/h1000", 4, {}, {}, false});
  ASSERT_FALSE(r);
  EXPECT_EQ(core::Code::kInvalidArgument, r.error().code);
  EXPECT_EQ("resource", r.error().field);
  for (const char* s : {"gpu/h100", "gpu/a100", "mig/1g.10gb", "mig/7g.80gb", "cpu", "memory",
                        "storage", "nodes", "instances"}) {
    EXPECT_NE(std::string::npos, r.error().message.find(s)) << s << " in " << r.error().message;
  }
  for (const char* bad : {"gpus", "gpu/", "mig/8g.100gb", "GPU/h100", "ram"}) {
    EXPECT_FALSE(ValidateResource(bad)) << bad;
  }
  for (const char* good : {"gpu/l40s", "mig/3g.40gb", "nodes"}) {
    EXPECT_TRUE(ValidateResource(good)) << good;
  }
  auto res = Reserve("acme", {{"tpu/v5", 1}}, "job-1");
  EXPECT_EQ(core::Code::kInvalidArgument, res.error().code);
}

GANTRY_INSTANTIATE_BACKENDS(TenantsTest);

}  // namespace
}  // namespace gantry::tenancy
