// RFC 9457 problem details: the one table that maps core::Code to an HTTP status, and the
// response body every error takes.
#pragma once

#include <string_view>

#include "core/error.h"
#include "http/types.h"

namespace gantry::http {

int StatusFor(core::Code code);
std::string_view ReasonPhrase(int status);

// Internal errors never show their message: the detail names the request id instead.
Response ProblemResponse(const core::Error& error, std::string_view instance,
                         std::string_view request_id);

}  // namespace gantry::http
