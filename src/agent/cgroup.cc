#include "agent/cgroup.h"

#include <fcntl.h>
#include <unistd.h>

#include <cctype>

namespace gantry::agent {

namespace {

bool IsHex(std::string_view s) {
  if (s.size() < 12) return false;
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

// The cgroup path of the line to use: the v2 line ("0::/path") if present, else the v1 line of
// the memory (or first named) controller.
std::string_view PickPath(std::string_view file) {
  std::string_view fallback;
  while (!file.empty()) {
    size_t nl = file.find('\n');
    std::string_view line = file.substr(0, nl);
    file = nl == std::string_view::npos ? std::string_view{} : file.substr(nl + 1);
    size_t c1 = line.find(':');
    if (c1 == std::string_view::npos) continue;
    size_t c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos) continue;
    std::string_view controllers = line.substr(c1 + 1, c2 - c1 - 1);
    std::string_view path = line.substr(c2 + 1);
    if (controllers.empty() && line.substr(0, c1) == "0") return path;
    if (controllers.find("memory") != std::string_view::npos || fallback.empty()) {
      fallback = path;
    }
  }
  return fallback;
}

}  // namespace

Workload ClassifyCgroup(std::string_view cgroup_file) {
  Workload w;
  std::string_view path = PickPath(cgroup_file);
  w.cgroup = std::string(path);
  // Walk the path's components.
  while (!path.empty()) {
    size_t slash = path.find('/');
    std::string_view part = path.substr(0, slash);
    path = slash == std::string_view::npos ? std::string_view{} : path.substr(slash + 1);
    if (part.empty()) continue;
    if (part.starts_with("job_")) {
      std::string_view id = part.substr(4);
      bool digits = !id.empty();
      for (char c : id) digits = digits && std::isdigit(static_cast<unsigned char>(c));
      if (digits) w.slurm_job = std::string(id);
      continue;
    }
    // systemd scope names: docker-<id>.scope, cri-containerd-<id>.scope, crio-<id>.scope,
    // libpod-<id>.scope; cgroupfs names: /docker/<id>, /kubepods/.../<id>.
    std::string_view name = part;
    if (name.ends_with(".scope")) name.remove_suffix(6);
    for (std::string_view prefix : {"docker-", "cri-containerd-", "crio-", "libpod-"}) {
      if (name.starts_with(prefix)) {
        name.remove_prefix(prefix.size());
        break;
      }
    }
    if (IsHex(name) && name.size() == 64) {
      w.container = std::string(name);
      continue;
    }
    // kubepods-burstable-pod<uid with _>.slice or cgroupfs pod<uid>
    size_t pod = part.find("-pod");
    if (pod != std::string_view::npos && part.starts_with("kubepods")) {
      std::string_view uid = part.substr(pod + 4);
      if (uid.ends_with(".slice")) uid.remove_suffix(6);
      if (uid.size() >= 32) {
        w.pod_uid = std::string(uid);
        for (char& c : w.pod_uid) {
          if (c == '_') c = '-';
        }
      }
    } else if (part.starts_with("pod") && part.size() >= 35) {
      w.pod_uid = std::string(part.substr(3));
    }
  }
  return w;
}

Workload WorkloadOfPid(const std::string& procfs, unsigned pid) {
  std::string path = procfs + "/" + std::to_string(pid) + "/cgroup";
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return {};
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return {};
  return ClassifyCgroup(std::string_view(buf, static_cast<size_t>(n)));
}

}  // namespace gantry::agent
