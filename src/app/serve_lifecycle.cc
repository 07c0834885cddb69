#include "app/serve_lifecycle.h"

#include <spdlog/spdlog.h>

#include <condition_variable>
#include <mutex>
#include <thread>

#include "app/commands.h"
#include "lifecycle/pxe.h"

namespace gantry::app {

void AddLifecycleFlags(CLI::App* cmd, LifecycleFlags& f) {
  const char* g = "Bare-metal lifecycle";
  cmd->add_option("--boot-url", f.boot_url, "Base URL booting nodes reach Gantry at (http://10.99.0.1:8080)")
      ->envname("GANTRY_BOOT_URL")->group(g);
  cmd->add_option("--pxe-dir", f.pxe_dir, "Directory of the dnsmasq Gantry owns: config, hosts, TFTP root, leases")
      ->group(g);
  cmd->add_option("--dhcp-interface", f.dhcp_interface, "Interface the managed dnsmasq serves")->group(g);
  cmd->add_option("--dhcp-range", f.dhcp_ranges, "START,END[,NETMASK[,LEASE]] (repeatable)")->group(g);
  cmd->add_option("--ipxe-dir", f.ipxe_dir, "Where Debian's ipxe package put undionly.kpxe and ipxe.efi")
      ->capture_default_str()->group(g);
  cmd->add_option("--op-timeout", f.op_timeout_s, "Seconds a node has to call back during an operation")
      ->check(CLI::Range(int64_t{1}, int64_t{86400}))->capture_default_str()->group(g);
  cmd->add_option("--kernel-args", f.kernel_args, "Appended to every booted kernel's command line")
      ->capture_default_str()->group(g);
  cmd->add_option("--ssh-key", f.ssh_keys, "Authorized key for deployed nodes (repeatable)")->group(g);
  cmd->add_option("--playbook-dir", f.playbook_dir, "Directory of the Ansible playbooks lifecycle.playbook runs")
      ->group(g);
  cmd->add_option("--lease-scan-ms", f.lease_scan_ms, "How often the dnsmasq lease file is read")
      ->check(CLI::Range(100, 60000))->capture_default_str()->group(g);
}

void ApplyLifecycleFlags(const LifecycleFlags& f, PlatformOptions& po) {
  po.lifecycle.boot_url = f.boot_url;
  while (!po.lifecycle.boot_url.empty() && po.lifecycle.boot_url.back() == '/') po.lifecycle.boot_url.pop_back();
  po.lifecycle.op_timeout_s = f.op_timeout_s;
  po.lifecycle.kernel_args = f.kernel_args;
  po.lifecycle.ssh_keys = f.ssh_keys;
  po.playbooks.dir = f.playbook_dir;
  for (const auto& r : f.dhcp_ranges) {
    if (auto parsed = lifecycle::ParseDhcpRange(r); !parsed) Fail(kExitUsage, parsed.error().message);
  }
  if (!f.pxe_dir.empty() && f.boot_url.empty()) Fail(kExitUsage, "--pxe-dir needs --boot-url");
}

struct LifecycleBackground::Impl {
  const LifecycleFlags& f;
  Platform& p;
  jobs::WorkerPool& workers;
  std::unique_ptr<lifecycle::PxeManager> pxe;
  std::thread sweeper;
  std::mutex mu;
  std::condition_variable cv;
  bool stop = false;
};

LifecycleBackground::LifecycleBackground(const LifecycleFlags& f, Platform& p, jobs::WorkerPool& workers)
    : impl_(new Impl{f, p, workers, nullptr, {}, {}, {}, false}) {}

LifecycleBackground::~LifecycleBackground() { Stop(); }

void LifecycleBackground::Start() {
  auto& i = *impl_;
  i.p.lifecycle().SetEnqueueHook([&w = i.workers] { w.Poke(); });
  if (!i.f.pxe_dir.empty()) {
    lifecycle::PxeConfig c;
    c.dir = i.f.pxe_dir;
    c.interface = i.f.dhcp_interface;
    c.boot_url = i.p.lifecycle().options().boot_url;
    c.ipxe_dir = i.f.ipxe_dir;
    for (const auto& r : i.f.dhcp_ranges) c.ranges.push_back(lifecycle::ParseDhcpRange(r).value());
    i.pxe = std::make_unique<lifecycle::PxeManager>(c, i.p.lifecycle());
    if (auto st = i.pxe->WriteAll(); !st) Fail(kExitUnavailable, st.error().message);
    spdlog::info("pxe: dnsmasq files in {} (start: dnsmasq -C {}/dnsmasq.conf)", c.dir, c.dir);
    i.pxe->Start(std::chrono::milliseconds(i.f.lease_scan_ms));
  }
  i.sweeper = std::thread([&i] {
    std::unique_lock lock(i.mu);
    while (!i.cv.wait_for(lock, std::chrono::seconds(2), [&i] { return i.stop; })) {
      lock.unlock();
      auto n = i.p.lifecycle().Sweep();
      if (!n) spdlog::warn("lifecycle sweep failed: {}", n.error().message);
      else if (*n > 0) spdlog::info("lifecycle: settled {} node(s) whose job ended", *n);
      lock.lock();
    }
  });
}

void LifecycleBackground::Stop() {
  auto& i = *impl_;
  {
    std::lock_guard lock(i.mu);
    i.stop = true;
  }
  i.cv.notify_all();
  if (i.sweeper.joinable()) i.sweeper.join();
  if (i.pxe) i.pxe->Stop();
}

}  // namespace gantry::app
