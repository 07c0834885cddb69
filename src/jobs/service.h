// The job service: enqueue, read, list and cancel durable jobs, and the registry of job types.
// Job creation and cancellation are audited in the same transaction; final states are audited
// by the worker as the "system" actor. Thread-safe.
#pragma once

#include <functional>
#include <map>
#include <string>

#include "audit/service.h"
#include "core/principal.h"
#include "jobs/store.h"
#include "jobs/types.h"

namespace gantry::jobs {

class JobContext;

// Runs one attempt. Returns the result object, or an error: kFailedPrecondition and
// kInvalidArgument fail the job at once; any other code is retried with back-off until
// max_attempts.
using JobHandler = std::function<core::Result<core::json::object>(JobContext&)>;
// Checks a job's params before it is queued.
using ParamValidator = std::function<core::Status(const core::json::object&)>;

struct JobType {
  std::string name;
  std::string description;
  ParamValidator validate;
  JobHandler run;
  bool user_startable = true;  // may be started through POST /api/v1/jobs
};

class Registry {
 public:
  void Add(JobType type);
  const JobType* Find(std::string_view name) const;
  std::vector<std::string> Names(bool user_startable_only) const;

 private:
  std::map<std::string, JobType, std::less<>> types_;
};

class Service {
 public:
  Service(store::Database& db, const audit::Service& audit, const core::Clock& clock,
          const Registry& registry)
      : db_(db), audit_(audit), clock_(clock), registry_(registry) {}

  core::Result<Job> Enqueue(const core::RequestContext& rc, NewJob job);
  // Enqueues inside the caller's transaction (a domain change that starts a job).
  core::Result<int64_t> EnqueueInTx(store::Tx& tx, const core::RequestContext& rc, NewJob job);
  // With the last `log_lines` log lines. Non-operators see only their own jobs.
  core::Result<Job> Get(const core::RequestContext& rc, int64_t id, int log_lines = 200);
  core::Result<std::vector<Job>> List(const core::RequestContext& rc, ListFilter filter);
  core::Result<Job> Cancel(const core::RequestContext& rc, int64_t id);

  store::Database& db() { return db_; }
  const audit::Service& audit() const { return audit_; }
  const core::Clock& clock() const { return clock_; }
  const Registry& registry() const { return registry_; }

 private:
  store::Database& db_;
  const audit::Service& audit_;
  const core::Clock& clock_;
  const Registry& registry_;
};

}  // namespace gantry::jobs
