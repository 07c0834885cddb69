// A stand-in libnvidia-ml.so.1 for tests (no GPU here): it implements the NVML entry points the
// agent uses (declared in src/agent/nvml_api.h) by replaying a recorded NVML dump, such as the
// real H100 readings in tests/data/nvml-h100/nvml-dump*.json. This is a mock of the driver,
// used because no NVIDIA GPU or driver can run on the test machines; the values are real.
//
//   GANTRY_FAKE_NVML_DUMP=path/to/nvml-dump.json   the readings (required; nvmlInit fails without)
//   GANTRY_FAKE_NVML_XID=0:79,0:48                  XID events delivered once each, in order
//
// Readings missing from the dump, or recorded as {"error": ...}, answer NOT_SUPPORTED, as NVML
// did on the recording machine. A GPU with "lost": true answers GPU_IS_LOST to every reading
// (its identity strings stay readable, as the agent caches them at start).
#include <boost/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <ctime>
#include <cstring>
#include <fstream>
#include <mutex>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include "agent/nvml_api.h"

namespace json = boost::json;
namespace nv = gantry::agent::nvml;

namespace {

struct FakeDevice {
  json::object data;
  bool lost = false;
  bool mig = false;     // a MIG child device
  size_t parent = 0;
};

struct State {
  std::mutex mu;
  bool initialised = false;
  json::object root;
  std::vector<FakeDevice> devices;  // GPUs first, then MIG children
  size_t gpu_count = 0;
  std::vector<std::pair<unsigned, unsigned long long>> xids;  // (gpu, xid)
  size_t next_xid = 0;
};

State& S() {
  static State s;
  return s;
}

FakeDevice* Dev(nvmlDevice_t d) {
  auto i = reinterpret_cast<uintptr_t>(d);
  if (i == 0 || i > S().devices.size()) return nullptr;
  return &S().devices[i - 1];
}

nvmlDevice_t Handle(size_t index) { return reinterpret_cast<nvmlDevice_t>(index + 1); }

const json::value* Field(nvmlDevice_t d, const char* key, nvmlReturn_t& r) {
  FakeDevice* dev = Dev(d);
  if (!dev) {
    r = nv::kErrorInvalidArgument;
    return nullptr;
  }
  // A lost GPU still names itself (the agent reads identity at start, before the loss), but
  // every reading fails as NVML's do once a GPU has fallen off the bus.
  static const std::string_view kIdentity[] = {"name", "uuid", "serial", "vbios", "pci"};
  bool identity = std::find(std::begin(kIdentity), std::end(kIdentity), std::string_view(key)) !=
                  std::end(kIdentity);
  if (dev->lost && !identity) {
    r = nv::kErrorGpuIsLost;
    return nullptr;
  }
  const json::value* v = dev->data.if_contains(key);
  if (!v || (v->is_object() && v->as_object().contains("error"))) {
    r = nv::kErrorNotSupported;
    return nullptr;
  }
  r = nv::kSuccess;
  return v;
}

unsigned long long U(const json::value& v) {
  if (v.is_uint64()) return v.as_uint64();
  if (v.is_int64()) return static_cast<unsigned long long>(v.as_int64());
  if (v.is_double()) return static_cast<unsigned long long>(v.as_double());
  return 0;
}

template <class T>
nvmlReturn_t Scalar(nvmlDevice_t d, const char* key, T* out) {
  if (!out) return nv::kErrorInvalidArgument;
  nvmlReturn_t r;
  const json::value* v = Field(d, key, r);
  if (!v) return r;
  *out = static_cast<T>(U(*v));
  return nv::kSuccess;
}

nvmlReturn_t Pair(nvmlDevice_t d, const char* key, unsigned* a, unsigned* b) {
  nvmlReturn_t r;
  const json::value* v = Field(d, key, r);
  if (!v) return r;
  if (!v->is_array() || v->as_array().size() < 2) return nv::kErrorNotSupported;
  *a = static_cast<unsigned>(U(v->as_array()[0]));
  *b = static_cast<unsigned>(U(v->as_array()[1]));
  return nv::kSuccess;
}

nvmlReturn_t String(const std::string& s, char* buf, unsigned len) {
  if (!buf || len == 0) return nv::kErrorInvalidArgument;
  if (s.size() + 1 > len) return nv::kErrorInsufficientSize;
  std::memcpy(buf, s.c_str(), s.size() + 1);
  return nv::kSuccess;
}

nvmlReturn_t StringField(nvmlDevice_t d, const char* key, char* buf, unsigned len) {
  nvmlReturn_t r;
  const json::value* v = Field(d, key, r);
  if (!v) return r;
  if (!v->is_string()) return nv::kErrorNotSupported;
  return String(std::string(v->as_string()), buf, len);
}

}  // namespace

