#include "hardware/campaign_types.h"

#include <cctype>
#include <charconv>

namespace gantry::hardware {

namespace json = core::json;

namespace {

json::value OptTime(const std::optional<core::UnixNanos>& t) {
  return t ? json::value(core::FormatRfc3339(*t)) : json::value(nullptr);
}

core::Result<std::optional<core::UnixNanos>> OptTimeField(const json::object& o, std::string_view key) {
  GANTRY_TRY(auto s, core::OptString(o, key));
  if (!s) return std::optional<core::UnixNanos>{};
  auto t = core::ParseRfc3339(*s);
  if (!t) return core::InvalidArgument(std::string(key) + " must be an RFC 3339 time", std::string(key));
  return std::optional<core::UnixNanos>(*t);
}

core::Result<int> IntIn(const json::object& o, std::string_view key, int def, int min, int max) {
  GANTRY_TRY(auto v, core::OptInt(o, key));
  if (!v) return def;
  if (*v < min || *v > max) {
    return core::InvalidArgument(std::string(key) + " must be between " + std::to_string(min) + " and " +
                                     std::to_string(max),
                                 std::string(key));
  }
  return static_cast<int>(*v);
}

bool IsHex(std::string_view s) {
  for (char c : s) {
    if (!std::isxdigit(static_cast<unsigned char>(c))) return false;
  }
  return true;
}

}  // namespace

json::object ToJson(const CampaignSpec& s) {
  json::array nodes;
  for (const auto& n : s.nodes) nodes.push_back(json::string(n));
  json::object attrs;
  for (const auto& [k, v] : s.attrs) attrs[k] = v;
  json::object selection{{"nodes", nodes}, {"rack", core::OptValue(s.rack)}, {"attrs", attrs},
                         {"version_below", core::OptValue(s.version_below)}};
  return {{"component", s.component},
          {"target_version", s.target_version},
          {"image_uri", s.image_uri},
          {"checksum", s.checksum},
          {"selection", selection},
          {"batch_size", s.batch_size},
          {"canary_size", s.canary_size},
          {"failure_budget", s.failure_budget},
          {"soak_seconds", s.soak_seconds},
          {"window_start", OptTime(s.window_start)},
          {"window_end", OptTime(s.window_end)},
          {"task_timeout_seconds", s.task_timeout_seconds},
          {"reboot", s.reboot}};
}

core::Result<CampaignSpec> CampaignSpecFromJson(const json::object& o) {
  GANTRY_TRY_STATUS(core::OnlyFields(o, {"component", "target_version", "image_uri", "checksum", "selection",
                                         "batch_size", "canary_size", "failure_budget", "soak_seconds",
                                         "window_start", "window_end", "task_timeout_seconds", "reboot"}));
  CampaignSpec s;
  GANTRY_TRY(s.component, core::GetString(o, "component"));
  GANTRY_TRY(s.target_version, core::GetString(o, "target_version"));
  GANTRY_TRY(s.image_uri, core::GetString(o, "image_uri"));
  GANTRY_TRY(s.checksum, core::GetString(o, "checksum"));
  if (s.component.empty() || s.component.size() > 100) {
    return core::InvalidArgument("component must be 1-100 characters", "component");
  }
  for (char c : s.component) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '_' && c != '.') {
      return core::InvalidArgument("component may hold only letters, digits, '-', '_' and '.'", "component");
    }
  }
  if (s.target_version.empty() || s.target_version.size() > 100) {
    return core::InvalidArgument("target_version must be 1-100 characters", "target_version");
  }
  if (!(s.image_uri.starts_with("http://") || s.image_uri.starts_with("https://") ||
        s.image_uri.starts_with("ftp://") || s.image_uri.starts_with("nfs://")) ||
      s.image_uri.size() > 2048) {
    return core::InvalidArgument("image_uri must be an http(s)://, ftp:// or nfs:// URI", "image_uri");
  }
  if (!s.checksum.starts_with("sha256:") || s.checksum.size() != 7 + 64 || !IsHex(s.checksum.substr(7))) {
    return core::InvalidArgument("checksum must be sha256:<64 hex digits>", "checksum");
  }
  GANTRY_TRY(auto sel, core::OptObject(o, "selection"));
  if (!sel) return core::InvalidArgument("selection is required", "selection");
  GANTRY_TRY_STATUS(core::OnlyFields(*sel, {"nodes", "rack", "attrs", "version_below"}));
  GANTRY_TRY(s.nodes, core::OptStringArray(*sel, "nodes"));
  GANTRY_TRY(s.rack, core::OptString(*sel, "rack"));
  GANTRY_TRY(s.version_below, core::OptString(*sel, "version_below"));
  GANTRY_TRY(auto attrs, core::OptObject(*sel, "attrs"));
  if (attrs) {
    for (const auto& kv : *attrs) {
      if (!kv.value().is_string()) {
        return core::InvalidArgument("selection.attrs values must be strings", "selection");
      }
      s.attrs.emplace_back(std::string(kv.key()), std::string(kv.value().get_string()));
    }
  }
  if (s.nodes.empty() && !s.rack && s.attrs.empty()) {
    return core::InvalidArgument("selection needs nodes, rack or attrs", "selection");
  }
  if (s.nodes.size() > 100000) return core::InvalidArgument("at most 100000 nodes", "selection");
  GANTRY_TRY(s.batch_size, IntIn(o, "batch_size", 10, 1, 1000));
  GANTRY_TRY(s.canary_size, IntIn(o, "canary_size", 1, 1, 1000));
  GANTRY_TRY(s.failure_budget, IntIn(o, "failure_budget", 0, 0, 100000));
  GANTRY_TRY(s.soak_seconds, IntIn(o, "soak_seconds", 0, 0, 7 * 86400));
  GANTRY_TRY(s.task_timeout_seconds, IntIn(o, "task_timeout_seconds", 900, 1, 86400));
  GANTRY_TRY(auto reboot, core::OptBool(o, "reboot"));
  s.reboot = reboot.value_or(false);
  GANTRY_TRY(s.window_start, OptTimeField(o, "window_start"));
  GANTRY_TRY(s.window_end, OptTimeField(o, "window_end"));
  if (s.window_start.has_value() != s.window_end.has_value()) {
    return core::InvalidArgument("give both window_start and window_end, or neither", "window_end");
  }
  if (s.window_start && *s.window_end <= *s.window_start) {
    return core::InvalidArgument("window_end must be after window_start", "window_end");
  }
  return s;
}

