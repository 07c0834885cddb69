// Quotas, admission (Reserve/Release with cohort borrowing and reclaim) and the usage views.
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdio>

#include "auth/policy.h"
#include "tenancy/ledger.h"
#include "tenancy/service.h"

namespace gantry::tenancy {

namespace {

core::Status Require(const core::RequestContext& rc, std::string_view action) {
  if (rc.principal.auth_method == "system" || auth::Allowed(rc.principal, action)) return {};
  return core::PermissionDenied("not allowed: " + std::string(action));
}

// Admins and operators reserve for every tenant; tenant-admins and tenant-members for theirs.
core::Status CheckCanReserve(const core::RequestContext& rc, const Tenant& t) {
  const auto& p = rc.principal;
  if (p.auth_method == "system" || p.HasRole(core::Role::kAdmin) ||
      p.HasRole(core::Role::kOperator)) {
    return {};
  }
  auto role = MemberRole(p, t.id);
  if (role == core::Role::kTenantAdmin || role == core::Role::kTenantMember) return {};
  return core::PermissionDenied("only admins, operators, and tenant-admins or tenant-members of "
                                "tenant '" + t.slug + "' reserve its capacity");
}

core::Error Exhausted(std::string message) {
  return core::Error{core::Code::kResourceExhausted, std::move(message)};
}

std::string N(int64_t v) { return std::to_string(v); }

std::string Actor(const core::RequestContext& rc) {
  return rc.principal.username.empty() ? "system" : rc.principal.username;
}

std::vector<std::string> Keys(const Amounts& a) {
  std::vector<std::string> out;
  for (const auto& [k, v] : a) out.push_back(k);
  return out;
}

core::json::value OptJson(const std::optional<int64_t>& v) {
  return v ? core::json::value(*v) : core::json::value(nullptr);
}

core::json::value QuotaJson(const std::optional<Quota>& q) {
  if (!q) return nullptr;
  return core::json::object{{"guaranteed", q->guaranteed}, {"burst", OptJson(q->burst)}};
}

// Reserved and guaranteed of `ids` together, plus `extra` reserved.
std::pair<Sum, Sum> Totals(const Ledger& l, const std::vector<int64_t>& ids, const std::string& r,
                           int64_t extra) {
  Sum reserved = extra, guaranteed = 0;
  for (auto id : ids) {
    reserved += l.Reserved(id, 0, r);
    guaranteed += l.Guaranteed(id, 0, r);
  }
  return {reserved, guaranteed};
}

}  // namespace

// ---- quotas -------------------------------------------------------------------------------

core::Result<QuotaView> Service::SetQuota(const core::RequestContext& rc, std::string_view tenant,
                                          const SetQuotaRequest& req) {
  GANTRY_TRY_STATUS(Require(rc, "quotas.write"));
  GANTRY_TRY_STATUS(ValidateResource(req.resource));
  if (req.guaranteed < 0 || req.guaranteed > kMaxAmount) {
    return core::InvalidArgument("guaranteed must be between 0 and 2^60", "guaranteed");
  }
  if (req.burst && (*req.burst < req.guaranteed || *req.burst > kMaxAmount)) {
    return core::InvalidArgument("burst (" + N(*req.burst) + ") must be at least guaranteed (" +
                                     N(req.guaranteed) + ") and at most 2^60",
                                 "burst");
  }
  const std::string& r = req.resource;
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto visible, VisibleTenant(*tx, rc, tenant));
  GANTRY_TRY(auto scope, LockScope(*tx, visible.id));
  const Tenant& t = scope.tenant;
  std::optional<Project> project;
  if (req.project) {
    GANTRY_TRY(project, ResolveProject(*tx, t, *req.project));
  }
  std::vector<int64_t> ids;
  for (const auto& m : scope.members) ids.push_back(m.id);

  Ledger ledger(*tx, db_.backend());
  GANTRY_TRY_STATUS(ledger.Load(ids, 0, {r}));
  GANTRY_TRY_STATUS(ledger.Load({t.id}, std::nullopt, {r}));

  Quota q{t.id, project ? project->id : 0, r, req.guaranteed, req.burst};
  std::optional<Quota> before;
  if (const Quota* b = ledger.QuotaOf(t.id, q.project_id, r)) before = *b;
  std::string below;  // non-empty: the new quota is below current usage

