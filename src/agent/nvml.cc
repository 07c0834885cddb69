#include "agent/nvml.h"

#include <dlfcn.h>

namespace gantry::agent {

namespace {

template <class Fn>
void Resolve(void* handle, const char* symbol, Fn& out) {
  out = reinterpret_cast<Fn>(dlsym(handle, symbol));
}

}  // namespace

core::Result<std::unique_ptr<Nvml>> Nvml::Load(const std::string& library) {
  std::unique_ptr<Nvml> n(new Nvml());
  n->handle_ = dlopen(library.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (!n->handle_) {
    const char* e = dlerror();
    return core::Unavailable("cannot load " + library + ": " + (e ? e : "unknown error"));
  }
  nvml::InitFn init = nullptr;
  Resolve(n->handle_, "nvmlInit_v2", init);
  void* h = n->handle_;
  Resolve(h, "nvmlShutdown", n->shutdown);
  Resolve(h, "nvmlErrorString", n->error_string);
  Resolve(h, "nvmlSystemGetDriverVersion", n->driver_version);
  Resolve(h, "nvmlDeviceGetCount_v2", n->device_count);
  Resolve(h, "nvmlDeviceGetHandleByIndex_v2", n->handle_by_index);
  if (!init || !n->shutdown || !n->device_count || !n->handle_by_index) {
    return core::Unavailable(library + " lacks nvmlInit_v2/nvmlDeviceGetCount_v2: not NVML");
  }
  Resolve(h, "nvmlDeviceGetName", n->name);
  Resolve(h, "nvmlDeviceGetUUID", n->uuid);
  Resolve(h, "nvmlDeviceGetSerial", n->serial);
  Resolve(h, "nvmlDeviceGetVbiosVersion", n->vbios);
  Resolve(h, "nvmlDeviceGetPciInfo_v3", n->pci_info);
  Resolve(h, "nvmlDeviceGetMemoryInfo", n->memory_info);
  Resolve(h, "nvmlDeviceGetUtilizationRates", n->utilization);
  Resolve(h, "nvmlDeviceGetTemperature", n->temperature);
  Resolve(h, "nvmlDeviceGetClockInfo", n->clock);
  Resolve(h, "nvmlDeviceGetMaxClockInfo", n->max_clock);
  Resolve(h, "nvmlDeviceGetNvLinkState", n->nvlink_state);
  Resolve(h, "nvmlDeviceGetPowerUsage", n->power_usage);
  Resolve(h, "nvmlDeviceGetEnforcedPowerLimit", n->power_limit);
  Resolve(h, "nvmlDeviceGetCurrPcieLinkGeneration", n->pcie_gen);
  Resolve(h, "nvmlDeviceGetCurrPcieLinkWidth", n->pcie_width);
  Resolve(h, "nvmlDeviceGetMaxMigDeviceCount", n->max_mig_devices);
  Resolve(h, "nvmlDeviceGetGpuInstanceId", n->gpu_instance_id);
  Resolve(h, "nvmlDeviceGetComputeInstanceId", n->compute_instance_id);
  Resolve(h, "nvmlDeviceGetTotalEnergyConsumption", n->energy);
  Resolve(h, "nvmlDeviceGetCurrentClocksThrottleReasons", n->throttle_reasons);
  Resolve(h, "nvmlDeviceGetPerformanceState", n->pstate);
  Resolve(h, "nvmlDeviceGetEccMode", n->ecc_mode);
  Resolve(h, "nvmlDeviceGetMigMode", n->mig_mode);
  Resolve(h, "nvmlDeviceGetTotalEccErrors", n->ecc_errors);
  Resolve(h, "nvmlDeviceGetRetiredPages", n->retired_pages);
  Resolve(h, "nvmlDeviceGetRemappedRows", n->remapped_rows);
  Resolve(h, "nvmlDeviceGetComputeRunningProcesses_v3", n->compute_processes);
  Resolve(h, "nvmlDeviceGetNvLinkErrorCounter", n->nvlink_errors);
  Resolve(h, "nvmlDeviceGetMigDeviceHandleByIndex", n->mig_handle);
  Resolve(h, "nvmlEventSetCreate", n->event_set_create);
  Resolve(h, "nvmlDeviceRegisterEvents", n->register_events);
  Resolve(h, "nvmlEventSetWait_v2", n->event_set_wait);
  Resolve(h, "nvmlEventSetFree", n->event_set_free);
  nvmlReturn_t r = init();
  if (r != nvml::kSuccess) {
    return core::Unavailable("nvmlInit_v2 failed: " + n->ErrorString(r));
  }
  n->initialised_ = true;
  return n;
}

Nvml::~Nvml() {
  if (initialised_ && shutdown) shutdown();
  if (handle_) dlclose(handle_);
}

std::string Nvml::ErrorString(nvmlReturn_t r) const {
  const char* s = error_string ? error_string(r) : nullptr;
  return s ? std::string(s) : "NVML error " + std::to_string(r);
}

}  // namespace gantry::agent
