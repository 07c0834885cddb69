// RedfishDriver: the operations (see redfish.h); the inventory walk is in redfish_inventory.cc.
#include "hardware/redfish.h"

#include <algorithm>
#include <cctype>

namespace gantry::hardware {

namespace json = core::json;

namespace {

std::string Lower(std::string s) {
  for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

const json::object* ObjectAt(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}

std::optional<std::string> StringAt(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  if (!v || !v->is_string()) return std::nullopt;
  return std::string(v->get_string());
}

std::string Join(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& x : v) s += (s.empty() ? "" : ", ") + x;
  return s;
}

core::Status CheckAllowed(const std::string& bmc, const std::string& what, const std::string& value,
                          const std::vector<std::string>& allowed) {
  if (allowed.empty() || std::find(allowed.begin(), allowed.end(), value) != allowed.end()) return {};
  return core::FailedPrecondition("BMC " + bmc + " does not support " + what + "=" + value +
                                  " (it allows: " + Join(allowed) + ")");
}

bool IsPreconditionFailed(const core::Error& e) {
  return e.code == core::Code::kConflict && e.message.find("HTTP 412") != std::string::npos;
}

}  // namespace

std::string ResetTypeFor(PowerAction action) {
  switch (action) {
    case PowerAction::kOn: return "On";
    case PowerAction::kOff: return "GracefulShutdown";
    case PowerAction::kForceOff: return "ForceOff";
    case PowerAction::kCycle: return "PowerCycle";
    case PowerAction::kReset: return "ForceRestart";
  }
  return "";
}

std::string BootTargetFor(BootDevice device) {
  switch (device) {
    case BootDevice::kPxe: return "Pxe";
    case BootDevice::kDisk: return "Hdd";
    case BootDevice::kBios: return "BiosSetup";
  }
  return "";
}

core::Result<std::string> ActionTarget(const json::object& resource, const std::string& action_name,
                                       const std::string& what) {
  const auto* actions = ObjectAt(resource, "Actions");
  const auto* action = actions ? ObjectAt(*actions, action_name) : nullptr;
  if (!action) return core::FailedPrecondition("the BMC does not offer " + what + " (" + action_name + ")");
  auto target = StringAt(*action, "target");
  if (!target || !target->starts_with("/")) {
    return core::Internal("the BMC's " + action_name + " action has no usable target");
  }
  return *target;
}

core::Result<std::vector<std::string>> AllowedValues(const json::object& resource,
                                                     const std::string& action_name,
                                                     const std::string& param, const Fetcher& fetch) {
  const auto* actions = ObjectAt(resource, "Actions");
  const auto* action = actions ? ObjectAt(*actions, action_name) : nullptr;
  if (!action) return core::FailedPrecondition("the BMC does not offer " + action_name);
  std::vector<std::string> out;
  auto collect = [&out](const json::value& v) -> core::Status {
    if (!v.is_array()) return core::Internal("AllowableValues is not an array");
    for (const auto& x : v.get_array()) {
      if (x.is_string()) out.emplace_back(x.get_string());
    }
    return {};
  };
  if (const auto* v = action->if_contains(param + "@Redfish.AllowableValues")) {
    GANTRY_TRY_STATUS(collect(*v));
    return out;
  }
  if (auto info = StringAt(*action, "@Redfish.ActionInfo")) {
    GANTRY_TRY(auto ai, fetch(*info));
    const auto* params = ai.if_contains("Parameters");
    if (params && params->is_array()) {
      for (const auto& p : params->get_array()) {
        if (!p.is_object()) continue;
        auto name = StringAt(p.get_object(), "Name");
        if (name != param) continue;
        if (const auto* v = p.get_object().if_contains("AllowableValues")) GANTRY_TRY_STATUS(collect(*v));
      }
    }
  }
  return out;
}

core::Result<std::vector<std::string>> MemberLinks(const json::object& collection) {
  const auto* members = collection.if_contains("Members");
  if (!members || !members->is_array()) return core::Internal("a collection without Members");
  std::vector<std::string> out;
  for (const auto& m : members->get_array()) {
    if (!m.is_object()) return core::Internal("a collection member that is not an object");
    auto id = StringAt(m.get_object(), "@odata.id");
    if (!id || !id->starts_with("/")) return core::Internal("a collection member without @odata.id");
    out.push_back(*id);
  }
  return out;
}

core::Result<TaskStatus> ParseTask(const json::object& task) {
  TaskStatus s;
  const auto* state = task.if_contains("TaskState");
  if (!state || !state->is_string()) return core::Internal("a task without a TaskState string");
  s.state = std::string(state->get_string());
  if (const auto* p = task.if_contains("PercentComplete"); p && p->is_int64()) {
    s.percent = static_cast<int>(std::clamp<int64_t>(p->get_int64(), 0, 100));
  }
  const auto* msgs = task.if_contains("Messages");
  if (msgs && msgs->is_array() && !msgs->get_array().empty()) {
    const auto& last = msgs->get_array().back();
    if (last.is_object()) s.message = StringAt(last.get_object(), "Message").value_or("").substr(0, 300);
  }
  static const std::vector<std::string> kFinal = {"Completed", "Killed", "Exception", "Cancelled"};
  s.done = std::find(kFinal.begin(), kFinal.end(), s.state) != kFinal.end();
  auto status = StringAt(task, "TaskStatus").value_or("OK");
  s.ok = s.state == "Completed" && status != "Critical";
  if (s.done) s.percent = s.ok ? 100 : s.percent;
  return s;
}

// ---- the driver ---------------------------------------------------------------------------

core::Result<std::string> RedfishDriver::SystemPath() {
  if (!system_path_.empty()) return system_path_;
  if (ep_.system_id) {
    system_path_ = "/redfish/v1/Systems/" + *ep_.system_id;
    return system_path_;
  }
  GANTRY_TRY(auto systems, http_.Get("/redfish/v1/Systems"));
  GANTRY_TRY(auto links, MemberLinks(systems));
  if (links.empty()) return core::FailedPrecondition("BMC " + ep_.name + " lists no computer system");
  system_path_ = links.front();
  return system_path_;
}

core::Result<json::object> RedfishDriver::Probe() {
  GANTRY_TRY(auto path, SystemPath());
  GANTRY_TRY(auto sys, http_.Get(path));
  json::object o{{"reachable", true}};
  const auto* status = ObjectAt(sys, "Status");
  o["health"] = status ? StringAt(*status, "Health").value_or("") : "";
  if (auto p = StringAt(sys, "PowerState")) o["power_state"] = Lower(*p);
  return o;
}

core::Result<std::string> RedfishDriver::PowerState() {
  GANTRY_TRY(auto path, SystemPath());
  GANTRY_TRY(auto sys, http_.Get(path));
  const auto* v = sys.if_contains("PowerState");
  if (!v) return core::Internal("BMC " + ep_.name + " reports no PowerState");
  if (!v->is_string()) return core::Internal("BMC " + ep_.name + " reports a PowerState that is not a string");
  std::string s = Lower(std::string(v->get_string()));
  if (s.empty() || s.size() > 32) return core::Internal("BMC " + ep_.name + " reports an unusable PowerState");
  return s;
}

core::Status RedfishDriver::Power(PowerAction action) {
  GANTRY_TRY(auto path, SystemPath());
  GANTRY_TRY(auto sys, http_.Get(path));
  GANTRY_TRY(auto target, ActionTarget(sys, "#ComputerSystem.Reset", "power control"));
  Fetcher fetch = [this](const std::string& p) { return http_.Get(p); };
  GANTRY_TRY(auto allowed, AllowedValues(sys, "#ComputerSystem.Reset", "ResetType", fetch));
  std::string type = ResetTypeFor(action);
  GANTRY_TRY_STATUS(CheckAllowed(ep_.name, "ResetType", type, allowed));
  GANTRY_TRY(auto a, http_.Send("POST", target, json::object{{"ResetType", type}}));
  (void)a;
  return {};
}

core::Status RedfishDriver::SetBootDevice(BootDevice device, bool once) {
  GANTRY_TRY(auto path, SystemPath());
  for (int attempt = 0; attempt < 2; ++attempt) {
    std::string etag;
    GANTRY_TRY(auto sys, http_.Get(path, &etag));
    const auto* boot = ObjectAt(sys, "Boot");
    if (!boot || !boot->contains("BootSourceOverrideTarget")) {
      return core::FailedPrecondition("BMC " + ep_.name +
                                      " does not offer a boot source override (BootSourceOverrideTarget)");
    }
    std::vector<std::string> targets, modes;
    if (const auto* v = boot->if_contains("BootSourceOverrideTarget@Redfish.AllowableValues"); v && v->is_array()) {
      for (const auto& x : v->get_array()) if (x.is_string()) targets.emplace_back(x.get_string());
    }
    if (const auto* v = boot->if_contains("BootSourceOverrideEnabled@Redfish.AllowableValues"); v && v->is_array()) {
      for (const auto& x : v->get_array()) if (x.is_string()) modes.emplace_back(x.get_string());
    }
    std::string target = BootTargetFor(device);
    std::string enabled = once ? "Once" : "Continuous";
    GANTRY_TRY_STATUS(CheckAllowed(ep_.name, "BootSourceOverrideTarget", target, targets));
    GANTRY_TRY_STATUS(CheckAllowed(ep_.name, "BootSourceOverrideEnabled", enabled, modes));
    json::object body{{"Boot", json::object{{"BootSourceOverrideTarget", target},
                                           {"BootSourceOverrideEnabled", enabled}}}};
    auto a = http_.Send("PATCH", path, body, etag);
    if (a) return {};
    // Someone changed the system between our GET and PATCH: read again, once.
    if (!IsPreconditionFailed(a.error()) || attempt == 1) return a.error();
  }
  return {};
}

std::vector<std::pair<std::string, json::object>> RedfishDriver::MembersOf(const std::string& property) {
  std::vector<std::string> collections;
  auto add = [&](const json::object& o) {
    if (const auto* c = ObjectAt(o, property)) {
      if (auto id = StringAt(*c, "@odata.id")) collections.push_back(*id);
    }
  };
  if (auto path = SystemPath()) {
    if (auto sys = http_.Get(*path)) add(*sys);
  }
  if (auto managers = http_.Get("/redfish/v1/Managers")) {
    if (auto links = MemberLinks(*managers); links && !links->empty()) {
      if (auto mgr = http_.Get(links->front())) add(*mgr);
    }
  }
  std::vector<std::pair<std::string, json::object>> out;
  for (const auto& c : collections) {
    auto coll = http_.Get(c);
    if (!coll) continue;
    auto links = MemberLinks(*coll);
    if (!links) continue;
    for (const auto& l : *links) {
      if (auto m = http_.Get(l)) out.emplace_back(l, std::move(*m));
    }
  }
  return out;
}

core::Result<json::object> RedfishDriver::LogService() {
  auto services = MembersOf("LogServices");
  for (const auto& [path, svc] : services) {
    std::string id = Lower(StringAt(svc, "Id").value_or(""));
    if (id.find("sel") != std::string::npos || StringAt(svc, "LogEntryType") == "SEL") return svc;
  }
  if (!services.empty()) return services.front().second;
  return core::FailedPrecondition("BMC " + ep_.name + " has no log service");
}

core::Result<std::vector<SelEntry>> RedfishDriver::ReadSel(int max) {
  GANTRY_TRY(auto svc, LogService());
  const auto* entries = ObjectAt(svc, "Entries");
  auto link = entries ? StringAt(*entries, "@odata.id") : std::nullopt;
  if (!link) return core::FailedPrecondition("BMC " + ep_.name + ": the log service has no Entries");
  GANTRY_TRY(auto coll, http_.Get(*link));
  const auto* members = coll.if_contains("Members");
  if (!members || !members->is_array()) return core::Internal("BMC " + ep_.name + ": log entries without Members");
  std::vector<SelEntry> out;
  for (const auto& m : members->get_array()) {
    if (!m.is_object()) continue;
    json::object entry = m.get_object();
    if (!entry.contains("Message") && entry.contains("@odata.id") && static_cast<int>(out.size()) < max) {
      auto full = http_.Get(StringAt(entry, "@odata.id").value_or(""));
      if (full) entry = *full;
    }
    SelEntry e;
    e.id = StringAt(entry, "Id").value_or("");
    e.created = StringAt(entry, "Created").value_or("");
    e.severity = StringAt(entry, "Severity").value_or("");
    e.message = StringAt(entry, "Message").value_or("").substr(0, 500);
    out.push_back(std::move(e));
  }
  if (static_cast<int>(out.size()) > max) out.erase(out.begin(), out.end() - max);
  return out;
}

core::Status RedfishDriver::ClearSel() {
  GANTRY_TRY(auto svc, LogService());
  GANTRY_TRY(auto target, ActionTarget(svc, "#LogService.ClearLog", "clearing the log"));
  GANTRY_TRY(auto a, http_.Send("POST", target, json::object{}));
  (void)a;
  return {};
}

core::Result<std::string> RedfishDriver::VirtualMediaPath() {
  auto media = MembersOf("VirtualMedia");
  for (const auto& [path, m] : media) {
    if (const auto* types = m.if_contains("MediaTypes"); types && types->is_array()) {
      for (const auto& t : types->get_array()) {
        if (t.is_string() && (t.get_string() == "CD" || t.get_string() == "DVD")) return path;
      }
    }
  }
  if (!media.empty()) return media.front().first;
  return core::FailedPrecondition("BMC " + ep_.name + " offers no virtual media");
}

core::Status RedfishDriver::InsertMedia(const std::string& image_uri) {
  GANTRY_TRY(auto path, VirtualMediaPath());
  GANTRY_TRY(auto media, http_.Get(path));
  GANTRY_TRY(auto target, ActionTarget(media, "#VirtualMedia.InsertMedia", "inserting virtual media"));
  GANTRY_TRY(auto a, http_.Send("POST", target,
                               json::object{{"Image", image_uri}, {"Inserted", true}, {"WriteProtected", true}}));
  (void)a;
  return {};
}

core::Status RedfishDriver::EjectMedia() {
  GANTRY_TRY(auto path, VirtualMediaPath());
  GANTRY_TRY(auto media, http_.Get(path));
  GANTRY_TRY(auto target, ActionTarget(media, "#VirtualMedia.EjectMedia", "ejecting virtual media"));
  GANTRY_TRY(auto a, http_.Send("POST", target, json::object{}));
  (void)a;
  return {};
}

core::Result<Inventory> RedfishDriver::ReadInventory() {
  GANTRY_TRY(auto path, SystemPath());
  Fetcher fetch = [this](const std::string& p) { return http_.Get(p); };
  return ReadRedfishInventory(fetch, path);
}

core::Result<std::map<std::string, std::string>> RedfishDriver::FirmwareVersions() {
  GANTRY_TRY(auto coll, http_.Get("/redfish/v1/UpdateService/FirmwareInventory"));
  GANTRY_TRY(auto links, MemberLinks(coll));
  std::map<std::string, std::string> out;
  for (const auto& l : links) {
    GANTRY_TRY(auto fw, http_.Get(l));
    auto id = StringAt(fw, "Id");
    const auto* version = fw.if_contains("Version");
    if (!id) continue;
    if (version && !version->is_string()) {
      return core::Internal("BMC " + ep_.name + ": firmware " + *id + " has a Version that is not a string");
    }
    out[*id] = version ? std::string(version->get_string()) : "";
  }
  return out;
}

core::Result<std::string> RedfishDriver::StartUpdate(const UpdateRequest& r) {
  GANTRY_TRY(auto svc, http_.Get("/redfish/v1/UpdateService"));
  GANTRY_TRY(auto target, ActionTarget(svc, "#UpdateService.SimpleUpdate", "firmware updates (SimpleUpdate)"));
  json::object body{{"ImageURI", r.image_uri}};
  if (!r.component.empty()) {
    body["Targets"] = json::array{json::value("/redfish/v1/UpdateService/FirmwareInventory/" + r.component)};
  }
  GANTRY_TRY(auto a, http_.Send("POST", target, body));
  if (!a.location.empty()) return a.location;
  if (auto v = core::ParseJson(a.body); v && v->is_object()) {
    if (auto id = StringAt(v->get_object(), "@odata.id")) return *id;
  }
  return std::string();  // finished synchronously
}

core::Result<TaskStatus> RedfishDriver::PollTask(const std::string& task) {
  if (task.empty()) return TaskStatus{true, true, 100, "Completed", ""};
  GANTRY_TRY(auto t, http_.Get(task));
  return ParseTask(t);
}


}  // namespace gantry::hardware
