#include "agent/gpu_collector.h"

#include <array>
#include <optional>

#include "agent/cgroup.h"

namespace gantry::agent {

namespace {

constexpr size_t kMaxXidSeries = 256;  // bounded memory whatever the driver reports

std::string ReadString(nvml::DeviceGetStringFn fn, nvmlDevice_t d) {
  if (!fn) return {};
  char buf[128] = {};
  if (fn(d, buf, sizeof buf) != nvml::kSuccess) return {};
  buf[sizeof buf - 1] = 0;
  return buf;
}

// One scrape's readings of one GPU; unset where NVML says "not supported".
struct Reading {
  bool lost = false;
  std::optional<double> util_gpu, util_mem, fb_total, fb_free, fb_used, temp, power_w,
      power_limit_w, energy_mj, sm_clock, mem_clock, max_sm_clock, pstate, throttle, ecc_enabled,
      ecc_sbe_vol, ecc_dbe_vol, ecc_sbe_agg, ecc_dbe_agg, retired_sbe, retired_dbe, remap_corr,
      remap_unc, remap_pending, remap_failure, mig_mode, pcie_gen, pcie_width, nvlink_active,
      nvlink_crc_flit, nvlink_crc_data, nvlink_replay, nvlink_recovery;
  unsigned process_count = 0;
  std::array<nvmlProcessInfo_t, 64> processes{};
  struct Mig {
    std::string uuid, gi, ci;
    std::optional<double> fb_used, fb_total;
  };
  std::vector<Mig> migs;
};

bool Ok(nvmlReturn_t r, Reading& rd) {
  if (r == nvml::kErrorGpuIsLost) rd.lost = true;
  return r == nvml::kSuccess;
}

void Read(const Nvml& n, nvmlDevice_t d, Reading& rd) {
  unsigned u = 0, u2 = 0, u3 = 0, u4 = 0;
  unsigned long long ull = 0;
  if (n.utilization) {
    nvmlUtilization_t x{};
    if (Ok(n.utilization(d, &x), rd)) rd.util_gpu = x.gpu, rd.util_mem = x.memory;
  }
  if (n.memory_info) {
    nvmlMemory_t m{};
    if (Ok(n.memory_info(d, &m), rd)) {
      rd.fb_total = static_cast<double>(m.total);
      rd.fb_free = static_cast<double>(m.free);
      rd.fb_used = static_cast<double>(m.used);
    }
  }
  if (n.temperature && Ok(n.temperature(d, nvml::kTemperatureGpu, &u), rd)) rd.temp = u;
  if (n.power_usage && Ok(n.power_usage(d, &u), rd)) rd.power_w = u / 1000.0;
  if (n.power_limit && Ok(n.power_limit(d, &u), rd)) rd.power_limit_w = u / 1000.0;
  if (n.energy && Ok(n.energy(d, &ull), rd)) rd.energy_mj = static_cast<double>(ull);
  if (n.clock && Ok(n.clock(d, nvml::kClockSm, &u), rd)) rd.sm_clock = u;
  if (n.clock && Ok(n.clock(d, nvml::kClockMem, &u), rd)) rd.mem_clock = u;
  if (n.max_clock && Ok(n.max_clock(d, nvml::kClockSm, &u), rd)) rd.max_sm_clock = u;
  int ps = 0;
  if (n.pstate && Ok(n.pstate(d, &ps), rd)) rd.pstate = ps;
  if (n.throttle_reasons && Ok(n.throttle_reasons(d, &ull), rd)) {
    rd.throttle = static_cast<double>(ull);
  }
  if (n.ecc_mode && Ok(n.ecc_mode(d, &u, &u2), rd)) rd.ecc_enabled = u;
  if (n.ecc_errors) {
    auto ecc = [&](unsigned type, unsigned counter, std::optional<double>& out) {
      unsigned long long v = 0;
      if (Ok(n.ecc_errors(d, type, counter, &v), rd)) out = static_cast<double>(v);
    };
    ecc(nvml::kMemoryErrorCorrected, nvml::kVolatileEcc, rd.ecc_sbe_vol);
    ecc(nvml::kMemoryErrorUncorrected, nvml::kVolatileEcc, rd.ecc_dbe_vol);
    ecc(nvml::kMemoryErrorCorrected, nvml::kAggregateEcc, rd.ecc_sbe_agg);
    ecc(nvml::kMemoryErrorUncorrected, nvml::kAggregateEcc, rd.ecc_dbe_agg);
  }
  if (n.retired_pages) {
    unsigned count = 0;
    nvmlReturn_t r = n.retired_pages(d, nvml::kPageRetirementMultipleSingleBit, &count, nullptr);
    if (r == nvml::kSuccess || r == nvml::kErrorInsufficientSize) rd.retired_sbe = count;
    Ok(r, rd);
    count = 0;
    r = n.retired_pages(d, nvml::kPageRetirementDoubleBit, &count, nullptr);
    if (r == nvml::kSuccess || r == nvml::kErrorInsufficientSize) rd.retired_dbe = count;
    Ok(r, rd);
  }
  if (n.remapped_rows && Ok(n.remapped_rows(d, &u, &u2, &u3, &u4), rd)) {
    rd.remap_corr = u, rd.remap_unc = u2, rd.remap_pending = u3, rd.remap_failure = u4;
  }
  if (n.mig_mode && Ok(n.mig_mode(d, &u, &u2), rd)) rd.mig_mode = u;
  if (n.pcie_gen && Ok(n.pcie_gen(d, &u), rd)) rd.pcie_gen = u;
  if (n.pcie_width && Ok(n.pcie_width(d, &u), rd)) rd.pcie_width = u;
  if (n.nvlink_state) {
    double active = 0, flit = 0, data = 0, replay = 0, recovery = 0;
    bool any = false;
    for (unsigned link = 0; link < nvml::kNvLinkMaxLinks; ++link) {
      unsigned state = 0;
      if (n.nvlink_state(d, link, &state) != nvml::kSuccess) continue;
      any = true;
      if (!state) continue;
      active += 1;
      if (!n.nvlink_errors) continue;
      auto add = [&](unsigned counter, double& sum) {
        unsigned long long v = 0;
        if (n.nvlink_errors(d, link, counter, &v) == nvml::kSuccess) sum += static_cast<double>(v);
      };
      add(nvml::kNvLinkErrorCrcFlit, flit);
      add(nvml::kNvLinkErrorCrcData, data);
      add(nvml::kNvLinkErrorReplay, replay);
      add(nvml::kNvLinkErrorRecovery, recovery);
    }
    if (any) {
      rd.nvlink_active = active, rd.nvlink_crc_flit = flit, rd.nvlink_crc_data = data;
      rd.nvlink_replay = replay, rd.nvlink_recovery = recovery;
    }
  }
  if (n.compute_processes) {
    unsigned count = static_cast<unsigned>(rd.processes.size());
    nvmlReturn_t r = n.compute_processes(d, &count, rd.processes.data());
    if (r == nvml::kSuccess) rd.process_count = std::min<unsigned>(count, rd.processes.size());
    Ok(r, rd);
  }
  rd.migs.clear();
  if (rd.mig_mode.value_or(0) == nvml::kDeviceMigEnable && n.max_mig_devices && n.mig_handle) {
    unsigned max = 0;
    if (n.max_mig_devices(d, &max) == nvml::kSuccess) {
      for (unsigned i = 0; i < max && i < 16; ++i) {
        nvmlDevice_t mig = nullptr;
        if (n.mig_handle(d, i, &mig) != nvml::kSuccess) continue;
        Reading::Mig m;
        m.uuid = ReadString(n.uuid, mig);
        if (n.gpu_instance_id && n.gpu_instance_id(mig, &u) == nvml::kSuccess) {
          m.gi = std::to_string(u);
        }
        if (n.compute_instance_id && n.compute_instance_id(mig, &u) == nvml::kSuccess) {
          m.ci = std::to_string(u);
        }
        nvmlMemory_t mem{};
        if (n.memory_info && n.memory_info(mig, &mem) == nvml::kSuccess) {
          m.fb_used = static_cast<double>(mem.used);
          m.fb_total = static_cast<double>(mem.total);
        }
        rd.migs.push_back(std::move(m));
      }
    }
  }
}

}  // namespace

GpuCollector::GpuCollector(GpuCollectorOptions options) : options_(std::move(options)) {
  auto loaded = Nvml::Load(options_.library);
  if (!loaded) {
    status_ = loaded.error().message;
    return;
  }
  std::unique_ptr<Nvml> n = std::move(*loaded);
  char driver[96] = {};
  if (n->driver_version && n->driver_version(driver, sizeof driver) == nvml::kSuccess) {
    driver[sizeof driver - 1] = 0;
    driver_ = driver;
  }
  unsigned count = 0;
  nvmlReturn_t r = n->device_count(&count);
  if (r != nvml::kSuccess) {
    status_ = "nvmlDeviceGetCount_v2 failed: " + n->ErrorString(r);
    return;
  }
  for (unsigned i = 0; i < count && i < 64; ++i) {
    Gpu g;
    g.index = std::to_string(i);
    g.device = "nvidia" + g.index;
    if (n->handle_by_index(i, &g.handle) != nvml::kSuccess) g.handle = nullptr;
    if (g.handle) {
      g.uuid = ReadString(n->uuid, g.handle);
      g.name = ReadString(n->name, g.handle);
      g.serial = ReadString(n->serial, g.handle);
      g.vbios = ReadString(n->vbios, g.handle);
      nvmlPciInfo_t pci{};
      if (n->pci_info && n->pci_info(g.handle, &pci) == nvml::kSuccess) {
        pci.busId[sizeof pci.busId - 1] = 0;
        g.bus_id = pci.busId;
      }
    }
    gpus_.push_back(std::move(g));
  }
  last_xid_.assign(gpus_.size(), 0);
  status_ = "ok: " + std::to_string(gpus_.size()) + " GPU(s), driver " + driver_;
  nvml_ = std::move(n);
  if (options_.xid_events && nvml_->event_set_create && nvml_->register_events &&
      nvml_->event_set_wait && nvml_->event_set_create(&events_) == nvml::kSuccess) {
    bool registered = false;
    for (const auto& g : gpus_) {
      if (g.handle && nvml_->register_events(g.handle, nvml::kEventTypeXidCriticalError,
                                             events_) == nvml::kSuccess) {
        registered = true;
      }
    }
    if (registered) xid_thread_ = std::thread([this] { XidLoop(); });
  }
}

GpuCollector::~GpuCollector() {
  stop_ = true;
  if (xid_thread_.joinable()) xid_thread_.join();
  if (events_ && nvml_ && nvml_->event_set_free) nvml_->event_set_free(events_);
}

void GpuCollector::XidLoop() {
  while (!stop_) {
    nvmlEventData_t data{};
    nvmlReturn_t r = nvml_->event_set_wait(events_, &data, 500);
    if (r == nvml::kErrorTimeout) continue;
    if (r != nvml::kSuccess) {
      // A lost GPU or a driver fault: keep polling slowly rather than spin.
      for (int i = 0; i < 10 && !stop_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
      continue;
    }
    if (!(data.eventType & nvml::kEventTypeXidCriticalError)) continue;
    std::lock_guard lock(xid_mu_);
    for (size_t i = 0; i < gpus_.size(); ++i) {
      if (gpus_[i].handle != data.device) continue;
      last_xid_[i] = data.eventData;
      auto key = std::make_pair(i, data.eventData);
      auto it = xid_counts_.find(key);
      if (it != xid_counts_.end()) {
        ++it->second;
      } else if (xid_counts_.size() < kMaxXidSeries) {
        xid_counts_[key] = 1;
      }
    }
  }
}

void GpuCollector::Collect(MetricWriter& w) {
  if (!nvml_) return;
  thread_local std::vector<Reading> readings;
  readings.resize(gpus_.size());
  for (size_t i = 0; i < gpus_.size(); ++i) {
    readings[i] = Reading{};
    if (!gpus_[i].handle) {
      readings[i].lost = true;
      continue;
    }
    Read(*nvml_, gpus_[i].handle, readings[i]);
  }
  std::vector<std::array<Label, 6>> labels(gpus_.size());
  for (size_t i = 0; i < gpus_.size(); ++i) {
    const Gpu& g = gpus_[i];
    labels[i] = {Label{"gpu", g.index}, Label{"UUID", g.uuid}, Label{"pci_bus_id", g.bus_id},
                 Label{"device", g.device}, Label{"modelName", g.name},
                 Label{"Hostname", options_.hostname}};
  }
  auto family = [&](const char* name, const char* type, const char* help,
                    std::optional<double> Reading::*field, double scale = 1) {
    bool any = false;
    for (const auto& r : readings) any = any || (r.*field).has_value();
    if (!any) return;
    w.Family(name, type, help);
    for (size_t i = 0; i < readings.size(); ++i) {
      if ((readings[i].*field).has_value()) {
        double v = *(readings[i].*field);
        w.Sample(labels[i], {}, scale == 1 ? v : static_cast<double>(static_cast<long long>(v / scale)));
      }
    }
  };
  constexpr double kMiB = 1024.0 * 1024.0;
  family("DCGM_FI_DEV_GPU_UTIL", "gauge", "GPU utilization (in %).", &Reading::util_gpu);
  family("DCGM_FI_DEV_MEM_COPY_UTIL", "gauge", "Memory utilization (in %).", &Reading::util_mem);
  family("DCGM_FI_DEV_FB_TOTAL", "gauge", "Framebuffer memory total (in MiB).", &Reading::fb_total, kMiB);
  family("DCGM_FI_DEV_FB_FREE", "gauge", "Framebuffer memory free (in MiB).", &Reading::fb_free, kMiB);
  family("DCGM_FI_DEV_FB_USED", "gauge", "Framebuffer memory used (in MiB).", &Reading::fb_used, kMiB);
  family("gantry_gpu_memory_total_bytes", "gauge", "GPU memory total in bytes.", &Reading::fb_total);
  family("gantry_gpu_memory_used_bytes", "gauge", "GPU memory used in bytes.", &Reading::fb_used);
  family("DCGM_FI_DEV_GPU_TEMP", "gauge", "GPU temperature (in C).", &Reading::temp);
  family("DCGM_FI_DEV_POWER_USAGE", "gauge", "Power draw (in W).", &Reading::power_w);
  family("DCGM_FI_DEV_POWER_MGMT_LIMIT", "gauge", "Enforced power limit (in W).", &Reading::power_limit_w);
  family("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter",
         "Total energy consumption since boot (in mJ).", &Reading::energy_mj);
  family("DCGM_FI_DEV_SM_CLOCK", "gauge", "SM clock frequency (in MHz).", &Reading::sm_clock);
  family("DCGM_FI_DEV_MEM_CLOCK", "gauge", "Memory clock frequency (in MHz).", &Reading::mem_clock);
  family("DCGM_FI_DEV_MAX_SM_CLOCK", "gauge", "Maximum SM clock frequency (in MHz).", &Reading::max_sm_clock);
  family("DCGM_FI_DEV_PSTATE", "gauge", "Performance state (0 is the highest).", &Reading::pstate);
  family("DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", "gauge",
         "Current clock throttle reasons (bit mask of NVML clocks event reasons).", &Reading::throttle);
  family("DCGM_FI_DEV_ECC_CURRENT", "gauge", "ECC mode enabled (1) or disabled (0).", &Reading::ecc_enabled);
  family("DCGM_FI_DEV_ECC_SBE_VOL_TOTAL", "counter", "Total number of single-bit volatile ECC errors.", &Reading::ecc_sbe_vol);
  family("DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", "counter", "Total number of double-bit volatile ECC errors.", &Reading::ecc_dbe_vol);
  family("DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", "counter", "Total number of single-bit persistent ECC errors.", &Reading::ecc_sbe_agg);
  family("DCGM_FI_DEV_ECC_DBE_AGG_TOTAL", "counter", "Total number of double-bit persistent ECC errors.", &Reading::ecc_dbe_agg);
  family("DCGM_FI_DEV_RETIRED_SBE", "counter", "Total number of retired pages due to single-bit errors.", &Reading::retired_sbe);
  family("DCGM_FI_DEV_RETIRED_DBE", "counter", "Total number of retired pages due to double-bit errors.", &Reading::retired_dbe);
  family("DCGM_FI_DEV_CORRECTABLE_REMAPPED_ROWS", "counter", "Number of remapped rows for correctable errors.", &Reading::remap_corr);
  family("DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", "counter", "Number of remapped rows for uncorrectable errors.", &Reading::remap_unc);
  family("DCGM_FI_DEV_ROW_REMAP_PENDING", "gauge", "Whether a row remapping is pending (needs a GPU reset).", &Reading::remap_pending);
  family("DCGM_FI_DEV_ROW_REMAP_FAILURE", "gauge", "Whether remapping of rows has failed.", &Reading::remap_failure);
  family("DCGM_FI_DEV_MIG_MODE", "gauge", "MIG mode enabled (1) or disabled (0).", &Reading::mig_mode);
  family("DCGM_FI_DEV_PCIE_LINK_GEN", "gauge", "Current PCIe link generation.", &Reading::pcie_gen);
  family("DCGM_FI_DEV_PCIE_LINK_WIDTH", "gauge", "Current PCIe link width.", &Reading::pcie_width);
  family("gantry_gpu_nvlink_active_links", "gauge", "NVLink links in the active state.", &Reading::nvlink_active);
  family("DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", "counter", "Total number of NVLink flow-control CRC errors.", &Reading::nvlink_crc_flit);
  family("DCGM_FI_DEV_NVLINK_CRC_DATA_ERROR_COUNT_TOTAL", "counter", "Total number of NVLink data CRC errors.", &Reading::nvlink_crc_data);
  family("DCGM_FI_DEV_NVLINK_REPLAY_ERROR_COUNT_TOTAL", "counter", "Total number of NVLink retries.", &Reading::nvlink_replay);
  family("DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", "counter", "Total number of NVLink recovery errors.", &Reading::nvlink_recovery);

  w.Family("gantry_gpu_info", "gauge", "Static facts of each GPU (value 1).");
  for (size_t i = 0; i < gpus_.size(); ++i) {
    const Label extra[] = {{"serial", gpus_[i].serial}, {"vbios", gpus_[i].vbios},
                           {"driver_version", driver_}};
    w.Sample(labels[i], extra, 1);
  }
  w.Family("gantry_gpu_lost", "gauge",
           "1 when NVML reports the GPU lost (fallen off the bus) or its handle is gone.");
  for (size_t i = 0; i < gpus_.size(); ++i) w.Sample(labels[i], {}, readings[i].lost ? 1 : 0);

  {
    std::lock_guard lock(xid_mu_);
    w.Family("DCGM_FI_DEV_XID_ERRORS", "gauge", "Value of the last XID error encountered.");
    for (size_t i = 0; i < gpus_.size(); ++i) w.Sample(labels[i], {}, static_cast<double>(last_xid_[i]));
    w.Family("gantry_gpu_xid_errors_total", "counter", "XID errors seen by this agent, by XID code.");
    for (const auto& [key, count] : xid_counts_) {
      std::string xid = std::to_string(key.second);
      const Label extra[] = {{"xid", xid}};
      w.Sample(labels[key.first], extra, static_cast<double>(count));
    }
  }

  w.Family("gantry_gpu_process_memory_used_bytes", "gauge",
           "GPU memory used by each compute process, with its Slurm job or container.");
  for (size_t i = 0; i < readings.size(); ++i) {
    for (unsigned p = 0; p < readings[i].process_count; ++p) {
      const nvmlProcessInfo_t& info = readings[i].processes[p];
      Workload wl = WorkloadOfPid(options_.procfs, info.pid);
      std::string pid = std::to_string(info.pid);
      const Label extra[] = {{"pid", pid}, {"slurm_job", wl.slurm_job},
                             {"container", wl.container}, {"pod_uid", wl.pod_uid}};
      w.Sample(labels[i], extra, static_cast<double>(info.usedGpuMemory));
    }
  }

  w.Family("gantry_gpu_mig_instance_memory_used_bytes", "gauge",
           "Memory used in each MIG instance (GPU_I_ID, compute instance CI_ID).");
  for (size_t i = 0; i < readings.size(); ++i) {
    for (const auto& m : readings[i].migs) {
      const Label extra[] = {{"GPU_I_ID", m.gi}, {"CI_ID", m.ci}, {"mig_uuid", m.uuid}};
      w.Sample(labels[i], extra, m.fb_used.value_or(0));
    }
  }
  w.Family("gantry_gpu_devices", "gauge", "GPUs NVML listed when the agent started.");
  w.Sample(std::span<const Label>(), static_cast<double>(gpus_.size()));
}

}  // namespace gantry::agent