  if (project) {
    const std::string who = "project '" + project->slug + "'";
    const Quota* tq = ledger.QuotaOf(t.id, 0, r);
    if (!tq) {
      return core::FailedPrecondition("tenant '" + t.slug + "' has no quota for " + r +
                                      "; set the tenant's quota before its projects'");
    }
    if (q.guaranteed > tq->guaranteed) {
      return core::InvalidArgument(who + " guaranteed " + N(q.guaranteed) + " of " + r +
                                       " exceeds tenant '" + t.slug + "' guaranteed " +
                                       N(tq->guaranteed),
                                   "guaranteed");
    }
    Sum total = q.guaranteed;
    for (const auto& pq : ledger.ProjectQuotas(t.id, r)) {
      if (pq.project_id != q.project_id) total += pq.guaranteed;
    }
    if (total > tq->guaranteed) {
      return core::InvalidArgument("the projects of tenant '" + t.slug + "' would guarantee " +
                                       SumText(total) + " of " + r +
                                       " in total, above the tenant's guaranteed " +
                                       N(tq->guaranteed),
                                   "guaranteed");
    }
    if (q.Ceiling() > tq->Ceiling()) {
      return core::InvalidArgument(who + " burst " + N(q.Ceiling()) + " of " + r +
                                       " exceeds tenant '" + t.slug + "' " +
                                       (tq->burst ? "burst " : "guaranteed (it has no burst) ") +
                                       N(tq->Ceiling()),
                                   "burst");
    }
    int64_t reserved = ledger.Reserved(t.id, q.project_id, r);
    int64_t old_ceiling = before ? before->Ceiling() : kMaxAmount;
    if (reserved > q.Ceiling() && q.Ceiling() < old_ceiling) {
      below = who + " reserves " + N(reserved) + " of " + r + ", above the new limit " +
              N(q.Ceiling());
    }
  } else {
    Sum total = 0;
    for (const auto& pq : ledger.ProjectQuotas(t.id, r)) {
      total += pq.guaranteed;
      if (pq.Ceiling() > q.Ceiling()) {
        return core::InvalidArgument(
            "a project of tenant '" + t.slug + "' may use up to " + N(pq.Ceiling()) + " of " + r +
                ", above the new tenant limit " + N(q.Ceiling()) + "; lower the project's quota first",
            q.burst ? "burst" : "guaranteed");
      }
    }
    if (total > q.guaranteed) {
      return core::InvalidArgument("the projects of tenant '" + t.slug + "' guarantee " +
                                       SumText(total) + " of " + r +
                                       " in total, above the new guaranteed " + N(q.guaranteed) +
                                       "; lower the project quotas first",
                                   "guaranteed");
    }
    int64_t reserved = ledger.Reserved(t.id, 0, r);
    int64_t old_ceiling = before ? before->Ceiling() : 0;
    int64_t old_guaranteed = before ? before->guaranteed : 0;
    if (reserved > q.Ceiling() && q.Ceiling() < old_ceiling) {
      below = "tenant '" + t.slug + "' reserves " + N(reserved) + " of " + r +
              ", above the new limit " + N(q.Ceiling());
    } else if (q.guaranteed < old_guaranteed) {
      auto [sum_reserved, sum_guaranteed] = Totals(ledger, ids, r, 0);
      sum_guaranteed += q.guaranteed - old_guaranteed;
      if (sum_reserved > sum_guaranteed) {
        below = (t.cohort ? "cohort '" + *t.cohort + "'" : "tenant '" + t.slug + "'") +
                " reserves " + SumText(sum_reserved) + " of " + r +
                ", above the guaranteed total of " + SumText(sum_guaranteed) + " it would have";
      }
    }
  }
  if (!below.empty() && !req.force) {
    return core::FailedPrecondition(below + "; pass force to set it anyway (new admissions are "
                                            "then refused until usage falls below it; running "
                                            "work is not touched)");
  }

