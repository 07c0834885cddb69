// The operation jobs: lifecycle.commission, .deploy, .release and .rescue, and the sweeper that
// settles operations whose job ended without its handler.
#include <spdlog/spdlog.h>

#include "jobs/store.h"
#include "jobs/worker.h"
#include "lifecycle/service.h"

namespace gantry::lifecycle {

namespace {

// Where a cancelled operation leaves the node.
std::string CancelledState(const Node& n) {
  if (n.op == std::string("commission") || n.op == std::string("rescue")) {
    std::string back = n.prev_state.value_or(kDiscovered);
    return IsTransient(back) ? kBroken : back;
  }
  return kBroken;
}

}  // namespace

void Service::RegisterJobTypes(jobs::Registry& registry) {
  for (const auto& rule : OpRules()) {
    Op op = rule.op;
    registry.Add(jobs::JobType{
        std::string("lifecycle.") + rule.name,
        std::string("Runs one ") + rule.name + " of a node (started by POST /api/v1/nodes/{node}/" +
            rule.name + ")",
        [](const core::json::object& params) -> core::Status {
          GANTRY_TRY_STATUS(core::OnlyFields(params, {"node"}));
          GANTRY_TRY(auto id, core::GetInt(params, "node"));
          if (id <= 0) return core::InvalidArgument("node must be a node id", "node");
          return {};
        },
        [this, op](jobs::JobContext& ctx) { return RunOperation(ctx, op); },
        false});
  }
}

core::Result<std::string> Service::LastLogLines(int64_t job_id, int n) {
  GANTRY_TRY(auto lines, jobs::Store::Log(db_, job_id, n));
  std::string out;
  for (const auto& l : lines) out += (out.empty() ? "" : "\n") + l.line;
  return out;
}

core::Result<std::optional<Node>> Service::Finish(int64_t node_id, int64_t job_id,
                                                  const std::string& state, const std::string& reason,
                                                  const std::string& action,
                                                  core::json::object details) {
  auto now = clock_.Now();
  GANTRY_TRY(auto tx, db_.Begin());
  GANTRY_TRY(auto n, Store::GetNode(*tx, node_id, true, db_.backend()));
  if (!n || n->job_id != job_id || !n->op) return std::optional<Node>();  // not ours any more
  std::string from = n->state;
  std::string op = *n->op;
  // Broken and rescue remember where the node was before the operation.
  if (state != kRescue && state != kBroken) n->prev_state.reset();
  n->state = state;
  n->reason = reason;
  n->op.reset();
  n->op_deadline.reset();
  n->op_config.reset();
  GANTRY_TRY_STATUS(Store::DeleteTokens(*tx, n->id));
  GANTRY_TRY_STATUS(Store::UpdateNode(*tx, *n, now));
  details["operation"] = op;
  details["from"] = from;
  details["job_id"] = job_id;
  if (!reason.empty()) details["reason"] = reason;
  GANTRY_TRY_STATUS(Audit(*tx, core::RequestContext::System("lifecycle"), action, *n, details));
  GANTRY_TRY_STATUS(jobs::Store::AppendLog(*tx, job_id, n->name + " is " + state +
                                           (reason.empty() ? "" : ": " + reason.substr(0, reason.find('\n'))), now));
  GANTRY_TRY_STATUS(tx->Commit());
  Mirror(*n);
  return std::optional<Node>(*n);
}

core::Result<core::json::object> Service::RunOperation(jobs::JobContext& ctx, Op op) {
  const OpRule& rule = RuleOf(op);
  int64_t job_id = ctx.job().id;
  GANTRY_TRY(int64_t node_id, core::GetInt(ctx.params(), "node"));
  Node n;
  {
    GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
    GANTRY_TRY(auto found, Store::GetNode(*tx, node_id, false, db_.backend()));
    if (!found) return core::NotFound("node " + std::to_string(node_id) + " is gone");
    n = *found;
  }
  if (n.job_id == job_id && !n.op) {
    // This job already ended the operation (the process stopped before the job was recorded).
    return core::json::object{{"node", n.name}, {"state", n.state}};
  }
  if (n.job_id != job_id || n.op != std::string(rule.name)) {
    return core::FailedPrecondition("node " + n.name + " is no longer in this job's " + rule.name);
  }
  auto broken = [&](const std::string& why) -> core::Status {
    auto tail = LastLogLines(job_id, 8);
    std::string reason = why;
    if (tail && !tail->empty()) reason += "\nlast log lines:\n" + *tail;
    GANTRY_TRY_STATUS(Finish(n.id, job_id, kBroken, reason, "node.broken", {{"cause", why}}));
    // Leave nothing half-done running: a broken node is powered off (best effort).
    if (auto st = control_.Power(n, PowerAction::kOff); !st) ctx.Log("power off: " + st.error().message);
    return {};
  };

  // 1. Render the install configuration before anything touches the machine.
  if (n.op_template) {
    auto vars = core::ParseObject(n.op_vars);
    GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
    auto rendered = Render(*tx, *n.op_template, n, vars ? *vars : core::json::object());
    tx.reset();
    if (!rendered) {
      ctx.Log("cannot render template '" + *n.op_template + "': " + rendered.error().message);
      std::string back = n.prev_state.value_or(kReady);
      GANTRY_TRY_STATUS(Finish(n.id, job_id, back, "", "node." + std::string(rule.name) + ".failed",
                               {{"error", rendered.error().message}}));
      return core::InvalidArgument(rendered.error().message, "template");
    }
  }

  // 2. The deadline starts now (a retry starts it again).
  auto timeout = n.op_deadline.value_or(0) - n.updated_at;
  if (timeout <= 0) timeout = options_.op_timeout_s * core::kNanosPerSecond;
  core::UnixNanos deadline = clock_.Now() + timeout;
  {
    GANTRY_TRY(auto tx, db_.Begin());
    GANTRY_TRY(auto cur, Store::GetNode(*tx, n.id, true, db_.backend()));
    if (!cur || cur->job_id != job_id || !cur->op) {
      return core::FailedPrecondition("node " + n.name + " is no longer in this job's " + rule.name);
    }
    cur->op_deadline = deadline;
    cur->callback.reset();
    GANTRY_TRY_STATUS(Store::UpdateNode(*tx, *cur, clock_.Now()));
    std::string line = std::string(rule.name) + " of " + n.name + ": boot device pxe, power off and on; deadline " +
                       core::FormatRfc3339(deadline);
    if (n.op_template) line += "; template '" + *n.op_template + "' renders";
    GANTRY_TRY_STATUS(jobs::Store::AppendLog(*tx, job_id, line, clock_.Now()));
    GANTRY_TRY_STATUS(tx->Commit());
    n = *cur;
  }

  // 3. PXE once, power off and on.
  auto bmc = [&](core::Status st, const std::string& what) -> core::Status {
    if (st) return {};
    ctx.Log(what + ": " + st.error().message);
    bool permanent = st.error().code == core::Code::kFailedPrecondition ||
                     st.error().code == core::Code::kInvalidArgument || st.error().code == core::Code::kNotFound;
    if (permanent || ctx.job().attempts >= ctx.job().max_attempts) {
      GANTRY_TRY_STATUS(broken(what + " failed: " + st.error().message));
      return core::FailedPrecondition(what + " failed: " + st.error().message);
    }
    return st.error();  // retried with back-off
  };
  GANTRY_TRY_STATUS(bmc(control_.SetBootDevice(n, BootDevice::kPxe), "set boot device pxe"));
  GANTRY_TRY_STATUS(bmc(control_.Power(n, PowerAction::kOff), "power off"));
  GANTRY_TRY_STATUS(bmc(control_.Power(n, PowerAction::kOn), "power on"));
  ctx.Progress(30, "powered on; waiting for " + n.name + " to call back");

  // 4. Wait for the callback, the deadline or a cancellation.
  while (true) {
    uint64_t gen;
    {
      std::lock_guard lock(wait_mu_);
      gen = callbacks_seen_[n.id];
    }
    GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
    GANTRY_TRY(auto cur, Store::GetNode(*tx, n.id, false, db_.backend()));
    tx.reset();
    if (!cur || cur->job_id != job_id || !cur->op) {
      return core::FailedPrecondition("node " + n.name + " left this job's " + rule.name);
    }
    if (cur->callback) {
      n = *cur;
      break;
    }
    if (ctx.Cancelled()) {
      GANTRY_TRY(auto tx2, db_.Begin(store::TxMode::kRead));
      GANTRY_TRY(auto job, jobs::Store::Get(*tx2, job_id));
      tx2.reset();
      if (job && job->cancel_requested) {
        std::string to = CancelledState(*cur);
        GANTRY_TRY_STATUS(Finish(n.id, job_id, to, to == kBroken ? std::string(rule.name) + " cancelled; disk state unknown" : "",
                                 "node." + std::string(rule.name) + ".cancelled", {}));
        if (auto st = control_.Power(n, PowerAction::kOff); !st) ctx.Log("power off: " + st.error().message);
        return core::json::object{{"state", to}, {"cancelled", true}};
      }
      return core::Unavailable("interrupted");  // shutdown: the job goes back to the queue
    }
    if (clock_.Now() >= deadline) {
      ctx.Log("no callback from " + n.name + " before the deadline");
      GANTRY_TRY_STATUS(broken("no callback from the node within " +
                               std::to_string(timeout / core::kNanosPerSecond) + " s during " + rule.name));
      return core::FailedPrecondition("node " + n.name + " did not call back in time");
    }
    std::unique_lock lock(wait_mu_);
    wait_cv_.wait_for(lock, std::chrono::milliseconds(options_.wait_poll_ms),
                      [&] { return callbacks_seen_[n.id] != gen; });
  }

  {
    std::lock_guard lock(wait_mu_);
    callbacks_seen_.erase(n.id);
  }
  // 5. The node reported.
  auto parsed_cb = core::ParseObject(*n.callback);
  core::json::object cb = parsed_cb ? *parsed_cb : core::json::object();
  bool ok = cb.contains("ok") && cb["ok"].is_bool() && cb["ok"].get_bool();
  std::string message = cb.contains("message") && cb["message"].is_string() ? std::string(cb["message"].get_string()) : "";
  if (!ok) {
    GANTRY_TRY_STATUS(broken("the node reported a failed " + std::string(rule.name) +
                             (message.empty() ? "" : ": " + message)));
    return core::FailedPrecondition("node " + n.name + " reported failure: " + message);
  }
  if (op == Op::kCommission && cb.contains("inventory") && cb["inventory"].is_object()) {
    GANTRY_TRY_STATUS(RecordInventory(n, cb["inventory"].get_object()));
  }
  // Back to local disk for the next boot; a commissioned or wiped node is switched off.
  if (auto st = control_.SetBootDevice(n, BootDevice::kDisk); !st) ctx.Log("set boot device disk: " + st.error().message);
  if (op == Op::kCommission || op == Op::kRelease) {
    if (auto st = control_.Power(n, PowerAction::kOff); !st) ctx.Log("power off: " + st.error().message);
  }
  GANTRY_TRY(auto done, Finish(n.id, job_id, rule.after, "", "node." + std::string(rule.name) + ".done", {}));
  if (!done) return core::FailedPrecondition("node " + n.name + " left this job's " + rule.name);
  return core::json::object{{"node", n.name}, {"state", done->state}};
}

core::Result<int> Service::Sweep() {
  GANTRY_TRY(auto orphans, Store::Orphans(db_));
  int settled = 0;
  for (const auto& o : orphans) {
    Node n;
    {
      GANTRY_TRY(auto tx, db_.Begin(store::TxMode::kRead));
      GANTRY_TRY(auto found, Store::GetNode(*tx, o.node_id, false, db_.backend()));
      if (!found) continue;
      n = *found;
    }
    std::string to = kBroken, reason, action = "node.broken";
    if (o.job_state == "cancelled") {
      to = CancelledState(n);
      if (to == kBroken) reason = n.op.value_or("operation") + " cancelled; disk state unknown";
      action = "node." + n.op.value_or("operation") + ".cancelled";
    } else {
      reason = "job " + std::to_string(o.job_id) + " " + o.job_state + (o.job_error.empty() ? "" : ": " + o.job_error);
      auto tail = LastLogLines(o.job_id, 8);
      if (tail && !tail->empty()) reason += "\nlast log lines:\n" + *tail;
    }
    GANTRY_TRY(auto done, Finish(o.node_id, o.job_id, to, reason, action, {{"swept", true}}));
    if (done) ++settled;
  }
  return settled;
}

}  // namespace gantry::lifecycle
