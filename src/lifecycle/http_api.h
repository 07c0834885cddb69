// REST routes of the lifecycle: /api/v1/nodes (state machine operations), /api/v1/images,
// /api/v1/templates, /api/v1/inventory, /api/v1/discovery/{dhcp,lldp}; and the unauthenticated
// boot endpoints under /boot (iPXE script by MAC, config and callback by one-time token, image
// files after their checksum was verified). JSON ↔ typed requests only; rules in service.h.
#pragma once

#include "cmdb/service.h"
#include "http/router.h"
#include "lifecycle/service.h"

namespace gantry::lifecycle {

void RegisterRoutes(http::Router& router, Service& service, cmdb::Service& cmdb);

}  // namespace gantry::lifecycle
