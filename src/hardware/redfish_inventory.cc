// ReadRedfishInventory: walks one ComputerSystem, its chassis, manager and firmware inventory
// and turns what it finds into CMDB-shaped attributes (see redfish.h).
#include <algorithm>
#include <cctype>
#include <cmath>

#include "hardware/redfish.h"

namespace gantry::hardware {

namespace json = core::json;

namespace {

std::optional<std::string> Str(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string() || v->get_string().empty()) return std::nullopt;
  return std::string(v->get_string()).substr(0, 200);
}

std::optional<int64_t> Num(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v) return std::nullopt;
  if (v->is_int64()) return v->get_int64();
  if (v->is_uint64() && v->get_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return static_cast<int64_t>(v->get_uint64());
  }
  if (v->is_double() && std::isfinite(v->get_double()) && std::fabs(v->get_double()) < 9e18) {
    return static_cast<int64_t>(std::llround(v->get_double()));
  }
  return std::nullopt;
}

const json::object* Obj(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

std::optional<std::string> Link(const json::object& o, std::string_view key) {
  const auto* l = Obj(o, key);
  return l ? Str(*l, "@odata.id") : std::nullopt;
}

// Links in an array property: "Drives": [{"@odata.id": ...}, ...].
std::vector<std::string> Links(const json::object& o, std::string_view key) {
  std::vector<std::string> out;
  const auto* v = o.if_contains(key);
  if (!v || !v->is_array()) return out;
  for (const auto& x : v->get_array()) {
    if (!x.is_object()) continue;
    if (auto id = Str(x.get_object(), "@odata.id")) out.push_back(*id);
  }
  return out;
}

void Put(json::object& attrs, std::string_view key, const std::optional<std::string>& v) {
  if (v) attrs[key] = *v;
}
void Put(json::object& attrs, std::string_view key, const std::optional<int64_t>& v) {
  if (v && *v >= 0) attrs[key] = *v;
}

bool Absent(const json::object& o) {
  const auto* st = Obj(o, "Status");
  return st && Str(*st, "State") == std::optional<std::string>("Absent");
}

std::string Sanitize(std::string id) {
  for (auto& c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') c = '-';
  }
  return id.substr(0, 60);
}

std::optional<std::string> Mac(const json::object& o) {
  for (const char* key : {"PermanentMACAddress", "MACAddress"}) {
    auto m = Str(o, key);
    if (!m || m->size() != 17) continue;
    std::string s = *m;
    bool ok = true;
    for (size_t i = 0; i < s.size(); ++i) {
      s[i] = static_cast<char>(std::tolower(static_cast<unsigned char>(s[i])));
      if (i % 3 == 2 ? (s[i] != ':' && s[i] != '-') : !std::isxdigit(static_cast<unsigned char>(s[i]))) ok = false;
      if (s[i] == '-') s[i] = ':';
    }
    if (ok && s != "00:00:00:00:00:00") return s;
  }
  return std::nullopt;
}

// Every member of a collection (each fetched); unreadable members are skipped.
std::vector<json::object> Members(const Fetcher& fetch, const std::optional<std::string>& collection,
                                  size_t max = 256) {
  std::vector<json::object> out;
  if (!collection) return out;
  auto coll = fetch(*collection);
  if (!coll) return out;
  auto links = MemberLinks(*coll);
  if (!links) return out;
  for (const auto& l : *links) {
    if (out.size() >= max) break;
    if (auto m = fetch(l)) out.push_back(std::move(*m));
  }
  return out;
}

std::string IdOf(const json::object& o, size_t index) {
  auto id = Str(o, "Id");
  if (!id) id = Str(o, "MemberId");
  if (!id) id = Str(o, "Name");
  return Sanitize(id.value_or(std::to_string(index)));
}

Component Psu(const json::object& s, size_t index) {
  json::object a;
  Put(a, "model", Str(s, "Model"));
  Put(a, "serial", Str(s, "SerialNumber"));
  Put(a, "capacity_w", Num(s, "PowerCapacityWatts"));
  Put(a, "firmware_version", Str(s, "FirmwareVersion"));
  return {"psu", "psu-" + IdOf(s, index), std::move(a)};
}

}  // namespace

