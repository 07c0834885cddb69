#include "integrations/slurm/reconcile.h"

#include <algorithm>
#include <cctype>
#include <functional>
#include <map>
#include <set>

#include "integrations/slurm/tres.h"

namespace gantry::slurm {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string Join(const std::vector<std::string>& v, std::string_view sep = ",") {
  std::string out;
  for (const auto& s : v) {
    if (!out.empty()) out += sep;
    out += s;
  }
  return out;
}

std::string Amount(const std::string& tres, const std::optional<int64_t>& v) {
  if (!v) return "none";
  if (IsSizeTres(tres)) return std::to_string(*v / kMiB) + "M";
  return std::to_string(*v);
}

core::Status ValidateDesired(const std::vector<DesiredAccount>& desired,
                             const std::map<std::string, const AccountInfo*>& actual) {
  std::map<std::string, const DesiredAccount*> by_name;
  for (const auto& d : desired) {
    GANTRY_TRY_STATUS(ValidateAccountName(d.name));
    if (d.name == "root") return core::InvalidArgument("account root is Slurm's own", "name");
    if (!by_name.emplace(d.name, &d).second) {
      return core::InvalidArgument("account " + d.name + " is desired twice", "name");
    }
    const std::string parent = d.parent.empty() ? "root" : d.parent;
    if (parent != "root") GANTRY_TRY_STATUS(ValidateAccountName(parent, "parent"));
    if (parent == d.name)
      return core::InvalidArgument("account " + d.name + " is its own parent", "parent");
    for (const auto& [tres, value] : d.grp_tres) {
      if (!IsValidTresName(tres)) {
        return core::InvalidArgument("account " + d.name + ": invalid TRES name '" + tres + "'",
                                     "grp_tres");
      }
      if (value < 0) {
        return core::InvalidArgument("account " + d.name + ": TRES " + tres + " is negative",
                                     "grp_tres");
      }
    }
    if (!d.qos.empty()) GANTRY_TRY_STATUS(ValidateAccountName(d.qos, "qos"));
    if (d.users) {
      for (const auto& u : *d.users) GANTRY_TRY_STATUS(ValidateUserName(u));
    }
  }
  for (const auto& d : desired) {
    const std::string parent = d.parent.empty() ? "root" : d.parent;
    if (parent != "root" && !by_name.count(parent) && !actual.count(parent)) {
      return core::InvalidArgument(
          "account " + d.name + ": parent " + parent + " is neither desired nor in Slurm",
          "parent");
    }
    // No cycles among desired parents.
    std::set<std::string> seen = {d.name};
    std::string p = parent;
    while (by_name.count(p)) {
      if (!seen.insert(p).second) {
        return core::InvalidArgument("account " + d.name + ": parent chain has a cycle", "parent");
      }
      const auto& pp = by_name[p]->parent;
      p = pp.empty() ? "root" : pp;
    }
  }
  return {};
}

// Desired accounts ordered so that every parent precedes its children.
std::vector<const DesiredAccount*> ParentsFirst(const std::vector<DesiredAccount>& desired) {
  std::map<std::string, const DesiredAccount*> by_name;
  for (const auto& d : desired) by_name[d.name] = &d;
  std::vector<const DesiredAccount*> out;
  std::set<std::string> done;
  std::function<void(const DesiredAccount*)> visit = [&](const DesiredAccount* d) {
    if (done.count(d->name)) return;
    done.insert(d->name);
    if (auto it = by_name.find(d->parent); it != by_name.end()) visit(it->second);
    out.push_back(d);
  };
  for (const auto& d : desired) visit(&d);
  return out;
}

}  // namespace

std::string_view DriftKindName(DriftKind kind) {
  switch (kind) {
    case DriftKind::kMissing:
      return "missing";
    case DriftKind::kExtra:
      return "extra";
    case DriftKind::kChanged:
      return "changed";
    case DriftKind::kUnmanaged:
      return "unmanaged";
  }
  return "?";
}

