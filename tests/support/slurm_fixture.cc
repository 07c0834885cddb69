#include "support/slurm_fixture.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

namespace gantry::testing {

namespace fs = std::filesystem;
using namespace std::chrono_literals;

namespace {

constexpr const char* kSbin = "/usr/sbin";

// Fixtures alive now: stopped at process exit if nobody destroyed them.
std::mutex registry_mu;
std::set<SlurmFixture*>& Registry() {
  static auto* r = new std::set<SlurmFixture*>;
  return *r;
}
void StopAllAtExit() {
  std::vector<SlurmFixture*> all;
  {
    std::lock_guard<std::mutex> lock(registry_mu);
    all.assign(Registry().begin(), Registry().end());
  }
  for (auto* f : all) f->Stop();
}

void WriteFile(const std::string& path, const std::string& text, mode_t mode = 0644) {
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << text;
  out.close();
  if (!out) throw std::runtime_error("SlurmFixture: cannot write " + path);
  ::chmod(path.c_str(), mode);
}

// n distinct free ports: all bound at once (port 0) and then released.
std::vector<int> PickPorts(int n) {
  std::vector<int> fds, ports;
  for (int i = 0; i < n; ++i) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) throw std::runtime_error("SlurmFixture: socket failed");
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof addr;
    if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
      ::close(fd);
      for (int f : fds) ::close(f);
      throw std::runtime_error("SlurmFixture: bind to port 0 failed");
    }
    fds.push_back(fd);
    ports.push_back(ntohs(addr.sin_port));
  }
  for (int f : fds) ::close(f);
  return ports;
}

std::string TailOf(const std::string& path, size_t lines) {
  std::ifstream in(path);
  std::deque<std::string> last;
  std::string line;
  while (std::getline(in, line)) {
    last.push_back(line);
    if (last.size() > lines) last.pop_front();
  }
  std::string out;
  for (auto& l : last) out += "    " + l + "\n";
  return out;
}

bool Executable(const std::string& path) { return ::access(path.c_str(), X_OK) == 0; }

std::string Which(const std::string& name) {
  for (const char* dir : {"/usr/sbin", "/usr/bin", "/sbin", "/bin"}) {
    std::string p = std::string(dir) + "/" + name;
    if (Executable(p)) return p;
  }
  return {};
}

// "S" field (state) and session id of /proc/PID/stat.
bool ProcStat(pid_t pid, char* state, long* sid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  size_t close = text.rfind(')');
  if (close == std::string::npos) return false;
  std::istringstream rest(text.substr(close + 2));
  long ppid, pgrp;
  rest >> *state >> ppid >> pgrp >> *sid;
  return static_cast<bool>(rest);
}

}  // namespace

SlurmFixture* SlurmFixture::StartForSuite(SlurmFixtureOptions options, std::string** skip,
                                          std::string** error) {
  std::string why;
  if (!Installed(&why)) {
    *skip = new std::string(why);
    return nullptr;
  }
  auto t0 = std::chrono::steady_clock::now();
  try {
    auto* slurm = new SlurmFixture(std::move(options));
    std::cerr << "[slurm] fixture up in "
              << std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() << " s ("
              << slurm->dir() << ")\n";
    return slurm;
  } catch (const std::exception& e) {
    *error = new std::string(e.what());
    return nullptr;
  }
}

bool SlurmFixture::Installed(std::string* why) {
  for (const char* p : {"munged", "munge", "unmunge", "mariadbd", "mariadb-install-db",
                        "mariadb-admin", "mariadb", "slurmdbd", "slurmctld", "slurmd", "sacctmgr",
                        "scontrol", "sinfo", "sbatch", "squeue", "scancel", "sacct"}) {
    if (Which(p).empty()) {
      if (why) *why = std::string(p) + " is not installed (run scripts/bootstrap)";
      return false;
    }
  }
  return true;
}

