// BMC records, single-target operations and the fan-out engine (see service.h).
#include "hardware/service.h"

#include <spdlog/spdlog.h>

#include <chrono>
#include <map>
#include <mutex>
#include <set>
#include <thread>

#include "auth/policy.h"
#include "hardware/ipmi.h"
#include "hardware/redfish.h"

namespace gantry::hardware {

namespace json = core::json;

namespace {

core::Status Require(const core::RequestContext& rc, std::string_view action) {
  if (rc.principal.auth_method == "system" || auth::Allowed(rc.principal, action)) return {};
  return core::PermissionDenied("not allowed: " + std::string(action));
}

std::string TargetOf(const Bmc& b) { return b.server.value_or(b.name); }

int64_t MillisSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
      .count();
}

std::vector<NodeResult> Denied(const std::vector<std::string>& targets, const core::Error& e) {
  std::vector<NodeResult> out(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) {
    out[i].node = targets[i];
    out[i].fault = "denied";
    out[i].message = e.message;
  }
  return out;
}

// The health mark a result leaves on its BMC. An unsupported action says nothing about health.
std::optional<std::string> HealthOf(const NodeResult& r) {
  if (r.ok) return std::string("ok");
  if (r.fault == "unsupported" || r.fault == "not_found" || r.fault == "bmc_error") return std::nullopt;
  return r.fault;
}

}  // namespace

core::Status Service::Audit(store::Tx& tx, const core::RequestContext& rc, const std::string& action,
                            const std::string& target, const json::object& details,
                            const std::string& result) const {
  auto e = audit::Service::MakeEvent(rc, action, "bmc", target, details, result);
  return audit_.Append(tx, std::move(e));
}

core::Error Service::PublicError(const NodeResult& r) {
  const std::string& f = r.fault;
  if (f == "not_found") return core::NotFound(r.message);
  if (f == "timeout") return core::Error(core::Code::kDeadlineExceeded, r.message);
  if (f == "unsupported") return core::FailedPrecondition(r.message);
  if (f == "denied") return core::PermissionDenied(r.message);
  return core::Unavailable(r.message);
}

// ---- records ------------------------------------------------------------------------------

core::Result<Bmc> Service::AddBmc(const core::RequestContext& rc, NewBmc n) {
  GANTRY_TRY_STATUS(Require(rc, "bmcs.write"));
  GANTRY_TRY_STATUS(ValidateName(n.name, "name"));
  GANTRY_TRY_STATUS(ValidateAddress(n.address, n.protocol));
  if (n.server) GANTRY_TRY_STATUS(ValidateName(*n.server, "server"));
  if (n.system_id) GANTRY_TRY_STATUS(ValidateName(*n.system_id, "system_id"));
  if (n.credentials.username.empty() || n.credentials.username.size() > 64) {
    return core::InvalidArgument("username must be 1-64 characters", "username");
  }
  if (n.credentials.password.empty() || n.credentials.password.size() > 256) {
    return core::InvalidArgument("password must be 1-256 characters", "password");
  }
  if (n.auth != "basic" && n.auth != "session") {
    return core::InvalidArgument("auth must be basic or session", "auth");
  }
  if (n.protocol == Protocol::kIpmi && n.auth != "basic") {
    return core::InvalidArgument("auth applies to redfish BMCs only", "auth");
  }
  if (n.ca_file && (n.ca_file->empty() || n.ca_file->front() != '/' || n.ca_file->size() > 1024)) {
    return core::InvalidArgument("ca_file must be an absolute path", "ca_file");
  }
  Bmc b;
  b.name = n.name;
  b.address = n.address;
  b.protocol = n.protocol;
  b.server = n.server;
  b.system_id = n.system_id;
  b.auth = n.auth;
  b.tls_verify = n.tls_verify;
  b.ca_file = n.ca_file;
  GANTRY_TRY(b.sealed_credentials, box_.Seal(n.name, n.credentials));
  b.created_at = b.updated_at = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kWrite));
  GANTRY_TRY(auto clash, Store::FindBmcs(*tx, {n.name}));
  if (!clash.empty()) return core::Conflict("a BMC named '" + n.name + "' exists");
  if (n.server) {
    GANTRY_TRY(auto other, Store::FindBmcs(*tx, {*n.server}));
    if (!other.empty()) {
      return core::Conflict("server '" + *n.server + "' is already controlled by BMC '" +
                            other.front().name + "'");
    }
  }
  GANTRY_TRY(b.id, Store::InsertBmc(*tx, b));
  json::object details{{"address", b.address}, {"protocol", std::string(Name(b.protocol))},
                       {"server", core::OptValue(b.server)}, {"tls_verify", b.tls_verify},
                       {"auth", b.auth}};
  GANTRY_TRY_STATUS(Audit(*tx, rc, "bmc.create", b.name, details));
  GANTRY_TRY_STATUS(tx->Commit());
  return b;
}

