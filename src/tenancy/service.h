// The tenancy service: tenants, projects, members, quotas and admission (reservations).
//
// Visibility: callers with an operator-level global role (admin, operator, auditor, viewer — see
// auth::SeesAllTenants) see every tenant; everybody else sees only the tenants in their
// principal's memberships, and a tenant they are not in looks missing (kNotFound).
//
// Admission: Reserve() runs in one write transaction that first takes the scope lock — the
// tenant's cohort row, or the tenant row when it has no cohort (`FOR UPDATE` on PostgreSQL; the
// SQLite write transaction is exclusive) — then reads and writes the usage counters. Every
// writer of usage (Reserve, Release, SetQuota, cohort changes, deletes) takes the same lock, in
// the order cohort rows (by name) → tenant row → usage rows → audit head, so decisions in one
// cohort are serialised and never over-commit. See README.md for the rules.
//
// Every change appends its audit event in the same transaction. Thread-safe.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "audit/service.h"
#include "core/clock.h"
#include "core/principal.h"
#include "store/database.h"
#include "tenancy/admission.h"
#include "tenancy/store.h"
#include "tenancy/types.h"

namespace gantry::tenancy {

struct ListOptions {
  std::optional<int64_t> cursor;  // tenants: after this id; reservations: before this id
  int limit = 100;
};

// Runs inside the transaction of every change to what the engines enforce (tenants, projects,
// members, quotas; not reservations): sync.h's MakeSyncTrigger enqueues the Slurm and Kubernetes
// sync jobs. An error aborts the change.
using EngineSyncHook = std::function<core::Status(store::Tx&)>;
// Runs inside the transaction of an admission that reclaimed borrowed capacity, with the
// reclaimed reservations: reclaim.h's MakeReclaimTrigger tells the engines.
using ReclaimHook = std::function<core::Status(store::Tx&, const std::vector<Reservation>&)>;

class Service {
 public:
  Service(store::Database& db, const audit::Service& audit, const core::Clock& clock)
      : db_(db), audit_(audit), clock_(clock) {}

  store::Database& db() const { return db_; }

  // Set once at start-up, before the first request (not synchronised).
  void SetEngineSyncHook(EngineSyncHook hook) { sync_hook_ = std::move(hook); }
  void SetReclaimHook(ReclaimHook hook) { reclaim_hook_ = std::move(hook); }
  // From now on Reserve decides concurrent calls in batches, one transaction each (group
  // commit, admission.h). Set once at start-up, before the first request.
  void EnableAdmissionBatching(AdmissionBatching options);
  // Batches and calls decided so far (zero without batching).
  AdmissionCombiner::Stats AdmissionStats() const;
  // Decides already validated Reserve calls in one transaction, in the lock order (see
  // admission.h), setting each call's result; on a failure of the transaction itself each call
  // is decided alone. Used by the combiner; public for tests.
  void DecideBatch(std::vector<PendingReserve*>& batch);

  // ---- tenants (tenants.write to change) ----
  core::Result<Tenant> CreateTenant(const core::RequestContext& rc, NewTenant t);
  core::Result<Tenant> GetTenant(const core::RequestContext& rc, std::string_view tenant);
  core::Result<std::vector<Tenant>> ListTenants(const core::RequestContext& rc, ListOptions o);
  // Changing the cohort is refused while the tenant borrows, or lends capacity that members
  // of its old cohort hold.
  core::Result<Tenant> UpdateTenant(const core::RequestContext& rc, std::string_view tenant,
                                    const TenantPatch& patch);
  // Refused while the tenant has active reservations or lends capacity to its cohort.
  core::Status DeleteTenant(const core::RequestContext& rc, std::string_view tenant);

  // ---- projects ----
  core::Result<Project> CreateProject(const core::RequestContext& rc, std::string_view tenant,
                                      const std::string& slug, const std::string& name);
  core::Result<Project> GetProject(const core::RequestContext& rc, std::string_view tenant,
                                   std::string_view project);
  core::Result<std::vector<Project>> ListProjects(const core::RequestContext& rc,
                                                  std::string_view tenant);
  // Refused while the project has active reservations.
  core::Status DeleteProject(const core::RequestContext& rc, std::string_view tenant,
                             std::string_view project);

  // ---- members (admins, and tenant-admins of that tenant, change them) ----
  // Adds `user` (id or username) with `role`, or changes the role of a member.
  core::Result<Member> AddMember(const core::RequestContext& rc, std::string_view tenant,
                                 std::string_view user, core::Role role);
  core::Status RemoveMember(const core::RequestContext& rc, std::string_view tenant,
                            std::string_view user);
  core::Result<std::vector<Member>> ListMembers(const core::RequestContext& rc,
                                                std::string_view tenant);
  // The memberships that go into a user's Principal (tenants that are not disabled).
  core::Result<std::vector<core::TenantMembership>> Memberships(int64_t user_id);

