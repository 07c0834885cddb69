// Query-string helpers for list endpoints: unknown parameters are rejected by name, `limit`
// is bounded, times are RFC 3339, and the response envelope is {items, next_cursor}.
#pragma once

#include <initializer_list>
#include <optional>
#include <string_view>

#include "core/json.h"
#include "http/types.h"

namespace gantry::http {

core::Status OnlyQuery(const Request& r, std::initializer_list<std::string_view> allowed);
// limit: 1..max, default `def`.
core::Result<int> LimitParam(const Request& r, int def = 100, int max = 1000);
core::Result<std::optional<int64_t>> IntParam(const Request& r, std::string_view name);
core::Result<std::optional<int64_t>> TimeParam(const Request& r, std::string_view name);
core::Result<bool> BoolParam(const Request& r, std::string_view name, bool def = false);
Response ListResponse(core::json::array items, std::optional<std::string> next_cursor);
// Parses a path parameter that must be a positive integer id.
core::Result<int64_t> IdParam(const Context& c, std::string_view name = "id");

}  // namespace gantry::http