  GANTRY_TRY_STATUS(Store::UpsertQuota(*tx, q, now));
  ledger.SetQuota(q);
  GANTRY_TRY_STATUS(ledger.Flush(now));
  std::string target = t.slug + (project ? "/" + project->slug : "") + "/" + r;
  core::json::object details{{"resource", r},
                             {"project", project ? core::json::value(project->slug) : nullptr},
                             {"guaranteed", q.guaranteed},
                             {"burst", OptJson(q.burst)},
                             {"previous", QuotaJson(before)},
                             {"force", req.force},
                             {"below_usage", !below.empty()}};
  GANTRY_TRY_STATUS(Audit(*tx, rc, "quota.set", "quota", target, t.slug, details));
  GANTRY_TRY_STATUS(EnginesChanged(*tx));
  GANTRY_TRY_STATUS(tx->Commit());
  if (!below.empty()) spdlog::warn("quota {} set below usage (forced by {}): {}", target, Actor(rc), below);

  GANTRY_TRY(auto views, Quotas(rc, t.slug, project ? std::optional<std::string>(project->slug)
                                                    : std::nullopt));
  for (auto& v : views) {
    if (v.resource == r && v.project == (project ? project->slug : "")) return v;
  }
  return core::Internal("quota " + target + " missing after it was set");
}

core::Result<std::vector<QuotaView>> Service::Quotas(const core::RequestContext& rc,
                                                     std::string_view tenant,
                                                     std::optional<std::string> project) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  std::optional<Project> only;
  if (project) {
    GANTRY_TRY(only, ResolveProject(*tx, t, *project));
  }
  std::vector<Tenant> members{t};
  if (t.cohort) {
    GANTRY_TRY(members, Store::CohortMembers(*tx, *t.cohort));
  }
  std::vector<int64_t> ids;
  for (const auto& m : members) ids.push_back(m.id);
  GANTRY_TRY(auto projects, Store::ListProjects(*tx, t.id));
  std::map<int64_t, std::string> slugs;
  for (const auto& p : projects) slugs[p.id] = p.slug;

  Ledger ledger(*tx, db_.backend(), /*lock=*/false);
  GANTRY_TRY_STATUS(ledger.Load(ids, 0, {}));
  GANTRY_TRY_STATUS(ledger.Load({t.id}, std::nullopt, {}));
  GANTRY_TRY(auto used, Store::LatestUsed(*tx, t.id));  // the newest usage snapshot
  std::vector<QuotaView> out;
  for (const auto& [pid, r] : ledger.Levels(t.id)) {
    if (only && pid != only->id) continue;
    const Quota* q = ledger.QuotaOf(t.id, pid, r);
    QuotaView v;
    v.project = pid ? slugs[pid] : "";
    v.resource = r;
    if (q) {
      v.guaranteed = q->guaranteed;
      v.burst = q->burst;
    }
    v.reserved = ledger.Reserved(t.id, pid, r);
    v.borrowed = ledger.Borrowed(t.id, pid, r);
    if (!q && v.reserved == 0) continue;
    if (auto u = used.find({pid, r}); u != used.end()) v.used = u->second;
    if (pid == 0 && t.cohort) {
      // What cohort members borrow comes out of the members' unused guarantees; each lender's
      // share is proportional to its unused guarantee (rounded down).
      Sum borrowed = 0, unused = 0;
      for (auto id : ids) {
        borrowed += ledger.Borrowed(id, 0, r);
        unused += std::max<int64_t>(0, ledger.Guaranteed(id, 0, r) - ledger.Reserved(id, 0, r));
      }
      int64_t mine = std::max<int64_t>(0, ledger.Guaranteed(t.id, 0, r) - v.reserved);
      if (unused > 0) {
        v.lent = static_cast<int64_t>(std::min<Sum>(mine, borrowed * mine / unused));
      }
    }
    out.push_back(std::move(v));
  }
  return out;
}

// ---- admission ----------------------------------------------------------------------------