core::Result<Inventory> ReadRedfishInventory(const Fetcher& fetch, const std::string& system_path) {
  auto sys_r = fetch(system_path);
  if (!sys_r) return sys_r.error();
  const json::object& sys = *sys_r;
  Inventory inv;
  Put(inv.server, "serial", Str(sys, "SerialNumber"));
  Put(inv.server, "vendor", Str(sys, "Manufacturer"));
  Put(inv.server, "model", Str(sys, "Model"));
  Put(inv.server, "bios_version", Str(sys, "BiosVersion"));
  if (const auto* mem = Obj(sys, "MemorySummary")) Put(inv.server, "memory_gib", Num(*mem, "TotalSystemMemoryGiB"));

  // Processors: CPUs, GPUs and other accelerators.
  int64_t cores = 0, gpus = 0;
  std::string gpu_model;
  size_t i = 0;
  for (const auto& p : Members(fetch, Link(sys, "Processors"))) {
    ++i;
    if (Absent(p)) continue;
    std::string type = Str(p, "ProcessorType").value_or("CPU");
    json::object a;
    Put(a, "model", Str(p, "Model"));
    Put(a, "vendor", Str(p, "Manufacturer"));
    if (type == "CPU") {
      Put(a, "cores", Num(p, "TotalCores"));
      Put(a, "threads", Num(p, "TotalThreads"));
      Put(a, "socket", Str(p, "Socket"));
      cores += Num(p, "TotalCores").value_or(0);
      inv.parts.push_back({"cpu", "cpu-" + IdOf(p, i), std::move(a)});
    } else {
      Put(a, "serial", Str(p, "SerialNumber"));
      Put(a, "uuid", Str(p, "UUID"));
      Put(a, "vbios_version", Str(p, "FirmwareVersion"));
      ++gpus;
      if (gpu_model.empty()) gpu_model = Str(p, "Model").value_or("");
      inv.parts.push_back({"gpu", "gpu-" + IdOf(p, i), std::move(a)});
    }
  }
  if (cores > 0) inv.server["cpu_cores"] = cores;
  else if (const auto* ps = Obj(sys, "ProcessorSummary")) Put(inv.server, "cpu_cores", Num(*ps, "CoreCount"));
  inv.server["gpu_count"] = gpus;
  if (!gpu_model.empty()) inv.server["gpu_model"] = gpu_model;

  i = 0;
  for (const auto& m : Members(fetch, Link(sys, "Memory"))) {
    ++i;
    auto cap = Num(m, "CapacityMiB");
    if (Absent(m) || !cap || *cap <= 0) continue;
    json::object a;
    a["capacity_mib"] = *cap;
    Put(a, "kind", Str(m, "MemoryDeviceType"));
    Put(a, "vendor", Str(m, "Manufacturer"));
    Put(a, "part_number", Str(m, "PartNumber"));
    Put(a, "serial", Str(m, "SerialNumber"));
    Put(a, "speed_mhz", Num(m, "OperatingSpeedMhz"));
    inv.parts.push_back({"memory_module", "mem-" + IdOf(m, i), std::move(a)});
  }

  i = 0;
  for (const auto& n : Members(fetch, Link(sys, "EthernetInterfaces"))) {
    ++i;
    json::object a;
    if (auto mac = Mac(n)) a["mac"] = *mac;
    if (auto speed = Num(n, "SpeedMbps"); speed && *speed > 0) a["speed_gbps"] = *speed / 1000;
    a["kind"] = "ethernet";
    inv.parts.push_back({"nic", "nic-" + IdOf(n, i), std::move(a)});
  }

  // PCIe devices: listed on the system (links) or as a collection.
  std::vector<json::object> pcie;
  for (const auto& l : Links(sys, "PCIeDevices")) {
    if (auto d = fetch(l)) pcie.push_back(std::move(*d));
  }
  if (pcie.empty()) pcie = Members(fetch, Link(sys, "PCIeDevices"));
  i = 0;
  for (const auto& d : pcie) {
    ++i;
    json::object a;
    Put(a, "vendor", Str(d, "Manufacturer"));
    Put(a, "model", Str(d, "Model"));
    Put(a, "kind", Str(d, "DeviceType"));
    Put(a, "serial", Str(d, "SerialNumber"));
    Put(a, "firmware_version", Str(d, "FirmwareVersion"));
    inv.parts.push_back({"pcie_device", "pcie-" + IdOf(d, i), std::move(a)});
  }

  // Drives: Storage → Drives, or SimpleStorage → Devices.
  i = 0;
  for (const auto& st : Members(fetch, Link(sys, "Storage"))) {
    for (const auto& l : Links(st, "Drives")) {
      auto d = fetch(l);
      if (!d || Absent(*d)) continue;
      ++i;
      json::object a;
      Put(a, "model", Str(*d, "Model"));
      Put(a, "serial", Str(*d, "SerialNumber"));
      Put(a, "capacity_bytes", Num(*d, "CapacityBytes"));
      Put(a, "media", Str(*d, "MediaType"));
      Put(a, "protocol", Str(*d, "Protocol"));
      Put(a, "firmware_version", Str(*d, "Revision"));
      inv.parts.push_back({"drive", "drive-" + IdOf(*d, i), std::move(a)});
    }
  }
  for (const auto& ss : Members(fetch, Link(sys, "SimpleStorage"))) {
    const auto* devs = ss.if_contains("Devices");
    if (!devs || !devs->is_array()) continue;
    for (const auto& dv : devs->get_array()) {
      if (!dv.is_object() || Absent(dv.get_object())) continue;
      ++i;
      json::object a;
      Put(a, "model", Str(dv.get_object(), "Model"));
      Put(a, "capacity_bytes", Num(dv.get_object(), "CapacityBytes"));
      inv.parts.push_back({"drive", "drive-" + Sanitize(IdOf(ss, 0) + "-" + IdOf(dv.get_object(), i)), std::move(a)});
    }
  }

  // Chassis: power supplies, fans, temperatures.
  std::vector<std::string> chassis;
  if (const auto* links = Obj(sys, "Links")) chassis = Links(*links, "Chassis");
  if (chassis.empty()) {
    // A system without links (some BMCs): the chassis of the same Id, else the first one.
    std::string id = Str(sys, "Id").value_or("");
    if (auto c = fetch("/redfish/v1/Chassis/" + id); !id.empty() && c) chassis.push_back("/redfish/v1/Chassis/" + id);
  }
  if (!chassis.empty()) {
    if (auto ch = fetch(chassis.front())) {
      size_t psus = 0, fans = 0, temps = 0;
      if (auto power = Link(*ch, "Power")) {
        if (auto p = fetch(*power)) {
          if (const auto* list = p->if_contains("PowerSupplies"); list && list->is_array()) {
            for (const auto& v : list->get_array()) {
              if (!v.is_object() || Absent(v.get_object())) continue;
              inv.parts.push_back(Psu(v.get_object(), ++psus));
            }
          }
        }
      }
      if (psus == 0) {
        if (auto sub = Link(*ch, "PowerSubsystem")) {
          if (auto p = fetch(*sub)) {
            for (const auto& s : Members(fetch, Link(*p, "PowerSupplies"))) {
              if (Absent(s)) continue;
              inv.parts.push_back(Psu(s, ++psus));
            }
          }
        }
      }
      if (auto thermal = Link(*ch, "Thermal")) {
        if (auto t = fetch(*thermal)) {
          if (const auto* list = t->if_contains("Fans"); list && list->is_array()) {
            for (const auto& v : list->get_array()) {
              if (!v.is_object() || Absent(v.get_object())) continue;
              const auto& f = v.get_object();
              json::object a;
              Put(a, "reading", Num(f, "Reading"));
              Put(a, "units", Str(f, "ReadingUnits"));
              inv.parts.push_back({"fan", "fan-" + IdOf(f, ++fans), std::move(a)});
            }
          }
          if (const auto* list = t->if_contains("Temperatures"); list && list->is_array()) {
            for (const auto& v : list->get_array()) {
              if (!v.is_object() || Absent(v.get_object())) continue;
              const auto& s = v.get_object();
              auto reading = Num(s, "ReadingCelsius");
              if (!reading) continue;
              json::object a{{"kind", "temperature"}, {"reading_celsius", *reading}};
              Put(a, "upper_critical", Num(s, "UpperThresholdCritical"));
              inv.parts.push_back({"sensor", "temp-" + IdOf(s, ++temps), std::move(a)});
            }
          }
        }
      }
      if (fans == 0) {
        if (auto sub = Link(*ch, "ThermalSubsystem")) {
          if (auto t = fetch(*sub)) {
            for (const auto& f : Members(fetch, Link(*t, "Fans"))) {
              if (Absent(f)) continue;
              json::object a;
              if (const auto* sr = Obj(f, "SpeedPercent")) Put(a, "reading", Num(*sr, "Reading"));
              a["units"] = "Percent";
              inv.parts.push_back({"fan", "fan-" + IdOf(f, ++fans), std::move(a)});
            }
          }
        }
      }
    }
  }

  // The manager (the BMC itself): firmware version and MAC.
  std::vector<std::string> managers;
  if (const auto* links = Obj(sys, "Links")) managers = Links(*links, "ManagedBy");
  if (managers.empty()) {
    if (auto coll = fetch("/redfish/v1/Managers")) {
      if (auto l = MemberLinks(*coll)) managers = *l;
    }
  }
  if (!managers.empty()) {
    // Prefer the manager named BMC (HPE Cray nodes list MCUs too).
    std::string pick = managers.front();
    for (const auto& m : managers) {
      if (m.ends_with("/BMC")) pick = m;
    }
    if (auto mgr = fetch(pick)) {
      Put(inv.bmc, "firmware_version", Str(*mgr, "FirmwareVersion"));
      auto nics = Members(fetch, Link(*mgr, "EthernetInterfaces"), 1);
      if (!nics.empty()) {
        if (auto mac = Mac(nics.front())) inv.bmc["mac"] = *mac;
      }
    }
  }

  // Firmware inventory: BIOS, BMC, NIC, GPU, drives ...
  i = 0;
  for (const auto& fw : Members(fetch, std::string("/redfish/v1/UpdateService/FirmwareInventory"))) {
    ++i;
    json::object a;
    a["component"] = Str(fw, "Id").value_or(IdOf(fw, i));
    Put(a, "version", Str(fw, "Version"));
    if (const auto* u = fw.if_contains("Updateable"); u && u->is_bool()) a["updateable"] = u->get_bool();
    inv.parts.push_back({"firmware", "fw-" + IdOf(fw, i), std::move(a)});
  }
  return inv;
}

}  // namespace gantry::hardware
