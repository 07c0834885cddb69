// JobWatcher: follows one job until it reaches a final state, for `gantry jobs watch` and
// `gantry jobs run --watch`.
//
// It polls GET /api/v1/jobs/{id} and prints the log lines it has not shown yet, oldest first.
// On a terminal it keeps a progress bar on the last line, redrawn in place:
//   \r[#############.................]  45%  copying image
// Elsewhere (a pipe, a CI log) it prints one line per change of state, progress or message:
//   job 12: running 45% copying image
// Not thread-safe; one watcher per job.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <ostream>
#include <string>
#include <string_view>

#include "app/client/api_client.h"
#include "core/json.h"

namespace gantry::app::client {

bool IsFinalJobState(std::string_view state);

// "[#########.....]": `width` cells between the brackets; percent is clamped to 0..100.
std::string ProgressBar(int percent, int width);

class JobWatcher {
 public:
  struct Options {
    bool tty = false;
    int terminal_width = 80;
    std::chrono::milliseconds interval{500};
  };

  JobWatcher(std::ostream& out, Options options) : out_(out), options_(options) {}

  // Polls until the job is final, `stop` becomes true (returns the last job seen), or a request
  // fails. The result is the last job object received.
  core::Result<core::json::object> Watch(ApiClient& api, int64_t id, const std::atomic<bool>& stop);

  // Shows one poll's answer: new log lines, then the status. Exposed for tests.
  void Show(const core::json::object& job);
  // Ends the progress line (on a terminal) so that what follows starts on a new line.
  void EndLine();

 private:
  void ShowNewLog(const core::json::object& job);
  std::string StatusLine(const core::json::object& job) const;

  std::ostream& out_;
  Options options_;
  bool bar_drawn_ = false;
  std::string last_status_;
  std::string last_log_time_;
  std::string last_log_line_;
  bool log_seen_ = false;
};

}  // namespace gantry::app::client