core::Status Service::CheckReserveRequest(const core::RequestContext& rc,
                                          const ReserveRequest& req) const {
  GANTRY_TRY_STATUS(Require(rc, "quotas.reserve"));
  if (req.ref.empty() || req.ref.size() > 200) {
    return core::InvalidArgument("ref must be 1-200 characters", "ref");
  }
  for (unsigned char c : req.ref) {
    if (c < 0x20 || c == 0x7f) return core::InvalidArgument("ref must not hold control characters", "ref");
  }
  if (req.resources.empty() || req.resources.size() > 32) {
    return core::InvalidArgument("resources must name 1-32 resources", "resources");
  }
  for (const auto& [r, a] : req.resources) {
    GANTRY_TRY_STATUS(ValidateResource(r, "resources"));
    if (a < 1 || a > kMaxAmount) {
      return core::InvalidArgument("the amount of " + r + " must be between 1 and 2^60", "resources");
    }
  }
  return {};
}

core::Result<Reservation> Service::Reserve(const core::RequestContext& rc, std::string_view tenant,
                                           const ReserveRequest& req) {
  GANTRY_TRY_STATUS(CheckReserveRequest(rc, req));
  if (combiner_) return combiner_->Submit(rc, tenant, req);
  return ReserveAlone(rc, tenant, req);
}

core::Result<Reservation> Service::ReserveAlone(const core::RequestContext& rc,
                                                std::string_view tenant,
                                                const ReserveRequest& req) {
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto visible, VisibleTenant(*tx, rc, tenant));
  GANTRY_TRY(auto d, ReserveInTx(*tx, rc, visible, req, now));
  if (reclaim_hook_ && !d.reclaimed.empty()) GANTRY_TRY_STATUS(reclaim_hook_(*tx, d.reclaimed));
  GANTRY_TRY_STATUS(audit_.AppendAll(*tx, std::move(d.events)));
  GANTRY_TRY_STATUS(tx->Commit());
  for (const auto& line : d.logs) spdlog::warn("{}", line);
  return std::move(d.res);
}

void Service::EnableAdmissionBatching(AdmissionBatching options) {
  combiner_ = std::make_unique<AdmissionCombiner>(
      options, [this](std::vector<PendingReserve*>& batch) { DecideBatch(batch); });
}

AdmissionCombiner::Stats Service::AdmissionStats() const {
  return combiner_ ? combiner_->stats() : AdmissionCombiner::Stats{};
}

void Service::DecideBatch(std::vector<PendingReserve*>& batch) {
  auto alone = [&] {
    for (auto* p : batch) p->result = ReserveAlone(*p->rc, p->tenant, *p->req);
  };
  auto now = clock_.Now();
  auto tx = db_.Begin();
  if (!tx) return alone();
  // The scope each call locks, to take the locks in the global order: cohort rows by name,
  // then tenant rows by id. A tenant the caller may not see is refused here.
  struct Item {
    PendingReserve* p;
    Tenant t;
    std::string key;
  };
  std::vector<Item> items;
  for (auto* p : batch) {
    auto v = VisibleTenant(**tx, *p->rc, p->tenant);
    if (!v) {
      p->result = v.error();
      continue;
    }
    char id[24];
    std::snprintf(id, sizeof id, "%020lld", static_cast<long long>(v->id));
    std::string key = v->cohort ? "0" + *v->cohort : "1" + std::string(id);
    items.push_back({p, std::move(*v), std::move(key)});
  }
  std::stable_sort(items.begin(), items.end(),
                   [](const Item& a, const Item& b) { return a.key < b.key; });
  std::vector<audit::Event> events;
  std::vector<Reservation> reclaimed;
  std::vector<std::pair<PendingReserve*, Decided>> admitted;
  for (auto& it : items) {
    auto d = ReserveInTx(**tx, *it.p->rc, it.t, *it.p->req, now);
    if (d) {
      for (auto& e : d->events) events.push_back(std::move(e));
      for (auto& r : d->reclaimed) reclaimed.push_back(r);
      admitted.emplace_back(it.p, std::move(*d));
      continue;
    }
    // A refusal writes nothing; an error of the transaction itself ends the batch.
    if (!(**tx).Exec("SELECT 1")) return alone();
    it.p->result = d.error();
  }
  if (reclaim_hook_ && !reclaimed.empty() && !reclaim_hook_(**tx, reclaimed)) return alone();
  if (!audit_.AppendAll(**tx, std::move(events)) || !(*tx)->Commit()) return alone();
  for (auto& [p, d] : admitted) {
    for (const auto& line : d.logs) spdlog::warn("{}", line);
    p->result = std::move(d.res);
  }
}