core::Result<Bmc> Service::GetBmc(const core::RequestContext& rc, std::string_view ref) {
  GANTRY_TRY_STATUS(Require(rc, "bmcs.read"));
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  GANTRY_TRY(auto b, Store::FindBmc(*tx, ref));
  if (!b) return core::NotFound("no BMC '" + std::string(ref.substr(0, 100)) + "'");
  return *b;
}

core::Result<std::vector<Bmc>> Service::ListBmcs(const core::RequestContext& rc,
                                                 std::optional<int64_t> cursor, int limit) {
  GANTRY_TRY_STATUS(Require(rc, "bmcs.read"));
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  return Store::ListBmcs(*tx, cursor, limit);
}

core::Status Service::RemoveBmc(const core::RequestContext& rc, std::string_view ref) {
  GANTRY_TRY_STATUS(Require(rc, "bmcs.write"));
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kWrite));
  GANTRY_TRY(auto b, Store::FindBmc(*tx, ref));
  if (!b) return core::NotFound("no BMC '" + std::string(ref.substr(0, 100)) + "'");
  GANTRY_TRY_STATUS(Store::DeleteBmc(*tx, b->id));
  GANTRY_TRY_STATUS(Audit(*tx, rc, "bmc.delete", b->name, {{"server", core::OptValue(b->server)}}));
  return tx->Commit();
}

core::Result<std::vector<std::string>> Service::AllTargets() {
  std::vector<std::string> out;
  GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
  std::optional<int64_t> after;
  for (;;) {
    GANTRY_TRY(auto page, Store::ListBmcs(*tx, after, 1000));
    for (const auto& b : page) out.push_back(TargetOf(b));
    if (page.size() < 1000) break;
    after = page.back().id;
  }
  return out;
}

core::Result<std::unique_ptr<Driver>> Service::DriverFor(const Bmc& b) const {
  GANTRY_TRY(auto creds, box_.Open(b.name, b.sealed_credentials));
  Endpoint ep;
  ep.name = b.name;
  ep.address = b.address;
  ep.protocol = b.protocol;
  ep.system_id = b.system_id;
  ep.credentials = std::move(creds);
  ep.auth = b.auth;
  ep.tls_verify = b.tls_verify;
  ep.ca_file = b.ca_file.value_or("");
  return drivers_->Make(ep);
}

// ---- fan-out ------------------------------------------------------------------------------

