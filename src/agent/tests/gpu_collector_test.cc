// The GPU collector against the real H100 readings (tests/data/nvml-h100), replayed by the fake
// libnvidia-ml.so.1 built from tests/support/fake_nvml (no GPU on the test machines). The
// expected values are read from the same recorded dumps, so the test checks the whole path:
// dlopen, our NVML declarations, unit conversions and dcgm-exporter names and labels.
#include "agent/gpu_collector.h"

#include <gtest/gtest.h>
#include <stdlib.h>

#include <algorithm>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <thread>

#include "metrics_text.h"
#include "support/process.h"
#include "support/test_db.h"

namespace gantry::agent {
namespace {

using testing::Count;
using testing::Find;
namespace json = boost::json;

std::string DataDir() {
  return std::string(std::getenv("GANTRY_SOURCE_DIR")) + "/tests/data/nvml-h100";
}

double Num(const json::value& v) {
  return v.is_double() ? v.as_double() : static_cast<double>(v.to_number<int64_t>());
}

class GpuCollectorTest : public ::testing::TestWithParam<std::string> {
 protected:
  std::string Scrape(const std::string& dump, const std::string& procfs = "/proc",
                     const std::string& xid = "") {
    setenv("GANTRY_FAKE_NVML_DUMP", dump.c_str(), 1);
    if (xid.empty()) unsetenv("GANTRY_FAKE_NVML_XID");
    else setenv("GANTRY_FAKE_NVML_XID", xid.c_str(), 1);
    GpuCollectorOptions o;
    o.library = FAKE_NVML_PATH;
    o.hostname = "gpu-node-1";
    o.procfs = procfs;
    o.xid_events = !xid.empty();
    GpuCollector c(o);
    EXPECT_TRUE(c.Available()) << c.status();
    std::string out;
    // XID events arrive on the collector's event thread: scrape until all have been counted.
    size_t expected_xids = xid.empty() ? 0 : std::count(xid.begin(), xid.end(), ',') + 1;
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    for (;;) {
      out.clear();
      MetricWriter w(out, Format::kText);
      c.Collect(w);
      double seen = 0;
      for (const char* code : {"79", "48"}) {
        seen += Find(out, "gantry_gpu_xid_errors_total", {{"xid", code}}).value_or(0);
      }
      if (seen >= static_cast<double>(expected_xids) || std::chrono::steady_clock::now() > deadline) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return out;
  }
};

TEST_P(GpuCollectorTest, ExposesTheRecordedReadingsUnderDcgmNames) {
  std::string path = DataDir() + "/" + GetParam();
  json::object dump = json::parse(gantry::testing::ReadFile(path)).as_object();
  const json::object& g = dump["gpus"].as_array()[0].as_object();
  std::string t = Scrape(path);
  std::map<std::string, std::string> l = {
      {"gpu", "0"},
      {"UUID", std::string(g.at("uuid").as_string())},
      {"modelName", "NVIDIA H100 80GB HBM3"},
      {"Hostname", "gpu-node-1"},
      {"device", "nvidia0"},
      {"pci_bus_id", "00000000:00:06.0"}};
  const json::object& mem = g.at("memory").as_object();
  constexpr double kMiB = 1024 * 1024;
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_GPU_UTIL", l), Num(g.at("utilization").at("gpu")));
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_MEM_COPY_UTIL", l), Num(g.at("utilization").at("memory")));
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_FB_USED", l), std::floor(Num(mem.at("used")) / kMiB));
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_FB_FREE", l), std::floor(Num(mem.at("free")) / kMiB));
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_FB_TOTAL", l), std::floor(Num(mem.at("total")) / kMiB));
  EXPECT_EQ(Find(t, "gantry_gpu_memory_used_bytes", l), Num(mem.at("used")));
  EXPECT_EQ(Find(t, "gantry_gpu_memory_total_bytes", l), 85520809984.0);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_GPU_TEMP", l), Num(g.at("temperature_gpu")));
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_POWER_USAGE", l), Num(g.at("power_mw")) / 1000);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_POWER_MGMT_LIMIT", l), 700);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", l), Num(g.at("energy_mj")));
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_SM_CLOCK", l), Num(g.at("clock_sm_mhz")));
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_MEM_CLOCK", l), 2619);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_MAX_SM_CLOCK", l), 1980);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_PSTATE", l), 0);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_CLOCK_THROTTLE_REASONS", l), Num(g.at("throttle_reasons")));
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_ECC_CURRENT", l), 1);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_ECC_DBE_VOL_TOTAL", l), 0);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_ECC_SBE_AGG_TOTAL", l), 0);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_UNCORRECTABLE_REMAPPED_ROWS", l), 0);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_ROW_REMAP_FAILURE", l), 0);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_MIG_MODE", l), 0);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_PCIE_LINK_GEN", l), 5);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_PCIE_LINK_WIDTH", l), 16);
  EXPECT_EQ(Find(t, "gantry_gpu_lost", l), 0);
  EXPECT_EQ(Find(t, "gantry_gpu_devices"), 1);
  EXPECT_EQ(Find(t, "gantry_gpu_info", {{"serial", "1652524101554"},
                                        {"driver_version", "580.159.04"},
                                        {"vbios", "96.00.A5.00.01"}}),
            1);
  // "Not Supported" on H100 (row remapping replaced page retirement): no series, not a zero.
  EXPECT_EQ(Count(t, "DCGM_FI_DEV_RETIRED_DBE"), 0);
  // Single GPU, no NVLink: no NVLink error series.
  EXPECT_EQ(Count(t, "DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL"), 0);
  EXPECT_EQ(Count(t, "gantry_gpu_process_memory_used_bytes"),
            static_cast<int>(g.at("processes").as_array().size()));
}

