// The one interface every BMC protocol implements (Redfish: redfish.h, IPMI: ipmi.h), and the
// factory the service uses to get a driver for one BMC.
//
// A Driver serves one BMC for one operation (it may keep a connection or a session between its
// calls) and is used by one thread at a time. Every call has a deadline (DriverOptions); none
// blocks longer than its timeout times its attempts.
//
// Errors: kDeadlineExceeded the BMC did not answer in time; kUnavailable it cannot be reached
// (refused, DNS, TLS verification); kUnauthenticated it rejected the credentials (the message
// never repeats them); kFailedPrecondition the BMC does not support what was asked (from its
// ActionInfo / AllowableValues, or a protocol without it); kInternal it answered something that
// is not what the protocol promises (malformed, truncated, wrong types, too large); kConflict it
// refused the request (4xx/5xx with its own message). FaultOf() names them for results.
#pragma once

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "hardware/types.h"

namespace gantry::hardware {

struct DriverOptions {
  std::chrono::milliseconds connect_timeout{3000};
  std::chrono::milliseconds timeout{10000};  // one request, connect included
  int attempts = 3;                          // for refused connections and 5xx answers
  std::chrono::milliseconds backoff{200};    // doubled after each failed attempt
  size_t max_body = 4u << 20;                // larger answers are refused (bad_response)
  std::chrono::milliseconds task_poll{500};  // between task monitor polls
};

struct SelEntry {
  std::string id;
  std::string created;   // as the BMC writes it
  std::string severity;  // OK | Warning | Critical | "" (unknown)
  std::string message;
};

// One part found in an inventory read. `type` is a CMDB CI type (cpu, memory_module, gpu,
// pcie_device, nic, drive, psu, fan, sensor, firmware); `id` is unique within the server.
struct Component {
  std::string type;
  std::string id;
  core::json::object attrs;
};

struct Inventory {
  core::json::object server;  // attributes of the server CI (serial, vendor, model, ...)
  core::json::object bmc;     // attributes of the bmc CI (firmware_version, mac, ...)
  std::vector<Component> parts;
};

struct UpdateRequest {
  std::string component;   // firmware inventory Id (e.g. "BIOS")
  std::string image_uri;   // where the BMC fetches the image
  std::string checksum;    // "sha256:<hex>", for the record and the BMC's check
};

struct TaskStatus {
  bool done = false;
  bool ok = false;
  int percent = 0;
  std::string state;    // the BMC's word (Running, Completed, Exception, ...)
  std::string message;  // the last message of the task
};

class Driver {
 public:
  virtual ~Driver() = default;
  // Reachability and health: {"reachable": true, "health": "OK", "firmware_version": ...}.
  virtual core::Result<core::json::object> Probe() = 0;
  // "on" or "off" (or the BMC's own word for a transition, lower case).
  virtual core::Result<std::string> PowerState() = 0;
  virtual core::Status Power(PowerAction action) = 0;
  virtual core::Status SetBootDevice(BootDevice device, bool once) = 0;
  // Newest last, at most `max` entries.
  virtual core::Result<std::vector<SelEntry>> ReadSel(int max) = 0;
  virtual core::Status ClearSel() = 0;
  virtual core::Status InsertMedia(const std::string& image_uri) = 0;
  virtual core::Status EjectMedia() = 0;
  virtual core::Result<Inventory> ReadInventory() = 0;
  // Firmware inventory: component id → version.
  virtual core::Result<std::map<std::string, std::string>> FirmwareVersions() = 0;
  // Starts an update; returns the task monitor to poll.
  virtual core::Result<std::string> StartUpdate(const UpdateRequest& request) = 0;
  virtual core::Result<TaskStatus> PollTask(const std::string& task) = 0;
};

class DriverFactory {
 public:
  virtual ~DriverFactory() = default;
  virtual std::unique_ptr<Driver> Make(const Endpoint& endpoint) const = 0;
};

// Redfish over libcurl for kRedfish, ipmitool for kIpmi.
class RealDriverFactory final : public DriverFactory {
 public:
  explicit RealDriverFactory(DriverOptions options, std::string ipmitool = "ipmitool")
      : options_(options), ipmitool_(std::move(ipmitool)) {}
  std::unique_ptr<Driver> Make(const Endpoint& endpoint) const override;
  const DriverOptions& options() const { return options_; }

 private:
  DriverOptions options_;
  std::string ipmitool_;
};

}  // namespace gantry::hardware
