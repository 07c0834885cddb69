// gantry bmc add|list|show|rm; gantry node power|boot|inventory|check|sel;
// gantry firmware campaign create|list|show|start|pause|resume|cancel.
// Many-node operations run as server-side jobs: the command follows the job with a progress line
// (on stderr) and prints one row per node; it exits 1 when any node failed.
#include <fstream>

#include "app/client/commands.h"
#include "app/client/job_watcher.h"
#include "app/client/session.h"
#include "app/commands.h"

namespace gantry::app::client {

namespace json = core::json;

namespace {

std::string BmcPath(const std::string& bmc) { return "/api/v1/bmcs/" + PathSegment(bmc); }
std::string NodePath(const std::string& node) { return "/api/v1/nodes/" + PathSegment(node); }
std::string CampaignPath(const std::string& c) { return "/api/v1/firmware/campaigns/" + PathSegment(c); }

const json::array& Items(const Session& s, const json::value& v, std::string_view key = "items") {
  const auto* items = v.is_object() ? v.get_object().if_contains(key) : nullptr;
  if (!items || !items->is_array()) s.Fail(core::Unavailable("unexpected answer from " + s.connection().server));
  return items->get_array();
}

// ---- bmc ----------------------------------------------------------------------------------

struct BmcAddArgs {
  std::string name, address, protocol = "redfish", server, system_id, username, auth = "basic", ca_file;
  bool password_stdin = false;
  bool no_tls_verify = false;
};

void BmcAdd(const GlobalFlags& flags, const BmcAddArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  std::optional<std::string> password;
  if (a.password_stdin) {
    password = ReadLine(io);
  } else if (!io.stdin_tty) {
    app::Fail(kExitUsage, "cannot prompt for the BMC password: stdin is not a terminal; use --password-stdin");
  } else {
    password = ReadSecret(io, "BMC password: ");
  }
  if (!password || password->empty()) app::Fail(kExitUsage, "no BMC password given");
  json::object body{{"name", a.name}, {"address", a.address}, {"protocol", a.protocol},
                    {"username", a.username}, {"password", *password}, {"auth", a.auth},
                    {"tls_verify", !a.no_tls_verify}};
  if (!a.server.empty()) body["server"] = a.server;
  if (!a.system_id.empty()) body["system_id"] = a.system_id;
  if (!a.ca_file.empty()) body["ca_file"] = a.ca_file;
  auto b = s->Check(s->api().Post("/api/v1/bmcs", body));
  if (s->json()) return s->PrintJson(b);
  s->out() << "added BMC " << FieldText(b, "name") << " (" << FieldText(b, "protocol") << " at "
           << FieldText(b, "address") << ")" << (a.no_tls_verify ? "; TLS verification is OFF for it" : "") << "\n";
}

std::vector<Column> BmcColumns() {
  return {FieldColumn("NAME", "name"),     FieldColumn("PROTOCOL", "protocol"),
          FieldColumn("ADDRESS", "address"), FieldColumn("SERVER", "server"),
          FieldColumn("HEALTH", "health"), FieldColumn("POWER", "power_state"),
          FieldColumn("CHECKED", "checked_at")};
}

void BmcList(const GlobalFlags& flags, const Io& io) {
  auto s = Session::Open(flags, io);
  auto list = s->Check(s->api().GetAll("/api/v1/bmcs", {}));
  if (s->json()) return s->PrintJson(list);
  MakeTable(Items(*s, list), BmcColumns()).Print(s->out());
}

void BmcShow(const GlobalFlags& flags, const std::string& name, const Io& io) {
  auto s = Session::Open(flags, io);
  auto b = s->Check(s->api().Get(BmcPath(name)));
  if (s->json()) return s->PrintJson(b);
  std::vector<std::pair<std::string, std::string>> fields;
  for (const char* k : {"name", "protocol", "address", "server", "system_id", "auth", "tls_verify", "ca_file",
                        "health", "health_message", "power_state", "checked_at", "created_at"}) {
    std::string key = k;
    for (auto& c : key) c = c == '_' ? ' ' : static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    fields.emplace_back(key, FieldText(b, k));
  }
  PrintFields(s->out(), fields);
}

void BmcRemove(const GlobalFlags& flags, const std::string& name, const Io& io) {
  auto s = Session::Open(flags, io);
  s->Check(s->api().Delete(BmcPath(name)));
  if (!s->json()) s->out() << "removed BMC " << name << "\n";
}

// ---- many nodes ---------------------------------------------------------------------------

struct FanOutArgs {
  std::vector<std::string> nodes;
  bool all = false;
  int concurrency = 128;
};

// Starts the job, follows it with a progress line, prints one row per node.
void RunFanOut(const GlobalFlags& flags, const Io& io, const std::string& path, json::object body,
               const FanOutArgs& a, const std::string& detail_header, const std::string& detail_key) {
  if (a.nodes.empty() && !a.all) app::Fail(kExitUsage, "name at least one NODE, or --all");
  if (!a.nodes.empty() && a.all) app::Fail(kExitUsage, "give NODEs or --all, not both");
  auto s = Session::Open(flags, io);
  if (a.all) body["all"] = true;
  else {
    json::array nodes;
    for (const auto& n : a.nodes) nodes.push_back(json::string(n));
    body["nodes"] = std::move(nodes);
  }
  body["concurrency"] = a.concurrency;
  auto started = s->Check(s->api().Post(path, body));
  int64_t id = started.is_object() && started.get_object().contains("job_id") &&
                       started.get_object().at("job_id").is_int64()
                   ? started.get_object().at("job_id").get_int64()
                   : 0;
  if (id == 0) s->Fail(core::Unavailable("unexpected answer from " + s->connection().server));
  std::atomic<bool> stop{false};
  JobWatcher watcher(s->err(), {.tty = s->io().stdout_tty, .terminal_width = TerminalWidth()});
  auto job = s->Check(watcher.Watch(s->api(), id, stop));
  watcher.EndLine();
  if (FieldText(job, "state") != "succeeded") {
    app::Fail(kExitError, "job " + std::to_string(id) + " " + FieldText(job, "state") + ": " + FieldText(job, "error"));
  }
  auto result = core::ParseJson(job.at("result").is_string() ? std::string(job.at("result").get_string())
                                                             : core::ToJson(job.at("result")));
  if (!result || !result->is_object()) s->Fail(core::Unavailable("job " + std::to_string(id) + " has no result"));
  if (s->json()) return s->PrintJson(*result);
  const auto& rows = Items(*s, *result, "results");
  std::vector<Column> cols = {
      FieldColumn("NODE", "node"), FieldColumn("BMC", "bmc"),
      {"RESULT", [](const json::object& r) { return FieldText(r, "ok") == "true" ? std::string("ok") : FieldText(r, "fault"); }}};
  if (!detail_key.empty()) cols.push_back(FieldColumn(detail_header, detail_key));
  cols.push_back(FieldColumn("MS", "elapsed_ms"));
  cols.push_back(FieldColumn("MESSAGE", "message"));
  MakeTable(rows, cols).Print(s->out());
  int64_t failed = 0;
  for (const auto& r : rows) failed += FieldText(r, "ok") != "true";
  if (failed > 0) {
    app::Fail(kExitError, std::to_string(failed) + " of " + std::to_string(rows.size()) + " node(s) failed");
  }
}

void AddFanOutArgs(CLI::App* cmd, FanOutArgs& a) {
  cmd->add_option("NODE", a.nodes, "Servers (CMDB names) or BMC names");
  cmd->add_flag("--all", a.all, "Every BMC Gantry knows");
  cmd->add_option("--concurrency", a.concurrency, "BMCs worked on at once (1-1024)")
      ->check(CLI::Range(1, 1024))->capture_default_str();
}

// ---- campaigns ----------------------------------------------------------------------------

struct CampaignArgs {
  std::string name, component, target_version, image_uri, checksum, rack, version_below, window_start, window_end;
  std::vector<std::string> nodes, attrs;
  int batch_size = 10, canary_size = 1, failure_budget = 0, soak_seconds = 0;
  bool reboot = false;
};

void CampaignCreate(const GlobalFlags& flags, const CampaignArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  json::object sel;
  if (!a.nodes.empty()) {
    json::array nodes;
    for (const auto& n : a.nodes) nodes.push_back(json::string(n));
    sel["nodes"] = std::move(nodes);
  }
  if (!a.rack.empty()) sel["rack"] = a.rack;
  if (!a.version_below.empty()) sel["version_below"] = a.version_below;
  if (!a.attrs.empty()) {
    json::object attrs;
    for (const auto& kv : a.attrs) {
      auto eq = kv.find('=');
      if (eq == std::string::npos) app::Fail(kExitUsage, "--attr takes name=value");
      attrs[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    sel["attrs"] = std::move(attrs);
  }
  json::object body{{"name", a.name}, {"component", a.component}, {"target_version", a.target_version},
                    {"image_uri", a.image_uri}, {"checksum", a.checksum}, {"selection", sel},
                    {"batch_size", a.batch_size}, {"canary_size", a.canary_size},
                    {"failure_budget", a.failure_budget}, {"soak_seconds", a.soak_seconds},
                    {"reboot", a.reboot}};
  if (!a.window_start.empty()) body["window_start"] = a.window_start;
  if (!a.window_end.empty()) body["window_end"] = a.window_end;
  auto c = s->Check(s->api().Post("/api/v1/firmware/campaigns", body));
  if (s->json()) return s->PrintJson(c);
  const auto& impact = c.at("impact");
  PrintFields(s->out(), {{"CAMPAIGN", FieldText(c, "name")},
                         {"STATE", FieldText(c, "state")},
                         {"SERVERS", FieldText(impact, "servers")},
                         {"TENANTS", FieldText(impact, "tenants")},
                         {"SERVICES", FieldText(impact, "services")}});
  s->out() << "start it with: gantry firmware campaign start " << FieldText(c, "name") << "\n";
}

void CampaignList(const GlobalFlags& flags, const Io& io) {
  auto s = Session::Open(flags, io);
  auto list = s->Check(s->api().Get("/api/v1/firmware/campaigns"));
  if (s->json()) return s->PrintJson(list);
  MakeTable(Items(*s, list), {FieldColumn("NAME", "name"), FieldColumn("STATE", "state"),
                              FieldColumn("BATCH", "batch"), FieldColumn("FAILURES", "failures"),
                              FieldColumn("MESSAGE", "message")})
      .Print(s->out());
}

void CampaignShow(const GlobalFlags& flags, const std::string& name, const Io& io) {
  auto s = Session::Open(flags, io);
  auto c = s->Check(s->api().Get(CampaignPath(name)));
  if (s->json()) return s->PrintJson(c);
  PrintFields(s->out(), {{"CAMPAIGN", FieldText(c, "name")}, {"STATE", FieldText(c, "state")},
                         {"BATCH", FieldText(c, "batch")}, {"FAILURES", FieldText(c, "failures")},
                         {"MESSAGE", FieldText(c, "message")}, {"JOB", FieldText(c, "job_id")}});
  s->out() << "\n";
  MakeTable(Items(*s, c, "nodes"), {FieldColumn("SERVER", "server"), FieldColumn("BATCH", "batch"),
                                    FieldColumn("STATE", "state"), FieldColumn("BEFORE", "version_before"),
                                    FieldColumn("AFTER", "version_after"), FieldColumn("MESSAGE", "message")})
      .Print(s->out());
}

void CampaignVerb(const GlobalFlags& flags, const std::string& name, const std::string& verb, const Io& io) {
  auto s = Session::Open(flags, io);
  auto c = s->Check(s->api().Post(CampaignPath(name) + "/" + verb, json::object{}));
  if (s->json()) return s->PrintJson(c);
  s->out() << "campaign " << FieldText(c, "name") << ": " << FieldText(c, "state") << "\n";
}

void RegisterBmc(CLI::App& app, IoPtr io) {
  auto* bmc = app.add_subcommand("bmc", "Baseboard management controllers (Redfish, IPMI)");
  bmc->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<BmcAddArgs>();
    auto* cmd = bmc->add_subcommand("add", "Add a BMC (admin). The password is prompted for (or read from stdin), "
                                           "sealed with AES-256-GCM and never shown again");
    cmd->add_option("NAME", a->name, "BMC name")->required();
    cmd->add_option("--address", a->address, "host[:port]; redfish also http(s)://host[:port]")->required();
    cmd->add_option("--protocol", a->protocol, "redfish or ipmi")->check(CLI::IsMember({"redfish", "ipmi"}))->capture_default_str();
    cmd->add_option("--node", a->server, "The server CI this BMC controls (the NODE of node commands)");
    cmd->add_option("--system-id", a->system_id, "Redfish ComputerSystem Id when the BMC has several");
    cmd->add_option("--username", a->username, "BMC user")->required();
    cmd->add_flag("--password-stdin", a->password_stdin, "Read the BMC password from stdin");
    cmd->add_option("--auth", a->auth, "Redfish: basic or session")->check(CLI::IsMember({"basic", "session"}))->capture_default_str();
    cmd->add_flag("--no-tls-verify", a->no_tls_verify, "Do not verify the BMC's TLS certificate (explicit, per BMC)");
    cmd->add_option("--bmc-ca-file", a->ca_file, "PEM bundle (on the Gantry server) to verify the BMC's certificate with");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] { BmcAdd(*flags, *a, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto* cmd = bmc->add_subcommand("list", "List BMCs with their health and last power state");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, io] { BmcList(*flags, *io); });
  }
  for (const char* verb : {"show", "rm"}) {
    auto flags = std::make_shared<GlobalFlags>();
    auto name = std::make_shared<std::string>();
    std::string v = verb;
    auto* cmd = bmc->add_subcommand(v, v == "show" ? "Show one BMC (never its credentials)" : "Remove a BMC (admin)");
    cmd->add_option("NAME", *name, "BMC name or id")->required();
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, name, io, v] {
      if (v == "show") BmcShow(*flags, *name, *io);
      else BmcRemove(*flags, *name, *io);
    });
  }
}

