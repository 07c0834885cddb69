#include "monitoring/outbound.h"

#include <curl/curl.h>

namespace gantry::monitoring {

namespace {

struct Sink {
  std::string* out;
  size_t max;
  bool overflow = false;
};

size_t Collect(char* data, size_t size, size_t n, void* user) {
  auto* sink = static_cast<Sink*>(user);
  size_t bytes = size * n;
  if (sink->out->size() + bytes > sink->max) {
    sink->overflow = true;
    return 0;
  }
  sink->out->append(data, bytes);
  return bytes;
}

}  // namespace

core::Result<OutboundAnswer> Send(const OutboundRequest& r) {
  CURL* h = curl_easy_init();
  if (!h) return core::Internal("curl_easy_init failed");
  OutboundAnswer answer;
  Sink sink{&answer.body, r.max_answer};
  curl_slist* headers = nullptr;
  for (const auto& hd : r.headers) headers = curl_slist_append(headers, hd.c_str());
  char errbuf[CURL_ERROR_SIZE] = {};
  curl_easy_setopt(h, CURLOPT_URL, r.url.c_str());
  curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r.method.c_str());
  if (headers) curl_easy_setopt(h, CURLOPT_HTTPHEADER, headers);
  if (!r.body.empty() || r.method == "POST") {
    curl_easy_setopt(h, CURLOPT_POSTFIELDS, r.body.data());
    curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, static_cast<curl_off_t>(r.body.size()));
  }
  curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, Collect);
  curl_easy_setopt(h, CURLOPT_WRITEDATA, &sink);
  curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, static_cast<long>(r.connect_timeout.count()));
  curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(r.timeout.count()));
  curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
  curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
#else
  curl_easy_setopt(h, CURLOPT_PROTOCOLS, CURLPROTO_HTTP | CURLPROTO_HTTPS);
#endif
  CURLcode rc = curl_easy_perform(h);
  curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &answer.status);
  curl_slist_free_all(headers);
  curl_easy_cleanup(h);
  if (sink.overflow) {
    return core::Unavailable(r.url + " answered more than " + std::to_string(r.max_answer) + " bytes");
  }
  if (rc != CURLE_OK) {
    return core::Unavailable(r.url + " unreachable: " + (errbuf[0] ? errbuf : curl_easy_strerror(rc)));
  }
  return answer;
}

}  // namespace gantry::monitoring
