// Plain data read from and written to Slurm. No behaviour here; see client.h for the calls.
//
// Units: every TresMap holds integers in base units, the same convention as the rest of Gantry:
// counts for cpu, node, gres/* and billing, and BYTES for mem. The conversion to Slurm's own
// spelling (`mem=2048M`) happens only at the command line (FormatTres in tres.h), and the parsers
// turn Slurm's `mem=2G` back into bytes.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "core/clock.h"

namespace gantry::slurm {

// TRES name ("cpu", "mem", "node", "gres/gpu", "gres/gpu:h100", "billing", ...) → amount.
using TresMap = std::map<std::string, int64_t>;

// One row of `sacctmgr show assoc`: an account association (user empty) or a user association.
struct Association {
  std::string cluster;
  std::string account;
  std::string parent;            // parent account; set on account associations only
  std::string user;              // empty for the account's own association
  TresMap grp_tres;              // GrpTRES limits; absent name: no limit
  std::vector<std::string> qos;  // allowed QOS, as Slurm lists them
  std::string default_qos;       // empty: none set
};

// An account with its association on one cluster, as Gantry looks at it.
struct AccountInfo {
  std::string name;
  std::string cluster;
  std::string parent;  // "" only for root
  std::string description;
  std::string organization;
  TresMap grp_tres;
  std::vector<std::string> qos;
  std::string default_qos;
  std::vector<std::string> users;  // users with an association under this account (sorted)
  bool has_association = true;     // false: the account exists but not on this cluster
};

// A job slurmctld still holds (`squeue`).
struct QueuedJob {
  std::string job_id;  // "42", "42_3" (array task), "42+1" (het job component)
  std::string account;
  std::string user;
  std::string state;          // PENDING, RUNNING, COMPLETING, SUSPENDED, ...
  std::string reason;         // "None" when running; e.g. AssocGrpGRES, Priority, Resources
  std::string tres_per_node;  // as Slurm prints it: "gres:gpu:h100:1", or "N/A"
};

// A job record from the accounting database (`sacct -X`): one line per job allocation.
struct JobRecord {
  std::string job_id;
  std::string account;
  std::string user;
  std::string state;         // first word: COMPLETED, CANCELLED, FAILED, TIMEOUT, RUNNING, ...
  std::string state_detail;  // the rest, e.g. "by 0" of "CANCELLED by 0"
  std::optional<core::UnixNanos> start;  // nullopt: not started ("Unknown"/"None")
  std::optional<core::UnixNanos> end;    // nullopt: not ended
  int64_t elapsed_seconds = 0;
  TresMap alloc_tres;  // base units (mem in bytes); empty for jobs that never started
};

}  // namespace gantry::slurm