  // ---- quotas (quotas.write to set) ----
  // Sets one quota of the tenant or of one of its projects. A project's guaranteed and burst
  // must fit inside the tenant's (and the projects' guarantees must add up to at most the
  // tenant's); kInvalidArgument naming both numbers otherwise. A quota below current usage is
  // kFailedPrecondition unless `force`, and then only blocks new admissions.
  core::Result<QuotaView> SetQuota(const core::RequestContext& rc, std::string_view tenant,
                                   const SetQuotaRequest& req);
  // Quota, reserved, borrowed and lent per resource: the tenant level first, then each project
  // (`project` given: that project's rows only).
  core::Result<std::vector<QuotaView>> Quotas(const core::RequestContext& rc,
                                              std::string_view tenant,
                                              std::optional<std::string> project = {});

  // ---- admission (quotas.reserve; tenant-admins and tenant-members of that tenant) ----
  // Reserves every amount or nothing. kResourceExhausted names the resource, the amount
  // requested, the amount reserved and the limit. When the tenant stays within its own
  // guaranteed amount but cohort members hold its capacity, their newest borrowing reservations
  // are reclaimed first (state `reclaimed`, audited, logged) and the tenant is admitted.
  // An active reservation with the same `ref` in the tenant is kConflict.
  core::Result<Reservation> Reserve(const core::RequestContext& rc, std::string_view tenant,
                                    const ReserveRequest& req);
  // Returns the capacity of an active reservation; kFailedPrecondition when it is no longer
  // active (released, or reclaimed for its cohort).
  core::Result<Reservation> Release(const core::RequestContext& rc, std::string_view tenant,
                                    int64_t id);
  core::Result<Reservation> GetReservation(const core::RequestContext& rc, std::string_view tenant,
                                           int64_t id);
  core::Result<std::vector<Reservation>> ListReservations(const core::RequestContext& rc,
                                                          std::string_view tenant,
                                                          std::optional<std::string> state,
                                                          ListOptions o);
  // An extra admission check (metering's hard budgets) run inside Reserve's transaction after
  // the scope lock, with the resources requested; an error refuses the reservation. Set it once
  // at start-up, before requests arrive.
  using AdmissionGuard = std::function<core::Status(
      store::Tx& tx, int64_t tenant_id, int64_t project_id, const std::vector<std::string>& resources)>;
  void SetAdmissionGuard(AdmissionGuard guard) { admission_guard_ = std::move(guard); }

  // History of quotas and usage counters, oldest first.
  core::Result<std::vector<HistoryPoint>> Usage(const core::RequestContext& rc,
                                                std::string_view tenant, HistoryFilter filter);

 private:
  struct Scope {
    Tenant tenant;                // read under the lock
    std::vector<Tenant> members;  // the cohort's tenants (or just `tenant`), by id
  };
  // One admission decision and its writes inside `tx` on the tenant the caller sees; the audit
  // events are returned, not appended (the caller appends them last), and so are the log lines
  // to write once committed. Every refusal returns before anything is written.
  struct Decided {
    Reservation res;
    std::vector<audit::Event> events;
    std::vector<std::string> logs;
    std::vector<Reservation> reclaimed;  // for the ReclaimHook
  };
  core::Status CheckReserveRequest(const core::RequestContext& rc, const ReserveRequest& req) const;
  core::Result<Reservation> ReserveAlone(const core::RequestContext& rc, std::string_view tenant,
                                         const ReserveRequest& req);
  core::Result<Decided> ReserveInTx(store::Tx& tx, const core::RequestContext& rc,
                                    const Tenant& visible, const ReserveRequest& req,
                                    core::UnixNanos now);
  // Takes the scope lock of a tenant (see the top of this file).
  core::Result<Scope> LockScope(store::Tx& tx, int64_t tenant_id);
  core::Result<Tenant> VisibleTenant(store::Tx& tx, const core::RequestContext& rc,
                                     std::string_view ref) const;
  core::Result<Project> ResolveProject(store::Tx& tx, const Tenant& t, std::string_view ref) const;
  // kFailedPrecondition when removing `t` from `members` would leave the cohort over-committed
  // or `t` above its own guarantee.
  core::Status CheckCanLeaveCohort(store::Tx& tx, const Tenant& t,
                                   const std::vector<Tenant>& members);
  core::Status Audit(store::Tx& tx, const core::RequestContext& rc, const std::string& action,
                     const std::string& target_type, const std::string& target,
                     const std::string& tenant, const core::json::object& details);

  // Calls sync_hook_ when one is set.
  core::Status EnginesChanged(store::Tx& tx) const {
    return sync_hook_ ? sync_hook_(tx) : core::Status{};
  }

  store::Database& db_;
  const audit::Service& audit_;
  const core::Clock& clock_;
  EngineSyncHook sync_hook_;
  ReclaimHook reclaim_hook_;
  std::unique_ptr<AdmissionCombiner> combiner_;
  AdmissionGuard admission_guard_;
};

// True when the caller sees every tenant (operator-level global roles and the system).
bool SeesAllTenants(const core::Principal& p);
// The caller's membership role in a tenant, if any.
std::optional<core::Role> MemberRole(const core::Principal& p, int64_t tenant_id);

}  // namespace gantry::tenancy
