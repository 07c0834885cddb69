// What `gantry serve` adds for the bare-metal lifecycle: its flags (boot URL, the dnsmasq it
// owns, timeouts, playbooks) and the background work (dnsmasq files and lease watching, the
// sweeper that settles operations whose job ended without its handler).
#pragma once

#include <CLI/CLI.hpp>
#include <memory>
#include <string>
#include <vector>

#include "app/platform.h"
#include "jobs/worker.h"

namespace gantry::app {

struct LifecycleFlags {
  std::string boot_url;
  std::string pxe_dir;
  std::string dhcp_interface;
  std::vector<std::string> dhcp_ranges;
  std::string ipxe_dir = "/usr/lib/ipxe";
  int64_t op_timeout_s = 1800;
  std::string kernel_args = "console=ttyS0";
  std::vector<std::string> ssh_keys;
  std::string playbook_dir;
  int lease_scan_ms = 1000;
};

void AddLifecycleFlags(CLI::App* cmd, LifecycleFlags& f);
// Fills PlatformOptions::lifecycle and ::playbooks; fails the command on a bad --dhcp-range.
void ApplyLifecycleFlags(const LifecycleFlags& f, PlatformOptions& po);

class LifecycleBackground {
 public:
  LifecycleBackground(const LifecycleFlags& f, Platform& p, jobs::WorkerPool& workers);
  ~LifecycleBackground();
  void Start();
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace gantry::app
