// Tenants, projects and members; the scope lock and the visibility rules.
// Quotas and admission are in service_quota.cc.
#include "tenancy/service.h"

#include <algorithm>
#include <set>

#include "auth/policy.h"
#include "auth/store.h"
#include "tenancy/ledger.h"

namespace gantry::tenancy {

bool SeesAllTenants(const core::Principal& p) {
  return auth::SeesAllTenants(p) || p.auth_method == "system";
}

std::optional<core::Role> MemberRole(const core::Principal& p, int64_t tenant_id) {
  for (const auto& m : p.tenants) {
    if (m.tenant_id == tenant_id) return m.role;
  }
  return std::nullopt;
}

namespace {

core::Status Require(const core::RequestContext& rc, std::string_view action) {
  if (rc.principal.auth_method == "system" || auth::Allowed(rc.principal, action)) return {};
  return core::PermissionDenied("not allowed: " + std::string(action));
}

core::Status CheckName(const std::string& name) {
  if (name.size() > 200) return core::InvalidArgument("name must be at most 200 characters", "name");
  for (unsigned char c : name) {
    if (c < 0x20 || c == 0x7f) return core::InvalidArgument("name must not hold control characters", "name");
  }
  return {};
}

std::string TenantLabel(const Tenant& t) { return "'" + t.slug + "'"; }

}  // namespace

// ---- helpers ------------------------------------------------------------------------------

core::Status Service::Audit(store::Tx& tx, const core::RequestContext& rc, const std::string& action,
                            const std::string& target_type, const std::string& target,
                            const std::string& tenant, const core::json::object& details) {
  auto e = audit::Service::MakeEvent(rc, action, target_type, target, details);
  e.tenant = tenant;
  return audit_.Append(tx, std::move(e));
}

core::Result<Tenant> Service::VisibleTenant(store::Tx& tx, const core::RequestContext& rc,
                                            std::string_view ref) const {
  if (ref.empty()) return core::InvalidArgument("empty tenant reference", "tenant");
  GANTRY_TRY(auto t, Store::FindTenant(tx, ref));
  if (!t || (!SeesAllTenants(rc.principal) && !MemberRole(rc.principal, t->id))) {
    return core::NotFound("no tenant '" + std::string(ref.substr(0, 64)) + "'");
  }
  return *t;
}

core::Result<Project> Service::ResolveProject(store::Tx& tx, const Tenant& t,
                                              std::string_view ref) const {
  if (ref.empty()) return core::InvalidArgument("empty project reference", "project");
  GANTRY_TRY(auto p, Store::FindProject(tx, t.id, ref));
  if (!p) {
    return core::NotFound("no project '" + std::string(ref.substr(0, 64)) + "' in tenant " +
                          TenantLabel(t));
  }
  return *p;
}

core::Result<Service::Scope> Service::LockScope(store::Tx& tx, int64_t tenant_id) {
  // The cohort is read without a lock first, so the cohort row is locked before the tenant row
  // (the order every writer uses); a cohort that changed in between is detected and retried.
  for (int attempt = 0; attempt < 5; ++attempt) {
    GANTRY_TRY(auto t, Store::GetTenant(tx, tenant_id, false, db_.backend()));
    if (!t) return core::NotFound("no tenant " + std::to_string(tenant_id));
    if (!t->cohort) {
      GANTRY_TRY(auto locked, Store::GetTenant(tx, tenant_id, true, db_.backend()));
      if (!locked) return core::NotFound("no tenant " + std::to_string(tenant_id));
      if (!locked->cohort) return Scope{*locked, {*locked}};
      continue;
    }
    GANTRY_TRY_STATUS(Store::LockCohort(tx, *t->cohort, db_.backend()));
    GANTRY_TRY(auto members, Store::CohortMembers(tx, *t->cohort));
    for (const auto& m : members) {
      if (m.id == tenant_id) return Scope{m, members};
    }
  }
  return core::Unavailable("the cohort of tenant " + std::to_string(tenant_id) +
                           " keeps changing; try again");
}

core::Status Service::CheckCanLeaveCohort(store::Tx& tx, const Tenant& t,
                                          const std::vector<Tenant>& members) {
  std::vector<int64_t> ids, others;
  for (const auto& m : members) {
    ids.push_back(m.id);
    if (m.id != t.id) others.push_back(m.id);
  }
  Ledger ledger(tx, db_.backend());
  GANTRY_TRY_STATUS(ledger.Load(ids, 0, {}));
  std::string detail;
  if (auto r = ledger.Overcommitted({t.id}, &detail)) {
    return core::FailedPrecondition("tenant " + TenantLabel(t) + " borrows " + *r +
                                    " from its cohort (" + detail +
                                    "); release reservations first");
  }
  if (auto r = ledger.Overcommitted(others, &detail)) {
    return core::FailedPrecondition("members of cohort '" + t.cohort.value_or("") +
                                    "' hold capacity of " + *r + " that tenant " + TenantLabel(t) +
                                    " lends (without it: " + detail + ")");
  }
  return {};
}

// ---- tenants ------------------------------------------------------------------------------

core::Result<Tenant> Service::CreateTenant(const core::RequestContext& rc, NewTenant t) {
  GANTRY_TRY_STATUS(Require(rc, "tenants.write"));
  GANTRY_TRY_STATUS(ValidateSlug(t.slug, "slug"));
  GANTRY_TRY_STATUS(CheckName(t.name));
  if (t.cohort) GANTRY_TRY_STATUS(ValidateSlug(*t.cohort, "cohort"));
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  if (t.cohort) {
    GANTRY_TRY_STATUS(Store::EnsureCohort(*tx, *t.cohort, now));
    GANTRY_TRY_STATUS(Store::LockCohort(*tx, *t.cohort, db_.backend()));
  }
  GANTRY_TRY(auto existing, Store::FindTenant(*tx, t.slug));
  if (existing) return core::Conflict("tenant '" + t.slug + "' already exists");
  GANTRY_TRY(auto id, Store::InsertTenant(*tx, t, now));
  GANTRY_TRY(auto created, Store::GetTenant(*tx, id, false, db_.backend()));
  GANTRY_TRY_STATUS(Audit(*tx, rc, "tenant.create", "tenant", t.slug, t.slug, ToJson(*created)));
  GANTRY_TRY_STATUS(EnginesChanged(*tx));
  GANTRY_TRY_STATUS(tx->Commit());
  return *created;
}

core::Result<Tenant> Service::GetTenant(const core::RequestContext& rc, std::string_view tenant) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  return VisibleTenant(*tx, rc, tenant);
}

