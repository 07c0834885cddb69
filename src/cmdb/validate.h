// Attribute validation for CIs and relationships: unknown attribute → error listing the valid
// ones; wrong type → error naming the attribute and the expected kind; values are normalised
// (MAC addresses lower-case with colons, IPv6 compressed, CIDR network checked, dates as
// YYYY-MM-DD). Pure functions; thread-safe.
#pragma once

#include <string_view>
#include <vector>

#include "cmdb/types.h"
#include "core/error.h"

namespace gantry::cmdb {

// Validates `attrs` against `defs`. When `partial`, required attributes may be absent (an update)
// and JSON null means "remove this attribute". Returns the normalised object.
core::Result<core::json::object> ValidateAttrs(const std::vector<AttrDef>& defs,
                                               const core::json::object& attrs,
                                               std::string_view owner, bool partial);

// Checks one value; returns the normalised value.
core::Result<core::json::value> ValidateValue(const AttrDef& def, const core::json::value& v,
                                              std::string_view owner);

// Checks an attribute definition itself (operators define their own types through the API).
core::Status ValidateAttrDef(const AttrDef& def);
core::Status ValidateName(std::string_view name, std::string_view what);

}  // namespace gantry::cmdb
