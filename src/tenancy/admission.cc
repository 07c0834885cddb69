#include "tenancy/admission.h"

#include <algorithm>

namespace gantry::tenancy {

AdmissionCombiner::AdmissionCombiner(AdmissionBatching options, Decide decide)
    : options_(options), decide_(std::move(decide)) {
  options_.lanes = std::clamp(options_.lanes, 1, 1024);
  options_.max_batch = std::clamp(options_.max_batch, 1, 4096);
  lanes_ = std::make_unique<Lane[]>(options_.lanes);
}

core::Result<Reservation> AdmissionCombiner::Submit(const core::RequestContext& rc,
                                                    std::string_view tenant,
                                                    const ReserveRequest& req) {
  PendingReserve p{&rc, std::string(tenant), &req, std::nullopt};
  Lane& lane = lanes_[std::hash<std::string_view>{}(tenant) % options_.lanes];
  std::unique_lock lock(lane.mu);
  lane.queue.push_back(&p);
  while (!p.result) {
    if (lane.busy) {
      lane.cv.wait(lock);
      continue;
    }
    // Leader: decide batches until this caller's own call is decided.
    lane.busy = true;
    while (!p.result && !lane.queue.empty()) {
      size_t n = std::min<size_t>(lane.queue.size(), options_.max_batch);
      std::vector<PendingReserve*> batch(lane.queue.begin(), lane.queue.begin() + n);
      lane.queue.erase(lane.queue.begin(), lane.queue.begin() + n);
      ++lane.batches;
      lane.calls += static_cast<int64_t>(n);
      lock.unlock();
      try {
        decide_(batch);
      } catch (const std::exception& e) {
        for (auto* q : batch) {
          if (!q->result) q->result = core::Internal(std::string("admission batch: ") + e.what());
        }
      }
      lock.lock();
      lane.cv.notify_all();
    }
    lane.busy = false;
    lane.cv.notify_all();  // a caller still queued becomes the next leader
  }
  return std::move(*p.result);
}

AdmissionCombiner::Stats AdmissionCombiner::stats() const {
  Stats s;
  for (int i = 0; i < options_.lanes; ++i) {
    std::lock_guard lock(lanes_[i].mu);
    s.batches += lanes_[i].batches;
    s.calls += lanes_[i].calls;
  }
  return s;
}

}  // namespace gantry::tenancy
