#include "integrations/slurm/client.h"

#include <algorithm>
#include <cctype>
#include <cstring>

#include "integrations/slurm/exec.h"
#include "integrations/slurm/parse.h"
#include "integrations/slurm/tres.h"

extern char** environ;

namespace gantry::slurm {

namespace {

bool IsLowerAlnum(char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); }

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

std::string FirstLine(std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = Trim(text.substr(start, end - start));
    if (!line.empty()) return std::string(line.substr(0, 300));
    start = end + 1;
  }
  return {};
}

// The line of `text` that mentions `pattern` (lower-case), or "".
std::string LineWith(std::string_view text, std::string_view pattern) {
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string_view line = Trim(text.substr(start, end - start));
    if (Lower(line).find(pattern) != std::string::npos) return std::string(line.substr(0, 300));
    start = end + 1;
  }
  return {};
}

// What the tools print when slurmctld, slurmdbd or munge cannot be reached.
constexpr std::string_view kUnreachable[] = {
    "unable to contact",
    "connection refused",
    "persistent connection",
    "problem talking to the database",
    "socket timed out",
    "zero bytes were transmitted",
    "connection timed out",
    "communication connection failure",
    "munge",
    "protocol authentication error",
    "is down",
    "unable to establish",
    "transport endpoint",
    "no route to host",
    "slurmdbd is not running",
    "couldn't get assoc_mgr",
    "insane message length",
};

// "tool: line", unless the line already starts with the tool's name.
std::string Prefixed(const std::string& tool, const std::string& line) {
  if (line.starts_with(tool + ":")) return line;
  return tool + ": " + line;
}

std::string UnreachableLine(std::string_view text) {
  for (auto p : kUnreachable) {
    std::string line = LineWith(text, p);
    if (!line.empty()) return line;
  }
  return {};
}

// Free text for description/organization: printable, no quotes (sacctmgr strips them).
core::Status ValidateText(std::string_view text, std::string_view field) {
  if (text.size() > 200)
    return core::InvalidArgument(std::string(field) + " is longer than 200", std::string(field));
  for (char c : text) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f || c == '\'' || c == '"') {
      return core::InvalidArgument(std::string(field) + " holds a quote or control character",
                                   std::string(field));
    }
  }
  return {};
}

core::Status ValidateTres(const TresMap& tres) {
  for (const auto& [name, value] : tres) {
    if (!IsValidTresName(name))
      return core::InvalidArgument("invalid TRES name '" + name + "'", "grp_tres");
    if (value < 0)
      return core::InvalidArgument("TRES " + name + " must not be negative", "grp_tres");
  }
  return {};
}

core::Status ValidateParent(std::string_view parent) {
  if (parent == "root") return {};
  return ValidateAccountName(parent, "parent");
}

}  // namespace

core::Status ValidateAccountName(std::string_view name, std::string_view field) {
  bool ok = !name.empty() && name.size() <= 64 && name[0] != '-' &&
            std::all_of(name.begin(), name.end(),
                        [](char c) { return IsLowerAlnum(c) || c == '_' || c == '-'; });
  if (!ok) {
    return core::InvalidArgument(std::string(field) + " '" + std::string(name.substr(0, 80)) +
                                     "' is not [a-z0-9_-]{1,64} (and may not start with '-')",
                                 std::string(field));
  }
  return {};
}

core::Status ValidateUserName(std::string_view name) {
  bool ok = !name.empty() && name.size() <= 64 && name[0] != '-' &&
            std::all_of(name.begin(), name.end(), [](char c) {
              return IsLowerAlnum(c) || (c >= 'A' && c <= 'Z') || c == '_' || c == '-' || c == '.';
            });
  if (!ok) {
    return core::InvalidArgument(
        "user '" + std::string(name.substr(0, 80)) + "' is not [A-Za-z0-9._-]{1,64}", "user");
  }
  return {};
}

bool AccountChange::empty() const {
  return !parent && !description && !organization && grp_tres_set.empty() &&
         grp_tres_clear.empty() && !qos;
}

std::string SacctmgrCommand::ToString() const {
  std::string s = "sacctmgr";
  for (const auto& a : args) {
    s += ' ';
    bool plain = !a.empty() && std::all_of(a.begin(), a.end(), [](char c) {
      return std::isalnum(static_cast<unsigned char>(c)) || std::strchr("_-=,/:.+", c);
    });
    s += plain ? a : "'" + a + "'";
  }
  return s;
}

SlurmClient::SlurmClient(SlurmClientOptions options) : options_(std::move(options)) {}

std::vector<std::string> SlurmClient::ClusterArgs() const {
  if (options_.cluster.empty()) return {};
  return {"cluster=" + options_.cluster};
}

