#include "core/error.h"

namespace gantry::core {

std::string_view CodeName(Code code) {
  switch (code) {
    case Code::kInvalidArgument: return "invalid-argument";
    case Code::kUnauthenticated: return "unauthenticated";
    case Code::kPermissionDenied: return "permission-denied";
    case Code::kNotFound: return "not-found";
    case Code::kMethodNotAllowed: return "method-not-allowed";
    case Code::kConflict: return "conflict";
    case Code::kFailedPrecondition: return "failed-precondition";
    case Code::kTooLarge: return "too-large";
    case Code::kUnsupportedMedia: return "unsupported-media-type";
    case Code::kResourceExhausted: return "resource-exhausted";
    case Code::kUnavailable: return "unavailable";
    case Code::kDeadlineExceeded: return "deadline-exceeded";
    case Code::kInternal: return "internal";
  }
  return "internal";
}

void throw_exception_from_error(const Error& e, const boost::source_location&) {
  throw ErrorException(e);
}

}  // namespace gantry::core