SlurmFixture::SlurmFixture(SlurmFixtureOptions options) : options_(std::move(options)) {
  if (options_.nodes < 1) throw std::runtime_error("SlurmFixture: nodes must be >= 1");
  std::string why;
  if (!Installed(&why)) throw std::runtime_error("SlurmFixture: " + why);
  if (struct passwd* pw = ::getpwuid(::geteuid())) user_ = pw->pw_name;
  if (user_.empty()) throw std::runtime_error("SlurmFixture: no user name for this uid");
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  host_ = host;
  host_ = host_.substr(0, host_.find('.'));
  {
    static std::once_flag once;
    std::call_once(once, [] { std::atexit(StopAllAtExit); });
    std::lock_guard<std::mutex> lock(registry_mu);
    Registry().insert(this);
  }
  std::string error;
  for (int attempt = 1; attempt <= std::max(1, options_.attempts); ++attempt) {
    bool port_clash = false;
    try {
      if (TryStart(&error, &port_clash)) return;
    } catch (const std::exception& e) {
      error = e.what();
    }
    std::string logs = Logs(40);
    Stop();
    if (!port_clash || attempt == options_.attempts) {
      {
        std::lock_guard<std::mutex> lock(registry_mu);
        Registry().erase(this);
      }
      throw std::runtime_error("SlurmFixture: start failed (attempt " + std::to_string(attempt) +
                               "): " + error + "\n" + logs);
    }
    std::cerr << "SlurmFixture: a port was taken, retrying with new ports: " << error << "\n";
  }
}

SlurmFixture::~SlurmFixture() {
  Stop();
  std::lock_guard<std::mutex> lock(registry_mu);
  Registry().erase(this);
}

Process SlurmFixture::SpawnDaemon(const std::vector<std::string>& args, const std::string& log) {
  SpawnOptions o;
  // setpriv --pdeathsig KILL: the daemon dies with the test process, even on a crash.
  if (Executable("/usr/bin/setpriv")) o.args = {"/usr/bin/setpriv", "--pdeathsig", "KILL", "--"};
  o.args.insert(o.args.end(), args.begin(), args.end());
  o.env = env_;
  o.log_file = dir_ + "/log/" + log;
  return Process::Spawn(o);
}

RunResult SlurmFixture::Run(const std::vector<std::string>& args,
                            std::chrono::seconds timeout) const {
  return gantry::testing::Run(args, {}, timeout, env_);
}

bool SlurmFixture::WaitFor(const std::function<bool()>& pred, std::chrono::milliseconds timeout,
                           std::chrono::milliseconds interval) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    if (pred()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(interval);
  }
}

