// REST routes of the audit trail and the adapter that records pipeline denials in it.
#pragma once

#include "audit/service.h"
#include "http/pipeline.h"
#include "http/router.h"

namespace gantry::audit {

void RegisterRoutes(http::Router& router, Service& service);

// Records failed authentications and denied requests as audit events of their own.
class SecurityEventsSink final : public http::SecurityEvents {
 public:
  explicit SecurityEventsSink(Service& service) : service_(service) {}
  void Record(const core::RequestContext& rc, std::string_view kind, std::string_view action,
              std::string_view target, std::string_view reason) override;

 private:
  Service& service_;
};

}  // namespace gantry::audit
