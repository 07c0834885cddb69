// Wiring: opens the database, loads keys and builds every service with its real dependencies.
// Shared by `gantry serve` and the offline `gantry admin` commands, and by the tests that need
// a whole platform in process.
#pragma once

#include <memory>
#include <string>

#include "audit/service.h"
#include "auth/service.h"
#include "cmdb/service.h"
#include "core/clock.h"
#include "core/metrics.h"
#include "hardware/campaign.h"
#include "hardware/service.h"
#include "jobs/service.h"
#include "metering/billing.h"
#include "metering/remote_write.h"
#include "metering/service.h"
#include "monitoring/service.h"
#include "store/database.h"
#include "tenancy/service.h"
#include "tenancy/kube_sync.h"
#include "tenancy/slurm_sync.h"

namespace gantry::app {

struct PlatformOptions {
  std::string db_url;
  std::string data_dir;
  bool create_key = false;   // create the audit signing key when missing (admin init)
  bool require_key = true;   // fail when the key is missing
  bool migrate = true;
  int pool_size = 16;
  // Slurm connection and policy of the tenancy.slurm_sync job and the Slurm routes (gantry
  // serve: --slurm-conf, --slurm-policy).
  tenancy::SlurmSyncConfig slurm;
  // Kubernetes API server of the tenancy.kube_sync job (gantry serve: --kube-server, ...).
  tenancy::KubeSyncConfig kube;
  // Group commit of admission decisions (tenancy/admission.h); lanes 0: one transaction each.
  tenancy::AdmissionBatching admission{.lanes = 0, .max_batch = 64};
  // What tenancy.reclaim does to the Slurm job of a reclaimed reservation: requeue|cancel|none.
  std::string reclaim_action = "requeue";
  // BMC timeouts and the ipmitool program (gantry serve: --bmc-timeout-ms, --bmc-connect-timeout-ms).
  hardware::DriverOptions bmc;
  std::string ipmitool = "ipmitool";
  // Metering: late window, clock skew, currency (gantry serve: --metering-late-window, ...).
  metering::Options metering;
  // Monitoring: notification webhooks, agent port in the HTTP SD targets (gantry serve:
  // --notify-webhook, --agent-port).
  monitoring::MonitoringConfig monitoring;
};

class Platform {
 public:
  static core::Result<std::unique_ptr<Platform>> Open(const PlatformOptions& options);

  store::Database& db() { return *db_; }
  audit::Service& audit() { return *audit_; }
  auth::Service& auth() { return *auth_; }
  jobs::Service& jobs() { return *jobs_; }
  cmdb::Service& cmdb() { return *cmdb_; }
  tenancy::Service& tenancy() { return *tenancy_; }
  hardware::Service& hardware() { return *hardware_; }
  hardware::CampaignService& campaigns() { return *campaigns_; }
  metering::Service& metering() { return *metering_; }
  metering::Billing& billing() { return *billing_; }
  metering::RemoteWriteReceiver& remote_write() { return *remote_write_; }
  monitoring::Service& monitoring() { return *monitoring_; }
  jobs::Registry& job_types() { return job_types_; }
  core::MetricsRegistry& metrics() { return metrics_; }
  const std::optional<audit::SigningKey>& key() const { return key_; }
  const core::Clock& clock() const { return core::SystemClock::Get(); }
  const tenancy::SlurmSyncConfig& slurm() const { return slurm_; }
  const tenancy::KubeSyncConfig& kube() const { return kube_; }
  const std::string& reclaim_action() const { return reclaim_action_; }

 private:
  Platform() = default;
  std::unique_ptr<store::Database> db_;
  std::optional<audit::SigningKey> key_;
  tenancy::SlurmSyncConfig slurm_;
  tenancy::KubeSyncConfig kube_;
  std::string reclaim_action_;
  core::MetricsRegistry metrics_;
  std::unique_ptr<audit::Service> audit_;
  std::unique_ptr<auth::Service> auth_;
  jobs::Registry job_types_;
  std::unique_ptr<jobs::Service> jobs_;
  std::unique_ptr<tenancy::Service> tenancy_;
  std::unique_ptr<cmdb::Service> cmdb_;
  std::unique_ptr<hardware::Service> hardware_;
  std::unique_ptr<hardware::CampaignService> campaigns_;
  std::unique_ptr<metering::Service> metering_;
  std::unique_ptr<metering::Billing> billing_;
  std::unique_ptr<metering::RemoteWriteReceiver> remote_write_;
  std::unique_ptr<monitoring::Service> monitoring_;
};

std::string SigningKeyPath(const std::string& data_dir);

// Registers the built-in job types (demo.sleep, audit.checkpoint, tenancy.slurm_sync,
// tenancy.kube_sync, tenancy.reclaim, tenancy.usage_snapshot, hardware.*).
void RegisterCoreJobTypes(Platform& platform);

}  // namespace gantry::app