bool SlurmFixture::TryStart(std::string* error, bool* port_clash) {
  stopped_ = false;
  const auto started = std::chrono::steady_clock::now();
  const auto deadline = started + options_.ready_timeout;
  auto left = [&] {
    return std::max(std::chrono::milliseconds(1),
                    std::chrono::duration_cast<std::chrono::milliseconds>(
                        deadline - std::chrono::steady_clock::now()));
  };
  auto clash = [&] {
    // A daemon that could not bind its port says so in its log.
    for (const auto& e : fs::directory_iterator(dir_ + "/log")) {
      std::string text = ReadFile(e.path().string());
      if (text.find("Address already in use") != std::string::npos) return true;
    }
    return false;
  };
  auto fail = [&](const std::string& what) {
    *error = what;
    *port_clash = clash();
    return false;
  };

  char tmpl[] = "/tmp/slurmfx.XXXXXX";  // short: unix socket paths are limited to 107 bytes
  if (!::mkdtemp(tmpl)) throw std::runtime_error("SlurmFixture: mkdtemp failed");
  dir_ = tmpl;
  const std::string& T = dir_;
  for (const char* d : {"etc", "log", "run", "state", "spool", "munge", "db", "dev", "out"}) {
    fs::create_directories(T + "/" + d);
  }
  // munged: every directory above its socket must be o+x (mkdtemp gives 0700).
  ::chmod(T.c_str(), 0755);
  ::chmod((T + "/munge").c_str(), 0755);
  const char* path = std::getenv("PATH");
  env_ = {{"SLURM_CONF", T + "/etc/slurm.conf"},
          {"PATH", std::string(kSbin) + ":/sbin:" + (path ? path : "/usr/bin:/bin")}};
  ports_ = PickPorts(3 + options_.nodes);
  const int my_port = ports_[0], dbd_port = ports_[1], ctl_port = ports_[2];
  const std::string ms = T + "/munge/munge.sock";

  // mariadb-install-db (the slowest step) runs while munged starts.
  SpawnOptions install;
  install.args = {Which("mariadb-install-db"),
                  "--no-defaults",
                  "--datadir=" + T + "/db",
                  "--user=" + user_,
                  "--auth-root-authentication-method=normal",
                  "--skip-test-db",
                  "--innodb-log-file-size=16M"};
  install.log_file = T + "/log/mariadb-install.log";
  Process installer = Process::Spawn(install);

  // ---- munged, with its own key and socket
  {
    std::ifstream rnd("/dev/urandom", std::ios::binary);
    std::string key(1024, '\0');
    rnd.read(key.data(), static_cast<std::streamsize>(key.size()));
    WriteFile(T + "/munge/munge.key", key, 0400);
  }
  munged_ =
      SpawnDaemon({Which("munged"), "-F", "--socket=" + ms, "--key-file=" + T + "/munge/munge.key",
                   "--log-file=" + T + "/log/munged.log", "--pid-file=" + T + "/munge/munged.pid",
                   "--seed-file=" + T + "/munge/munged.seed"},
                  "munged.out");
  if (!WaitFor(
          [&] {
            auto cred = Run({"munge", "-n", "-S", ms}, 5s);
            if (cred.status != 0) return false;
            return gantry::testing::Run({"unmunge", "-S", ms}, cred.output, 5s, env_).status == 0;
          },
          left())) {
    return fail("munged did not answer");
  }

  // ---- MariaDB
  auto st = installer.Wait(left());
  if (!st || *st != 0) return fail("mariadb-install-db failed or took too long");
  mariadbd_ = SpawnDaemon(
      {Which("mariadbd"), "--no-defaults", "--datadir=" + T + "/db",
       "--socket=" + T + "/run/mysql.sock", "--port=" + std::to_string(my_port),
       "--bind-address=127.0.0.1", "--skip-name-resolve", "--pid-file=" + T + "/run/mariadb.pid",
       "--log-error=" + T + "/log/mariadb.err", "--user=" + user_, "--innodb-buffer-pool-size=16M",
       "--innodb-log-file-size=16M", "--innodb-lock-wait-timeout=900",
       "--innodb-flush-log-at-trx-commit=0", "--skip-log-bin"},
      "mariadbd.out");
  if (!WaitFor(
          [&] {
            if (!mariadbd_.Running()) return true;  // reported below
            return Run({"mariadb-admin", "--no-defaults", "-S", T + "/run/mysql.sock", "-uroot",
                        "ping"},
                       5s)
                       .status == 0;
          },
          left()) ||
      !mariadbd_.Running()) {
    return fail("mariadbd did not start");
  }
  auto grant = Run({"mariadb", "--no-defaults", "-S", T + "/run/mysql.sock", "-uroot", "-e",
                    "CREATE USER 'slurm'@'127.0.0.1' IDENTIFIED BY 'slurmpw'; "
                    "GRANT ALL ON slurm_acct_db.* TO 'slurm'@'127.0.0.1';"},
                   10s);
  if (grant.status != 0) return fail("creating the slurm database user failed: " + grant.output);

  // ---- configuration (the recipe's lines)
  WriteFile(T + "/etc/slurmdbd.conf",
            "AuthType=auth/munge\n"
            "AuthInfo=socket=" +
                ms +
                "\n"
                "DbdHost=localhost\n"
                "DbdAddr=127.0.0.1\n"
                "DbdPort=" +
                std::to_string(dbd_port) +
                "\n"
                "SlurmUser=" +
                user_ +
                "\n"
                "LogFile=" +
                T +
                "/log/slurmdbd.log\n"
                "PidFile=" +
                T +
                "/run/slurmdbd.pid\n"
                "DebugLevel=info\n"
                "StorageType=accounting_storage/mysql\n"
                "StorageHost=127.0.0.1\n"
                "StoragePort=" +
                std::to_string(my_port) +
                "\n"
                "StorageUser=slurm\n"
                "StoragePass=slurmpw\n"
                "StorageLoc=slurm_acct_db\n",
            0600);  // slurmdbd insists on mode 600, owned by SlurmUser
  std::string nodes;
  const std::string gres =
      "gpu:" + options_.gpu_type + ":" + std::to_string(options_.gpus_per_node);
  for (int i = 1; i <= options_.nodes; ++i) {
    nodes += "NodeName=node" + std::to_string(i) + " NodeHostname=" + host_ +
             " NodeAddr=127.0.0.1 Port=" + std::to_string(ports_[2 + i]) +
             " CPUs=8 RealMemory=8000 Gres=" + gres + " State=UNKNOWN\n";
  }
  WriteFile(T + "/etc/slurm.conf",
            "ClusterName=fixture\n"
            "SlurmctldHost=" +
                host_ +
                "(127.0.0.1)\n"
                "SlurmctldPort=" +
                std::to_string(ctl_port) +
                "\n"
                "SlurmUser=" +
                user_ +
                "\n"
                "SlurmdUser=" +
                user_ +
                "\n"
                "AuthType=auth/munge\n"
                "AuthInfo=socket=" +
                ms +
                "\n"
                "CredType=cred/munge\n"
                "StateSaveLocation=" +
                T +
                "/state\n"
                "SlurmdSpoolDir=" +
                T +
                "/spool/%n\n"
                "SlurmctldPidFile=" +
                T +
                "/run/slurmctld.pid\n"
                "SlurmdPidFile=" +
                T +
                "/run/slurmd-%n.pid\n"
                "SlurmctldLogFile=" +
                T +
                "/log/slurmctld.log\n"
                "SlurmdLogFile=" +
                T +
                "/log/slurmd-%n.log\n"
                "SlurmctldDebug=info\n"
                "SlurmdDebug=info\n"
                "ProctrackType=proctrack/linuxproc\n"
                "TaskPlugin=task/none\n"
                "JobAcctGatherType=jobacct_gather/none\n"
                "MpiDefault=none\n"
                "SwitchType=switch/none\n"
                "SelectType=select/cons_tres\n"
                "SelectTypeParameters=CR_Core\n"
                "GresTypes=gpu\n"
                "SlurmdParameters=config_overrides\n"
                "ReturnToService=2\n"
                "SchedulerType=sched/backfill\n"
                "AccountingStorageType=accounting_storage/slurmdbd\n"
                "AccountingStorageHost=127.0.0.1\n"
                "AccountingStoragePort=" +
                std::to_string(dbd_port) +
                "\n"
                // Everything that talks to slurmdbd (slurmctld, sacctmgr, sacct) finds munge here.
                "AccountingStoragePass=" +
                ms +
                "\n"
                "AccountingStorageEnforce=associations,limits,qos\n"
                "AccountingStorageTRES=gres/gpu,gres/gpu:" +
                options_.gpu_type +
                "\n"
                "JobCompType=jobcomp/none\n"
                "MailProg=/bin/true\n" +
                nodes + "PartitionName=gpu Nodes=ALL Default=YES MaxTime=INFINITE State=UP\n");
  // gres/gpu needs File= entries that are character devices: symlinks to /dev/null.
  const int last_gpu = options_.gpus_per_node - 1;
  for (int g = 0; g <= last_gpu; ++g) {
    fs::create_symlink("/dev/null", T + "/dev/nvidia" + std::to_string(g));
  }
  WriteFile(T + "/etc/gres.conf",
            "AutoDetect=off\n"
            "NodeName=node[1-" +
                std::to_string(options_.nodes) + "] Name=gpu Type=" + options_.gpu_type +
                " File=" + T + "/dev/nvidia" +
                (last_gpu == 0 ? std::string("0") : "[0-" + std::to_string(last_gpu) + "]") + "\n");

  // ---- slurmdbd, slurmctld, slurmd
  slurmdbd_ = SpawnDaemon({Which("slurmdbd"), "-D"}, "slurmdbd.out");
  if (!WaitFor(
          [&] {
            return !slurmdbd_.Running() ||
                   Run({"sacctmgr", "-n", "show", "cluster"}, 5s).status == 0;
          },
          left()) ||
      !slurmdbd_.Running()) {
    return fail("slurmdbd did not start");
  }
  slurmctld_ = SpawnDaemon({Which("slurmctld"), "-D"}, "slurmctld.out");
  if (!WaitFor(
          [&] {
            return !slurmctld_.Running() || Run({"scontrol", "ping"}, 5s).status == 0;
          },
          left()) ||
      !slurmctld_.Running()) {
    return fail("slurmctld did not start");
  }
  for (int i = 1; i <= options_.nodes; ++i) {
    std::string node = "node" + std::to_string(i);
    fs::create_directories(T + "/spool/" + node);
    slurmd_.push_back(SpawnDaemon({Which("slurmd"), "-D", "-N", node}, "slurmd-" + node + ".out"));
  }
  bool idle = WaitFor(
      [&] {
        auto r = Run({"sinfo", "-h", "-N", "-t", "idle", "-o", "%N"}, 5s);
        return r.status == 0 &&
               std::count(r.output.begin(), r.output.end(), '\n') == options_.nodes;
      },
      left());
  if (!idle) return fail("not all " + std::to_string(options_.nodes) + " slurmd became idle");
  startup_time_ = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - started);
  return true;
}

