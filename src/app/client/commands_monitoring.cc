// gantry incident list|show|ack|resolve|assign|note, gantry monitor targets|prometheus-config|
// alertmanager-config|status|silence|silences|unsilence|query
#include "app/client/commands.h"
#include "app/client/session.h"
#include "app/commands.h"

namespace gantry::app::client {

namespace json = core::json;

namespace {

std::string IncidentPath(int64_t id) { return "/api/v1/incidents/" + std::to_string(id); }

void PrintIncident(const Session& s, const json::value& i) {
  PrintFields(s.out(), {{"INCIDENT", FieldText(i, "id")},
                        {"TITLE", FieldText(i, "title")},
                        {"STATE", FieldText(i, "state")},
                        {"SEVERITY", FieldText(i, "severity")},
                        {"CI", FieldText(i, "ci")},
                        {"TENANT", FieldText(i, "tenant")},
                        {"ASSIGNEE", FieldText(i, "assignee")},
                        {"ALERTS", FieldText(i, "firing") + " firing of " + FieldText(i, "alerts")},
                        {"OPENED", FieldText(i, "opened_at")},
                        {"RESOLVED", FieldText(i, "resolved_at")}});
}

struct ListArgs {
  std::string state;
  int limit = 100;
};

void IncidentList(const GlobalFlags& flags, const ListArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  Query q{{"limit", std::to_string(a.limit)}};
  if (!a.state.empty()) q.emplace_back("state", a.state);
  auto list = s->Check(s->api().Get("/api/v1/incidents", q));
  if (s->json()) return s->PrintJson(list);
  const auto* items = list.is_object() ? list.get_object().if_contains("items") : nullptr;
  if (!items || !items->is_array()) s->Fail(core::Unavailable("unexpected answer from the server"));
  MakeTable(items->get_array(),
            {FieldColumn("ID", "id"), FieldColumn("STATE", "state"), FieldColumn("SEVERITY", "severity"),
             FieldColumn("CI", "ci"), FieldColumn("TENANT", "tenant"), FieldColumn("FIRING", "firing"),
             FieldColumn("ALERTS", "alerts"), FieldColumn("ASSIGNEE", "assignee"),
             FieldColumn("OPENED", "opened_at"), FieldColumn("TITLE", "title")})
      .Print(s->out());
}

void IncidentShow(const GlobalFlags& flags, int64_t id, const Io& io) {
  auto s = Session::Open(flags, io);
  auto i = s->Check(s->api().Get(IncidentPath(id)));
  if (s->json()) return s->PrintJson(i);
  PrintIncident(*s, i);
  const json::object& o = i.get_object();
  if (auto* ctx = o.if_contains("context"); ctx && ctx->is_object()) {
    const json::object& c = ctx->get_object();
    std::string services;
    if (auto* sv = c.if_contains("services"); sv && sv->is_array()) {
      for (const auto& x : sv->get_array()) {
        services += (services.empty() ? "" : ", ") + FieldText(x, "type") + "/" + FieldText(x, "name");
      }
    }
    std::string dependents;
    if (auto* d = c.if_contains("dependents"); d && d->is_object()) dependents = FieldText(*d, "total");
    PrintFields(s->out(), {{"LOCATION", FieldText(*ctx, "location_path")},
                           {"SERVICES", services},
                           {"DEPENDENTS", dependents}});
  }
  s->out() << "\nALERTS\n";
  if (auto* alerts = o.if_contains("alert_list"); alerts && alerts->is_array()) {
    MakeTable(alerts->get_array(), {FieldColumn("STATUS", "status"), FieldColumn("ALERT", "alertname"),
                                    FieldColumn("CI", "ci"), FieldColumn("MATCHED BY", "matched_by"),
                                    FieldColumn("STARTS", "starts_at"), FieldColumn("FINGERPRINT", "fingerprint")})
        .Print(s->out());
  }
  s->out() << "\nTIMELINE\n";
  if (auto* t = o.if_contains("timeline"); t && t->is_array()) {
    MakeTable(t->get_array(), {FieldColumn("AT", "at"), FieldColumn("ACTOR", "actor"),
                               FieldColumn("KIND", "kind"), FieldColumn("TEXT", "text")})
        .Print(s->out());
  }
}

struct ChangeArgs {
  int64_t id = 0;
  std::string assignee, note, text;
};

void IncidentPost(const GlobalFlags& flags, int64_t id, const std::string& verb, json::object body,
                  const std::string& done, const Io& io) {
  auto s = Session::Open(flags, io);
  auto i = s->Check(s->api().Post(IncidentPath(id) + "/" + verb, body));
  if (s->json()) return s->PrintJson(i);
  s->out() << "Incident " << id << " " << done << " (state " << FieldText(i, "state") << ")\n";
}

struct ConfigArgs {
  std::string token_file = "/etc/prometheus/gantry.token";
  std::string alertmanager = "127.0.0.1:9093";
  std::string rules = "/etc/prometheus/rules/gantry-gpu-node.yml";
  std::string scrape_interval = "30s";
  std::string bmc_exporter;
};

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  return out + "\"";
}

void PrometheusConfig(const GlobalFlags& flags, const ConfigArgs& a, const Io& io) {
  auto s = Session::Open(flags, io, Session::Options{.anonymous = true});
  std::string base = s->connection().server;
  while (!base.empty() && base.back() == '/') base.pop_back();
  auto sd = [&](const char* kind) {
    return "    http_sd_configs:\n"
           "      - url: " + Quote(base + "/api/v1/monitoring/targets?kind=" + kind) + "\n"
           "        refresh_interval: 60s\n"
           "        authorization:\n"
           "          type: Bearer\n"
           "          credentials_file: " + Quote(a.token_file) + "\n";
  };
  std::ostream& out = s->out();
  out << "# Prometheus configuration for Gantry (gantry monitor prometheus-config).\n"
         "# Targets come from Gantry's CMDB through HTTP service discovery, with labels gantry_ci,\n"
         "# node, site, room, row, rack, location, role, gpu_model, tenant and slurm_partition.\n"
         "# The credentials file holds a Gantry API token of a viewer or operator user.\n"
         "global:\n"
         "  scrape_interval: " << a.scrape_interval << "\n"
         "  evaluation_interval: " << a.scrape_interval << "\n"
         "rule_files:\n"
         "  - " << Quote(a.rules) << "\n"
         "alerting:\n"
         "  alertmanagers:\n"
         "    - api_version: v2\n"
         "      static_configs:\n"
         "        - targets: [" << Quote(a.alertmanager) << "]\n"
         "scrape_configs:\n"
         "  - job_name: gantry-agent\n" << sd("agent");
  if (!a.bmc_exporter.empty()) {
    out << "  - job_name: gantry-bmc\n"
           "    metrics_path: /redfish\n" << sd("bmc") <<
           "    relabel_configs:\n"
           "      - source_labels: [__address__]\n"
           "        target_label: __param_target\n"
           "      - source_labels: [__param_target]\n"
           "        target_label: instance\n"
           "      - target_label: __address__\n"
           "        replacement: " << Quote(a.bmc_exporter) << "\n";
  }
}

void AlertmanagerConfig(const GlobalFlags& flags, const ConfigArgs& a, const Io& io) {
  auto s = Session::Open(flags, io, Session::Options{.anonymous = true});
  std::string base = s->connection().server;
  while (!base.empty() && base.back() == '/') base.pop_back();
  s->out() << "# Alertmanager configuration that sends every alert to Gantry's webhook receiver\n"
              "# (gantry monitor alertmanager-config). The credentials file holds a Gantry API token\n"
              "# of an operator user. Gantry groups alerts into incidents by CMDB common cause.\n"
              "route:\n"
              "  receiver: gantry\n"
              "  group_by: [alertname]\n"
              "  group_wait: 30s\n"
              "  group_interval: 5m\n"
              "  repeat_interval: 4h\n"
              "receivers:\n"
              "  - name: gantry\n"
              "    webhook_configs:\n"
              "      - url: " << Quote(base + "/api/v1/monitoring/alertmanager") << "\n"
              "        send_resolved: true\n"
              "        http_config:\n"
              "          authorization:\n"
              "            type: Bearer\n"
              "            credentials_file: " << Quote(a.token_file) << "\n";
}

void Targets(const GlobalFlags& flags, const std::string& kind, const Io& io) {
  auto s = Session::Open(flags, io);
  auto t = s->Check(s->api().Get("/api/v1/monitoring/targets", {{"kind", kind}}));
  s->PrintJson(t);
}

void Status(const GlobalFlags& flags, const Io& io) {
  auto s = Session::Open(flags, io);
  auto st = s->Check(s->api().Get("/api/v1/monitoring/status"));
  if (s->json()) return s->PrintJson(st);
  PrintFields(s->out(), {{"PROMETHEUS", FieldText(st, "prometheus")}, {"ALERTMANAGER", FieldText(st, "alertmanager")}});
}

struct SilenceArgs {
  std::string ci, comment;
  int minutes = 60;
  int64_t id = 0;
  bool all = false;
};

void SilenceCreate(const GlobalFlags& flags, const SilenceArgs& a, const Io& io) {
  auto s = Session::Open(flags, io);
  json::object body{{"ci", a.ci}, {"minutes", a.minutes}};
  if (!a.comment.empty()) body["comment"] = a.comment;
  auto r = s->Check(s->api().Post("/api/v1/monitoring/silences", body));
  if (s->json()) return s->PrintJson(r);
  size_t covered = 0;
  if (auto* c = r.get_object().if_contains("covered"); c && c->is_array()) covered = c->get_array().size();
  s->out() << "Silence " << FieldText(r, "id") << ": " << Sanitize(a.ci) << " and what depends on it ("
           << covered << " CIs) silenced until " << FieldText(r, "ends_at") << "\n";
}

void SilenceList(const GlobalFlags& flags, bool all, const Io& io) {
  auto s = Session::Open(flags, io);
  Query q;
  if (all) q.emplace_back("all", "true");
  auto list = s->Check(s->api().Get("/api/v1/monitoring/silences", q));
  if (s->json()) return s->PrintJson(list);
  const auto* items = list.is_object() ? list.get_object().if_contains("items") : nullptr;
  if (!items || !items->is_array()) s->Fail(core::Unavailable("unexpected answer from the server"));
  MakeTable(items->get_array(), {FieldColumn("ID", "id"), FieldColumn("CI", "ci"), FieldColumn("BY", "created_by"),
                                 FieldColumn("ENDS", "ends_at"), FieldColumn("REMOVED", "removed_at"),
                                 FieldColumn("COMMENT", "comment")})
      .Print(s->out());
}

void SilenceRemove(const GlobalFlags& flags, int64_t id, const Io& io) {
  auto s = Session::Open(flags, io);
  auto r = s->Check(s->api().Delete("/api/v1/monitoring/silences/" + std::to_string(id)));
  if (s->json()) return s->PrintJson(r);
  s->out() << "Silence " << id << " removed\n";
}

void MetricsQuery(const GlobalFlags& flags, const std::string& promql, const std::string& time, const Io& io) {
  auto s = Session::Open(flags, io);
  Query q{{"query", promql}};
  if (!time.empty()) q.emplace_back("time", time);
  auto r = s->Check(s->api().Get("/api/v1/metrics/query", q));
  s->PrintJson(r);
}

CLI::App* AddIdCommand(CLI::App* parent, const char* name, const char* help,
                       std::shared_ptr<GlobalFlags> flags, std::shared_ptr<ChangeArgs> a) {
  auto* cmd = parent->add_subcommand(name, help);
  cmd->add_option("ID", a->id, "Incident id")->required()->check(CLI::PositiveNumber);
  AddGlobalFlags(cmd, *flags);
  return cmd;
}

}  // namespace

