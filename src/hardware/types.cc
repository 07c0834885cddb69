#include "hardware/types.h"

#include <cctype>

namespace gantry::hardware {

std::string_view Name(Protocol p) { return p == Protocol::kIpmi ? "ipmi" : "redfish"; }

std::string_view Name(PowerAction a) {
  switch (a) {
    case PowerAction::kOn: return "on";
    case PowerAction::kOff: return "off";
    case PowerAction::kForceOff: return "force-off";
    case PowerAction::kCycle: return "cycle";
    case PowerAction::kReset: return "reset";
  }
  return "?";
}

std::string_view Name(BootDevice d) {
  switch (d) {
    case BootDevice::kPxe: return "pxe";
    case BootDevice::kDisk: return "disk";
    case BootDevice::kBios: return "bios";
  }
  return "?";
}

core::Result<Protocol> ParseProtocol(std::string_view s) {
  if (s == "redfish") return Protocol::kRedfish;
  if (s == "ipmi") return Protocol::kIpmi;
  return core::InvalidArgument("protocol must be redfish or ipmi", "protocol");
}

core::Result<PowerAction> ParsePowerAction(std::string_view s, bool force) {
  if (s == "on") return PowerAction::kOn;
  if (s == "off") return force ? PowerAction::kForceOff : PowerAction::kOff;
  if (s == "force-off") return PowerAction::kForceOff;
  if (s == "cycle") return PowerAction::kCycle;
  if (s == "reset") return PowerAction::kReset;
  return core::InvalidArgument("action must be one of on, off, force-off, cycle, reset", "action");
}

core::Result<BootDevice> ParseBootDevice(std::string_view s) {
  if (s == "pxe") return BootDevice::kPxe;
  if (s == "disk") return BootDevice::kDisk;
  if (s == "bios") return BootDevice::kBios;
  return core::InvalidArgument("device must be one of pxe, disk, bios", "device");
}

core::json::object ToJson(const Bmc& b) {
  core::json::object o;
  o["id"] = b.id;
  o["name"] = b.name;
  o["address"] = b.address;
  o["protocol"] = std::string(Name(b.protocol));
  o["server"] = core::OptValue(b.server);
  o["system_id"] = core::OptValue(b.system_id);
  o["auth"] = b.auth;
  o["tls_verify"] = b.tls_verify;
  o["ca_file"] = core::OptValue(b.ca_file);
  o["health"] = b.health;
  o["health_message"] = b.health_message;
  o["power_state"] = b.power_state;
  o["checked_at"] = b.checked_at ? core::json::value(core::FormatRfc3339(*b.checked_at))
                                 : core::json::value(nullptr);
  o["created_at"] = core::FormatRfc3339(b.created_at);
  o["updated_at"] = core::FormatRfc3339(b.updated_at);
  return o;
}

core::json::object ToJson(const NodeResult& r) {
  core::json::object o;
  o["node"] = r.node;
  o["bmc"] = r.bmc;
  o["ok"] = r.ok;
  o["fault"] = r.fault.empty() ? core::json::value(nullptr) : core::json::value(r.fault);
  o["message"] = r.message;
  for (const auto& [k, v] : r.data) o[k] = v;
  o["elapsed_ms"] = r.elapsed_ms;
  return o;
}

std::string FaultOf(const core::Error& e) {
  switch (e.code) {
    case core::Code::kDeadlineExceeded: return "timeout";
    case core::Code::kUnavailable: return "unreachable";
    case core::Code::kUnauthenticated: return "auth_failed";
    case core::Code::kFailedPrecondition: return "unsupported";
    case core::Code::kInternal: return "bad_response";
    case core::Code::kConflict: return "bmc_error";
    case core::Code::kNotFound: return "not_found";
    default: return "error";
  }
}

core::Status ValidateName(std::string_view name, std::string_view field) {
  if (name.empty() || name.size() > 100) {
    return core::InvalidArgument(std::string(field) + " must be 1-100 characters", std::string(field));
  }
  for (unsigned char c : name) {
    if (!std::isalnum(c) && c != '-' && c != '_' && c != '.' && c != ':') {
      return core::InvalidArgument(std::string(field) +
                                       " may hold only letters, digits, '-', '_', '.' and ':'",
                                   std::string(field));
    }
  }
  return {};
}

core::Status ValidateAddress(std::string_view address, Protocol protocol) {
  std::string_view rest = address;
  if (rest.starts_with("https://") || rest.starts_with("http://")) {
    if (protocol != Protocol::kRedfish) {
      return core::InvalidArgument("an ipmi address is host[:port], without a scheme", "address");
    }
    rest.remove_prefix(rest.find("//") + 2);
  }
  if (rest.empty() || rest.size() > 253) {
    return core::InvalidArgument("address must be host[:port]", "address");
  }
  for (unsigned char c : rest) {
    if (!std::isalnum(c) && c != '-' && c != '.' && c != ':' && c != '[' && c != ']' && c != '_') {
      return core::InvalidArgument("address must be host[:port] (no path, no spaces)", "address");
    }
  }
  return {};
}

}  // namespace gantry::hardware
