// gantry admin: offline administration directly on the database.
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <iostream>

#include "app/commands.h"
#include "app/platform.h"
#include "core/crypto.h"
#include "store/migrate.h"

namespace gantry::app {

namespace {

struct AdminFlags {
  std::string db = "sqlite:gantry.db";
  std::string data_dir = "data";
};

void AddDbFlags(CLI::App* cmd, AdminFlags& f) {
  cmd->add_option("--db", f.db, "Database: sqlite:PATH or postgres://USER@HOST:PORT/DB")
      ->envname("GANTRY_DB")->capture_default_str();
  cmd->add_option("--data-dir", f.data_dir, "Directory holding the audit signing key")
      ->envname("GANTRY_DATA_DIR")->capture_default_str();
}

std::unique_ptr<Platform> OpenOrFail(const AdminFlags& f, bool create_key, bool require_key,
                                     bool migrate = true) {
  PlatformOptions po;
  po.db_url = f.db;
  po.data_dir = f.data_dir;
  po.create_key = create_key;
  po.require_key = require_key;
  po.migrate = migrate;
  po.pool_size = 4;
  auto p = Platform::Open(po);
  if (!p) {
    Fail(p.error().code == core::Code::kInvalidArgument ? kExitUsage : kExitUnavailable,
         p.error().message);
  }
  return std::move(*p);
}

std::string ReadPasswordStdin() {
  std::string line;
  std::getline(std::cin, line);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

void FailOn(const core::Error& e) {
  int code = kExitError;
  switch (e.code) {
    case core::Code::kInvalidArgument: code = kExitInvalid; break;
    case core::Code::kNotFound: code = kExitNotFound; break;
    case core::Code::kConflict:
    case core::Code::kFailedPrecondition: code = kExitConflict; break;
    case core::Code::kUnavailable: code = kExitUnavailable; break;
    default: break;
  }
  Fail(code, e.message);
}

}  // namespace

void RegisterAdmin(CLI::App& app) {
  auto* admin = app.add_subcommand("admin", "Offline administration on the database");
  admin->require_subcommand(1);

  // init
  {
    auto f = std::make_shared<AdminFlags>();
    auto username = std::make_shared<std::string>("admin");
    auto password_stdin = std::make_shared<bool>(false);
    auto with_token = std::make_shared<bool>(false);
    auto* cmd = admin->add_subcommand(
        "init", "Create the schema, the audit signing key and the first admin account");
    AddDbFlags(cmd, *f);
    cmd->add_option("--admin-username", *username, "Name of the first admin")->capture_default_str();
    cmd->add_flag("--password-stdin", *password_stdin, "Read the admin password from stdin instead of generating one");
    cmd->add_flag("--token", *with_token, "Also create an API token for the admin and print it");
    cmd->footer("The generated password (and token) are printed once; store them safely.\n"
                "Example: gantry admin init --db sqlite:gantry.db --data-dir data");
    cmd->callback([f, username, password_stdin, with_token] {
      std::error_code ec;
      std::filesystem::create_directories(f->data_dir, ec);
      ::chmod(f->data_dir.c_str(), 0700);
      auto p = OpenOrFail(*f, true, true);
      if (auto st = p->audit().PublishPublicKey(); !st) FailOn(st.error());
      std::optional<std::string> pw;
      if (*password_stdin) pw = ReadPasswordStdin();
      auto created = p->auth().Bootstrap(*username, pw);
      if (!created) FailOn(created.error());
      std::cout << "Gantry initialised: schema version " << store::LatestVersion() << ", audit key "
                << p->key()->key_id << " in " << SigningKeyPath(f->data_dir) << "\n";
      std::cout << "Admin user: " << created->user.username << "\n";
      if (created->generated_password) {
        std::cout << "Admin password (shown once): " << *created->generated_password << "\n";
      }
      if (*with_token) {
        core::RequestContext rc = core::RequestContext::System("gantry-admin-init");
        rc.principal.user_id = created->user.id;
        rc.principal.username = created->user.username;
        auto tok = p->auth().CreateToken(rc, "admin-init", std::nullopt);
        if (!tok) FailOn(tok.error());
        std::cout << "Admin API token (shown once): " << tok->secret << "\n";
      }
      (void)p->audit().Checkpoint();
    });
  }

  // migrate
  {
    auto f = std::make_shared<AdminFlags>();
    auto* cmd = admin->add_subcommand("migrate", "Apply pending schema migrations");
    AddDbFlags(cmd, *f);
    cmd->callback([f] {
      auto db = store::Open(f->db);
      if (!db) FailOn(db.error());
      auto applied = store::Migrate(**db);
      if (!applied) FailOn(applied.error());
      std::cout << (applied->empty() ? "schema is up to date" : "applied migrations:");
      for (int v : *applied) std::cout << " " << v;
      std::cout << " (version " << store::LatestVersion() << ")\n";
    });
  }

  // user create
  {
    auto* user = admin->add_subcommand("user", "Manage users offline");
    user->require_subcommand(1);
    auto f = std::make_shared<AdminFlags>();
    auto name = std::make_shared<std::string>();
    auto roles = std::make_shared<std::vector<std::string>>();
    auto password_stdin = std::make_shared<bool>(false);
    auto* cmd = user->add_subcommand("create", "Create a user (prints a generated password)");
    AddDbFlags(cmd, *f);
    cmd->add_option("username", *name, "User name")->required();
    cmd->add_option("--role", *roles, "Role (repeatable): admin, operator, auditor, viewer, tenant-admin, tenant-member (default)");
    cmd->add_flag("--password-stdin", *password_stdin, "Read the password from stdin");
    cmd->callback([f, name, roles, password_stdin] {
      auto p = OpenOrFail(*f, false, false);
      auth::NewUser u;
      u.username = *name;
      for (const auto& r : *roles) {
        auto role = core::ParseRole(r);
        if (!role) Fail(kExitInvalid, "unknown role '" + r + "'");
        u.roles.push_back(*role);
      }
      if (u.roles.empty()) u.roles = {core::Role::kTenantMember};
      if (*password_stdin) u.password = ReadPasswordStdin();
      auto created = p->auth().CreateUser(core::RequestContext::System("gantry-admin"), u);
      if (!created) FailOn(created.error());
      std::cout << "created user " << created->user.username << " (id " << created->user.id << ")\n";
      if (created->generated_password) std::cout << "password (shown once): " << *created->generated_password << "\n";
    });
  }

  // token create
  {
    auto* token = admin->add_subcommand("token", "Manage API tokens offline");
    token->require_subcommand(1);
    auto f = std::make_shared<AdminFlags>();
    auto name = std::make_shared<std::string>();
    auto username = std::make_shared<std::string>();
    auto days = std::make_shared<int64_t>(0);
    auto* cmd = token->add_subcommand("create", "Create an API token for a user and print it once");
    AddDbFlags(cmd, *f);
    cmd->add_option("name", *name, "Token name")->required();
    cmd->add_option("--user", *username, "Owner of the token")->required();
    cmd->add_option("--expires-in-days", *days, "Days until the token expires (0: never)");
    cmd->callback([f, name, username, days] {
      auto p = OpenOrFail(*f, false, false);
      auto u = p->auth().GetUser(core::RequestContext::System(), *username);
      if (!u) FailOn(u.error());
      core::RequestContext rc = core::RequestContext::System("gantry-admin");
      auto tok = p->auth().CreateToken(rc, *name, *days > 0 ? std::optional<int64_t>(*days) : std::nullopt,
                                       *username);
      if (!tok) FailOn(tok.error());
      std::cout << tok->secret << "\n";
    });
  }

  // audit verify
  {
    auto* audit = admin->add_subcommand("audit", "Audit trail maintenance");
    audit->require_subcommand(1);
    auto f = std::make_shared<AdminFlags>();
    auto pubkey = std::make_shared<std::string>();
    auto quiet = std::make_shared<bool>(false);
    auto* cmd = audit->add_subcommand(
        "verify", "Re-compute the audit hash chain offline and check the signed checkpoints");
    AddDbFlags(cmd, *f);
    cmd->add_option("--public-key", *pubkey, "Hex Ed25519 public key to check checkpoints with "
                                            "(default: derived from the key in --data-dir)");
    cmd->add_flag("-q,--quiet", *quiet, "Print only failures");
    cmd->footer("Exit status 0: the chain is intact; 8: tampering found (the first bad event is named).");
    cmd->callback([f, pubkey, quiet] {
      auto p = OpenOrFail(*f, false, false, false);
      std::optional<std::string> key;
      if (!pubkey->empty()) {
        auto k = core::HexDecode(*pubkey);
        if (!k || k->size() != 32) Fail(kExitUsage, "--public-key must be 64 hex characters");
        key = *k;
      } else if (p->key()) {
        key = p->key()->public_key;
      } else if (!*quiet) {
        std::cerr << "gantry: warning: no signing key in '" << f->data_dir
                  << "'; checking checkpoints with the public key stored in the database\n";
      }
      auto start = std::chrono::steady_clock::now();
      auto rep = p->audit().Verify(key);
      if (!rep) FailOn(rep.error());
      double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      if (!rep->ok) {
        std::cerr << "gantry: audit chain BROKEN at event " << *rep->first_bad_seq << ": " << rep->problem << "\n";
        throw CLI::RuntimeError(kExitVerifyFailed);
      }
      if (!*quiet) {
        std::cout << "audit chain OK: " << rep->events << " events, " << rep->checkpoints
                  << " signed checkpoints verified, " << rep->bytes_hashed << " bytes hashed in "
                  << secs << " s\n";
      }
    });
  }

  // backup
  {
    auto f = std::make_shared<AdminFlags>();
    auto out = std::make_shared<std::string>();
    auto* cmd = admin->add_subcommand(
        "backup", "Write a consistent copy of a SQLite database while Gantry runs");
    AddDbFlags(cmd, *f);
    cmd->add_option("--out", *out, "Destination file (must not exist)")->required();
    cmd->footer("PostgreSQL: use pg_dump / pg_basebackup (see docs/operations.md).");
    cmd->callback([f, out] {
      if (!f->db.starts_with("sqlite:")) {
        Fail(kExitUsage, "backup copies SQLite databases; for PostgreSQL use pg_dump (docs/operations.md)");
      }
      if (std::filesystem::exists(*out)) Fail(kExitConflict, "'" + *out + "' already exists");
      // SQLite's online backup API: a consistent snapshot even while writers are active.
      std::string src_path = f->db.substr(7);
      sqlite3* src = nullptr;
      sqlite3* dst = nullptr;
      if (sqlite3_open_v2(src_path.c_str(), &src, SQLITE_OPEN_READONLY, nullptr) != SQLITE_OK ||
          sqlite3_open(out->c_str(), &dst) != SQLITE_OK) {
        std::string msg = sqlite3_errmsg(src ? src : dst);
        sqlite3_close(src);
        sqlite3_close(dst);
        Fail(kExitUnavailable, "cannot open databases for backup: " + msg);
      }
      sqlite3_busy_timeout(src, 5000);
      sqlite3_backup* b = sqlite3_backup_init(dst, "main", src, "main");
      int rc = b ? sqlite3_backup_step(b, -1) : SQLITE_ERROR;
      if (b) sqlite3_backup_finish(b);
      std::string msg = sqlite3_errmsg(dst);
      sqlite3_close(src);
      sqlite3_close(dst);
      if (rc != SQLITE_DONE) Fail(kExitError, "backup failed: " + msg);
      std::cout << "backup written to " << *out << "\n";
    });
  }
}

}  // namespace gantry::app