void RegisterNode(CLI::App& app, IoPtr io) {
  // `node` may be registered by another module's commands too (bare-metal lifecycle): share it.
  CLI::App* node = nullptr;
  try {
    node = app.get_subcommand("node");
  } catch (const CLI::OptionNotFound&) {
  }
  if (!node) node = app.add_subcommand("node", "Nodes (servers) and their hardware");
  node->require_subcommand(1);
  auto* power = node->add_subcommand("power", "Power state and control through the nodes' BMCs");
  power->require_subcommand(1);
  struct PowerVerb {
    const char* name;
    const char* help;
  };
  static const PowerVerb verbs[] = {{"status", "Read the power state"},
                                    {"on", "Power on"},
                                    {"off", "Graceful shutdown (--force: immediate power off)"},
                                    {"cycle", "Power off, then on"},
                                    {"reset", "Hard reset"}};
  for (const auto& v : verbs) {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<FanOutArgs>();
    auto force = std::make_shared<bool>(false);
    std::string verb = v.name;
    auto* cmd = power->add_subcommand(verb, v.help);
    AddFanOutArgs(cmd, *a);
    if (verb == "off") cmd->add_flag("--force", *force, "Power off at once instead of a graceful shutdown");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, force, io, verb] {
      std::string action = verb == "off" && *force ? "force-off" : verb;
      RunFanOut(*flags, *io, "/api/v1/hardware/power", {{"action", action}}, *a,
                verb == "status" ? "POWER" : "", verb == "status" ? "power_state" : "");
    });
  }
  auto* boot = node->add_subcommand("boot", "Boot device through the nodes' BMCs");
  boot->require_subcommand(1);
  for (const char* device : {"pxe", "disk", "bios"}) {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<FanOutArgs>();
    auto once = std::make_shared<bool>(false);
    std::string d = device;
    auto* cmd = boot->add_subcommand(d, "Boot from " + d + " (every boot, or only the next with --once)");
    AddFanOutArgs(cmd, *a);
    cmd->add_flag("--once", *once, "Only for the next boot");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, once, io, d] {
      RunFanOut(*flags, *io, "/api/v1/hardware/boot", {{"device", d}, {"once", *once}}, *a, "", "");
    });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<FanOutArgs>();
    auto* cmd = node->add_subcommand("inventory", "Read hardware inventory from the BMCs into the CMDB");
    AddFanOutArgs(cmd, *a);
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] { RunFanOut(*flags, *io, "/api/v1/hardware/inventory", {}, *a, "CIS", "cis"); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<FanOutArgs>();
    auto* cmd = node->add_subcommand("check", "Reachability and health of the nodes' BMCs");
    AddFanOutArgs(cmd, *a);
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] { RunFanOut(*flags, *io, "/api/v1/hardware/check", {}, *a, "HEALTH", "health"); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto n = std::make_shared<std::string>();
    auto clear = std::make_shared<bool>(false);
    auto* cmd = node->add_subcommand("sel", "System event log of a node (--clear empties it)");
    cmd->add_option("NODE", *n, "Server or BMC name")->required();
    cmd->add_flag("--clear", *clear, "Clear the log");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, n, clear, io] {
      auto s = Session::Open(*flags, *io);
      if (*clear) {
        s->Check(s->api().Delete(NodePath(*n) + "/sel"));
        if (!s->json()) s->out() << "cleared the event log of " << *n << "\n";
        return;
      }
      auto list = s->Check(s->api().Get(NodePath(*n) + "/sel"));
      if (s->json()) return s->PrintJson(list);
      MakeTable(Items(*s, list), {FieldColumn("ID", "id"), FieldColumn("CREATED", "created"),
                                  FieldColumn("SEVERITY", "severity"), FieldColumn("MESSAGE", "message")})
          .Print(s->out());
    });
  }
}

