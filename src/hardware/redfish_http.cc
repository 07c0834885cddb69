// RedfishHttp: the libcurl transport of the Redfish driver (see redfish.h).
#include <curl/curl.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <thread>

#include "hardware/redfish.h"

namespace gantry::hardware {

namespace {

struct Capture {
  std::string body;
  size_t max = 0;
  bool too_large = false;
  HttpAnswer* answer = nullptr;
};

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* c = static_cast<Capture*>(user);
  if (c->body.size() + size * n > c->max) {
    c->too_large = true;
    return 0;  // aborts the transfer
  }
  c->body.append(data, size * n);
  return size * n;
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (auto& ch : out) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  return out;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* c = static_cast<Capture*>(user);
  std::string_view line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name = Lower(line.substr(0, colon));
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t')) value.remove_prefix(1);
    while (!value.empty() && (value.back() == '\r' || value.back() == '\n' || value.back() == ' ')) {
      value.remove_suffix(1);
    }
    if (name == "etag") c->answer->etag = std::string(value.substr(0, 256));
    if (name == "location") c->answer->location = std::string(value.substr(0, 2048));
    if (name == "x-auth-token") c->answer->auth_token = std::string(value.substr(0, 4096));
  }
  return size * n;
}

void GlobalInit() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

// The "message" of a Redfish error body, when there is one.
std::string RedfishMessage(const std::string& body) {
  auto v = core::ParseJson(body);
  if (!v || !v->is_object()) return "";
  const auto* err = v->get_object().if_contains("error");
  if (!err || !err->is_object()) return "";
  const auto* info = err->get_object().if_contains("@Message.ExtendedInfo");
  if (info && info->is_array() && !info->get_array().empty() && info->get_array()[0].is_object()) {
    const auto* m = info->get_array()[0].get_object().if_contains("Message");
    if (m && m->is_string()) return std::string(m->get_string()).substr(0, 200);
  }
  const auto* m = err->get_object().if_contains("message");
  if (m && m->is_string()) return std::string(m->get_string()).substr(0, 200);
  return "";
}

}  // namespace

RedfishHttp::RedfishHttp(const Endpoint& endpoint, const DriverOptions& options)
    : ep_(endpoint), options_(options) {
  GlobalInit();
  base_ = ep_.address;
  if (!base_.starts_with("http://") && !base_.starts_with("https://")) base_ = "https://" + base_;
  while (!base_.empty() && base_.back() == '/') base_.pop_back();
  curl_ = curl_easy_init();
}

RedfishHttp::~RedfishHttp() {
  if (!session_uri_.empty()) {
    // Best effort: a session we cannot delete expires on the BMC by itself.
    std::string uri = session_uri_;
    session_uri_.clear();
    (void)Once("DELETE", uri.starts_with("http") ? uri : base_ + uri, nullptr, {}, true);
  }
  if (curl_) curl_easy_cleanup(static_cast<CURL*>(curl_));
}

core::Result<HttpAnswer> RedfishHttp::Once(const std::string& method, const std::string& url,
                                           const std::string* body, const std::string& if_match,
                                           bool with_auth) {
  auto* h = static_cast<CURL*>(curl_);
  if (!h) return core::Unavailable("libcurl could not be initialised");
  curl_easy_reset(h);
  HttpAnswer answer;
  Capture cap;
  cap.max = options_.max_body;
  cap.answer = &answer;
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, static_cast<curl_off_t>(options_.max_body));
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &cap);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &cap);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, ep_.tls_verify ? 1L : 0L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, ep_.tls_verify ? 2L : 0L);
  if (!ep_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, ep_.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_USERAGENT, "gantry-hardware/0.1");
  struct curl_slist* headers = nullptr;
  headers = curl_slist_append(headers, "Accept: application/json");
  headers = curl_slist_append(headers, "OData-Version: 4.0");
  if (body) headers = curl_slist_append(headers, "Content-Type: application/json");
  if (!if_match.empty()) headers = curl_slist_append(headers, ("If-Match: " + if_match).c_str());
  if (with_auth) {
    if (!session_token_.empty()) {
      headers = curl_slist_append(headers, ("X-Auth-Token: " + session_token_).c_str());
    } else {
      curl_easy_setopt(h, CURLOPT_HTTPAUTH, CURLAUTH_BASIC);
      curl_easy_setopt(h, CURLOPT_USERNAME, ep_.credentials.username.c_str());
      curl_easy_setopt(h, CURLOPT_PASSWORD, ep_.credentials.password.c_str());
    }
  }
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  if (method == "GET") {
    curl_easy_setopt(h, CURLOPT_HTTPGET, 1L);
  } else {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method.c_str());
    if (body) {
      curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data());
      curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
    }
  }
  CURLcode rc = curl_easy_perform(h);
  curl_slist_free_all(headers);
  // Credentials are not kept in the handle beyond this exchange.
  curl_easy_setopt(h, CURLOPT_PASSWORD, "");
  const std::string who = "BMC " + ep_.name;
  if (rc != CURLE_OK) {
    if (cap.too_large || rc == CURLE_FILESIZE_EXCEEDED) {
      return core::Internal(who + " sent an answer larger than " +
                            std::to_string(options_.max_body) + " bytes");
    }
    switch (rc) {
      case CURLE_OPERATION_TIMEDOUT:
        return core::Error(core::Code::kDeadlineExceeded,
                           who + " did not answer within " +
                               std::to_string(options_.timeout.count()) + " ms");
      case CURLE_PEER_FAILED_VERIFICATION:
      case CURLE_SSL_CACERT_BADFILE:
      case CURLE_SSL_CONNECT_ERROR:
        return core::Unavailable(who + ": TLS failed: " + curl_easy_strerror(rc));
      case CURLE_PARTIAL_FILE:
      case CURLE_RECV_ERROR:
      case CURLE_GOT_NOTHING:
        return core::Internal(who + " closed the connection before a whole answer (" +
                              curl_easy_strerror(rc) + ")");
      default:
        return core::Unavailable(who + " cannot be reached: " + curl_easy_strerror(rc));
    }
  }
  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  answer.status = status;
  answer.body = std::move(cap.body);
  return answer;
}

