#include "core/metrics.h"

#include <cmath>
#include <cstdio>

namespace gantry::core {

namespace {
std::string Num(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.9g", v);
  }
  return buf;
}
}  // namespace

std::string EscapeLabel(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\') out += "\\\\";
    else if (c == '"') out += "\\\"";
    else if (c == '\n') out += "\\n";
    else out += c;
  }
  return out;
}

std::string FormatLabels(const std::vector<std::string>& names,
                         const std::vector<std::string>& values, const std::string& extra) {
  if (names.empty() && extra.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (i) out += ',';
    out += names[i] + "=\"" + EscapeLabel(values[i]) + "\"";
  }
  if (!extra.empty()) {
    if (!names.empty()) out += ',';
    out += extra;
  }
  return out + "}";
}

void RenderGauge(std::string& out, const std::string& name, const std::string& help,
                 const std::vector<std::pair<std::string, double>>& labelled_values) {
  out += "# HELP " + name + " " + help + "\n# TYPE " + name + " gauge\n";
  for (const auto& [labels, v] : labelled_values) out += name + labels + " " + Num(v) + "\n";
}

CounterFamily::CounterFamily(std::string name, std::string help,
                             std::vector<std::string> label_names)
    : name_(std::move(name)), help_(std::move(help)), label_names_(std::move(label_names)) {}

void CounterFamily::Inc(const std::vector<std::string>& lv, double delta) {
  std::lock_guard lock(mu_);
  values_[lv] += delta;
}

double CounterFamily::Value(const std::vector<std::string>& lv) const {
  std::lock_guard lock(mu_);
  auto it = values_.find(lv);
  return it == values_.end() ? 0 : it->second;
}

void CounterFamily::Render(std::string& out) const {
  out += "# HELP " + name_ + " " + help_ + "\n# TYPE " + name_ + " counter\n";
  std::lock_guard lock(mu_);
  for (const auto& [lv, v] : values_) {
    out += name_ + FormatLabels(label_names_, lv) + " " + Num(v) + "\n";
  }
}

HistogramFamily::HistogramFamily(std::string name, std::string help,
                                 std::vector<std::string> label_names,
                                 std::vector<double> buckets)
    : name_(std::move(name)),
      help_(std::move(help)),
      label_names_(std::move(label_names)),
      buckets_(std::move(buckets)) {}

void HistogramFamily::Observe(const std::vector<std::string>& lv, double value) {
  std::lock_guard lock(mu_);
  auto& s = series_[lv];
  if (s.counts.empty()) s.counts.assign(buckets_.size(), 0);
  for (size_t i = 0; i < buckets_.size(); ++i) {
    if (value <= buckets_[i]) {
      ++s.counts[i];
      break;
    }
  }
  s.sum += value;
  ++s.count;
}

void HistogramFamily::Render(std::string& out) const {
  out += "# HELP " + name_ + " " + help_ + "\n# TYPE " + name_ + " histogram\n";
  std::lock_guard lock(mu_);
  for (const auto& [lv, s] : series_) {
    uint64_t cum = 0;
    for (size_t i = 0; i < buckets_.size(); ++i) {
      cum += s.counts[i];
      out += name_ + "_bucket" + FormatLabels(label_names_, lv, "le=\"" + Num(buckets_[i]) + "\"") +
             " " + std::to_string(cum) + "\n";
    }
    out += name_ + "_bucket" + FormatLabels(label_names_, lv, "le=\"+Inf\"") + " " +
           std::to_string(s.count) + "\n";
    out += name_ + "_sum" + FormatLabels(label_names_, lv) + " " + Num(s.sum) + "\n";
    out += name_ + "_count" + FormatLabels(label_names_, lv) + " " + std::to_string(s.count) +
           "\n";
  }
}

CounterFamily& MetricsRegistry::Counter(const std::string& name, const std::string& help,
                                        std::vector<std::string> label_names) {
  std::lock_guard lock(mu_);
  auto& slot = counters_[name];
  if (!slot) slot = std::make_unique<CounterFamily>(name, help, std::move(label_names));
  return *slot;
}

HistogramFamily& MetricsRegistry::Histogram(const std::string& name, const std::string& help,
                                            std::vector<std::string> label_names,
                                            std::vector<double> buckets) {
  std::lock_guard lock(mu_);
  auto& slot = histograms_[name];
  if (!slot) {
    slot = std::make_unique<HistogramFamily>(name, help, std::move(label_names),
                                             std::move(buckets));
  }
  return *slot;
}

void MetricsRegistry::AddCollector(std::function<void(std::string&)> collector) {
  std::lock_guard lock(mu_);
  collectors_.push_back(std::move(collector));
}

std::string MetricsRegistry::Render() const {
  std::string out;
  std::vector<std::function<void(std::string&)>> collectors;
  {
    std::lock_guard lock(mu_);
    for (const auto& [_, c] : counters_) c->Render(out);
    for (const auto& [_, h] : histograms_) h->Render(out);
    collectors = collectors_;
  }
  for (const auto& c : collectors) c(out);
  return out;
}

}  // namespace gantry::core
