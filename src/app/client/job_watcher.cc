#include "app/client/job_watcher.h"

#include <algorithm>
#include <thread>

#include "app/client/output.h"

namespace gantry::app::client {

namespace json = core::json;

namespace {

constexpr int kBarWidth = 30;
// Consecutive failed polls tolerated (a server restart, a load-balancer blip) before giving up.
constexpr int kMaxPollFailures = 10;

std::string Str(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return Sanitize(it->value().get_string());
}

int64_t Int(const json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end()) return 0;
  if (it->value().is_int64()) return it->value().get_int64();
  if (it->value().is_uint64()) return static_cast<int64_t>(it->value().get_uint64());
  return 0;
}

// Cuts `s` to at most `width` characters on screen.
std::string Truncate(std::string s, size_t width) {
  if (DisplayWidth(s) <= width) return s;
  size_t n = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    if ((static_cast<unsigned char>(s[i]) & 0xC0) == 0x80) continue;
    if (n == width) {
      s.resize(i);
      break;
    }
    ++n;
  }
  return s;
}

}  // namespace

bool IsFinalJobState(std::string_view state) {
  return state == "succeeded" || state == "failed" || state == "cancelled";
}

std::string ProgressBar(int percent, int width) {
  percent = std::clamp(percent, 0, 100);
  int filled = percent * width / 100;
  return "[" + std::string(static_cast<size_t>(filled), '#') +
         std::string(static_cast<size_t>(width - filled), '.') + "]";
}

std::string JobWatcher::StatusLine(const json::object& job) const {
  std::string state = Str(job, "state");
  std::string message = Str(job, "message");
  int progress = static_cast<int>(std::clamp<int64_t>(Int(job, "progress"), 0, 100));
  std::string what = message.empty() ? state : message;
  if (state != "running" && !message.empty()) what = state + ": " + message;
  if (!options_.tty) {
    return "job " + std::to_string(Int(job, "id")) + ": " + state + " " + std::to_string(progress) +
           "%" + (message.empty() ? "" : " " + message);
  }
  std::string pct = std::to_string(progress);
  pct.insert(0, 3 - pct.size(), ' ');
  return ProgressBar(progress, kBarWidth) + " " + pct + "%  " + what;
}

void JobWatcher::ShowNewLog(const json::object& job) {
  auto it = job.find("log");
  if (it == job.end() || !it->value().is_array()) return;
  const json::array& log = it->value().get_array();
  size_t start = 0;
  if (log_seen_) {
    // The answer holds the last N lines; continue after the last line already shown. When it
    // is gone from the window (more than N new lines in one interval), show the whole window.
    for (size_t i = log.size(); i-- > 0;) {
      if (!log[i].is_object()) continue;
      const auto& e = log[i].get_object();
      if (Str(e, "time") == last_log_time_ && Str(e, "line") == last_log_line_) {
        start = i + 1;
        break;
      }
    }
  }
  for (size_t i = start; i < log.size(); ++i) {
    if (!log[i].is_object()) continue;
    const auto& e = log[i].get_object();
    if (options_.tty && bar_drawn_) out_ << "\r\x1b[K";
    bar_drawn_ = false;
    last_log_time_ = Str(e, "time");
    last_log_line_ = Str(e, "line");
    log_seen_ = true;
    out_ << last_log_time_ << "  " << last_log_line_ << '\n';
  }
}

void JobWatcher::Show(const json::object& job) {
  ShowNewLog(job);
  std::string status = StatusLine(job);
  if (options_.tty) {
    size_t width = static_cast<size_t>(std::max(options_.terminal_width - 1, 20));
    out_ << "\r\x1b[K" << Truncate(status, width) << std::flush;
    bar_drawn_ = true;
  } else if (status != last_status_) {
    out_ << status << '\n' << std::flush;
  }
  last_status_ = status;
}

void JobWatcher::EndLine() {
  if (options_.tty && bar_drawn_) out_ << '\n' << std::flush;
  bar_drawn_ = false;
}

core::Result<json::object> JobWatcher::Watch(ApiClient& api, int64_t id,
                                             const std::atomic<bool>& stop) {
  const std::string path = "/api/v1/jobs/" + std::to_string(id);
  json::object last;
  int failures = 0;
  while (!stop.load()) {
    auto r = api.Get(path);
    if (stop.load()) break;
    if (!r) {
      bool transient = r.error().code == core::Code::kUnavailable ||
                       r.error().code == core::Code::kDeadlineExceeded;
      if (!transient || ++failures > kMaxPollFailures) {
        EndLine();
        return r.error();
      }
    } else if (!r->is_object()) {
      EndLine();
      return core::Unavailable("unexpected answer from " + api.server() + " for job " +
                               std::to_string(id));
    } else {
      failures = 0;
      last = std::move(r->as_object());
      Show(last);
      if (IsFinalJobState(Str(last, "state"))) break;
    }
    auto until = std::chrono::steady_clock::now() + options_.interval;
    while (!stop.load() && std::chrono::steady_clock::now() < until) {
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  EndLine();
  return last;
}

}  // namespace gantry::app::client