void RegisterFirmware(CLI::App& app, IoPtr io) {
  auto* fw = app.add_subcommand("firmware", "Firmware campaigns: gated rolling updates");
  fw->require_subcommand(1);
  auto* camp = fw->add_subcommand("campaign", "Firmware campaigns");
  camp->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<CampaignArgs>();
    auto* cmd = camp->add_subcommand("create", "Create a campaign and show its CMDB impact; start it separately");
    cmd->add_option("NAME", a->name, "Campaign name")->required();
    cmd->add_option("--component", a->component, "Firmware inventory Id, e.g. BIOS")->required();
    cmd->add_option("--target-version", a->target_version, "Version the component must report")->required();
    cmd->add_option("--image-uri", a->image_uri, "Where the BMCs fetch the image")->required();
    cmd->add_option("--checksum", a->checksum, "sha256:<hex> of the image")->required();
    cmd->add_option("--node", a->nodes, "A server to include (repeatable)");
    cmd->add_option("--rack", a->rack, "Servers located in this rack");
    cmd->add_option("--attr", a->attrs, "Servers with this attribute value, name=value (repeatable)");
    cmd->add_option("--version-below", a->version_below, "Only servers whose recorded version is lower");
    cmd->add_option("--batch-size", a->batch_size, "Nodes per batch after the canary")->capture_default_str();
    cmd->add_option("--canary-size", a->canary_size, "Nodes in the canary batch")->capture_default_str();
    cmd->add_option("--failure-budget", a->failure_budget, "Failed nodes tolerated before the campaign halts")->capture_default_str();
    cmd->add_option("--soak-seconds", a->soak_seconds, "Wait after the canary batch")->capture_default_str();
    cmd->add_flag("--reboot", a->reboot, "Reset each node after its update (firmware applied on boot)");
    cmd->add_option("--window-start", a->window_start, "Maintenance window start (RFC 3339)");
    cmd->add_option("--window-end", a->window_end, "Maintenance window end (RFC 3339)");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] { CampaignCreate(*flags, *a, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto* cmd = camp->add_subcommand("list", "List campaigns");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, io] { CampaignList(*flags, *io); });
  }
  for (const char* verb : {"show", "start", "pause", "resume", "cancel"}) {
    auto flags = std::make_shared<GlobalFlags>();
    auto name = std::make_shared<std::string>();
    std::string v = verb;
    auto* cmd = camp->add_subcommand(v, v == "show" ? "Show a campaign and its nodes" : v + " a campaign");
    cmd->add_option("NAME", *name, "Campaign name or id")->required();
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, name, io, v] {
      if (v == "show") CampaignShow(*flags, *name, *io);
      else CampaignVerb(*flags, *name, v, *io);
    });
  }
}

}  // namespace

void RegisterHardwareCommands(CLI::App& app, IoPtr io) {
  RegisterBmc(app, io);
  RegisterNode(app, io);
  RegisterFirmware(app, io);
}

}  // namespace gantry::app::client
