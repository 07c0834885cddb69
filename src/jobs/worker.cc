#include "jobs/worker.h"

#include <spdlog/spdlog.h>
#include <unistd.h>

#include "core/crypto.h"

namespace gantry::jobs {

JobContext::JobContext(Job job, Service& service, std::string owner,
                       const std::atomic<bool>* stopping)
    : job_(std::move(job)), service_(service), owner_(std::move(owner)), stopping_(stopping) {
  auto p = core::ParseObject(job_.params);
  if (p) params_ = std::move(*p);
}

void JobContext::Progress(int percent, const std::string& message) {
  percent = std::clamp(percent, 0, 100);
  auto st = Store::SetProgress(service_.db(), job_.id, owner_, percent, message,
                               service_.clock().Now());
  if (!st) spdlog::warn("job {}: cannot record progress: {}", job_.id, st.error().message);
}

void JobContext::Log(const std::string& line) {
  auto st = Store::AppendLog(service_.db(), job_.id, line.substr(0, 4096), service_.clock().Now());
  if (!st) spdlog::warn("job {}: cannot append log: {}", job_.id, st.error().message);
}

bool JobContext::Sleep(std::chrono::milliseconds d) {
  std::unique_lock lock(mu_);
  return !cv_.wait_for(lock, d, [&] { return Cancelled(); });
}

WorkerPool::WorkerPool(Service& service, WorkerOptions options)
    : service_(service), options_(std::move(options)) {
  if (options_.owner.empty()) {
    char host[256] = {0};
    gethostname(host, sizeof host - 1);
    options_.owner = std::string(host) + ":" + std::to_string(getpid()) + ":" +
                     core::HexEncode(core::RandomBytes(3));
  }
}

WorkerPool::~WorkerPool() { Stop(); }

void WorkerPool::Start() {
  for (int i = 0; i < options_.concurrency; ++i) threads_.emplace_back([this] { WorkerLoop(); });
  threads_.emplace_back([this] { HeartbeatLoop(); });
  spdlog::info("job workers started: {} as {}", options_.concurrency, options_.owner);
}

void WorkerPool::Stop() {
  if (threads_.empty()) return;
  stopping_ = true;
  {
    std::lock_guard lock(mu_);
    for (auto& [_, ctx] : active_) ctx->cv_.notify_all();
  }
  cv_.notify_all();
  for (auto& t : threads_) t.join();
  threads_.clear();
}

void WorkerPool::Poke() {
  ++pokes_;
  cv_.notify_all();
}

void WorkerPool::RegisterMetrics(core::MetricsRegistry& metrics) {
  metrics.AddCollector([this](std::string& out) {
    auto counts = Store::CountByState(service_.db());
    std::vector<std::pair<std::string, double>> values;
    for (const char* s : {kQueued, kRunning, kSucceeded, kFailed, kCancelled}) {
      double n = 0;
      if (counts) {
        for (const auto& c : *counts) if (c.state == s) n = static_cast<double>(c.count);
      }
      values.emplace_back(std::string("{state=\"") + s + "\"}", n);
    }
    core::RenderGauge(out, "gantry_jobs", "Jobs in the database by state", values);
    core::RenderGauge(out, "gantry_job_workers_busy", "Job workers running a job in this process",
                      {{"", static_cast<double>(busy_.load())}});
  });
}

void WorkerPool::WorkerLoop() {
  while (!stopping_) {
    uint64_t seen = pokes_.load();
    auto now = service_.clock().Now();
    auto claimed = Store::Claim(service_.db(), options_.owner, now,
                                options_.lease.count() * core::kNanosPerMilli);
    if (!claimed) {
      spdlog::warn("job claim failed: {}", claimed.error().message);
    } else if (*claimed) {
      RunOne(std::move(**claimed));
      continue;
    }
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, options_.poll_interval,
                 [&] { return stopping_.load() || pokes_.load() != seen; });
  }
}

void WorkerPool::HeartbeatLoop() {
  // Often enough that a cancel request reaches a running handler within about a second.
  auto interval = std::min<std::chrono::milliseconds>(options_.lease / 3, std::chrono::milliseconds(1000));
  while (!stopping_) {
    {
      std::unique_lock lock(mu_);
      cv_.wait_for(lock, interval, [&] { return stopping_.load(); });
      if (stopping_) return;
    }
    std::vector<std::pair<int64_t, JobContext*>> active;
    {
      std::lock_guard lock(mu_);
      active.assign(active_.begin(), active_.end());
    }
    for (auto& [id, ctx] : active) {
      auto hb = Store::Heartbeat(service_.db(), id, options_.owner, service_.clock().Now(),
                                 options_.lease.count() * core::kNanosPerMilli);
      std::lock_guard lock(mu_);
      if (!active_.count(id)) continue;  // finished meanwhile
      if (!hb) {
        spdlog::warn("job {}: heartbeat failed: {}", id, hb.error().message);
      } else if (!*hb) {
        ctx->lost_ = true;
        ctx->cv_.notify_all();
      } else if (**hb) {
        ctx->cancelled_ = true;
        ctx->cv_.notify_all();
      }
    }
  }
}

