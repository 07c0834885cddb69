// SQL for jobs (store_sql.cc is the only file with job SQL).
#pragma once

#include <optional>
#include <vector>

#include "jobs/types.h"
#include "store/database.h"

namespace gantry::jobs {

struct QueueCount {
  std::string state;
  int64_t count = 0;
};

class Store {
 public:
  static core::Result<int64_t> Insert(store::Tx& tx, const NewJob& j, const std::string& created_by,
                                      core::UnixNanos now);
  static core::Result<std::optional<Job>> Get(store::Tx& tx, int64_t id);
  // True when a job of this type is queued and has not started (used to coalesce triggers).
  static core::Result<bool> HasQueued(store::Tx& tx, std::string_view type);
  static core::Result<std::vector<LogLine>> Log(store::Database& db, int64_t id, int limit);
  static core::Result<std::vector<Job>> List(store::Database& db, const ListFilter& f);
  // Claims the next runnable job (queued and due, or running with an expired lease).
  static core::Result<std::optional<Job>> Claim(store::Database& db, const std::string& owner,
                                                core::UnixNanos now, int64_t lease_nanos);
  // Extends the lease of a job this owner holds; returns cancel_requested, or nullopt when the
  // lease was lost (another worker reclaimed it).
  static core::Result<std::optional<bool>> Heartbeat(store::Database& db, int64_t id,
                                                     const std::string& owner, core::UnixNanos now,
                                                     int64_t lease_nanos);
  static core::Status SetProgress(store::Database& db, int64_t id, const std::string& owner,
                                  int progress, const std::string& message, core::UnixNanos now);
  static core::Status AppendLog(store::Database& db, int64_t id, const std::string& line,
                                core::UnixNanos now);
  static core::Status AppendLog(store::Tx& tx, int64_t id, const std::string& line,
                                core::UnixNanos now);
  // Final or retry transition, only while `owner` holds the lease.
  static core::Result<bool> Finish(store::Tx& tx, int64_t id, const std::string& owner,
                                   const std::string& state, int progress,
                                   const std::optional<std::string>& result,
                                   const std::optional<std::string>& error, core::UnixNanos now);
  static core::Result<bool> Requeue(store::Tx& tx, int64_t id, const std::string& owner,
                                    const std::string& error, core::UnixNanos run_after,
                                    core::UnixNanos now);
  static core::Status RequestCancel(store::Tx& tx, int64_t id, core::UnixNanos now);
  static core::Result<std::vector<QueueCount>> CountByState(store::Database& db);
};

}  // namespace gantry::jobs