json::object ToJson(const Campaign& c) {
  return {{"id", c.id},
          {"name", c.name},
          {"state", c.state},
          {"spec", ToJson(c.spec)},
          {"impact", c.impact},
          {"job_id", c.job_id ? json::value(*c.job_id) : json::value(nullptr)},
          {"batch", c.batch},
          {"failures", c.failures},
          {"message", c.message},
          {"soak_until", OptTime(c.soak_until)},
          {"created_by", c.created_by},
          {"created_at", core::FormatRfc3339(c.created_at)},
          {"updated_at", core::FormatRfc3339(c.updated_at)}};
}

json::object ToJson(const CampaignNode& n) {
  return {{"server", n.server},         {"batch", n.batch},
          {"state", n.state},           {"task", n.task},
          {"version_before", n.version_before}, {"version_after", n.version_after},
          {"message", n.message},       {"updated_at", core::FormatRfc3339(n.updated_at)}};
}

bool IsFinalCampaignState(std::string_view s) {
  return s == "succeeded" || s == "failed" || s == "halted" || s == "cancelled";
}

int CompareVersions(std::string_view a, std::string_view b) {
  auto next = [](std::string_view& s) {
    size_t i = 0;
    while (i < s.size() && s[i] != '.' && s[i] != '-' && s[i] != ' ') ++i;
    std::string_view part = s.substr(0, i);
    s = i < s.size() ? s.substr(i + 1) : std::string_view();
    return part;
  };
  while (!a.empty() || !b.empty()) {
    auto pa = next(a), pb = next(b);
    int64_t na = 0, nb = 0;
    auto ra = std::from_chars(pa.data(), pa.data() + pa.size(), na);
    auto rb = std::from_chars(pb.data(), pb.data() + pb.size(), nb);
    bool num_a = !pa.empty() && ra.ec == std::errc() && ra.ptr == pa.data() + pa.size();
    bool num_b = !pb.empty() && rb.ec == std::errc() && rb.ptr == pb.data() + pb.size();
    if (num_a && num_b) {
      if (na != nb) return na < nb ? -1 : 1;
    } else if (int c = pa.compare(pb); c != 0) {
      return c < 0 ? -1 : 1;
    }
  }
  return 0;
}

}  // namespace gantry::hardware