core::Result<SlurmClient::Output> SlurmClient::RunTool(const std::string& tool,
                                                       const std::vector<std::string>& args) const {
  ExecRequest req;
  req.argv.push_back(options_.bin_dir.empty() ? tool : options_.bin_dir + "/" + tool);
  req.argv.insert(req.argv.end(), args.begin(), args.end());
  // Variables that change what the tools print are dropped; times are read as UTC.
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    std::string key(kv.substr(0, kv.find('=')));
    if (key.starts_with("SQUEUE_") || key.starts_with("SACCT_") || key.starts_with("SACCTMGR_") ||
        key == "SLURM_CLUSTERS") {
      req.env[key] = std::nullopt;
    }
  }
  req.env["TZ"] = "UTC";
  req.env["SLURM_TIME_FORMAT"] = "standard";
  for (const auto& [k, v] : options_.env) req.env[k] = v;
  req.timeout = options_.timeout;

  ExecResult r = Exec(req);
  using O = ExecResult::Outcome;
  switch (r.outcome) {
    case O::kTimedOut:
      return core::Unavailable(tool + " did not finish within " +
                               std::to_string(options_.timeout.count()) +
                               " ms and was killed (is slurmctld/slurmdbd reachable?)");
    case O::kNotFound:
      return core::Unavailable(tool + " cannot be run: " + r.error);
    case O::kSpawnFailed:
      return core::Unavailable(tool + " could not be started: " + r.error);
    case O::kTooMuchOutput:
      return core::Unavailable(tool + " printed too much output and was killed");
    case O::kExited:
      break;
  }
  if (r.exit_code == 0) {
    // sacct reports an unreachable slurmdbd on stderr and still exits 0.
    if (std::string line = UnreachableLine(r.err); !line.empty()) {
      return core::Unavailable(Prefixed(tool, line));
    }
    return Output{std::move(r.out), std::move(r.err)};
  }
  std::string first = FirstLine(r.err);
  if (first.empty()) first = FirstLine(r.out);
  if (first.empty()) first = "(no output)";
  std::string both = r.err + "\n" + r.out;
  if (std::string line = UnreachableLine(both); !line.empty()) {
    return core::Unavailable(Prefixed(tool, line));
  }
  std::string status = tool + " exited with status " + std::to_string(r.exit_code) + ": ";
  std::string lower = Lower(both);
  if (lower.find("nothing new added") != std::string::npos) {
    return core::Conflict(status + "already exists (" + first + ")");
  }
  if (lower.find("nothing deleted") != std::string::npos ||
      lower.find("nothing modified") != std::string::npos) {
    // sacctmgr prints "Nothing modified" also after a rejected option; its reason is on stderr.
    if (FirstLine(r.err).empty()) return core::NotFound(status + "no such entity (" + first + ")");
    return core::InvalidArgument(status + first);
  }
  if (lower.find("job(s) active") != std::string::npos) {
    return core::FailedPrecondition(status + first);
  }
  return core::InvalidArgument(status + first);
}

core::Status SlurmClient::Run(const SacctmgrCommand& command) const {
  auto r = RunTool("sacctmgr", command.args);
  if (!r) return r.error();
  return {};
}

// ---- accounts --------------------------------------------------------------------------------

core::Result<std::vector<Association>> SlurmClient::ListAssociations() const {
  std::vector<std::string> args = {"-P", "-n", "show", "assoc"};
  if (!options_.cluster.empty()) {
    args.push_back("where");
    args.push_back("cluster=" + options_.cluster);
  }
  args.push_back("format=" + std::string(kAssocFormat));
  GANTRY_TRY(auto out, RunTool("sacctmgr", args));
  return ParseAssociations(out.out);
}

core::Result<std::vector<AccountInfo>> SlurmClient::ListAccounts() const {
  GANTRY_TRY(auto assocs, ListAssociations());
  GANTRY_TRY(auto out, RunTool("sacctmgr", {"-P", "-n", "show", "account",
                                            "format=" + std::string(kAccountFormat)}));
  GANTRY_TRY(auto rows, ParseAccountRows(out.out));
  return MergeAccounts(assocs, rows, options_.cluster);
}

