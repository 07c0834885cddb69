// KubeClient: Gantry's protocol client for the Kubernetes API server. It applies the objects of
// render.h with server-side apply (PATCH, Content-Type application/apply-patch+yaml, field manager
// "gantry", force=true: Gantry owns these fields and takes them back from anyone who edited them
// by hand). No business rules: tenancy decides what to apply and when.
//
// The HTTP exchange sits behind `Transport` (method, URL, headers, body → status, body), so tests
// plug in a recorded exchange; CurlTransport is the real one (libcurl, TLS with the cluster's CA).
//
// Errors (core::Result / core::Status):
//   kUnavailable       the API server cannot be reached (connection refused, DNS, TLS, timeout:
//                      the message carries libcurl's reason), or it answers 429 / 5xx
//   kPermissionDenied  401 or 403 (bad token, missing RBAC, namespace being terminated); the
//                      message is the API server's Status message
//   kInvalidArgument   409 / 422 / other 4xx: the API server's Status message; also a name
//                      that is not a DNS label (nothing is sent)
//   kNotFound          404 (for a namespaced object: its namespace does not exist)
//   kInternal          a 2xx answer that is not a JSON object
// Thread-safe as long as the Transport is (CurlTransport is: one easy handle per call).
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/error.h"
#include "core/json.h"
#include "integrations/kubernetes/render.h"

namespace gantry::kubernetes {

struct HttpRequest {
  std::string method;  // "PATCH"
  std::string url;     // absolute: https://host:6443/api/v1/...
  std::vector<std::pair<std::string, std::string>> headers;  // in the order they are sent
  std::string body;
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

// One HTTP exchange. An error only when no HTTP answer came back (kUnavailable with the reason);
// any HTTP status, 4xx and 5xx included, is a response.
class Transport {
 public:
  virtual ~Transport() = default;
  virtual core::Result<HttpResponse> Send(const HttpRequest& request) = 0;
};

struct CurlTransportOptions {
  std::string ca_file;  // PEM bundle of the cluster CA; empty: the system's trust store
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds timeout{30'000};  // whole exchange
  size_t max_response_bytes = 16 << 20;
};

class CurlTransport : public Transport {
 public:
  explicit CurlTransport(CurlTransportOptions options);
  core::Result<HttpResponse> Send(const HttpRequest& request) override;

 private:
  CurlTransportOptions options_;
};

struct KubeClientOptions {
  std::string server;  // "https://10.0.0.1:6443" (no trailing slash needed)
  std::string token;   // bearer token (a ServiceAccount token); empty: no Authorization header
  std::string ca_file;
  std::chrono::milliseconds connect_timeout{5'000};
  std::chrono::milliseconds timeout{30'000};
  std::string field_manager = "gantry";
};

class KubeClient {
 public:
  // transport == nullptr: a CurlTransport built from the options (CA file, timeouts).
  explicit KubeClient(KubeClientOptions options, std::shared_ptr<Transport> transport = nullptr);

  // Server-side apply of one object; returns the object as the API server stored it.
  //   PATCH /api/v1/namespaces/{name}
  //   PATCH /api/v1/namespaces/{ns}/resourcequotas/{name}
  //   PATCH /api/v1/namespaces/{ns}/limitranges/{name}
  // The name (and namespace) come from the object's metadata.
  core::Result<core::json::object> ApplyNamespace(const core::json::object& ns);
  core::Result<core::json::object> ApplyResourceQuota(const core::json::object& quota);
  core::Result<core::json::object> ApplyLimitRange(const core::json::object& limit_range);

  // Namespace, then ResourceQuota, then LimitRange; stops at the first error, whose message
  // names the object that failed.
  core::Status ApplyAll(const Rendered& objects);

 private:
  core::Result<core::json::object> Apply(const core::json::object& obj, std::string_view plural,
                                         bool namespaced);

  KubeClientOptions options_;
  std::shared_ptr<Transport> transport_;
};

}  // namespace gantry::kubernetes
