#include "agent/node_collector.h"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "metrics_text.h"
#include "support/test_db.h"

namespace gantry::agent {
namespace {

using testing::Count;
using testing::Find;

void Write(const std::string& path, const std::string& text) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream(path) << text;
}

// A procfs made of files in the formats of Linux 6.x, so every value is known.
class NodeCollectorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = gantry::testing::MakeTempDir("agent-procfs");
    Write(dir_ + "/stat",
          "cpu  1000 20 300 40000 50 6 7 8 0 0\n"
          "cpu0 600 10 200 20000 25 3 4 5 0 0\n"
          "cpu1 400 10 100 20000 25 3 3 3 0 0\n"
          "intr 123456 0 0\nctxt 987654\nbtime 1764000000\nprocesses 4242\n"
          "procs_running 3\nprocs_blocked 1\n");
    Write(dir_ + "/meminfo",
          "MemTotal:       16318640 kB\nMemFree:         1000000 kB\n"
          "MemAvailable:   12000000 kB\nActive(anon):     500000 kB\n"
          "HugePages_Total:       0\n");
    Write(dir_ + "/loadavg", "0.52 0.58 1.25 2/345 12345\n");
    Write(dir_ + "/pressure/cpu", "some avg10=0.00 avg60=0.00 avg300=0.00 total=2500000\n"
                                  "full avg10=0.00 avg60=0.00 avg300=0.00 total=0\n");
    Write(dir_ + "/pressure/memory", "some avg10=0.00 avg60=0.00 avg300=0.00 total=1500\n"
                                     "full avg10=0.00 avg60=0.00 avg300=0.00 total=1000\n");
    Write(dir_ + "/pressure/io", "some avg10=0.00 avg60=0.00 avg300=0.00 total=3000000\n"
                                 "full avg10=0.00 avg60=0.00 avg300=0.00 total=2000000\n");
    Write(dir_ + "/diskstats",
          " 259       0 nvme0n1 1000 10 20000 500 2000 20 40000 700 0 1200 1300 0 0 0 0\n"
          " 259       1 nvme0n1p1 900 10 18000 450 1900 20 38000 650 0 1100 1200 0 0 0 0\n"
          "   7       0 loop0 5 0 10 0 0 0 0 0 0 0 0 0 0 0 0\n"
          "   8       0 sda 10 0 8 1 0 0 0 0 2 3 4\n"
          "   8       1 sda1 10 0 8 1 0 0 0 0 0 3 4\n");
    Write(dir_ + "/net/dev",
          "Inter-|   Receive                                                |  Transmit\n"
          " face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed\n"
          "    lo:  5000      50    0    0    0     0          0         0     5000      50    0    0    0     0       0          0\n"
          "  eth0: 123456789 1000   1    2    0     0          0         7  987654321  2000    3    4    0     5       0          0\n");
    Write(dir_ + "/mounts",
          "/dev/root / ext4 rw,relatime 0 0\n"
          "proc /proc proc rw 0 0\n"
          "tmpfs /dev/shm tmpfs rw 0 0\n"
          "overlay /var/lib/docker/overlay2/x/merged overlay rw 0 0\n"
          "/dev/root / ext4 rw,relatime 0 0\n");
  }
  std::string Scrape() {
    NodeCollector c({dir_, dir_ + "/sys", "/"});
    std::string out;
    MetricWriter w(out, Format::kText);
    c.Collect(w);
    return out;
  }
  std::string dir_;
};

TEST_F(NodeCollectorTest, CpuInSecondsPerModeFromUserHz) {
  std::string t = Scrape();
  double hz = static_cast<double>(sysconf(_SC_CLK_TCK));
  EXPECT_EQ(Find(t, "node_cpu_seconds_total", {{"cpu", "0"}, {"mode", "user"}}), 600 / hz);
  EXPECT_EQ(Find(t, "node_cpu_seconds_total", {{"cpu", "1"}, {"mode", "steal"}}), 3 / hz);
  EXPECT_EQ(Count(t, "node_cpu_seconds_total"), 16);  // 2 CPUs x 8 modes; the "cpu" sum line skipped
  EXPECT_EQ(Find(t, "node_context_switches_total"), 987654);
  EXPECT_EQ(Find(t, "node_boot_time_seconds"), 1764000000);
  EXPECT_EQ(Find(t, "node_forks_total"), 4242);
  EXPECT_EQ(Find(t, "node_procs_running"), 3);
}