core::Result<SacctmgrCommand> SlurmClient::CreateAccountCommand(const AccountSpec& spec) const {
  GANTRY_TRY_STATUS(ValidateAccountName(spec.name));
  GANTRY_TRY_STATUS(ValidateParent(spec.parent.empty() ? "root" : spec.parent));
  GANTRY_TRY_STATUS(ValidateText(spec.description, "description"));
  GANTRY_TRY_STATUS(ValidateText(spec.organization, "organization"));
  GANTRY_TRY_STATUS(ValidateTres(spec.grp_tres));
  if (!spec.qos.empty()) GANTRY_TRY_STATUS(ValidateAccountName(spec.qos, "qos"));
  SacctmgrCommand c;
  c.args = {"-i", "add", "account", "name=" + spec.name,
            "parent=" + (spec.parent.empty() ? std::string("root") : spec.parent)};
  for (auto& a : ClusterArgs()) c.args.push_back(a);
  if (!spec.description.empty()) c.args.push_back("description=" + spec.description);
  if (!spec.organization.empty()) c.args.push_back("organization=" + spec.organization);
  if (!spec.grp_tres.empty()) c.args.push_back("GrpTRES=" + FormatTres(spec.grp_tres));
  if (!spec.qos.empty()) {
    c.args.push_back("qos=" + spec.qos);
    c.args.push_back("defaultqos=" + spec.qos);
  }
  return c;
}

core::Result<SacctmgrCommand> SlurmClient::ModifyAccountCommand(const std::string& name,
                                                                const AccountChange& ch) const {
  GANTRY_TRY_STATUS(ValidateAccountName(name));
  if (ch.empty()) return core::InvalidArgument("nothing to change for account " + name);
  if (ch.parent) GANTRY_TRY_STATUS(ValidateParent(*ch.parent));
  if (ch.description) GANTRY_TRY_STATUS(ValidateText(*ch.description, "description"));
  if (ch.organization) GANTRY_TRY_STATUS(ValidateText(*ch.organization, "organization"));
  GANTRY_TRY_STATUS(ValidateTres(ch.grp_tres_set));
  TresMap tres = ch.grp_tres_set;
  for (const auto& n : ch.grp_tres_clear) {
    if (!IsValidTresName(n))
      return core::InvalidArgument("invalid TRES name '" + n + "'", "grp_tres");
    if (tres.count(n))
      return core::InvalidArgument("TRES " + n + " both set and cleared", "grp_tres");
    tres[n] = -1;
  }
  if (ch.qos) GANTRY_TRY_STATUS(ValidateAccountName(*ch.qos, "qos"));
  SacctmgrCommand c;
  c.args = {"-i", "modify", "account", "where", "name=" + name};
  for (auto& a : ClusterArgs()) c.args.push_back(a);
  c.args.push_back("set");
  if (ch.parent) c.args.push_back("parent=" + *ch.parent);
  if (ch.description) c.args.push_back("description=" + *ch.description);
  if (ch.organization) c.args.push_back("organization=" + *ch.organization);
  if (!tres.empty()) c.args.push_back("GrpTRES=" + FormatTres(tres));
  if (ch.qos) {
    c.args.push_back("qos=" + *ch.qos);
    c.args.push_back("defaultqos=" + *ch.qos);
  }
  return c;
}

core::Result<SacctmgrCommand> SlurmClient::DeleteAccountCommand(const std::string& name) const {
  GANTRY_TRY_STATUS(ValidateAccountName(name));
  SacctmgrCommand c;
  c.args = {"-i", "delete", "account", "where", "name=" + name};
  for (auto& a : ClusterArgs()) c.args.push_back(a);
  return c;
}

core::Result<SacctmgrCommand> SlurmClient::AddUserCommand(const std::string& user,
                                                          const std::string& account) const {
  GANTRY_TRY_STATUS(ValidateUserName(user));
  GANTRY_TRY_STATUS(ValidateAccountName(account));
  SacctmgrCommand c;
  c.args = {"-i", "add", "user", "name=" + user, "account=" + account};
  for (auto& a : ClusterArgs()) c.args.push_back(a);
  return c;
}

core::Result<SacctmgrCommand> SlurmClient::RemoveUserCommand(const std::string& user,
                                                             const std::string& account) const {
  GANTRY_TRY_STATUS(ValidateUserName(user));
  GANTRY_TRY_STATUS(ValidateAccountName(account));
  SacctmgrCommand c;
  c.args = {"-i", "delete", "user", "where", "name=" + user, "account=" + account};
  for (auto& a : ClusterArgs()) c.args.push_back(a);
  return c;
}

core::Result<SacctmgrCommand> SlurmClient::CreateQosCommand(const std::string& name) const {
  GANTRY_TRY_STATUS(ValidateAccountName(name, "qos"));
  return SacctmgrCommand{{"-i", "add", "qos", "name=" + name}};
}

