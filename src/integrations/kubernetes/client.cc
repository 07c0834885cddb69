// Server-side apply against the Kubernetes API server (client.h).
#include "integrations/kubernetes/client.h"

#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>

namespace gantry::kubernetes {

namespace json = core::json;

namespace {

bool IsDnsLabel(std::string_view s) {
  auto alnum = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); };
  if (s.empty() || s.size() > 63 || !alnum(s.front()) || !alnum(s.back())) return false;
  return std::all_of(s.begin(), s.end(), [&](char c) { return alnum(c) || c == '-'; });
}

std::string MetaString(const json::object& obj, std::string_view key) {
  const auto* meta = obj.if_contains("metadata");
  if (!meta || !meta->is_object()) return {};
  const auto* v = meta->get_object().if_contains(key);
  return v && v->is_string() ? std::string(v->get_string()) : std::string();
}

// The API server's Status message ({"kind":"Status","message":...}), else the start of the body.
std::string StatusMessage(const std::string& body) {
  if (auto v = core::ParseJson(body); v && v->is_object()) {
    const auto* m = v->get_object().if_contains("message");
    if (m && m->is_string()) return std::string(m->get_string());
  }
  std::string shown = body.substr(0, 200);
  for (char& c : shown)
    if (static_cast<unsigned char>(c) < 0x20) c = ' ';
  return shown.empty() ? "(empty body)" : shown;
}

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* ctx = static_cast<std::pair<std::string*, size_t>*>(user);
  size_t bytes = size * n;
  if (ctx->first->size() + bytes > ctx->second) return 0;  // aborts the transfer
  ctx->first->append(data, bytes);
  return bytes;
}

}  // namespace

// ---- CurlTransport ---------------------------------------------------------------------------

CurlTransport::CurlTransport(CurlTransportOptions options) : options_(std::move(options)) {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

core::Result<HttpResponse> CurlTransport::Send(const HttpRequest& request) {
  std::unique_ptr<CURL, void (*)(CURL*)> curl(curl_easy_init(), curl_easy_cleanup);
  if (!curl) return core::Internal("curl_easy_init failed");
  curl_slist* headers = nullptr;
  for (const auto& [k, v] : request.headers)
    headers = curl_slist_append(headers, (k + ": " + v).c_str());
  headers = curl_slist_append(headers, "Expect:");  // no 100-continue round trip
  std::unique_ptr<curl_slist, void (*)(curl_slist*)> header_guard(headers, curl_slist_free_all);

  HttpResponse response;
  std::pair<std::string*, size_t> sink{&response.body, options_.max_response_bytes};
  char errbuf[CURL_ERROR_SIZE] = {0};
  CURL* h = curl.get();
  curl_easy_setopt(h, CURLOPT_URL, request.url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  if (!request.body.empty() || request.method != "GET") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(request.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(h, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
  if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());

  CURLcode rc = curl_easy_perform(h);
  if (rc != CURLE_OK) {
    std::string reason = errbuf[0] ? errbuf : curl_easy_strerror(rc);
    if (rc == CURLE_WRITE_ERROR && response.body.size() >= options_.max_response_bytes)
      reason = "response larger than " + std::to_string(options_.max_response_bytes) + " bytes";
    return core::Unavailable("kubernetes API server " + request.url + ": " + reason);
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  response.status = static_cast<int>(status);
  return response;
}

// ---- KubeClient ------------------------------------------------------------------------------

KubeClient::KubeClient(KubeClientOptions options, std::shared_ptr<Transport> transport)
    : options_(std::move(options)), transport_(std::move(transport)) {
  while (!options_.server.empty() && options_.server.back() == '/') options_.server.pop_back();
  if (!transport_) {
    transport_ = std::make_shared<CurlTransport>(CurlTransportOptions{
        .ca_file = options_.ca_file,
        .connect_timeout = options_.connect_timeout,
        .timeout = options_.timeout});
  }
}

core::Result<json::object> KubeClient::Apply(const json::object& obj, std::string_view plural,
                                             bool namespaced) {
  std::string kind = obj.contains("kind") && obj.at("kind").is_string()
                         ? std::string(obj.at("kind").get_string())
                         : std::string(plural);
  std::string name = MetaString(obj, "name");
  std::string ns = namespaced ? MetaString(obj, "namespace") : std::string();
  if (!IsDnsLabel(name))
    return core::InvalidArgument(kind + " name '" + name.substr(0, 64) + "' is not a DNS label",
                                 "metadata.name");
  if (namespaced && !IsDnsLabel(ns))
    return core::InvalidArgument(kind + " namespace '" + ns.substr(0, 64) + "' is not a DNS label",
                                 "metadata.namespace");
  if (options_.field_manager.empty() || options_.field_manager.size() > 128 ||
      !std::all_of(options_.field_manager.begin(), options_.field_manager.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
      }))
    return core::InvalidArgument("field manager must be 1-128 of [A-Za-z0-9._-]", "field_manager");
  std::string what = kind + " " + (namespaced ? ns + "/" : "") + name;

  HttpRequest req;
  req.method = "PATCH";
  req.url = options_.server + "/api/v1/namespaces/" +
            (namespaced ? ns + "/" + std::string(plural) + "/" : "") + name +
            "?fieldManager=" + options_.field_manager + "&force=true";
  req.headers.emplace_back("Accept", "application/json");
  if (!options_.token.empty()) req.headers.emplace_back("Authorization", "Bearer " + options_.token);
  req.headers.emplace_back("Content-Type", "application/apply-patch+yaml");
  req.body = CanonicalJson(obj);  // JSON is YAML; the API server takes it as an apply patch

  auto sent = transport_->Send(req);
  if (!sent) {
    return core::Error(sent.error().code, "apply " + what + ": " + sent.error().message);
  }
  const HttpResponse& resp = *sent;
  std::string prefix = "apply " + what + ": HTTP " + std::to_string(resp.status) + ": ";
  if (resp.status >= 200 && resp.status < 300) {
    auto body = core::ParseObject(resp.body);
    if (!body) return core::Internal(prefix + "answer is not a JSON object");
    return std::move(*body);
  }
  std::string msg = prefix + StatusMessage(resp.body);
  switch (resp.status) {
    case 401:
    case 403:
      return core::PermissionDenied(msg);
    case 404:
      return core::NotFound(msg);
    case 429:
      return core::Unavailable(msg);
    default:
      if (resp.status >= 500) return core::Unavailable(msg);
      return core::InvalidArgument(msg);  // 409, 422 and other 4xx
  }
}

core::Result<json::object> KubeClient::ApplyNamespace(const json::object& ns) {
  return Apply(ns, "namespaces", false);
}
core::Result<json::object> KubeClient::ApplyResourceQuota(const json::object& quota) {
  return Apply(quota, "resourcequotas", true);
}
core::Result<json::object> KubeClient::ApplyLimitRange(const json::object& limit_range) {
  return Apply(limit_range, "limitranges", true);
}

core::Status KubeClient::ApplyAll(const Rendered& objects) {
  GANTRY_TRY_STATUS(ApplyNamespace(objects.namespace_obj));
  GANTRY_TRY_STATUS(ApplyResourceQuota(objects.resource_quota));
  GANTRY_TRY_STATUS(ApplyLimitRange(objects.limit_range));
  return {};
}

}  // namespace gantry::kubernetes
