// Transport-neutral HTTP request and response types, the handler signature and route specs.
// Domain modules register handlers against these types in their http_api.cc and never see
// Boost.Beast, which stays inside server.cc.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "core/principal.h"

namespace gantry::http {

// Decodes %XX escapes (and '+' as a space in query strings).
std::string PercentDecode(std::string_view s, bool plus_as_space = false);

using Headers = std::vector<std::pair<std::string, std::string>>;  // names lower-case

struct Request {
  std::string method;   // upper case: GET, POST, ...
  std::string target;   // as received
  std::string path;     // as sent (still percent-encoded), without the query; the router
                        // decodes each path parameter, so "server%2Fnode-1" is one parameter
  std::string query;    // raw query string, without '?'
  Headers headers;
  std::string body;
  std::string remote_addr;
  bool tls = false;

  std::string_view Header(std::string_view lower_name) const;
  // Percent-decoded value of the first `name` query parameter.
  std::optional<std::string> Query(std::string_view name) const;
  // All query parameter names (for rejecting unknown ones).
  std::vector<std::string> QueryNames() const;
  std::optional<std::string> Cookie(std::string_view name) const;
};

struct Response {
  int status = 200;
  Headers headers;
  std::string body;

  void SetHeader(std::string name, std::string value);
  std::string_view Header(std::string_view lower_name) const;

  static Response Json(const core::json::value& v, int status = 200);
  static Response Text(std::string body, std::string content_type = "text/plain; charset=utf-8",
                       int status = 200);
  static Response NoContent();
};

// One request on its way through the pipeline.
struct Context {
  const Request& request;
  std::map<std::string, std::string, std::less<>> params;  // path parameters
  core::RequestContext rc;  // principal, source address, user agent, request id
  std::vector<std::string> set_cookies;  // added to the response by the pipeline

  std::string Param(std::string_view name) const;
};

using Handler = std::function<core::Result<Response>(Context&)>;

enum class Auth {
  kPublic,    // no credentials needed (health, login, static files)
  kOptional,  // credentials used when present (logout)
  kRequired,  // 401 without valid credentials
};

struct RouteSpec {
  std::string method;
  std::string pattern;       // "/api/v1/jobs/{id}"
  std::string action;        // policy action checked after authentication ("jobs.read"); empty: none
  Auth auth = Auth::kRequired;
  bool raw_body = false;     // true: any content type accepted (webhooks with their own format)
};

struct Route {
  RouteSpec spec;
  Handler handler;
};

}  // namespace gantry::http
