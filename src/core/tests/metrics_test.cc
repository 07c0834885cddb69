#include "core/metrics.h"

#include <gtest/gtest.h>

namespace gantry::core {
namespace {

TEST(Metrics, RendersCountersAndCumulativeHistograms) {
  MetricsRegistry reg;
  auto& c = reg.Counter("req_total", "requests", {"route", "status"});
  c.Inc({"/a", "200"});
  c.Inc({"/a", "200"});
  c.Inc({"/b\"x", "500"});
  auto& h = reg.Histogram("lat_seconds", "latency", {"route"}, {0.1, 1});
  h.Observe({"/a"}, 0.05);
  h.Observe({"/a"}, 0.5);
  h.Observe({"/a"}, 5);
  reg.AddCollector([](std::string& out) { RenderGauge(out, "q", "queue", {{"{state=\"x\"}", 3}}); });
  std::string text = reg.Render();
  EXPECT_NE(std::string::npos, text.find("req_total{route=\"/a\",status=\"200\"} 2\n"));
  EXPECT_NE(std::string::npos, text.find("req_total{route=\"/b\\\"x\",status=\"500\"} 1\n"));
  EXPECT_NE(std::string::npos, text.find("lat_seconds_bucket{route=\"/a\",le=\"0.1\"} 1\n"));
  EXPECT_NE(std::string::npos, text.find("lat_seconds_bucket{route=\"/a\",le=\"1\"} 2\n"));
  EXPECT_NE(std::string::npos, text.find("lat_seconds_bucket{route=\"/a\",le=\"+Inf\"} 3\n"));
  EXPECT_NE(std::string::npos, text.find("lat_seconds_count{route=\"/a\"} 3\n"));
  EXPECT_NE(std::string::npos, text.find("q{state=\"x\"} 3\n"));
}

}  // namespace
}  // namespace gantry::core
