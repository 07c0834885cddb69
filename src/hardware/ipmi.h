// IPMI 2.0 (lanplus) through Debian's `ipmitool`.
//
// Why a subprocess and not a native client: ipmitool is mature, maintained and packaged, and
// speaking RMCP+ natively means re-implementing its session set-up and crypto (RAKP, HMAC-SHA1,
// AES-CBC-128) — security-critical code with little to gain for commands that take a BMC
// hundreds of milliseconds anyway. The password never appears in argv (visible in ps): it goes
// through the IPMI_PASSWORD environment variable and `-E`. Cipher suite 3 (RAKP-HMAC-SHA1,
// HMAC-SHA1-96, AES-CBC-128) is named explicitly (`-C 3`), so ipmitool does not first ask for
// the channel's cipher suites (some BMCs, ipmi_sim among them, never answer that).
//
// Supported: power (status, on, off graceful = soft, force-off, cycle, reset), boot device
// (pxe, disk, bios; once or persistent), SEL read and clear, probe (mc info). Virtual media,
// firmware updates and inventory need Redfish: kFailedPrecondition ("unsupported").
#pragma once

#include <string>
#include <vector>

#include "hardware/driver.h"

namespace gantry::hardware {

class IpmiDriver final : public Driver {
 public:
  IpmiDriver(Endpoint endpoint, DriverOptions options, std::string ipmitool = "ipmitool")
      : ep_(std::move(endpoint)), options_(options), ipmitool_(std::move(ipmitool)) {}

  core::Result<core::json::object> Probe() override;
  core::Result<std::string> PowerState() override;
  core::Status Power(PowerAction action) override;
  core::Status SetBootDevice(BootDevice device, bool once) override;
  core::Result<std::vector<SelEntry>> ReadSel(int max) override;
  core::Status ClearSel() override;
  core::Status InsertMedia(const std::string& image_uri) override;
  core::Status EjectMedia() override;
  core::Result<Inventory> ReadInventory() override;
  core::Result<std::map<std::string, std::string>> FirmwareVersions() override;
  core::Result<std::string> StartUpdate(const UpdateRequest& request) override;
  core::Result<TaskStatus> PollTask(const std::string& task) override;

  // The argv of one ipmitool call (without the password; exposed for tests).
  std::vector<std::string> Argv(const std::vector<std::string>& command) const;

 private:
  core::Result<std::string> Run(const std::vector<std::string>& command);
  Endpoint ep_;
  DriverOptions options_;
  std::string ipmitool_;
};

// "Chassis Power is on" → "on".
core::Result<std::string> ParseIpmiPowerStatus(const std::string& out);
// `ipmitool sel elist` lines "   1 | 11/25/2026 | 10:00:00 | Temperature #0x30 | ... | Asserted".
std::vector<SelEntry> ParseIpmiSel(const std::string& out);
// The error of a failed ipmitool run, from its exit code and stderr (never the password).
core::Error IpmiError(const std::string& target, int exit_code, const std::string& err);

}  // namespace gantry::hardware
