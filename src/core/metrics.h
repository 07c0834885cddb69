// A small Prometheus metrics registry: counters and histograms with labels, plus collectors
// that render gauges on demand (database pool, job queue). Thread-safe; families are created
// once at start-up and live as long as the registry.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

namespace gantry::core {

class CounterFamily {
 public:
  CounterFamily(std::string name, std::string help, std::vector<std::string> label_names);
  void Inc(const std::vector<std::string>& label_values, double delta = 1);
  double Value(const std::vector<std::string>& label_values) const;
  void Render(std::string& out) const;

 private:
  std::string name_, help_;
  std::vector<std::string> label_names_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, double> values_;
};

class HistogramFamily {
 public:
  HistogramFamily(std::string name, std::string help, std::vector<std::string> label_names,
                  std::vector<double> buckets);
  void Observe(const std::vector<std::string>& label_values, double value);
  void Render(std::string& out) const;

 private:
  struct Series {
    std::vector<uint64_t> counts;  // per bucket, not cumulative
    double sum = 0;
    uint64_t count = 0;
  };
  std::string name_, help_;
  std::vector<std::string> label_names_;
  std::vector<double> buckets_;
  mutable std::mutex mu_;
  std::map<std::vector<std::string>, Series> series_;
};

class MetricsRegistry {
 public:
  CounterFamily& Counter(const std::string& name, const std::string& help,
                         std::vector<std::string> label_names);
  HistogramFamily& Histogram(const std::string& name, const std::string& help,
                             std::vector<std::string> label_names, std::vector<double> buckets);
  // A collector appends complete metric families (HELP, TYPE and samples) to `out`.
  void AddCollector(std::function<void(std::string& out)> collector);
  std::string Render() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<CounterFamily>> counters_;
  std::map<std::string, std::unique_ptr<HistogramFamily>> histograms_;
  std::vector<std::function<void(std::string&)>> collectors_;
};

// Escapes a label value for the text exposition format.
std::string EscapeLabel(const std::string& v);
std::string FormatLabels(const std::vector<std::string>& names,
                         const std::vector<std::string>& values, const std::string& extra = {});
void RenderGauge(std::string& out, const std::string& name, const std::string& help,
                 const std::vector<std::pair<std::string, double>>& labelled_values);

}  // namespace gantry::core