core::Result<Service::Decided> Service::ReserveInTx(store::Tx& tx_ref,
                                                    const core::RequestContext& rc,
                                                    const Tenant& visible,
                                                    const ReserveRequest& req,
                                                    core::UnixNanos now) {
  store::Tx* tx = &tx_ref;
  GANTRY_TRY_STATUS(CheckCanReserve(rc, visible));
  GANTRY_TRY(auto scope, LockScope(*tx, visible.id));
  const Tenant& t = scope.tenant;
  if (t.disabled) return core::FailedPrecondition("tenant '" + t.slug + "' is disabled");
  std::optional<Project> project;
  if (req.project) {
    GANTRY_TRY(project, ResolveProject(*tx, t, *req.project));
  }
  int64_t pid = project ? project->id : 0;
  GANTRY_TRY(auto existing, Store::ActiveByRef(*tx, t.id, req.ref));
  if (existing) {
    return core::Conflict("tenant '" + t.slug + "' already holds active reservation " +
                          N(*existing) + " for ref '" + req.ref + "'");
  }

  std::vector<int64_t> ids;
  for (const auto& m : scope.members) ids.push_back(m.id);
  auto resources = Keys(req.resources);
  if (admission_guard_) GANTRY_TRY_STATUS(admission_guard_(*tx, t.id, pid, resources));
  Ledger ledger(*tx, db_.backend());
  GANTRY_TRY_STATUS(ledger.Load(ids, 0, resources));
  if (pid) GANTRY_TRY_STATUS(ledger.Load({t.id}, pid, resources));

  // Decide every resource before changing anything.
  std::vector<std::string> problems, reclaim_for;
  for (const auto& [r, a] : req.resources) {
    const Quota* tq = ledger.QuotaOf(t.id, 0, r);
    int64_t guaranteed = tq ? tq->guaranteed : 0;
    int64_t reserved = ledger.Reserved(t.id, 0, r);
    std::string head = r + ": requested " + N(a) + ", reserved ";
    if (const Quota* pq = pid ? ledger.QuotaOf(t.id, pid, r) : nullptr) {
      int64_t preserved = ledger.Reserved(t.id, pid, r);
      if (preserved + a > pq->Ceiling()) {
        problems.push_back(head + N(preserved) + ", limit " + N(pq->Ceiling()) + " (project '" +
                           project->slug + "')");
        continue;
      }
      // Above its guarantee a project bursts only into its tenant's unused guarantee.
      if (preserved + a > pq->guaranteed && reserved + a > guaranteed) {
        problems.push_back(head + N(preserved) + ", limit " +
                           N(std::max<int64_t>(pq->guaranteed, preserved + guaranteed - reserved)) +
                           " (project '" + project->slug + "' is above its guaranteed " +
                           N(pq->guaranteed) + " and tenant '" + t.slug +
                           "' has no unused guarantee left)");
        continue;
      }
    }
    int64_t limit = tq ? tq->Ceiling() : 0;
    if (reserved + a > limit) {
      problems.push_back(head + N(reserved) + ", limit " + N(limit) + " (tenant '" + t.slug + "'" +
                         (tq ? "" : " has no quota for it") + ")");
      continue;
    }
    auto [sum_reserved, sum_guaranteed] = Totals(ledger, ids, r, a);
    if (sum_reserved <= sum_guaranteed) continue;
    if (reserved + a <= guaranteed) {
      reclaim_for.push_back(r);  // its own guarantee, held by borrowers
    } else if (!t.cohort) {
      problems.push_back(head + N(reserved) + ", limit " + N(guaranteed) + " (tenant '" + t.slug +
                         "' has no cohort to borrow from)");
    } else {
      problems.push_back(head + SumText(sum_reserved - a) + ", limit " + SumText(sum_guaranteed) +
                         " (cohort '" + *t.cohort + "'; tenant '" + t.slug + "' reserves " +
                         N(reserved) + " of its guaranteed " + N(guaranteed) + ")");
    }
  }
  if (!problems.empty()) {
    std::string msg = "quota exceeded for tenant '" + t.slug + "': ";
    for (size_t i = 0; i < problems.size(); ++i) msg += (i ? "; " : "") + problems[i];
    return Exhausted(msg);
  }

  // Reclaim: the newest reservations of members that borrow the resource, until it fits.
  core::json::array reclaimed;
  std::vector<Reservation> reclaimed_out;
  std::vector<core::json::object> reclaim_events;  // audited after every other write
  std::vector<std::string> reclaim_logs;            // logged once committed
  if (!reclaim_for.empty()) {
    std::vector<int64_t> others;
    for (auto id : ids) {
      if (id != t.id) others.push_back(id);
    }
    auto fits = [&](const std::string& r) {
      auto [sr, sg] = Totals(ledger, ids, r, req.resources.at(r));
      return sr <= sg;
    };
    GANTRY_TRY(auto active, Store::ActiveReservations(*tx, others));
    std::vector<Reservation> victims;  // marked reclaimed once the request is known to fit
    for (const auto& v : active) {
      bool useful = false, all_fit = true;
      for (const auto& r : reclaim_for) {
        if (fits(r)) continue;
        all_fit = false;
        if (v.resources.count(r) && ledger.Borrowed(v.tenant_id, 0, r) > 0) useful = true;
      }
      if (all_fit) break;
      if (!useful) continue;
      auto vres = Keys(v.resources);
      GANTRY_TRY_STATUS(ledger.Load({v.tenant_id}, 0, vres));
      if (v.project_id) GANTRY_TRY_STATUS(ledger.Load({v.tenant_id}, v.project_id, vres));
      for (const auto& [r, a] : v.resources) {
        ledger.Add(v.tenant_id, 0, r, -a);
        if (v.project_id) ledger.Add(v.tenant_id, v.project_id, r, -a);
      }
      victims.push_back(v);
      core::json::object& details = reclaim_events.emplace_back();
      details = {{"ref", v.ref},
                                 {"project", v.project.empty() ? core::json::value(nullptr)
                                                               : core::json::value(v.project)},
                                 {"resources", AmountsToJson(v.resources)},
                                 {"borrowed", AmountsToJson(v.borrowed)},
                                 {"cohort", *t.cohort},
                                 {"for_tenant", t.slug},
                                 {"for_ref", req.ref}};
      details["id"] = v.id;
      details["tenant"] = v.tenant;
      reclaim_logs.push_back(fmt::format(
          "quota: reclaimed reservation {} (tenant {}, ref {}) in cohort {} for tenant {} (ref {})",
          v.id, v.tenant, v.ref, *t.cohort, t.slug, req.ref));
      reclaimed.push_back(v.id);
    }
    for (const auto& r : reclaim_for) {
      if (!fits(r)) {
        return Exhausted("quota exceeded for tenant '" + t.slug + "': " + r +
                         ": the capacity of cohort '" + *t.cohort + "' cannot be reclaimed");
      }
    }
    for (auto& v : victims) {
      GANTRY_TRY_STATUS(Store::FinishReservation(*tx, v.id, kReclaimed, now));
      v.state = kReclaimed;
      v.released_at = now;
    }
    reclaimed_out = std::move(victims);
  }

  Reservation res;
  res.tenant_id = t.id;
  res.tenant = t.slug;
  res.project_id = pid;
  res.project = project ? project->slug : "";
  res.ref = req.ref;
  res.state = kActive;
  res.resources = req.resources;
  res.created_by = Actor(rc);
  res.created_at = now;
  for (const auto& [r, a] : req.resources) {
    int64_t before = ledger.Borrowed(t.id, 0, r);
    ledger.Add(t.id, 0, r, a);
    if (pid) ledger.Add(t.id, pid, r, a);
    int64_t borrowed = ledger.Borrowed(t.id, 0, r) - before;
    if (borrowed > 0) res.borrowed[r] = borrowed;
  }
  GANTRY_TRY(res.id, Store::InsertReservation(*tx, res));
  GANTRY_TRY_STATUS(ledger.Flush(now));
  core::json::object details{{"ref", res.ref},
                             {"project", project ? core::json::value(project->slug) : nullptr},
                             {"resources", AmountsToJson(res.resources)},
                             {"borrowed", AmountsToJson(res.borrowed)},
                             {"reclaimed", reclaimed}};
  Decided out;
  out.reclaimed = std::move(reclaimed_out);
  auto event = [&](const std::string& action, int64_t id, const std::string& tenant_slug,
                   const core::json::object& d) {
    auto e = audit::Service::MakeEvent(rc, action, "reservation", N(id), d);
    e.tenant = tenant_slug;
    out.events.push_back(std::move(e));
  };
  for (auto& e : reclaim_events) {
    int64_t victim = e.at("id").as_int64();
    std::string victim_tenant(e.at("tenant").as_string());
    e.erase("id");
    e.erase("tenant");
    event("quota.reclaim", victim, victim_tenant, e);
  }
  event("quota.reserve", res.id, t.slug, details);
  out.res = std::move(res);
  out.logs = std::move(reclaim_logs);
  return out;
}

