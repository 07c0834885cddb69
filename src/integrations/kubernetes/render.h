// Renders a project's quota as the three Kubernetes objects Gantry owns per project: a Namespace,
// a ResourceQuota and a LimitRange. Pure functions, no I/O, no business rules: tenancy decides
// the amounts; this file only spells them the way the API server reads them. Mapping table and
// the reasons behind each choice: docs/kubernetes.md.
//
//   Gantry          ResourceQuota spec.hard                    amount
//   gpu/<model>     requests.nvidia.com/gpu                    sum over all models (count)
//   mig/<profile>   requests.nvidia.com/mig-<profile>          count (MIG strategy "mixed")
//   cpu             requests.cpu, limits.cpu                   whole cores, "8"
//   memory          requests.memory, limits.memory             bytes: "64Gi", "96Mi", "1000"
//   storage         requests.storage                           bytes, same spelling
//   instances       pods                                       count of non-terminal pods
//   nodes           (none: bare-metal nodes are not a Kubernetes resource; reported as skipped)
//
// Per-model GPU keys are not rendered: NVIDIA's device plugin advertises every model as
// `nvidia.com/gpu`, so a key like `requests.nvidia.com/gpu-h100` would limit nothing. The
// per-model split is kept on the ResourceQuota as the annotation `gantry.dev/gpu-models`
// ("a100=2,h100=4") for people and drift checks.
//
// Output is deterministic: CanonicalJson sorts object keys at every level, indents by two spaces
// and ends with a newline, so golden files are stable.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "core/json.h"

namespace gantry::kubernetes {

// Labels put on every object Gantry renders.
inline constexpr char kLabelTenant[] = "gantry.dev/tenant";
inline constexpr char kLabelProject[] = "gantry.dev/project";
inline constexpr char kLabelManagedBy[] = "app.kubernetes.io/managed-by";
inline constexpr char kManagedByValue[] = "gantry";
inline constexpr char kAnnotationGpuModels[] = "gantry.dev/gpu-models";
inline constexpr char kResourceQuotaName[] = "gantry-quota";
inline constexpr char kLimitRangeName[] = "gantry-defaults";

// Default request and limit for every container of the namespace that does not set its own
// (LimitRange type Container). Without them a pod that omits requests.cpu / requests.memory is
// refused by the quota admission plugin. CPU in millicores (Kubernetes' own granularity; a
// container default of whole cores would be too coarse), memory in bytes. Unset fields are not
// rendered; a request must be <= its limit.
struct ContainerDefaults {
  std::optional<int64_t> cpu_request_millis;
  std::optional<int64_t> cpu_limit_millis;
  std::optional<int64_t> memory_request_bytes;
  std::optional<int64_t> memory_limit_bytes;
};

// Used when a ProjectQuota carries no limits: 100m / 1 CPU, 256Mi / 1Gi memory.
ContainerDefaults DefaultContainerDefaults();

struct ProjectQuota {
  std::string tenant;   // slug
  std::string project;  // slug
  // Gantry resource name → amount in base units (types.h of tenancy): the project's ceiling.
  std::map<std::string, int64_t> hard;
  std::optional<ContainerDefaults> limits;  // none: DefaultContainerDefaults()
};

struct Rendered {
  std::string namespace_name;
  core::json::object namespace_obj;
  core::json::object resource_quota;
  core::json::object limit_range;
  std::vector<std::string> skipped;  // Gantry resources without a Kubernetes counterpart (nodes)
};

// "gantry-<tenant>-<project>". Both slugs must be DNS labels ([a-z0-9-], starting with a letter,
// not ending with '-') and the result at most 63 characters; otherwise InvalidArgument.
core::Result<std::string> NamespaceName(std::string_view tenant, std::string_view project);

// The three objects. Unknown resource names (and negative or oversized amounts) are
// InvalidArgument; the message lists the supported names.
core::Result<Rendered> Render(const ProjectQuota& quota);

// Gantry {resource: amount} → ResourceQuota spec.hard {kubernetes name: quantity string}.
// Resources without a Kubernetes counterpart are appended to *skipped (may be null).
core::Result<std::map<std::string, std::string>> ToQuotaHard(
    const std::map<std::string, int64_t>& hard, std::vector<std::string>* skipped = nullptr);

// "gpu/<model>, mig/<profile>, cpu, memory, storage, instances, nodes (not enforced)"
std::string SupportedResourcesText();

// Quantities: bytes → "64Gi" when divisible by 2^30, "96Mi" when divisible by 2^20, else the
// plain byte count. Millicores → "2" when whole cores, else "500m".
std::string FormatBytes(int64_t bytes);
std::string FormatMillicores(int64_t millis);

// Sorted keys at every level, two-space indent, trailing newline.
std::string CanonicalJson(const core::json::value& v);

}  // namespace gantry::kubernetes
