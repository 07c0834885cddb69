// Nodes, the state machine's operations, maintenance and DHCP discovery.
// Boot endpoints, images and templates: boot.cc; the operation jobs: operation.cc.
#include "lifecycle/service.h"

#include <spdlog/spdlog.h>

#include "auth/policy.h"
#include "lifecycle/builtin_templates.h"

namespace gantry::lifecycle {

namespace {


core::Status CheckReason(const std::string& reason) {
  if (reason.size() > 1000) return core::InvalidArgument("reason must be at most 1000 characters", "reason");
  for (unsigned char c : reason) {
    if (c < 0x20 && c != '\n') return core::InvalidArgument("reason must not hold control characters", "reason");
  }
  return {};
}

bool IsValidIpv4(std::string_view s) {
  int parts = 0, digits = 0, value = 0;
  for (size_t i = 0; i <= s.size(); ++i) {
    if (i == s.size() || s[i] == '.') {
      if (digits == 0 || value > 255) return false;
      ++parts;
      digits = value = 0;
      continue;
    }
    if (s[i] < '0' || s[i] > '9' || ++digits > 3) return false;
    value = value * 10 + (s[i] - '0');
  }
  return parts == 4;
}

}  // namespace

core::Status RequireAction(const core::RequestContext& rc, std::string_view action) {
  if (rc.principal.auth_method == "system" || auth::Allowed(rc.principal, action)) return {};
  return core::PermissionDenied("not allowed: " + std::string(action));
}

const char* PowerActionName(PowerAction a) {
  switch (a) {
    case PowerAction::kOn: return "on";
    case PowerAction::kOff: return "off";
    case PowerAction::kCycle: return "cycle";
  }
  return "?";
}

const char* BootDeviceName(BootDevice d) { return d == BootDevice::kPxe ? "pxe" : "disk"; }

core::Status NoControl::Power(const Node& node, PowerAction) {
  return core::FailedPrecondition("node " + node.name + " has no BMC to power it");
}
core::Status NoControl::SetBootDevice(const Node& node, BootDevice) {
  return core::FailedPrecondition("node " + node.name + " has no BMC to set its boot device");
}

Service::Service(store::Database& db, const audit::Service& audit, const core::Clock& clock,
                 jobs::Service& jobs, cmdb::Service* cmdb, NodeControl& control, Options options)
    : db_(db), audit_(audit), clock_(clock), jobs_(jobs), cmdb_(cmdb), control_(control),
      options_(std::move(options)) {}

core::Status Service::Init() {
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  for (const auto& t : BuiltinTemplates()) {
    GANTRY_TRY(auto existing, Store::FindTemplate(*tx, t.name));
    if (existing && !existing->builtin) continue;  // an operator's own version wins
    if (existing && existing->body == t.body && existing->kind == t.kind) continue;
    GANTRY_TRY_STATUS(Store::UpsertTemplate(*tx, t, now));
  }
  return tx->Commit();
}

core::Status Service::Audit(store::Tx& tx, const core::RequestContext& rc, const std::string& action,
                            const Node& n, core::json::object details) {
  details["state"] = n.state;
  return audit_.Append(tx, audit::Service::MakeEvent(rc, action, "node", n.name, details));
}

core::Result<Node> Service::Resolve(store::Tx& tx, std::string_view ref, bool lock) {
  if (ref.empty()) return core::InvalidArgument("empty node reference", "node");
  GANTRY_TRY(auto n, Store::FindNode(tx, ref, lock, db_.backend()));
  if (!n) return core::NotFound("no node '" + std::string(ref.substr(0, 64)) + "'");
  return *n;
}

void Service::Notify(int64_t node_id) {
  {
    std::lock_guard lock(wait_mu_);
    ++callbacks_seen_[node_id];
  }
  wait_cv_.notify_all();
}

void Service::Mirror(const Node& changed) {
  if (observer_) observer_(changed);
  if (!cmdb_) return;
  // Concurrent changes of one node (a request and its job) may call this out of order: the
  // CMDB gets the node's state as it is now, read under one lock.
  std::lock_guard mirror_lock(mirror_mu_);
  Node n = changed;
  {
    auto tx = db_.Begin(store::TxMode::kRead);
    if (!tx) return;
    auto cur = Store::GetNode(**tx, changed.id, false, db_.backend());
    if (!cur || !*cur) return;
    n = **cur;
  }
  cmdb::Observation o;
  o.source = "lifecycle";
  o.priority = 50;
  o.type = "server";
  o.name = n.name;
  o.attrs["lifecycle"] = n.state;
  if (n.ip) o.attrs["primary_ip"] = *n.ip;
  else if (n.last_ip) o.attrs["primary_ip"] = *n.last_ip;
  auto r = cmdb_->Observe(core::RequestContext::System("lifecycle"), o);
  if (!r) spdlog::warn("lifecycle: cannot record {} in the CMDB: {}", n.name, r.error().message);
}

// ---- nodes ----------------------------------------------------------------------------------

core::Result<Node> Service::CreateNode(const core::RequestContext& rc, NewNode in) {
  GANTRY_TRY_STATUS(RequireAction(rc, "nodes.write"));
  auto mac = NormalizeMac(in.mac);
  if (!mac) return core::InvalidArgument("mac must look like 52:54:00:12:34:56", "mac");
  if (in.name.empty()) in.name = DefaultName(*mac);
  if (!IsValidHostname(in.name)) {
    return core::InvalidArgument("name must be a host name: a-z, 0-9 and '-', at most 63", "name");
  }
  if (in.ip && !IsValidIpv4(*in.ip)) return core::InvalidArgument("ip must be an IPv4 address", "ip");
  if (in.bmc && (in.bmc->empty() || in.bmc->size() > 200)) {
    return core::InvalidArgument("bmc must be 1 to 200 characters", "bmc");
  }
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto by_name, Store::FindNode(*tx, in.name, false, db_.backend()));
  if (by_name) return core::Conflict("node '" + in.name + "' already exists");
  GANTRY_TRY(auto by_mac, Store::FindNode(*tx, *mac, false, db_.backend()));
  if (by_mac) return core::Conflict("MAC " + *mac + " belongs to node '" + by_mac->name + "'");
  Node n;
  n.name = in.name;
  n.mac = *mac;
  n.ip = in.ip;
  n.bmc = in.bmc;
  n.state = kDiscovered;
  n.source = "manual";
  GANTRY_TRY(n.id, Store::InsertNode(*tx, n, now));
  n.created_at = n.updated_at = now;
  GANTRY_TRY_STATUS(Audit(*tx, rc, "node.create", n, {{"mac", n.mac}}));
  GANTRY_TRY_STATUS(tx->Commit());
  Mirror(n);
  return n;
}

