// The dnsmasq Gantry owns: its configuration (DHCP ranges, host reservations, TFTP root with
// Debian's iPXE binaries, chain-loading to Gantry over HTTP), reloads, and the lease watcher
// that turns DHCP requests into discovered nodes.
//
// Files under PxeConfig::dir (written atomically: temp file + rename):
//   dnsmasq.conf   main configuration (start dnsmasq with -C DIR/dnsmasq.conf)
//   hosts          dhcp-hostsfile: one reservation per node with an address (re-read on SIGHUP)
//   tftp/          undionly.kpxe, ipxe.efi (copied from Debian's ipxe package), boot.ipxe
//   dnsmasq.leases the lease file Gantry watches; dnsmasq.pid when dnsmasq writes it
// Thread-safe.
#pragma once

#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "core/error.h"
#include "lifecycle/service.h"

namespace gantry::lifecycle {

struct DhcpRange {
  std::string start, end, netmask = "255.255.255.0", lease = "1h";
};

struct PxeConfig {
  std::string dir;                       // owned directory
  std::string interface;                 // empty: every interface
  std::vector<DhcpRange> ranges;
  std::string boot_url;                  // http://10.99.0.1:8080
  std::string ipxe_dir = "/usr/lib/ipxe";  // Debian's ipxe package
  bool router_advertisements = true;     // enable-ra: iPXE waits ~10 s for SLAAC without it
  std::string pid_file;                  // empty: DIR/dnsmasq.pid
};

struct Reservation {
  std::string mac, ip, hostname;
};

// The text of dnsmasq.conf, the hosts file and boot.ipxe (pure, for tests and review).
std::string RenderDnsmasqConf(const PxeConfig& c);
std::string RenderHostsFile(const std::vector<Reservation>& r);
std::string RenderBootIpxe(const PxeConfig& c);
// "10.99.0.100,10.99.0.199[,255.255.255.0[,1h]]" → a range; kInvalidArgument otherwise.
core::Result<DhcpRange> ParseDhcpRange(std::string_view s);

class PxeManager {
 public:
  PxeManager(PxeConfig config, Service& service);
  ~PxeManager();

  // Writes every file (copying the iPXE binaries) and reloads dnsmasq when it runs.
  core::Status WriteAll();
  // Rewrites the hosts file from the nodes with reserved addresses; SIGHUP to dnsmasq when it
  // changed. Returns whether it changed.
  core::Result<bool> SyncReservations();
  // Reads the lease file once and reports new or changed leases to the service.
  core::Result<int> ScanLeases();
  // A thread that scans leases every `interval` and syncs reservations.
  void Start(std::chrono::milliseconds interval);
  void Stop();
  const PxeConfig& config() const { return config_; }

 private:
  core::Status Reload();
  PxeConfig config_;
  Service& service_;
  std::mutex mu_;
  std::map<std::string, std::string> seen_;  // mac → ip already reported
  std::string hosts_;                        // last hosts file written
  std::atomic<bool> stop_{false};
  std::mutex stop_mu_;
  std::condition_variable stop_cv_;
  std::thread thread_;
};

}  // namespace gantry::lifecycle
