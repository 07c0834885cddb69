// Our own declarations of the part of NVML's C ABI that the agent uses (no NVIDIA headers are
// needed to build Gantry). Types, constants and signatures follow NVIDIA's published NVML API
// reference; only what the GPU collector calls is declared. The tests' fake libnvidia-ml.so.1
// (tests/support/fake_nvml) implements the same functions from recorded H100 readings.
#pragma once

#include <cstdint>

extern "C" {

typedef int nvmlReturn_t;  // an enum in NVML; int-sized
typedef struct nvmlDevice_st* nvmlDevice_t;
typedef struct nvmlEventSet_st* nvmlEventSet_t;

struct nvmlMemory_t {
  unsigned long long total, free, used;  // bytes
};

struct nvmlUtilization_t {
  unsigned int gpu, memory;  // percent over the last sample period
};

struct nvmlPciInfo_t {  // the _v3 layout
  char busIdLegacy[16];
  unsigned int domain, bus, device, pciDeviceId, pciSubSystemId;
  char busId[32];
};

struct nvmlProcessInfo_t {  // nvmlDeviceGetComputeRunningProcesses_v3
  unsigned int pid;
  unsigned long long usedGpuMemory;  // bytes
  unsigned int gpuInstanceId, computeInstanceId;
};

struct nvmlEventData_t {
  nvmlDevice_t device;
  unsigned long long eventType, eventData;
  unsigned int gpuInstanceId, computeInstanceId;
};

}  // extern "C"

namespace gantry::agent::nvml {

inline constexpr nvmlReturn_t kSuccess = 0;
inline constexpr nvmlReturn_t kErrorUninitialized = 1;
inline constexpr nvmlReturn_t kErrorInvalidArgument = 2;
inline constexpr nvmlReturn_t kErrorNotSupported = 3;
inline constexpr nvmlReturn_t kErrorNotFound = 6;
inline constexpr nvmlReturn_t kErrorInsufficientSize = 7;
inline constexpr nvmlReturn_t kErrorTimeout = 10;
inline constexpr nvmlReturn_t kErrorGpuIsLost = 15;
inline constexpr nvmlReturn_t kErrorUnknown = 999;

inline constexpr unsigned kTemperatureGpu = 0;
inline constexpr unsigned kClockGraphics = 0, kClockSm = 1, kClockMem = 2;
inline constexpr unsigned kMemoryErrorCorrected = 0, kMemoryErrorUncorrected = 1;
inline constexpr unsigned kVolatileEcc = 0, kAggregateEcc = 1;
inline constexpr unsigned kPageRetirementMultipleSingleBit = 0, kPageRetirementDoubleBit = 1;
inline constexpr unsigned kNvLinkMaxLinks = 18;
inline constexpr unsigned kNvLinkErrorReplay = 0, kNvLinkErrorRecovery = 1,
                          kNvLinkErrorCrcFlit = 2, kNvLinkErrorCrcData = 3;
inline constexpr unsigned long long kEventTypeXidCriticalError = 0x8;
inline constexpr unsigned kDeviceMigEnable = 1;

// Function pointer types, one per NVML entry point used.
using InitFn = nvmlReturn_t (*)();
using ShutdownFn = nvmlReturn_t (*)();
using ErrorStringFn = const char* (*)(nvmlReturn_t);
using SystemGetStringFn = nvmlReturn_t (*)(char*, unsigned int);
using DeviceGetCountFn = nvmlReturn_t (*)(unsigned int*);
using DeviceGetHandleByIndexFn = nvmlReturn_t (*)(unsigned int, nvmlDevice_t*);
using DeviceGetStringFn = nvmlReturn_t (*)(nvmlDevice_t, char*, unsigned int);
using DeviceGetPciInfoFn = nvmlReturn_t (*)(nvmlDevice_t, nvmlPciInfo_t*);
using DeviceGetMemoryInfoFn = nvmlReturn_t (*)(nvmlDevice_t, nvmlMemory_t*);
using DeviceGetUtilizationFn = nvmlReturn_t (*)(nvmlDevice_t, nvmlUtilization_t*);
using DeviceGetUintByTypeFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int, unsigned int*);
using DeviceGetUintFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int*);
using DeviceGetUllFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned long long*);
using DeviceGetPstateFn = nvmlReturn_t (*)(nvmlDevice_t, int*);
using DeviceGetEnableStatePairFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int*, unsigned int*);
using DeviceGetTotalEccErrorsFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int, unsigned int,
                                                   unsigned long long*);
using DeviceGetRetiredPagesFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int, unsigned int*,
                                                 unsigned long long*);
using DeviceGetRemappedRowsFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int*, unsigned int*,
                                                 unsigned int*, unsigned int*);
using DeviceGetProcessesFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int*, nvmlProcessInfo_t*);
using DeviceGetNvLinkStateFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int, unsigned int*);
using DeviceGetNvLinkErrorCounterFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int, unsigned int,
                                                       unsigned long long*);
using DeviceGetMigDeviceHandleByIndexFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned int,
                                                           nvmlDevice_t*);
using EventSetCreateFn = nvmlReturn_t (*)(nvmlEventSet_t*);
using DeviceRegisterEventsFn = nvmlReturn_t (*)(nvmlDevice_t, unsigned long long, nvmlEventSet_t);
using EventSetWaitFn = nvmlReturn_t (*)(nvmlEventSet_t, nvmlEventData_t*, unsigned int);
using EventSetFreeFn = nvmlReturn_t (*)(nvmlEventSet_t);

}  // namespace gantry::agent::nvml
