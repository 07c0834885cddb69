// SlurmClient: Gantry's protocol client for Slurm. It runs the Slurm command-line tools
// (sacctmgr, squeue, sacct, scontrol) as child processes -- argv only, never a shell -- with a
// configurable environment and a deadline per call, and parses their machine-readable output
// strictly. No business rules here: tenancy decides what the accounts should be (reconcile.h).
//
// Errors (core::Result / core::Status):
//   kUnavailable       a tool timed out (it is killed; the message names it), is not installed,
//                      or reports that slurmctld / slurmdbd / munge cannot be reached
//   kInvalidArgument   a name that fails validation (nothing is run), a tool rejecting the
//                      request, or output that does not parse (the message names the line)
//   kConflict          the thing to add exists already ("Nothing new added")
//   kNotFound          the thing to modify or delete does not exist
//   kFailedPrecondition  Slurm refuses because jobs are active
// Thread-safe: a SlurmClient holds only its options; calls may run concurrently.
#pragma once

#include <chrono>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "integrations/slurm/types.h"

namespace gantry::slurm {

struct SlurmClientOptions {
  // Set over this process's environment for every call, e.g. {"SLURM_CONF",
  // "/etc/slurm/slurm.conf"} and PATH. The client always adds TZ=UTC and SLURM_TIME_FORMAT=standard
  // (times are read as UTC) and removes SQUEUE_* / SACCT_* variables that would change what the
  // tools print.
  std::map<std::string, std::string> env;
  std::chrono::milliseconds timeout{10'000};  // per command; the child is killed after it
  std::string cluster;  // restricts sacctmgr/sacct to this cluster; empty: slurm.conf's own
  std::string bin_dir;  // directory of the tools; empty: looked up in PATH
};

// Account names (and QOS names) Gantry will pass to Slurm: [a-z0-9_-]{1,64}, not starting with
// '-'. User names: [A-Za-z0-9._-]{1,64}, not starting with '-'.
core::Status ValidateAccountName(std::string_view name, std::string_view field = "account");
core::Status ValidateUserName(std::string_view name);

struct AccountSpec {
  std::string name;
  std::string parent = "root";
  std::string description;   // free text without quotes or control characters (<= 200 chars)
  std::string organization;  // likewise; Gantry marks its own accounts with it (reconcile.h)
  TresMap grp_tres;          // GrpTRES limits, base units (mem in bytes)
  std::string qos;           // if set: the account's only QOS and its default
};

struct AccountChange {
  std::optional<std::string> parent;
  std::optional<std::string> description;
  std::optional<std::string> organization;
  TresMap grp_tres_set;                     // these limits are set (others stay as they are)
  std::vector<std::string> grp_tres_clear;  // these limits are removed (no limit)
  std::optional<std::string> qos;           // replaces the QOS list and the default QOS
  bool empty() const;
};

// One sacctmgr invocation, as run: argv without the program name.
struct SacctmgrCommand {
  std::vector<std::string> args;
  std::string ToString() const;  // "sacctmgr -i modify account where name=acme set GrpTRES=..."
};

struct JobRecordQuery {
  core::UnixNanos start = 0;          // -S: jobs eligible, running or ended in [start, end]
  core::UnixNanos end = 0;            // -E
  std::vector<std::string> accounts;  // empty: all accounts (-a)
};

class SlurmClient {
 public:
  explicit SlurmClient(SlurmClientOptions options);
  const SlurmClientOptions& options() const { return options_; }

  // --- accounts (sacctmgr) --------------------------------------------------------------
  // Every account with its association on the cluster: parent, GrpTRES, QOS, users.
  // Two calls: `show assoc format=cluster,account,parentname,user,grptres,qos,defaultqos` and
  // `show account format=account,organization,description`.
  core::Result<std::vector<AccountInfo>> ListAccounts() const;
  core::Result<std::vector<Association>> ListAssociations() const;
  core::Status CreateAccount(const AccountSpec& spec) const;  // kConflict if it exists
  core::Status ModifyAccount(const std::string& name, const AccountChange& change) const;
  core::Status DeleteAccount(const std::string& name) const;  // kFailedPrecondition: jobs active
  core::Status AddUser(const std::string& user,
                       const std::string& account) const;  // kConflict if there
  core::Status RemoveUser(const std::string& user, const std::string& account) const;
  core::Result<std::vector<std::string>> ListQos() const;
  core::Status CreateQos(const std::string& name) const;  // kConflict if it exists

  // The commands the calls above run, built and validated without running anything: the
  // reconciler plans with them and reports them.
  core::Result<SacctmgrCommand> CreateAccountCommand(const AccountSpec& spec) const;
  core::Result<SacctmgrCommand> ModifyAccountCommand(const std::string& name,
                                                     const AccountChange& change) const;
  core::Result<SacctmgrCommand> DeleteAccountCommand(const std::string& name) const;
  core::Result<SacctmgrCommand> AddUserCommand(const std::string& user,
                                               const std::string& account) const;
  core::Result<SacctmgrCommand> RemoveUserCommand(const std::string& user,
                                                  const std::string& account) const;
  core::Result<SacctmgrCommand> CreateQosCommand(const std::string& name) const;
  // Runs a command built by one of the *Command functions.
  core::Status Run(const SacctmgrCommand& command) const;

  // --- jobs ---------------------------------------------------------------------------------
  // Jobs slurmctld holds for these accounts (all when empty), with state and pending reason:
  // `squeue -h --account=a,b -o '%i|%a|%u|%T|%r|%b'`.
  core::Result<std::vector<QueuedJob>> ListJobs(
      const std::vector<std::string>& accounts = {}) const;
  // Job allocations from the accounting database, for metering:
  // `sacct -P -n -X -a --format=JobID,Account,User,State,Start,End,ElapsedRaw,AllocTRES -S -E`.
  core::Result<std::vector<JobRecord>> ListJobRecords(const JobRecordQuery& query) const;
  // Puts a running job back in the queue (`scontrol requeue ID`), or ends it (`scancel ID`).
  // `id` must be a job id ("42", "42_3"); kInvalidArgument otherwise (nothing is run) and when
  // Slurm refuses (e.g. the job is not requeueable or already finished).
  core::Status RequeueJob(const std::string& id) const;
  core::Status CancelJob(const std::string& id) const;

  // Holds pending jobs (`scontrol hold ID,...`): they stay queued and do not start until
  // released. Ids must be Slurm job ids (digits, '_' and '+'); kInvalidArgument otherwise.
  core::Status HoldJobs(const std::vector<std::string>& job_ids) const;

  // --- health -------------------------------------------------------------------------------
  core::Status PingController() const;  // scontrol ping
  core::Status PingDatabase() const;    // sacctmgr show cluster

 private:
  struct Output {
    std::string out;
    std::string err;
  };
  // Runs `tool args...`; maps timeouts, failures and connection errors to core::Error.
  core::Result<Output> RunTool(const std::string& tool, const std::vector<std::string>& args) const;
  std::vector<std::string> ClusterArgs() const;

  SlurmClientOptions options_;
};

}  // namespace gantry::slurm
