#include "monitoring/targets.h"

#include <algorithm>
#include <map>

namespace gantry::monitoring {

namespace {

struct Place {
  std::string type, name;
  int64_t parent = 0;
};

core::Result<std::vector<cmdb::Ci>> AllOfType(cmdb::Service& cmdb, const char* type) {
  auto rc = core::RequestContext::System("monitoring");
  std::vector<cmdb::Ci> out;
  cmdb::CiFilter f;
  f.type = type;
  f.limit = 5000;
  for (;;) {
    GANTRY_TRY(auto page, cmdb.ListCis(rc, f));
    for (auto& ci : page) out.push_back(std::move(ci));
    if (static_cast<int>(page.size()) < f.limit) break;
    f.after_id = out.back().id;
  }
  return out;
}

std::string StrAttr(const core::json::object& attrs, std::string_view key) {
  auto* v = attrs.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

}  // namespace

TargetDirectory::TargetDirectory(cmdb::Service& cmdb, TargetsOptions options)
    : cmdb_(cmdb), options_(options) {}

TargetDirectory::~TargetDirectory() {
  std::thread t;
  {
    std::lock_guard lock(mu_);
    t = std::move(refresher_);
  }
  if (t.joinable()) t.join();
}

void TargetDirectory::Invalidate() {
  std::lock_guard lock(mu_);
  cache_.clear();
}

void TargetDirectory::Refresh(std::string kind) {
  core::Result<std::string> body = [&]() -> core::Result<std::string> {
    std::lock_guard build(build_mu_);
    return Build(kind);
  }();
  std::lock_guard lock(mu_);
  if (body) cache_[kind] = {std::move(*body), std::chrono::steady_clock::now()};
  refreshing_ = false;
}

core::Result<std::string> TargetDirectory::Targets(std::string_view kind) {
  if (kind != "agent" && kind != "bmc") {
    return core::InvalidArgument("kind must be agent or bmc", "kind");
  }
  auto now = std::chrono::steady_clock::now();
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(std::string(kind));
    if (it != cache_.end()) {
      if (now - it->second.at >= options_.ttl && !refreshing_) {
        // Stale: answer with it and rebuild in the background (one refresher at a time).
        refreshing_ = true;
        if (refresher_.joinable()) refresher_.join();  // finished: it cleared refreshing_
        refresher_ = std::thread([this, k = std::string(kind)] { Refresh(k); });
      }
      return it->second.body;
    }
  }
  // Nothing cached yet: build now (concurrent first callers wait for one build).
  std::lock_guard build(build_mu_);
  {
    std::lock_guard lock(mu_);
    auto it = cache_.find(std::string(kind));
    if (it != cache_.end()) return it->second.body;
  }
  GANTRY_TRY(auto body, Build(kind));
  std::lock_guard lock(mu_);
  cache_[std::string(kind)] = {body, std::chrono::steady_clock::now()};
  return body;
}

core::Result<std::string> TargetDirectory::Build(std::string_view kind) {
  GANTRY_TRY_STATUS(cmdb_.Sync());
  GANTRY_TRY(auto servers, AllOfType(cmdb_, "server"));
  std::unordered_map<int64_t, cmdb::Ci> bmcs;
  if (kind == "bmc") {
    GANTRY_TRY(auto list, AllOfType(cmdb_, "bmc"));
    for (auto& b : list) bmcs.emplace(b.id, std::move(b));
  }
  cmdb::GraphIndex& graph = cmdb_.graph();
  std::unordered_map<int64_t, Place> places;  // racks, rows, rooms, sites seen so far
  auto place_of = [&](int64_t id) -> const Place* {
    auto it = places.find(id);
    if (it != places.end()) return &it->second;
    auto info = graph.Find(id);
    if (!info) return nullptr;
    Place p{info->type, info->name, 0};
    cmdb::NeighbourhoodOptions o;
    o.depth = 1;
    o.relation_types = {"located_in"};
    o.max_results = 100'000;
    auto sub = graph.Neighbourhood(id, o);
    for (const auto& e : sub.edges) {
      if (e.from == id) p.parent = e.to;
    }
    return &places.emplace(id, std::move(p)).first->second;
  };

  core::json::array out;
  cmdb::NeighbourhoodOptions around;
  around.depth = 1;
  around.relation_types = {"located_in", "member_of", "owned_by"};
  if (kind == "bmc") around.relation_types.push_back("contains");
  around.max_results = 10'000;
  for (const auto& s : servers) {
    if (s.status == "retired") continue;
    core::json::object labels;
    labels["gantry_ci"] = "server/" + s.name;
    labels["node"] = s.name;
    labels["status"] = s.status;
    if (auto v = StrAttr(s.attrs, "role"); !v.empty()) labels["role"] = v;
    if (auto v = StrAttr(s.attrs, "gpu_model"); !v.empty()) labels["gpu_model"] = v;
    std::optional<std::string> tenant = s.tenant;
    std::vector<std::string> partitions;
    int64_t located = 0, bmc_id = 0;
    auto sub = graph.Neighbourhood(s.id, around);
    for (const auto& e : sub.edges) {
      if (e.from != s.id) continue;
      const std::string& rel = sub.relation_types[e.relation];
      if (rel == "located_in") {
        located = e.to;
      } else if (rel == "member_of" || rel == "owned_by" || rel == "contains") {
        auto info = graph.Find(e.to);
        if (!info) continue;
        if (rel == "member_of" && info->type == "slurm_partition") partitions.push_back(info->name);
        if (rel == "owned_by" && info->type == "tenant" && !tenant) tenant = info->name;
        if (rel == "contains" && info->type == "bmc") bmc_id = e.to;
      }
    }
    std::vector<const Place*> chain;
    for (int64_t cur = located; cur && chain.size() < 8;) {
      const Place* p = place_of(cur);
      if (!p) break;
      chain.push_back(p);
      cur = p->parent;
    }
    std::string location;
    for (auto p = chain.rbegin(); p != chain.rend(); ++p) {
      if ((*p)->type == "site" || (*p)->type == "room" || (*p)->type == "row" || (*p)->type == "rack") {
        labels[(*p)->type] = (*p)->name;
      }
      location += (location.empty() ? "" : "/") + (*p)->name;
    }
    if (!location.empty()) labels["location"] = location;
    if (tenant) labels["tenant"] = *tenant;
    if (!partitions.empty()) {
      std::sort(partitions.begin(), partitions.end());
      std::string joined;
      for (const auto& p : partitions) joined += (joined.empty() ? "" : ",") + p;
      labels["slurm_partition"] = joined;
    }
    std::string target;
    if (kind == "agent") {
      std::string host = StrAttr(s.attrs, "primary_ip");
      target = (host.empty() ? s.name : host) + ":" + std::to_string(options_.agent_port);
    } else {
      auto b = bmcs.find(bmc_id);
      if (b == bmcs.end()) continue;
      std::string address = StrAttr(b->second.attrs, "address");
      if (address.empty()) continue;
      target = address;
      labels["gantry_ci"] = "bmc/" + b->second.name;
      labels["bmc"] = b->second.name;
      if (auto v = StrAttr(b->second.attrs, "protocol"); !v.empty()) labels["bmc_protocol"] = v;
    }
    out.push_back(core::json::object{{"targets", core::json::array{core::json::value(target)}},
                                     {"labels", std::move(labels)}});
  }
  return core::ToJson(out);
}

}  // namespace gantry::monitoring
