// Tenancy: tenants (a department, team or customer), their projects and members, quotas per
// resource, and reservations of capacity made at admission.
//
// Amounts are integers in the resource's base unit: GPUs and MIG slices, CPU cores, bytes of
// memory and storage, bare-metal nodes, instances.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"
#include "core/principal.h"

namespace gantry::tenancy {

// ---- resources ------------------------------------------------------------------------------

// Largest amount accepted anywhere (2^60: an exabyte of storage fits; sums of a cohort are
// computed in 128 bits).
inline constexpr int64_t kMaxAmount = int64_t{1} << 60;

enum class Unit { kCount, kCores, kBytes };

// Checks a resource name: "gpu/<model>", "mig/<profile>", "cpu", "memory", "storage", "nodes",
// "instances". Unknown names (and unknown GPU models or MIG profiles) are InvalidArgument
// listing the valid ones. The model and profile lists are one table in types.cc.
core::Status ValidateResource(std::string_view name, std::string_view field = "resource");
Unit UnitOf(std::string_view resource);
std::string_view UnitName(Unit u);  // "count", "cores", "bytes"
// "gpu/a10, gpu/a100, ..., mig/1g.5gb, ..., cpu, memory, storage, nodes, instances"
std::string ValidResourcesText();
const std::vector<std::string_view>& GpuModels();
const std::vector<std::string_view>& MigProfiles();

// Tenant, project and cohort slugs: 1-63 characters of a-z, 0-9 and '-', starting with a letter
// and not ending with '-' (they become Slurm account and Kubernetes namespace names).
core::Status ValidateSlug(std::string_view slug, std::string_view field);

// ---- tenants, projects, members ------------------------------------------------------------

struct Tenant {
  int64_t id = 0;
  std::string slug;
  std::string name;
  std::optional<std::string> cohort;
  bool disabled = false;
  core::UnixNanos created_at = 0;
  core::UnixNanos updated_at = 0;
};

struct NewTenant {
  std::string slug;
  std::string name;
  std::optional<std::string> cohort;
};

// Fields left empty are unchanged; `cohort` holding nullopt inside clears it.
struct TenantPatch {
  std::optional<std::string> name;
  std::optional<std::optional<std::string>> cohort;
  std::optional<bool> disabled;
};

struct Project {
  int64_t id = 0;
  int64_t tenant_id = 0;
  std::string tenant;  // slug
  std::string slug;
  std::string name;
  core::UnixNanos created_at = 0;
  core::UnixNanos updated_at = 0;
};

// Membership roles: tenant-admin, tenant-member, viewer.
bool IsMemberRole(core::Role r);

struct Member {
  int64_t tenant_id = 0;
  int64_t user_id = 0;
  std::string username;
  core::Role role = core::Role::kTenantMember;
  core::UnixNanos created_at = 0;
};

// ---- quotas, usage, reservations -----------------------------------------------------------

// One quota row. project_id 0 is the tenant's own quota.
struct Quota {
  int64_t tenant_id = 0;
  int64_t project_id = 0;
  std::string resource;
  int64_t guaranteed = 0;
  std::optional<int64_t> burst;  // the ceiling with borrowing; none: no borrowing
  // The most the holder may reserve: burst when set, else guaranteed.
  int64_t Ceiling() const { return burst.value_or(guaranteed); }
};

struct SetQuotaRequest {
  std::string resource;
  int64_t guaranteed = 0;
  std::optional<int64_t> burst;
  std::optional<std::string> project;  // slug or id; none: the tenant's quota
  bool force = false;                  // accept a quota below current usage
};

// One line of the quota view: a quota (or a resource with usage but no quota) at one level.
struct QuotaView {
  std::string project;  // slug; empty: the tenant level
  std::string resource;
  std::optional<int64_t> guaranteed;  // none: no quota row (usage only)
  std::optional<int64_t> burst;
  int64_t reserved = 0;
  int64_t borrowed = 0;  // reserved above guaranteed
  int64_t lent = 0;      // this tenant's unused guarantee that cohort members hold
  std::optional<int64_t> used;  // reported by the engines (Slurm, Kubernetes); none until then
};

inline constexpr char kActive[] = "active";
inline constexpr char kReleased[] = "released";
inline constexpr char kReclaimed[] = "reclaimed";

using Amounts = std::map<std::string, int64_t, std::less<>>;

struct Reservation {
  int64_t id = 0;
  int64_t tenant_id = 0;
  std::string tenant;  // slug
  int64_t project_id = 0;
  std::string project;  // slug, empty for none
  std::string ref;
  std::string state = kActive;
  Amounts resources;
  Amounts borrowed;  // the part of each resource admitted on capacity lent by the cohort
  std::string created_by;
  core::UnixNanos created_at = 0;
  std::optional<core::UnixNanos> released_at;
};

struct ReserveRequest {
  std::optional<std::string> project;  // slug or id
  Amounts resources;
  std::string ref;  // the engine's handle of the work (Slurm job id, Kubernetes workload)
};

struct HistoryPoint {
  int64_t id = 0;
  core::UnixNanos time = 0;
  std::string project;  // slug, empty for the tenant level
  std::string resource;
  int64_t guaranteed = 0;
  std::optional<int64_t> burst;
  int64_t reserved = 0;
  int64_t borrowed = 0;
};

struct HistoryFilter {
  std::optional<core::UnixNanos> since, until;
  std::optional<std::string> resource;
  std::optional<std::string> project;  // slug or id; none: every level
  std::optional<int64_t> after_id;     // cursor
  int limit = 1000;
};

// One quota line as the usage snapshot job recorded it (quota_snapshots).
struct Snapshot {
  core::UnixNanos time = 0;
  int64_t tenant_id = 0;
  int64_t project_id = 0;
  std::string project;  // slug, empty for the tenant level (filled when read)
  std::string resource;
  std::optional<int64_t> guaranteed, burst;
  int64_t reserved = 0, borrowed = 0, lent = 0;
  std::optional<int64_t> used;  // none: no engine reported it
};

core::json::object ToJson(const Snapshot& s);
core::json::object ToJson(const Tenant& t);
core::json::object ToJson(const Project& p);
core::json::object ToJson(const Member& m);
core::json::object ToJson(const QuotaView& q);
core::json::object ToJson(const Reservation& r);
core::json::object ToJson(const HistoryPoint& h);
core::json::object AmountsToJson(const Amounts& a);
// Parses {"resource": amount, ...} as stored in the database; bad text yields an empty map.
Amounts AmountsFromJson(std::string_view text);

}  // namespace gantry::tenancy
