#include "lifecycle/inventory.h"

#include <map>
#include <set>
#include <unordered_map>

namespace gantry::lifecycle {

std::string GroupName(std::string_view prefix, std::string_view value) {
  std::string s(prefix);
  s += '_';
  for (char c : value) {
    char l = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    s += ((l >= 'a' && l <= 'z') || (l >= '0' && l <= '9') || l == '_') ? l : '_';
  }
  return s;
}

namespace {

core::Result<std::vector<cmdb::Ci>> AllOfType(cmdb::Service& cmdb, const core::RequestContext& rc,
                                              const std::string& type) {
  std::vector<cmdb::Ci> out;
  cmdb::CiFilter f;
  f.type = type;
  f.limit = 5000;
  while (true) {
    GANTRY_TRY(auto page, cmdb.ListCis(rc, f));
    for (auto& c : page) out.push_back(std::move(c));
    if (static_cast<int>(page.size()) < f.limit) break;
    f.after_id = out.back().id;
  }
  return out;
}

std::string AttrText(const core::json::object& attrs, std::string_view key) {
  const auto* v = attrs.if_contains(key);
  if (!v) return "";
  if (v->is_string()) return std::string(v->get_string());
  if (v->is_int64()) return std::to_string(v->get_int64());
  return "";
}

}  // namespace

core::Result<core::json::object> BuildInventory(cmdb::Service& cmdb, const core::RequestContext& rc,
                                                const std::optional<std::string>& host) {
  std::vector<cmdb::Ci> servers;
  if (host) {
    GANTRY_TRY(auto ci, cmdb.GetCi(rc, "server/" + *host));
    servers.push_back(std::move(ci));
  } else {
    GANTRY_TRY(servers, AllOfType(cmdb, rc, "server"));
  }
  GANTRY_TRY_STATUS(cmdb.Sync());
  auto& graph = cmdb.graph();
  // Instances deployed on servers carry the tenant that leases the server.
  std::unordered_map<int64_t, std::string> instance_tenant;
  if (!host) {
    GANTRY_TRY(auto instances, AllOfType(cmdb, rc, "instance"));
    for (const auto& i : instances) {
      if (i.tenant) instance_tenant[i.id] = *i.tenant;
    }
  }
  std::unordered_map<int64_t, std::string> site_of_rack;  // rack id → site name ("" none)
  std::map<std::string, std::set<std::string>> groups;
  core::json::object hostvars;
  cmdb::NeighbourhoodOptions near;
  near.depth = 1;
  near.include_edges = false;
  near.relation_types = {"located_in", "member_of", "owned_by", "deployed_on"};
  cmdb::TraversalOptions up;
  up.relation_types = {"located_in"};
  up.max_depth = 6;
  for (const auto& s : servers) {
    core::json::object vars = s.attrs;
    std::string rack, site, tenant = s.tenant.value_or("");
    core::json::array partitions;
    auto sub = graph.Neighbourhood(s.id, near);
    for (size_t i = 0; i < sub.nodes.size(); ++i) {
      const auto& type = sub.TypeOf(i);
      int64_t id = sub.nodes[i].id;
      if (type == "rack") {
        auto info = graph.Find(id);
        if (!info) continue;
        rack = info->name;
        auto it = site_of_rack.find(id);
        if (it == site_of_rack.end()) {
          std::string found;
          auto chain = graph.UpstreamOf(id, up);
          for (size_t k = 0; k < chain.nodes.size(); ++k) {
            if (chain.TypeOf(k) == "site") {
              if (auto si = graph.Find(chain.nodes[k].id)) found = si->name;
            }
          }
          it = site_of_rack.emplace(id, found).first;
        }
        site = it->second;
      } else if (type == "site") {
        if (auto info = graph.Find(id)) site = info->name;
      } else if (type == "slurm_partition") {
        if (auto info = graph.Find(id)) partitions.push_back(core::json::value(info->name));
      } else if (type == "tenant" && tenant.empty()) {
        if (auto info = graph.Find(id)) tenant = info->name;
      } else if (type == "instance" && tenant.empty()) {
        auto it = instance_tenant.find(id);
        if (it != instance_tenant.end()) tenant = it->second;
        else if (host) {
          auto inst = cmdb.GetCi(rc, std::to_string(id));
          if (inst && inst->tenant) tenant = *inst->tenant;
        }
      }
    }
    std::string address = AttrText(s.attrs, "primary_ip");
    if (address.empty()) address = AttrText(s.attrs, "mgmt_ip");
    if (!address.empty()) vars["ansible_host"] = address;
    vars["gantry_id"] = s.id;
    vars["gantry_status"] = s.status;
    if (!site.empty()) vars["gantry_site"] = site;
    if (!rack.empty()) vars["gantry_rack"] = rack;
    if (!tenant.empty()) vars["gantry_tenant"] = tenant;
    vars["gantry_partitions"] = partitions;
    if (host) return vars;
    hostvars[s.name] = std::move(vars);
    if (!site.empty()) groups[GroupName("site", site)].insert(s.name);
    if (!rack.empty()) groups[GroupName("rack", rack)].insert(s.name);
    if (auto r = AttrText(s.attrs, "role"); !r.empty()) groups[GroupName("role", r)].insert(s.name);
    if (auto g = AttrText(s.attrs, "gpu_model"); !g.empty()) groups[GroupName("gpu", g)].insert(s.name);
    if (!tenant.empty()) groups[GroupName("tenant", tenant)].insert(s.name);
    if (auto l = AttrText(s.attrs, "lifecycle"); !l.empty()) groups[GroupName("lifecycle", l)].insert(s.name);
    for (const auto& p : partitions) groups[GroupName("slurm", p.get_string())].insert(s.name);
  }
  core::json::object out;
  core::json::array children, ungrouped;
  std::set<std::string> grouped;
  for (const auto& [name, members] : groups) {
    core::json::array hosts;
    for (const auto& h : members) {
      hosts.push_back(core::json::value(h));
      grouped.insert(h);
    }
    out[name] = core::json::object{{"hosts", std::move(hosts)}};
    children.push_back(core::json::value(name));
  }
  for (const auto& s : servers) {
    if (!grouped.count(s.name)) ungrouped.push_back(core::json::value(s.name));
  }
  out["ungrouped"] = core::json::object{{"hosts", std::move(ungrouped)}};
  children.push_back(core::json::value("ungrouped"));
  out["all"] = core::json::object{{"children", std::move(children)}};
  out["_meta"] = core::json::object{{"hostvars", std::move(hostvars)}};
  return out;
}

}  // namespace gantry::lifecycle
