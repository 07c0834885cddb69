// Forwards incident notifications (the enriched incident as JSON) to configured webhook URLs from
// one background thread, so ingest never waits on a slow receiver. The queue is bounded
// (`max_queue`; the oldest notification is dropped and counted when full); each POST has
// timeouts and is retried up to 3 times with back-off. Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/json.h"

namespace gantry::monitoring {

class Notifier {
 public:
  explicit Notifier(std::vector<std::string> urls, size_t max_queue = 1000);
  ~Notifier();  // sends what is queued (bounded by the timeouts), then stops
  Notifier(const Notifier&) = delete;
  Notifier& operator=(const Notifier&) = delete;

  void Enqueue(core::json::object body);
  bool enabled() const { return !urls_.empty(); }
  int64_t sent() const { return sent_; }
  int64_t failed() const { return failed_; }
  int64_t dropped() const { return dropped_; }
  // Waits until the queue is empty (tests).
  void Flush();

 private:
  void Loop();

  std::vector<std::string> urls_;
  size_t max_queue_;
  std::mutex mu_;
  std::condition_variable cv_, idle_cv_;
  std::deque<std::string> queue_;
  bool stop_ = false, busy_ = false;
  std::atomic<int64_t> sent_{0}, failed_{0}, dropped_{0};
  std::thread thread_;
};

}  // namespace gantry::monitoring