std::string SlurmFixture::Submit(const std::string& account, const std::string& gres,
                                 const std::string& script) {
  std::vector<std::string> args = {"sbatch", "--parsable", "-A",
                                   account,  "-o",         dir_ + "/out/%j.out"};
  if (!gres.empty()) args.push_back("--gres=" + gres);
  args.push_back("--wrap");
  args.push_back(script);
  auto r = Run(args, 30s);
  std::string id = r.output.substr(0, r.output.find_first_of(";\n"));
  if (r.status != 0 || id.empty() ||
      !std::all_of(id.begin(), id.end(), [](char c) { return c >= '0' && c <= '9'; })) {
    throw std::runtime_error("sbatch failed (status " + std::to_string(r.status) +
                             "): " + r.output);
  }
  return id;
}

void SlurmFixture::StopProcess(Process& p, std::chrono::seconds grace) {
  if (!p.Running()) return;
  p.Signal(SIGTERM);
  if (!p.Wait(std::chrono::duration_cast<std::chrono::milliseconds>(grace))) {
    std::cerr << "SlurmFixture: pid " << p.pid() << " ignored SIGTERM for " << grace.count()
              << " s, sending SIGKILL\n";
    p.Signal(SIGKILL);
    p.Wait(10s);
  }
}

void SlurmFixture::StopController() { StopProcess(slurmctld_, 10s); }

