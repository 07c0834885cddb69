#include "agent/exposition.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace gantry::agent {

namespace {

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

Format NegotiateFormat(std::string_view accept) {
  // Accept: application/openmetrics-text;version=1.0.0;q=0.5,text/plain;version=0.0.4;q=0.4,...
  while (!accept.empty()) {
    size_t comma = accept.find(',');
    std::string_view item = Trim(accept.substr(0, comma));
    accept = comma == std::string_view::npos ? std::string_view{} : accept.substr(comma + 1);
    size_t semi = item.find(';');
    std::string_view media = Trim(item.substr(0, semi));
    if (media != "application/openmetrics-text") continue;
    double q = 1;
    std::string_view params = semi == std::string_view::npos ? "" : item.substr(semi + 1);
    while (!params.empty()) {
      size_t s = params.find(';');
      std::string_view p = Trim(params.substr(0, s));
      params = s == std::string_view::npos ? std::string_view{} : params.substr(s + 1);
      if (p.starts_with("q=")) {
        std::string value(p.substr(2));
        q = std::strtod(value.c_str(), nullptr);
      }
    }
    if (q > 0) return Format::kOpenMetrics;
  }
  return Format::kText;
}

std::string_view ContentType(Format f) {
  return f == Format::kOpenMetrics ? "application/openmetrics-text; version=1.0.0; charset=utf-8"
                                   : "text/plain; version=0.0.4; charset=utf-8";
}

void AppendEscapedLabelValue(std::string& out, std::string_view v) {
  for (char c : v) {
    switch (c) {
      case '\\': out += "\\\\"; break;
      case '"': out += "\\\""; break;
      case '\n': out += "\\n"; break;
      default: out += c;
    }
  }
}

void AppendValue(std::string& out, double v) {
  if (std::isnan(v)) {
    out += "NaN";
    return;
  }
  if (std::isinf(v)) {
    out += v > 0 ? "+Inf" : "-Inf";
    return;
  }
  char buf[32];
  std::to_chars_result r;
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    r = std::to_chars(buf, buf + sizeof buf, static_cast<long long>(v));
  } else {
    r = std::to_chars(buf, buf + sizeof buf, v);
  }
  out.append(buf, r.ptr);
}

void MetricWriter::Family(std::string_view name, std::string_view type, std::string_view help) {
  std::string_view family = name;
  std::string_view om_type = type;
  if (format_ == Format::kOpenMetrics && type == "counter") {
    if (EndsWith(name, "_total")) {
      family = name.substr(0, name.size() - 6);
    } else {
      om_type = "unknown";
    }
  }
  sample_name_ = name;
  out_ += "# HELP ";
  out_ += family;
  out_ += ' ';
  for (char c : help) {
    if (c == '\\') out_ += "\\\\";
    else if (c == '\n') out_ += "\\n";
    else out_ += c;
  }
  out_ += "\n# TYPE ";
  out_ += family;
  out_ += ' ';
  out_ += format_ == Format::kOpenMetrics ? om_type : type;
  out_ += '\n';
}

void MetricWriter::Sample(std::span<const Label> base, std::span<const Label> extra,
                          double value) {
  out_ += sample_name_;
  if (!base.empty() || !extra.empty()) {
    out_ += '{';
    bool first = true;
    for (auto labels : {base, extra}) {
      for (const auto& [k, v] : labels) {
        if (!first) out_ += ',';
        first = false;
        out_ += k;
        out_ += "=\"";
        AppendEscapedLabelValue(out_, v);
        out_ += '"';
      }
    }
    out_ += '}';
  }
  out_ += ' ';
  AppendValue(out_, value);
  out_ += '\n';
}

void MetricWriter::Finish() {
  if (format_ == Format::kOpenMetrics) out_ += "# EOF\n";
}

}  // namespace gantry::agent