std::string_view ActionStateName(RepairAction::State state) {
  switch (state) {
    case RepairAction::State::kPlanned:
      return "planned";
    case RepairAction::State::kApplied:
      return "applied";
    case RepairAction::State::kFailed:
      return "failed";
    case RepairAction::State::kSkipped:
      return "skipped";
  }
  return "?";
}

std::string AccountDrift::ToString() const {
  std::string s = account + ": " + std::string(DriftKindName(kind));
  std::vector<std::string> parts;
  if (!expected_parent.empty() || !actual_parent.empty()) {
    parts.push_back("parent expected " + expected_parent + ", actual " + actual_parent);
  }
  for (const auto& l : limits) {
    parts.push_back("GrpTRES " + l.tres + " expected " + Amount(l.tres, l.expected) + ", actual " +
                    Amount(l.tres, l.actual));
  }
  if (!expected_qos.empty()) {
    parts.push_back("QOS expected " + expected_qos + ", actual " +
                    (actual_qos.empty() ? "none" : Join(actual_qos)) + " (default " +
                    (actual_default_qos.empty() ? "none" : actual_default_qos) + ")");
  }
  if (!missing_users.empty()) parts.push_back("users missing " + Join(missing_users));
  if (!extra_users.empty()) parts.push_back("users extra " + Join(extra_users));
  if (!parts.empty()) s += ": " + Join(parts, "; ");
  return s;
}

bool DriftReport::all_applied() const {
  return std::all_of(actions.begin(), actions.end(), [](const RepairAction& a) {
    return a.state == RepairAction::State::kApplied;
  });
}

std::string DriftReport::ToString() const {
  std::string s = std::string(policy == DriftPolicy::kRepair ? "repair" : "report") + ": ";
  s += in_sync() ? "in sync" : std::to_string(accounts.size()) + " account(s) drifted";
  for (const auto& q : missing_qos) s += "\n  qos " + q + ": missing";
  for (const auto& a : accounts) s += "\n  " + a.ToString();
  for (const auto& a : actions) {
    s += "\n  [" + std::string(ActionStateName(a.state)) + "] " + a.summary + ": " +
         a.command.ToString();
    if (!a.error.empty()) s += " -- " + a.error;
  }
  return s;
}