std::vector<NodeResult> Service::ForEach(const core::RequestContext& rc,
                                         const std::vector<std::string>& targets, const NodeOp& op,
                                         const FanOutOptions& o, const std::string& audit_action,
                                         const json::object& audit_details) {
  std::vector<NodeResult> results(targets.size());
  for (size_t i = 0; i < targets.size(); ++i) results[i].node = targets[i];
  // One read for every record.
  std::map<std::string, Bmc> by_ref;
  {
    auto tx = db_.Begin(store::TxMode::kRead);
    auto found = tx ? Store::FindBmcs(**tx, targets) : core::Result<std::vector<Bmc>>(tx.error());
    if (!found) {
      for (auto& r : results) {
        r.fault = "error";
        r.message = "cannot read BMC records: " + found.error().message;
      }
      return results;
    }
    for (auto& b : *found) {
      if (b.server) by_ref.emplace(*b.server, b);
      by_ref.emplace(b.name, b);
    }
  }
  std::vector<const Bmc*> bmcs(targets.size(), nullptr);
  for (size_t i = 0; i < targets.size(); ++i) {
    auto it = by_ref.find(targets[i]);
    if (it == by_ref.end()) {
      results[i].fault = "not_found";
      results[i].message = "no BMC for '" + targets[i].substr(0, 100) + "'";
    } else {
      bmcs[i] = &it->second;
      results[i].bmc = it->second.name;
    }
  }

  std::atomic<size_t> next{0};
  std::atomic<int> done{0}, failed{0};
  const int total = static_cast<int>(targets.size());
  auto work = [&] {
    for (;;) {
      size_t i = next.fetch_add(1);
      if (i >= targets.size()) return;
      NodeResult& r = results[i];
      if (bmcs[i] && !(o.cancel && o.cancel->load())) {
        auto t0 = std::chrono::steady_clock::now();
        auto driver = DriverFor(*bmcs[i]);
        core::Result<json::object> out = driver ? op(**driver, *bmcs[i]) : driver.error();
        r.elapsed_ms = MillisSince(t0);
        if (out) {
          r.ok = true;
          r.data = std::move(*out);
        } else {
          // Credentials that do not open are Gantry's problem, not the BMC's.
          r.fault = driver ? FaultOf(out.error()) : "error";
          r.message = out.error().message;
        }
      } else if (bmcs[i]) {
        r.fault = "cancelled";
        r.message = "cancelled before it started";
      }
      if (!r.ok) failed.fetch_add(1);
      int d = done.fetch_add(1) + 1;
      if (o.progress) o.progress(d, failed.load(), total);
    }
  };
  int threads = std::clamp(o.concurrency, 1, 1024);
  threads = std::min<int>(threads, static_cast<int>(targets.size()));
  std::vector<std::thread> pool;
  pool.reserve(threads);
  for (int t = 0; t < threads; ++t) pool.emplace_back(work);
  for (auto& t : pool) t.join();

  // Health marks, power states and audit events of this fan-out in one transaction.
  auto now = clock_.Now();
  auto tx = db_.Begin(store::TxMode::kWrite);
  core::Status st = tx ? core::Status{} : core::Status(tx.error());
  for (size_t i = 0; st && i < targets.size(); ++i) {
    if (!bmcs[i]) continue;
    const NodeResult& r = results[i];
    if (auto health = HealthOf(r)) {
      HealthUpdate u{bmcs[i]->id, *health, r.ok ? "" : r.message.substr(0, 300), std::nullopt};
      if (const auto* p = r.data.if_contains("power_state"); p && p->is_string()) {
        u.power_state = std::string(p->get_string());
      }
      st = Store::UpdateHealth(**tx, u, now);
    }
    if (st && !audit_action.empty()) {
      json::object d = audit_details;
      d["node"] = r.node;
      if (!r.ok) {
        d["fault"] = r.fault;
        d["error"] = r.message.substr(0, 300);
      }
      st = Audit(**tx, rc, audit_action, r.bmc, d, r.ok ? audit::kSuccess : audit::kFailure);
    }
  }
  if (st) st = (*tx)->Commit();
  if (!st) spdlog::warn("hardware: could not record the results of {}: {}", audit_action, st.error().message);
  return results;
}

core::Result<NodeResult> Service::One(const core::RequestContext& rc, std::string_view target,
                                      const NodeOp& op, const std::string& audit_action,
                                      const json::object& details) {
  FanOutOptions o;
  o.concurrency = 1;
  auto results = ForEach(rc, {std::string(target)}, op, o, audit_action, details);
  NodeResult r = std::move(results.at(0));
  if (!r.ok) return PublicError(r);
  return r;
}

std::vector<NodeResult> Service::PowerMany(const core::RequestContext& rc,
                                           const std::vector<std::string>& targets,
                                           std::optional<PowerAction> action, const FanOutOptions& o) {
  if (!action) {
    if (auto st = Require(rc, "nodes.read"); !st) return Denied(targets, st.error());
    return ForEach(rc, targets, [](Driver& d, const Bmc&) -> core::Result<json::object> {
      GANTRY_TRY(auto s, d.PowerState());
      return json::object{{"power_state", s}};
    }, o);
  }
  if (auto st = Require(rc, "nodes.control"); !st) return Denied(targets, st.error());
  PowerAction a = *action;
  return ForEach(rc, targets, [a](Driver& d, const Bmc&) -> core::Result<json::object> {
    GANTRY_TRY_STATUS(d.Power(a));
    return json::object{{"action", std::string(Name(a))}};
  }, o, "node.power", {{"action", std::string(Name(a))}});
}

std::vector<NodeResult> Service::BootMany(const core::RequestContext& rc,
                                          const std::vector<std::string>& targets, BootDevice device,
                                          bool once, const FanOutOptions& o) {
  if (auto st = Require(rc, "nodes.control"); !st) return Denied(targets, st.error());
  return ForEach(rc, targets, [device, once](Driver& d, const Bmc&) -> core::Result<json::object> {
    GANTRY_TRY_STATUS(d.SetBootDevice(device, once));
    return json::object{{"device", std::string(Name(device))}, {"once", once}};
  }, o, "node.boot", {{"device", std::string(Name(device))}, {"once", once}});
}

