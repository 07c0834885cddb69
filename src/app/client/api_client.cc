#include "app/client/api_client.h"

#include <curl/curl.h>

#include <cctype>
#include <cstring>
#include <mutex>

namespace gantry::app::client {

namespace {

constexpr size_t kMaxResponseBytes = 64u << 20;

std::string_view StatusText(long status) {
  switch (status) {
    case 301:
      return "Moved Permanently";
    case 302:
      return "Found";
    case 307:
      return "Temporary Redirect";
    case 308:
      return "Permanent Redirect";
    case 400:
      return "Bad Request";
    case 401:
      return "Unauthorized";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 409:
      return "Conflict";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 429:
      return "Too Many Requests";
    case 500:
      return "Internal Server Error";
    case 502:
      return "Bad Gateway";
    case 503:
      return "Service Unavailable";
    case 504:
      return "Gateway Timeout";
  }
  return "";
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

bool IsUnreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~';
}

std::string PercentEncode(std::string_view s, bool keep_at) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    if (IsUnreserved(c) || (keep_at && c == '@')) {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string JsonString(const core::json::object& o, std::string_view key) {
  auto it = o.find(key);
  if (it == o.end() || !it->value().is_string()) return {};
  return std::string(it->value().as_string());
}

std::string DurationText(std::chrono::milliseconds d) {
  if (d.count() % 1000 == 0) return std::to_string(d.count() / 1000) + " s";
  return std::to_string(d.count()) + " ms";
}

void GlobalInitOnce() {
  static std::once_flag once;
  std::call_once(once, [] { curl_global_init(CURL_GLOBAL_DEFAULT); });
}

}  // namespace

struct ApiClient::Handle {
  CURL* easy = nullptr;
  char error[CURL_ERROR_SIZE] = {};
  ~Handle() {
    if (easy) curl_easy_cleanup(easy);
  }
};

// Per-request state handed to curl's callbacks.
struct Exchange {
  std::string body;
  std::string request_id;
  std::string location;
  std::string content_type;
  bool too_large = false;
  const std::atomic<bool>* cancel = nullptr;
};

namespace {

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  if (ex->body.size() + size * n > kMaxResponseBytes) {
    ex->too_large = true;
    return 0;
  }
  ex->body.append(data, size * n);
  return size * n;
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* ex = static_cast<Exchange*>(user);
  std::string_view line(data, size * n);
  auto colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string name(line.substr(0, colon));
    for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    std::string_view value = Trim(line.substr(colon + 1));
    if (name == "x-request-id") ex->request_id = std::string(value);
    if (name == "location") ex->location = std::string(value);
    if (name == "content-type") ex->content_type = std::string(value);
  }
  return size * n;
}

int OnProgress(void* user, curl_off_t, curl_off_t, curl_off_t, curl_off_t) {
  auto* ex = static_cast<Exchange*>(user);
  return ex->cancel && ex->cancel->load() ? 1 : 0;
}

}  // namespace

core::Result<std::string> NormalizeServerUrl(std::string_view url) {
  std::string_view u = Trim(url);
  while (!u.empty() && u.back() == '/') u.remove_suffix(1);
  std::string_view rest;
  if (u.starts_with("http://")) {
    rest = u.substr(7);
  } else if (u.starts_with("https://")) {
    rest = u.substr(8);
  } else {
    return core::InvalidArgument(
        "server URL '" + std::string(url) + "' must start with http:// or https://", "server");
  }
  if (rest.empty() || rest.front() == '/' || rest.front() == ':') {
    return core::InvalidArgument("server URL '" + std::string(url) + "' has no host name",
                                 "server");
  }
  return std::string(u);
}

std::string PathSegment(std::string_view s) { return PercentEncode(s, true); }

core::Code CodeForStatus(long status) {
  using core::Code;
  switch (status) {
    case 400:
      return Code::kInvalidArgument;
    case 401:
      return Code::kUnauthenticated;
    case 403:
      return Code::kPermissionDenied;
    case 404:
      return Code::kNotFound;
    case 405:
      return Code::kMethodNotAllowed;
    case 408:
      return Code::kDeadlineExceeded;
    case 409:
      return Code::kConflict;
    case 413:
      return Code::kTooLarge;
    case 415:
      return Code::kUnsupportedMedia;
    case 429:
      return Code::kResourceExhausted;
  }
  if ((status >= 300 && status < 400) || status >= 500) return Code::kUnavailable;
  return Code::kInternal;
}