TEST_F(NodeCollectorTest, MemoryLoadAndPressure) {
  std::string t = Scrape();
  EXPECT_EQ(Find(t, "node_memory_MemTotal_bytes"), 16318640.0 * 1024);
  EXPECT_EQ(Find(t, "node_memory_MemAvailable_bytes"), 12000000.0 * 1024);
  EXPECT_EQ(Find(t, "node_memory_Active_anon_bytes"), 500000.0 * 1024);
  EXPECT_EQ(Find(t, "node_memory_HugePages_Total"), 0);
  EXPECT_EQ(Find(t, "node_load1"), 0.52);
  EXPECT_EQ(Find(t, "node_load15"), 1.25);
  EXPECT_EQ(Find(t, "node_pressure_cpu_waiting_seconds_total"), 2.5);
  EXPECT_EQ(Find(t, "node_pressure_memory_stalled_seconds_total"), 0.001);
  EXPECT_EQ(Find(t, "node_pressure_io_waiting_seconds_total"), 3);
  EXPECT_EQ(Find(t, "node_pressure_io_stalled_seconds_total"), 2);
}

TEST_F(NodeCollectorTest, DisksSkipPartitionsAndLoops) {
  std::string t = Scrape();
  EXPECT_EQ(Find(t, "node_disk_reads_completed_total", {{"device", "nvme0n1"}}), 1000);
  EXPECT_EQ(Find(t, "node_disk_read_bytes_total", {{"device", "nvme0n1"}}), 20000.0 * 512);
  EXPECT_EQ(Find(t, "node_disk_written_bytes_total", {{"device", "nvme0n1"}}), 40000.0 * 512);
  EXPECT_EQ(Find(t, "node_disk_io_time_seconds_total", {{"device", "nvme0n1"}}), 1.2);
  EXPECT_EQ(Find(t, "node_disk_io_now", {{"device", "sda"}}), 2);
  EXPECT_EQ(Count(t, "node_disk_reads_completed_total"), 2);  // nvme0n1, sda
  EXPECT_TRUE(IgnoredDisk("nvme0n1p1"));
  EXPECT_TRUE(IgnoredDisk("sda1"));
  EXPECT_TRUE(IgnoredDisk("loop7"));
  EXPECT_FALSE(IgnoredDisk("nvme0n1"));
  EXPECT_FALSE(IgnoredDisk("md0"));
  EXPECT_FALSE(IgnoredDisk("dm-0"));
}

TEST_F(NodeCollectorTest, NetworkAndFilesystems) {
  std::string t = Scrape();
  EXPECT_EQ(Find(t, "node_network_receive_bytes_total", {{"device", "eth0"}}), 123456789);
  EXPECT_EQ(Find(t, "node_network_receive_multicast_total", {{"device", "eth0"}}), 7);
  EXPECT_EQ(Find(t, "node_network_transmit_bytes_total", {{"device", "eth0"}}), 987654321);
  EXPECT_EQ(Find(t, "node_network_transmit_colls_total", {{"device", "eth0"}}), 5);
  EXPECT_EQ(Find(t, "node_network_receive_bytes_total", {{"device", "lo"}}), 5000);
  // "/" once (deduplicated); /proc, /dev/shm and the overlay are filtered like node-exporter.
  EXPECT_EQ(Count(t, "node_filesystem_size_bytes"), 1);
  auto size = Find(t, "node_filesystem_size_bytes", {{"mountpoint", "/"}, {"fstype", "ext4"}});
  ASSERT_TRUE(size);
  EXPECT_GT(*size, 0);
  EXPECT_TRUE(Find(t, "node_filesystem_avail_bytes", {{"mountpoint", "/"}}));
  EXPECT_TRUE(IgnoredFilesystem("ext4", "/var/lib/containers/storage/overlay"));
  EXPECT_FALSE(IgnoredFilesystem("ext4", "/devices"));
}

TEST_F(NodeCollectorTest, MissingFilesAreSkippedNotFatal) {
  NodeCollector c({"/nonexistent-procfs", "/nonexistent-sysfs", "/"});
  std::string out;
  MetricWriter w(out, Format::kText);
  c.Collect(w);
  EXPECT_EQ(Count(out, "node_cpu_seconds_total"), 0);
  EXPECT_TRUE(Find(out, "node_time_seconds"));
}

TEST(NodeCollector, RealProcfsScrapeIsBoundedAndReusesBuffers) {
  NodeCollector c({});
  std::string out;
  for (int i = 0; i < 3; ++i) {
    out.clear();
    MetricWriter w(out, Format::kText);
    c.Collect(w);
  }
  EXPECT_GT(Count(out, "node_cpu_seconds_total"), 0);
  EXPECT_TRUE(Find(out, "node_memory_MemAvailable_bytes"));
  EXPECT_TRUE(Find(out, "node_load1"));
  EXPECT_LT(out.size(), 1u << 20);
}

}  // namespace
}  // namespace gantry::agent