std::vector<NodeResult> Service::CheckMany(const core::RequestContext& rc,
                                           const std::vector<std::string>& targets,
                                           const FanOutOptions& o) {
  if (auto st = Require(rc, "nodes.read"); !st) return Denied(targets, st.error());
  return ForEach(rc, targets, [](Driver& d, const Bmc&) { return d.Probe(); }, o);
}

// ---- one target ---------------------------------------------------------------------------

core::Result<std::string> Service::PowerStatus(const core::RequestContext& rc, std::string_view target) {
  GANTRY_TRY_STATUS(Require(rc, "nodes.read"));
  GANTRY_TRY(auto r, One(rc, target, [](Driver& d, const Bmc&) -> core::Result<json::object> {
    GANTRY_TRY(auto s, d.PowerState());
    return json::object{{"power_state", s}};
  }, {}, {}));
  return std::string(r.data.at("power_state").as_string());
}

core::Status Service::Power(const core::RequestContext& rc, std::string_view target, PowerAction action) {
  GANTRY_TRY_STATUS(Require(rc, "nodes.control"));
  GANTRY_TRY(auto r, One(rc, target, [action](Driver& d, const Bmc&) -> core::Result<json::object> {
    GANTRY_TRY_STATUS(d.Power(action));
    return json::object{};
  }, "node.power", {{"action", std::string(Name(action))}}));
  (void)r;
  return {};
}

core::Status Service::SetBootDevice(const core::RequestContext& rc, std::string_view target,
                                    BootDevice device, bool once) {
  GANTRY_TRY_STATUS(Require(rc, "nodes.control"));
  GANTRY_TRY(auto r, One(rc, target, [device, once](Driver& d, const Bmc&) -> core::Result<json::object> {
    GANTRY_TRY_STATUS(d.SetBootDevice(device, once));
    return json::object{};
  }, "node.boot", {{"device", std::string(Name(device))}, {"once", once}}));
  (void)r;
  return {};
}

core::Result<std::vector<SelEntry>> Service::ReadSel(const core::RequestContext& rc,
                                                     std::string_view target, int max) {
  GANTRY_TRY_STATUS(Require(rc, "nodes.read"));
  std::vector<SelEntry> entries;
  GANTRY_TRY(auto r, One(rc, target, [&entries, max](Driver& d, const Bmc&) -> core::Result<json::object> {
    GANTRY_TRY(entries, d.ReadSel(max));
    return json::object{};
  }, {}, {}));
  (void)r;
  return entries;
}

core::Status Service::ClearSel(const core::RequestContext& rc, std::string_view target) {
  GANTRY_TRY_STATUS(Require(rc, "nodes.control"));
  GANTRY_TRY(auto r, One(rc, target, [](Driver& d, const Bmc&) -> core::Result<json::object> {
    GANTRY_TRY_STATUS(d.ClearSel());
    return json::object{};
  }, "node.sel.clear", {}));
  (void)r;
  return {};
}

core::Status Service::InsertMedia(const core::RequestContext& rc, std::string_view target,
                                  const std::string& image_uri) {
  GANTRY_TRY_STATUS(Require(rc, "nodes.control"));
  if (image_uri.empty() || image_uri.size() > 2048 ||
      !(image_uri.starts_with("http://") || image_uri.starts_with("https://") ||
        image_uri.starts_with("nfs://") || image_uri.starts_with("cifs://"))) {
    return core::InvalidArgument("image must be an http(s)://, nfs:// or cifs:// URI", "image");
  }
  GANTRY_TRY(auto r, One(rc, target, [&image_uri](Driver& d, const Bmc&) -> core::Result<json::object> {
    GANTRY_TRY_STATUS(d.InsertMedia(image_uri));
    return json::object{};
  }, "node.media.insert", {{"image", image_uri}}));
  (void)r;
  return {};
}

core::Status Service::EjectMedia(const core::RequestContext& rc, std::string_view target) {
  GANTRY_TRY_STATUS(Require(rc, "nodes.control"));
  GANTRY_TRY(auto r, One(rc, target, [](Driver& d, const Bmc&) -> core::Result<json::object> {
    GANTRY_TRY_STATUS(d.EjectMedia());
    return json::object{};
  }, "node.media.eject", {}));
  (void)r;
  return {};
}

// ---- drivers ------------------------------------------------------------------------------

std::unique_ptr<Driver> RealDriverFactory::Make(const Endpoint& endpoint) const {
  if (endpoint.protocol == Protocol::kIpmi) {
    return std::make_unique<IpmiDriver>(endpoint, options_, ipmitool_);
  }
  return std::make_unique<RedfishDriver>(endpoint, options_);
}

}  // namespace gantry::hardware