core::Result<Node> Service::GetNode(const core::RequestContext& rc, std::string_view ref) {
  GANTRY_TRY_STATUS(RequireAction(rc, "nodes.read"));
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  return Resolve(*tx, ref, false);
}

core::Result<std::vector<Node>> Service::ListNodes(const core::RequestContext& rc, NodeFilter f) {
  GANTRY_TRY_STATUS(RequireAction(rc, "nodes.read"));
  if (f.state && !IsValidState(*f.state)) return core::InvalidArgument("unknown state '" + f.state->substr(0, 32) + "'", "state");
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  return Store::ListNodes(*tx, f);
}

core::Result<std::vector<std::pair<std::string, int64_t>>> Service::CountByState() {
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  return Store::CountByState(*tx);
}

core::Status Service::DeleteNode(const core::RequestContext& rc, std::string_view ref) {
  GANTRY_TRY_STATUS(RequireAction(rc, "nodes.write"));
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto n, Resolve(*tx, ref, true));
  if (n.op) {
    return core::FailedPrecondition("node " + n.name + " is " + n.state + " (job " +
                                    std::to_string(n.job_id.value_or(0)) + "); cancel the job first");
  }
  GANTRY_TRY_STATUS(Store::DeleteTokens(*tx, n.id));
  GANTRY_TRY_STATUS(tx->Exec("DELETE FROM lc_nodes WHERE id = ?", {n.id}));
  GANTRY_TRY_STATUS(Audit(*tx, rc, "node.delete", n, {{"mac", n.mac}}));
  return tx->Commit();
}