extern "C" {

nvmlReturn_t nvmlInit_v2() {
  State& s = S();
  std::lock_guard lock(s.mu);
  const char* path = std::getenv("GANTRY_FAKE_NVML_DUMP");
  if (!path) return nv::kErrorUnknown;
  std::ifstream in(path);
  if (!in) return nv::kErrorUnknown;
  std::stringstream ss;
  ss << in.rdbuf();
  boost::system::error_code ec;
  json::value root = json::parse(ss.str(), ec);
  if (ec || !root.is_object()) return nv::kErrorUnknown;
  s.root = root.as_object();
  s.devices.clear();
  const json::array& gpus = s.root["gpus"].as_array();
  for (const auto& g : gpus) {
    FakeDevice d;
    d.data = g.as_object();
    d.lost = d.data.contains("lost") && d.data["lost"].as_bool();
    s.devices.push_back(std::move(d));
  }
  s.gpu_count = s.devices.size();
  for (size_t i = 0; i < s.gpu_count; ++i) {
    if (const json::value* migs = s.devices[i].data.if_contains("mig_devices")) {
      for (const auto& m : migs->as_array()) {
        FakeDevice d;
        d.data = m.as_object();
        d.mig = true;
        d.parent = i;
        s.devices.push_back(std::move(d));
      }
    }
  }
  s.xids.clear();
  s.next_xid = 0;
  if (const char* x = std::getenv("GANTRY_FAKE_NVML_XID")) {
    std::string spec = x;
    std::stringstream items(spec);
    std::string item;
    while (std::getline(items, item, ',')) {
      size_t colon = item.find(':');
      if (colon == std::string::npos) continue;
      s.xids.emplace_back(std::stoul(item.substr(0, colon)), std::stoull(item.substr(colon + 1)));
    }
  }
  s.initialised = true;
  return nv::kSuccess;
}

nvmlReturn_t nvmlShutdown() {
  S().initialised = false;
  return nv::kSuccess;
}

const char* nvmlErrorString(nvmlReturn_t r) {
  switch (r) {
    case nv::kSuccess: return "Success";
    case nv::kErrorNotSupported: return "Not Supported";
    case nv::kErrorGpuIsLost: return "GPU is lost";
    case nv::kErrorTimeout: return "Timeout";
    default: return "Unknown Error";
  }
}

nvmlReturn_t nvmlSystemGetDriverVersion(char* buf, unsigned len) {
  const json::value* v = S().root.if_contains("driver");
  return String(v && v->is_string() ? std::string(v->as_string()) : "", buf, len);
}

nvmlReturn_t nvmlDeviceGetCount_v2(unsigned* count) {
  if (!S().initialised) return nv::kErrorUninitialized;
  *count = static_cast<unsigned>(S().gpu_count);
  return nv::kSuccess;
}

nvmlReturn_t nvmlDeviceGetHandleByIndex_v2(unsigned index, nvmlDevice_t* d) {
  if (index >= S().gpu_count) return nv::kErrorInvalidArgument;
  *d = Handle(index);
  return nv::kSuccess;
}

nvmlReturn_t nvmlDeviceGetName(nvmlDevice_t d, char* b, unsigned n) { return StringField(d, "name", b, n); }
nvmlReturn_t nvmlDeviceGetUUID(nvmlDevice_t d, char* b, unsigned n) { return StringField(d, "uuid", b, n); }
nvmlReturn_t nvmlDeviceGetSerial(nvmlDevice_t d, char* b, unsigned n) { return StringField(d, "serial", b, n); }
nvmlReturn_t nvmlDeviceGetVbiosVersion(nvmlDevice_t d, char* b, unsigned n) { return StringField(d, "vbios", b, n); }

nvmlReturn_t nvmlDeviceGetPciInfo_v3(nvmlDevice_t d, nvmlPciInfo_t* p) {
  nvmlReturn_t r;
  const json::value* v = Field(d, "pci", r);
  if (!v) return r;
  const json::object& o = v->as_object();
  std::memset(p, 0, sizeof *p);
  std::string bus = std::string(o.at("busId").as_string());
  std::string legacy = std::string(o.at("busIdLegacy").as_string());
  std::strncpy(p->busId, bus.c_str(), sizeof p->busId - 1);
  std::strncpy(p->busIdLegacy, legacy.c_str(), sizeof p->busIdLegacy - 1);
  p->domain = static_cast<unsigned>(U(o.at("domain")));
  p->bus = static_cast<unsigned>(U(o.at("bus")));
  p->device = static_cast<unsigned>(U(o.at("device")));
  p->pciDeviceId = static_cast<unsigned>(U(o.at("pciDeviceId")));
  p->pciSubSystemId = static_cast<unsigned>(U(o.at("pciSubSystemId")));
  return nv::kSuccess;
}

nvmlReturn_t nvmlDeviceGetMemoryInfo(nvmlDevice_t d, nvmlMemory_t* m) {
  nvmlReturn_t r;
  const json::value* v = Field(d, "memory", r);
  if (!v) return r;
  const json::object& o = v->as_object();
  m->total = U(o.at("total"));
  m->free = U(o.at("free"));
  m->used = U(o.at("used"));
  return nv::kSuccess;
}

nvmlReturn_t nvmlDeviceGetUtilizationRates(nvmlDevice_t d, nvmlUtilization_t* u) {
  nvmlReturn_t r;
  const json::value* v = Field(d, "utilization", r);
  if (!v) return r;
  u->gpu = static_cast<unsigned>(U(v->as_object().at("gpu")));
  u->memory = static_cast<unsigned>(U(v->as_object().at("memory")));
  return nv::kSuccess;
}

nvmlReturn_t nvmlDeviceGetTemperature(nvmlDevice_t d, unsigned type, unsigned* t) {
  if (type != nv::kTemperatureGpu) return nv::kErrorInvalidArgument;
  return Scalar(d, "temperature_gpu", t);
}

nvmlReturn_t nvmlDeviceGetPowerUsage(nvmlDevice_t d, unsigned* p) { return Scalar(d, "power_mw", p); }
nvmlReturn_t nvmlDeviceGetEnforcedPowerLimit(nvmlDevice_t d, unsigned* p) { return Scalar(d, "power_limit_mw", p); }
nvmlReturn_t nvmlDeviceGetTotalEnergyConsumption(nvmlDevice_t d, unsigned long long* e) { return Scalar(d, "energy_mj", e); }
nvmlReturn_t nvmlDeviceGetCurrPcieLinkGeneration(nvmlDevice_t d, unsigned* g) { return Scalar(d, "pcie_link_gen", g); }
nvmlReturn_t nvmlDeviceGetCurrPcieLinkWidth(nvmlDevice_t d, unsigned* w) { return Scalar(d, "pcie_link_width", w); }
nvmlReturn_t nvmlDeviceGetCurrentClocksThrottleReasons(nvmlDevice_t d, unsigned long long* r) { return Scalar(d, "throttle_reasons", r); }
nvmlReturn_t nvmlDeviceGetPerformanceState(nvmlDevice_t d, int* p) { return Scalar(d, "pstate", p); }
nvmlReturn_t nvmlDeviceGetEccMode(nvmlDevice_t d, unsigned* c, unsigned* p) { return Pair(d, "ecc_mode", c, p); }
nvmlReturn_t nvmlDeviceGetMigMode(nvmlDevice_t d, unsigned* c, unsigned* p) { return Pair(d, "mig_mode", c, p); }

nvmlReturn_t nvmlDeviceGetClockInfo(nvmlDevice_t d, unsigned type, unsigned* mhz) {
  if (type == nv::kClockSm) return Scalar(d, "clock_sm_mhz", mhz);
  if (type == nv::kClockMem) return Scalar(d, "clock_mem_mhz", mhz);
  return nv::kErrorNotSupported;
}

nvmlReturn_t nvmlDeviceGetMaxClockInfo(nvmlDevice_t d, unsigned type, unsigned* mhz) {
  if (type == nv::kClockSm) return Scalar(d, "max_clock_sm_mhz", mhz);
  return nv::kErrorNotSupported;
}

nvmlReturn_t nvmlDeviceGetTotalEccErrors(nvmlDevice_t d, unsigned type, unsigned counter,
                                         unsigned long long* count) {
  const char* key = type == nv::kMemoryErrorUncorrected
                        ? (counter == nv::kVolatileEcc ? "ecc_volatile_uncorrected" : "ecc_aggregate_uncorrected")
                        : (counter == nv::kVolatileEcc ? "ecc_volatile_corrected" : "ecc_aggregate_corrected");
  return Scalar(d, key, count);
}

nvmlReturn_t nvmlDeviceGetRetiredPages(nvmlDevice_t d, unsigned cause, unsigned* count,
                                       unsigned long long*) {
  return Scalar(d, cause == nv::kPageRetirementDoubleBit ? "retired_pages_dbe" : "retired_pages_sbe", count);
}

nvmlReturn_t nvmlDeviceGetRemappedRows(nvmlDevice_t d, unsigned* corr, unsigned* unc,
                                       unsigned* pending, unsigned* failure) {
  nvmlReturn_t r;
  const json::value* v = Field(d, "remapped_rows", r);
  if (!v) return r;
  const json::array& a = v->as_array();
  if (a.size() < 4) return nv::kErrorNotSupported;
  *corr = static_cast<unsigned>(U(a[0]));
  *unc = static_cast<unsigned>(U(a[1]));
  *pending = static_cast<unsigned>(U(a[2]));
  *failure = static_cast<unsigned>(U(a[3]));
  return nv::kSuccess;
}

nvmlReturn_t nvmlDeviceGetComputeRunningProcesses_v3(nvmlDevice_t d, unsigned* count,
                                                     nvmlProcessInfo_t* infos) {
  nvmlReturn_t r;
  const json::value* v = Field(d, "processes", r);
  if (!v) return r;
  const json::array& a = v->as_array();
  if (*count < a.size()) {
    *count = static_cast<unsigned>(a.size());
    return nv::kErrorInsufficientSize;
  }
  *count = static_cast<unsigned>(a.size());
  for (size_t i = 0; i < a.size(); ++i) {
    const json::object& p = a[i].as_object();
    infos[i].pid = static_cast<unsigned>(U(p.at("pid")));
    infos[i].usedGpuMemory = U(p.at("usedGpuMemory"));
    infos[i].gpuInstanceId = static_cast<unsigned>(U(p.at("gpuInstanceId")));
    infos[i].computeInstanceId = static_cast<unsigned>(U(p.at("computeInstanceId")));
  }
  return nv::kSuccess;
}

nvmlReturn_t nvmlDeviceGetNvLinkState(nvmlDevice_t d, unsigned link, unsigned* active) {
  nvmlReturn_t r;
  const json::value* v = Field(d, "nvlink", r);
  if (!v) return r;
  const json::array& a = v->as_array();
  if (link >= a.size()) return nv::kErrorNotSupported;
  *active = static_cast<unsigned>(U(a[link].as_object().at("state")));
  return nv::kSuccess;
}

nvmlReturn_t nvmlDeviceGetNvLinkErrorCounter(nvmlDevice_t d, unsigned link, unsigned counter,
                                             unsigned long long* value) {
  nvmlReturn_t r;
  const json::value* v = Field(d, "nvlink", r);
  if (!v) return r;
  const json::array& a = v->as_array();
  if (link >= a.size()) return nv::kErrorNotSupported;
  static const char* kNames[] = {"replay", "recovery", "crc_flit", "crc_data"};
  if (counter > 3) return nv::kErrorInvalidArgument;
  const json::value* c = a[link].as_object().if_contains(kNames[counter]);
  *value = c ? U(*c) : 0;
  return nv::kSuccess;
}

nvmlReturn_t nvmlDeviceGetMaxMigDeviceCount(nvmlDevice_t d, unsigned* count) {
  FakeDevice* dev = Dev(d);
  if (!dev || dev->mig) return nv::kErrorInvalidArgument;
  const json::value* m = dev->data.if_contains("mig_devices");
  *count = m ? static_cast<unsigned>(m->as_array().size()) : 0;
  return nv::kSuccess;
}

nvmlReturn_t nvmlDeviceGetMigDeviceHandleByIndex(nvmlDevice_t d, unsigned index, nvmlDevice_t* mig) {
  State& s = S();
  FakeDevice* dev = Dev(d);
  if (!dev || dev->mig) return nv::kErrorInvalidArgument;
  size_t parent = reinterpret_cast<uintptr_t>(d) - 1;
  unsigned seen = 0;
  for (size_t i = s.gpu_count; i < s.devices.size(); ++i) {
    if (s.devices[i].parent != parent) continue;
    if (seen++ == index) {
      *mig = Handle(i);
      return nv::kSuccess;
    }
  }
  return nv::kErrorNotFound;
}

nvmlReturn_t nvmlDeviceGetGpuInstanceId(nvmlDevice_t d, unsigned* id) { return Scalar(d, "gpu_instance_id", id); }
nvmlReturn_t nvmlDeviceGetComputeInstanceId(nvmlDevice_t d, unsigned* id) { return Scalar(d, "compute_instance_id", id); }

nvmlReturn_t nvmlEventSetCreate(nvmlEventSet_t* set) {
  *set = reinterpret_cast<nvmlEventSet_t>(1);
  return nv::kSuccess;
}

nvmlReturn_t nvmlDeviceRegisterEvents(nvmlDevice_t d, unsigned long long, nvmlEventSet_t) {
  return Dev(d) ? nv::kSuccess : nv::kErrorInvalidArgument;
}

nvmlReturn_t nvmlEventSetWait_v2(nvmlEventSet_t, nvmlEventData_t* data, unsigned timeout_ms) {
  State& s = S();
  {
    std::lock_guard lock(s.mu);
    if (s.next_xid < s.xids.size()) {
      auto [gpu, xid] = s.xids[s.next_xid++];
      std::memset(data, 0, sizeof *data);
      data->device = Handle(gpu);
      data->eventType = nv::kEventTypeXidCriticalError;
      data->eventData = xid;
      return nv::kSuccess;
    }
  }
  struct timespec ts {0, static_cast<long>(std::min(timeout_ms, 200u)) * 1000000L};
  nanosleep(&ts, nullptr);
  return nv::kErrorTimeout;
}

nvmlReturn_t nvmlEventSetFree(nvmlEventSet_t) { return nv::kSuccess; }

}  // extern "C"
