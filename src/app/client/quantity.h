// Quantities typed on the command line and shown in tables. The API takes integers in base
// units; for the byte resources (`memory`, `storage`) the CLI also accepts and shows units:
// decimal K M G T P (×1000) with an optional trailing B, binary Ki Mi Gi Ti Pi (×1024) with an
// optional trailing B, and a plain B. A fraction is allowed when the result is a whole number of
// bytes ("1.5GiB"). Every other resource takes a plain non-negative integer.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "core/error.h"

namespace gantry::app::client {

// True for the resources measured in bytes.
bool IsByteResource(std::string_view resource);

// "512GiB" → 549755813888 for memory/storage; "8" → 8 for the others. kInvalidArgument naming
// the text on anything else, on negative numbers and above 2^60.
core::Result<int64_t> ParseQuantity(std::string_view resource, std::string_view text);

// 549755813888 → "512GiB" (the largest binary unit that divides it exactly; plain bytes
// otherwise) for memory/storage; the plain number for the others.
std::string FormatQuantity(std::string_view resource, int64_t value);

}  // namespace gantry::app::client
