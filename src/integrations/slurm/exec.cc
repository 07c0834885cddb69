#include "integrations/slurm/exec.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <string_view>
#include <thread>

extern char** environ;

namespace gantry::slurm {

namespace {

using Clock = std::chrono::steady_clock;

std::string ErrnoText(std::string_view what, int e) {
  return std::string(what) + ": " + std::strerror(e);
}

void CloseFd(int& fd) {
  if (fd >= 0) ::close(fd);
  fd = -1;
}

int DecodeStatus(int status) {
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  if (WIFSIGNALED(status)) return 128 + WTERMSIG(status);
  return -1;
}

bool IsExecutable(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) && ::access(path.c_str(), X_OK) == 0;
}

}  // namespace

std::string FindProgram(const std::string& name, const std::string& path_var) {
  if (name.empty()) return {};
  if (name.find('/') != std::string::npos) return IsExecutable(name) ? name : std::string();
  size_t start = 0;
  while (start <= path_var.size()) {
    size_t end = path_var.find(':', start);
    if (end == std::string::npos) end = path_var.size();
    std::string dir = path_var.substr(start, end - start);
    if (dir.empty()) dir = ".";
    std::string candidate = dir + "/" + name;
    if (IsExecutable(candidate)) return candidate;
    start = end + 1;
  }
  return {};
}

