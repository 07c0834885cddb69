#include "agent/agent.h"

#include <sys/resource.h>

#include <chrono>
#include <cstdio>

namespace gantry::agent {

namespace {

double Seconds(std::chrono::steady_clock::duration d) {
  return std::chrono::duration<double>(d).count();
}

double ResidentBytes() {
  FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f) return 0;
  long pages = 0, resident = 0;
  int n = std::fscanf(f, "%ld %ld", &pages, &resident);
  std::fclose(f);
  return n == 2 ? static_cast<double>(resident) * static_cast<double>(sysconf(_SC_PAGESIZE)) : 0;
}

}  // namespace

Agent::Agent(AgentOptions options) : node_(std::move(options.node)) {
  if (options.gpu_enabled) {
    gpu_ = std::make_unique<GpuCollector>(std::move(options.gpu));
    gpu_status_ = gpu_->status();
  } else {
    gpu_status_ = "disabled by --no-gpu";
  }
  out_.reserve(64 * 1024);
}

const std::string& Agent::Render(Format format) {
  std::lock_guard lock(mu_);
  out_.clear();
  MetricWriter w(out_, format);
  auto t0 = std::chrono::steady_clock::now();
  node_.Collect(w);
  auto t1 = std::chrono::steady_clock::now();
  bool gpu_up = gpu_ && gpu_->Available();
  if (gpu_up) gpu_->Collect(w);
  auto t2 = std::chrono::steady_clock::now();
  ++scrapes_;

  w.Family("gantry_agent_collector_up", "gauge",
           "1 when the collector works; the gpu collector is 0 when NVML is absent.");
  w.Sample({{"collector", "node"}}, 1);
  w.Sample({{"collector", "gpu"}}, gpu_up ? 1 : 0);
  w.Family("gantry_agent_collector_duration_seconds", "gauge",
           "Time the collector took in this scrape.");
  w.Sample({{"collector", "node"}}, Seconds(t1 - t0));
  w.Sample({{"collector", "gpu"}}, Seconds(t2 - t1));
  w.Family("gantry_agent_scrapes_total", "counter", "Scrapes served since start.");
  w.Sample(std::span<const Label>(), static_cast<double>(scrapes_));
  struct rusage ru {};
  getrusage(RUSAGE_SELF, &ru);
  double cpu = static_cast<double>(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               static_cast<double>(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  w.Family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.");
  w.Sample(std::span<const Label>(), cpu);
  w.Family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.");
  w.Sample(std::span<const Label>(), ResidentBytes());
  w.Finish();
  return out_;
}

}  // namespace gantry::agent
