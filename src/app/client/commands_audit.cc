// gantry audit search
#include "app/client/commands.h"
#include "app/client/session.h"
#include "app/commands.h"
#include "core/clock.h"

namespace gantry::app::client {

namespace json = core::json;

namespace {

struct SearchArgs {
  std::string actor;
  std::string action;
  std::string target;
  std::string tenant;
  std::string result;
  std::string since;
  std::string until;
  int limit = 0;
  bool all = false;
};

std::string TargetText(const json::object& e) {
  std::string type = FieldText(e, "target_type");
  std::string target = FieldText(e, "target");
  if (type.empty()) return target;
  if (target.empty()) return type;
  return type + ":" + target;
}

void Search(const GlobalFlags& flags, const SearchArgs& args, const Io& io) {
  for (const auto* t : {&args.since, &args.until}) {
    if (t->empty()) continue;
    if (auto parsed = core::ParseRfc3339(*t); !parsed) {
      app::Fail(kExitUsage,
                (t == &args.since ? "--since: " : "--until: ") + parsed.error().message);
    }
  }
  auto s = Session::Open(flags, io);
  Query q;
  auto add = [&q](const char* name, const std::string& v) {
    if (!v.empty()) q.emplace_back(name, v);
  };
  add("actor", args.actor);
  add("action", args.action);
  add("target", args.target);
  add("tenant", args.tenant);
  add("result", args.result);
  add("since", args.since);
  add("until", args.until);
  json::value list;
  if (args.all) {
    list = s->Check(s->api().GetAll("/api/v1/audit/events", q, args.limit > 0 ? args.limit : 1000));
  } else {
    if (args.limit > 0) q.emplace_back("limit", std::to_string(args.limit));
    list = s->Check(s->api().Get("/api/v1/audit/events", q));
  }
  if (s->json()) return s->PrintJson(list);
  const auto* items = list.is_object() ? list.get_object().if_contains("items") : nullptr;
  if (!items || !items->is_array()) {
    s->Fail(core::Unavailable("unexpected answer from " + s->connection().server));
  }
  MakeTable(items->get_array(), {FieldColumn("SEQ", "seq"),
                                 FieldColumn("TIME", "time"),
                                 FieldColumn("ACTOR", "actor"),
                                 FieldColumn("SOURCE", "source_ip"),
                                 FieldColumn("ACTION", "action"),
                                 {"TARGET", &TargetText},
                                 FieldColumn("RESULT", "result")})
      .Print(s->out());
  const auto* next = list.get_object().if_contains("next_cursor");
  if (next && next->is_string()) {
    s->err() << "(more events match: add --all, raise --limit or narrow the search)\n";
  }
}

}  // namespace

void RegisterAuditCommands(CLI::App& app, IoPtr io) {
  auto* audit = app.add_subcommand("audit", "Search the audit trail (admin, auditor)");
  audit->require_subcommand(1);
  auto flags = std::make_shared<GlobalFlags>();
  auto args = std::make_shared<SearchArgs>();
  auto* cmd = audit->add_subcommand("search", "Search audit events, newest first");
  cmd->add_option("--actor", args->actor, "User name that acted, e.g. alice or anonymous");
  cmd->add_option("--action", args->action, "Action, or a prefix ending in '*', e.g. user.*");
  cmd->add_option("--target", args->target, "Target name or id, e.g. bob");
  cmd->add_option("--tenant", args->tenant, "Tenant slug");
  cmd->add_option("--result", args->result, "success, denied or failure")
      ->check(CLI::IsMember({"success", "denied", "failure"}));
  cmd->add_option("--since", args->since, "Only events at or after this RFC 3339 time");
  cmd->add_option("--until", args->until, "Only events before this RFC 3339 time");
  cmd->add_option("--limit", args->limit,
                  "Events to fetch (1-1000, default 100); with --all, the page size")
      ->check(CLI::Range(1, 1000));
  cmd->add_flag("--all", args->all, "Fetch every matching event, following the pages");
  AddGlobalFlags(cmd, *flags);
  cmd->footer(
      "Examples:\n"
      "  gantry audit search --actor alice --since 2026-11-01T00:00:00Z\n"
      "  gantry audit search --action 'auth.*' --result failure --all\n"
      "  gantry audit search --target bob -o json | jq '.items[].details'\n\n"
      "Verify the hash chain with 'gantry admin audit verify' (offline, on the database).");
  cmd->callback([flags, args, io] { Search(*flags, *args, *io); });
}

}  // namespace gantry::app::client
