#include "monitoring/notifier.h"

#include <spdlog/spdlog.h>

#include "monitoring/outbound.h"

namespace gantry::monitoring {

Notifier::Notifier(std::vector<std::string> urls, size_t max_queue)
    : urls_(std::move(urls)), max_queue_(max_queue) {
  if (!urls_.empty()) thread_ = std::thread([this] { Loop(); });
}

Notifier::~Notifier() {
  {
    std::lock_guard lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void Notifier::Enqueue(core::json::object body) {
  if (urls_.empty()) return;
  {
    std::lock_guard lock(mu_);
    if (queue_.size() >= max_queue_) {
      queue_.pop_front();
      ++dropped_;
    }
    queue_.push_back(core::ToJson(body));
  }
  cv_.notify_one();
}

void Notifier::Flush() {
  std::unique_lock lock(mu_);
  idle_cv_.wait(lock, [&] { return (queue_.empty() && !busy_) || urls_.empty(); });
}

void Notifier::Loop() {
  for (;;) {
    std::string body;
    {
      std::unique_lock lock(mu_);
      busy_ = false;
      idle_cv_.notify_all();
      cv_.wait(lock, [&] { return stop_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping and drained
      body = std::move(queue_.front());
      queue_.pop_front();
      busy_ = true;
    }
    for (const auto& url : urls_) {
      bool ok = false;
      for (int attempt = 0; attempt < 3 && !ok; ++attempt) {
        if (attempt) std::this_thread::sleep_for(std::chrono::milliseconds(200 << attempt));
        OutboundRequest r;
        r.method = "POST";
        r.url = url;
        r.body = body;
        r.headers = {"Content-Type: application/json"};
        r.max_answer = 64 << 10;
        auto a = Send(r);
        ok = a && a->status >= 200 && a->status < 300;
        if (!ok) {
          spdlog::warn("incident notification to {} failed: {}", url,
                       a ? "HTTP " + std::to_string(a->status) : a.error().message);
        }
      }
      ok ? ++sent_ : ++failed_;
    }
  }
}

}  // namespace gantry::monitoring
