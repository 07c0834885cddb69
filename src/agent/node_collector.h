// The node collector: CPU, memory, load, pressure, disks, filesystems and network from procfs
// and sysfs, under node-exporter's metric names (node_cpu_seconds_total{cpu,mode},
// node_memory_MemAvailable_bytes, node_load1, node_pressure_*, node_disk_*, node_filesystem_*,
// node_network_*). Everything is read at scrape time into buffers reused between scrapes; the
// roots are configurable (node-exporter's --path.procfs/--path.sysfs/--path.rootfs) so tests
// can point them at recorded files. One thread at a time.
#pragma once

#include <string>
#include <vector>

#include "agent/exposition.h"

namespace gantry::agent {

struct NodeCollectorOptions {
  std::string procfs = "/proc";
  std::string sysfs = "/sys";
  std::string rootfs = "/";
};

class NodeCollector {
 public:
  explicit NodeCollector(NodeCollectorOptions options);
  void Collect(MetricWriter& w);

 private:
  bool Read(const std::string& path);  // into buf_
  void Cpu(MetricWriter& w);
  void Memory(MetricWriter& w);
  void Load(MetricWriter& w);
  void Pressure(MetricWriter& w);
  void Disks(MetricWriter& w);
  void Filesystems(MetricWriter& w);
  void Network(MetricWriter& w);
  void Uname(MetricWriter& w);

  NodeCollectorOptions options_;
  double ticks_per_second_;
  std::string buf_, name_;
  std::vector<std::string> names_;
  std::vector<double> values_;
};

// node-exporter's default disk filter: partitions, ram, loop and floppy devices are skipped.
bool IgnoredDisk(std::string_view device);
// node-exporter's default filesystem filters (pseudo file systems and system mount points).
bool IgnoredFilesystem(std::string_view fstype, std::string_view mountpoint);

}  // namespace gantry::agent
