// Reconciles the Slurm accounts Gantry wants (one per tenant and per project, from tenancy)
// with what slurmdbd holds: reports drift (someone ran sacctmgr by hand) and, under the repair
// policy, applies the smallest set of sacctmgr commands that removes it.
//
// Ownership: an account is Gantry's ("managed") when its Organization equals
// ReconcileOptions::organization ("gantry" by default; Gantry sets it on every account it
// creates) or its name starts with ReconcileOptions::managed_prefix (when set). Unmanaged
// accounts are never modified or deleted; a desired account whose name is taken by an unmanaged
// one is reported as kUnmanaged and left alone. `root` is never managed.
//
// Errors: kInvalidArgument for a malformed desired set (nothing is run); kUnavailable when Slurm
// cannot be reached while reading the state or while repairing (the message says how many
// actions had been applied; running Reconcile again continues from whatever state Slurm is in);
// kFailedPrecondition when the listing spans several clusters and no cluster was configured.
// A repair command that Slurm rejects (e.g. deleting an account with running jobs) does not
// stop the run: its action is kFailed with the reason, and the others still run.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "core/error.h"
#include "integrations/slurm/client.h"
#include "integrations/slurm/types.h"

namespace gantry::slurm {

enum class DriftPolicy { kReport, kRepair };

struct DesiredAccount {
  std::string name;             // [a-z0-9_-]{1,64}
  std::string parent = "root";  // "root", another desired account, or an existing account
  TresMap grp_tres;  // GrpTRES, base units (mem in bytes; see ToSlurmTres); absent: no limit
  std::string qos;   // empty: QOS not managed; else the account's only QOS and its default
  // nullopt: user associations not managed; else exactly these users (extra ones are removed).
  std::optional<std::vector<std::string>> users;
  std::string description;  // used when creating; empty: "managed by gantry"
};

struct ReconcileOptions {
  DriftPolicy policy = DriftPolicy::kReport;
  std::string organization = "gantry";  // set on created accounts; marks Gantry's accounts
  std::string managed_prefix;           // if set, names with this prefix are Gantry's as well
  bool delete_extra = true;             // repair deletes extra managed accounts (else report only)
};

struct LimitDrift {
  std::string tres;
  std::optional<int64_t> expected;  // nullopt: no limit wanted
  std::optional<int64_t> actual;    // nullopt: no limit set in Slurm
  bool operator==(const LimitDrift&) const = default;
};

enum class DriftKind {
  kMissing,    // desired, not in Slurm
  kExtra,      // managed, in Slurm, not desired
  kChanged,    // both, with differences below
  kUnmanaged,  // desired, but the name belongs to an account Gantry does not manage
};
std::string_view DriftKindName(DriftKind kind);

struct AccountDrift {
  std::string account;
  DriftKind kind = DriftKind::kChanged;
  std::string expected_parent, actual_parent;  // set when the parent differs
  std::vector<LimitDrift> limits;              // GrpTRES differences, by TRES name
  std::string expected_qos;                    // set when the QOS differs
  std::vector<std::string> actual_qos;
  std::string actual_default_qos;
  std::vector<std::string> missing_users, extra_users;
  std::string ToString()
      const;  // one line, e.g. "acme: changed: GrpTRES gres/gpu:h100 expected 1, actual 5"
};

struct RepairAction {
  enum class State { kPlanned, kApplied, kFailed, kSkipped };
  std::string account;  // or the QOS name for "create qos"
  std::string summary;  // "create account acme", "set limits of acme", ...
  SacctmgrCommand command;
  State state = State::kPlanned;
  std::string error;  // kFailed: Slurm's answer; kSkipped: why
};
std::string_view ActionStateName(RepairAction::State state);

struct DriftReport {
  DriftPolicy policy = DriftPolicy::kReport;
  std::vector<AccountDrift> accounts;    // sorted by account name
  std::vector<std::string> missing_qos;  // QOS named by desired accounts that do not exist
  // kReport: what repair would run (kPlanned); kRepair: what ran, in order, and how it went.
  std::vector<RepairAction> actions;
  bool in_sync() const { return accounts.empty() && missing_qos.empty(); }
  bool all_applied() const;  // every action kApplied (vacuously true when there are none)
  std::string ToString() const;
};

// Reads accounts and QOS from Slurm, compares, and under kRepair applies the actions.
core::Result<DriftReport> Reconcile(const SlurmClient& client,
                                    const std::vector<DesiredAccount>& desired,
                                    const ReconcileOptions& options);
inline core::Result<DriftReport> Reconcile(const SlurmClient& client,
                                           const std::vector<DesiredAccount>& desired,
                                           DriftPolicy policy) {
  ReconcileOptions o;
  o.policy = policy;
  return Reconcile(client, desired, o);
}

// The pure part: compares a snapshot and plans actions (all kPlanned) without running anything.
// `client` only builds the commands (its cluster option).
core::Result<DriftReport> PlanReconcile(const SlurmClient& client,
                                        const std::vector<AccountInfo>& actual,
                                        const std::vector<std::string>& existing_qos,
                                        const std::vector<DesiredAccount>& desired,
                                        const ReconcileOptions& options);

}  // namespace gantry::slurm
