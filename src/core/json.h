// Strict JSON decoding helpers on Boost.JSON (the one JSON library in the tree).
// Every request body goes through ParseObject + OnlyFields + the typed getters, so malformed
// JSON, unknown fields and wrong types all become InvalidArgument errors naming the field.
#pragma once

#include <boost/json.hpp>

#include <cstdint>
#include <initializer_list>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/error.h"

namespace gantry::core {

namespace json = boost::json;

Result<json::value> ParseJson(std::string_view text);
Result<json::object> ParseObject(std::string_view text);

// Error naming the first field of `obj` that is not in `allowed`.
Status OnlyFields(const json::object& obj, std::initializer_list<std::string_view> allowed);

Result<std::string> GetString(const json::object& obj, std::string_view key);
Result<std::optional<std::string>> OptString(const json::object& obj, std::string_view key);
Result<int64_t> GetInt(const json::object& obj, std::string_view key);
Result<std::optional<int64_t>> OptInt(const json::object& obj, std::string_view key);
Result<std::optional<bool>> OptBool(const json::object& obj, std::string_view key);
Result<std::vector<std::string>> OptStringArray(const json::object& obj, std::string_view key);
Result<std::optional<json::object>> OptObject(const json::object& obj, std::string_view key);

std::string ToJson(const json::value& v);

// String or null.
inline json::value OptValue(const std::optional<std::string>& s) {
  return s ? json::value(*s) : json::value(nullptr);
}

}  // namespace gantry::core
