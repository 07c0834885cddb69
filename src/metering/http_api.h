// REST routes of metering and billing: usage records and lifecycle events in, usage roll-ups and
// the quarantine out, the price book (SKUs, prices), invoices and credit notes with their
// exports, discounts and budgets. The remote-write receiver is in remote_write.h.
#pragma once

#include "http/router.h"
#include "metering/billing.h"
#include "metering/service.h"

namespace gantry::metering {

void RegisterRoutes(http::Router& router, Service& service, Billing& billing);

}  // namespace gantry::metering