core::Result<std::vector<Tenant>> Service::ListTenants(const core::RequestContext& rc,
                                                       ListOptions o) {
  std::optional<std::vector<int64_t>> only;
  if (!SeesAllTenants(rc.principal)) {
    only.emplace();
    for (const auto& m : rc.principal.tenants) only->push_back(m.tenant_id);
  }
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  return Store::ListTenants(*tx, only, o.cursor, o.limit);
}

core::Result<Tenant> Service::UpdateTenant(const core::RequestContext& rc, std::string_view tenant,
                                           const TenantPatch& patch) {
  GANTRY_TRY_STATUS(Require(rc, "tenants.write"));
  if (patch.name) GANTRY_TRY_STATUS(CheckName(*patch.name));
  if (patch.cohort && *patch.cohort) GANTRY_TRY_STATUS(ValidateSlug(**patch.cohort, "cohort"));
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  bool cohort_change = patch.cohort && *patch.cohort != t.cohort;
  Scope scope;
  if (cohort_change) {
    // Lock the old and the new cohort rows in name order, then the tenant row.
    std::set<std::string> names;
    if (t.cohort) names.insert(*t.cohort);
    if (*patch.cohort) names.insert(**patch.cohort);
    for (const auto& n : names) {
      GANTRY_TRY_STATUS(Store::EnsureCohort(*tx, n, now));
      GANTRY_TRY_STATUS(Store::LockCohort(*tx, n, db_.backend()));
    }
    GANTRY_TRY(auto locked, Store::GetTenant(*tx, t.id, true, db_.backend()));
    if (!locked) return core::NotFound("no tenant '" + std::string(tenant) + "'");
    if (locked->cohort != t.cohort) {
      return core::Conflict("the cohort of tenant " + TenantLabel(t) + " changed meanwhile; try again");
    }
    if (t.cohort) {
      GANTRY_TRY(auto old_members, Store::CohortMembers(*tx, *t.cohort));
      GANTRY_TRY_STATUS(CheckCanLeaveCohort(*tx, t, old_members));
    }
    if (*patch.cohort) {
      // Joining: the new cohort, with this tenant, must not be over-committed.
      GANTRY_TRY(auto new_members, Store::CohortMembers(*tx, **patch.cohort));
      std::vector<int64_t> ids{t.id};
      for (const auto& m : new_members) ids.push_back(m.id);
      Ledger ledger(*tx, db_.backend());
      GANTRY_TRY_STATUS(ledger.Load(ids, 0, {}));
      std::string detail;
      if (auto r = ledger.Overcommitted(ids, &detail)) {
        return core::FailedPrecondition("cohort '" + **patch.cohort + "' with tenant " +
                                        TenantLabel(t) + " would be over-committed on " + *r +
                                        " (" + detail + ")");
      }
    }
    t = *locked;
  } else {
    GANTRY_TRY(scope, LockScope(*tx, t.id));
    t = scope.tenant;
  }
  Tenant before = t;
  if (patch.name) t.name = *patch.name;
  if (patch.cohort) t.cohort = *patch.cohort;
  if (patch.disabled) t.disabled = *patch.disabled;
  GANTRY_TRY_STATUS(Store::UpdateTenant(*tx, t, now));
  GANTRY_TRY(auto after, Store::GetTenant(*tx, t.id, false, db_.backend()));
  core::json::object details{{"before", ToJson(before)}, {"after", ToJson(*after)}};
  GANTRY_TRY_STATUS(Audit(*tx, rc, "tenant.update", "tenant", t.slug, t.slug, details));
  GANTRY_TRY_STATUS(EnginesChanged(*tx));
  GANTRY_TRY_STATUS(tx->Commit());
  return *after;
}