core::Result<Node> Service::StartOperation(const core::RequestContext& rc, std::string_view ref,
                                           Op op, OpRequest req) {
  GANTRY_TRY_STATUS(RequireAction(rc, "nodes.operate"));
  const OpRule& rule = RuleOf(op);
  if (req.timeout_s && (*req.timeout_s < 1 || *req.timeout_s > 86400)) {
    return core::InvalidArgument("timeout_s must be between 1 and 86400", "timeout_s");
  }
  std::string image = req.image.value_or(op == Op::kCommission ? options_.commission_image
                                         : op == Op::kDeploy   ? options_.deploy_image
                                         : op == Op::kRelease  ? options_.release_image
                                                               : options_.rescue_image);
  std::optional<std::string> tmpl = req.template_name;
  if (op == Op::kDeploy && !tmpl) tmpl = options_.deploy_template;
  if (tmpl && op != Op::kDeploy) {
    return core::InvalidArgument("only deploy renders an install template", "template");
  }
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto n, Resolve(*tx, ref, true));
  if (n.op) {
    return core::FailedPrecondition("node " + n.name + " is already " + n.state + " (job " +
                                    std::to_string(n.job_id.value_or(0)) + ")");
  }
  bool allowed = false;
  for (const auto& s : rule.from) allowed = allowed || s == n.state;
  if (!allowed) {
    std::string from;
    for (const auto& s : rule.from) from += (from.empty() ? "" : ", ") + s;
    return core::FailedPrecondition("cannot " + std::string(rule.name) + " node " + n.name +
                                    " in state " + n.state + " (allowed from: " + from + ")");
  }
  GANTRY_TRY(auto img, Store::FindImage(*tx, image));
  if (!img || !img->kernel || !img->initrd) {
    return core::FailedPrecondition("image '" + image + "' does not exist or lacks a kernel and initrd");
  }
  if (tmpl) {
    GANTRY_TRY(auto t, Store::FindTemplate(*tx, *tmpl));
    if (!t) return core::NotFound("no template '" + tmpl->substr(0, 64) + "'");
  }
  jobs::NewJob job;
  job.type = std::string("lifecycle.") + rule.name;
  job.params = {{"node", n.id}};
  job.max_attempts = 3;
  GANTRY_TRY(auto job_id, jobs_.EnqueueInTx(*tx, rc, std::move(job)));
  n.prev_state = n.state;
  n.state = rule.during;
  n.op = rule.name;
  n.job_id = job_id;
  n.op_image = image;
  n.op_template = tmpl;
  n.op_vars = core::ToJson(req.vars);
  n.op_config.reset();
  n.callback.reset();
  n.reason.clear();
  n.op_deadline = now + req.timeout_s.value_or(options_.op_timeout_s) * core::kNanosPerSecond;
  GANTRY_TRY_STATUS(Store::UpdateNode(*tx, n, now));
  GANTRY_TRY_STATUS(Audit(*tx, rc, std::string("node.") + rule.name, n,
                          {{"job_id", job_id}, {"image", image}, {"from", *n.prev_state}}));
  GANTRY_TRY_STATUS(tx->Commit());
  Mirror(n);
  if (on_enqueue_) on_enqueue_();
  return n;
}

core::Result<Node> Service::SetMaintenance(const core::RequestContext& rc, std::string_view ref,
                                           bool on, const std::string& reason) {
  GANTRY_TRY_STATUS(RequireAction(rc, "nodes.operate"));
  GANTRY_TRY_STATUS(CheckReason(reason));
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto n, Resolve(*tx, ref, true));
  if (n.op) return core::FailedPrecondition("node " + n.name + " is " + n.state + "; wait for or cancel its job");
  if (on == (n.state == kMaintenance)) {
    return core::FailedPrecondition("node " + n.name + " is " + (on ? "already" : "not") + " in maintenance");
  }
  std::string from = n.state;
  if (on) {
    n.prev_state = n.state;
    n.state = kMaintenance;
    n.reason = reason;
  } else {
    n.state = n.prev_state.value_or(kReady);
    if (n.state == kMaintenance || IsTransient(n.state)) n.state = kReady;
    n.prev_state.reset();
    n.reason.clear();
  }
  GANTRY_TRY_STATUS(Store::UpdateNode(*tx, n, now));
  GANTRY_TRY_STATUS(Audit(*tx, rc, on ? "node.maintenance.on" : "node.maintenance.off", n,
                          {{"from", from}, {"reason", reason}}));
  GANTRY_TRY_STATUS(tx->Commit());
  Mirror(n);
  return n;
}