ExecResult Exec(const ExecRequest& request) {
  ExecResult result;
  const auto started = Clock::now();
  auto finish = [&]() -> ExecResult& {
    result.elapsed = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - started);
    return result;
  };
  if (request.argv.empty()) {
    result.outcome = ExecResult::Outcome::kSpawnFailed;
    result.error = "no program given";
    return finish();
  }

  // Everything the child needs is prepared before fork(): in a threaded process only
  // async-signal-safe calls are allowed between fork() and exec().
  std::vector<std::string> env_strings;
  for (char** e = environ; e && *e; ++e) {
    std::string_view kv(*e);
    std::string key(kv.substr(0, kv.find('=')));
    if (request.env.count(key)) continue;
    env_strings.emplace_back(kv);
  }
  std::string path_var = "/usr/local/bin:/usr/bin:/bin";
  if (const char* p = std::getenv("PATH")) path_var = p;
  for (const auto& [k, v] : request.env) {
    if (k == "PATH") path_var = v.value_or("");
    if (v) env_strings.push_back(k + "=" + *v);
  }
  std::vector<char*> envp;
  for (auto& s : env_strings) envp.push_back(s.data());
  envp.push_back(nullptr);

  const std::string program = FindProgram(request.argv[0], path_var);
  if (program.empty()) {
    result.outcome = ExecResult::Outcome::kNotFound;
    result.error = request.argv[0] + ": no such executable" +
                   (request.argv[0].find('/') == std::string::npos ? " in PATH " + path_var : "");
    return finish();
  }
  std::vector<std::string> arg_strings = request.argv;
  std::vector<char*> argv;
  for (auto& s : arg_strings) argv.push_back(s.data());
  argv.push_back(nullptr);

  int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  int out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1}, exec_pipe[2] = {-1, -1};
  auto close_all = [&] {
    CloseFd(null_fd);
    for (int* p : {out_pipe, err_pipe, exec_pipe}) {
      CloseFd(p[0]);
      CloseFd(p[1]);
    }
  };
  if (null_fd < 0 || pipe2(out_pipe, O_CLOEXEC) != 0 || pipe2(err_pipe, O_CLOEXEC) != 0 ||
      pipe2(exec_pipe, O_CLOEXEC) != 0) {
    result.outcome = ExecResult::Outcome::kSpawnFailed;
    result.error = ErrnoText("pipe", errno);
    close_all();
    return finish();
  }

  pid_t pid = ::fork();
  if (pid < 0) {
    result.outcome = ExecResult::Outcome::kSpawnFailed;
    result.error = ErrnoText("fork", errno);
    close_all();
    return finish();
  }
  if (pid == 0) {
    // Child: its own process group, so that a timeout kills whatever it started as well.
    ::setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, nullptr);
    signal(SIGPIPE, SIG_DFL);
    if (dup2(null_fd, STDIN_FILENO) < 0 || dup2(out_pipe[1], STDOUT_FILENO) < 0 ||
        dup2(err_pipe[1], STDERR_FILENO) < 0) {
      int e = errno;
      (void)!::write(exec_pipe[1], &e, sizeof e);
      _exit(127);
    }
    // No descriptor of the parent leaks into the program.
    close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
    execve(program.c_str(), argv.data(), envp.data());
    int e = errno;
    (void)!::write(exec_pipe[1], &e, sizeof e);
    _exit(127);
  }

  ::setpgid(pid, pid);  // also from the parent: no window in which a kill(-pid) misses
  CloseFd(null_fd);
  CloseFd(out_pipe[1]);
  CloseFd(err_pipe[1]);
  CloseFd(exec_pipe[1]);
  int exec_errno = 0;
  ssize_t got;
  do {
    got = ::read(exec_pipe[0], &exec_errno, sizeof exec_errno);
  } while (got < 0 && errno == EINTR);
  CloseFd(exec_pipe[0]);
  if (got == static_cast<ssize_t>(sizeof exec_errno)) {
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    close_all();
    result.outcome = exec_errno == ENOENT || exec_errno == EACCES || exec_errno == ENOEXEC
                         ? ExecResult::Outcome::kNotFound
                         : ExecResult::Outcome::kSpawnFailed;
    result.error = ErrnoText("exec " + program, exec_errno);
    return finish();
  }

  const auto deadline = started + request.timeout;
  auto kill_child = [&] {
    ::kill(-pid, SIGKILL);
    ::kill(pid, SIGKILL);
  };
  bool killed = false;
  int fds[2] = {out_pipe[0], err_pipe[0]};
  std::string* sinks[2] = {&result.out, &result.err};
  char buf[65536];
  while (!killed && (fds[0] >= 0 || fds[1] >= 0)) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0) {
      kill_child();
      killed = true;
      result.outcome = ExecResult::Outcome::kTimedOut;
      break;
    }
    pollfd pfds[2];
    int n = 0;
    int which[2];
    for (int i = 0; i < 2; ++i) {
      if (fds[i] < 0) continue;
      pfds[n] = {fds[i], POLLIN, 0};
      which[n++] = i;
    }
    int r = ::poll(pfds, n, static_cast<int>(std::min<int64_t>(left.count() + 1, 1'000'000)));
    if (r < 0) {
      if (errno == EINTR) continue;
      kill_child();
      killed = true;
      result.outcome = ExecResult::Outcome::kSpawnFailed;
      result.error = ErrnoText("poll", errno);
      break;
    }
    for (int k = 0; k < n; ++k) {
      if (pfds[k].revents == 0) continue;
      int i = which[k];
      ssize_t len = ::read(fds[i], buf, sizeof buf);
      if (len < 0 && (errno == EINTR || errno == EAGAIN)) continue;
      if (len <= 0) {
        CloseFd(fds[i]);
        continue;
      }
      sinks[i]->append(buf, static_cast<size_t>(len));
      if (result.out.size() + result.err.size() > request.max_output) {
        kill_child();
        killed = true;
        result.outcome = ExecResult::Outcome::kTooMuchOutput;
        break;
      }
    }
  }
  CloseFd(fds[0]);
  CloseFd(fds[1]);

  // Both pipes are closed: the program has exited, or closed them and lingers until the deadline.
  int status = 0;
  while (true) {
    pid_t w = waitpid(pid, &status, killed ? 0 : WNOHANG);
    if (w == pid) break;
    if (w < 0 && errno == EINTR) continue;
    if (w < 0) {  // reaped by someone else (a SIGCHLD handler set to SIG_IGN): no status
      status = -1;
      break;
    }
    if (Clock::now() >= deadline) {
      kill_child();
      killed = true;
      result.outcome = ExecResult::Outcome::kTimedOut;
      continue;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  if (!killed) {
    result.outcome = ExecResult::Outcome::kExited;
    result.exit_code = status == -1 ? -1 : DecodeStatus(status);
  }
  return finish();
}

}  // namespace gantry::slurm
