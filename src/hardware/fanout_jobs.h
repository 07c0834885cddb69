// The job types behind the many-node routes and CLI commands: one durable job per fan-out, so
// a sweep over thousands of BMCs holds no HTTP thread, reports progress ("412/1000 done,
// 3 failed"), logs each failed node, and leaves its per-node results in the job result.
//   hardware.power      {nodes | all, action: status|on|off|force-off|cycle|reset, concurrency}
//   hardware.boot       {nodes | all, device: pxe|disk|bios, once, concurrency}
//   hardware.check      {nodes | all, concurrency}
//   hardware.inventory  {nodes | all, concurrency}
// They are started through /api/v1/hardware/... (with the nodes.* policy), not POST /api/v1/jobs.
#pragma once

#include "cmdb/service.h"
#include "hardware/service.h"
#include "jobs/service.h"

namespace gantry::hardware {

void RegisterFanOutJobTypes(jobs::Registry& registry, Service& hw, cmdb::Service& cmdb);

// Validates fan-out params (shared by the routes and the job types).
core::Status ValidateFanOutParams(const std::string& type, const core::json::object& params);

// The job's results as {"results": [...], "summary": {"total", "ok", "failed", "by_fault"}}.
core::json::object ResultsJson(const std::vector<NodeResult>& results);

}  // namespace gantry::hardware
