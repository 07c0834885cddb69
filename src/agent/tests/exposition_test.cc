#include "agent/exposition.h"

#include <gtest/gtest.h>

#include <cmath>

namespace gantry::agent {
namespace {

TEST(Exposition, TextFormatFamiliesLabelsAndEscaping) {
  std::string out;
  MetricWriter w(out, Format::kText);
  w.Family("node_cpu_seconds_total", "counter", "Seconds.");
  w.Sample({{"cpu", "0"}, {"mode", "user"}}, 12.5);
  w.Family("x_info", "gauge", "Line\nbreak \\ help.");
  w.Sample({{"v", "a\"b\\c\nd"}}, 1);
  w.Finish();
  EXPECT_EQ(out,
            "# HELP node_cpu_seconds_total Seconds.\n"
            "# TYPE node_cpu_seconds_total counter\n"
            "node_cpu_seconds_total{cpu=\"0\",mode=\"user\"} 12.5\n"
            "# HELP x_info Line\\nbreak \\\\ help.\n"
            "# TYPE x_info gauge\n"
            "x_info{v=\"a\\\"b\\\\c\\nd\"} 1\n");
}

TEST(Exposition, OpenMetricsCountersAndEof) {
  std::string out;
  MetricWriter w(out, Format::kOpenMetrics);
  w.Family("node_forks_total", "counter", "Forks.");
  w.Sample(std::span<const Label>(), 7);
  w.Family("DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION", "counter", "mJ.");
  w.Sample({{"gpu", "0"}}, 2194397);
  w.Finish();
  EXPECT_EQ(out,
            "# HELP node_forks Forks.\n# TYPE node_forks counter\nnode_forks_total 7\n"
            "# HELP DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION mJ.\n"
            "# TYPE DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION unknown\n"
            "DCGM_FI_DEV_TOTAL_ENERGY_CONSUMPTION{gpu=\"0\"} 2194397\n# EOF\n");
}

TEST(Exposition, Values) {
  std::string s;
  AppendValue(s, 85520809984.0);
  s += ' ';
  AppendValue(s, 74.009);
  s += ' ';
  AppendValue(s, NAN);
  s += ' ';
  AppendValue(s, -INFINITY);
  s += ' ';
  AppendValue(s, 1e300);
  EXPECT_EQ(s, "85520809984 74.009 NaN -Inf 1e+300");
}

TEST(Exposition, NegotiatesOpenMetricsOnlyWhenAsked) {
  EXPECT_EQ(NegotiateFormat(""), Format::kText);
  EXPECT_EQ(NegotiateFormat("text/plain;version=0.0.4"), Format::kText);
  // What Prometheus 2.42 sends.
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text;version=1.0.0,application/openmetrics-text;"
                            "version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"),
            Format::kOpenMetrics);
  EXPECT_EQ(NegotiateFormat("application/openmetrics-text; q=0, text/plain"), Format::kText);
  EXPECT_EQ(ContentType(Format::kOpenMetrics),
            "application/openmetrics-text; version=1.0.0; charset=utf-8");
  EXPECT_EQ(ContentType(Format::kText), "text/plain; version=0.0.4; charset=utf-8");
}

}  // namespace
}  // namespace gantry::agent
