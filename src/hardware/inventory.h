// Hardware inventory into the CMDB. A BMC's inventory (redfish.h ReadRedfishInventory) becomes
// observations with source "bmc" (priority kBmcPriority) through cmdb::Service::Observe, so the
// CMDB's reconciliation rules apply: a value set by hand or by a higher-priority source wins,
// every observation stamps last_seen_at, history and audit come with each change.
//
// CIs: the server (serial, vendor, model, cpu_cores, memory_gib, gpu_model, gpu_count,
// bios_version), the bmc (protocol, firmware_version, mac), and one CI per part named
// "<server>:<part>" — gpu and nic (built-in types, related by `contains`), and cpu,
// memory_module, pcie_device, drive, psu, fan, sensor, firmware (types added by
// EnsureInventoryTypes, related by `has_part`). Attributes a type does not define are dropped.
#pragma once

#include <string>
#include <vector>

#include "cmdb/service.h"
#include "hardware/service.h"

namespace gantry::hardware {

inline constexpr int kBmcPriority = 50;
inline constexpr char kHasPart[] = "has_part";

// Creates the CI types and the `has_part` relation type when missing (idempotent; safe when
// several replicas start at once).
core::Status EnsureInventoryTypes(cmdb::Service& cmdb);

// Writes one node's inventory into the CMDB; returns counts {"cis": n, "relations": m}.
core::Result<core::json::object> ReconcileInventory(cmdb::Service& cmdb, const core::RequestContext& rc,
                                                    const Bmc& bmc, const Inventory& inv);

// Reads the inventory of every target through its BMC and reconciles it (fan-out).
std::vector<NodeResult> RefreshInventory(Service& hw, cmdb::Service& cmdb, const core::RequestContext& rc,
                                         const std::vector<std::string>& targets, const FanOutOptions& o);

}  // namespace gantry::hardware