core::Result<Reservation> Service::Release(const core::RequestContext& rc, std::string_view tenant,
                                           int64_t id) {
  GANTRY_TRY_STATUS(Require(rc, "quotas.reserve"));
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto visible, VisibleTenant(*tx, rc, tenant));
  GANTRY_TRY_STATUS(CheckCanReserve(rc, visible));
  GANTRY_TRY(auto scope, LockScope(*tx, visible.id));
  const Tenant& t = scope.tenant;
  // Read under the lock: a reclaim may have ended it meanwhile.
  GANTRY_TRY(auto v, Store::GetReservation(*tx, id));
  if (!v || v->tenant_id != t.id) {
    return core::NotFound("no reservation " + N(id) + " in tenant '" + t.slug + "'");
  }
  if (v->state != kActive) {
    return core::FailedPrecondition("reservation " + N(id) + " is already " + v->state);
  }
  auto resources = Keys(v->resources);
  Ledger ledger(*tx, db_.backend());
  GANTRY_TRY_STATUS(ledger.Load({t.id}, 0, resources));
  if (v->project_id) GANTRY_TRY_STATUS(ledger.Load({t.id}, v->project_id, resources));
  for (const auto& [r, a] : v->resources) {
    ledger.Add(t.id, 0, r, -a);
    if (v->project_id) ledger.Add(t.id, v->project_id, r, -a);
  }
  GANTRY_TRY_STATUS(ledger.Flush(now));
  GANTRY_TRY_STATUS(Store::FinishReservation(*tx, id, kReleased, now));
  GANTRY_TRY_STATUS(Audit(*tx, rc, "quota.release", "reservation", N(id), t.slug,
                          {{"ref", v->ref}, {"resources", AmountsToJson(v->resources)}}));
  GANTRY_TRY(auto after, Store::GetReservation(*tx, id));
  GANTRY_TRY_STATUS(tx->Commit());
  return *after;
}

