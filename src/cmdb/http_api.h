// REST routes of the CMDB (/api/v1/cmdb/...). CI references in paths are an id, or
// "type/name" with the slash percent-encoded (server%2Fnode-01), or a unique name.
#pragma once

#include "cmdb/service.h"
#include "http/router.h"

namespace gantry::cmdb {

void RegisterRoutes(http::Router& router, Service& service);
// Import and export (http_import.cc).
void RegisterImportRoutes(http::Router& router, Service& service);

}  // namespace gantry::cmdb
