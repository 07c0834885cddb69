#include "monitoring/resolver.h"

namespace gantry::monitoring {

namespace {

constexpr const char* kTypes[] = {"server", "switch", "pdu", "bmc", "gpu"};
constexpr size_t kMaxContexts = 100'000;

std::string Label(const core::json::object& labels, std::string_view key) {
  auto* v = labels.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// "10.0.0.1:9400" → "10.0.0.1"; "[fe80::1]:9100" → "fe80::1"; "node-01" → "node-01".
std::string HostOf(std::string instance) {
  if (instance.starts_with("[")) {
    size_t close = instance.find(']');
    return close == std::string::npos ? instance : instance.substr(1, close - 1);
  }
  size_t colon = instance.rfind(':');
  if (colon != std::string::npos && instance.find(':') == colon) instance.resize(colon);
  return instance;
}

}  // namespace

CiResolver::CiResolver(cmdb::Service& cmdb, std::chrono::seconds refresh, std::chrono::seconds ttl)
    : cmdb_(cmdb), refresh_(refresh), ttl_(ttl) {}

size_t CiResolver::size() const {
  std::shared_lock lock(mu_);
  return refs_.size();
}

void CiResolver::Invalidate() {
  {
    std::unique_lock lock(mu_);
    keys_.clear();
    refs_.clear();
    built_once_ = false;
  }
  std::lock_guard lock(ctx_mu_);
  contexts_.clear();
}

void CiResolver::Rebuild() {
  std::lock_guard rebuild(rebuild_mu_);
  {
    std::shared_lock lock(mu_);
    if (built_once_ && std::chrono::steady_clock::now() - built_ < refresh_) return;
  }
  std::unordered_map<std::string, int64_t> keys;
  std::unordered_map<int64_t, std::string> refs;
  auto rc = core::RequestContext::System("monitoring");
  for (const char* type : kTypes) {
    cmdb::CiFilter f;
    f.type = type;
    f.limit = 5000;
    for (;;) {
      auto page = cmdb_.ListCis(rc, f);
      if (!page || page->empty()) break;
      for (const auto& ci : *page) {
        if (ci.status == "retired") continue;
        std::string ref = ci.type + "/" + ci.name;
        refs[ci.id] = ref;
        keys["ref:" + ref] = ci.id;
        // A name shared by several types resolves to the first listed (servers first).
        keys.emplace("name:" + ci.name, ci.id);
        for (const char* attr : {"primary_ip", "mgmt_ip", "address"}) {
          auto* v = ci.attrs.if_contains(attr);
          if (v && v->is_string()) keys.emplace("ip:" + std::string(v->as_string()), ci.id);
        }
        if (auto* v = ci.attrs.if_contains("uuid"); v && v->is_string()) {
          keys["uuid:" + std::string(v->as_string())] = ci.id;
        }
      }
      if (static_cast<int>(page->size()) < f.limit) break;
      f.after_id = page->back().id;
    }
  }
  std::unique_lock lock(mu_);
  keys_ = std::move(keys);
  refs_ = std::move(refs);
  built_ = std::chrono::steady_clock::now();
  built_once_ = true;
}

std::optional<CiMatch> CiResolver::Lookup(const core::json::object& labels) const {
  std::shared_lock lock(mu_);
  auto hit = [&](const std::string& key, const char* label) -> std::optional<CiMatch> {
    auto it = keys_.find(key);
    if (it == keys_.end()) return std::nullopt;
    return CiMatch{it->second, refs_.at(it->second), label};
  };
  // Most specific first: a GPU alert also carries its node's gantry_ci target label.
  if (auto v = Label(labels, "UUID"); !v.empty()) {
    if (auto m = hit("uuid:" + v, "UUID")) return m;
  }
  if (auto v = Label(labels, "gantry_ci"); !v.empty()) {
    if (auto m = hit("ref:" + v, "gantry_ci")) return m;
  }
  for (const char* label : {"node", "Hostname", "hostname", "host", "nodename"}) {
    if (auto v = Label(labels, label); !v.empty()) {
      if (auto m = hit("name:" + v, label)) return m;
    }
  }
  if (auto v = Label(labels, "instance"); !v.empty()) {
    std::string host = HostOf(v);
    if (auto m = hit("name:" + host, "instance")) return m;
    if (auto m = hit("ip:" + host, "instance")) return m;
  }
  return std::nullopt;
}

std::optional<CiMatch> CiResolver::Resolve(const core::json::object& labels) {
  bool stale;
  {
    std::shared_lock lock(mu_);
    stale = !built_once_;
  }
  if (stale) Rebuild();
  if (auto m = Lookup(labels)) return m;
  bool may_refresh;
  {
    std::shared_lock lock(mu_);
    may_refresh = std::chrono::steady_clock::now() - built_ >= refresh_;
  }
  if (!may_refresh) return std::nullopt;
  Rebuild();
  return Lookup(labels);
}

core::json::object CiResolver::Context(int64_t ci_id) {
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(ctx_mu_);
    auto it = contexts_.find(ci_id);
    if (it != contexts_.end() && now - it->second.at < ttl_) return it->second.context;
  }
  auto ctx = cmdb_.Context(core::RequestContext::System("monitoring"), std::to_string(ci_id));
  core::json::object o = ctx ? std::move(*ctx) : core::json::object{};
  std::lock_guard lock(ctx_mu_);
  if (contexts_.size() >= kMaxContexts) contexts_.clear();
  contexts_[ci_id] = {o, now};
  return o;
}

}  // namespace gantry::monitoring