core::Status Service::DeleteTenant(const core::RequestContext& rc, std::string_view tenant) {
  GANTRY_TRY_STATUS(Require(rc, "tenants.write"));
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  GANTRY_TRY(auto scope, LockScope(*tx, t.id));
  GANTRY_TRY(auto active, Store::CountActive(*tx, t.id, std::nullopt));
  if (active > 0) {
    return core::Conflict("tenant " + TenantLabel(t) + " has " + std::to_string(active) +
                          " active reservation(s); release them first");
  }
  if (scope.tenant.cohort) GANTRY_TRY_STATUS(CheckCanLeaveCohort(*tx, scope.tenant, scope.members));
  GANTRY_TRY_STATUS(Store::DeleteTenant(*tx, t.id));
  GANTRY_TRY_STATUS(Audit(*tx, rc, "tenant.delete", "tenant", t.slug, t.slug, ToJson(t)));
  GANTRY_TRY_STATUS(EnginesChanged(*tx));
  return tx->Commit();
}

// ---- projects -----------------------------------------------------------------------------

core::Result<Project> Service::CreateProject(const core::RequestContext& rc, std::string_view tenant,
                                             const std::string& slug, const std::string& name) {
  GANTRY_TRY_STATUS(Require(rc, "tenants.write"));
  GANTRY_TRY_STATUS(ValidateSlug(slug, "slug"));
  GANTRY_TRY_STATUS(CheckName(name));
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  GANTRY_TRY(auto existing, Store::FindProject(*tx, t.id, slug));
  if (existing) {
    return core::Conflict("project '" + slug + "' already exists in tenant " + TenantLabel(t));
  }
  GANTRY_TRY(auto id, Store::InsertProject(*tx, t.id, slug, name, clock_.Now()));
  GANTRY_TRY(auto p, Store::FindProject(*tx, t.id, std::to_string(id)));
  GANTRY_TRY_STATUS(Audit(*tx, rc, "project.create", "project", t.slug + "/" + slug, t.slug,
                          ToJson(*p)));
  GANTRY_TRY_STATUS(EnginesChanged(*tx));
  GANTRY_TRY_STATUS(tx->Commit());
  return *p;
}

core::Result<Project> Service::GetProject(const core::RequestContext& rc, std::string_view tenant,
                                          std::string_view project) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  return ResolveProject(*tx, t, project);
}

core::Result<std::vector<Project>> Service::ListProjects(const core::RequestContext& rc,
                                                         std::string_view tenant) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  return Store::ListProjects(*tx, t.id);
}

