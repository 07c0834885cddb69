// Bare-metal lifecycle types: the node state machine, nodes, OS images and install templates.
//
//   discovered → commissioning → ready → deploying → deployed → releasing → ready
//   plus maintenance, rescue and broken (with a reason).
// Operations (commission, deploy, release, rescue) move a node into their transient state and
// run as one durable job each; the job ends the operation in its target state or in `broken`.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/clock.h"
#include "core/json.h"

namespace gantry::lifecycle {

inline constexpr char kDiscovered[] = "discovered";
inline constexpr char kCommissioning[] = "commissioning";
inline constexpr char kReady[] = "ready";
inline constexpr char kDeploying[] = "deploying";
inline constexpr char kDeployed[] = "deployed";
inline constexpr char kReleasing[] = "releasing";
inline constexpr char kMaintenance[] = "maintenance";
inline constexpr char kRescue[] = "rescue";
inline constexpr char kBroken[] = "broken";

bool IsValidState(std::string_view s);
// commissioning, deploying, releasing: an operation's job is in flight.
bool IsTransient(std::string_view s);

enum class Op { kCommission, kDeploy, kRelease, kRescue };

// The rules of one operation: which states it starts from, the state it holds while its job
// runs, and the state it ends in when the node calls back with success.
struct OpRule {
  Op op;
  const char* name;                 // "commission"
  std::vector<std::string> from;    // states it may start from
  const char* during;               // state while the job runs
  const char* after;                // state on success
  const char* boot;                 // what the node boots: "image" (PXE) or "disk"
};
const std::vector<OpRule>& OpRules();
const OpRule* FindOp(std::string_view name);
const OpRule& RuleOf(Op op);

struct Node {
  int64_t id = 0;
  std::string name;
  std::string mac;
  std::optional<std::string> ip, last_ip, bmc;
  std::string state = kDiscovered;
  std::optional<std::string> prev_state;
  std::string reason;
  std::optional<std::string> op;
  std::optional<int64_t> job_id;
  std::optional<std::string> op_image, op_template;
  std::string op_vars = "{}";
  std::optional<std::string> op_config;  // rendered install configuration
  std::optional<core::UnixNanos> op_deadline;
  std::optional<std::string> callback;
  std::string hardware = "{}";
  std::string source = "manual";
  int64_t version = 1;
  core::UnixNanos created_at = 0;
  core::UnixNanos updated_at = 0;
};

struct ImageFile {
  std::string sha256;
  int64_t size = 0;
};

struct Image {
  int64_t id = 0;
  std::string name;
  std::string description;
  std::optional<ImageFile> kernel, initrd, rootfs;
  std::string created_by;
  core::UnixNanos created_at = 0;
  const std::optional<ImageFile>* File(std::string_view role) const;
};

struct Template {
  int64_t id = 0;
  std::string name;
  std::string kind;  // kickstart | preseed | cloud-init | autoinstall | script
  std::string body;
  bool builtin = false;
  core::UnixNanos created_at = 0;
  core::UnixNanos updated_at = 0;
};
bool IsValidTemplateKind(std::string_view kind);

// "aa:bb:cc:dd:ee:ff" from any case and '-' or ':' separators; nullopt when not a MAC.
std::optional<std::string> NormalizeMac(std::string_view mac);
// Hostname rules (RFC 1123 label, lower-case, 1..63).
bool IsValidHostname(std::string_view name);
// "node-525400990010" for an enlisted MAC.
std::string DefaultName(std::string_view mac);

core::json::object ToJson(const Node& n);
core::json::object ToJson(const Image& i);
core::json::object ToJson(const Template& t, bool with_body);

}  // namespace gantry::lifecycle
