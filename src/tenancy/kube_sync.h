// Tenancy → Kubernetes: one namespace per project with a ResourceQuota and a LimitRange rendered
// from the quotas (integrations/kubernetes/render.h) and applied by server-side apply, as the
// durable job `tenancy.kube_sync`. User guide: docs/kubernetes.md.
//
// What a project's namespace gets (BuildKubeProjects):
//   every resource with a project quota    → the project's ceiling (burst when set, else
//                                            guaranteed)
//   a tenant quota the project does not    → the tenant's ceiling (burst when the tenant is in a
//   override                                 cohort and has one, else guaranteed): Kubernetes has
//                                            no hierarchical quota, so a project that shares its
//                                            tenant's capacity may use at most all of it; the
//                                            shared total is enforced by Gantry's admission
//   a disabled tenant                      → `instances` (pods) 0: no new pods, running ones stay
// A tenant without projects has nothing in Kubernetes. Names that do not fit a namespace (tenant
// + project slug over 55 characters) are skipped and listed, never an error.
//
// The job never writes tenancy's tables: an unreachable API server (kUnavailable) fails the
// attempt with the reason and the worker retries with back-off; other answers (403 RBAC, 422
// validation) are per project: the others are still applied and the job fails at the end with
// every reason (kFailedPrecondition, no retry). The status route shows the outcome.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "core/json.h"
#include "integrations/kubernetes/client.h"
#include "integrations/kubernetes/render.h"
#include "jobs/service.h"
#include "store/database.h"

namespace gantry::tenancy {

inline constexpr char kKubeSyncJobType[] = "tenancy.kube_sync";

struct KubeSyncConfig {
  kubernetes::KubeClientOptions client;  // server empty: Kubernetes enforcement is off
  // The HTTP exchange; null: libcurl (CurlTransport with the client's CA and timeouts). Tests
  // plug in a recording transport.
  std::shared_ptr<kubernetes::Transport> transport;
  bool enabled() const { return !client.server.empty(); }
};

struct KubePlan {
  std::vector<kubernetes::ProjectQuota> projects;  // by tenant, then project slug
  std::vector<std::string> skipped;                // "acme/p1: namespace name (...)"
};

// Reads every tenant, project and quota (one read transaction, the system's view).
core::Result<KubePlan> BuildKubeProjects(store::Database& db);

// Registers `tenancy.kube_sync` (no params). Not configured: the job fails at once saying so.
void RegisterKubeSyncJobType(jobs::Registry& registry, store::Database& db, KubeSyncConfig config);

}  // namespace gantry::tenancy
