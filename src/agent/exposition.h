// Writing metric families in the Prometheus text format (0.0.4) or OpenMetrics 1.0, into one
// caller-owned buffer: no allocation per sample beyond the buffer's growth. Not thread-safe;
// one writer per scrape.
#pragma once

#include <initializer_list>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace gantry::agent {

enum class Format { kText, kOpenMetrics };

// The format a scraper asked for in its Accept header (OpenMetrics only when it names
// application/openmetrics-text with a non-zero q).
Format NegotiateFormat(std::string_view accept);
std::string_view ContentType(Format f);

using Label = std::pair<std::string_view, std::string_view>;

class MetricWriter {
 public:
  MetricWriter(std::string& out, Format format) : out_(out), format_(format) {}

  // Starts a family. `type` is "gauge" or "counter". A counter named *_total keeps that name in
  // the text format; in OpenMetrics the family drops the suffix and samples carry it. A counter
  // without the suffix (dcgm-exporter's names) is typed "unknown" in OpenMetrics.
  void Family(std::string_view name, std::string_view type, std::string_view help);
  // One sample of the current family: `base` labels then `extra` labels.
  void Sample(std::span<const Label> base, std::span<const Label> extra, double value);
  void Sample(std::span<const Label> labels, double value) { Sample(labels, {}, value); }
  void Sample(std::initializer_list<Label> labels, double value) {
    Sample(std::span<const Label>(labels.begin(), labels.size()), {}, value);
  }
  // Appends "# EOF" in OpenMetrics; nothing in the text format.
  void Finish();

 private:
  std::string& out_;
  Format format_;
  std::string_view sample_name_;
};

void AppendEscapedLabelValue(std::string& out, std::string_view v);
void AppendValue(std::string& out, double v);

}  // namespace gantry::agent
