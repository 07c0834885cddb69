#include "auth/throttle.h"

namespace gantry::auth {

bool LoginThrottle::Over(std::deque<core::UnixNanos>& q, int max, core::UnixNanos now) {
  while (!q.empty() && q.front() + options_.window_nanos <= now) q.pop_front();
  return static_cast<int>(q.size()) >= max;
}

bool LoginThrottle::Allow(const std::string& account, const std::string& source) {
  std::lock_guard lock(mu_);
  auto now = clock_.Now();
  return !Over(by_account_[account], options_.max_failures_per_account, now) &&
         !Over(by_source_[source], options_.max_failures_per_source, now);
}

void LoginThrottle::RecordFailure(const std::string& account, const std::string& source) {
  std::lock_guard lock(mu_);
  auto now = clock_.Now();
  by_account_[account].push_back(now);
  by_source_[source].push_back(now);
  if (by_account_.size() > 100000) by_account_.clear();  // bounded memory under a spray
  if (by_source_.size() > 100000) by_source_.clear();
}

void LoginThrottle::RecordSuccess(const std::string& account) {
  std::lock_guard lock(mu_);
  by_account_.erase(account);
}

}  // namespace gantry::auth
