// CMDB types: configuration item (CI) types with typed attributes, relationship types with their
// rules, CIs, relationships and history entries.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"
#include "core/json.h"

namespace gantry::cmdb {

enum class AttrKind { kString, kInt, kBool, kEnum, kIpv4, kIpv6, kCidr, kMac, kDate, kReference };
const char* AttrKindName(AttrKind k);
std::optional<AttrKind> ParseAttrKind(std::string_view s);

struct AttrDef {
  std::string name;
  AttrKind kind = AttrKind::kString;
  bool required = false;
  std::vector<std::string> values;  // kEnum: the allowed values
  std::string ref_type;             // kReference: the CI type referred to (empty: any)
  std::optional<int64_t> min, max;  // kInt bounds
  std::string description;
};

struct CiType {
  std::string name;  // "server", "gpu", ...
  std::string description;
  bool builtin = false;
  std::vector<AttrDef> attributes;
  const AttrDef* Find(std::string_view attr) const;
};

// How a failure travels along a relationship, for impact and root-cause questions.
struct ImpactRule {
  bool forward = false;  // a failure of `from` affects `to`
  bool reverse = false;  // a failure of `to` affects `from`
  // When non-empty, `forward` applies only when `from` has one of these types (and `reverse`
  // only when `to` has one): e.g. a failing NIC or GPU degrades the server that contains it,
  // a failing PDU outlet does not take its PDU down.
  std::vector<std::string> forward_from_types, reverse_to_types;
};

struct RelationType {
  std::string name;  // "located_in", "contains", ...
  std::string description;
  bool builtin = false;
  std::vector<std::string> from_types;  // empty: any
  std::vector<std::string> to_types;
  int max_out = 0;        // per `from` CI, 0: unbounded
  int max_in = 0;         // per `to` CI, 0: unbounded
  bool acyclic = false;   // reject cycles over this relation type
  ImpactRule impact;
  std::vector<AttrDef> attributes;  // e.g. located_in.position (rack unit)
};

enum class CiStatus { kActive, kMaintenance, kRetired };

struct Ci {
  int64_t id = 0;
  std::string type;
  std::string name;
  core::json::object attrs;
  std::optional<std::string> tenant;  // owner tenant (slug)
  std::string status = "active";      // active | maintenance | retired
  int64_t version = 1;
  bool stale = false;
  std::optional<core::UnixNanos> last_seen_at;
  core::UnixNanos created_at = 0;
  core::UnixNanos updated_at = 0;
};

struct Relation {
  int64_t id = 0;
  std::string type;
  int64_t from_id = 0;
  int64_t to_id = 0;
  core::json::object attrs;
  std::string source = "manual";
  core::UnixNanos created_at = 0;
};

struct HistoryEntry {
  int64_t id = 0;
  core::UnixNanos time = 0;
  std::string actor;
  std::string op;  // ci.create | ci.update | ci.delete | relation.create | relation.delete
  std::optional<int64_t> ci_id, relation_id, version, change_request_id;
  std::optional<std::string> before, after;  // JSON
};

// "type/name", how CIs are named in messages and paths.
inline std::string Label(const Ci& ci) { return ci.type + "/" + ci.name; }

core::json::object ToJson(const Ci& ci);
core::json::object ToJson(const Relation& r);
core::json::object ToJson(const CiType& t);
core::json::object ToJson(const RelationType& t);
core::json::object ToJson(const AttrDef& a);
core::json::object ToJson(const HistoryEntry& h);

core::Result<AttrDef> AttrDefFromJson(const core::json::object& o);
core::Result<CiType> CiTypeFromJson(const core::json::object& o);
core::Result<RelationType> RelationTypeFromJson(const core::json::object& o);

}  // namespace gantry::cmdb
