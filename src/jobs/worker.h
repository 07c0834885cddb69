// The worker pool: claims runnable jobs with a lease, runs their handlers, heartbeats the lease
// (and picks up cancellation) while they run, retries failures with exponential back-off, and
// records the outcome. A job whose worker died is reclaimed when its lease expires, so a restart
// loses no job. Stop() interrupts running handlers and puts their jobs back in the queue without
// spending an attempt.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "core/metrics.h"
#include "jobs/service.h"

namespace gantry::jobs {

struct WorkerOptions {
  int concurrency = 4;
  std::chrono::milliseconds poll_interval{500};
  std::chrono::milliseconds lease{30'000};
  std::string owner;  // empty: host:pid:random
  int64_t backoff_base_nanos = 2 * core::kNanosPerSecond;
  int64_t backoff_max_nanos = 300 * core::kNanosPerSecond;
};

class JobContext {
 public:
  const Job& job() const { return job_; }
  const core::json::object& params() const { return params_; }
  // Records progress (0..100) and a short status message.
  void Progress(int percent, const std::string& message);
  void Log(const std::string& line);
  // True once cancellation was requested, the lease was lost or the pool is stopping.
  bool Cancelled() const { return cancelled_.load() || lost_.load() || stopping_->load(); }
  // Sleeps up to `d`; false when interrupted by cancellation.
  bool Sleep(std::chrono::milliseconds d);

 private:
  friend class WorkerPool;
  JobContext(Job job, Service& service, std::string owner, const std::atomic<bool>* stopping);
  Job job_;
  core::json::object params_;
  Service& service_;
  std::string owner_;
  const std::atomic<bool>* stopping_;
  std::atomic<bool> cancelled_{false};
  std::atomic<bool> lost_{false};
  std::mutex mu_;
  std::condition_variable cv_;
};

class WorkerPool {
 public:
  WorkerPool(Service& service, WorkerOptions options);
  ~WorkerPool();
  void Start();
  void Stop();
  // Wakes idle workers now (after an enqueue in this process).
  void Poke();
  void RegisterMetrics(core::MetricsRegistry& metrics);
  const std::string& owner() const { return options_.owner; }

 private:
  void WorkerLoop();
  void HeartbeatLoop();
  void RunOne(Job job);
  Service& service_;
  WorkerOptions options_;
  std::atomic<bool> stopping_{false};
  std::vector<std::thread> threads_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<int64_t, JobContext*> active_;
  std::atomic<int> busy_{0};
  std::atomic<uint64_t> pokes_{0};
};

}  // namespace gantry::jobs
