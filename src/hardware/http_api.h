// REST routes of hardware control: /api/v1/bmcs (records), /api/v1/nodes/{node}/... (one node:
// power, boot, sel, virtual-media, health, inventory), /api/v1/hardware/{power,boot,check,
// inventory} (many nodes, as jobs) and /api/v1/firmware/campaigns. JSON ↔ typed requests only;
// the rules live in service.h and campaign.h.
#pragma once

#include <functional>

#include "cmdb/service.h"
#include "hardware/campaign.h"
#include "hardware/service.h"
#include "http/router.h"
#include "jobs/service.h"

namespace gantry::hardware {

// `poke` wakes the job workers after an enqueue (may be empty).
void RegisterRoutes(http::Router& router, Service& hw, cmdb::Service& cmdb, jobs::Service& jobs,
                    CampaignService& campaigns, std::function<void()> poke);

}  // namespace gantry::hardware
