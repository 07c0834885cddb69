#include "app/routes.h"

#include "audit/http_api.h"
#include "auth/http_api.h"
#include "cmdb/http_api.h"
#include "core/embedded.h"
#include "hardware/http_api.h"
#include "jobs/http_api.h"
#include "jobs/worker.h"
#include "metering/http_api.h"
#include "metering/remote_write.h"
#include "monitoring/http_api.h"
#include "store/migrate.h"
#include "tenancy/http_api.h"
#include "tenancy/slurm_sync.h"
#include "tenancy/sync.h"
#include "tenancy/usage.h"

namespace gantry::app::openapi {
const std::vector<core::EmbeddedFile>& EmbeddedFiles();
}

namespace gantry::app {

using core::Result;
using http::Context;
using http::Response;

std::string_view OpenApiDocument() { return openapi::EmbeddedFiles().at(0).data; }

void BuildRouter(http::Router& router, Platform& platform, const RouteOptions& options) {
  router.Add({"GET", "/healthz", "", http::Auth::kPublic}, [](Context&) -> Result<Response> {
    return Response::Json({{"status", "ok"}});
  });
  router.Add({"GET", "/readyz", "", http::Auth::kPublic}, [&platform](Context&) -> Result<Response> {
    core::json::object o;
    bool ready = true;
    if (auto st = platform.db().Ping(); !st) {
      ready = false;
      o["database"] = "unreachable";
    } else {
      o["database"] = "ok";
      auto v = store::CurrentVersion(platform.db());
      int current = v ? *v : 0;
      o["schema_version"] = current;
      o["schema_latest"] = store::LatestVersion();
      if (current != store::LatestVersion()) ready = false;
    }
    o["status"] = ready ? "ready" : "not ready";
    return Response::Json(o, ready ? 200 : 503);
  });
  router.Add({"GET", "/metrics", options.metrics_public ? "" : "metrics.read",
              options.metrics_public ? http::Auth::kPublic : http::Auth::kRequired},
             [&platform](Context&) -> Result<Response> {
               return Response::Text(platform.metrics().Render(),
                                     "text/plain; version=0.0.4; charset=utf-8");
             });
  router.Add({"GET", "/api/v1/openapi.json", "", http::Auth::kPublic},
             [](Context&) -> Result<Response> {
               return Response::Text(std::string(OpenApiDocument()), "application/json");
             });

  auth::RegisterRoutes(router, platform.auth());
  audit::RegisterRoutes(router, platform.audit());
  jobs::RegisterRoutes(router, platform.jobs(), options.workers);
  tenancy::RegisterRoutes(router, platform.tenancy());
  monitoring::RegisterRoutes(router, platform.monitoring());
  tenancy::RegisterSlurmRoutes(router, platform.tenancy(), platform.slurm());
  tenancy::RegisterUsageRoutes(router, platform.tenancy());
  tenancy::RegisterSyncRoutes(
      router, platform.jobs(),
      {{"slurm", tenancy::kSlurmSyncJobType, platform.slurm().enabled,
        {{"policy", platform.slurm().default_policy == slurm::DriftPolicy::kRepair ? "repair"
                                                                                  : "report"},
         {"prefix", platform.slurm().prefix}}},
       {"kubernetes", tenancy::kKubeSyncJobType, platform.kube().enabled(),
        {{"server", platform.kube().client.server}}}});
  cmdb::RegisterRoutes(router, platform.cmdb());
  cmdb::RegisterImportRoutes(router, platform.cmdb());
  hardware::RegisterRoutes(router, platform.hardware(), platform.cmdb(), platform.jobs(),
                           platform.campaigns(), [workers = options.workers] {
                             if (workers) workers->Poke();
                           });
  metering::RegisterRoutes(router, platform.metering(), platform.billing());
  metering::RegisterRemoteWriteRoutes(router, platform.remote_write());
}

}  // namespace gantry::app
