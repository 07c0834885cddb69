// Failed-login throttling, per account and per source address: after `max_failures` failures
// within `window`, further attempts are refused until the window has passed since the oldest
// counted failure. A success clears the account's failures. In memory, per replica: behind a
// load balancer each replica throttles on its own. Thread-safe.
#pragma once

#include <deque>
#include <map>
#include <mutex>
#include <string>

#include "core/clock.h"

namespace gantry::auth {

struct ThrottleOptions {
  int max_failures_per_account = 5;
  int max_failures_per_source = 20;
  int64_t window_nanos = 15LL * 60 * core::kNanosPerSecond;
};

class LoginThrottle {
 public:
  LoginThrottle(const core::Clock& clock, ThrottleOptions options = {})
      : clock_(clock), options_(options) {}
  // True when an attempt for (account, source) may proceed.
  bool Allow(const std::string& account, const std::string& source);
  void RecordFailure(const std::string& account, const std::string& source);
  void RecordSuccess(const std::string& account);

 private:
  bool Over(std::deque<core::UnixNanos>& q, int max, core::UnixNanos now);
  const core::Clock& clock_;
  ThrottleOptions options_;
  std::mutex mu_;
  std::map<std::string, std::deque<core::UnixNanos>> by_account_, by_source_;
};

}  // namespace gantry::auth