core::Result<Node> Service::MarkBroken(const core::RequestContext& rc, std::string_view ref,
                                       const std::string& reason) {
  GANTRY_TRY_STATUS(RequireAction(rc, "nodes.operate"));
  GANTRY_TRY_STATUS(CheckReason(reason));
  if (reason.empty()) return core::InvalidArgument("a broken node needs a reason", "reason");
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto n, Resolve(*tx, ref, true));
  if (n.op) return core::FailedPrecondition("node " + n.name + " is " + n.state + "; cancel its job first");
  std::string from = n.state;
  n.prev_state = n.state;
  n.state = kBroken;
  n.reason = reason;
  GANTRY_TRY_STATUS(Store::UpdateNode(*tx, n, now));
  GANTRY_TRY_STATUS(Audit(*tx, rc, "node.broken", n, {{"from", from}, {"reason", reason}}));
  GANTRY_TRY_STATUS(tx->Commit());
  Mirror(n);
  return n;
}

// ---- discovery ------------------------------------------------------------------------------

core::Result<Node> Service::ObserveDhcp(const core::RequestContext& rc, const DhcpSighting& s) {
  GANTRY_TRY_STATUS(RequireAction(rc, "discovery.write"));
  auto mac = NormalizeMac(s.mac);
  if (!mac) return core::InvalidArgument("mac must look like 52:54:00:12:34:56", "mac");
  if (!s.ip.empty() && !IsValidIpv4(s.ip)) return core::InvalidArgument("ip must be an IPv4 address", "ip");
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto found, Store::FindNode(*tx, *mac, true, db_.backend()));
  if (found) {
    Node n = *found;
    if (s.ip.empty() || n.last_ip == s.ip) return n;  // nothing new: no write, no audit
    std::string before = n.last_ip.value_or("");
    n.last_ip = s.ip;
    GANTRY_TRY_STATUS(Store::UpdateNode(*tx, n, now));
    GANTRY_TRY_STATUS(Audit(*tx, rc, "node.address", n, {{"ip", s.ip}, {"before", before}}));
    GANTRY_TRY_STATUS(tx->Commit());
    return n;
  }
  Node n;
  n.mac = *mac;
  n.name = DefaultName(*mac);
  // A DHCP host name that is a valid, unused host name names the node.
  if (IsValidHostname(s.hostname)) {
    GANTRY_TRY(auto taken, Store::FindNode(*tx, s.hostname, false, db_.backend()));
    if (!taken) n.name = s.hostname;
  }
  n.state = kDiscovered;
  n.source = "dhcp";
  if (!s.ip.empty()) n.last_ip = s.ip;
  GANTRY_TRY(n.id, Store::InsertNode(*tx, n, now));
  n.created_at = n.updated_at = now;
  GANTRY_TRY_STATUS(Audit(*tx, rc, "node.discover", n, {{"mac", n.mac}, {"ip", s.ip}, {"source", "dhcp"}}));
  GANTRY_TRY_STATUS(tx->Commit());
  if (cmdb_) {
    cmdb::Observation nic;
    nic.source = "dhcp";
    nic.type = "nic";
    nic.name = n.name + ":boot";
    nic.attrs["mac"] = n.mac;
    if (!s.ip.empty()) nic.attrs["ipv4"] = s.ip;
    auto sys = core::RequestContext::System("discovery");
    if (auto r = cmdb_->Observe(sys, nic); !r) spdlog::warn("discovery: {}", r.error().message);
  }
  Mirror(n);
  if (cmdb_) {
    cmdb::NewRelation rel;
    rel.type = "contains";
    rel.from = "server/" + n.name;
    rel.to = "nic/" + n.name + ":boot";
    rel.source = "dhcp";
    rel.if_missing = true;
    auto r = cmdb_->Relate(core::RequestContext::System("discovery"), rel);
    if (!r) spdlog::warn("discovery: {}", r.error().message);
  }
  return n;
}

}  // namespace gantry::lifecycle