core::Status RedfishHttp::EnsureSession() {
  if (ep_.auth != "session" || !session_token_.empty()) return {};
  core::json::object creds{{"UserName", ep_.credentials.username},
                           {"Password", ep_.credentials.password}};
  std::string text = core::json::serialize(creds);
  GANTRY_TRY(auto a, Exchange("POST", "/redfish/v1/SessionService/Sessions", &text, {}, false));
  if (a.status == 401 || a.status == 403) {
    return core::Unauthenticated("BMC " + ep_.name + " rejected the credentials");
  }
  if (a.status < 200 || a.status >= 300 || a.auth_token.empty()) {
    return core::Conflict("BMC " + ep_.name + " did not open a session (HTTP " +
                          std::to_string(a.status) + ")");
  }
  session_token_ = a.auth_token;
  session_uri_ = a.location;
  return {};
}

core::Result<HttpAnswer> RedfishHttp::Exchange(const std::string& method, const std::string& path,
                                               const std::string* body, const std::string& if_match,
                                               bool with_auth) {
  std::string url = base_ + path;
  if (path.starts_with("http://") || path.starts_with("https://")) {
    // A BMC may name a task monitor or session by absolute URL; only its own origin is
    // followed, so it cannot send Gantry (and the BMC's credentials) to another host.
    if (!path.starts_with(base_ + "/")) {
      return core::Internal("BMC " + ep_.name + " pointed to another origin: " + path.substr(0, 200));
    }
    url = path;
  } else if (!path.starts_with("/")) {
    return core::Internal("BMC " + ep_.name + " gave a relative link: " + path.substr(0, 200));
  }
  auto delay = options_.backoff;
  for (int attempt = 1;; ++attempt) {
    auto a = Once(method, url, body, if_match, with_auth);
    bool last = attempt >= std::max(1, options_.attempts);
    if (!a) {
      // Nothing reached the BMC when the connection was refused: safe to try again.
      bool retry = a.error().code == core::Code::kUnavailable &&
                   a.error().message.find("TLS") == std::string::npos;
      if (!retry || last) return a.error();
    } else if (a->status >= 500 && method == "GET" && !last) {
      // a 5xx to a GET: retried
    } else {
      return a;
    }
    std::this_thread::sleep_for(delay);
    delay *= 2;
  }
}

core::Error RedfishHttp::StatusError(const HttpAnswer& a, const std::string& method,
                                     const std::string& path) const {
  const std::string who = "BMC " + ep_.name;
  std::string msg = RedfishMessage(a.body);
  std::string what = method + " " + path.substr(0, 200) + ": HTTP " + std::to_string(a.status) +
                     (msg.empty() ? "" : " (" + msg + ")");
  if (a.status == 401) return core::Unauthenticated(who + " rejected the credentials");
  if (a.status == 403) return core::Unauthenticated(who + " refused: insufficient privilege for " + what);
  if (a.status == 405 || a.status == 501) return core::FailedPrecondition(who + " does not support " + what);
  return core::Conflict(who + " refused " + what);
}

core::Result<core::json::object> RedfishHttp::Get(const std::string& path, std::string* etag) {
  GANTRY_TRY_STATUS(EnsureSession());
  GANTRY_TRY(auto a, Exchange("GET", path, nullptr, {}, true));
  if (a.status < 200 || a.status >= 300) return StatusError(a, "GET", path);
  auto v = core::ParseJson(a.body);
  if (!v) {
    return core::Internal("BMC " + ep_.name + " answered GET " + path.substr(0, 200) +
                          " with malformed JSON");
  }
  if (!v->is_object()) {
    return core::Internal("BMC " + ep_.name + " answered GET " + path.substr(0, 200) +
                          " with JSON that is not an object");
  }
  if (etag) *etag = a.etag;
  return std::move(v->get_object());
}

core::Result<HttpAnswer> RedfishHttp::Send(const std::string& method, const std::string& path,
                                           const core::json::object& body,
                                           const std::string& if_match) {
  GANTRY_TRY_STATUS(EnsureSession());
  std::string text = core::json::serialize(body);
  GANTRY_TRY(auto a, Exchange(method, path, &text, if_match, true));
  if (a.status < 200 || a.status >= 300) return StatusError(a, method, path);
  return a;
}

}  // namespace gantry::hardware
