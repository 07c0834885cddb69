#include "http/params.h"

#include <charconv>

#include "core/clock.h"

namespace gantry::http {

core::Status OnlyQuery(const Request& r, std::initializer_list<std::string_view> allowed) {
  for (const auto& name : r.QueryNames()) {
    bool ok = false;
    for (auto a : allowed) ok = ok || name == a;
    if (!ok) {
      std::string valid;
      for (auto a : allowed) valid += (valid.empty() ? "" : ", ") + std::string(a);
      return core::InvalidArgument(
          "unknown query parameter '" + name + "'; valid parameters: " + valid, name);
    }
  }
  return {};
}

core::Result<std::optional<int64_t>> IntParam(const Request& r, std::string_view name) {
  auto v = r.Query(name);
  if (!v) return std::optional<int64_t>{};
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || end != v->data() + v->size()) {
    return core::InvalidArgument("query parameter '" + std::string(name) + "' must be an integer",
                                 std::string(name));
  }
  return std::optional<int64_t>(out);
}

core::Result<int> LimitParam(const Request& r, int def, int max) {
  GANTRY_TRY(auto v, IntParam(r, "limit"));
  if (!v) return def;
  if (*v < 1 || *v > max) {
    return core::InvalidArgument("limit must be between 1 and " + std::to_string(max), "limit");
  }
  return static_cast<int>(*v);
}

core::Result<std::optional<int64_t>> TimeParam(const Request& r, std::string_view name) {
  auto v = r.Query(name);
  if (!v) return std::optional<int64_t>{};
  auto t = core::ParseRfc3339(*v);
  if (!t) return core::InvalidArgument(t.error().message, std::string(name));
  return std::optional<int64_t>(*t);
}

core::Result<bool> BoolParam(const Request& r, std::string_view name, bool def) {
  auto v = r.Query(name);
  if (!v) return def;
  if (*v == "true" || *v == "1") return true;
  if (*v == "false" || *v == "0") return false;
  return core::InvalidArgument("query parameter '" + std::string(name) + "' must be true or false",
                               std::string(name));
}

Response ListResponse(core::json::array items, std::optional<std::string> next_cursor) {
  core::json::object o;
  o["items"] = std::move(items);
  o["next_cursor"] = core::OptValue(next_cursor);
  return Response::Json(core::json::value(std::move(o)));  // no deep copy of the items
}

core::Result<int64_t> IdParam(const Context& c, std::string_view name) {
  std::string v = c.Param(name);
  int64_t out = 0;
  auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc() || end != v.data() + v.size() || out <= 0) {
    return core::NotFound("no such " + std::string(name) + " '" + v + "'");
  }
  return out;
}

}  // namespace gantry::http
