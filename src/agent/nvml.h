// NVML loaded at run time with dlopen (default "libnvidia-ml.so.1"): a table of the entry points
// the GPU collector uses. Required entry points missing, or nvmlInit failing, make Load fail with
// a reason; optional ones are left null and their readings skipped. Thread-safe as NVML is.
#pragma once

#include <memory>
#include <string>

#include "agent/nvml_api.h"
#include "core/error.h"

namespace gantry::agent {

struct Nvml {
  // dlopen + dlsym + nvmlInit_v2. The handle is closed (after nvmlShutdown) by the destructor.
  static core::Result<std::unique_ptr<Nvml>> Load(const std::string& library);
  ~Nvml();
  Nvml(const Nvml&) = delete;
  Nvml& operator=(const Nvml&) = delete;

  std::string ErrorString(nvmlReturn_t r) const;

  nvml::ShutdownFn shutdown = nullptr;
  nvml::ErrorStringFn error_string = nullptr;
  nvml::SystemGetStringFn driver_version = nullptr;
  nvml::DeviceGetCountFn device_count = nullptr;
  nvml::DeviceGetHandleByIndexFn handle_by_index = nullptr;
  nvml::DeviceGetStringFn name = nullptr, uuid = nullptr, serial = nullptr, vbios = nullptr;
  nvml::DeviceGetPciInfoFn pci_info = nullptr;
  nvml::DeviceGetMemoryInfoFn memory_info = nullptr;
  nvml::DeviceGetUtilizationFn utilization = nullptr;
  nvml::DeviceGetUintByTypeFn temperature = nullptr, clock = nullptr, max_clock = nullptr,
                              nvlink_state = nullptr;
  nvml::DeviceGetUintFn power_usage = nullptr, power_limit = nullptr, pcie_gen = nullptr,
                        pcie_width = nullptr, max_mig_devices = nullptr,
                        gpu_instance_id = nullptr, compute_instance_id = nullptr;
  nvml::DeviceGetUllFn energy = nullptr, throttle_reasons = nullptr;
  nvml::DeviceGetPstateFn pstate = nullptr;
  nvml::DeviceGetEnableStatePairFn ecc_mode = nullptr, mig_mode = nullptr;
  nvml::DeviceGetTotalEccErrorsFn ecc_errors = nullptr;
  nvml::DeviceGetRetiredPagesFn retired_pages = nullptr;
  nvml::DeviceGetRemappedRowsFn remapped_rows = nullptr;
  nvml::DeviceGetProcessesFn compute_processes = nullptr;
  nvml::DeviceGetNvLinkErrorCounterFn nvlink_errors = nullptr;
  nvml::DeviceGetMigDeviceHandleByIndexFn mig_handle = nullptr;
  nvml::EventSetCreateFn event_set_create = nullptr;
  nvml::DeviceRegisterEventsFn register_events = nullptr;
  nvml::EventSetWaitFn event_set_wait = nullptr;
  nvml::EventSetFreeFn event_set_free = nullptr;

 private:
  Nvml() = default;
  void* handle_ = nullptr;
  bool initialised_ = false;
};

}  // namespace gantry::agent
