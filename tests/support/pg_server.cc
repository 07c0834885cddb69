#include "support/pg_server.h"

#include <dirent.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <memory>
#include <mutex>
#include <stdexcept>
#include <thread>

#include "support/process.h"

namespace gantry::testing {

namespace {

constexpr const char* kPgBin = "/usr/lib/postgresql/15/bin";
constexpr const char* kUser = "postgres";
constexpr auto kStartTimeout = std::chrono::seconds(30);
constexpr int kStartAttempts = 5;

std::mutex g_mu;               // guards everything below
PgServer* g_server = nullptr;  // leaked on purpose: stopped by atexit, never destroyed
std::string g_start_error;     // a failed start is not retried by every test
Process* g_postmaster = nullptr;
PGconn* g_admin = nullptr;
pid_t g_owner = 0;
int g_next_db = 0;

std::string FirstLine(const std::string& path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line;
}

// A zombie (dead, not yet reaped by whoever inherited it) counts as dead.
bool Alive(pid_t pid) {
  if (pid <= 0 || (::kill(pid, 0) != 0 && errno != EPERM)) return false;
  std::string stat = FirstLine("/proc/" + std::to_string(pid) + "/stat");
  size_t paren = stat.rfind(')');
  return !(paren != std::string::npos && paren + 2 < stat.size() && stat[paren + 2] == 'Z');
}

// Removes /tmp/pgfix.* directories left by test processes that died without cleaning up
// (killed by a timeout, a crash): SIGQUIT to their postmaster, then rm -rf. Directories of
// live processes, and directories without our owner.pid marker, are left alone.
void RemoveStaleFixtures() {
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/tmp", ec)) {
    std::string name = entry.path().filename().string();
    if (!name.starts_with("pgfix.")) continue;
    std::string owner_line = FirstLine(entry.path() / "owner.pid");
    if (owner_line.empty()) continue;
    pid_t owner = static_cast<pid_t>(std::atoi(owner_line.c_str()));
    if (owner <= 0 || Alive(owner)) continue;
    pid_t pm =
        static_cast<pid_t>(std::atoi(FirstLine(entry.path() / "data/postmaster.pid").c_str()));
    if (pm > 0 && Alive(pm)) {
      std::string comm = FirstLine("/proc/" + std::to_string(pm) + "/comm");
      if (comm == "postgres") {
        ::kill(pm, SIGQUIT);
        for (int i = 0; i < 200 && Alive(pm); ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
        }
      }
    }
    std::filesystem::remove_all(entry.path(), ec);
  }
}

std::optional<std::string> RunAs() {
  if (geteuid() != 0) return std::nullopt;
  return std::string(kUser);
}

void StopAtExit() {
  if (g_server) g_server->Stop();
}

std::string Exec(PGconn* conn, const std::string& sql) {
  PGresult* r = PQexec(conn, sql.c_str());
  ExecStatusType st = PQresultStatus(r);
  std::string out;
  if (st == PGRES_TUPLES_OK && PQntuples(r) > 0) out = PQgetvalue(r, 0, 0);
  std::string err = PQresultErrorMessage(r);
  PQclear(r);
  if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
    throw std::runtime_error("test PostgreSQL: " + sql + ": " + err);
  }
  return out;
}

}  // namespace

PgServer& PgServer::Get() {
  std::lock_guard lock(g_mu);
  if (g_server) return *g_server;
  if (!g_start_error.empty()) throw std::runtime_error(g_start_error);
  auto* s = new PgServer();
  try {
    s->Start();
  } catch (const std::exception& e) {
    g_start_error = e.what();
    s->Stop();
    delete s;
    throw;
  }
  g_server = s;
  static bool registered = [] { return std::atexit(StopAtExit) == 0; }();
  (void)registered;
  return *g_server;
}

