// Group commit for admission: concurrent Reserve calls queue in a lane (chosen by the tenant
// reference), one of the callers — the leader — takes up to `max_batch` of them and decides them
// all in one write transaction (Service::DecideBatch), then hands the results back; the others
// wait for theirs. There are no threads of its own: a caller whose request is still queued when
// the lane goes idle becomes the next leader.
//
// Why: every decision appends an audit event, and the audit head row (one per database)
// serialises all transactions that append; one transaction per decision makes the head, and on
// SQLite the commit, the bottleneck. A batch takes the head once and commits once.
//
// Semantics are those of one transaction per call: each call is decided on the state left by
// the calls before it in the batch, gets its own reservation, audit event(s) and result, and a
// refused call changes nothing (admission writes only once everything is decided). Lanes run
// concurrently; a batch takes the scope locks of its calls in the global lock order (cohort rows
// by name, then tenant rows by id), so batches never deadlock with each other or with single
// writers. If the batch transaction itself fails (database unavailable, serialisation failure),
// each of its calls is retried on its own.
//
// Thread-safe.
#pragma once

#include <condition_variable>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/principal.h"
#include "tenancy/types.h"

namespace gantry::tenancy {

struct AdmissionBatching {
  int lanes = 8;       // batches decided concurrently (each holds one database connection)
  int max_batch = 64;  // calls per transaction
};

// One queued Reserve call; `result` is set by whoever decides it.
struct PendingReserve {
  const core::RequestContext* rc = nullptr;
  std::string tenant;
  const ReserveRequest* req = nullptr;
  std::optional<core::Result<Reservation>> result;
};

class AdmissionCombiner {
 public:
  // `decide` sets the result of every call in the batch.
  using Decide = std::function<void(std::vector<PendingReserve*>&)>;
  AdmissionCombiner(AdmissionBatching options, Decide decide);

  core::Result<Reservation> Submit(const core::RequestContext& rc, std::string_view tenant,
                                   const ReserveRequest& req);

  struct Stats {
    int64_t batches = 0;
    int64_t calls = 0;
  };
  Stats stats() const;

 private:
  struct Lane {
    std::mutex mu;
    std::condition_variable cv;
    std::deque<PendingReserve*> queue;
    bool busy = false;
    int64_t batches = 0, calls = 0;
  };
  AdmissionBatching options_;
  Decide decide_;
  std::unique_ptr<Lane[]> lanes_;
};

}  // namespace gantry::tenancy