void SlurmFixture::StartController() {
  if (slurmctld_.Running()) return;
  slurmctld_ = SpawnDaemon({Which("slurmctld"), "-D"}, "slurmctld-restart.out");
  if (!WaitFor([&] { return Run({"scontrol", "ping"}, 5s).status == 0; }, options_.ready_timeout)) {
    throw std::runtime_error("SlurmFixture: slurmctld did not come back\n" + Logs());
  }
  // The nodes re-register; wait until they are usable again.
  WaitFor(
      [&] {
        auto r = Run({"sinfo", "-h", "-N", "-t", "idle,mix,alloc", "-o", "%N"}, 5s);
        return r.status == 0 &&
               std::count(r.output.begin(), r.output.end(), '\n') == options_.nodes;
      },
      options_.ready_timeout);
}

void SlurmFixture::StopDatabase() { StopProcess(slurmdbd_, 10s); }

void SlurmFixture::StartDatabase() {
  if (slurmdbd_.Running()) return;
  slurmdbd_ = SpawnDaemon({Which("slurmdbd"), "-D"}, "slurmdbd-restart.out");
  if (!WaitFor(
          [&] {
            return Run({"sacctmgr", "-n", "show", "cluster"}, 5s).status == 0;
          },
          options_.ready_timeout)) {
    throw std::runtime_error("SlurmFixture: slurmdbd did not come back\n" + Logs());
  }
}

