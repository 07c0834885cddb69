// Hardware control types: BMC records, what a driver needs to reach one BMC, power actions,
// boot devices, per-node results of a fan-out, inventory and firmware-campaign records.
// Plain values; safe to copy and to read from several threads.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/error.h"
#include "core/json.h"

namespace gantry::hardware {

enum class Protocol { kRedfish, kIpmi };
// on; off (graceful shutdown) and force-off; cycle (power off then on); reset (hard restart).
enum class PowerAction { kOn, kOff, kForceOff, kCycle, kReset };
enum class BootDevice { kPxe, kDisk, kBios };

std::string_view Name(Protocol p);
std::string_view Name(PowerAction a);
std::string_view Name(BootDevice d);
core::Result<Protocol> ParseProtocol(std::string_view s);
// "on", "off", "force-off", "cycle", "reset"; `force` turns "off" into "force-off".
core::Result<PowerAction> ParsePowerAction(std::string_view s, bool force = false);
core::Result<BootDevice> ParseBootDevice(std::string_view s);

struct Credentials {
  std::string username;
  std::string password;
};

// One BMC as stored. The sealed credentials never leave the hardware module.
struct Bmc {
  int64_t id = 0;
  std::string name;
  std::string address;  // redfish: host[:port] or http(s)://host[:port]; ipmi: host[:port]
  Protocol protocol = Protocol::kRedfish;
  std::optional<std::string> server;     // the server CI it controls
  std::optional<std::string> system_id;  // redfish ComputerSystem Id (none: the first one)
  std::string sealed_credentials;
  std::string auth = "basic";  // redfish: basic | session
  bool tls_verify = true;
  std::optional<std::string> ca_file;
  std::string health = "unknown";
  std::string health_message;
  std::string power_state = "unknown";
  std::optional<core::UnixNanos> checked_at;
  core::UnixNanos created_at = 0;
  core::UnixNanos updated_at = 0;
};

struct NewBmc {
  std::string name;
  std::string address;
  Protocol protocol = Protocol::kRedfish;
  std::optional<std::string> server;
  std::optional<std::string> system_id;
  Credentials credentials;
  std::string auth = "basic";
  bool tls_verify = true;
  std::optional<std::string> ca_file;
};

// Without any credential material: what the API returns.
core::json::object ToJson(const Bmc& b);

// What a driver needs to reach one BMC (the password in memory only, for one operation).
struct Endpoint {
  std::string name;
  std::string address;
  Protocol protocol = Protocol::kRedfish;
  std::optional<std::string> system_id;
  Credentials credentials;
  std::string auth = "basic";
  bool tls_verify = true;
  std::string ca_file;
};

// Outcome of one operation on one node, as the fan-out reports it.
struct NodeResult {
  std::string node;   // as asked (server name or BMC name)
  std::string bmc;    // the BMC that was used ("" when none was found)
  bool ok = false;
  // "" when ok; otherwise not_found | timeout | unreachable | auth_failed | unsupported |
  // bad_response | bmc_error | error
  std::string fault;
  std::string message;
  core::json::object data;  // e.g. {"power_state": "on"}
  int64_t elapsed_ms = 0;
};
core::json::object ToJson(const NodeResult& r);

// The fault name of a driver error (see NodeResult::fault).
std::string FaultOf(const core::Error& e);

// Checks a BMC name (1-100 characters: letters, digits, '-', '_', '.', ':').
core::Status ValidateName(std::string_view name, std::string_view field);
// Checks an address: host[:port], or http(s)://host[:port] for redfish; no path, no spaces.
core::Status ValidateAddress(std::string_view address, Protocol protocol);

}  // namespace gantry::hardware