core::Error ErrorFromResponse(long status, std::string_view body,
                              std::string_view request_id_header) {
  std::string message;
  std::string field;
  std::string request_id(request_id_header);
  if (auto parsed = core::ParseJson(body); parsed && parsed->is_object()) {
    const auto& o = parsed->as_object();
    message = JsonString(o, "detail");
    if (message.empty()) message = JsonString(o, "title");
    field = JsonString(o, "field");
    if (auto id = JsonString(o, "request_id"); !id.empty()) request_id = id;
  } else {
    // Not problem+json: a proxy or another server answered. Quote a short plain-text body.
    std::string_view text = Trim(body);
    if (!text.empty() && text.size() <= 200 && text.find('<') == std::string_view::npos &&
        text.find('\n') == std::string_view::npos) {
      message = std::string(text);
    }
  }
  if (message.empty()) {
    message = "server answered HTTP " + std::to_string(status);
    if (auto reason = StatusText(status); !reason.empty()) message += " " + std::string(reason);
  }
  if (!field.empty()) message += " (field: " + field + ")";
  if (status >= 500 && !request_id.empty()) message += " [request id " + request_id + "]";
  return core::Error(CodeForStatus(status), std::move(message), std::move(field));
}

core::Result<ApiClient> ApiClient::Make(ClientOptions options) {
  GANTRY_TRY(options.server, NormalizeServerUrl(options.server));
  if (options.timeout.count() <= 0 || options.connect_timeout.count() <= 0) {
    return core::InvalidArgument("timeouts must be positive", "timeout");
  }
  GlobalInitOnce();
  ApiClient client(std::move(options));
  client.handle_->easy = curl_easy_init();
  if (!client.handle_->easy) return core::Internal("cannot initialise libcurl");
  return client;
}

ApiClient::ApiClient(ClientOptions options)
    : options_(std::move(options)), handle_(std::make_unique<Handle>()) {}
ApiClient::ApiClient(ApiClient&&) noexcept = default;
ApiClient& ApiClient::operator=(ApiClient&&) noexcept = default;
ApiClient::~ApiClient() = default;

core::Result<core::json::value> ApiClient::Get(std::string_view path, const Query& query) {
  return Do("GET", path, query, nullptr);
}

core::Result<core::json::value> ApiClient::Post(std::string_view path,
                                                const core::json::value& body) {
  std::string text = core::ToJson(body);
  return Do("POST", path, {}, &text);
}

core::Result<core::json::value> ApiClient::Patch(std::string_view path,
                                                 const core::json::value& body) {
  std::string text = core::ToJson(body);
  return Do("PATCH", path, {}, &text);
}

core::Result<core::json::value> ApiClient::Delete(std::string_view path, const Query& query) {
  return Do("DELETE", path, query, nullptr);
}

core::Result<core::json::value> ApiClient::GetAll(std::string_view path, Query query,
                                                  int page_size) {
  core::json::array all;
  query.emplace_back("limit", std::to_string(page_size));
  std::string cursor;
  while (true) {
    Query q = query;
    if (!cursor.empty()) q.emplace_back("cursor", cursor);
    GANTRY_TRY(auto page, Get(path, q));
    const auto* items = page.is_object() ? page.as_object().if_contains("items") : nullptr;
    if (!items || !items->is_array()) {
      return core::Unavailable("unexpected answer from " + options_.server + std::string(path) +
                               ": no 'items' list");
    }
    for (auto& item : items->get_array()) all.push_back(std::move(item));
    const auto* next = page.as_object().if_contains("next_cursor");
    if (!next || !next->is_string() || next->get_string().empty() ||
        std::string(next->get_string()) == cursor) {
      break;
    }
    cursor = std::string(next->get_string());
  }
  return core::json::value(core::json::object{{"items", std::move(all)}, {"next_cursor", nullptr}});
}

