// Prometheus HTTP service discovery from the CMDB (http_sd_configs format: a JSON list of
// {"targets": [...], "labels": {...}}). Kinds:
//   agent  every server (not retired) at <primary_ip or name>:<agent_port>, for `gantry agent`
//   bmc    every server's BMC (contained bmc CI) at its address, for a Redfish/IPMI exporter
// Labels: gantry_ci, node, site, room, row, rack, location (site/room/row/rack), role,
// gpu_model, tenant, slurm_partition (comma-joined), status; a BMC target also has bmc and
// bmc_protocol. Relationships come from the CMDB's in-memory graph, CIs from one paged scan per
// type. Answers are cached: a request finding the answer older than `ttl` gets the cached one at
// once and starts one rebuild in the background (stale-while-revalidate), so only the first
// request after start waits for a build (~0.4 s of CPU for 20,000 servers). Prometheus polls
// every refresh_interval, often from several replicas. Thread-safe.
#pragma once

#include <chrono>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>

#include "cmdb/service.h"

namespace gantry::monitoring {

struct TargetsOptions {
  int agent_port = 9400;
  std::chrono::milliseconds ttl{10'000};
};

class TargetDirectory {
 public:
  TargetDirectory(cmdb::Service& cmdb, TargetsOptions options);
  ~TargetDirectory();  // waits for a background rebuild
  // The serialised JSON list for `kind` ("agent" or "bmc"); InvalidArgument for other kinds.
  core::Result<std::string> Targets(std::string_view kind);
  void Invalidate();

 private:
  core::Result<std::string> Build(std::string_view kind);
  void Refresh(std::string kind);  // on refresher_

  cmdb::Service& cmdb_;
  TargetsOptions options_;
  std::mutex mu_;
  struct Cached {
    std::string body;
    std::chrono::steady_clock::time_point at;
  };
  std::unordered_map<std::string, Cached> cache_;  // guarded by mu_
  std::mutex build_mu_;                             // one build at a time
  std::thread refresher_;                           // guarded by mu_
  bool refreshing_ = false;                         // guarded by mu_
};

}  // namespace gantry::monitoring
