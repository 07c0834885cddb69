// Firmware campaigns: gated rolling firmware updates as a durable job.
//
// Lifecycle: Create (state pending) resolves the selection against the CMDB into nodes, puts
// them into batches — batch 0 is the canary (canary_size nodes), then batch_size each — and
// records the CMDB impact (tenants and services touched, cmdb::Service::Impact of every server);
// nothing runs yet. Start (pending → running) enqueues the job `hardware.firmware_campaign`.
// Pause (running → paused) and Cancel (→ cancelled) are seen by the job between steps and at
// every task poll; Resume (paused → running) enqueues the job again.
//
// The job (Run) works batch by batch, every node of a batch in parallel:
//   pending    → read the component's version (already at target: succeeded), SimpleUpdate,
//                state updating with the task monitor URI
//   updating   → poll the task until it ends (or task_timeout_seconds): failed, or verifying
//   verifying  → the BMC must report target_version: succeeded (the CMDB firmware CI and, for
//                BIOS, the server's bios_version are updated), else failed
// Every transition is persisted (fw_campaign_nodes), logged in the job log and audited, so a
// restart of Gantry resumes each node where it was (an update in flight is polled, not started
// again). After a batch: more failures than failure_budget halts the campaign; then the health
// gates — every succeeded node of the batch answers its BMC and reports the target version, and
// the alert gate (SetAlertGate; app/platform.cc wires it to monitoring's incidents) reports no
// new critical alert since the batch started — and a failed gate halts it. After the canary, the campaign soaks soak_seconds before
// the next batch. Outside the maintenance window no batch starts (before it: wait; after it: halt).
// Thread-safe.
#pragma once

#include <functional>
#include <mutex>

#include "cmdb/service.h"
#include "hardware/campaign_types.h"
#include "hardware/service.h"
#include "http/router.h"
#include "jobs/service.h"

namespace gantry::hardware {

inline constexpr char kCampaignJobType[] = "hardware.firmware_campaign";

// Returns an error naming the alert when a new critical alert fired on `servers` since `since`.
using AlertGate = std::function<core::Status(const std::vector<std::string>& servers, core::UnixNanos since)>;

class CampaignService {
 public:
  CampaignService(Service& hw, cmdb::Service& cmdb, jobs::Service& jobs)
      : hw_(hw), cmdb_(cmdb), jobs_(jobs) {}

  core::Result<Campaign> Create(const core::RequestContext& rc, const std::string& name, CampaignSpec spec);
  core::Result<Campaign> Get(const core::RequestContext& rc, std::string_view ref);
  core::Result<std::vector<CampaignNode>> Nodes(const core::RequestContext& rc, int64_t campaign_id);
  core::Result<std::vector<Campaign>> List(const core::RequestContext& rc, int limit);
  core::Result<Campaign> Start(const core::RequestContext& rc, std::string_view ref);
  core::Result<Campaign> Pause(const core::RequestContext& rc, std::string_view ref);
  core::Result<Campaign> Resume(const core::RequestContext& rc, std::string_view ref);
  core::Result<Campaign> Cancel(const core::RequestContext& rc, std::string_view ref);

  void SetAlertGate(AlertGate gate);
  void RegisterJobType(jobs::Registry& registry);
  // The job handler (exposed for tests that drive it without a worker pool).
  core::Result<core::json::object> Run(jobs::JobContext& ctx);

 private:
  core::Result<std::vector<std::string>> Select(const core::RequestContext& rc, const CampaignSpec& spec);
  core::Result<Campaign> Transition(const core::RequestContext& rc, std::string_view ref,
                                    const std::vector<std::string>& from, const std::string& to,
                                    bool enqueue);
  core::Status SaveNode(const core::RequestContext& rc, const Campaign& c, const CampaignNode& n,
                        jobs::JobContext* ctx);
  core::Status SaveCampaign(const core::RequestContext& rc, const Campaign& c, const std::string& audit_action);
  core::Result<Campaign> Load(int64_t id);
  // One node of a batch, from its persisted state to succeeded or failed.
  CampaignNode Drive(const core::RequestContext& rc, const Campaign& c, CampaignNode n, Driver& d,
                     jobs::JobContext& ctx);
  core::Status RecordVersion(const core::RequestContext& rc, const Campaign& c, const std::string& server);

  Service& hw_;
  cmdb::Service& cmdb_;
  jobs::Service& jobs_;
  std::mutex gate_mu_;
  AlertGate alert_gate_;
};

void RegisterCampaignRoutes(http::Router& router, CampaignService& campaigns, std::function<void()> poke);

}  // namespace gantry::hardware
