// The GPU collector: NVML readings exposed under dcgm-exporter's metric names and labels
// (DCGM_FI_DEV_GPU_UTIL{gpu,UUID,pci_bus_id,device,modelName,Hostname}) so that existing
// dashboards and rules work, plus gantry_gpu_* series for what dcgm-exporter lacks (bytes,
// XID counts per code, per-process memory mapped to Slurm jobs and containers, MIG instances,
// lost GPUs). Nothing runs between scrapes except one thread blocked in NVML's XID event wait.
// Without NVML the collector is "absent": Available() is false and Collect writes nothing.
// Collect is called from one thread at a time.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "agent/exposition.h"
#include "agent/nvml.h"

namespace gantry::agent {

struct GpuCollectorOptions {
  std::string library = "libnvidia-ml.so.1";
  std::string hostname;
  std::string procfs = "/proc";  // for /proc/<pid>/cgroup of GPU processes
  bool xid_events = true;
};

class GpuCollector {
 public:
  explicit GpuCollector(GpuCollectorOptions options);
  ~GpuCollector();
  GpuCollector(const GpuCollector&) = delete;
  GpuCollector& operator=(const GpuCollector&) = delete;

  bool Available() const { return nvml_ != nullptr; }
  const std::string& status() const { return status_; }  // why absent, or "ok: N GPUs"
  void Collect(MetricWriter& w);

 private:
  struct Gpu {
    nvmlDevice_t handle = nullptr;
    std::string index, uuid, name, serial, bus_id, device, vbios;
  };
  void XidLoop();

  GpuCollectorOptions options_;
  std::unique_ptr<Nvml> nvml_;
  std::string status_, driver_;
  std::vector<Gpu> gpus_;
  nvmlEventSet_t events_ = nullptr;
  std::atomic<bool> stop_{false};
  std::thread xid_thread_;
  std::mutex xid_mu_;
  std::map<std::pair<size_t, unsigned long long>, unsigned long long> xid_counts_;
  std::vector<unsigned long long> last_xid_;
};

}  // namespace gantry::agent