core::Result<RawResponse> ApiClient::Send(const char* method, std::string_view path,
                                         const Query& query, const std::string* body,
                                         std::string_view content_type, std::string_view accept) {
  CURL* h = handle_->easy;
  std::string url = options_.server + std::string(path);
  for (size_t i = 0; i < query.size(); ++i) {
    url += i == 0 ? '?' : '&';
    url += PercentEncode(query[i].first, false) + "=" + PercentEncode(query[i].second, false);
  }

  struct curl_slist* headers = nullptr;
  std::string accept_header = "Accept: " + std::string(accept);
  std::string content_type_header = "Content-Type: " + std::string(content_type);
  headers = curl_slist_append(headers, accept_header.c_str());
  if (body) {
    headers = curl_slist_append(headers, content_type_header.c_str());
    headers = curl_slist_append(headers, "Expect:");  // no 1 s wait for "100 Continue"
  }
  std::string authorization;
  if (!options_.token.empty()) {
    authorization = "Authorization: Bearer " + options_.token;
    headers = curl_slist_append(headers, authorization.c_str());
  }
  std::unique_ptr<curl_slist, decltype(&curl_slist_free_all)> header_guard(headers,
                                                                           &curl_slist_free_all);
  std::string user_agent(kUserAgent);

  Exchange ex;
  ex.cancel = options_.cancel;
  handle_->error[0] = '\0';
  curl_easy_reset(h);
  curl_easy_setopt(h, CURLOPT_URL, url.c_str());
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, handle_->error);
  curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent.c_str());
  curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                   static_cast<long>(options_.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.timeout.count()));
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, options_.insecure ? 0L : 1L);
  curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, options_.insecure ? 0L : 2L);
  if (!options_.ca_file.empty()) curl_easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, &OnBody);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &ex);
  curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, &OnHeader);
  curl_easy_setopt(h, CURLOPT_HEADERDATA, &ex);
  if (ex.cancel) {
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, &OnProgress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &ex);
  }
  if (body) {
    curl_easy_setopt(h, CURLOPT_POST, 1L);
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, body->data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(body->size()));
  }
  if (std::string_view(method) != "GET" && !(body && std::string_view(method) == "POST")) {
    curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
  }

  CURLcode rc = curl_easy_perform(h);
  if (ex.too_large) {
    return core::Error(core::Code::kTooLarge,
                       "the answer from " + options_.server + " is larger than 64 MiB");
  }
  if (rc != CURLE_OK) return TransportError(rc, handle_->error);

  long status = 0;
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
  if (status >= 300 && status < 400) {
    std::string where = ex.location.empty() ? "another address" : ex.location;
    return core::Unavailable(options_.server + " redirected " + std::string(path) + " to " + where +
                             "; pass the final server URL with --server");
  }
  return RawResponse{status, std::move(ex.body), std::move(ex.content_type),
                     std::move(ex.request_id)};
}

core::Result<core::json::value> ApiClient::Do(const char* method, std::string_view path,
                                              const Query& query, const std::string* body) {
  GANTRY_TRY(auto answer, Send(method, path, query, body));
  if (answer.status < 200 || answer.status >= 300) {
    return ErrorFromResponse(answer.status, answer.body, answer.request_id);
  }
  if (Trim(answer.body).empty()) return core::json::value(nullptr);
  auto parsed = core::ParseJson(answer.body);
  if (!parsed) {
    return core::Unavailable("the answer from " + options_.server +
                             " is not JSON; is --server the address of a Gantry server?");
  }
  return std::move(*parsed);
}

core::Error ApiClient::TransportError(int curl_code, const char* detail) const {
  auto code = static_cast<CURLcode>(curl_code);
  std::string reason = detail && *detail ? detail : curl_easy_strerror(code);
  while (!reason.empty() && (reason.back() == '\n' || reason.back() == '.')) reason.pop_back();
  const std::string& server = options_.server;
  switch (code) {
    case CURLE_COULDNT_CONNECT: {
      // curl says "Failed to connect to h port p after 0 ms: Couldn't connect to server"; the
      // operating system's reason ("Connection refused", "No route to host") says more.
      long os_errno = 0;
      curl_easy_getinfo(handle_->easy, CURLINFO_OS_ERRNO, &os_errno);
      if (os_errno != 0) reason = std::strerror(static_cast<int>(os_errno));
      return core::Unavailable("cannot reach " + server + ": " + reason);
    }
    case CURLE_OPERATION_TIMEDOUT: {
      curl_off_t connected = 0;
      curl_easy_getinfo(handle_->easy, CURLINFO_CONNECT_TIME_T, &connected);
      if (connected == 0) {
        return core::Unavailable("cannot reach " + server + ": no connection within " +
                                 DurationText(options_.connect_timeout));
      }
      return core::Error(core::Code::kDeadlineExceeded, server + " did not answer within " +
                                                            DurationText(options_.timeout) +
                                                            " (raise the limit with --timeout)");
    }
    case CURLE_PEER_FAILED_VERIFICATION:
      return core::Unavailable("cannot verify the TLS certificate of " + server + ": " + reason +
                               " (pass the CA with --ca-file, or --insecure to skip the check)");
    case CURLE_SSL_CACERT_BADFILE:
      return core::InvalidArgument("cannot use the CA file '" + options_.ca_file + "': " + reason,
                                   "ca-file");
    case CURLE_SSL_CONNECT_ERROR:
      return core::Unavailable("TLS handshake with " + server + " failed: " + reason +
                               " (if the server speaks plain HTTP, use http://)");
    case CURLE_GOT_NOTHING:
    case CURLE_WEIRD_SERVER_REPLY:
      return core::Unavailable(server + " did not answer in HTTP (" + reason +
                               "); if it serves HTTPS, use https://");
    case CURLE_ABORTED_BY_CALLBACK:
      return core::Unavailable("request to " + server + " interrupted");
    default:
      return core::Unavailable("cannot reach " + server + ": " + reason);
  }
}

}  // namespace gantry::app::client
