// CMDB service, part 2: bulk import, change requests and context for other domains.
#include <spdlog/spdlog.h>

#include "cmdb/service.h"
#include "cmdb/validate.h"

namespace gantry::cmdb {

namespace {

core::Result<Edit> ParseEdit(const core::json::value& v, size_t index) {
  std::string where = "edit " + std::to_string(index + 1);
  if (!v.is_object()) return core::InvalidArgument(where + " must be an object", "edits");
  const auto& o = v.as_object();
  GANTRY_TRY(auto op, core::GetString(o, "op"));
  core::Status st;
  if (op == "create_ci") st = core::OnlyFields(o, {"op", "type", "name", "attributes", "tenant", "status"});
  else if (op == "update_ci") st = core::OnlyFields(o, {"op", "ci", "name", "attributes", "tenant", "status"});
  else if (op == "delete_ci") st = core::OnlyFields(o, {"op", "ci", "cascade"});
  else if (op == "relate") st = core::OnlyFields(o, {"op", "type", "from", "to", "attributes"});
  else if (op == "unrelate") st = core::OnlyFields(o, {"op", "id"});
  else {
    return core::InvalidArgument(where + ": unknown op '" + op +
                                     "'; valid ops: create_ci, update_ci, delete_ci, relate, unrelate",
                                 "op");
  }
  if (!st) return core::InvalidArgument(where + ": " + st.error().message, st.error().field);
  return Edit{op, o};
}

}  // namespace

// ---- import -------------------------------------------------------------------------------

core::Result<ImportReport> Service::Import(const core::RequestContext& rc,
                                           const std::vector<std::pair<int64_t, NewCi>>& cis,
                                           const std::vector<std::pair<int64_t, NewRelation>>& relations,
                                           bool dry_run) {
  ImportReport rep;
  rep.dry_run = dry_run;
  rep.rows = static_cast<int64_t>(cis.size() + relations.size());
  TxCtx t{rc, nullptr, clock_.Now(), true};
  GANTRY_TRY(t.tx, db_.Begin());
  auto row_error = [&](int64_t line, const core::Error& e) {
    rep.errors.push_back({line, e.field, e.message});
  };
  for (const auto& [line, in] : cis) {
    // Checks that need no SQL first, so a bad row never aborts the transaction.
    auto type = GetType(in.type);
    if (!type) { row_error(line, type.error()); continue; }
    if (auto st = ValidateName(in.name, "CI name"); !st) { row_error(line, st.error()); continue; }
    auto attrs = ValidateAttrs(type->attributes, in.attrs, in.type + "/" + in.name, true);
    if (!attrs) { row_error(line, attrs.error()); continue; }
    // After a bad row nothing will be committed, but later rows are still checked in full
    // (the transaction is rolled back at the end), so every bad row is reported at once.
    auto existing = Store::FindByName(*t.tx, in.type, in.name);
    if (!existing) return existing.error();
    if (existing->empty()) {
      auto c = CreateCiTx(t, in, std::nullopt);
      if (!c) { row_error(line, c.error()); continue; }
      ++rep.created;
    } else {
      CiPatch patch;
      patch.attrs = in.attrs;
      if (in.tenant) patch.tenant = in.tenant;
      auto u = UpdateCiTx(t, existing->front(), patch, std::nullopt);
      if (!u) { row_error(line, u.error()); continue; }
      ++rep.updated;
    }
  }
  for (const auto& [line, row] : relations) {
    NewRelation in = row;
    in.if_missing = true;  // re-importing an export is a no-op, not a conflict
    auto r = RelateTx(t, in, std::nullopt);
    if (!r) {
      if (r.error().code == core::Code::kInternal || r.error().code == core::Code::kUnavailable) return r.error();
      row_error(line, r.error());
      continue;
    }
    ++rep.relations;
  }
  if (!rep.errors.empty() || dry_run) {
    // Destroying the transaction rolls everything back: a failed import changes nothing.
    t.tx.reset();
    if (!rep.errors.empty()) {
      rep.created = rep.updated = rep.relations = 0;
    }
    return rep;
  }
  GANTRY_TRY_STATUS(audit_.Append(*t.tx, audit::Service::MakeEvent(
                                             rc, "cmdb.import", "cmdb", "import",
                                             {{"created", rep.created}, {"updated", rep.updated}, {"relations", rep.relations}})));
  GANTRY_TRY_STATUS(CommitTx(t));
  return rep;
}

// ---- change requests ------------------------------------------------------------------------

core::Result<core::json::object> Service::EditsImpact(const std::vector<Edit>& edits) {
  core::json::array touched;
  core::json::object by_type;
  core::json::array tenants, services;
  std::set<std::string> tenant_set, service_set;
  int64_t total = 0;
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  for (const auto& e : edits) {
    std::string ref;
    if (e.op == "update_ci" || e.op == "delete_ci") {
      GANTRY_TRY(ref, core::GetString(e.body, "ci"));
    } else {
      continue;  // new CIs and relationships affect nothing yet
    }
    auto ci = Resolve(*tx, ref);
    if (!ci) continue;  // reported when applied
    GANTRY_TRY_STATUS(Sync());
    auto tr = graph_->ImpactOf(ci->id, TraversalOptions{16, 20000, {}});
    std::vector<int64_t> ids;
    for (const auto& n : tr.nodes) ids.push_back(n.id);
    GANTRY_TRY(auto cis, Named(ids));
    for (const auto& c : cis) {
      ++total;
      int64_t n = by_type.contains(c.type) ? by_type[c.type].as_int64() : 0;
      by_type[c.type] = n + 1;
      if (c.tenant && tenant_set.insert(*c.tenant).second) tenants.push_back(core::json::string(*c.tenant));
      if (c.type == "tenant" && tenant_set.insert(c.name).second) tenants.push_back(core::json::string(c.name));
      if (c.type == "service" && service_set.insert(c.name).second) services.push_back(core::json::string(c.name));
    }
    touched.push_back(core::json::object{{"ci", Label(*ci)}, {"op", e.op},
                                         {"affected", static_cast<int64_t>(tr.nodes.size())}});
  }
  return core::json::object{{"touched", touched}, {"affected_total", total}, {"affected_by_type", by_type},
                            {"tenants", tenants}, {"services", services}};
}

core::Result<ChangeRequest> Service::ProposeChange(const core::RequestContext& rc, std::string title,
                                                   std::string description, std::vector<Edit> edits) {
  if (title.empty() || title.size() > 200) return core::InvalidArgument("title must be 1-200 characters", "title");
  if (edits.empty() || edits.size() > 10000) return core::InvalidArgument("a change request needs 1-10000 edits", "edits");
  core::json::array arr;
  for (size_t i = 0; i < edits.size(); ++i) {
    GANTRY_TRY(auto checked, ParseEdit(edits[i].body, i));
    (void)checked;
    arr.push_back(edits[i].body);
  }
  GANTRY_TRY(auto impact, EditsImpact(edits));
  ChangeRequest cr;
  cr.title = std::move(title);
  cr.description = std::move(description);
  cr.state = "pending";
  cr.edits = core::json::serialize(arr);
  cr.impact = core::json::serialize(impact);
  cr.created_by = rc.principal.username;
  cr.created_at = cr.updated_at = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(cr.id, Store::InsertChangeRequest(*tx, cr));
  GANTRY_TRY_STATUS(audit_.Append(*tx, audit::Service::MakeEvent(rc, "cmdb.change.propose", "change_request",
                                                                 std::to_string(cr.id),
                                                                 {{"title", cr.title}, {"edits", static_cast<int64_t>(edits.size())}})));
  GANTRY_TRY_STATUS(tx->Commit());
  return cr;
}

core::Status Service::ApplyEditTx(TxCtx& t, const Edit& e, int64_t cr) {
  const auto& o = e.body;
  if (e.op == "create_ci") {
    NewCi n;
    GANTRY_TRY(n.type, core::GetString(o, "type"));
    GANTRY_TRY(n.name, core::GetString(o, "name"));
    GANTRY_TRY(auto attrs, core::OptObject(o, "attributes"));
    if (attrs) n.attrs = *attrs;
    GANTRY_TRY(n.tenant, core::OptString(o, "tenant"));
    GANTRY_TRY(auto status, core::OptString(o, "status"));
    n.status = status.value_or("active");
    GANTRY_TRY_STATUS(CreateCiTx(t, n, cr));
  } else if (e.op == "update_ci") {
    GANTRY_TRY(auto ref, core::GetString(o, "ci"));
    GANTRY_TRY(auto ci, Resolve(*t.tx, ref));
    CiPatch p;
    GANTRY_TRY(p.name, core::OptString(o, "name"));
    GANTRY_TRY(auto attrs, core::OptObject(o, "attributes"));
    if (attrs) p.attrs = *attrs;
    GANTRY_TRY(p.status, core::OptString(o, "status"));
    if (o.contains("tenant")) {
      GANTRY_TRY(auto tenant, core::OptString(o, "tenant"));
      p.tenant = tenant;
    }
    GANTRY_TRY_STATUS(UpdateCiTx(t, ci, p, cr));
  } else if (e.op == "delete_ci") {
    GANTRY_TRY(auto ref, core::GetString(o, "ci"));
    GANTRY_TRY(auto ci, Resolve(*t.tx, ref));
    GANTRY_TRY(auto cascade, core::OptBool(o, "cascade"));
    GANTRY_TRY_STATUS(DeleteCiTx(t, ci, cascade.value_or(false), cr));
  } else if (e.op == "relate") {
    NewRelation r;
    GANTRY_TRY(r.type, core::GetString(o, "type"));
    GANTRY_TRY(r.from, core::GetString(o, "from"));
    GANTRY_TRY(r.to, core::GetString(o, "to"));
    GANTRY_TRY(auto attrs, core::OptObject(o, "attributes"));
    if (attrs) r.attrs = *attrs;
    GANTRY_TRY_STATUS(RelateTx(t, r, cr));
  } else if (e.op == "unrelate") {
    GANTRY_TRY(auto id, core::GetInt(o, "id"));
    GANTRY_TRY(auto r, Store::GetRelation(*t.tx, id));
    if (!r) return core::NotFound("no relationship " + std::to_string(id));
    GANTRY_TRY_STATUS(UnrelateTx(t, *r, cr));
  }
  return {};
}

core::Result<ChangeRequest> Service::ApproveChange(const core::RequestContext& rc, int64_t id, std::string comment) {
  TxCtx t{rc, nullptr, clock_.Now()};
  GANTRY_TRY(t.tx, db_.Begin());
  GANTRY_TRY(auto cr, Store::GetChangeRequest(*t.tx, id, true, db_.backend()));
  if (!cr) return core::NotFound("no change request " + std::to_string(id));
  if (cr->state != "pending") return core::FailedPrecondition("change request " + std::to_string(id) + " is " + cr->state);
  if (cr->created_by == rc.principal.username) {
    return core::PermissionDenied("a change request must be approved by someone other than its author");
  }
  GANTRY_TRY(auto arr, core::ParseJson(cr->edits));
  core::Status applied;
  size_t index = 0;
  for (const auto& v : arr.as_array()) {
    auto e = ParseEdit(v, index);
    applied = e ? ApplyEditTx(t, *e, id) : core::Status(e.error());
    if (!applied) break;
    ++index;
  }
  if (!applied) {
    // Nothing of the change was applied: record the failure in a transaction of its own.
    t.tx.reset();
    std::string msg = "edit " + std::to_string(index + 1) + " failed: " + applied.error().message;
    GANTRY_TRY(auto tx2, db_.Begin());
    GANTRY_TRY(auto cur, Store::GetChangeRequest(*tx2, id, true, db_.backend()));
    cur->state = "failed";
    cur->reviewed_by = rc.principal.username;
    cur->review_comment = msg;
    cur->updated_at = clock_.Now();
    GANTRY_TRY_STATUS(Store::UpdateChangeRequest(*tx2, *cur));
    GANTRY_TRY_STATUS(audit_.Append(*tx2, audit::Service::MakeEvent(rc, "cmdb.change.apply", "change_request",
                                                                    std::to_string(id), {{"error", msg}}, audit::kFailure)));
    GANTRY_TRY_STATUS(tx2->Commit());
    return core::Error(applied.error().code, "change request " + std::to_string(id) + " was not applied: " + msg,
                       applied.error().field);
  }
  cr->state = "applied";
  cr->reviewed_by = rc.principal.username;
  cr->review_comment = comment;
  cr->applied_at = cr->updated_at = t.now;
  GANTRY_TRY_STATUS(Store::UpdateChangeRequest(*t.tx, *cr));
  GANTRY_TRY_STATUS(audit_.Append(*t.tx, audit::Service::MakeEvent(rc, "cmdb.change.approve", "change_request",
                                                                   std::to_string(id),
                                                                   {{"author", cr->created_by}, {"comment", comment}})));
  GANTRY_TRY_STATUS(CommitTx(t));
  return *cr;
}

core::Result<ChangeRequest> Service::RejectChange(const core::RequestContext& rc, int64_t id, std::string comment) {
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto cr, Store::GetChangeRequest(*tx, id, true, db_.backend()));
  if (!cr) return core::NotFound("no change request " + std::to_string(id));
  if (cr->state != "pending") return core::FailedPrecondition("change request " + std::to_string(id) + " is " + cr->state);
  cr->state = "rejected";
  cr->reviewed_by = rc.principal.username;
  cr->review_comment = comment;
  cr->updated_at = clock_.Now();
  GANTRY_TRY_STATUS(Store::UpdateChangeRequest(*tx, *cr));
  GANTRY_TRY_STATUS(audit_.Append(*tx, audit::Service::MakeEvent(rc, "cmdb.change.reject", "change_request",
                                                                 std::to_string(id), {{"comment", comment}})));
  GANTRY_TRY_STATUS(tx->Commit());
  return *cr;
}

core::Result<ChangeRequest> Service::GetChange(const core::RequestContext&, int64_t id) {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto cr, Store::GetChangeRequest(*tx, id, false, db_.backend()));
  if (!cr) return core::NotFound("no change request " + std::to_string(id));
  return *cr;
}

core::Result<std::vector<ChangeRequest>> Service::ListChanges(const core::RequestContext&, std::optional<std::string> state) {
  if (state && *state != "pending" && *state != "applied" && *state != "rejected" && *state != "failed") {
    return core::InvalidArgument("state must be pending, applied, rejected or failed", "state");
  }
  return Store::ListChangeRequests(db_, state, 200);
}

}  // namespace gantry::cmdb