core::Status Service::DeleteProject(const core::RequestContext& rc, std::string_view tenant,
                                    std::string_view project) {
  GANTRY_TRY_STATUS(Require(rc, "tenants.write"));
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  GANTRY_TRY(auto scope, LockScope(*tx, t.id));
  GANTRY_TRY(auto p, ResolveProject(*tx, t, project));
  GANTRY_TRY(auto active, Store::CountActive(*tx, t.id, p.id));
  if (active > 0) {
    return core::Conflict("project '" + p.slug + "' has " + std::to_string(active) +
                          " active reservation(s); release them first");
  }
  GANTRY_TRY_STATUS(Store::DeleteProject(*tx, t.id, p.id));
  GANTRY_TRY_STATUS(Audit(*tx, rc, "project.delete", "project", t.slug + "/" + p.slug, t.slug,
                          ToJson(p)));
  GANTRY_TRY_STATUS(EnginesChanged(*tx));
  return tx->Commit();
}

// ---- members ------------------------------------------------------------------------------

namespace {

// Admins manage every tenant's members; tenant-admins those of their own tenant.
core::Status CheckManagesMembers(const core::RequestContext& rc, const Tenant& t) {
  const auto& p = rc.principal;
  if (p.auth_method == "system" || p.HasRole(core::Role::kAdmin)) return {};
  if (MemberRole(p, t.id) == core::Role::kTenantAdmin) return {};
  return core::PermissionDenied("only admins and tenant-admins of tenant '" + t.slug +
                                "' manage its members");
}

}  // namespace

core::Result<Member> Service::AddMember(const core::RequestContext& rc, std::string_view tenant,
                                        std::string_view user, core::Role role) {
  GANTRY_TRY_STATUS(Require(rc, "tenants.members"));
  if (!IsMemberRole(role)) {
    return core::InvalidArgument(
        "role must be one of tenant-admin, tenant-member, viewer", "role");
  }
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  GANTRY_TRY_STATUS(CheckManagesMembers(rc, t));
  GANTRY_TRY(auto u, auth::Store::FindUser(*tx, user));
  if (!u) return core::NotFound("no user '" + std::string(user.substr(0, 64)) + "'");
  GANTRY_TRY(auto before, Store::GetMember(*tx, t.id, u->id));
  GANTRY_TRY_STATUS(Store::UpsertMember(*tx, t.id, u->id, role, clock_.Now()));
  GANTRY_TRY(auto m, Store::GetMember(*tx, t.id, u->id));
  core::json::object details{{"user", u->username}, {"role", core::RoleName(role)}};
  if (before) details["previous_role"] = core::RoleName(before->role);
  GANTRY_TRY_STATUS(Audit(*tx, rc, before ? "tenant.member.update" : "tenant.member.add",
                          "tenant", t.slug, t.slug, details));
  GANTRY_TRY_STATUS(EnginesChanged(*tx));
  GANTRY_TRY_STATUS(tx->Commit());
  return *m;
}

core::Status Service::RemoveMember(const core::RequestContext& rc, std::string_view tenant,
                                   std::string_view user) {
  GANTRY_TRY_STATUS(Require(rc, "tenants.members"));
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  GANTRY_TRY_STATUS(CheckManagesMembers(rc, t));
  GANTRY_TRY(auto u, auth::Store::FindUser(*tx, user));
  std::optional<Member> m;
  if (u) {
    GANTRY_TRY(m, Store::GetMember(*tx, t.id, u->id));
  }
  if (!m) {
    return core::NotFound("user '" + std::string(user.substr(0, 64)) + "' is not a member of tenant " +
                          TenantLabel(t));
  }
  GANTRY_TRY_STATUS(Store::DeleteMember(*tx, t.id, u->id));
  GANTRY_TRY_STATUS(Audit(*tx, rc, "tenant.member.remove", "tenant", t.slug, t.slug,
                          {{"user", u->username}, {"role", core::RoleName(m->role)}}));
  GANTRY_TRY_STATUS(EnginesChanged(*tx));
  return tx->Commit();
}

core::Result<std::vector<Member>> Service::ListMembers(const core::RequestContext& rc,
                                                       std::string_view tenant) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  return Store::ListMembers(*tx, t.id);
}

core::Result<std::vector<core::TenantMembership>> Service::Memberships(int64_t user_id) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  return Store::MembershipsOf(*tx, user_id);
}

}  // namespace gantry::tenancy
