// REST routes of the monitoring domain: the Alertmanager webhook receiver, Prometheus HTTP SD,
// and incidents. JSON ↔ typed requests only; the rules live in service.h.
#pragma once

#include "http/router.h"
#include "monitoring/service.h"

namespace gantry::monitoring {

void RegisterRoutes(http::Router& router, Service& service);

}  // namespace gantry::monitoring
