#include "http/problem.h"

namespace gantry::http {

int StatusFor(core::Code code) {
  using core::Code;
  switch (code) {
    case Code::kInvalidArgument: return 400;
    case Code::kUnauthenticated: return 401;
    case Code::kPermissionDenied: return 403;
    case Code::kNotFound: return 404;
    case Code::kMethodNotAllowed: return 405;
    case Code::kConflict: return 409;
    case Code::kFailedPrecondition: return 409;
    case Code::kTooLarge: return 413;
    case Code::kUnsupportedMedia: return 415;
    case Code::kResourceExhausted: return 429;
    case Code::kUnavailable: return 503;
    case Code::kDeadlineExceeded: return 504;
    case Code::kInternal: return 500;
  }
  return 500;
}

std::string_view ReasonPhrase(int status) {
  switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 415: return "Unsupported Media Type";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
  }
  return "Error";
}

Response ProblemResponse(const core::Error& error, std::string_view instance,
                         std::string_view request_id) {
  int status = StatusFor(error.code);
  core::json::object o;
  o["type"] = "https://gantry.dev/problems/" + std::string(core::CodeName(error.code));
  o["title"] = ReasonPhrase(status);
  o["status"] = status;
  if (error.code == core::Code::kInternal) {
    o["detail"] = "internal error; quote request id " + std::string(request_id) +
                  " to your operator";
  } else {
    o["detail"] = error.message;
  }
  o["instance"] = instance;
  o["request_id"] = request_id;
  if (!error.field.empty()) o["field"] = error.field;
  Response r = Response::Json(o, status);
  r.SetHeader("content-type", "application/problem+json");
  return r;
}

}  // namespace gantry::http