void RegisterMonitoringCommands(CLI::App& app, IoPtr io) {
  auto* incident = app.add_subcommand(
      "incident", "Incidents grouped from Alertmanager alerts, with CMDB context");
  incident->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<ListArgs>();
    auto* cmd = incident->add_subcommand("list", "List incidents, newest first");
    cmd->add_option("--state", a->state, "open, acknowledged or resolved")
        ->check(CLI::IsMember({"open", "acknowledged", "resolved"}));
    cmd->add_option("--limit", a->limit, "At most this many")->check(CLI::Range(1, 1000));
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] { IncidentList(*flags, *a, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<ChangeArgs>();
    auto* cmd = AddIdCommand(incident, "show", "Show an incident: CI, context, alerts, timeline", flags, a);
    cmd->callback([flags, a, io] { IncidentShow(*flags, a->id, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<ChangeArgs>();
    auto* cmd = AddIdCommand(incident, "ack", "Acknowledge an incident (operator)", flags, a);
    cmd->add_option("--assignee", a->assignee, "Who works on it (default: you)");
    cmd->add_option("--note", a->note, "A note for the timeline");
    cmd->callback([flags, a, io] {
      json::object body;
      if (!a->assignee.empty()) body["assignee"] = a->assignee;
      if (!a->note.empty()) body["note"] = a->note;
      IncidentPost(*flags, a->id, "ack", body, "acknowledged", *io);
    });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<ChangeArgs>();
    auto* cmd = AddIdCommand(incident, "resolve", "Resolve an incident (operator)", flags, a);
    cmd->add_option("--note", a->note, "A note for the timeline");
    cmd->callback([flags, a, io] {
      json::object body;
      if (!a->note.empty()) body["note"] = a->note;
      IncidentPost(*flags, a->id, "resolve", body, "resolved", *io);
    });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<ChangeArgs>();
    auto* cmd = AddIdCommand(incident, "assign", "Assign an incident (operator)", flags, a);
    cmd->add_option("USER", a->assignee, "Assignee")->required();
    cmd->callback([flags, a, io] {
      IncidentPost(*flags, a->id, "assign", json::object{{"assignee", a->assignee}}, "assigned", *io);
    });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<ChangeArgs>();
    auto* cmd = AddIdCommand(incident, "note", "Add a note to an incident's timeline (operator)", flags, a);
    cmd->add_option("TEXT", a->text, "The note")->required();
    cmd->callback([flags, a, io] {
      IncidentPost(*flags, a->id, "notes", json::object{{"text", a->text}}, "annotated", *io);
    });
  }

  auto* monitor = app.add_subcommand("monitor", "Prometheus and Alertmanager integration");
  monitor->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto kind = std::make_shared<std::string>("agent");
    auto* cmd = monitor->add_subcommand("targets", "Print the HTTP SD targets Prometheus gets (JSON)");
    cmd->add_option("--kind", *kind, "agent or bmc")->check(CLI::IsMember({"agent", "bmc"}))->capture_default_str();
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, kind, io] { Targets(*flags, *kind, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto* cmd = monitor->add_subcommand("status", "Whether Gantry reaches Prometheus and Alertmanager");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, io] { Status(*flags, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<SilenceArgs>();
    auto* cmd = monitor->add_subcommand(
        "silence", "Put a CI into maintenance: silence its alerts and those of everything depending on it (operator)");
    cmd->add_option("CI", a->ci, "CI reference (type/name, name or id)")->required();
    cmd->add_option("--minutes", a->minutes, "How long")->check(CLI::Range(1, 20160))->capture_default_str();
    cmd->add_option("--comment", a->comment, "Why (shown in Alertmanager)");
    AddGlobalFlags(cmd, *flags);
    cmd->footer("Examples:\n  gantry monitor silence switch/leaf-01 --minutes 90 --comment 'firmware 4.2'");
    cmd->callback([flags, a, io] { SilenceCreate(*flags, *a, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<SilenceArgs>();
    auto* cmd = monitor->add_subcommand("silences", "List maintenance silences");
    cmd->add_flag("--all", a->all, "Also ended ones");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] { SilenceList(*flags, a->all, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<SilenceArgs>();
    auto* cmd = monitor->add_subcommand("unsilence", "End a maintenance silence (operator)");
    cmd->add_option("ID", a->id, "Silence id")->required()->check(CLI::PositiveNumber);
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, a, io] { SilenceRemove(*flags, a->id, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto promql = std::make_shared<std::string>();
    auto time = std::make_shared<std::string>();
    auto* cmd = monitor->add_subcommand("query", "Run a PromQL query through Gantry (tenant users see their own series)");
    cmd->add_option("PROMQL", *promql, "The expression")->required();
    cmd->add_option("--time", *time, "Evaluation time (RFC 3339 or Unix seconds)");
    AddGlobalFlags(cmd, *flags);
    cmd->callback([flags, promql, time, io] { MetricsQuery(*flags, *promql, *time, *io); });
  }
  for (bool prometheus : {true, false}) {
    auto flags = std::make_shared<GlobalFlags>();
    auto a = std::make_shared<ConfigArgs>();
    auto* cmd = monitor->add_subcommand(
        prometheus ? "prometheus-config" : "alertmanager-config",
        prometheus ? "Print a Prometheus configuration that discovers targets from Gantry's CMDB"
                   : "Print an Alertmanager configuration that sends alerts to Gantry");
    cmd->add_option("--token-file", a->token_file, "File with the Gantry API token")->capture_default_str();
    if (prometheus) {
      cmd->add_option("--alertmanager", a->alertmanager, "HOST:PORT of Alertmanager")->capture_default_str();
      cmd->add_option("--rules", a->rules, "Gantry's rules file (monitoring/rules/gantry-gpu-node.yml)")
          ->capture_default_str();
      cmd->add_option("--scrape-interval", a->scrape_interval, "Scrape and evaluation interval")
          ->capture_default_str();
      cmd->add_option("--bmc-exporter", a->bmc_exporter,
                      "HOST:PORT of a Redfish exporter: adds a gantry-bmc job for the BMC targets");
      cmd->footer("Examples:\n  gantry monitor prometheus-config --token-file /etc/prometheus/gantry.token "
                  "> /etc/prometheus/prometheus.yml\n  promtool check config /etc/prometheus/prometheus.yml");
    }
    AddGlobalFlags(cmd, *flags, false);
    cmd->callback([flags, a, io, prometheus] {
      prometheus ? PrometheusConfig(*flags, *a, *io) : AlertmanagerConfig(*flags, *a, *io);
    });
  }
}

}  // namespace gantry::app::client
