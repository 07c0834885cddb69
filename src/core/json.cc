#include "core/json.h"

namespace gantry::core {

Result<json::value> ParseJson(std::string_view text) {
  boost::system::error_code ec;
  json::parse_options opts;
  opts.max_depth = 64;
  json::value v = json::parse(text, ec, {}, opts);
  if (ec) return InvalidArgument("malformed JSON: " + ec.message());
  return v;
}

Result<json::object> ParseObject(std::string_view text) {
  if (text.empty()) return InvalidArgument("request body must be a JSON object");
  GANTRY_TRY(auto v, ParseJson(text));
  if (!v.is_object()) return InvalidArgument("request body must be a JSON object");
  return std::move(v.as_object());
}

Status OnlyFields(const json::object& obj, std::initializer_list<std::string_view> allowed) {
  for (const auto& kv : obj) {
    bool ok = false;
    for (auto a : allowed) ok = ok || kv.key() == a;
    if (!ok) {
      std::string valid;
      for (auto a : allowed) valid += (valid.empty() ? "" : ", ") + std::string(a);
      return InvalidArgument(
          "unknown field '" + std::string(kv.key()) + "'; valid fields: " + valid,
          std::string(kv.key()));
    }
  }
  return {};
}

namespace {
Error WrongType(std::string_view key, std::string_view want) {
  return InvalidArgument("field '" + std::string(key) + "' must be " + std::string(want),
                         std::string(key));
}
}  // namespace

Result<std::optional<std::string>> OptString(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return std::optional<std::string>{};
  if (!it->value().is_string()) return WrongType(key, "a string");
  return std::optional<std::string>(std::string(it->value().as_string()));
}

Result<std::string> GetString(const json::object& obj, std::string_view key) {
  GANTRY_TRY(auto v, OptString(obj, key));
  if (!v) return InvalidArgument("field '" + std::string(key) + "' is required", std::string(key));
  return *v;
}

Result<std::optional<int64_t>> OptInt(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return std::optional<int64_t>{};
  const auto& v = it->value();
  if (v.is_int64()) return std::optional<int64_t>(v.as_int64());
  if (v.is_uint64() && v.as_uint64() <= static_cast<uint64_t>(INT64_MAX)) {
    return std::optional<int64_t>(static_cast<int64_t>(v.as_uint64()));
  }
  return WrongType(key, "an integer");
}

Result<int64_t> GetInt(const json::object& obj, std::string_view key) {
  GANTRY_TRY(auto v, OptInt(obj, key));
  if (!v) return InvalidArgument("field '" + std::string(key) + "' is required", std::string(key));
  return *v;
}

Result<std::optional<bool>> OptBool(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return std::optional<bool>{};
  if (!it->value().is_bool()) return WrongType(key, "true or false");
  return std::optional<bool>(it->value().as_bool());
}

Result<std::vector<std::string>> OptStringArray(const json::object& obj, std::string_view key) {
  std::vector<std::string> out;
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return out;
  if (!it->value().is_array()) return WrongType(key, "an array of strings");
  for (const auto& e : it->value().as_array()) {
    if (!e.is_string()) return WrongType(key, "an array of strings");
    out.emplace_back(e.as_string());
  }
  return out;
}

Result<std::optional<json::object>> OptObject(const json::object& obj, std::string_view key) {
  auto it = obj.find(key);
  if (it == obj.end() || it->value().is_null()) return std::optional<json::object>{};
  if (!it->value().is_object()) return WrongType(key, "an object");
  return std::optional<json::object>(it->value().as_object());
}

std::string ToJson(const json::value& v) { return json::serialize(v); }

}  // namespace gantry::core
