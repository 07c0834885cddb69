// Kubernetes objects rendered from a project's quota (render.h).
#include "integrations/kubernetes/render.h"

#include <algorithm>
#include <cctype>

namespace gantry::kubernetes {

namespace json = core::json;

namespace {

constexpr int64_t kMaxAmount = int64_t{1} << 60;  // same ceiling as tenancy::kMaxAmount
constexpr int64_t kMi = int64_t{1} << 20;
constexpr int64_t kGi = int64_t{1} << 30;

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

// An RFC 1123 label that also starts with a letter (Gantry's slug rule).
bool IsSlug(std::string_view s) {
  if (s.empty() || s.size() > 63 || !(s[0] >= 'a' && s[0] <= 'z') || s.back() == '-') return false;
  return std::all_of(s.begin(), s.end(), [](char c) { return IsLowerAlnum(c) || c == '-'; });
}

// GPU model as Gantry names them: "h100", "l40s", "gh200".
bool IsGpuModel(std::string_view s) {
  return !s.empty() && s.size() <= 32 && std::all_of(s.begin(), s.end(), IsLowerAlnum);
}

// MIG profile "<n>g.<m>gb": what the device plugin appends to "nvidia.com/mig-".
bool IsMigProfile(std::string_view s) {
  size_t i = 0;
  auto digits = [&] {
    size_t start = i;
    while (i < s.size() && std::isdigit(static_cast<unsigned char>(s[i]))) ++i;
    return i > start && i - start <= 3 && s[start] != '0';
  };
  if (s.size() > 16 || !digits() || i >= s.size() || s[i++] != 'g') return false;
  if (i >= s.size() || s[i++] != '.' || !digits()) return false;
  return s.substr(i) == "gb";
}

json::object Labels(const ProjectQuota& q) {
  return {{kLabelManagedBy, kManagedByValue},
          {kLabelProject, q.project},
          {kLabelTenant, q.tenant}};
}

json::object Metadata(const ProjectQuota& q, std::string_view name, std::string_view ns) {
  json::object m{{"name", name}, {"labels", Labels(q)}};
  if (!ns.empty()) m["namespace"] = ns;
  return m;
}

void Serialize(const json::value& v, int indent, std::string& out) {
  auto newline = [&out](int n) {
    out += '\n';
    out.append(static_cast<size_t>(n) * 2, ' ');
  };
  switch (v.kind()) {
    case json::kind::object: {
      const auto& o = v.get_object();
      if (o.empty()) {
        out += "{}";
        return;
      }
      std::vector<const json::key_value_pair*> kvs;
      for (const auto& kv : o) kvs.push_back(&kv);
      std::sort(kvs.begin(), kvs.end(),
                [](auto* a, auto* b) { return a->key() < b->key(); });
      out += '{';
      for (size_t i = 0; i < kvs.size(); ++i) {
        newline(indent + 1);
        out += json::serialize(json::value(kvs[i]->key()));
        out += ": ";
        Serialize(kvs[i]->value(), indent + 1, out);
        if (i + 1 < kvs.size()) out += ',';
      }
      newline(indent);
      out += '}';
      return;
    }
    case json::kind::array: {
      const auto& a = v.get_array();
      if (a.empty()) {
        out += "[]";
        return;
      }
      out += '[';
      for (size_t i = 0; i < a.size(); ++i) {
        newline(indent + 1);
        Serialize(a[i], indent + 1, out);
        if (i + 1 < a.size()) out += ',';
      }
      newline(indent);
      out += ']';
      return;
    }
    default:
      out += json::serialize(v);
  }
}

core::Error Unknown(std::string_view name) {
  return core::InvalidArgument("unknown resource '" + std::string(name.substr(0, 64)) +
                                   "'; supported resources: " + SupportedResourcesText(),
                               "hard");
}

core::Status CheckDefaults(const ContainerDefaults& d) {
  auto check = [](const std::optional<int64_t>& v, const char* field) -> core::Status {
    if (v && (*v <= 0 || *v > kMaxAmount))
      return core::InvalidArgument(std::string(field) + " must be between 1 and 2^60", field);
    return {};
  };
  GANTRY_TRY_STATUS(check(d.cpu_request_millis, "cpu_request_millis"));
  GANTRY_TRY_STATUS(check(d.cpu_limit_millis, "cpu_limit_millis"));
  GANTRY_TRY_STATUS(check(d.memory_request_bytes, "memory_request_bytes"));
  GANTRY_TRY_STATUS(check(d.memory_limit_bytes, "memory_limit_bytes"));
  if (d.cpu_request_millis && d.cpu_limit_millis && *d.cpu_request_millis > *d.cpu_limit_millis)
    return core::InvalidArgument("cpu_request_millis exceeds cpu_limit_millis",
                                 "cpu_request_millis");
  if (d.memory_request_bytes && d.memory_limit_bytes &&
      *d.memory_request_bytes > *d.memory_limit_bytes)
    return core::InvalidArgument("memory_request_bytes exceeds memory_limit_bytes",
                                 "memory_request_bytes");
  return {};
}

}  // namespace

ContainerDefaults DefaultContainerDefaults() {
  return {.cpu_request_millis = 100,
          .cpu_limit_millis = 1000,
          .memory_request_bytes = 256 * kMi,
          .memory_limit_bytes = kGi};
}

std::string SupportedResourcesText() {
  return "gpu/<model>, mig/<profile>, cpu, memory, storage, instances, nodes (not enforced in "
         "Kubernetes)";
}

std::string FormatBytes(int64_t bytes) {
  if (bytes != 0 && bytes % kGi == 0) return std::to_string(bytes / kGi) + "Gi";
  if (bytes != 0 && bytes % kMi == 0) return std::to_string(bytes / kMi) + "Mi";
  return std::to_string(bytes);
}

std::string FormatMillicores(int64_t millis) {
  if (millis % 1000 == 0) return std::to_string(millis / 1000);
  return std::to_string(millis) + "m";
}

std::string CanonicalJson(const json::value& v) {
  std::string out;
  Serialize(v, 0, out);
  out += '\n';
  return out;
}

core::Result<std::string> NamespaceName(std::string_view tenant, std::string_view project) {
  if (!IsSlug(tenant))
    return core::InvalidArgument("tenant '" + std::string(tenant.substr(0, 64)) +
                                     "' is not a DNS label (a-z, 0-9, '-')",
                                 "tenant");
  if (!IsSlug(project))
    return core::InvalidArgument("project '" + std::string(project.substr(0, 64)) +
                                     "' is not a DNS label (a-z, 0-9, '-')",
                                 "project");
  std::string name = "gantry-" + std::string(tenant) + "-" + std::string(project);
  if (name.size() > 63)
    return core::InvalidArgument("namespace name '" + name + "' is longer than 63 characters",
                                 "project");
  return name;
}

core::Result<std::map<std::string, std::string>> ToQuotaHard(
    const std::map<std::string, int64_t>& hard, std::vector<std::string>* skipped) {
  std::map<std::string, std::string> out;
  int64_t gpus = 0;
  bool any_gpu = false;
  for (const auto& [name, amount] : hard) {
    std::string_view n = name;
    bool known = (n.starts_with("gpu/") && IsGpuModel(n.substr(4))) ||
                 (n.starts_with("mig/") && IsMigProfile(n.substr(4))) || n == "cpu" ||
                 n == "memory" || n == "storage" || n == "instances" || n == "nodes";
    if (!known) return Unknown(n);
    if (amount < 0 || amount > kMaxAmount)
      return core::InvalidArgument("amount of '" + name + "' must be between 0 and 2^60",
                                   "hard");
    if (n.starts_with("gpu/")) {
      any_gpu = true;
      gpus += amount;  // at most ~2^60 * 10 models of distinct names: checked below
      if (gpus > kMaxAmount)
        return core::InvalidArgument("sum of gpu/* amounts exceeds 2^60", "hard");
    } else if (n.starts_with("mig/")) {
      out["requests.nvidia.com/mig-" + std::string(n.substr(4))] = std::to_string(amount);
    } else if (n == "cpu") {
      out["requests.cpu"] = out["limits.cpu"] = std::to_string(amount);
    } else if (n == "memory") {
      out["requests.memory"] = out["limits.memory"] = FormatBytes(amount);
    } else if (n == "storage") {
      out["requests.storage"] = FormatBytes(amount);
    } else if (n == "instances") {
      out["pods"] = std::to_string(amount);
    } else if (skipped) {  // nodes
      skipped->push_back(name);
    }
  }
  if (any_gpu) out["requests.nvidia.com/gpu"] = std::to_string(gpus);
  return out;
}

core::Result<Rendered> Render(const ProjectQuota& q) {
  Rendered r;
  GANTRY_TRY(r.namespace_name, NamespaceName(q.tenant, q.project));
  GANTRY_TRY(auto hard, ToQuotaHard(q.hard, &r.skipped));
  ContainerDefaults defaults = q.limits.value_or(DefaultContainerDefaults());
  GANTRY_TRY_STATUS(CheckDefaults(defaults));

  r.namespace_obj = {{"apiVersion", "v1"},
                     {"kind", "Namespace"},
                     {"metadata", Metadata(q, r.namespace_name, "")}};

  json::object spec_hard;
  for (const auto& [k, v] : hard) spec_hard[k] = v;
  json::object rq_meta = Metadata(q, kResourceQuotaName, r.namespace_name);
  std::string by_model;
  for (const auto& [name, amount] : q.hard) {
    if (!name.starts_with("gpu/")) continue;
    by_model += (by_model.empty() ? "" : ",") + name.substr(4) + "=" + std::to_string(amount);
  }
  if (!by_model.empty()) rq_meta["annotations"] = json::object{{kAnnotationGpuModels, by_model}};
  r.resource_quota = {{"apiVersion", "v1"},
                      {"kind", "ResourceQuota"},
                      {"metadata", std::move(rq_meta)},
                      {"spec", json::object{{"hard", std::move(spec_hard)}}}};

  json::object def_limit, def_request;
  if (defaults.cpu_limit_millis) def_limit["cpu"] = FormatMillicores(*defaults.cpu_limit_millis);
  if (defaults.memory_limit_bytes) def_limit["memory"] = FormatBytes(*defaults.memory_limit_bytes);
  if (defaults.cpu_request_millis)
    def_request["cpu"] = FormatMillicores(*defaults.cpu_request_millis);
  if (defaults.memory_request_bytes)
    def_request["memory"] = FormatBytes(*defaults.memory_request_bytes);
  json::object item{{"type", "Container"}};
  if (!def_limit.empty()) item["default"] = std::move(def_limit);
  if (!def_request.empty()) item["defaultRequest"] = std::move(def_request);
  r.limit_range = {{"apiVersion", "v1"},
                   {"kind", "LimitRange"},
                   {"metadata", Metadata(q, kLimitRangeName, r.namespace_name)},
                   {"spec", json::object{{"limits", json::array{std::move(item)}}}}};
  return r;
}

}  // namespace gantry::kubernetes
