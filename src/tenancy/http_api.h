// REST routes for tenants, projects, members, quotas, reservations and usage history, under
// /api/v1/tenants. JSON ↔ typed requests only; the rules live in service.h.
#pragma once

#include "http/router.h"
#include "tenancy/service.h"

namespace gantry::tenancy {

void RegisterRoutes(http::Router& router, Service& service);

}  // namespace gantry::tenancy
