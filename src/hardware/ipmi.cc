#include "hardware/ipmi.h"

#include <sstream>

#include "integrations/slurm/exec.h"

namespace gantry::hardware {

namespace {

core::Error Unsupported(const std::string& what) {
  return core::FailedPrecondition("unsupported over IPMI: " + what + " (use a Redfish BMC)");
}

std::string Trim(std::string s) {
  size_t b = s.find_first_not_of(" \t\r\n");
  size_t e = s.find_last_not_of(" \t\r\n");
  return b == std::string::npos ? std::string() : s.substr(b, e - b + 1);
}

bool Contains(const std::string& s, std::string_view what) { return s.find(what) != std::string::npos; }

}  // namespace

core::Result<std::string> ParseIpmiPowerStatus(const std::string& out) {
  if (Contains(out, "Chassis Power is on")) return std::string("on");
  if (Contains(out, "Chassis Power is off")) return std::string("off");
  return core::Internal("unexpected answer to 'chassis power status': " + Trim(out).substr(0, 120));
}

std::vector<SelEntry> ParseIpmiSel(const std::string& out) {
  std::vector<SelEntry> entries;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    std::vector<std::string> cols;
    std::string col;
    std::istringstream ls(line);
    while (std::getline(ls, col, '|')) cols.push_back(Trim(col));
    if (cols.size() < 4) continue;
    SelEntry e;
    e.id = cols[0];
    e.created = cols[1] + " " + cols[2];
    std::string msg;
    for (size_t i = 3; i < cols.size(); ++i) msg += (msg.empty() ? "" : " | ") + cols[i];
    e.message = msg;
    e.severity = "";
    entries.push_back(std::move(e));
  }
  return entries;
}

core::Error IpmiError(const std::string& target, int exit_code, const std::string& err) {
  // The line that says what went wrong ("Error: ..."), else the first one.
  std::string first = Trim(err.substr(0, err.find('\n')));
  if (auto at = err.find("Error"); at != std::string::npos) {
    first = Trim(err.substr(at, err.find('\n', at) - at));
  }
  if (Contains(err, "RAKP") || Contains(err, "Unauthorized name") ||
      Contains(err, "password is invalid") || Contains(err, "insufficient resources for session")) {
    return core::Unauthenticated("BMC " + target + " rejected the credentials");
  }
  if (Contains(err, "Unable to establish") || Contains(err, "No response") ||
      Contains(err, "Get Auth Capabilities error") ||
      Contains(err, "Connection refused") || Contains(err, "Address lookup")) {
    return core::Unavailable("BMC " + target + " cannot be reached over IPMI: " + first.substr(0, 160));
  }
  if (Contains(err, "Invalid command") || Contains(err, "not supported")) {
    return core::FailedPrecondition("BMC " + target + " does not support this: " + first.substr(0, 160));
  }
  return core::Conflict("ipmitool failed for BMC " + target + " (exit " + std::to_string(exit_code) +
                        "): " + first.substr(0, 160));
}

std::vector<std::string> IpmiDriver::Argv(const std::vector<std::string>& command) const {
  std::string host = ep_.address;
  std::string port = "623";
  if (auto colon = host.rfind(':'); colon != std::string::npos && host.find(']') == std::string::npos) {
    port = host.substr(colon + 1);
    host = host.substr(0, colon);
  }
  auto secs = std::max<int64_t>(1, options_.timeout.count() / 1000 / std::max(1, options_.attempts));
  std::vector<std::string> argv = {ipmitool_, "-I", "lanplus", "-C", "3", "-H", host, "-p", port,
                                   "-U", ep_.credentials.username, "-E",
                                   "-N", std::to_string(secs), "-R", std::to_string(options_.attempts)};
  argv.insert(argv.end(), command.begin(), command.end());
  return argv;
}