void WorkerPool::RunOne(Job job) {
  const JobType* type = service_.registry().Find(job.type);
  JobContext ctx(job, service_, options_.owner, &stopping_);
  ctx.cancelled_ = job.cancel_requested;
  {
    std::lock_guard lock(mu_);
    active_[job.id] = &ctx;
  }
  ++busy_;
  core::Result<core::json::object> result = core::json::object{};
  if (!type) {
    result = core::FailedPrecondition("no handler for job type '" + job.type + "' in this build");
  } else if (job.attempts > job.max_attempts) {
    result = core::FailedPrecondition("gave up after " + std::to_string(job.max_attempts) +
                                      " attempts (the last worker died or lost its lease)");
  } else if (!ctx.Cancelled()) {
    try {
      result = type->run(ctx);
    } catch (const std::exception& e) {
      result = core::Internal(std::string("handler threw: ") + e.what());
    }
  }
  {
    std::lock_guard lock(mu_);
    active_.erase(job.id);
  }
  --busy_;

  auto now = service_.clock().Now();
  auto sys = core::RequestContext::System("job-worker");
  const std::string id = std::to_string(job.id);
  auto finish = [&]() -> core::Status {
    if (ctx.lost_) {
      spdlog::warn("job {}: lease lost; another worker owns it now", job.id);
      return {};
    }
    GANTRY_TRY(auto tx, service_.db().Begin());
    if (stopping_ && !ctx.cancelled_) {
      // Interrupted by shutdown: back to the queue, the attempt not spent.
      GANTRY_TRY_STATUS(tx->Exec(
          "UPDATE jobs SET state = 'queued', attempts = attempts - 1, lease_owner = NULL, "
          "lease_expires = NULL, run_after = ?, updated_at = ? WHERE id = ? AND lease_owner = ?",
          {now, now, job.id, options_.owner}));
      GANTRY_TRY_STATUS(Store::AppendLog(*tx, job.id, "interrupted by shutdown; re-queued", now));
      return tx->Commit();
    }
    std::string state;
    std::optional<std::string> res, err;
    if (ctx.cancelled_) {
      state = kCancelled;
      err = "cancelled";
    } else if (result) {
      state = kSucceeded;
      res = core::json::serialize(*result);
    } else {
      const auto& e = result.error();
      bool permanent = e.code == core::Code::kFailedPrecondition ||
                       e.code == core::Code::kInvalidArgument || e.code == core::Code::kNotFound;
      if (!permanent && job.attempts < job.max_attempts) {
        int64_t backoff = options_.backoff_base_nanos << std::min(job.attempts - 1, 20);
        backoff = std::min(backoff, options_.backoff_max_nanos);
        GANTRY_TRY(bool ok, Store::Requeue(*tx, job.id, options_.owner, e.message, now + backoff, now));
        if (ok) {
          GANTRY_TRY_STATUS(Store::AppendLog(*tx, job.id,
              "attempt " + std::to_string(job.attempts) + " failed: " + e.message + "; retry in " +
                  std::to_string(backoff / core::kNanosPerMilli) + " ms", now));
        }
        return tx->Commit();
      }
      state = kFailed;
      err = e.message;
    }
    int progress = state == kSucceeded ? 100 : -1;
    if (progress < 0) {
      GANTRY_TRY(auto cur, Store::Get(*tx, job.id));
      progress = cur ? cur->progress : 0;
    }
    GANTRY_TRY(bool ok, Store::Finish(*tx, job.id, options_.owner, state, progress, res, err, now));
    if (!ok) return {};
    GANTRY_TRY_STATUS(Store::AppendLog(*tx, job.id, state + (err ? ": " + *err : std::string()), now));
    core::json::object details{{"type", job.type}, {"attempts", job.attempts}};
    if (err) details["error"] = *err;
    GANTRY_TRY_STATUS(service_.audit().Append(
        *tx, audit::Service::MakeEvent(sys, "job." + state, "job", id, details,
                                       state == kFailed ? audit::kFailure : audit::kSuccess)));
    return tx->Commit();
  };
  if (auto st = finish(); !st) {
    spdlog::error("job {}: cannot record its outcome: {} (the lease will expire and it will be retried)",
                  job.id, st.error().message);
  }
}

}  // namespace gantry::jobs
