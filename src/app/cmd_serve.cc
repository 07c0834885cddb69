// gantry serve: the control plane.
#include <spdlog/spdlog.h>
#include <yaml-cpp/yaml.h>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

#include "app/commands.h"
#include "app/platform.h"
#include "app/routes.h"
#include "audit/http_api.h"
#include "auth/http_api.h"
#include "auth/policy.h"
#include "core/log.h"
#include "http/pipeline.h"
#include "http/server.h"
#include "http/static_files.h"
#include "jobs/worker.h"
#include "metering/jobs.h"
#include "tenancy/usage.h"

namespace gantry::app {

namespace {

struct ServeFlags {
  std::string config;
  std::string db = "sqlite:gantry.db";
  std::string data_dir = "data";
  std::string listen = "127.0.0.1:8080";
  std::string port_file;
  std::string web_root;
  std::string tls_cert, tls_key;
  int threads = 0;
  int workers = 4;
  size_t body_limit = 1024 * 1024;
  size_t header_limit = 16 * 1024;
  int read_timeout_s = 30;
  int idle_timeout_s = 60;
  int checkpoint_interval_s = 60;
  std::string slurm_conf;            // empty: the tools' default (SLURM_CONF or /etc/slurm)
  std::string slurm_policy = "report";
  int slurm_sync_interval_s = 0;     // 0: no periodic tenancy.slurm_sync
  std::string kube_server;           // empty: no Kubernetes enforcement
  std::string kube_token_file;
  std::string kube_ca_file;
  int kube_sync_interval_s = 0;      // 0: no periodic tenancy.kube_sync
  int usage_snapshot_interval_s = 300;  // 0: no periodic tenancy.usage_snapshot
  int admission_lanes = 8;           // 0: one transaction per admission decision
  int admission_batch = 64;
  std::string reclaim_action = "requeue";
  int bmc_timeout_ms = 10000;        // one request to a BMC
  int bmc_connect_timeout_ms = 3000;
  std::string ipmitool = "ipmitool";
  int metering_interval_s = 0;       // 0: no periodic metering.slurm_collect + metering.budgets
  int metering_late_window_h = 168;  // usage older than this is quarantined as late
  std::string currency = "USD";
  std::vector<std::string> notify_webhooks;  // incident notifications
  int agent_port = 9400;             // port of `gantry agent` in the HTTP SD targets
  std::string prometheus_url;        // tenant-safe metrics queries go there
  std::string alertmanager_url;      // maintenance silences go there
  bool metrics_public = false;
  bool access_log = true;
  std::string log_level = "info";
  std::string log_format = "text";
};

// Applies keys of a YAML config file to options not given on the command line or environment.
void ApplyConfigFile(CLI::App& cmd, const std::string& path) {
  YAML::Node root;
  try {
    root = YAML::LoadFile(path);
  } catch (const std::exception& e) {
    Fail(kExitUsage, "cannot read config file '" + path + "': " + e.what());
  }
  if (!root.IsMap()) Fail(kExitUsage, "config file '" + path + "' must be a YAML mapping");
  for (const auto& kv : root) {
    std::string key = kv.first.as<std::string>();
    std::string flag = "--" + key;
    for (auto& c : flag) if (c == '_') c = '-';
    CLI::Option* opt = nullptr;
    try {
      opt = cmd.get_option(flag);
    } catch (const CLI::OptionNotFound&) {
      Fail(kExitUsage, "config file '" + path + "': unknown key '" + key + "'");
    }
    if (opt->count() > 0) continue;  // the command line wins
    std::string value = kv.second.as<std::string>();
    opt->clear();
    opt->add_result(value);
    opt->run_callback();
  }
}

int Serve(CLI::App& cmd, ServeFlags& f) {
  if (!f.config.empty()) ApplyConfigFile(cmd, f.config);
  core::InitLogging(f.log_level, f.log_format == "json" ? core::LogFormat::kJson : core::LogFormat::kText);

  // Block the stop signals in every thread; one watcher thread waits for them.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGTERM);
  sigaddset(&stop_signals, SIGINT);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  PlatformOptions po;
  po.db_url = f.db;
  po.data_dir = f.data_dir;
  po.pool_size = std::max(8, f.workers + 8) + f.admission_lanes;
  if (!f.slurm_conf.empty()) po.slurm.client.env["SLURM_CONF"] = f.slurm_conf;
  po.metering.late_window = int64_t{f.metering_late_window_h} * 3600 * core::kNanosPerSecond;
  po.metering.currency = f.currency;
  po.slurm.default_policy =
      f.slurm_policy == "repair" ? slurm::DriftPolicy::kRepair : slurm::DriftPolicy::kReport;
  po.slurm.enabled = !f.slurm_conf.empty() || f.slurm_sync_interval_s > 0;
  po.admission = {.lanes = f.admission_lanes, .max_batch = f.admission_batch};
  po.reclaim_action = f.reclaim_action;
  if (!f.kube_server.empty()) {
    if (f.kube_server.rfind("https://", 0) != 0 && f.kube_server.rfind("http://", 0) != 0) {
      Fail(kExitUsage, "--kube-server must be an http(s):// URL");
    }
    po.kube.client.server = f.kube_server;
    po.kube.client.ca_file = f.kube_ca_file;
    if (!f.kube_token_file.empty()) {
      std::ifstream in(f.kube_token_file);
      if (!in) Fail(kExitUsage, "cannot read --kube-token-file '" + f.kube_token_file + "'");
      std::getline(in, po.kube.client.token);
      if (po.kube.client.token.empty() || po.kube.client.token.size() > 16384) {
        Fail(kExitUsage, "--kube-token-file '" + f.kube_token_file + "' holds no usable token");
      }
    }
  }
  po.bmc.timeout = std::chrono::milliseconds(f.bmc_timeout_ms);
  po.bmc.connect_timeout = std::chrono::milliseconds(f.bmc_connect_timeout_ms);
  po.ipmitool = f.ipmitool;
  po.monitoring.notify_webhooks = f.notify_webhooks;
  po.monitoring.targets.agent_port = f.agent_port;
  po.monitoring.prometheus_url = f.prometheus_url;
  po.monitoring.alertmanager_url = f.alertmanager_url;
  auto platform = Platform::Open(po);
  if (!platform) Fail(kExitUnavailable, platform.error().message);
  Platform& p = **platform;
  spdlog::info("database {}", p.db().Describe());
  auto key_pub = p.audit().PublishPublicKey();
  if (!key_pub) spdlog::warn("cannot publish the audit public key: {}", key_pub.error().message);

  p.metrics().AddCollector([&p](std::string& out) {
    auto s = p.db().Stats();
    core::RenderGauge(out, "gantry_db_pool_connections", "Database pool connections by state",
                      {{"{state=\"in_use\"}", s.in_use}, {"{state=\"idle\"}", s.size - s.in_use}});
    core::RenderGauge(out, "gantry_db_pool_waits", "Times a caller waited for a connection (total)",
                      {{"", static_cast<double>(s.waits)}});
  });

  jobs::WorkerOptions wo;
  wo.concurrency = f.workers;
  jobs::WorkerPool workers(p.jobs(), wo);
  workers.RegisterMetrics(p.metrics());

  http::Router router;
  BuildRouter(router, p, RouteOptions{f.metrics_public, &workers});
  // Tenant memberships go into every authenticated principal (whoami, tenant scopes). A
  // database error yields no memberships: fail closed.
  auth::HttpAuthenticator authn(p.auth(), [&p](int64_t user_id) {
    auto m = p.tenancy().Memberships(user_id);
    if (!m) {
      spdlog::warn("cannot read tenant memberships of user {}: {}", user_id, m.error().message);
      return std::vector<core::TenantMembership>{};
    }
    return std::move(*m);
  });
  auth::PolicyAuthorizer authz;
  audit::SecurityEventsSink security(p.audit());
  http::StaticFiles static_files = http::StaticFiles::Load(f.web_root);
  if (!f.web_root.empty() && static_files.size() <= 1) {
    spdlog::warn("web root '{}' has no built portal; run 'npm ci && npm run build' in web/", f.web_root);
  }
  http::Pipeline pipeline(http::PipelineDeps{&router, &authn, &authz, &security, nullptr,
                                             &static_files, &p.metrics(), f.access_log});

  http::ServerOptions so;
  so.listen = f.listen;
  so.threads = f.threads;
  so.body_limit = f.body_limit;
  so.header_limit = f.header_limit;
  so.read_timeout = std::chrono::seconds(f.read_timeout_s);
  so.idle_timeout = std::chrono::seconds(f.idle_timeout_s);
  so.tls_cert_file = f.tls_cert;
  so.tls_key_file = f.tls_key;
  auto server = http::Server::Start(so, [&pipeline](http::Request& r) { return pipeline.Handle(r); });
  if (!server) Fail(kExitUnavailable, server.error().message);
  std::string scheme = f.tls_cert.empty() ? "http" : "https";
  std::string host = f.listen.substr(0, f.listen.rfind(':'));
  spdlog::info("listening on {}://{}:{}", scheme, host, (*server)->port());
  if (!f.port_file.empty()) {
    std::string tmp = f.port_file + ".tmp";
    std::ofstream(tmp) << (*server)->port() << "\n";
    std::filesystem::rename(tmp, f.port_file);
  }
  workers.Start();

  std::atomic<bool> stopping{false};
  std::mutex stop_mu;
  std::condition_variable stop_cv;
  std::thread checkpointer([&] {
    std::unique_lock lock(stop_mu);
    while (!stop_cv.wait_for(lock, std::chrono::seconds(f.checkpoint_interval_s),
                             [&] { return stopping.load(); })) {
      if (auto st = p.audit().Checkpoint(); !st) {
        spdlog::warn("audit checkpoint failed: {}", st.error().message);
      }
    }
  });
  // Other replicas' CMDB changes reach this replica's graph index through the history table.
  std::thread cmdb_sync([&] {
    std::unique_lock lock(stop_mu);
    while (!stop_cv.wait_for(lock, std::chrono::seconds(2), [&] { return stopping.load(); })) {
      lock.unlock();
      if (auto st = p.cmdb().Sync(); !st) spdlog::warn("cmdb graph sync failed: {}", st.error().message);
      // CIs entering or leaving maintenance: the silences follow (monitoring/maintenance.h).
      auto m = monitoring::EnqueueMaintenanceSyncIfPending(p.monitoring().maintenance(), p.jobs());
      if (!m) spdlog::warn("maintenance silence check failed: {}", m.error().message);
      else if (*m) workers.Poke();
      lock.lock();
    }
  });
  // Periodic reconcile of an engine: enqueues its sync job unless one is queued or running.
  auto periodic_sync = [&](const char* type, int interval_s) {
    if (interval_s <= 0) return;
    std::unique_lock lock(stop_mu);
    while (!stop_cv.wait_for(lock, std::chrono::seconds(interval_s),
                             [&] { return stopping.load(); })) {
      lock.unlock();
      bool busy = false;
      for (const char* state : {jobs::kQueued, jobs::kRunning}) {
        jobs::ListFilter lf;
        lf.type = type;
        lf.state = state;
        lf.limit = 1;
        auto l = p.jobs().List(core::RequestContext::System(), lf);
        busy = busy || (l && !l->empty());
      }
      if (!busy) {
        auto j = p.jobs().Enqueue(core::RequestContext::System(),
                                  jobs::NewJob{type, {}, 3, std::nullopt});
        if (!j) spdlog::warn("cannot enqueue {}: {}", type, j.error().message);
        else workers.Poke();
      }
      lock.lock();
    }
  };
  std::thread slurm_sync([&] { periodic_sync(tenancy::kSlurmSyncJobType, f.slurm_sync_interval_s); });
  std::thread kube_sync([&] { periodic_sync(tenancy::kKubeSyncJobType, f.kube_sync_interval_s); });
  std::thread usage_snapshot(
      [&] { periodic_sync(tenancy::kUsageSnapshotJobType, f.usage_snapshot_interval_s); });
  // Periodic metering: Slurm accounting collection and budget evaluation (alerts, holds).
  std::thread metering_timer([&] {
    if (f.metering_interval_s <= 0) return;
    std::unique_lock lock(stop_mu);
    while (!stop_cv.wait_for(lock, std::chrono::seconds(f.metering_interval_s),
                             [&] { return stopping.load(); })) {
      lock.unlock();
      std::vector<std::string> types = {metering::kBudgetsJobType};
      if (!f.slurm_conf.empty()) types.insert(types.begin(), metering::kSlurmCollectJobType);
      for (const auto& type : types) {
        auto j = p.jobs().Enqueue(core::RequestContext::System(), jobs::NewJob{type, {}, 3, std::nullopt});
        if (!j) spdlog::warn("cannot enqueue {}: {}", type, j.error().message);
      }
      workers.Poke();
      lock.lock();
    }
  });
  std::thread watcher([&] {
    int sig = 0;
    sigwait(&stop_signals, &sig);
    if (stopping) return;
    spdlog::info("received {}; draining", sig == SIGTERM ? "SIGTERM" : "SIGINT");
    (*server)->Shutdown();
  });

  (*server)->Run();
  spdlog::info("HTTP server drained; stopping job workers");
  workers.Stop();
  {
    std::lock_guard lock(stop_mu);
    stopping = true;
  }
  stop_cv.notify_all();
  checkpointer.join();
  cmdb_sync.join();
  slurm_sync.join();
  kube_sync.join();
  usage_snapshot.join();
  metering_timer.join();
  if (auto st = p.audit().Checkpoint(); !st) spdlog::warn("final audit checkpoint failed: {}", st.error().message);
  pthread_kill(watcher.native_handle(), SIGTERM);
  watcher.join();
  spdlog::info("stopped");
  return 0;
}

}  // namespace

void RegisterServe(CLI::App& app) {
  auto f = std::make_shared<ServeFlags>();
  auto* cmd = app.add_subcommand("serve", "Run the control plane: REST API, web portal, job workers");
  cmd->footer(
      "Every option can also come from a YAML file (--config, keys named like the options with\n"
      "'_' or '-') or from GANTRY_<OPTION> environment variables. Example:\n"
      "  gantry admin init --db sqlite:gantry.db --data-dir data\n"
      "  gantry serve --db sqlite:gantry.db --data-dir data --web-root web/dist");
  cmd->add_option("--config", f->config, "YAML configuration file")->envname("GANTRY_CONFIG_FILE");
  cmd->add_option("--db", f->db, "Database: sqlite:PATH or postgres://USER@HOST:PORT/DB")
      ->envname("GANTRY_DB")->capture_default_str();
  cmd->add_option("--data-dir", f->data_dir, "Directory holding the audit signing key and other secrets")
      ->envname("GANTRY_DATA_DIR")->capture_default_str();
  cmd->add_option("--listen", f->listen, "HOST:PORT to listen on (port 0: any free port)")
      ->envname("GANTRY_LISTEN")->capture_default_str();
  cmd->add_option("--port-file", f->port_file, "Write the bound port to this file once listening");
  cmd->add_option("--web-root", f->web_root, "Directory of the built web portal (web/dist)")
      ->envname("GANTRY_WEB_ROOT");
  cmd->add_option("--tls-cert", f->tls_cert, "PEM certificate chain: serve HTTPS")->envname("GANTRY_TLS_CERT");
  cmd->add_option("--tls-key", f->tls_key, "PEM private key for --tls-cert")->envname("GANTRY_TLS_KEY");
  cmd->add_option("--threads", f->threads, "HTTP threads (0: 2 × cores, at least 4)")->capture_default_str();
  cmd->add_option("--workers", f->workers, "Job worker threads")->check(CLI::Range(0, 256))->capture_default_str();
  cmd->add_option("--body-limit", f->body_limit, "Largest request body in bytes (413 above)")->capture_default_str();
  cmd->add_option("--header-limit", f->header_limit, "Largest request header block in bytes (413 above)")->capture_default_str();
  cmd->add_option("--read-timeout", f->read_timeout_s, "Seconds to receive one whole request")->capture_default_str();
  cmd->add_option("--idle-timeout", f->idle_timeout_s, "Seconds an idle keep-alive connection stays open")->capture_default_str();
  cmd->add_option("--checkpoint-interval", f->checkpoint_interval_s, "Seconds between signed audit checkpoints")
      ->check(CLI::Range(1, 86400))->capture_default_str();
  cmd->add_option("--slurm-conf", f->slurm_conf,
                  "slurm.conf of the cluster Gantry enforces quotas in (sets SLURM_CONF for the Slurm tools)")
      ->envname("GANTRY_SLURM_CONF");
  cmd->add_option("--slurm-policy", f->slurm_policy,
                  "Default policy of tenancy.slurm_sync: report (flag drift) or repair (fix it)")
      ->envname("GANTRY_SLURM_POLICY")->check(CLI::IsMember({"report", "repair"}))->capture_default_str();
  cmd->add_option("--slurm-sync-interval", f->slurm_sync_interval_s,
                  "Seconds between periodic tenancy.slurm_sync jobs (0: off)")
      ->envname("GANTRY_SLURM_SYNC_INTERVAL")->check(CLI::Range(0, 86400))->capture_default_str();
  cmd->add_option("--admission-lanes", f->admission_lanes,
                  "Admission decisions made concurrently in batches (group commit); 0: one "
                  "transaction per decision")
      ->envname("GANTRY_ADMISSION_LANES")->check(CLI::Range(0, 256))->capture_default_str();
  cmd->add_option("--admission-batch", f->admission_batch,
                  "Most admission decisions per batch transaction")
      ->envname("GANTRY_ADMISSION_BATCH")->check(CLI::Range(1, 4096))->capture_default_str();
  cmd->add_option("--usage-snapshot-interval", f->usage_snapshot_interval_s,
                  "Seconds between tenancy.usage_snapshot jobs (quota, reserved, used per tenant "
                  "over time; 0: off)")
      ->envname("GANTRY_USAGE_SNAPSHOT_INTERVAL")->check(CLI::Range(0, 86400))->capture_default_str();
  cmd->add_option("--reclaim-action", f->reclaim_action,
                  "What happens to the Slurm job of a reservation reclaimed for its cohort's "
                  "owner: requeue, cancel or none")
      ->envname("GANTRY_RECLAIM_ACTION")->check(CLI::IsMember({"requeue", "cancel", "none"}))
      ->capture_default_str();
  cmd->add_option("--kube-server", f->kube_server,
                  "Kubernetes API server Gantry enforces project quotas in (https://host:6443); "
                  "empty: off")
      ->envname("GANTRY_KUBE_SERVER");
  cmd->add_option("--kube-token-file", f->kube_token_file,
                  "File holding the bearer token (a ServiceAccount token) for the API server")
      ->envname("GANTRY_KUBE_TOKEN_FILE");
  cmd->add_option("--kube-ca-file", f->kube_ca_file,
                  "PEM file of the cluster CA (empty: the system trust store)")
      ->envname("GANTRY_KUBE_CA_FILE");
  cmd->add_option("--kube-sync-interval", f->kube_sync_interval_s,
                  "Seconds between periodic tenancy.kube_sync jobs (0: off)")
      ->envname("GANTRY_KUBE_SYNC_INTERVAL")->check(CLI::Range(0, 86400))->capture_default_str();
  cmd->add_option("--bmc-timeout-ms", f->bmc_timeout_ms, "Milliseconds one request to a BMC may take")
      ->envname("GANTRY_BMC_TIMEOUT_MS")->check(CLI::Range(100, 600000))->capture_default_str();
  cmd->add_option("--bmc-connect-timeout-ms", f->bmc_connect_timeout_ms, "Milliseconds to connect to a BMC")
      ->envname("GANTRY_BMC_CONNECT_TIMEOUT_MS")->check(CLI::Range(100, 600000))->capture_default_str();
  cmd->add_option("--ipmitool", f->ipmitool, "The ipmitool program for IPMI BMCs")
      ->envname("GANTRY_IPMITOOL")->capture_default_str();
  cmd->add_option("--metering-interval", f->metering_interval_s,
                  "Seconds between periodic metering.slurm_collect (with --slurm-conf) and "
                  "metering.budgets jobs (0: off)")
      ->envname("GANTRY_METERING_INTERVAL")->check(CLI::Range(0, 86400))->capture_default_str();
  cmd->add_option("--metering-late-window", f->metering_late_window_h,
                  "Hours after which arriving usage is quarantined as late")
      ->envname("GANTRY_METERING_LATE_WINDOW")->check(CLI::Range(1, 24 * 366))->capture_default_str();
  cmd->add_option("--currency", f->currency, "Currency of the price book (ISO 4217 code)")
      ->envname("GANTRY_CURRENCY")->capture_default_str();
  cmd->add_option("--notify-webhook", f->notify_webhooks,
                  "URL that receives every incident change as JSON (repeatable)")
      ->envname("GANTRY_NOTIFY_WEBHOOK");
  cmd->add_option("--prometheus-url", f->prometheus_url,
                  "Prometheus base URL for /api/v1/metrics/query (tenant-scoped PromQL)")
      ->envname("GANTRY_PROMETHEUS_URL");
  cmd->add_option("--alertmanager-url", f->alertmanager_url,
                  "Alertmanager base URL for maintenance silences (v2 API)")
      ->envname("GANTRY_ALERTMANAGER_URL");
  cmd->add_option("--agent-port", f->agent_port, "Port of `gantry agent` in the Prometheus HTTP SD targets")
      ->check(CLI::Range(1, 65535))->capture_default_str();
  cmd->add_flag("--metrics-public", f->metrics_public, "Serve /metrics without authentication");
  cmd->add_flag("!--no-access-log", f->access_log, "Do not log every request");
  cmd->add_option("--log-level", f->log_level, "trace, debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error"}))->capture_default_str();
  cmd->add_option("--log-format", f->log_format, "text or json")->check(CLI::IsMember({"text", "json"}))->capture_default_str();
  cmd->callback([cmd, f] {
    int rc = Serve(*cmd, *f);
    if (rc != 0) throw CLI::RuntimeError(rc);
  });
}

}  // namespace gantry::app