core::Status SlurmClient::CreateAccount(const AccountSpec& spec) const {
  GANTRY_TRY(auto c, CreateAccountCommand(spec));
  return Run(c);
}
core::Status SlurmClient::ModifyAccount(const std::string& name,
                                        const AccountChange& change) const {
  GANTRY_TRY(auto c, ModifyAccountCommand(name, change));
  return Run(c);
}
core::Status SlurmClient::DeleteAccount(const std::string& name) const {
  GANTRY_TRY(auto c, DeleteAccountCommand(name));
  return Run(c);
}
core::Status SlurmClient::AddUser(const std::string& user, const std::string& account) const {
  GANTRY_TRY(auto c, AddUserCommand(user, account));
  return Run(c);
}
core::Status SlurmClient::RemoveUser(const std::string& user, const std::string& account) const {
  GANTRY_TRY(auto c, RemoveUserCommand(user, account));
  return Run(c);
}
core::Status SlurmClient::CreateQos(const std::string& name) const {
  GANTRY_TRY(auto c, CreateQosCommand(name));
  return Run(c);
}

core::Result<std::vector<std::string>> SlurmClient::ListQos() const {
  GANTRY_TRY(auto out, RunTool("sacctmgr", {"-P", "-n", "show", "qos", "format=name"}));
  return ParseNames(out.out);
}

// ---- jobs ------------------------------------------------------------------------------------

namespace {
core::Result<std::string> AccountList(const std::vector<std::string>& accounts) {
  std::string list;
  for (const auto& a : accounts) {
    GANTRY_TRY_STATUS(ValidateAccountName(a));
    if (!list.empty()) list += ',';
    list += a;
  }
  return list;
}
}  // namespace

core::Result<std::vector<QueuedJob>> SlurmClient::ListJobs(
    const std::vector<std::string>& accounts) const {
  GANTRY_TRY(auto list, AccountList(accounts));
  std::vector<std::string> args = {"-h", "-o", std::string(kQueueFormat)};
  if (!list.empty()) args.push_back("--account=" + list);
  GANTRY_TRY(auto out, RunTool("squeue", args));
  return ParseQueue(out.out);
}

core::Result<std::vector<JobRecord>> SlurmClient::ListJobRecords(const JobRecordQuery& q) const {
  if (q.end < q.start) return core::InvalidArgument("job record query ends before it starts");
  GANTRY_TRY(auto list, AccountList(q.accounts));
  std::vector<std::string> args = {"-P", "-n",
                                   "-X", "--format=" + std::string(kJobRecordFormat),
                                   "-S", FormatSlurmTime(q.start),
                                   "-E", FormatSlurmTime(q.end)};
  args.push_back("-a");  // every user's jobs, not only the caller's
  if (!list.empty()) args.push_back("--accounts=" + list);
  if (!options_.cluster.empty()) args.push_back("--clusters=" + options_.cluster);
  GANTRY_TRY(auto out, RunTool("sacct", args));
  return ParseJobRecords(out.out);
}

namespace {
core::Status ValidateJobId(const std::string& id) {
  bool ok = !id.empty() && id.size() <= 32 && id.front() >= '0' && id.front() <= '9';
  for (char c : id) ok = ok && ((c >= '0' && c <= '9') || c == '_' || c == '+');
  if (!ok) return core::InvalidArgument("not a Slurm job id: " + id.substr(0, 32), "job_id");
  return {};
}
}  // namespace

core::Status SlurmClient::RequeueJob(const std::string& id) const {
  GANTRY_TRY_STATUS(ValidateJobId(id));
  GANTRY_TRY_STATUS(RunTool("scontrol", {"requeue", id}));
  return {};
}

core::Status SlurmClient::CancelJob(const std::string& id) const {
  GANTRY_TRY_STATUS(ValidateJobId(id));
  GANTRY_TRY_STATUS(RunTool("scancel", {id}));
  return {};
}

core::Status SlurmClient::HoldJobs(const std::vector<std::string>& job_ids) const {
  if (job_ids.empty()) return {};
  std::string list;
  for (const auto& id : job_ids) {
    GANTRY_TRY_STATUS(ValidateJobId(id));
    list += (list.empty() ? "" : ",") + id;
  }
  GANTRY_TRY(auto out, RunTool("scontrol", {"hold", list}));
  return {};
}

// ---- health ----------------------------------------------------------------------------------

core::Status SlurmClient::PingController() const {
  GANTRY_TRY(auto out, RunTool("scontrol", {"ping"}));
  if (out.out.find("UP") == std::string::npos) {
    return core::Unavailable("scontrol ping: " + FirstLine(out.out));
  }
  return {};
}

core::Status SlurmClient::PingDatabase() const {
  GANTRY_TRY(auto out, RunTool("sacctmgr", {"-P", "-n", "show", "cluster", "format=cluster"}));
  return {};
}

}  // namespace gantry::slurm
