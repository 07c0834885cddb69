// Error and Result: the one way expected failures travel through Gantry.
//
// A function that can fail for reasons outside the program's control (bad input, a missing row,
// a peer that does not answer) returns Result<T>. Exceptions are only for bugs and start-up
// failures. The HTTP layer maps Code to a status in one table (http/problem.cc).
// Error values are plain data: safe to copy and to read from several threads.
#pragma once

#include <boost/system/result.hpp>

#include <string>
#include <string_view>
#include <utility>

namespace gantry::core {

enum class Code {
  kInvalidArgument,     // 400: the caller sent something malformed or outside the rules
  kUnauthenticated,     // 401
  kPermissionDenied,    // 403
  kNotFound,            // 404
  kMethodNotAllowed,    // 405
  kConflict,            // 409: state conflict (duplicate name, dependent rows, wrong state)
  kFailedPrecondition,  // 409 as well, for state-machine violations
  kTooLarge,            // 413
  kUnsupportedMedia,    // 415
  kResourceExhausted,   // 429: rate limits
  kUnavailable,         // 503: a dependency (database, peer) cannot be reached
  kDeadlineExceeded,    // 504
  kInternal,            // 500: a bug; the message is logged, never shown to the caller
};

std::string_view CodeName(Code code);

struct Error {
  Code code = Code::kInternal;
  std::string message;
  std::string field;  // the offending input field, when there is one

  Error() = default;
  Error(Code c, std::string msg, std::string f = {})
      : code(c), message(std::move(msg)), field(std::move(f)) {}
};

// Thrown by Result<T>::value() on an error: a bug, caught at the handler boundary and in main.
class ErrorException : public std::exception {
 public:
  explicit ErrorException(Error e) : error_(std::move(e)) {}
  const char* what() const noexcept override { return error_.message.c_str(); }
  const Error& error() const { return error_; }

 private:
  Error error_;
};

[[noreturn]] void throw_exception_from_error(const Error& e, const boost::source_location& loc);

template <class T>
using Result = boost::system::result<T, Error>;
using Status = boost::system::result<void, Error>;

inline Error InvalidArgument(std::string msg, std::string field = {}) {
  return {Code::kInvalidArgument, std::move(msg), std::move(field)};
}
inline Error NotFound(std::string msg) { return {Code::kNotFound, std::move(msg)}; }
inline Error Conflict(std::string msg) { return {Code::kConflict, std::move(msg)}; }
inline Error Unauthenticated(std::string msg) { return {Code::kUnauthenticated, std::move(msg)}; }
inline Error PermissionDenied(std::string msg) { return {Code::kPermissionDenied, std::move(msg)}; }
inline Error Unavailable(std::string msg) { return {Code::kUnavailable, std::move(msg)}; }
inline Error Internal(std::string msg) { return {Code::kInternal, std::move(msg)}; }
inline Error FailedPrecondition(std::string msg) {
  return {Code::kFailedPrecondition, std::move(msg)};
}

}  // namespace gantry::core

// Propagates an error: GANTRY_TRY(auto x, Expr()) or GANTRY_TRY_STATUS(Expr()).
#define GANTRY_CONCAT_INNER(a, b) a##b
#define GANTRY_CONCAT(a, b) GANTRY_CONCAT_INNER(a, b)
#define GANTRY_TRY_IMPL(tmp, decl, expr) \
  auto tmp = (expr);                     \
  if (!tmp) return tmp.error();          \
  decl = std::move(*tmp)
#define GANTRY_TRY(decl, expr) GANTRY_TRY_IMPL(GANTRY_CONCAT(_gantry_r_, __LINE__), decl, expr)
#define GANTRY_TRY_STATUS(expr)                  \
  do {                                           \
    auto _gantry_s = (expr);                     \
    if (!_gantry_s) return _gantry_s.error();    \
  } while (0)
