#include "agent/node_collector.h"

#include <fcntl.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

#include <array>
#include <cctype>
#include <charconv>
#include <chrono>
#include <cstdlib>

namespace gantry::agent {

namespace {

constexpr size_t kMaxFileBytes = 4 << 20;  // /proc files larger than this are truncated

// Splits on spaces/tabs; returns the next field.
std::string_view NextField(std::string_view& s) {
  size_t i = 0;
  while (i < s.size() && (s[i] == ' ' || s[i] == '\t')) ++i;
  size_t j = i;
  while (j < s.size() && s[j] != ' ' && s[j] != '\t') ++j;
  std::string_view f = s.substr(i, j - i);
  s.remove_prefix(j);
  return f;
}

std::string_view NextLine(std::string_view& s) {
  size_t nl = s.find('\n');
  std::string_view line = s.substr(0, nl);
  s = nl == std::string_view::npos ? std::string_view{} : s.substr(nl + 1);
  return line;
}

double ToDouble(std::string_view f) {
  double v = 0;
  std::from_chars(f.data(), f.data() + f.size(), v);
  return v;
}

bool AllDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!std::isdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

bool IgnoredDisk(std::string_view d) {
  // ^(z?ram|loop|fd|(h|s|v|xv)d[a-z]|nvme\d+n\d+p)\d+$
  auto digits_to_end = [](std::string_view rest) { return AllDigits(rest); };
  for (std::string_view p : {"ram", "zram", "loop", "fd"}) {
    if (d.starts_with(p) && digits_to_end(d.substr(p.size()))) return true;
  }
  for (std::string_view p : {"hd", "sd", "vd", "xvd"}) {
    if (d.starts_with(p) && d.size() > p.size() + 1 &&
        std::islower(static_cast<unsigned char>(d[p.size()])) &&
        digits_to_end(d.substr(p.size() + 1))) {
      return true;
    }
  }
  if (d.starts_with("nvme")) {
    size_t n = d.find('n', 4);
    size_t p = d.find('p', 4);
    if (n != std::string_view::npos && p != std::string_view::npos && n < p &&
        AllDigits(d.substr(4, n - 4)) && AllDigits(d.substr(n + 1, p - n - 1)) &&
        AllDigits(d.substr(p + 1))) {
      return true;
    }
  }
  return false;
}

bool IgnoredFilesystem(std::string_view fstype, std::string_view mp) {
  static constexpr std::string_view kTypes[] = {
      "autofs",     "binfmt_misc", "bpf",     "cgroup",    "cgroup2", "configfs",
      "debugfs",    "devpts",      "devtmpfs", "fusectl",  "hugetlbfs", "iso9660",
      "mqueue",     "nsfs",        "overlay", "proc",      "procfs",  "pstore",
      "rpc_pipefs", "securityfs",  "selinuxfs", "squashfs", "sysfs",   "tracefs"};
  for (auto t : kTypes) {
    if (fstype == t) return true;
  }
  // ^/(dev|proc|run/credentials/.+|sys|var/lib/docker/.+|var/lib/containers/storage/.+)($|/)
  for (std::string_view p : {"/dev", "/proc", "/sys"}) {
    if (mp == p || (mp.starts_with(p) && mp.size() > p.size() && mp[p.size()] == '/')) return true;
  }
  for (std::string_view p :
       {"/run/credentials/", "/var/lib/docker/", "/var/lib/containers/storage/"}) {
    if (mp.starts_with(p) && mp.size() > p.size()) return true;
  }
  return false;
}

NodeCollector::NodeCollector(NodeCollectorOptions options) : options_(std::move(options)) {
  long hz = sysconf(_SC_CLK_TCK);
  ticks_per_second_ = hz > 0 ? static_cast<double>(hz) : 100.0;
  buf_.reserve(64 * 1024);
}

bool NodeCollector::Read(const std::string& path) {
  buf_.clear();
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return false;
  char chunk[16384];
  for (;;) {
    ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n <= 0) break;
    buf_.append(chunk, static_cast<size_t>(n));
    if (buf_.size() > kMaxFileBytes) break;
  }
  ::close(fd);
  return true;
}

void NodeCollector::Collect(MetricWriter& w) {
  Cpu(w);
  Memory(w);
  Load(w);
  Pressure(w);
  Disks(w);
  Filesystems(w);
  Network(w);
  Uname(w);
  w.Family("node_time_seconds", "gauge", "System time in seconds since epoch (1970).");
  w.Sample(std::span<const Label>(),
           std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
}

void NodeCollector::Cpu(MetricWriter& w) {
  if (!Read(options_.procfs + "/stat")) return;
  static constexpr std::string_view kModes[] = {"user", "nice",    "system", "idle",
                                                "iowait", "irq", "softirq", "steal"};
  w.Family("node_cpu_seconds_total", "counter", "Seconds the CPUs spent in each mode.");
  std::string_view s = buf_;
  double ctxt = -1, btime = -1, forks = -1, running = -1, blocked = -1, intr = -1;
  while (!s.empty()) {
    std::string_view line = NextLine(s);
    std::string_view key = NextField(line);
    if (key.starts_with("cpu") && key.size() > 3) {
      std::string_view cpu = key.substr(3);
      for (auto mode : kModes) {
        std::string_view f = NextField(line);
        if (f.empty()) break;
        w.Sample({{"cpu", cpu}, {"mode", mode}}, ToDouble(f) / ticks_per_second_);
      }
    } else if (key == "ctxt") {
      ctxt = ToDouble(NextField(line));
    } else if (key == "btime") {
      btime = ToDouble(NextField(line));
    } else if (key == "processes") {
      forks = ToDouble(NextField(line));
    } else if (key == "procs_running") {
      running = ToDouble(NextField(line));
    } else if (key == "procs_blocked") {
      blocked = ToDouble(NextField(line));
    } else if (key == "intr") {
      intr = ToDouble(NextField(line));
    }
  }
  auto one = [&](const char* name, const char* type, const char* help, double v) {
    if (v < 0) return;
    w.Family(name, type, help);
    w.Sample(std::span<const Label>(), v);
  };
  one("node_context_switches_total", "counter", "Total number of context switches.", ctxt);
  one("node_boot_time_seconds", "gauge", "Node boot time, in unixtime.", btime);
  one("node_forks_total", "counter", "Total number of forks.", forks);
  one("node_intr_total", "counter", "Total number of interrupts serviced.", intr);
  one("node_procs_running", "gauge", "Number of processes in runnable state.", running);
  one("node_procs_blocked", "gauge", "Number of processes blocked waiting for I/O to complete.",
      blocked);
}

void NodeCollector::Memory(MetricWriter& w) {
  if (!Read(options_.procfs + "/meminfo")) return;
  std::string_view s = buf_;
  while (!s.empty()) {
    std::string_view line = NextLine(s);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view key = line.substr(0, colon);
    std::string_view rest = line.substr(colon + 1);
    double v = ToDouble(NextField(rest));
    std::string_view unit = NextField(rest);
    name_ = "node_memory_";
    for (char c : key) {
      if (c == '(') name_ += '_';
      else if (c != ')') name_ += c;
    }
    if (unit == "kB") {
      name_ += "_bytes";
      v *= 1024;
    }
    std::string help = "Memory information field " + std::string(key) + ".";
    w.Family(name_, "gauge", help);
    w.Sample(std::span<const Label>(), v);
  }
}

void NodeCollector::Load(MetricWriter& w) {
  if (!Read(options_.procfs + "/loadavg")) return;
  std::string_view s = buf_;
  const char* names[] = {"node_load1", "node_load5", "node_load15"};
  const char* helps[] = {"1m load average.", "5m load average.", "15m load average."};
  for (int i = 0; i < 3; ++i) {
    std::string_view f = NextField(s);
    if (f.empty()) return;
    w.Family(names[i], "gauge", helps[i]);
    w.Sample(std::span<const Label>(), ToDouble(f));
  }
}

void NodeCollector::Pressure(MetricWriter& w) {
  struct Item {
    const char* resource;
    const char* some_name;
    const char* full_name;
  };
  static constexpr Item kItems[] = {
      {"cpu", "node_pressure_cpu_waiting_seconds_total", nullptr},
      {"memory", "node_pressure_memory_waiting_seconds_total",
       "node_pressure_memory_stalled_seconds_total"},
      {"io", "node_pressure_io_waiting_seconds_total", "node_pressure_io_stalled_seconds_total"}};
  for (const auto& item : kItems) {
    if (!Read(options_.procfs + "/pressure/" + item.resource)) continue;
    std::string_view s = buf_;
    while (!s.empty()) {
      std::string_view line = NextLine(s);
      std::string_view kind = NextField(line);
      const char* name = kind == "some" ? item.some_name : kind == "full" ? item.full_name : nullptr;
      if (!name) continue;
      size_t t = line.find("total=");
      if (t == std::string_view::npos) continue;
      double us = ToDouble(NextField(line = line.substr(t + 6)));
      std::string help = std::string("Total time in seconds that processes have ") +
                         (kind == "some" ? "waited for " : "stalled due to ") + item.resource + ".";
      w.Family(name, "counter", help);
      w.Sample(std::span<const Label>(), us / 1e6);
    }
  }
}

void NodeCollector::Disks(MetricWriter& w) {
  if (!Read(options_.procfs + "/diskstats")) return;
  // Columns after major, minor, name (Documentation/admin-guide/iostats.rst).
  struct Column {
    int index;
    const char* name;
    const char* type;
    double scale;
    const char* help;
  };
  static constexpr Column kColumns[] = {
      {0, "node_disk_reads_completed_total", "counter", 1, "The total number of reads completed successfully."},
      {1, "node_disk_reads_merged_total", "counter", 1, "The total number of reads merged."},
      {2, "node_disk_read_bytes_total", "counter", 512, "The total number of bytes read successfully."},
      {3, "node_disk_read_time_seconds_total", "counter", 0.001, "The total number of seconds spent by all reads."},
      {4, "node_disk_writes_completed_total", "counter", 1, "The total number of writes completed successfully."},
      {5, "node_disk_writes_merged_total", "counter", 1, "The number of writes merged."},
      {6, "node_disk_written_bytes_total", "counter", 512, "The total number of bytes written successfully."},
      {7, "node_disk_write_time_seconds_total", "counter", 0.001, "This is the total number of seconds spent by all writes."},
      {8, "node_disk_io_now", "gauge", 1, "The number of I/Os currently in progress."},
      {9, "node_disk_io_time_seconds_total", "counter", 0.001, "Total seconds spent doing I/Os."},
      {10, "node_disk_io_time_weighted_seconds_total", "counter", 0.001, "The weighted # of seconds spent doing I/Os."}};
  constexpr size_t kCols = 11;
  names_.clear();
  values_.clear();
  std::string_view s = buf_;
  while (!s.empty() && names_.size() < 4096) {
    std::string_view line = NextLine(s);
    NextField(line);
    NextField(line);
    std::string_view dev = NextField(line);
    if (dev.empty() || IgnoredDisk(dev)) continue;
    names_.emplace_back(dev);
    for (size_t c = 0; c < kCols; ++c) values_.push_back(ToDouble(NextField(line)));
  }
  if (names_.empty()) return;
  for (const auto& col : kColumns) {
    w.Family(col.name, col.type, col.help);
    for (size_t d = 0; d < names_.size(); ++d) {
      w.Sample({{"device", names_[d]}}, values_[d * kCols + col.index] * col.scale);
    }
  }
}

void NodeCollector::Filesystems(MetricWriter& w) {
  if (!Read(options_.procfs + "/mounts")) return;
  struct Fs {
    std::string device, mountpoint, fstype;
    struct statvfs st;
  };
  thread_local std::vector<Fs> list;
  list.clear();
  std::string_view s = buf_;
  while (!s.empty() && list.size() < 1024) {
    std::string_view line = NextLine(s);
    std::string_view dev = NextField(line), mp = NextField(line), type = NextField(line);
    if (mp.empty() || IgnoredFilesystem(type, mp)) continue;
    bool dup = false;
    for (const auto& f : list) dup = dup || f.mountpoint == mp;
    if (dup) continue;
    Fs f{std::string(dev), std::string(mp), std::string(type), {}};
    std::string path = options_.rootfs == "/" ? f.mountpoint : options_.rootfs + f.mountpoint;
    if (::statvfs(path.c_str(), &f.st) != 0) continue;
    list.push_back(std::move(f));
  }
  if (list.empty()) return;
  auto family = [&](const char* name, const char* help, auto value) {
    w.Family(name, "gauge", help);
    for (const auto& f : list) {
      w.Sample({{"device", f.device}, {"fstype", f.fstype}, {"mountpoint", f.mountpoint}},
               static_cast<double>(value(f.st)));
    }
  };
  family("node_filesystem_size_bytes", "Filesystem size in bytes.",
         [](const struct statvfs& st) { return static_cast<double>(st.f_blocks) * st.f_frsize; });
  family("node_filesystem_free_bytes", "Filesystem free space in bytes.",
         [](const struct statvfs& st) { return static_cast<double>(st.f_bfree) * st.f_frsize; });
  family("node_filesystem_avail_bytes", "Filesystem space available to non-root users in bytes.",
         [](const struct statvfs& st) { return static_cast<double>(st.f_bavail) * st.f_frsize; });
  family("node_filesystem_files", "Filesystem total file nodes.",
         [](const struct statvfs& st) { return static_cast<double>(st.f_files); });
  family("node_filesystem_files_free", "Filesystem total free file nodes.",
         [](const struct statvfs& st) { return static_cast<double>(st.f_ffree); });
  family("node_filesystem_readonly", "Filesystem read-only status.",
         [](const struct statvfs& st) { return (st.f_flag & ST_RDONLY) ? 1.0 : 0.0; });
}

void NodeCollector::Network(MetricWriter& w) {
  if (!Read(options_.procfs + "/net/dev")) return;
  struct Column {
    int index;
    const char* name;
    const char* help;
  };
  static constexpr Column kColumns[] = {
      {0, "node_network_receive_bytes_total", "Network device statistic receive_bytes."},
      {1, "node_network_receive_packets_total", "Network device statistic receive_packets."},
      {2, "node_network_receive_errs_total", "Network device statistic receive_errs."},
      {3, "node_network_receive_drop_total", "Network device statistic receive_drop."},
      {7, "node_network_receive_multicast_total", "Network device statistic receive_multicast."},
      {8, "node_network_transmit_bytes_total", "Network device statistic transmit_bytes."},
      {9, "node_network_transmit_packets_total", "Network device statistic transmit_packets."},
      {10, "node_network_transmit_errs_total", "Network device statistic transmit_errs."},
      {11, "node_network_transmit_drop_total", "Network device statistic transmit_drop."},
      {13, "node_network_transmit_colls_total", "Network device statistic transmit_colls."}};
  constexpr size_t kCols = 16;
  names_.clear();
  values_.clear();
  std::string_view s = buf_;
  NextLine(s);
  NextLine(s);
  while (!s.empty() && names_.size() < 4096) {
    std::string_view line = NextLine(s);
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) continue;
    std::string_view dev = line.substr(0, colon);
    while (!dev.empty() && dev.front() == ' ') dev.remove_prefix(1);
    line = line.substr(colon + 1);
    names_.emplace_back(dev);
    for (size_t c = 0; c < kCols; ++c) values_.push_back(ToDouble(NextField(line)));
  }
  if (names_.empty()) return;
  for (const auto& col : kColumns) {
    w.Family(col.name, "counter", col.help);
    for (size_t d = 0; d < names_.size(); ++d) {
      w.Sample({{"device", names_[d]}}, values_[d * kCols + col.index]);
    }
  }
}

void NodeCollector::Uname(MetricWriter& w) {
  struct utsname u;
  if (::uname(&u) != 0) return;
  w.Family("node_uname_info", "gauge", "Labeled system information as provided by the uname system call.");
  w.Sample({{"sysname", u.sysname}, {"release", u.release}, {"version", u.version},
            {"machine", u.machine}, {"nodename", u.nodename}, {"domainname", u.domainname}},
           1);
}

}  // namespace gantry::agent