core::Result<Reservation> Service::GetReservation(const core::RequestContext& rc,
                                                  std::string_view tenant, int64_t id) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  GANTRY_TRY(auto v, Store::GetReservation(*tx, id));
  if (!v || v->tenant_id != t.id) {
    return core::NotFound("no reservation " + N(id) + " in tenant '" + t.slug + "'");
  }
  return *v;
}

core::Result<std::vector<Reservation>> Service::ListReservations(const core::RequestContext& rc,
                                                                 std::string_view tenant,
                                                                 std::optional<std::string> state,
                                                                 ListOptions o) {
  if (state && *state != kActive && *state != kReleased && *state != kReclaimed) {
    return core::InvalidArgument("state must be one of active, released, reclaimed", "state");
  }
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  return Store::ListReservations(*tx, t.id, state, o.cursor, o.limit);
}

core::Result<std::vector<HistoryPoint>> Service::Usage(const core::RequestContext& rc,
                                                       std::string_view tenant,
                                                       HistoryFilter filter) {
  if (filter.resource) GANTRY_TRY_STATUS(ValidateResource(*filter.resource));
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto t, VisibleTenant(*tx, rc, tenant));
  std::optional<int64_t> pid;
  if (filter.project) {
    GANTRY_TRY(auto p, ResolveProject(*tx, t, *filter.project));
    pid = p.id;
  }
  return Store::History(*tx, t.id, pid, filter);
}

}  // namespace gantry::tenancy
