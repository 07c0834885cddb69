#include "app/platform.h"

#include <spdlog/spdlog.h>

#include "core/crypto.h"
#include "hardware/fanout_jobs.h"
#include "hardware/inventory.h"
#include "jobs/worker.h"
#include "metering/jobs.h"
#include "store/migrate.h"
#include "tenancy/reclaim.h"
#include "tenancy/sync.h"
#include "tenancy/usage.h"

namespace gantry::app {

namespace {

// The lifecycle's NodeControl on the hardware module: power and one-time boot overrides through
// the node's BMC (IPMI or Redfish), found by the node's `bmc` or, without one, by the server CI
// of the node's name. No second BMC driver: the hardware service's errors pass through (no BMC:
// kNotFound, unreachable: kUnavailable/kDeadlineExceeded, retried by the lifecycle job).
class HardwareNodeControl : public lifecycle::NodeControl {
 public:
  explicit HardwareNodeControl(hardware::Service& hw) : hw_(hw) {}

  core::Status Power(const lifecycle::Node& node, lifecycle::PowerAction action) override {
    // Off is a hard power off: the machine is about to be PXE-booted, wiped or was just
    // installed; an OS that ignores ACPI must not stall the operation.
    hardware::PowerAction a = action == lifecycle::PowerAction::kOn    ? hardware::PowerAction::kOn
                              : action == lifecycle::PowerAction::kOff ? hardware::PowerAction::kForceOff
                                                                       : hardware::PowerAction::kCycle;
    return hw_.Power(core::RequestContext::System("lifecycle"), node.bmc.value_or(node.name), a);
  }

  core::Status SetBootDevice(const lifecycle::Node& node, lifecycle::BootDevice device) override {
    auto d = device == lifecycle::BootDevice::kPxe ? hardware::BootDevice::kPxe : hardware::BootDevice::kDisk;
    return hw_.SetBootDevice(core::RequestContext::System("lifecycle"), node.bmc.value_or(node.name), d, true);
  }