void PgServer::Start() {
  g_owner = getpid();
  RemoveStaleFixtures();

  char tmpl[] = "/tmp/pgfix.XXXXXX";  // short: the socket path must stay under 107 bytes
  if (!mkdtemp(tmpl)) throw std::runtime_error(std::string("mkdtemp: ") + std::strerror(errno));
  dir_ = tmpl;
  { std::ofstream(dir_ + "/owner.pid") << getpid() << "\n"; }
  auto as = RunAs();
  if (as) {
    struct passwd* pw = getpwnam(kUser);
    if (!pw) throw std::runtime_error("test PostgreSQL: no user 'postgres' to run the server as");
    if (chown(dir_.c_str(), pw->pw_uid, pw->pw_gid) != 0) {
      throw std::runtime_error("chown " + dir_ + ": " + std::strerror(errno));
    }
  }

  std::string bin = kPgBin;
  {
    SpawnOptions o;
    o.args = {
        bin + "/initdb",    "-D", dir_ + "/data",     "-A", "trust", "-U", "postgres", "-E", "UTF8",
        "--locale=C.UTF-8", "-N", "--no-instructions"};
    o.log_file = dir_ + "/initdb.log";
    o.run_as_user = as;
    o.cwd = dir_;
    Process p = Process::Spawn(o);
    auto st = p.Wait(std::chrono::seconds(120));
    if (st != 0) {
      throw std::runtime_error("test PostgreSQL: initdb failed (status " +
                               (st ? std::to_string(*st) : std::string("timeout")) + "):\n" +
                               ReadFile(o.log_file));
    }
  }

  std::string last_log;
  for (int attempt = 0; attempt < kStartAttempts; ++attempt) {
    port_ = FreePort();
    SpawnOptions o;
    o.args = {bin + "/postgres",
              "-D",
              dir_ + "/data",
              "-p",
              std::to_string(port_),
              "-k",
              dir_,
              "-c",
              "listen_addresses=127.0.0.1",
              "-c",
              "fsync=off",
              "-c",
              "synchronous_commit=off",
              "-c",
              "full_page_writes=off",
              "-c",
              "max_connections=200"};
    o.log_file = dir_ + "/postgres.log";
    o.run_as_user = as;
    o.cwd = dir_;
    auto* pm = new Process(Process::Spawn(o));
    {
      // Stop() must find it whatever happens next.
      delete g_postmaster;
      g_postmaster = pm;
    }
    // Ping through the unix socket in our own directory: a server that some other test started
    // on the same port cannot answer there.
    std::string ping = "host=" + dir_ + " port=" + std::to_string(port_) +
                       " user=postgres dbname=postgres connect_timeout=2";
    auto deadline = std::chrono::steady_clock::now() + kStartTimeout;
    bool ready = false;
    while (std::chrono::steady_clock::now() < deadline) {
      if (!pm->Running()) break;
      if (PQping(ping.c_str()) == PQPING_OK) {
        ready = true;
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    last_log = ReadFile(o.log_file);
    if (ready) break;
    pm->Signal(SIGQUIT);
    pm->Wait(std::chrono::seconds(10));
    delete g_postmaster;
    g_postmaster = nullptr;
    if (last_log.find("Address already in use") != std::string::npos) continue;  // port race
    throw std::runtime_error("test PostgreSQL did not start on port " + std::to_string(port_) +
                             ":\n" + last_log);
  }
  if (!g_postmaster) {
    throw std::runtime_error("test PostgreSQL: no free port after " +
                             std::to_string(kStartAttempts) + " attempts:\n" + last_log);
  }

  std::string admin = "host=127.0.0.1 port=" + std::to_string(port_) +
                      " user=postgres dbname=postgres connect_timeout=5";
  g_admin = PQconnectdb(admin.c_str());
  if (PQstatus(g_admin) != CONNECTION_OK) {
    throw std::runtime_error(std::string("test PostgreSQL: cannot connect: ") +
                             PQerrorMessage(g_admin));
  }
  std::string data_dir = Exec(g_admin, "SHOW data_directory");
  if (data_dir != dir_ + "/data") {
    throw std::runtime_error("test PostgreSQL: 127.0.0.1:" + std::to_string(port_) +
                             " is another server (" + data_dir + ")");
  }
}

std::string PgServer::CreateDatabase() {
  std::lock_guard lock(g_mu);
  std::string name = "t_" + std::to_string(getpid()) + "_" + std::to_string(++g_next_db);
  if (!g_admin || PQstatus(g_admin) != CONNECTION_OK) {
    if (g_admin) PQreset(g_admin);
  }
  Exec(g_admin, "CREATE DATABASE " + name);
  return name;
}

std::string PgServer::Url(const std::string& db) const {
  return "postgres://postgres@127.0.0.1:" + std::to_string(port_) + "/" + db;
}

void PgServer::Stop() {
  // A forked child (a death test, a helper) that calls exit() must not stop its parent's server.
  if (g_owner != 0 && getpid() != g_owner) return;
  if (g_admin) {
    PQfinish(g_admin);
    g_admin = nullptr;
  }
  if (g_postmaster) {
    g_postmaster->Signal(SIGINT);  // fast shutdown: disconnects clients, no checkpoint wait
    if (!g_postmaster->Wait(std::chrono::seconds(30))) {
      g_postmaster->Signal(SIGQUIT);
      g_postmaster->Wait(std::chrono::seconds(10));
    }
    delete g_postmaster;  // SIGKILLs it if it is somehow still there
    g_postmaster = nullptr;
  }
  if (!dir_.empty()) {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
    dir_.clear();
  }
}

}  // namespace gantry::testing
