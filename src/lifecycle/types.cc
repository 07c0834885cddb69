#include "lifecycle/types.h"

#include <algorithm>
#include <cctype>

namespace gantry::lifecycle {

bool IsValidState(std::string_view s) {
  for (const char* v : {kDiscovered, kCommissioning, kReady, kDeploying, kDeployed, kReleasing,
                        kMaintenance, kRescue, kBroken}) {
    if (s == v) return true;
  }
  return false;
}

bool IsTransient(std::string_view s) {
  return s == kCommissioning || s == kDeploying || s == kReleasing;
}

const std::vector<OpRule>& OpRules() {
  static const std::vector<OpRule> rules = {
      {Op::kCommission, "commission", {kDiscovered, kReady, kBroken}, kCommissioning, kReady, "image"},
      {Op::kDeploy, "deploy", {kReady}, kDeploying, kDeployed, "image"},
      {Op::kRelease, "release", {kDeployed, kRescue, kBroken}, kReleasing, kReady, "image"},
      // Rescue boots the rescue image and stays there until released (or deployed again).
      {Op::kRescue, "rescue", {kDeployed, kReady, kBroken}, kRescue, kRescue, "image"},
  };
  return rules;
}

const OpRule* FindOp(std::string_view name) {
  for (const auto& r : OpRules()) {
    if (name == r.name) return &r;
  }
  return nullptr;
}

const OpRule& RuleOf(Op op) {
  for (const auto& r : OpRules()) {
    if (r.op == op) return r;
  }
  return OpRules().front();
}

const std::optional<ImageFile>* Image::File(std::string_view role) const {
  if (role == "kernel") return &kernel;
  if (role == "initrd") return &initrd;
  if (role == "rootfs") return &rootfs;
  return nullptr;
}

bool IsValidTemplateKind(std::string_view kind) {
  return kind == "kickstart" || kind == "preseed" || kind == "cloud-init" ||
         kind == "autoinstall" || kind == "script";
}

std::optional<std::string> NormalizeMac(std::string_view mac) {
  std::string hex;
  for (char c : mac) {
    if (c == ':' || c == '-') continue;
    if (!std::isxdigit(static_cast<unsigned char>(c))) return std::nullopt;
    hex += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  }
  if (hex.size() != 12) return std::nullopt;
  // Separators, when present, must sit between every pair.
  if (mac.size() != 12 && mac.size() != 17) return std::nullopt;
  std::string out;
  for (size_t i = 0; i < 12; i += 2) {
    if (i) out += ':';
    out += hex.substr(i, 2);
  }
  return out;
}

bool IsValidHostname(std::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '-' || name.back() == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
  });
}

std::string DefaultName(std::string_view mac) {
  std::string s = "node-";
  for (char c : mac) {
    if (c != ':') s += c;
  }
  return s;
}

namespace {
core::json::value Opt(const std::optional<std::string>& s) { return core::OptValue(s); }
core::json::value OptTime(const std::optional<core::UnixNanos>& t) {
  return t ? core::json::value(core::FormatRfc3339(*t)) : core::json::value(nullptr);
}
core::json::value ParsedOr(const std::string& text, core::json::value fallback) {
  auto v = core::ParseJson(text);
  return v ? *v : fallback;
}
}  // namespace

core::json::object ToJson(const Node& n) {
  core::json::object o;
  o["id"] = n.id;
  o["name"] = n.name;
  o["mac"] = n.mac;
  o["ip"] = Opt(n.ip);
  o["last_ip"] = Opt(n.last_ip);
  o["bmc"] = Opt(n.bmc);
  o["state"] = n.state;
  o["prev_state"] = Opt(n.prev_state);
  o["reason"] = n.reason;
  o["operation"] = Opt(n.op);
  o["job_id"] = n.job_id ? core::json::value(*n.job_id) : core::json::value(nullptr);
  o["image"] = Opt(n.op_image);
  o["template"] = Opt(n.op_template);
  o["deadline"] = OptTime(n.op_deadline);
  o["hardware"] = ParsedOr(n.hardware, core::json::object());
  o["source"] = n.source;
  o["version"] = n.version;
  o["created_at"] = core::FormatRfc3339(n.created_at);
  o["updated_at"] = core::FormatRfc3339(n.updated_at);
  return o;
}

core::json::object ToJson(const Image& i) {
  core::json::object o;
  o["id"] = i.id;
  o["name"] = i.name;
  o["description"] = i.description;
  core::json::object files;
  for (const char* role : {"kernel", "initrd", "rootfs"}) {
    if (const auto& f = *i.File(role)) files[role] = {{"sha256", f->sha256}, {"size", f->size}};
  }
  o["files"] = files;
  o["created_by"] = i.created_by;
  o["created_at"] = core::FormatRfc3339(i.created_at);
  return o;
}

core::json::object ToJson(const Template& t, bool with_body) {
  core::json::object o;
  o["id"] = t.id;
  o["name"] = t.name;
  o["kind"] = t.kind;
  o["builtin"] = t.builtin;
  if (with_body) o["body"] = t.body;
  o["created_at"] = core::FormatRfc3339(t.created_at);
  o["updated_at"] = core::FormatRfc3339(t.updated_at);
  return o;
}

}  // namespace gantry::lifecycle
