// gantry login | logout | whoami | token ... | user ...
#include <unistd.h>

#include "app/client/commands.h"
#include "app/client/session.h"
#include "app/commands.h"

namespace gantry::app {

void RegisterClientCommands(CLI::App& app) {
  client::RegisterCommands(app, std::make_shared<const client::Io>(client::Io::Process()));
}

}  // namespace gantry::app

namespace gantry::app::client {

namespace json = core::json;

namespace {

std::string Hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0') return "unknown";
  return buf;
}

// True for http:// URLs whose host is not this machine: a password would cross the network in
// clear text.
bool IsPlainRemote(const std::string& server) {
  if (!server.starts_with("http://")) return false;
  std::string_view host = std::string_view(server).substr(7);
  for (std::string_view local : {"127.", "localhost", "[::1]"}) {
    if (host.starts_with(local)) return false;
  }
  return true;
}

std::string TenantsText(const json::value& v) {
  std::string out;
  if (!v.is_array()) return out;
  for (const auto& t : v.get_array()) {
    if (!out.empty()) out += ", ";
    out += FieldText(t, "tenant") + " (" + FieldText(t, "role") + ")";
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> UserFields(const json::value& u) {
  return {{"ID", FieldText(u, "id")},
          {"USERNAME", FieldText(u, "username")},
          {"DISPLAY NAME", FieldText(u, "display_name")},
          {"ROLES", FieldText(u, "roles")},
          {"DISABLED", FieldText(u, "disabled")},
          {"CREATED", FieldText(u, "created_at")},
          {"LAST LOGIN", FieldText(u, "last_login_at")}};
}

const std::vector<Column>& UserColumns() {
  static const std::vector<Column> columns = {FieldColumn("ID", "id"),
                                              FieldColumn("USERNAME", "username"),
                                              FieldColumn("DISPLAY NAME", "display_name"),
                                              FieldColumn("ROLES", "roles"),
                                              FieldColumn("DISABLED", "disabled"),
                                              FieldColumn("CREATED", "created_at"),
                                              FieldColumn("LAST LOGIN", "last_login_at")};
  return columns;
}

const json::array& Items(const Session& s, const json::value& list) {
  static const json::array kEmpty;
  const auto* items = list.is_object() ? list.get_object().if_contains("items") : nullptr;
  if (!items || !items->is_array()) {
    s.Fail(
        core::Unavailable("unexpected answer from " + s.connection().server + ": no 'items' list"));
  }
  return items ? items->get_array() : kEmpty;
}

// Revokes the config file's token on the config file's server (whatever --server or
// GANTRY_SERVER say: the token belongs there), authenticating with that token itself.
core::Status RevokeSavedToken(const GlobalFlags& flags, const ConfigFile& config) {
  ClientOptions options;
  options.server = config.server.empty() ? std::string(kDefaultServer) : config.server;
  options.token = config.token;
  options.ca_file = flags.ca_file.empty() ? config.ca_file : flags.ca_file;
  options.insecure = flags.insecure;
  options.timeout = std::chrono::seconds(flags.timeout_s);
  options.connect_timeout =
      std::min<std::chrono::milliseconds>(options.connect_timeout, options.timeout);
  GANTRY_TRY(auto api, ApiClient::Make(std::move(options)));
  GANTRY_TRY_STATUS(api.Delete("/api/v1/tokens/" + std::to_string(config.token_id.value_or(0))));
  return {};
}

// ---- login / logout / whoami ----------------------------------------------------------------

struct LoginArgs {
  std::string username;
  bool password_stdin = false;
};

void Login(const GlobalFlags& flags, const LoginArgs& args, const Io& io) {
  auto s = Session::Open(flags, io, {.anonymous = true});
  if (s->config_path().empty()) {
    s->Fail(core::InvalidArgument("cannot locate the config file: set HOME or GANTRY_CONFIG"));
  }
  std::string username = args.username;
  if (username.empty()) {
    if (args.password_stdin) {
      app::Fail(kExitUsage, "--password-stdin needs --username (stdin carries the password)");
    }
    *io.err << "Username: " << std::flush;
    username = ReadLine(io).value_or("");
    if (username.empty()) app::Fail(kExitUsage, "no username given");
  }
  std::optional<std::string> password;
  if (args.password_stdin) {
    password = ReadLine(io);
  } else if (!io.stdin_tty) {
    app::Fail(kExitUsage,
              "cannot prompt for a password: stdin is not a terminal; use --password-stdin");
  } else {
    password = ReadSecret(io, "Password: ");
  }
  if (!password || password->empty()) app::Fail(kExitUsage, "no password given");
  if (IsPlainRemote(s->connection().server)) {
    s->err() << "warning: " << s->connection().server
             << " is plain http: the password and the token cross the network unencrypted\n";
  }

  json::object body{{"username", username},
                    {"password", *password},
                    {"issue_token", true},
                    {"token_name", "cli@" + Hostname()}};
  auto answer = s->Check(s->api().Post("/api/v1/auth/login", body));
  std::string token = FieldText(answer, "token");
  if (token.empty()) {
    s->Fail(core::Unavailable("the server did not issue a token; is it a Gantry server?"));
  }
  const json::value* id = answer.get_object().if_contains("token_id");

  // Logging in again to the same server replaces the saved token: revoke the old one (best
  // effort; it may have expired or been revoked already).
  ConfigFile config = s->config();
  auto old_server = NormalizeServerUrl(config.server);
  if (!config.token.empty() && config.token_id && config.token != token && old_server &&
      *old_server == s->connection().server) {
    (void)RevokeSavedToken(flags, config);
  }
  config.server = s->connection().server;
  if (const json::value* user = answer.get_object().if_contains("user")) {
    config.username = FieldText(*user, "username");
  }
  if (config.username.empty()) config.username = username;
  config.token = token;
  config.token_id = id && id->is_int64() ? std::optional<int64_t>(id->get_int64()) : std::nullopt;
  config.ca_file.clear();
  if (!s->connection().ca_file.empty()) {
    std::error_code ec;
    auto ca = std::filesystem::absolute(s->connection().ca_file, ec);
    config.ca_file = ec ? s->connection().ca_file : ca.lexically_normal().string();
  }
  s->Check(SaveConfig(s->config_path(), config));

  s->out() << "Logged in to " << config.server << " as " << config.username << "; token saved to "
           << s->config_path().string() << "\n";
  if (io.env("GANTRY_TOKEN").value_or("") != "") {
    s->err() << "note: GANTRY_TOKEN is set and takes precedence over the saved token\n";
  }
}

void Logout(const GlobalFlags& flags, bool local_only, const Io& io) {
  auto path = ConfigPath(io.env);
  if (!path) FailWith(path.error());
  auto loaded = LoadConfig(*path);
  if (!loaded) FailWith(loaded.error());
  ConfigFile config = std::move(*loaded);
  if (config.token.empty()) {
    *io.out << "Not logged in (no token in " << path->string() << ")\n";
    return;
  }

  std::string outcome;
  if (local_only) {
    outcome = "token removed from " + path->string() + " (not revoked on the server)";
  } else if (!config.token_id) {
    outcome =
        "token removed from " + path->string() +
        "; it was not revoked (the file has no token_id): revoke it with 'gantry token revoke'";
  } else {
    auto r = RevokeSavedToken(flags, config);
    if (!r && r.error().code != core::Code::kUnauthenticated &&
        r.error().code != core::Code::kNotFound) {
      app::Fail(ExitCodeFor(r.error().code),
                "cannot revoke the token: " + r.error().message + "; it is still saved in " +
                    path->string() + " (use 'gantry logout --local' to only forget it)");
    }
    outcome = r ? "token revoked and removed from " + path->string()
                : "token was no longer valid; removed from " + path->string();
  }
  std::string server = config.server;
  config.token.clear();
  config.token_id.reset();
  config.username.clear();
  auto saved = SaveConfig(*path, config);
  if (!saved) FailWith(saved.error());
  *io.out << "Logged out of " << server << "; " << outcome << "\n";
}

void WhoAmI(const GlobalFlags& flags, const Io& io) {
  auto s = Session::Open(flags, io);
  auto me = s->Check(s->api().Get("/api/v1/whoami"));
  if (s->json()) return s->PrintJson(me);
  PrintFields(s->out(), {{"SERVER", s->connection().server},
                         {"ID", FieldText(me, "id")},
                         {"USERNAME", FieldText(me, "username")},
                         {"DISPLAY NAME", FieldText(me, "display_name")},
                         {"ROLES", FieldText(me, "roles")},
                         {"TENANTS", me.is_object() && me.get_object().contains("tenants")
                                         ? TenantsText(me.get_object().at("tenants"))
                                         : ""},
                         {"AUTH", FieldText(me, "auth")}});
}

// ---- tokens ----------------------------------------------------------------------------------

struct TokenCreateArgs {
  std::string name;
  int expires_in_days = 0;
  std::string user;
};

void TokenCreate(const GlobalFlags& flags, const TokenCreateArgs& args, const Io& io) {
  auto s = Session::Open(flags, io);
  json::object body{{"name", args.name}};
  if (args.expires_in_days > 0) body["expires_in_days"] = args.expires_in_days;
  if (!args.user.empty()) body["user"] = args.user;
  auto t = s->Check(s->api().Post("/api/v1/tokens", body));
  s->err() << "Save the token now: it is shown only once and cannot be read again.\n";
  if (s->json()) return s->PrintJson(t);
  PrintFields(s->out(), {{"ID", FieldText(t, "id")},
                         {"NAME", FieldText(t, "name")},
                         {"USER", FieldText(t, "user")},
                         {"EXPIRES", FieldText(t, "expires_at")},
                         {"TOKEN", FieldText(t, "token")}});
}

void TokenList(const GlobalFlags& flags, const std::string& user, bool all, const Io& io) {
  auto s = Session::Open(flags, io);
  Query q;
  if (!user.empty()) q.emplace_back("user", user);
  if (all) q.emplace_back("all", "true");
  auto list = s->Check(s->api().Get("/api/v1/tokens", q));
  if (s->json()) return s->PrintJson(list);
  MakeTable(Items(*s, list),
            {FieldColumn("ID", "id"), FieldColumn("NAME", "name"), FieldColumn("USER", "user"),
             FieldColumn("CREATED", "created_at"), FieldColumn("EXPIRES", "expires_at"),
             FieldColumn("LAST USED", "last_used_at"), FieldColumn("REVOKED", "revoked")})
      .Print(s->out());
}

void TokenRevoke(const GlobalFlags& flags, int64_t id, const Io& io) {
  auto s = Session::Open(flags, io);
  s->Check(s->api().Delete("/api/v1/tokens/" + std::to_string(id)));
  if (!s->json()) s->out() << "Token " << id << " revoked\n";
}

// ---- users -----------------------------------------------------------------------------------

struct UserCreateArgs {
  std::string username;
  std::vector<std::string> roles;
  std::string display_name;
  bool password_stdin = false;
};

void UserCreate(const GlobalFlags& flags, const UserCreateArgs& args, const Io& io) {
  auto s = Session::Open(flags, io);
  json::object body{{"username", args.username}};
  if (!args.display_name.empty()) body["display_name"] = args.display_name;
  if (!args.roles.empty()) {
    json::array roles;
    for (const auto& r : args.roles) roles.push_back(json::string(r));
    body["roles"] = std::move(roles);
  }
  if (args.password_stdin) {
    auto password = ReadLine(io);
    if (!password || password->empty()) app::Fail(kExitUsage, "no password on stdin");
    body["password"] = *password;
  }
  auto u = s->Check(s->api().Post("/api/v1/users", body));
  std::string generated = FieldText(u, "generated_password");
  if (!generated.empty()) {
    s->err() << "The generated password is shown only once; hand it to the user over a safe "
                "channel.\n";
  }
  if (s->json()) return s->PrintJson(u);
  auto fields = UserFields(u);
  if (!generated.empty()) fields.emplace_back("PASSWORD", generated);
  PrintFields(s->out(), fields);
}

void UserList(const GlobalFlags& flags, const Io& io) {
  auto s = Session::Open(flags, io);
  auto list = s->Check(s->api().GetAll("/api/v1/users", {}));
  if (s->json()) return s->PrintJson(list);
  MakeTable(Items(*s, list), UserColumns()).Print(s->out());
}

void UserShow(const GlobalFlags& flags, const std::string& who, const Io& io) {
  auto s = Session::Open(flags, io);
  auto u = s->Check(s->api().Get("/api/v1/users/" + PathSegment(who)));
  if (s->json()) return s->PrintJson(u);
  PrintFields(s->out(), UserFields(u));
}

void UserSetDisabled(const GlobalFlags& flags, const std::string& who, bool disable, const Io& io) {
  auto s = Session::Open(flags, io);
  auto u = s->Check(s->api().Post(
      "/api/v1/users/" + PathSegment(who) + (disable ? "/disable" : "/enable"), json::object()));
  if (s->json()) return s->PrintJson(u);
  std::string name = FieldText(u, "username");
  if (name.empty()) name = who;
  if (disable) {
    s->out() << "User " << name << " disabled; their sessions and tokens were revoked\n";
  } else {
    s->out() << "User " << name << " enabled\n";
  }
}

}  // namespace

void RegisterCommands(CLI::App& app, IoPtr io) {
  RegisterAuthCommands(app, io);
  RegisterTokenCommands(app, io);
  RegisterUserCommands(app, io);
  RegisterJobCommands(app, io);
  RegisterAuditCommands(app, io);
  RegisterTenancyCommands(app, io);
  RegisterCmdbCommands(app, io);
  RegisterHardwareCommands(app, io);
  RegisterMeteringCommands(app, io);
  RegisterMonitoringCommands(app, io);
}

void RegisterAuthCommands(CLI::App& app, IoPtr io) {
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto args = std::make_shared<LoginArgs>();
    auto* cmd = app.add_subcommand(
        "login", "Log in with a password and save an API token for the server in the config file");
    cmd->add_option("-u,--username", args->username, "User name (prompted for when omitted)");
    cmd->add_flag("--password-stdin", args->password_stdin,
                  "Read the password from the first line of stdin instead of prompting");
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n"
        "  gantry login --server https://gantry.example.com\n"
        "  echo \"$PASSWORD\" | gantry login -u alice --password-stdin\n\n"
        "The server issues an API token named cli@<hostname>, valid for 30 days. It is saved\n"
        "in $GANTRY_CONFIG, else $XDG_CONFIG_HOME/gantry/config.yaml, else\n"
        "~/.config/gantry/config.yaml (mode 0600).");
    cmd->callback([flags, args, io] { Login(*flags, *args, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto local_only = std::make_shared<bool>(false);
    auto* cmd = app.add_subcommand(
        "logout", "Revoke the saved API token on its server and remove it from the config file");
    cmd->add_flag("--local", *local_only,
                  "Only remove the token from the config file (the server is unreachable)");
    AddGlobalFlags(cmd, *flags);
    cmd->footer("Examples:\n  gantry logout\n  gantry logout --local");
    cmd->callback([flags, local_only, io] { Logout(*flags, *local_only, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto* cmd =
        app.add_subcommand("whoami", "Show the account and roles the server sees for your token");
    AddGlobalFlags(cmd, *flags);
    cmd->footer("Examples:\n  gantry whoami\n  gantry whoami -o json");
    cmd->callback([flags, io] { WhoAmI(*flags, *io); });
  }
}

void RegisterTokenCommands(CLI::App& app, IoPtr io) {
  auto* token = app.add_subcommand("token", "Manage API tokens");
  token->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto args = std::make_shared<TokenCreateArgs>();
    auto* cmd = token->add_subcommand("create",
                                      "Create an API token and print its secret (shown only once)");
    cmd->add_option("NAME", args->name, "A name to recognise the token by, e.g. 'ci'")->required();
    cmd->add_option("--expires-in-days", args->expires_in_days,
                    "Days until the token expires (1-3650; default: never)")
        ->check(CLI::Range(1, 3650));
    cmd->add_option("--user", args->user, "Create the token for another user (admin only)");
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n"
        "  gantry token create ci --expires-in-days 90\n"
        "  gantry token create backup --user svc-backup -o json | jq -r .token");
    cmd->callback([flags, args, io] { TokenCreate(*flags, *args, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto user = std::make_shared<std::string>();
    auto all = std::make_shared<bool>(false);
    auto* cmd = token->add_subcommand("list", "List your API tokens (admins: any user's, or all)");
    auto* user_opt = cmd->add_option("--user", *user, "List the tokens of this user (admin only)");
    cmd->add_flag("--all", *all, "List every user's tokens (admin only)")->excludes(user_opt);
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n  gantry token list\n  gantry token list --user bob\n  gantry token list "
        "--all");
    cmd->callback([flags, user, all, io] { TokenList(*flags, *user, *all, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto id = std::make_shared<int64_t>(0);
    auto* cmd = token->add_subcommand("revoke", "Revoke an API token; it stops working at once");
    cmd->add_option("ID", *id, "Token id (see 'gantry token list')")
        ->required()
        ->check(CLI::PositiveNumber);
    AddGlobalFlags(cmd, *flags);
    cmd->footer("Examples:\n  gantry token revoke 7");
    cmd->callback([flags, id, io] { TokenRevoke(*flags, *id, *io); });
  }
}

void RegisterUserCommands(CLI::App& app, IoPtr io) {
  auto* user = app.add_subcommand("user", "Manage user accounts (admin)");
  user->require_subcommand(1);
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto args = std::make_shared<UserCreateArgs>();
    auto* cmd = user->add_subcommand(
        "create", "Create a user; without --password-stdin the server generates a password");
    cmd->add_option("USERNAME", args->username, "Login name: a-z, 0-9, '.', '-', '_', '@'")
        ->required();
    cmd->add_option("-r,--role", args->roles,
                    "Role, repeatable: admin, operator, auditor, tenant-admin, tenant-member, "
                    "viewer (default viewer)");
    cmd->add_option("--display-name", args->display_name, "Full name shown in the portal");
    cmd->add_flag("--password-stdin", args->password_stdin,
                  "Read the password from the first line of stdin");
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n"
        "  gantry user create bob --role operator --display-name \"Bob Smith\"\n"
        "  printf '%s\\n' \"$PW\" | gantry user create ci-bot --role viewer --password-stdin");
    cmd->callback([flags, args, io] { UserCreate(*flags, *args, *io); });
  }
  {
    auto flags = std::make_shared<GlobalFlags>();
    auto* cmd = user->add_subcommand("list", "List all users");
    AddGlobalFlags(cmd, *flags);
    cmd->footer(
        "Examples:\n  gantry user list\n  gantry user list -o json | jq -r '.items[].username'");
    cmd->callback([flags, io] { UserList(*flags, *io); });
  }
  using Action = void (*)(const GlobalFlags&, const std::string& who, const Io&);
  struct Verb {
    const char* name;
    const char* help;
    Action action;
  };
  const Verb verbs[] = {{"show", "Show one user", &UserShow},
                        {"disable", "Disable a user and revoke their sessions and tokens",
                         [](const GlobalFlags& f, const std::string& who, const Io& io) {
                           UserSetDisabled(f, who, true, io);
                         }},
                        {"enable", "Enable a disabled user",
                         [](const GlobalFlags& f, const std::string& who, const Io& io) {
                           UserSetDisabled(f, who, false, io);
                         }}};
  for (const Verb& v : verbs) {
    auto flags = std::make_shared<GlobalFlags>();
    auto who = std::make_shared<std::string>();
    auto* cmd = user->add_subcommand(v.name, v.help);
    cmd->add_option("USER", *who, "User id or username")->required();
    AddGlobalFlags(cmd, *flags);
    cmd->footer(std::string("Examples:\n  gantry user ") + v.name + " bob\n  gantry user " +
                v.name + " 12");
    cmd->callback([flags, who, action = v.action, io] { action(*flags, *who, *io); });
  }
}

}  // namespace gantry::app::client
