#include "lifecycle/playbook.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>

#include "core/crypto.h"
#include "jobs/worker.h"
#include "lifecycle/inventory.h"

namespace gantry::lifecycle {

namespace fs = std::filesystem;

namespace {

core::Status ValidateParams(const core::json::object& p) {
  GANTRY_TRY_STATUS(core::OnlyFields(p, {"playbook", "limit", "check", "timeout_s"}));
  auto pb = core::GetString(p, "playbook");
  if (!pb) return pb.error();
  const std::string& playbook = *pb;
  if (playbook.empty() || playbook.starts_with("/") || playbook.find("..") != std::string::npos) {
    return core::InvalidArgument("playbook must be a relative path inside the playbook directory", "playbook");
  }
  GANTRY_TRY(auto limit, core::OptString(p, "limit"));
  if (limit && (limit->empty() || limit->size() > 1000 || limit->find('\n') != std::string::npos)) {
    return core::InvalidArgument("limit must be a host pattern", "limit");
  }
  GANTRY_TRY(auto t, core::OptInt(p, "timeout_s"));
  if (t && (*t < 1 || *t > 86400)) return core::InvalidArgument("timeout_s must be between 1 and 86400", "timeout_s");
  GANTRY_TRY_STATUS(core::OptBool(p, "check"));
  return {};
}

core::Result<core::json::object> Run(jobs::JobContext& ctx, cmdb::Service& cmdb, const PlaybookOptions& o) {
  if (o.dir.empty()) return core::FailedPrecondition("no playbook directory configured (gantry serve --playbook-dir)");
  std::string playbook = core::GetString(ctx.params(), "playbook").value();
  std::string path = o.dir + "/" + playbook;
  if (!fs::is_regular_file(path)) return core::NotFound("no playbook " + playbook);
  auto limit = core::OptString(ctx.params(), "limit").value();
  bool check = core::OptBool(ctx.params(), "check").value().value_or(false);
  int64_t timeout_s = core::OptInt(ctx.params(), "timeout_s").value().value_or(o.default_timeout_s);

  // The inventory of this run, as a script ansible runs with --list.
  GANTRY_TRY(auto inv, BuildInventory(cmdb, core::RequestContext::System("ansible"), std::nullopt));
  std::string dir = (fs::temp_directory_path() / ("gantry-ansible-" + core::HexEncode(core::RandomBytes(6)))).string();
  std::error_code ec;
  fs::create_directories(dir, ec);
  if (ec) return core::Unavailable("cannot create " + dir);
  struct Cleanup {
    std::string d;
    ~Cleanup() {
      std::error_code e;
      fs::remove_all(d, e);
    }
  } cleanup{dir};
  {
    std::ofstream(dir + "/inventory.json") << core::ToJson(inv);
    std::ofstream s(dir + "/inventory.sh");
    s << "#!/bin/sh\nif [ \"$1\" = --list ]; then exec cat '" << dir << "/inventory.json'; fi\necho '{}'\n";
  }
  fs::permissions(dir + "/inventory.sh", fs::perms::owner_all, fs::perm_options::replace, ec);
  ctx.Log("inventory: " + std::to_string(inv.at("_meta").as_object().at("hostvars").as_object().size()) + " hosts");

  std::vector<std::string> args = {o.ansible_playbook, "-i", dir + "/inventory.sh", path};
  if (limit) args.insert(args.end(), {"--limit", *limit});
  if (check) args.push_back("--check");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  std::string home = "HOME=" + dir, tmp = "ANSIBLE_LOCAL_TEMP=" + dir + "/tmp",
              remote_tmp = "ANSIBLE_REMOTE_TEMP=" + dir + "/rtmp";
  std::vector<std::string> env_store;
  for (char** e = environ; *e; ++e) {
    if (std::strncmp(*e, "HOME=", 5) != 0) env_store.emplace_back(*e);
  }
  env_store.insert(env_store.end(), {home, tmp, remote_tmp, "ANSIBLE_NOCOLOR=1", "ANSIBLE_FORCE_COLOR=0",
                                     "PYTHONUNBUFFERED=1", "ANSIBLE_HOST_KEY_CHECKING=False"});
  std::vector<char*> envp;
  for (auto& e : env_store) envp.push_back(e.data());
  envp.push_back(nullptr);

  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return core::Unavailable("pipe failed");
  pid_t pid = fork();
  if (pid < 0) {
    close(fds[0]);
    close(fds[1]);
    return core::Unavailable("fork failed");
  }
  if (pid == 0) {
    setpgid(0, 0);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    dup2(fds[1], 1);
    dup2(fds[1], 2);
    execvpe(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  close(fds[1]);
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_s);
  std::string buf, recap;
  int64_t lines = 0;
  bool in_recap = false, killed = false, timed_out = false;
  auto emit = [&](const std::string& line) {
    ++lines;
    ctx.Log(line);
    if (line.rfind("PLAY RECAP", 0) == 0) in_recap = true;
    else if (in_recap && !line.empty()) recap += line + "\n";
  };
  while (true) {
    if (!killed && (ctx.Cancelled() || std::chrono::steady_clock::now() > deadline)) {
      timed_out = !ctx.Cancelled();
      kill(-pid, SIGKILL);
      killed = true;
    }
    pollfd p{fds[0], POLLIN, 0};
    int r = poll(&p, 1, 200);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) continue;
    char chunk[4096];
    ssize_t n = read(fds[0], chunk, sizeof chunk);
    if (n <= 0) break;
    buf.append(chunk, static_cast<size_t>(n));
    size_t nl;
    while ((nl = buf.find('\n')) != std::string::npos) {
      emit(buf.substr(0, nl));
      buf.erase(0, nl + 1);
    }
  }
  if (!buf.empty()) emit(buf);
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  core::json::object result{{"playbook", playbook}, {"exit_code", code}, {"lines", lines}, {"recap", recap}};
  if (timed_out) return core::FailedPrecondition("ansible-playbook ran longer than " + std::to_string(timeout_s) + " s");
  if (ctx.Cancelled()) return result;
  if (code == 127) return core::FailedPrecondition("cannot run " + o.ansible_playbook);
  if (code != 0) return core::FailedPrecondition("ansible-playbook exited with " + std::to_string(code) + "\n" + recap);
  return result;
}

}  // namespace

void RegisterPlaybookJobType(jobs::Registry& registry, cmdb::Service& cmdb, PlaybookOptions options) {
  registry.Add(jobs::JobType{
      "lifecycle.playbook",
      "Runs an Ansible playbook (`playbook`, relative to the playbook directory) against the CMDB "
      "inventory; optional `limit` host pattern, `check` (dry run) and `timeout_s`. Output lines "
      "stream into the job log.",
      ValidateParams,
      [&cmdb, options](jobs::JobContext& ctx) { return Run(ctx, cmdb, options); },
      true});
}

}  // namespace gantry::lifecycle
