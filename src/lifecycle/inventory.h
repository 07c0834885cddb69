// Ansible dynamic inventory from the CMDB: the JSON `ansible-inventory` expects from an
// inventory script's --list (groups with hosts and children, `_meta.hostvars`) and --host.
//
// Groups: site_<site>, rack_<rack>, role_<role>, gpu_<model>, tenant_<tenant>,
// slurm_<partition>, lifecycle_<state>; names are lower-cased with anything outside [a-z0-9_]
// turned into '_'. Host variables: the server CI's attributes, plus ansible_host (primary_ip,
// else mgmt_ip), gantry_site, gantry_rack, gantry_tenant, gantry_partitions.
#pragma once

#include <optional>
#include <string>

#include "cmdb/service.h"

namespace gantry::lifecycle {

std::string GroupName(std::string_view prefix, std::string_view value);

// --list (host empty) or --host NAME (an unknown host is kNotFound).
core::Result<core::json::object> BuildInventory(cmdb::Service& cmdb, const core::RequestContext& rc,
                                                const std::optional<std::string>& host);

}  // namespace gantry::lifecycle