 private:
  hardware::Service& hw_;
};

}  // namespace

std::unique_ptr<lifecycle::NodeControl> MakeNodeControl(Platform& platform) {
  return std::make_unique<HardwareNodeControl>(platform.hardware());
}

std::string SigningKeyPath(const std::string& data_dir) {
  return (data_dir.empty() ? std::string(".") : data_dir) + "/audit-signing.key";
}

namespace {

// The firmware campaigns' alert gate: a critical incident about a server of the batch (or one
// of its parts, "<type>/<server>:<part>") with an alert firing since the batch started halts
// the campaign.
hardware::AlertGate MakeCampaignAlertGate(monitoring::Service& monitoring) {
  return [&monitoring](const std::vector<std::string>& servers, core::UnixNanos since) -> core::Status {
    auto rc = core::RequestContext::System("firmware-campaign");
    rc.principal.roles = {core::Role::kAdmin};  // every tenant's incidents
    monitoring::IncidentFilter f;
    f.limit = 1000;
    GANTRY_TRY(auto incidents, monitoring.ListIncidents(rc, f));
    for (const auto& i : incidents) {
      if (i.severity != "critical" || i.firing == 0 || i.updated_at < since) continue;
      auto slash = i.ci.find('/');
      std::string name = slash == std::string::npos ? std::string() : i.ci.substr(slash + 1);
      for (const auto& s : servers) {
        if (i.ci == "server/" + s || name.starts_with(s + ":")) {
          return core::FailedPrecondition("critical alert '" + i.alertname + "' on " + i.ci + " (incident " +
                                          std::to_string(i.id) + ")");
        }
      }
    }
    return {};
  };
}

}  // namespace

core::Result<std::unique_ptr<Platform>> Platform::Open(const PlatformOptions& o) {
  std::unique_ptr<Platform> p(new Platform());
  store::OpenOptions so;
  so.pool_size = o.pool_size;
  GANTRY_TRY(p->db_, store::Open(o.db_url, so));
  if (o.migrate) {
    GANTRY_TRY(auto applied, store::Migrate(*p->db_));
    for (int v : applied) spdlog::info("applied migration {}", v);
  }
  auto key = audit::LoadSigningKey(SigningKeyPath(o.data_dir), o.create_key);
  if (key) {
    p->key_ = std::move(*key);
  } else if (o.require_key) {
    return key.error();
  }
  p->slurm_ = o.slurm;
  p->kube_ = o.kube;
  p->reclaim_action_ = o.reclaim_action;
  const core::Clock& clock = core::SystemClock::Get();
  p->audit_ = std::make_unique<audit::Service>(*p->db_, clock, p->key_);
  p->auth_ = std::make_unique<auth::Service>(*p->db_, *p->audit_, clock);
  p->jobs_ = std::make_unique<jobs::Service>(*p->db_, *p->audit_, clock, p->job_types_);
  p->tenancy_ = std::make_unique<tenancy::Service>(*p->db_, *p->audit_, clock);
  p->cmdb_ = std::make_unique<cmdb::Service>(*p->db_, *p->audit_, clock);
  p->metering_ = std::make_unique<metering::Service>(*p->db_, *p->audit_, clock, &p->metrics_,
                                                      o.metering);
  p->billing_ = std::make_unique<metering::Billing>(*p->metering_, *p->audit_, &p->metrics_);
  p->remote_write_ = std::make_unique<metering::RemoteWriteReceiver>(*p->metering_, &p->metrics_);
  // Hard budgets: admission consults metering inside its own transaction.
  p->tenancy_->SetAdmissionGuard([billing = p->billing_.get()](
                                     store::Tx& tx, int64_t tenant, int64_t project,
                                     const std::vector<std::string>& resources) {
    return billing->CheckAdmission(tx, tenant, project, resources);
  });
  if (o.migrate) {
    GANTRY_TRY_STATUS(p->cmdb_->Init());
    GANTRY_TRY_STATUS(hardware::EnsureInventoryTypes(*p->cmdb_));
    GANTRY_TRY_STATUS(p->metering_->Init());
  }
  // BMC credentials are sealed under a key of their own in the data directory (created on first
  // use, 0600); without a data directory to hold it (offline admin commands) a throw-away key is
  // used, and those commands never touch BMCs.
  auto box = hardware::CredentialBox::Open(hardware::CredentialKeyPath(o.data_dir), o.require_key);
  if (!box && o.require_key) return box.error();
  if (!box) box = hardware::CredentialBox::FromKey(core::RandomBytes(32));
  p->hardware_ = std::make_unique<hardware::Service>(
      *p->db_, *p->audit_, clock, std::move(*box),
      std::make_shared<hardware::RealDriverFactory>(o.bmc, o.ipmitool));
  p->campaigns_ = std::make_unique<hardware::CampaignService>(*p->hardware_, *p->cmdb_, *p->jobs_);
  lifecycle::Options lo = o.lifecycle;
  if (lo.image_dir.empty()) lo.image_dir = (o.data_dir.empty() ? std::string(".") : o.data_dir) + "/images";
  p->node_control_ = MakeNodeControl(*p);
  p->lifecycle_ = std::make_unique<lifecycle::Service>(*p->db_, *p->audit_, clock, *p->jobs_, p->cmdb_.get(),
                                                       *p->node_control_, lo);
  if (o.migrate) {
    GANTRY_TRY_STATUS(p->lifecycle_->Init());
  }
  p->lifecycle_->RegisterJobTypes(p->job_types_);
  lifecycle::RegisterPlaybookJobType(p->job_types_, *p->cmdb_, o.playbooks);
  p->monitoring_ = std::make_unique<monitoring::Service>(*p->db_, *p->audit_, *p->cmdb_, clock, o.monitoring);
  p->campaigns_->SetAlertGate(MakeCampaignAlertGate(*p->monitoring_));
  RegisterCoreJobTypes(*p);
  if (o.admission.lanes > 0) p->tenancy_->EnableAdmissionBatching(o.admission);
  // Tenancy changes enqueue the sync jobs of the engines that enforce quotas here.
  std::vector<std::string> sync_types;
  if (p->slurm_.enabled) sync_types.push_back(tenancy::kSlurmSyncJobType);
  if (p->kube_.enabled()) sync_types.push_back(tenancy::kKubeSyncJobType);
  if (!sync_types.empty()) {
    p->tenancy_->SetEngineSyncHook(tenancy::MakeSyncTrigger(*p->jobs_, std::move(sync_types)));
  }
  if (p->slurm_.enabled) p->tenancy_->SetReclaimHook(tenancy::MakeReclaimTrigger(*p->jobs_));
  return p;
}

void RegisterCoreJobTypes(Platform& platform) {
  platform.job_types().Add(jobs::JobType{
      "demo.sleep",
      "Sleeps for `seconds` (1-3600), reporting progress every step; `fail_times` makes the "
      "first N attempts fail (to see retries).",
      [](const core::json::object& params) -> core::Status {
        GANTRY_TRY_STATUS(core::OnlyFields(params, {"seconds", "fail_times"}));
        GANTRY_TRY(auto secs, core::OptInt(params, "seconds"));
        if (secs && (*secs < 0 || *secs > 3600)) {
          return core::InvalidArgument("seconds must be between 0 and 3600", "seconds");
        }
        GANTRY_TRY(auto fails, core::OptInt(params, "fail_times"));
        if (fails && (*fails < 0 || *fails > 10)) {
          return core::InvalidArgument("fail_times must be between 0 and 10", "fail_times");
        }
        return {};
      },
      [](jobs::JobContext& ctx) -> core::Result<core::json::object> {
        int64_t secs = core::OptInt(ctx.params(), "seconds").value().value_or(5);
        int64_t fails = core::OptInt(ctx.params(), "fail_times").value().value_or(0);
        if (ctx.job().attempts <= fails) {
          ctx.Log("planned failure of attempt " + std::to_string(ctx.job().attempts));
          return core::Unavailable("planned failure " + std::to_string(ctx.job().attempts) + " of " +
                                   std::to_string(fails));
        }
        int steps = static_cast<int>(std::max<int64_t>(secs * 4, 1));
        for (int i = 1; i <= steps; ++i) {
          if (!ctx.Sleep(std::chrono::milliseconds(secs * 1000 / steps))) {
            return core::json::object{{"slept_steps", i - 1}};
          }
          ctx.Progress(i * 100 / steps, "step " + std::to_string(i) + " of " + std::to_string(steps));
          if (i % 4 == 0 || i == steps) ctx.Log("completed step " + std::to_string(i) + " of " + std::to_string(steps));
        }
        return core::json::object{{"slept_seconds", secs}};
      },
      true});

  platform.job_types().Add(jobs::JobType{
      "audit.checkpoint",
      "Signs the current head of the audit chain with the instance's Ed25519 key.",
      [](const core::json::object& params) { return core::OnlyFields(params, {}); },
      [&platform](jobs::JobContext& ctx) -> core::Result<core::json::object> {
        GANTRY_TRY(auto seq, platform.audit().Checkpoint());
        ctx.Progress(100, seq ? "signed event " + std::to_string(*seq) : "nothing new to sign");
        core::json::object o;
        o["seq"] = seq ? core::json::value(*seq) : core::json::value(nullptr);
        return o;
      },
      true});

  tenancy::RegisterSlurmSyncJobType(platform.job_types(), platform.db(), platform.slurm());
  tenancy::RegisterKubeSyncJobType(platform.job_types(), platform.db(), platform.kube());
  std::vector<std::shared_ptr<tenancy::UsageSource>> usage_sources;
  if (platform.slurm().enabled) {
    usage_sources.push_back(tenancy::MakeSlurmUsageSource(platform.db(), platform.slurm()));
  }
  tenancy::RegisterReclaimJobType(platform.job_types(), platform.slurm(),
                                  platform.reclaim_action());
  tenancy::RegisterUsageSnapshotJobType(platform.job_types(), platform.tenancy(),
                                        std::move(usage_sources));
  hardware::RegisterFanOutJobTypes(platform.job_types(), platform.hardware(), platform.cmdb());
  platform.campaigns().RegisterJobType(platform.job_types());
  metering::SlurmSourceConfig meter_slurm;
  meter_slurm.client = platform.slurm().client;
  meter_slurm.prefix = platform.slurm().prefix;
  metering::RegisterJobTypes(platform.job_types(), platform.metering(), platform.billing(),
                             meter_slurm);
  monitoring::RegisterMaintenanceJobType(platform.job_types(), platform.monitoring().maintenance());
  // The firmware campaign's alert gate: no new critical alert on the batch (monitoring/maintenance.h).
  platform.campaigns().SetAlertGate([&m = platform.monitoring().maintenance()](
                                        const std::vector<std::string>& servers, core::UnixNanos since) {
    return m.ServersQuietSince(servers, since);
  });
}

}  // namespace gantry::app
