#include "support/process.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <grp.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

extern char** environ;

namespace gantry::testing {

namespace {

std::string Errno(const std::string& what) { return what + ": " + std::strerror(errno); }

// Writes all of `data` to fd and closes it, from a thread so that a child that reads its stdin
// slowly (or never) cannot block the caller. SIGPIPE is blocked in that thread: a child that
// exits early makes write() fail with EPIPE instead of killing the test.
void FeedStdin(int fd, std::string data) {
  std::thread([fd, data = std::move(data)] {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);
    size_t off = 0;
    while (off < data.size()) {
      ssize_t n = ::write(fd, data.data() + off, data.size() - off);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) break;
      off += static_cast<size_t>(n);
    }
    ::close(fd);
  }).detach();
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

}  // namespace

Process Process::Spawn(const SpawnOptions& options) {
  if (options.args.empty()) throw std::runtime_error("Process::Spawn: no program");

  // Everything the child needs is prepared before fork(): after fork() in a threaded process
  // only async-signal-safe calls are allowed.
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    size_t eq = kv.find('=');
    std::string key(kv.substr(0, eq));
    if (options.env.count(key)) continue;
    env_strings.emplace_back(kv);
  }
  for (const auto& [k, v] : options.env) env_strings.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);
  std::vector<std::string> arg_strings = options.args;
  std::vector<char*> argv;
  for (auto& s : arg_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  bool switch_user = false;
  uid_t uid = 0;
  gid_t gid = 0;
  if (options.run_as_user && geteuid() == 0) {
    struct passwd pwbuf;
    struct passwd* pw = nullptr;
    std::vector<char> buf(16384);
    if (getpwnam_r(options.run_as_user->c_str(), &pwbuf, buf.data(), buf.size(), &pw) != 0 || !pw) {
      throw std::runtime_error("Process::Spawn: no user '" + *options.run_as_user + "'");
    }
    switch_user = true;
    uid = pw->pw_uid;
    gid = pw->pw_gid;
  }

  int log_fd = -1;
  if (!options.log_file.empty()) {
    log_fd = ::open(options.log_file.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (log_fd < 0) throw std::runtime_error(Errno("Process::Spawn: open " + options.log_file));
  }
  int in_pipe[2] = {-1, -1};
  if (pipe2(in_pipe, O_CLOEXEC) != 0) {
    if (log_fd >= 0) ::close(log_fd);
    throw std::runtime_error(Errno("Process::Spawn: pipe"));
  }
  // The child reports a failed exec (or set-up step) through this pipe; it closes on success.
  int err_pipe[2];
  if (pipe2(err_pipe, O_CLOEXEC) != 0) {
    if (log_fd >= 0) ::close(log_fd);
    ::close(in_pipe[0]);
    ::close(in_pipe[1]);
    throw std::runtime_error(Errno("Process::Spawn: pipe"));
  }
  const char* cwd = options.cwd.empty() ? nullptr : options.cwd.c_str();
  const bool search_path = options.args[0].find('/') == std::string::npos;

  pid_t pid = fork();
  if (pid < 0) {
    int e = errno;
    if (log_fd >= 0) ::close(log_fd);
    for (int fd : {in_pipe[0], in_pipe[1], err_pipe[0], err_pipe[1]}) ::close(fd);
    errno = e;
    throw std::runtime_error(Errno("Process::Spawn: fork"));
  }
  if (pid == 0) {
    auto fail = [&](int step) {
      int e[2] = {step, errno};
      (void)!::write(err_pipe[1], e, sizeof e);
      _exit(127);
    };
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(in_pipe[0], STDIN_FILENO) < 0) fail(1);
    if (log_fd >= 0) {
      if (dup2(log_fd, STDOUT_FILENO) < 0 || dup2(log_fd, STDERR_FILENO) < 0) fail(2);
    }
    // Nothing else of ours leaks into the child.
#ifdef CLOSE_RANGE_CLOEXEC
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
#endif
    if (cwd && chdir(cwd) != 0) fail(3);
    if (switch_user) {
      if (setgroups(0, nullptr) != 0) fail(4);
      if (setgid(gid) != 0) fail(5);
      if (setuid(uid) != 0) fail(6);
    }
    if (search_path) {
      execvpe(argv[0], argv.data(), envp.data());
    } else {
      execve(argv[0], argv.data(), envp.data());
    }
    fail(7);
  }

  ::close(err_pipe[1]);
  ::close(in_pipe[0]);
  if (log_fd >= 0) ::close(log_fd);
  int report[2] = {0, 0};
  ssize_t got;
  do {
    got = ::read(err_pipe[0], report, sizeof report);
  } while (got < 0 && errno == EINTR);
  ::close(err_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof report)) {
    ::close(in_pipe[1]);
    int status = 0;
    waitpid(pid, &status, 0);
    static const char* steps[] = {"",          "dup2 stdin", "dup2 log", "chdir",
                                  "setgroups", "setgid",     "setuid",   "exec"};
    int step = report[0] >= 1 && report[0] <= 7 ? report[0] : 7;
    throw std::runtime_error("Process::Spawn: " + std::string(steps[step]) + " failed for " +
                             options.args[0] + ": " + std::strerror(report[1]));
  }
  if (options.stdin_data.empty()) {
    ::close(in_pipe[1]);
  } else {
    FeedStdin(in_pipe[1], options.stdin_data);
  }
  Process p;
  p.pid_ = pid;
  return p;
}

