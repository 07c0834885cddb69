// Strict parsers of the Slurm command-line tools' machine-readable output. Each takes the
// stdout of exactly the command shown and returns typed rows, or an InvalidArgument that names
// the tool, the line number and the line: a malformed line is an error, never a guess or a crash.
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"
#include "integrations/slurm/types.h"

namespace gantry::slurm {

// sacctmgr -P -n show assoc format=<kAssocFormat>
inline constexpr std::string_view kAssocFormat =
    "cluster,account,parentname,user,grptres,qos,defaultqos";
core::Result<std::vector<Association>> ParseAssociations(std::string_view out);

// sacctmgr -P -n show account format=<kAccountFormat>. The description, last, may itself hold '|'.
inline constexpr std::string_view kAccountFormat = "account,organization,description";
struct AccountRow {
  std::string name;
  std::string organization;
  std::string description;
};
core::Result<std::vector<AccountRow>> ParseAccountRows(std::string_view out);

// sacctmgr -P -n show qos format=name
core::Result<std::vector<std::string>> ParseNames(std::string_view out);

// squeue -h -o '<kQueueFormat>'
inline constexpr std::string_view kQueueFormat = "%i|%a|%u|%T|%r|%b";
core::Result<std::vector<QueuedJob>> ParseQueue(std::string_view out);

// sacct -P -n -X --format=<kJobRecordFormat>, run with TZ=UTC and SLURM_TIME_FORMAT=standard
inline constexpr std::string_view kJobRecordFormat =
    "JobID,Account,User,State,Start,End,ElapsedRaw,AllocTRES";
core::Result<std::vector<JobRecord>> ParseJobRecords(std::string_view out);

// "2026-11-25T12:58:26" read as UTC → nanoseconds; "Unknown", "None" and "" → nullopt.
core::Result<std::optional<core::UnixNanos>> ParseSlurmTime(std::string_view text);
// nanoseconds → "2026-11-25T12:58:26" (UTC, seconds), as sacct's -S/-E take it.
std::string FormatSlurmTime(core::UnixNanos t);

// Joins associations and account rows into one AccountInfo per account of `cluster` (all
// clusters when empty), sorted by name. Accounts with no association there come back with
// has_association = false.
std::vector<AccountInfo> MergeAccounts(const std::vector<Association>& assocs,
                                       const std::vector<AccountRow>& rows,
                                       const std::string& cluster);

}  // namespace gantry::slurm
