#include "lifecycle/pxe.h"

#include <signal.h>
#include <spdlog/spdlog.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "lifecycle/discovery.h"

namespace gantry::lifecycle {

namespace fs = std::filesystem;

namespace {

core::Status WriteAtomically(const std::string& path, const std::string& text) {
  std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    out << text;
    out.flush();
    if (!out) return core::Unavailable("cannot write " + tmp);
  }
  std::error_code ec;
  fs::rename(tmp, path, ec);
  if (ec) return core::Unavailable("cannot rename " + tmp + ": " + ec.message());
  return {};
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

bool IsIpv4(std::string_view s) {
  int dots = 0;
  for (char c : s) {
    if (c == '.') ++dots;
    else if (c < '0' || c > '9') return false;
  }
  return dots == 3 && s.size() <= 15 && s.size() >= 7;
}

}  // namespace

core::Result<DhcpRange> ParseDhcpRange(std::string_view s) {
  std::vector<std::string> parts;
  std::string cur;
  for (char c : s) {
    if (c == ',') {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  parts.push_back(cur);
  if (parts.size() < 2 || parts.size() > 4 || !IsIpv4(parts[0]) || !IsIpv4(parts[1]) ||
      (parts.size() > 2 && !IsIpv4(parts[2]))) {
    return core::InvalidArgument("a DHCP range is START,END[,NETMASK[,LEASE]] with IPv4 addresses",
                                 "dhcp-range");
  }
  DhcpRange r{parts[0], parts[1]};
  if (parts.size() > 2) r.netmask = parts[2];
  if (parts.size() > 3) {
    bool ok = !parts[3].empty();
    for (char c : parts[3]) ok = ok && ((c >= '0' && c <= '9') || c == 'h' || c == 'm' || c == 's');
    if (!ok) return core::InvalidArgument("lease time must look like 1h, 30m or 3600", "dhcp-range");
    r.lease = parts[3];
  }
  return r;
}

std::string RenderDnsmasqConf(const PxeConfig& c) {
  std::string s = "# Written by Gantry; edits are overwritten. Start: dnsmasq -C " + c.dir + "/dnsmasq.conf\n";
  s += "port=0\n";  // DHCP and TFTP only, no DNS
  if (!c.interface.empty()) s += "interface=" + c.interface + "\nbind-interfaces\n";
  for (const auto& r : c.ranges) s += "dhcp-range=" + r.start + "," + r.end + "," + r.netmask + "," + r.lease + "\n";
  s += "dhcp-authoritative\n";
  s += "dhcp-leasefile=" + c.dir + "/dnsmasq.leases\n";
  s += "dhcp-hostsfile=" + c.dir + "/hosts\n";
  s += "pid-file=" + (c.pid_file.empty() ? c.dir + "/dnsmasq.pid" : c.pid_file) + "\n";
  s += "log-dhcp\nlog-facility=" + c.dir + "/dnsmasq.log\n";
  s += "enable-tftp\ntftp-root=" + c.dir + "/tftp\n";
  // iPXE (user class "iPXE", option 175) gets the script that chains to Gantry; plain PXE ROMs
  // first get iPXE itself: undionly.kpxe on BIOS, ipxe.efi on x86-64 UEFI (client arch 7 or 9).
  s += "dhcp-match=set:ipxe,175\n";
  s += "dhcp-match=set:efi64,option:client-arch,7\ndhcp-match=set:efi64,option:client-arch,9\n";
  s += "dhcp-boot=tag:ipxe,boot.ipxe\n";
  s += "dhcp-boot=tag:!ipxe,tag:efi64,ipxe.efi\n";
  s += "dhcp-boot=tag:!ipxe,tag:!efi64,undionly.kpxe\n";
  if (c.router_advertisements && !c.interface.empty()) {
    s += "enable-ra\ndhcp-range=::,constructor:" + c.interface + ",ra-only\n";
  }
  return s;
}

std::string RenderHostsFile(const std::vector<Reservation>& rs) {
  std::string s;
  for (const auto& r : rs) s += r.mac + "," + r.ip + "," + r.hostname + "\n";
  return s;
}

std::string RenderBootIpxe(const PxeConfig& c) {
  return "#!ipxe\nchain " + c.boot_url + "/boot/ipxe?mac=${net0/mac}\n";
}

PxeManager::PxeManager(PxeConfig config, Service& service) : config_(std::move(config)), service_(service) {}

PxeManager::~PxeManager() { Stop(); }

core::Status PxeManager::WriteAll() {
  std::error_code ec;
  fs::create_directories(config_.dir + "/tftp", ec);
  if (ec) return core::Unavailable("cannot create " + config_.dir + "/tftp: " + ec.message());
  for (const char* f : {"undionly.kpxe", "ipxe.efi"}) {
    std::string src = config_.ipxe_dir + "/" + f;
    if (!fs::exists(src)) {
      spdlog::warn("pxe: {} is missing (install Debian's ipxe package)", src);
      continue;
    }
    fs::copy_file(src, config_.dir + "/tftp/" + f, fs::copy_options::overwrite_existing, ec);
    if (ec) return core::Unavailable("cannot copy " + src + ": " + ec.message());
  }
  GANTRY_TRY_STATUS(WriteAtomically(config_.dir + "/tftp/boot.ipxe", RenderBootIpxe(config_)));
  GANTRY_TRY_STATUS(WriteAtomically(config_.dir + "/dnsmasq.conf", RenderDnsmasqConf(config_)));
  if (!fs::exists(config_.dir + "/hosts")) GANTRY_TRY_STATUS(WriteAtomically(config_.dir + "/hosts", ""));
  GANTRY_TRY_STATUS(SyncReservations());
  return {};
}

core::Result<bool> PxeManager::SyncReservations() {
  std::vector<Reservation> rs;
  auto sys = core::RequestContext::System("pxe");
  NodeFilter f;
  f.limit = 1000;
  while (true) {
    GANTRY_TRY(auto nodes, service_.ListNodes(sys, f));
    for (const auto& n : nodes) {
      if (n.ip) rs.push_back({n.mac, *n.ip, n.name});
    }
    if (static_cast<int>(nodes.size()) < f.limit) break;
    f.after_id = nodes.back().id;
  }
  std::string text = RenderHostsFile(rs);
  std::lock_guard lock(mu_);
  if (text == hosts_ && fs::exists(config_.dir + "/hosts")) return false;
  GANTRY_TRY_STATUS(WriteAtomically(config_.dir + "/hosts", text));
  hosts_ = text;
  GANTRY_TRY_STATUS(Reload());
  return true;
}

core::Status PxeManager::Reload() {
  std::string pid_file = config_.pid_file.empty() ? config_.dir + "/dnsmasq.pid" : config_.pid_file;
  std::string text = ReadFile(pid_file);
  int pid = 0;
  try {
    pid = text.empty() ? 0 : std::stoi(text);
  } catch (...) {
    pid = 0;
  }
  if (pid <= 1) return {};  // dnsmasq not running (yet): it reads the files when it starts
  if (kill(pid, SIGHUP) != 0) spdlog::warn("pxe: cannot signal dnsmasq pid {}", pid);
  else spdlog::info("pxe: dnsmasq {} reloaded", pid);
  return {};
}

core::Result<int> PxeManager::ScanLeases() {
  std::string text = ReadFile(config_.dir + "/dnsmasq.leases");
  int reported = 0;
  auto sys = core::RequestContext::System("dhcp");
  for (const auto& l : ParseLeases(text)) {
    {
      std::lock_guard lock(mu_);
      auto it = seen_.find(l.mac);
      if (it != seen_.end() && it->second == l.ip) continue;
    }
    auto r = service_.ObserveDhcp(sys, DhcpSighting{l.mac, l.ip, l.hostname});
    if (!r) {
      spdlog::warn("pxe: lease {} {}: {}", l.mac, l.ip, r.error().message);
      continue;
    }
    std::lock_guard lock(mu_);
    seen_[l.mac] = l.ip;
    ++reported;
  }
  return reported;
}

void PxeManager::Start(std::chrono::milliseconds interval) {
  stop_ = false;
  thread_ = std::thread([this, interval] {
    while (!stop_) {
      if (auto r = ScanLeases(); !r) spdlog::warn("pxe: {}", r.error().message);
      if (auto r = SyncReservations(); !r) spdlog::warn("pxe: {}", r.error().message);
      std::unique_lock lock(stop_mu_);
      stop_cv_.wait_for(lock, interval, [this] { return stop_.load(); });
    }
  });
}

void PxeManager::Stop() {
  {
    std::lock_guard lock(stop_mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

}  // namespace gantry::lifecycle