INSTANTIATE_TEST_SUITE_P(RecordedH100, GpuCollectorTest,
                         ::testing::Values("nvml-dump.json", "nvml-dump-busy.json"));

TEST_F(GpuCollectorTest, BusyProcessIsMappedThroughItsCgroup) {
  // The recorded process (pid 445, 1050673152 bytes) placed in a Slurm job's cgroup.
  std::string procfs = gantry::testing::MakeTempDir("agent-proc");
  std::filesystem::create_directories(procfs + "/445");
  std::ofstream(procfs + "/445/cgroup") << "0::/system.slice/slurmstepd.scope/job_4711/step_0/user/task_0\n";
  std::string t = Scrape(DataDir() + "/nvml-dump-busy.json", procfs);
  EXPECT_EQ(Find(t, "gantry_gpu_process_memory_used_bytes",
                 {{"gpu", "0"}, {"pid", "445"}, {"slurm_job", "4711"}, {"container", ""}}),
            1050673152);
}

TEST_F(GpuCollectorTest, XidEventsAreCountedPerCode) {
  std::string t = Scrape(DataDir() + "/nvml-dump.json", "/proc", "0:79,0:48,0:79");
  EXPECT_EQ(Find(t, "gantry_gpu_xid_errors_total", {{"gpu", "0"}, {"xid", "79"}}), 2);
  EXPECT_EQ(Find(t, "gantry_gpu_xid_errors_total", {{"gpu", "0"}, {"xid", "48"}}), 1);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_XID_ERRORS", {{"gpu", "0"}}), 79);
}

TEST_F(GpuCollectorTest, LostGpuMigAndNvLinkVariants) {
  // The idle dump with a second GPU that fell off the bus, MIG enabled with two instances and
  // two NVLinks on GPU 0: shapes the single-GPU recording could not show.
  json::object dump =
      json::parse(gantry::testing::ReadFile(DataDir() + "/nvml-dump.json")).as_object();
  json::array& gpus = dump["gpus"].as_array();
  json::object lost = gpus[0].as_object();
  lost["uuid"] = "GPU-lost";
  lost["lost"] = true;
  json::object& g0 = gpus[0].as_object();
  g0["mig_mode"] = json::array{1, 1};
  g0["mig_devices"] = json::array{
      json::object{{"uuid", "MIG-a"}, {"gpu_instance_id", 1}, {"compute_instance_id", 0},
                   {"memory", json::object{{"total", 10485760000}, {"free", 0}, {"used", 4096}}}},
      json::object{{"uuid", "MIG-b"}, {"gpu_instance_id", 2}, {"compute_instance_id", 0},
                   {"memory", json::object{{"total", 10485760000}, {"free", 0}, {"used", 8192}}}}};
  g0["nvlink"] = json::array{json::object{{"state", 1}, {"crc_flit", 3}, {"replay", 1}},
                             json::object{{"state", 1}, {"crc_flit", 4}, {"recovery", 2}}};
  gpus.push_back(lost);
  std::string path = gantry::testing::MakeTempDir("agent-nvml") + "/dump.json";
  std::ofstream(path) << json::serialize(dump);
  std::string t = Scrape(path);
  EXPECT_EQ(Find(t, "gantry_gpu_devices"), 2);
  EXPECT_EQ(Find(t, "gantry_gpu_lost", {{"gpu", "1"}, {"UUID", "GPU-lost"}}), 1);
  EXPECT_EQ(Find(t, "gantry_gpu_lost", {{"gpu", "0"}}), 0);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_GPU_TEMP", {{"gpu", "1"}}), std::nullopt);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_MIG_MODE", {{"gpu", "0"}}), 1);
  EXPECT_EQ(Find(t, "gantry_gpu_mig_instance_memory_used_bytes", {{"GPU_I_ID", "2"}, {"mig_uuid", "MIG-b"}}), 8192);
  EXPECT_EQ(Count(t, "gantry_gpu_mig_instance_memory_used_bytes"), 2);
  EXPECT_EQ(Find(t, "gantry_gpu_nvlink_active_links", {{"gpu", "0"}}), 2);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_NVLINK_CRC_FLIT_ERROR_COUNT_TOTAL", {{"gpu", "0"}}), 7);
  EXPECT_EQ(Find(t, "DCGM_FI_DEV_NVLINK_RECOVERY_ERROR_COUNT_TOTAL", {{"gpu", "0"}}), 2);
}

TEST(GpuCollector, AbsentNvmlIsReportedNotFatal) {
  GpuCollectorOptions o;
  o.library = "/nonexistent/libnvidia-ml.so.1";
  GpuCollector c(o);
  EXPECT_FALSE(c.Available());
  EXPECT_NE(c.status().find("cannot load"), std::string::npos) << c.status();
  std::string out;
  MetricWriter w(out, Format::kText);
  c.Collect(w);
  EXPECT_EQ(out, "");
}

TEST(GpuCollector, LibraryWithoutNvmlSymbolsIsRejected) {
  GpuCollectorOptions o;
  o.library = "libz.so.1";
  GpuCollector c(o);
  EXPECT_FALSE(c.Available());
  EXPECT_NE(c.status().find("not NVML"), std::string::npos) << c.status();
}

}  // namespace
}  // namespace gantry::agent