core::Result<std::string> IpmiDriver::Run(const std::vector<std::string>& command) {
  slurm::ExecRequest req;
  req.argv = Argv(command);
  req.env["IPMI_PASSWORD"] = ep_.credentials.password;
  // ipmitool's own retries (-N/-R) end before this deadline; this one catches a stuck child.
  req.timeout = options_.timeout + options_.connect_timeout;
  req.max_output = options_.max_body;
  auto r = slurm::Exec(req);
  switch (r.outcome) {
    case slurm::ExecResult::Outcome::kExited: {
      if (r.exit_code == 0) return r.out;
      std::string why = r.err + r.out;
      // ipmitool says only "Unable to establish ... session" for both a wrong password and a
      // BMC that does not answer; with -v it names the cause ("RAKP 2 HMAC is invalid"). -v
      // changes the output of some commands, so it is used only for this diagnosis: a read-only
      // status call, and only when the failure came fast (a BMC that does not answer has
      // already cost its timeout once).
      if (Contains(why, "Unable to establish") && r.elapsed < req.timeout / 2) {
        slurm::ExecRequest diag = req;
        diag.argv = Argv({"-v", "chassis", "power", "status"});
        auto d = slurm::Exec(diag);
        if (d.outcome == slurm::ExecResult::Outcome::kExited) why = d.err + d.out + why;
      }
      return IpmiError(ep_.name, r.exit_code, why);
    }
    case slurm::ExecResult::Outcome::kTimedOut:
      return core::Error(core::Code::kDeadlineExceeded,
                         "BMC " + ep_.name + " did not answer within " +
                             std::to_string(req.timeout.count()) + " ms");
    case slurm::ExecResult::Outcome::kTooMuchOutput:
      return core::Internal("BMC " + ep_.name + ": ipmitool output too large");
    case slurm::ExecResult::Outcome::kNotFound:
      return core::Unavailable("ipmitool is not installed (" + ipmitool_ + ")");
    case slurm::ExecResult::Outcome::kSpawnFailed:
      return core::Unavailable("cannot run ipmitool: " + r.error);
  }
  return core::Unavailable("cannot run ipmitool");
}

core::Result<core::json::object> IpmiDriver::Probe() {
  GANTRY_TRY(auto out, Run({"mc", "info"}));
  core::json::object o{{"reachable", true}, {"health", "OK"}};
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::string key = Trim(line.substr(0, colon)), value = Trim(line.substr(colon + 1));
    if (key == "Firmware Revision") o["firmware_version"] = value;
    if (key == "Manufacturer Name") o["manufacturer"] = value;
  }
  return o;
}

core::Result<std::string> IpmiDriver::PowerState() {
  GANTRY_TRY(auto out, Run({"chassis", "power", "status"}));
  return ParseIpmiPowerStatus(out);
}

core::Status IpmiDriver::Power(PowerAction action) {
  std::string verb;
  switch (action) {
    case PowerAction::kOn: verb = "on"; break;
    case PowerAction::kOff: verb = "soft"; break;
    case PowerAction::kForceOff: verb = "off"; break;
    case PowerAction::kCycle: verb = "cycle"; break;
    case PowerAction::kReset: verb = "reset"; break;
  }
  GANTRY_TRY(auto out, Run({"chassis", "power", verb}));
  if (!Contains(out, "Chassis Power Control")) {
    return core::Internal("unexpected answer to 'chassis power " + verb + "': " + Trim(out).substr(0, 120));
  }
  return {};
}

core::Status IpmiDriver::SetBootDevice(BootDevice device, bool once) {
  std::vector<std::string> cmd = {"chassis", "bootdev", std::string(Name(device))};
  if (!once) cmd.push_back("options=persistent");
  GANTRY_TRY(auto out, Run(cmd));
  if (!Contains(out, "Set Boot Device to")) {
    return core::Internal("unexpected answer to 'chassis bootdev': " + Trim(out).substr(0, 120));
  }
  return {};
}

core::Result<std::vector<SelEntry>> IpmiDriver::ReadSel(int max) {
  GANTRY_TRY(auto out, Run({"sel", "elist"}));
  auto all = ParseIpmiSel(out);
  if (static_cast<int>(all.size()) > max) all.erase(all.begin(), all.end() - max);
  return all;
}

core::Status IpmiDriver::ClearSel() {
  GANTRY_TRY(auto out, Run({"sel", "clear"}));
  (void)out;
  return {};
}

core::Status IpmiDriver::InsertMedia(const std::string&) { return Unsupported("virtual media"); }
core::Status IpmiDriver::EjectMedia() { return Unsupported("virtual media"); }
core::Result<Inventory> IpmiDriver::ReadInventory() { return Unsupported("hardware inventory"); }
core::Result<std::map<std::string, std::string>> IpmiDriver::FirmwareVersions() {
  GANTRY_TRY(auto probe, Probe());
  std::map<std::string, std::string> v;
  if (auto* fw = probe.if_contains("firmware_version"); fw && fw->is_string()) {
    v["BMC"] = std::string(fw->get_string());
  }
  return v;
}
core::Result<std::string> IpmiDriver::StartUpdate(const UpdateRequest&) {
  return Unsupported("firmware updates");
}
core::Result<TaskStatus> IpmiDriver::PollTask(const std::string&) { return Unsupported("tasks"); }

}  // namespace gantry::hardware
