#include "jobs/service.h"

namespace gantry::jobs {

namespace {
bool SeesAll(const core::Principal& p) {
  return p.HasRole(core::Role::kAdmin) || p.HasRole(core::Role::kOperator) ||
         p.HasRole(core::Role::kAuditor) || p.HasRole(core::Role::kViewer) ||
         p.auth_method == "system";
}
}  // namespace

void Registry::Add(JobType type) {
  std::string name = type.name;
  types_[name] = std::move(type);
}

const JobType* Registry::Find(std::string_view name) const {
  auto it = types_.find(name);
  return it == types_.end() ? nullptr : &it->second;
}

std::vector<std::string> Registry::Names(bool user_startable_only) const {
  std::vector<std::string> out;
  for (const auto& [name, t] : types_) {
    if (!user_startable_only || t.user_startable) out.push_back(name);
  }
  return out;
}

core::Result<int64_t> Service::EnqueueInTx(store::Tx& tx, const core::RequestContext& rc,
                                           NewJob job) {
  const JobType* type = registry_.Find(job.type);
  if (!type) {
    std::string valid;
    for (const auto& n : registry_.Names(false)) valid += (valid.empty() ? "" : ", ") + n;
    return core::InvalidArgument("unknown job type '" + job.type + "'; valid types: " + valid, "type");
  }
  if (type->validate) GANTRY_TRY_STATUS(type->validate(job.params));
  if (job.max_attempts < 1 || job.max_attempts > 100) {
    return core::InvalidArgument("max_attempts must be between 1 and 100", "max_attempts");
  }
  auto now = clock_.Now();
  std::string by = rc.principal.username.empty() ? "system" : rc.principal.username;
  GANTRY_TRY(auto id, Store::Insert(tx, job, by, now));
  GANTRY_TRY_STATUS(Store::AppendLog(tx, id, "queued by " + by, now));
  GANTRY_TRY_STATUS(audit_.Append(
      tx, audit::Service::MakeEvent(rc, "job.create", "job", std::to_string(id),
                                    {{"type", job.type}, {"params", job.params}})));
  return id;
}

core::Result<Job> Service::Enqueue(const core::RequestContext& rc, NewJob job) {
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto id, EnqueueInTx(*tx, rc, std::move(job)));
  GANTRY_TRY(auto j, Store::Get(*tx, id));
  GANTRY_TRY_STATUS(tx->Commit());
  return *j;
}

core::Result<Job> Service::Get(const core::RequestContext& rc, int64_t id, int log_lines) {
  std::optional<Job> job;
  {
    GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
    GANTRY_TRY(job, Store::Get(*tx, id));
  }
  if (!job || (!SeesAll(rc.principal) && job->created_by != rc.principal.username)) {
    return core::NotFound("no job " + std::to_string(id));
  }
  if (log_lines > 0) {
    GANTRY_TRY(job->log, Store::Log(db_, id, log_lines));
  }
  return *job;
}

core::Result<std::vector<Job>> Service::List(const core::RequestContext& rc, ListFilter filter) {
  if (filter.state && !IsValidState(*filter.state)) {
    return core::InvalidArgument(
        "state must be one of queued, running, succeeded, failed, cancelled", "state");
  }
  if (!SeesAll(rc.principal)) filter.created_by = rc.principal.username;
  return Store::List(db_, filter);
}

core::Result<Job> Service::Cancel(const core::RequestContext& rc, int64_t id) {
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto job, Store::Get(*tx, id));
  if (!job) return core::NotFound("no job " + std::to_string(id));
  if (IsFinal(job->state)) {
    return core::FailedPrecondition("job " + std::to_string(id) + " is already " + job->state);
  }
  auto now = clock_.Now();
  GANTRY_TRY_STATUS(Store::RequestCancel(*tx, id, now));
  GANTRY_TRY_STATUS(Store::AppendLog(*tx, id, "cancel requested by " + rc.principal.username, now));
  GANTRY_TRY_STATUS(audit_.Append(
      *tx, audit::Service::MakeEvent(rc, "job.cancel", "job", std::to_string(id),
                                     {{"type", job->type}, {"state", job->state}})));
  GANTRY_TRY(auto after, Store::Get(*tx, id));
  GANTRY_TRY_STATUS(tx->Commit());
  return *after;
}

}  // namespace gantry::jobs