Process::Process(Process&& o) noexcept : pid_(o.pid_), status_(o.status_) {
  o.pid_ = -1;
  o.status_.reset();
}

Process& Process::operator=(Process&& o) noexcept {
  if (this != &o) {
    this->~Process();
    pid_ = o.pid_;
    status_ = o.status_;
    o.pid_ = -1;
    o.status_.reset();
  }
  return *this;
}

Process::~Process() {
  if (pid_ > 0 && !status_) {
    ::kill(pid_, SIGKILL);
    int status = 0;
    while (waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    }
  }
  pid_ = -1;
  status_.reset();
}

bool Process::Running() {
  if (pid_ <= 0 || status_) return false;
  return !Wait(std::chrono::milliseconds(0)).has_value();
}

void Process::Signal(int sig) {
  if (pid_ > 0 && !status_) ::kill(pid_, sig);
}

std::optional<int> Process::Wait(std::chrono::milliseconds timeout) {
  if (status_) return status_;
  if (pid_ <= 0) return std::nullopt;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      status_ = DecodeStatus(status);
      return status_;
    }
    if (r < 0 && errno != EINTR) {
      // Not our child any more (reaped elsewhere): treat as gone.
      status_ = -1;
      return status_;
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

RunResult Run(const std::vector<std::string>& args, const std::string& stdin_data,
              std::chrono::seconds timeout, const std::map<std::string, std::string>& env) {
  char path[] = "/tmp/gantry-run.XXXXXX";
  int fd = mkstemp(path);
  if (fd < 0) throw std::runtime_error(Errno("Run: mkstemp"));
  ::close(fd);
  RunResult out;
  try {
    SpawnOptions o;
    o.args = args;
    o.env = env;
    o.log_file = path;
    o.stdin_data = stdin_data;
    Process p = Process::Spawn(o);
    auto st = p.Wait(std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
    if (!st) {
      p.Signal(SIGKILL);
      st = p.Wait(std::chrono::seconds(10));
      out.status = -1;
    } else {
      out.status = *st;
    }
  } catch (...) {
    ::unlink(path);
    throw;
  }
  out.output = ReadFile(path);
  ::unlink(path);
  return out;
}

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(Errno("FreePort: socket"));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    throw std::runtime_error(Errno("FreePort: bind"));
  }
  socklen_t len = sizeof addr;
  if (::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    ::close(fd);
    throw std::runtime_error(Errno("FreePort: getsockname"));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

}  // namespace gantry::testing
