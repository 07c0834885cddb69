// Outbound HTTP for the monitoring domain (notification webhooks, Alertmanager, Prometheus):
// libcurl with connect and total timeouts, an answer size limit, http/https only, no redirects.
// Each call is independent and thread-safe.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "core/error.h"

namespace gantry::monitoring {

struct OutboundRequest {
  std::string method = "GET";
  std::string url;
  std::string body;
  std::vector<std::string> headers;  // "Name: value"
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds timeout{5000};
  size_t max_answer = 8 << 20;
};

struct OutboundAnswer {
  long status = 0;
  std::string body;
};

// Unavailable (naming the URL and curl's reason) when the peer cannot be reached or answers
// more than max_answer bytes; otherwise the answer, whatever its status.
core::Result<OutboundAnswer> Send(const OutboundRequest& request);

}  // namespace gantry::monitoring
