// ApiClient: the CLI's one way to talk to a Gantry server's REST API (/api/v1) over libcurl.
//
// Every call returns core::Result<json::value>: the parsed JSON body of a 2xx answer (null for
// 204), or a core::Error. A non-2xx answer is decoded from its RFC 9457 problem+json body
// (ErrorFromResponse) with a Code that follows the HTTP status; a transport failure (refused,
// DNS, TLS, timeout) is kUnavailable / kDeadlineExceeded naming the server.
//
// The bearer token is sent only in the Authorization header and never appears in an error
// message. TLS peer and host verification are on unless `insecure` is set.
//
// Lifecycle: Make() validates the options and opens one curl handle that is reused (keep-alive)
// for every call. Not thread-safe: use one ApiClient per thread.
#pragma once

#include <atomic>
#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/json.h"

namespace gantry::app::client {

inline constexpr std::string_view kUserAgent = "gantry-cli/0.1.0";

struct ClientOptions {
  std::string server;     // "https://gantry.example:8443"; a trailing '/' is dropped
  std::string token;      // bearer token; empty: anonymous
  std::string ca_file;    // PEM bundle to trust instead of the system store; empty: system store
  bool insecure = false;  // skip TLS peer and host-name verification
  std::chrono::milliseconds connect_timeout{5000};
  std::chrono::milliseconds timeout{30000};  // the whole request, connect included
  // When set and true, a request in flight is aborted (Ctrl-C while watching a job).
  const std::atomic<bool>* cancel = nullptr;
};

// Query parameters, in order; values are percent-encoded by the client.
using Query = std::vector<std::pair<std::string, std::string>>;

// A whole HTTP answer, for bodies that are not JSON (a CSV export) or whose error body carries
// more than ErrorFromResponse keeps (an import's list of bad rows).
struct RawResponse {
  long status = 0;
  std::string body;
  std::string content_type;  // as sent, e.g. "text/csv; charset=utf-8"
  std::string request_id;    // the X-Request-Id header
};

class ApiClient {
 public:
  // Fails with kInvalidArgument when the server URL is not http:// or https://.
  static core::Result<ApiClient> Make(ClientOptions options);

  ApiClient(ApiClient&&) noexcept;
  ApiClient& operator=(ApiClient&&) noexcept;
  ~ApiClient();

  // `path` is absolute ("/api/v1/jobs/12"); segments taken from user input go through
  // PathSegment first.
  core::Result<core::json::value> Get(std::string_view path, const Query& query = {});
  core::Result<core::json::value> Post(std::string_view path, const core::json::value& body);
  core::Result<core::json::value> Patch(std::string_view path, const core::json::value& body);
  core::Result<core::json::value> Delete(std::string_view path, const Query& query = {});

  // Sends `body` (when not null) as `content_type` and returns the answer whatever its status.
  // Fails only when no usable HTTP answer came: transport errors, redirects, answers over 64 MiB.
  core::Result<RawResponse> Send(const char* method, std::string_view path, const Query& query,
                                 const std::string* body,
                                 std::string_view content_type = "application/json",
                                 std::string_view accept = "application/json, application/problem+json");

  // Follows a list endpoint's next_cursor until the last page, asking for `page_size` items per
  // page; returns {"items": [all of them], "next_cursor": null}.
  core::Result<core::json::value> GetAll(std::string_view path, Query query, int page_size = 1000);

  const std::string& server() const { return options_.server; }
  bool has_token() const { return !options_.token.empty(); }

 private:
  struct Handle;
  explicit ApiClient(ClientOptions options);
  core::Result<core::json::value> Do(const char* method, std::string_view path, const Query& query,
                                     const std::string* body);
  core::Error TransportError(int curl_code, const char* detail) const;

  ClientOptions options_;
  std::unique_ptr<Handle> handle_;
};

// "http://h:1/" → "http://h:1". kInvalidArgument unless the scheme is http or https and a host
// follows.
core::Result<std::string> NormalizeServerUrl(std::string_view url);

// Percent-encodes one path segment (a user name, an id typed by the user): keeps RFC 3986
// unreserved characters and '@', encodes everything else, so "a/b" cannot change the route.
std::string PathSegment(std::string_view s);

// Maps an HTTP status to a Code: 400 kInvalidArgument, 401 kUnauthenticated, 403
// kPermissionDenied, 404 kNotFound, 405 kMethodNotAllowed, 408 kDeadlineExceeded, 409
// kConflict, 413 kTooLarge, 415 kUnsupportedMedia, 429 kResourceExhausted, 3xx and 5xx
// kUnavailable, anything else kInternal.
core::Code CodeForStatus(long status);

// Turns a non-2xx answer into an Error. The message is the problem's `detail` (or its `title`,
// or a short excerpt of a non-JSON body), then " (field: x)" when the problem names a field,
// then " [request id R]" for 5xx, taken from the body or from the X-Request-Id header.
core::Error ErrorFromResponse(long status, std::string_view body,
                              std::string_view request_id_header = {});

}  // namespace gantry::app::client