std::string SlurmFixture::Logs(size_t lines) const {
  if (dir_.empty() || !fs::exists(dir_ + "/log")) return {};
  std::vector<std::string> files;
  for (const auto& e : fs::directory_iterator(dir_ + "/log")) files.push_back(e.path().string());
  std::sort(files.begin(), files.end());
  std::string out = "Slurm fixture logs (" + dir_ + "):\n";
  for (const auto& f : files) {
    std::string tail = TailOf(f, lines);
    if (tail.empty()) continue;
    out += "==> " + f + " <==\n" + tail;
  }
  return out;
}

void SlurmFixture::SweepStrays() {
  // slurmstepd ignores SIGTERM and outlives slurmd. Ours hold a file under dir_ open (their
  // slurmd's log); their job processes share their session. Never kill by name alone.
  if (dir_.empty()) return;
  long own_sid = ::getsid(0);
  for (const auto& e : fs::directory_iterator("/proc")) {
    std::string name = e.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) continue;
    pid_t pid = std::stoi(name);
    std::string comm = ReadFile("/proc/" + name + "/comm");
    if (comm != "slurmstepd\n") continue;
    bool ours = false;
    std::error_code ec;
    for (const auto& fd : fs::directory_iterator("/proc/" + name + "/fd", ec)) {
      auto target = fs::read_symlink(fd.path(), ec);
      if (!ec && target.string().rfind(dir_ + "/", 0) == 0) {
        ours = true;
        break;
      }
    }
    if (!ours) continue;
    char state;
    long sid = -1;
    if (ProcStat(pid, &state, &sid) && sid > 0 && sid != own_sid) {
      for (const auto& q : fs::directory_iterator("/proc")) {
        std::string qn = q.path().filename().string();
        if (qn.empty() || !std::all_of(qn.begin(), qn.end(), ::isdigit)) continue;
        long qsid = -1;
        if (ProcStat(std::stoi(qn), &state, &qsid) && qsid == sid) ::kill(std::stoi(qn), SIGKILL);
      }
    }
    std::cerr << "SlurmFixture: killed stray slurmstepd " << pid << "\n";
    ::kill(pid, SIGKILL);
  }
}

void SlurmFixture::Stop() {
  if (stopped_) return;
  stopped_ = true;
  // 1. Cancel the jobs while slurmctld and slurmd still run, and wait until none is left.
  if (slurmctld_.Running()) {
    auto q = Run({"squeue", "-h", "-o", "%i"}, 5s);
    if (q.status == 0 && !q.output.empty()) {
      std::vector<std::string> cancel = {"scancel"};
      std::istringstream ids(q.output);
      for (std::string id; ids >> id;) cancel.push_back(id);
      Run(cancel, 5s);
      WaitFor(
          [&] {
            auto r = Run({"squeue", "-h", "-o", "%i"}, 5s);
            return r.status != 0 || r.output.empty();
          },
          10s);
    }
  }
  // 2. The daemons, slurmd first (in parallel), then the controller, database and munge.
  for (auto& p : slurmd_) p.Signal(SIGTERM);
  for (auto& p : slurmd_) StopProcess(p, 10s);
  slurmd_.clear();
  StopProcess(slurmctld_, 10s);
  StopProcess(slurmdbd_, 10s);
  StopProcess(mariadbd_, 20s);
  StopProcess(munged_, 10s);
  slurmctld_ = Process();
  slurmdbd_ = Process();
  mariadbd_ = Process();
  munged_ = Process();
  // 3. Anything a killed slurmd left behind.
  SweepStrays();
  // 4. The temp dir.
  if (!dir_.empty() && std::getenv("GANTRY_KEEP_SLURM_FIXTURE") == nullptr) {
    std::error_code ec;
    fs::remove_all(dir_, ec);
  }
}

}  // namespace gantry::testing
