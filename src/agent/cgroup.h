// Which workload a process belongs to, read from its /proc/<pid>/cgroup: a Slurm job (slurmstepd
// cgroups, v1 and v2), a container (Docker, containerd/CRI, CRI-O, Podman) and its Kubernetes pod.
// Pure functions; thread-safe.
#pragma once

#include <string>
#include <string_view>

namespace gantry::agent {

struct Workload {
  std::string slurm_job;  // "1234", or empty
  std::string container;  // container id (hex), or empty
  std::string pod_uid;    // Kubernetes pod UID, or empty
  std::string cgroup;     // the cgroup path the answer came from
};

// Parses the contents of a /proc/<pid>/cgroup file.
Workload ClassifyCgroup(std::string_view cgroup_file);
// Reads <procfs>/<pid>/cgroup; an empty Workload when the process is gone or unreadable.
Workload WorkloadOfPid(const std::string& procfs, unsigned pid);

}  // namespace gantry::agent
