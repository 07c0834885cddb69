// Redfish over libcurl: one RedfishDriver per BMC and operation.
//
// Transport (RedfishHttp): HTTPS unless the address says http:// (labs and the benchmark);
// TLS verification on unless the BMC record disables it explicitly, with the record's CA file
// when it has one; basic auth, or a Redfish session (POST SessionService/Sessions, X-Auth-Token,
// DELETE at the end) when the record says "session"; connect and request timeouts; answers
// larger than DriverOptions::max_body are refused; refused connections (any method) and 5xx
// answers to GET are retried with doubling back-off, a timeout is never retried (a dead BMC
// costs one timeout). Links the BMC hands out (task monitors, sessions) are followed only on
// its own origin, so a BMC cannot send Gantry — and its credentials — to another host.
//
// Operations check before they act: the Reset action's ResetType@Redfish.AllowableValues (or
// its @Redfish.ActionInfo), the boot override's AllowableValues, the presence of the
// InsertMedia / EjectMedia / ClearLog / SimpleUpdate actions; what the BMC does not offer is
// kFailedPrecondition ("unsupported"), never guessed. The boot override is a PATCH with
// If-Match: <ETag of the GET> (a 412 re-reads once and retries).
#pragma once

#include <functional>
#include <memory>
#include <string>

#include "hardware/driver.h"

namespace gantry::hardware {

struct HttpAnswer {
  long status = 0;
  std::string body;
  std::string etag;
  std::string location;
  std::string auth_token;
};

class RedfishHttp {
 public:
  RedfishHttp(const Endpoint& endpoint, const DriverOptions& options);
  ~RedfishHttp();  // logs the session out when there is one
  RedfishHttp(const RedfishHttp&) = delete;
  RedfishHttp& operator=(const RedfishHttp&) = delete;

  // GET a resource as a JSON object; `etag` receives its ETag header when given.
  core::Result<core::json::object> Get(const std::string& path, std::string* etag = nullptr);
  // POST/PATCH with a JSON body; 2xx answers only (others become errors).
  core::Result<HttpAnswer> Send(const std::string& method, const std::string& path,
                                const core::json::object& body, const std::string& if_match = {});
  const std::string& base_url() const { return base_; }

 private:
  core::Result<HttpAnswer> Exchange(const std::string& method, const std::string& path,
                                    const std::string* body, const std::string& if_match,
                                    bool with_auth);
  core::Result<HttpAnswer> Once(const std::string& method, const std::string& url,
                                const std::string* body, const std::string& if_match,
                                bool with_auth);
  core::Status EnsureSession();
  core::Error StatusError(const HttpAnswer& a, const std::string& method, const std::string& path) const;

  Endpoint ep_;
  DriverOptions options_;
  std::string base_;
  void* curl_ = nullptr;
  std::string session_token_;
  std::string session_uri_;
};

class RedfishDriver final : public Driver {
 public:
  RedfishDriver(Endpoint endpoint, DriverOptions options)
      : ep_(std::move(endpoint)), options_(options), http_(ep_, options_) {}

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

 private:
  core::Result<std::string> SystemPath();
  // Every member (path, resource) of the collection `property` ("LogServices", "VirtualMedia")
  // of the system and of the first manager: BMCs keep the SEL and virtual media on either.
  std::vector<std::pair<std::string, core::json::object>> MembersOf(const std::string& property);
  core::Result<core::json::object> LogService();
  core::Result<std::string> VirtualMediaPath();
  Endpoint ep_;
  DriverOptions options_;
  RedfishHttp http_;
  std::string system_path_;
};

// ---- pure parts, shared with the tests ----------------------------------------------------

// Reads one resource by path ("/redfish/v1/Systems/1"): over HTTP in the driver, from the
// mockup files in unit tests.
using Fetcher = std::function<core::Result<core::json::object>(const std::string& path)>;

// The ResetType for an action (On, GracefulShutdown, ForceOff, PowerCycle, ForceRestart).
std::string ResetTypeFor(PowerAction action);
// BootSourceOverrideTarget for a device (Pxe, Hdd, BiosSetup).
std::string BootTargetFor(BootDevice device);
// The allowed values of parameter `param` of action `action_name` ("#ComputerSystem.Reset") in
// `resource`: from "<param>@Redfish.AllowableValues", else from its @Redfish.ActionInfo
// (fetched). Empty when the BMC lists none (then any value may be tried). kFailedPrecondition
// when the action itself is missing.
core::Result<std::vector<std::string>> AllowedValues(const core::json::object& resource,
                                                     const std::string& action_name,
                                                     const std::string& param, const Fetcher& fetch);
// The action's target URI; kFailedPrecondition when the resource does not offer the action.
core::Result<std::string> ActionTarget(const core::json::object& resource, const std::string& action_name,
                                       const std::string& what);
// The @odata.id links of a collection's Members (kInternal when the shape is wrong).
core::Result<std::vector<std::string>> MemberLinks(const core::json::object& collection);
// Inventory of one system (CPUs, memory, GPUs/accelerators, PCIe devices, NICs with MACs,
// drives, PSUs, fans, temperatures, firmware), read through `fetch`. Missing optional parts
// are skipped; a part that cannot be read is skipped too (the inventory of a half-broken BMC
// is still useful). kInternal only when the system itself is unreadable.
core::Result<Inventory> ReadRedfishInventory(const Fetcher& fetch, const std::string& system_path);
// The task state of a Task resource.
core::Result<TaskStatus> ParseTask(const core::json::object& task);

}  // namespace gantry::hardware