core::Result<DriftReport> PlanReconcile(const SlurmClient& client,
                                        const std::vector<AccountInfo>& actual,
                                        const std::vector<std::string>& existing_qos,
                                        const std::vector<DesiredAccount>& desired_in,
                                        const ReconcileOptions& options) {
  std::map<std::string, const AccountInfo*> actual_by_name;
  for (const auto& a : actual) {
    if (!actual_by_name.emplace(a.name, &a).second) {
      return core::FailedPrecondition(
          "account " + a.name + " is listed on several clusters; set SlurmClientOptions::cluster");
    }
  }
  GANTRY_TRY_STATUS(ValidateDesired(desired_in, actual_by_name));
  std::vector<DesiredAccount> desired = desired_in;
  for (auto& d : desired) {
    if (d.parent.empty()) d.parent = "root";
    d.grp_tres = NormalizeTres(d.grp_tres);
    if (d.users) {
      std::sort(d.users->begin(), d.users->end());
      d.users->erase(std::unique(d.users->begin(), d.users->end()), d.users->end());
    }
  }
  std::map<std::string, const DesiredAccount*> desired_by_name;
  for (const auto& d : desired) desired_by_name[d.name] = &d;

  auto managed = [&](const AccountInfo& a) {
    if (a.name == "root") return false;
    if (!options.organization.empty() && Lower(a.organization) == Lower(options.organization)) {
      return true;
    }
    return !options.managed_prefix.empty() && a.name.starts_with(options.managed_prefix);
  };

  DriftReport report;
  report.policy = options.policy;
  std::vector<RepairAction> qos_actions, create_actions, move_actions, modify_actions,
      user_add_actions, user_remove_actions, delete_actions;
  auto add_action = [](std::vector<RepairAction>& list, std::string account, std::string summary,
                       core::Result<SacctmgrCommand> cmd) -> core::Status {
    if (!cmd) return cmd.error();
    RepairAction a;
    a.account = std::move(account);
    a.summary = std::move(summary);
    a.command = std::move(*cmd);
    list.push_back(std::move(a));
    return {};
  };

  // QOS that desired accounts name but Slurm does not have.
  std::set<std::string> have_qos(existing_qos.begin(), existing_qos.end());
  std::set<std::string> missing_qos;
  for (const auto& d : desired) {
    if (!d.qos.empty() && !have_qos.count(d.qos)) missing_qos.insert(d.qos);
  }
  for (const auto& q : missing_qos) {
    report.missing_qos.push_back(q);
    GANTRY_TRY_STATUS(add_action(qos_actions, q, "create qos " + q, client.CreateQosCommand(q)));
  }

  for (const DesiredAccount* d : ParentsFirst(desired)) {
    auto it = actual_by_name.find(d->name);
    if (it != actual_by_name.end() && !managed(*it->second)) {
      AccountDrift drift;
      drift.account = d->name;
      drift.kind = DriftKind::kUnmanaged;
      report.accounts.push_back(drift);
      continue;
    }
    if (it == actual_by_name.end() || !it->second->has_association) {
      AccountDrift drift;
      drift.account = d->name;
      drift.kind = DriftKind::kMissing;
      if (d->users) drift.missing_users = *d->users;
      report.accounts.push_back(drift);
      AccountSpec spec;
      spec.name = d->name;
      spec.parent = d->parent;
      spec.description = d->description.empty() ? "managed by gantry" : d->description;
      spec.organization = options.organization;
      spec.grp_tres = d->grp_tres;
      spec.qos = d->qos;
      GANTRY_TRY_STATUS(add_action(create_actions, d->name, "create account " + d->name,
                                   client.CreateAccountCommand(spec)));
      if (d->users) {
        for (const auto& u : *d->users) {
          GANTRY_TRY_STATUS(add_action(user_add_actions, d->name,
                                       "add user " + u + " to " + d->name,
                                       client.AddUserCommand(u, d->name)));
        }
      }
      continue;
    }
    const AccountInfo& a = *it->second;
    AccountDrift drift;
    drift.account = d->name;
    drift.kind = DriftKind::kChanged;
    AccountChange change;
    if (a.parent != d->parent) {
      drift.expected_parent = d->parent;
      drift.actual_parent = a.parent;
      AccountChange move;
      move.parent = d->parent;
      GANTRY_TRY_STATUS(add_action(move_actions, d->name,
                                   "move account " + d->name + " under " + d->parent,
                                   client.ModifyAccountCommand(d->name, move)));
    }
    std::set<std::string> names;
    for (const auto& [k, v] : d->grp_tres) names.insert(k);
    for (const auto& [k, v] : a.grp_tres) names.insert(k);
    for (const auto& n : names) {
      std::optional<int64_t> want, have;
      if (auto w = d->grp_tres.find(n); w != d->grp_tres.end()) want = w->second;
      if (auto h = a.grp_tres.find(n); h != a.grp_tres.end()) have = h->second;
      if (want == have) continue;
      drift.limits.push_back({n, want, have});
      if (want) {
        change.grp_tres_set[n] = *want;
      } else {
        change.grp_tres_clear.push_back(n);
      }
    }
    if (!d->qos.empty() && (a.qos != std::vector<std::string>{d->qos} || a.default_qos != d->qos)) {
      drift.expected_qos = d->qos;
      drift.actual_qos = a.qos;
      drift.actual_default_qos = a.default_qos;
      change.qos = d->qos;
    }
    if (!change.empty()) {
      std::string what = drift.limits.empty()
                             ? "set QOS of "
                             : (change.qos ? "set limits and QOS of " : "set limits of ");
      GANTRY_TRY_STATUS(add_action(modify_actions, d->name, what + d->name,
                                   client.ModifyAccountCommand(d->name, change)));
    }
    if (d->users) {
      std::set_difference(d->users->begin(), d->users->end(), a.users.begin(), a.users.end(),
                          std::back_inserter(drift.missing_users));
      std::set_difference(a.users.begin(), a.users.end(), d->users->begin(), d->users->end(),
                          std::back_inserter(drift.extra_users));
      for (const auto& u : drift.missing_users) {
        GANTRY_TRY_STATUS(add_action(user_add_actions, d->name, "add user " + u + " to " + d->name,
                                     client.AddUserCommand(u, d->name)));
      }
      for (const auto& u : drift.extra_users) {
        GANTRY_TRY_STATUS(add_action(user_remove_actions, d->name,
                                     "remove user " + u + " from " + d->name,
                                     client.RemoveUserCommand(u, d->name)));
      }
    }
    if (!drift.expected_parent.empty() || !drift.limits.empty() || !drift.expected_qos.empty() ||
        !drift.missing_users.empty() || !drift.extra_users.empty()) {
      report.accounts.push_back(std::move(drift));
    }
  }

  // Extra: managed accounts nobody wants, unless a desired account still hangs under them.
  std::set<std::string> referenced;
  for (const auto& d : desired) referenced.insert(d.parent);
  std::set<std::string> extra;
  for (const auto& a : actual) {
    if (managed(a) && a.has_association && !desired_by_name.count(a.name) &&
        !referenced.count(a.name)) {
      extra.insert(a.name);
    }
  }
  // Children, as they will be once the moves above have run.
  std::map<std::string, std::vector<std::string>> children;
  for (const auto& a : actual) {
    auto d = desired_by_name.find(a.name);
    children[d != desired_by_name.end() ? d->second->parent : a.parent].push_back(a.name);
  }
  auto depth = [&](const std::string& name) {
    int n = 0;
    for (auto it = actual_by_name.find(name); it != actual_by_name.end() && n < 100;
         it = actual_by_name.find(it->second->parent)) {
      ++n;
    }
    return n;
  };
  std::vector<std::string> extra_order(extra.begin(), extra.end());
  std::stable_sort(extra_order.begin(), extra_order.end(),
                   [&](const std::string& x, const std::string& y) { return depth(x) > depth(y); });
  for (const auto& name : extra_order) {
    AccountDrift drift;
    drift.account = name;
    drift.kind = DriftKind::kExtra;
    report.accounts.push_back(drift);
    if (!options.delete_extra) continue;
    GANTRY_TRY_STATUS(add_action(delete_actions, name, "delete account " + name,
                                 client.DeleteAccountCommand(name)));
    std::vector<std::string> kept;
    for (const auto& c : children[name]) {
      if (!extra.count(c)) kept.push_back(c);
    }
    if (!kept.empty()) {
      delete_actions.back().state = RepairAction::State::kSkipped;
      delete_actions.back().error =
          "child accounts " + Join(kept) + " would be left without a parent";
    }
  }

  std::sort(report.accounts.begin(), report.accounts.end(),
            [](const AccountDrift& x, const AccountDrift& y) { return x.account < y.account; });
  for (auto* list : {&qos_actions, &create_actions, &move_actions, &modify_actions,
                     &user_add_actions, &user_remove_actions, &delete_actions}) {
    for (auto& a : *list) report.actions.push_back(std::move(a));
  }
  return report;
}

core::Result<DriftReport> Reconcile(const SlurmClient& client,
                                    const std::vector<DesiredAccount>& desired,
                                    const ReconcileOptions& options) {
  GANTRY_TRY(auto actual, client.ListAccounts());
  GANTRY_TRY(auto qos, client.ListQos());
  GANTRY_TRY(auto report, PlanReconcile(client, actual, qos, desired, options));
  if (options.policy != DriftPolicy::kRepair) return report;
  size_t applied = 0;
  for (auto& action : report.actions) {
    if (action.state == RepairAction::State::kSkipped) continue;
    auto st = client.Run(action.command);
    if (st) {
      action.state = RepairAction::State::kApplied;
      ++applied;
      continue;
    }
    if (st.error().code == core::Code::kUnavailable) {
      return core::Unavailable("Slurm became unreachable during repair after " +
                               std::to_string(applied) + " of " +
                               std::to_string(report.actions.size()) + " action(s), at '" +
                               action.summary + "': " + st.error().message);
    }
    action.state = RepairAction::State::kFailed;
    action.error = st.error().message;
  }
  return report;
}

}  // namespace gantry::slurm
